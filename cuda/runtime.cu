// CUDA availability, the backend's stream and its allocator (the device's
// stream-ordered pool, or cudaMalloc where the device has none).
// Not a kernel family, so it has no cpu/ twin: its CPU counterpart is the
// runtime in core/ (memory.cpp, host_memory.cpp, device.cpp), and an addon
// built on the SIMT emulation has cuda/simt/runtime.cpp instead.
#include <cstdint>
#include <mutex>
#include <string>

#include "common.cuh"
#include "dynasparse/cuda_baseline.h"
#include "dynasparse/cuda_runtime.h"

namespace dynasparse::cuda {

[[noreturn]] void throw_cuda_error(cudaError_t status, const char* what) {
  const ErrorCode code = status == cudaErrorMemoryAllocation ? ErrorCode::Oom : ErrorCode::Cuda;
  // Clear a sticky-free error so the next call does not report it again.
  cudaGetLastError();
  fail(code, std::string(what) + " failed: " + cudaGetErrorName(status) + " (" + cudaGetErrorString(status) + ")");
}

void check_launch(const char* kernel_name) {
  const cudaError_t status = cudaGetLastError();
  if (status != cudaSuccess) {
    fail(ErrorCode::Cuda, std::string("kernel ") + kernel_name + " failed to launch: " + cudaGetErrorName(status) +
                              " (" + cudaGetErrorString(status) + ")");
  }
}

namespace {

DeviceInfo probe() {
  DeviceInfo info;
  info.compiled = true;
  int count = 0;
  const cudaError_t status = cudaGetDeviceCount(&count);
  if (status != cudaSuccess) {
    cudaGetLastError();
    info.reason = std::string("no usable CUDA driver or device: ") + cudaGetErrorName(status) + " (" +
                  cudaGetErrorString(status) + ")";
    return info;
  }
  if (count == 0) {
    info.reason = "the CUDA driver reports no device";
    return info;
  }
  cudaDeviceProp props{};
  if (cudaGetDeviceProperties(&props, 0) != cudaSuccess) {
    cudaGetLastError();
    info.reason = "cannot read the properties of CUDA device 0";
    return info;
  }
  info.device_name = props.name;
  info.compute_capability = props.major * 10 + props.minor;
  info.total_memory = props.totalGlobalMem;
  if (props.major < 8) {
    info.reason = "CUDA device 0 (" + info.device_name + ") has compute capability " + std::to_string(props.major) +
                  "." + std::to_string(props.minor) + "; dynasparse needs 8.0 or newer";
    return info;
  }
  info.available = true;
  // The baselines' libraries (dlopened by cuda/libraries.cu; each counts only
  // where its headers were found at build time and it loads now).
  const baseline::Libraries& libs = baseline::libraries();
  info.cusparse = libs.cusparse.loaded;
  info.cusparselt = libs.cusparselt.loaded;
  info.cublas = libs.cublas.loaded;
  return info;
}

}  // namespace

const DeviceInfo& device_info() {
  static const DeviceInfo info = probe();
  return info;
}

void require_available() {
  const DeviceInfo& info = device_info();
  if (!info.available) fail(ErrorCode::Device, "device 'cuda' is not available: " + info.reason);
}

namespace {

// The current device's default memory pool (the one cudaMallocAsync draws
// from), or null if it cannot be had.
cudaMemPool_t default_pool() {
  int device = 0;
  cudaMemPool_t pool = nullptr;
  if (cudaGetDevice(&device) != cudaSuccess || cudaDeviceGetDefaultMemPool(&pool, device) != cudaSuccess) {
    cudaGetLastError();
    return nullptr;
  }
  return pool;
}

// By default the pool returns every unused byte to the driver at each
// synchronization, and every read-back synchronizes: a training loop that reads
// its loss each step would map its activations' memory afresh each step. So
// the pool keeps what it has (allocate() trims it when memory runs out).
// memory() is unaffected: it counts our live allocations, not the pool.
void keep_pool_memory() {
  cudaMemPool_t pool = default_pool();
  if (pool == nullptr) return;
  std::uint64_t keep = UINT64_MAX;
  if (cudaMemPoolSetAttribute(pool, cudaMemPoolAttrReleaseThreshold, &keep) != cudaSuccess) cudaGetLastError();
}

// Whether the device offers stream-ordered memory pools. Some do not: virtual
// GPUs (fractional vGPU instances report cudaDevAttrMemoryPoolsSupported = 0,
// and cudaMallocAsync fails with cudaErrorNotSupported), and sandboxes that
// forward the driver may not. Asked once, with a one-byte allocation as well
// as the attribute; the answer never changes afterwards, so every pointer is
// released by the allocator that made it.
bool probe_memory_pools(cudaStream_t s) {
  int device = 0, supported = 0;
  if (cudaGetDevice(&device) != cudaSuccess ||
      cudaDeviceGetAttribute(&supported, cudaDevAttrMemoryPoolsSupported, device) != cudaSuccess) {
    cudaGetLastError();
    return false;
  }
  if (supported == 0) return false;
  void* ptr = nullptr;
  const cudaError_t status = cudaMallocAsync(&ptr, 1, s);
  if (status == cudaSuccess) {
    cudaFreeAsync(ptr, s);
    return true;
  }
  cudaGetLastError();
  // Any other failure (out of memory, say) is no verdict on the pools: the
  // real allocations will report it.
  return status != cudaErrorNotSupported;
}

struct StreamState {
  cudaStream_t stream = nullptr;
  bool pools = false;
};

// One non-blocking stream for the process: every operation is ordered on it,
// so results are ready in program order and a read-back synchronizes it.
// Never destroyed: the driver reclaims it at exit.
const StreamState& stream_state() {
  static const StreamState state = [] {
    require_available();
    StreamState created;
    DS_CUDA_CHECK(cudaStreamCreateWithFlags(&created.stream, cudaStreamNonBlocking));
    created.pools = probe_memory_pools(created.stream);
    if (created.pools) keep_pool_memory();
    return created;
  }();
  return state;
}

// E_OOM with the size for an exhausted device, E_CUDA naming `call` for any
// other failure: what both allocators answer.
void expect_allocated(cudaError_t status, std::size_t bytes, const char* call) {
  if (status == cudaSuccess) return;
  if (status == cudaErrorMemoryAllocation) {
    cudaGetLastError();
    fail(ErrorCode::Oom, "cannot allocate " + std::to_string(bytes) + " bytes on cuda (device memory exhausted)");
  }
  throw_cuda_error(status, call);
}

// cudaMalloc where there are no pools: it is not stream-ordered, but its
// memory is usable by any later work, and cudaFree waits for the device.
void* allocate_without_pools(std::size_t bytes) {
  void* ptr = nullptr;
  expect_allocated(cudaMalloc(&ptr, bytes), bytes, "cudaMalloc");
  return ptr;
}

}  // namespace

Stream stream() { return reinterpret_cast<Stream>(stream_state().stream); }

const char* allocator_name() { return stream_state().pools ? "cudaMallocAsync" : "cudaMalloc"; }

void* allocate(std::size_t bytes) {
  if (!stream_state().pools) return allocate_without_pools(bytes);
  void* ptr = nullptr;
  cudaError_t status = cudaMallocAsync(&ptr, bytes, native(stream()));
  if (status == cudaErrorMemoryAllocation) {
    // The pool keeps freed memory (keep_pool_memory): hand what it holds back
    // to the driver, once frees still in flight have completed, and try again.
    cudaGetLastError();
    cudaMemPool_t pool = default_pool();
    if (pool != nullptr && cudaStreamSynchronize(native(stream())) == cudaSuccess &&
        cudaMemPoolTrimTo(pool, 0) == cudaSuccess)
      status = cudaMallocAsync(&ptr, bytes, native(stream()));
  }
  expect_allocated(status, bytes, "cudaMallocAsync");
  return ptr;
}

void release(void* ptr) noexcept {
  if (ptr == nullptr) return;
  if (stream_state().pools)
    cudaFreeAsync(ptr, native(stream()));
  else
    cudaFree(ptr);  // waits for the device: work still reading ptr finishes first
}

void copy(void* dst, bool dst_on_device, const void* src, bool src_on_device, std::size_t bytes) {
  const cudaMemcpyKind kind = dst_on_device ? (src_on_device ? cudaMemcpyDeviceToDevice : cudaMemcpyHostToDevice)
                                            : (src_on_device ? cudaMemcpyDeviceToHost : cudaMemcpyHostToHost);
  DS_CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, kind, native(stream())));
  // The host may read dst (or free src) as soon as we return.
  if (!dst_on_device || !src_on_device) DS_CUDA_CHECK(cudaStreamSynchronize(native(stream())));
}

void synchronize() {
  if (!device_info().available) return;
  DS_CUDA_CHECK(cudaStreamSynchronize(native(stream())));
}

}  // namespace dynasparse::cuda
