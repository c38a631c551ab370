// The CUDA runtime face when the addon was built without the CUDA backend:
// every entry reports why CUDA cannot be used.
#if !defined(DYNASPARSE_WITH_CUDA)

#include "dynasparse/cuda_runtime.h"
#include "dynasparse/error.h"

namespace dynasparse::cuda {

const DeviceInfo& device_info() {
  static const DeviceInfo info = [] {
    DeviceInfo i;
    i.compiled = false;
    i.available = false;
    i.reason = "dynasparse was built without the CUDA backend (nvcc was not found at build time, or DYNASPARSE_CUDA=OFF); "
               "install the CUDA toolkit and rebuild with `npm rebuild dynasparse`";
    return i;
  }();
  return info;
}

void require_available() { fail(ErrorCode::Device, "device 'cuda' is not available: " + device_info().reason); }

Stream stream() { require_available(); return nullptr; }
void* allocate(std::size_t) { require_available(); return nullptr; }
void release(void*) noexcept {}
void copy(void*, bool, const void*, bool, std::size_t) { require_available(); }
void synchronize() {}

}  // namespace dynasparse::cuda

#endif
