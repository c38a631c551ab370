// The CUDA runtime face (include/dynasparse/cuda_runtime.h) of an addon built
// with DYNASPARSE_CUDA_EMULATION=ON: its 'cuda' device runs the kernel sources
// through the SIMT host emulation, so the whole stack (TypeScript, binding,
// dispatch, kernels) is tested on the CUDA path where there is no GPU
// (cmake/SimtEmulation.cmake, scripts/test-emulated-cuda.js). It replaces
// cuda/runtime.cu, which talks to the real driver.
//
// "Device" memory is host memory, counted as cuda by memory(). To look like a
// device it starts poisoned (all bits set: NaN as a float, -1 as an int), as
// cudaMalloc's contents are undefined, so a result read from memory no kernel
// wrote shows up; and the device is finite (kCapacityBytes), so E_OOM paths
// are reachable. Launches run to completion before they return, so the stream
// is a token and synchronizing does nothing.
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>

#include "dynasparse/cuda_runtime.h"
#include "dynasparse/error.h"

namespace dynasparse::cuda {
namespace {

// cudaMallocAsync's alignment, so the kernels' vector-load paths are taken as on a GPU.
constexpr std::size_t kAlignment = 256;
// A modest device, so that tests of out-of-memory errors do not need real host memory.
constexpr std::size_t kCapacityBytes = std::size_t{4} << 30;

std::atomic<std::size_t> g_reserved{0};

std::size_t padded(std::size_t bytes) { return (bytes + kAlignment - 1) / kAlignment * kAlignment; }

// The allocation's padded size, kept just before it so release() can return it.
struct alignas(kAlignment) Header {
  std::size_t bytes;
};

int g_stream_token = 0;

}  // namespace

const DeviceInfo& device_info() {
  static const DeviceInfo info = [] {
    DeviceInfo i;
    i.compiled = true;
    i.available = true;
    i.device_name = "SIMT host emulation (CPU)";
    // 8.0: the tensor-core paths are allowed; under the emulation they run
    // their portable twins (mma_sp.cuh).
    i.compute_capability = 80;
    i.total_memory = kCapacityBytes;
    return i;
  }();
  return info;
}

void require_available() {}

Stream stream() { return reinterpret_cast<Stream>(&g_stream_token); }

void* allocate(std::size_t bytes) {
  const std::size_t size = padded(bytes == 0 ? 1 : bytes);
  if (g_reserved.fetch_add(size) + size > kCapacityBytes) {
    g_reserved.fetch_sub(size);
    fail(ErrorCode::Oom, "cannot allocate " + std::to_string(bytes) +
                             " bytes on cuda (device memory exhausted: the emulated device holds " +
                             std::to_string(kCapacityBytes) + " bytes)");
  }
  void* block = std::aligned_alloc(kAlignment, sizeof(Header) + size);
  if (block == nullptr) {
    g_reserved.fetch_sub(size);
    fail(ErrorCode::Oom, "cannot allocate " + std::to_string(bytes) + " bytes on cuda (host memory exhausted)");
  }
  static_cast<Header*>(block)->bytes = size;
  unsigned char* data = static_cast<unsigned char*>(block) + sizeof(Header);
  std::memset(data, 0xFF, size);
  return data;
}

void release(void* ptr) noexcept {
  if (ptr == nullptr) return;
  void* block = static_cast<unsigned char*>(ptr) - sizeof(Header);
  g_reserved.fetch_sub(static_cast<Header*>(block)->bytes);
  std::free(block);
}

void copy(void* dst, bool, const void* src, bool, std::size_t bytes) {
  if (bytes > 0) std::memmove(dst, src, bytes);
}

void synchronize() {}

}  // namespace dynasparse::cuda
