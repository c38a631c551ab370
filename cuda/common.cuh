// Helpers every CUDA backend file shares: the status check that turns a CUDA
// error into E_CUDA, and grid-size arithmetic.
//
// Kernel files compile in two modes: by nvcc for the GPU, and by the host C++
// compiler with DYNASPARSE_SIMT_EMULATION for the CPU (the tests in CI; see
// docs/testing-cuda.md), where cuda/simt/simt.h stands in for the CUDA runtime.
#pragma once

// Standard headers before simt.h, whose qualifier macros (__noinline__) would
// clash with the attributes libstdc++ spells the same way.
#include "dynasparse/cuda_runtime.h"
#include "dynasparse/memory.h"

#if defined(DYNASPARSE_SIMT_EMULATION) && !defined(__CUDACC__)
#include "simt/simt.h"
#define DYNASPARSE_SIMT_EMULATED 1
#else
#include <cuda_runtime.h>
#endif

#include <cstdint>
#include <string>

#include "dynasparse/device.h"
#include "dynasparse/error.h"

namespace dynasparse::cuda {

[[noreturn]] void throw_cuda_error(cudaError_t status, const char* what);

// DS_CUDA_CHECK(cudaMemcpyAsync(...)) throws E_CUDA naming the call.
#define DS_CUDA_CHECK(call)                                                      \
  do {                                                                           \
    const cudaError_t ds_status_ = (call);                                       \
    if (ds_status_ != cudaSuccess) ::dynasparse::cuda::throw_cuda_error(ds_status_, #call); \
  } while (0)

// The block's dynamic shared memory (the launch's `shared_bytes`) as a T array.
// Use it instead of `extern __shared__`: under the emulation `name` is a checked
// pointer (simt::shared_ptr<T>) that reports reads of bytes no thread has written,
// so use it only by indexing and pointer arithmetic, never by casting.
#if defined(DYNASPARSE_SIMT_EMULATED)
#define DS_DYNAMIC_SHARED(T, name) ::dynasparse::simt::shared_ptr<T> name = ::dynasparse::simt::dynamic_shared<T>()
#else
#define DS_DYNAMIC_SHARED(T, name)                              \
  extern __shared__ __align__(16) unsigned char ds_dynamic_shared_[]; \
  T* name = reinterpret_cast<T*>(ds_dynamic_shared_)
#endif

inline cudaStream_t native(Stream s) { return reinterpret_cast<cudaStream_t>(s); }

// Blocks needed to cover n items with `per_block` each, capped at what a grid
// dimension allows (kernels use grid-stride loops past the cap).
inline unsigned int blocks_for(std::int64_t n, int per_block, std::int64_t cap = 65535LL * 16) {
  const std::int64_t blocks = (n + per_block - 1) / per_block;
  return static_cast<unsigned int>(blocks < 1 ? 1 : (blocks > cap ? cap : blocks));
}

// Scratch memory for a kernel's host wrapper (counted like every allocation):
// device memory, allocated and freed in order on cuda::stream(), so a wrapper
// that takes scratch must be called on that stream (checked: E_ARG otherwise);
// under the emulation, whose kernels take host pointers, host memory: the CPU
// device's in the native tests, the emulated cuda device's (host memory too,
// cuda/simt/runtime.cpp) in an addon built with DYNASPARSE_CUDA_EMULATION.
#if defined(DYNASPARSE_SIMT_EMULATED) && !defined(DYNASPARSE_SIMT_RUNTIME)
constexpr Device kScratchDevice = Device::Cpu;
#else
constexpr Device kScratchDevice = Device::Cuda;
#endif

template <typename T>
Scratch<T> kernel_scratch(std::size_t count, Stream s, const char* op) {
#if defined(DYNASPARSE_SIMT_EMULATED) && !defined(DYNASPARSE_SIMT_RUNTIME)
  static_cast<void>(s);
  static_cast<void>(op);
#else
  if (s != stream())
    fail(ErrorCode::Arg, std::string(op) + ": expected the backend's stream cuda::stream() (its scratch memory is "
                                           "ordered on it), got another stream");
#endif
  return Scratch<T>(kScratchDevice, count);
}

// count values from the host into kernel memory (scratch or a device buffer).
template <typename T>
void upload(T* dst, const T* src, std::size_t count) {
  if (count > 0) copy_bytes(dst, kScratchDevice, src, Device::Cpu, count * sizeof(T));
}

// count values from kernel memory to the host (on a GPU the copy waits for the stream).
template <typename T>
void download(T* dst, const T* src, std::size_t count) {
  if (count > 0) copy_bytes(dst, Device::Cpu, src, kScratchDevice, count * sizeof(T));
}

// One value of kernel memory on the host (on a GPU the copy waits for the stream).
template <typename T>
T read_back(const T* p) {
  T v{};
  download(&v, p, 1);
  return v;
}

// Binary searches over a sorted device array, as indices: the first i in
// [lo, hi) with a[i] >= v (lower_bound) or a[i] > v (upper_bound), hi if none,
// like std::lower_bound / std::upper_bound. Kernels find rows of stored entries
// (upper_bound over row_ptr) and stored columns (lower_bound over a row).
template <typename T, typename V>
__host__ __device__ __forceinline__ std::int64_t lower_bound(const T* a, std::int64_t lo, std::int64_t hi, V v) {
  while (lo < hi) {
    const std::int64_t mid = lo + (hi - lo) / 2;
    if (a[mid] < v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
template <typename T, typename V>
__host__ __device__ __forceinline__ std::int64_t upper_bound(const T* a, std::int64_t lo, std::int64_t hi, V v) {
  while (lo < hi) {
    const std::int64_t mid = lo + (hi - lo) / 2;
    if (!(v < a[mid])) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

// Whether every pointer is 16-byte aligned (null counts as aligned): the
// streaming kernels then move float4 / int4 vectors.
template <typename... P>
bool aligned16(const P*... p) {
  return ((reinterpret_cast<std::uintptr_t>(p) % 16 == 0) && ...);
}

}  // namespace dynasparse::cuda
