// The one way kernels are launched: launch(name, kernel, grid, block, smem,
// stream, args...). Call sites never write <<<>>>, so the SIMT host emulation
// can supply its own launch and run the same kernel sources on the CPU.
#pragma once

#include <tuple>
#include <type_traits>
#include <utility>

#include "common.cuh"
#if defined(DYNASPARSE_SIMT_RUNTIME)
#include "simt/device_access.h"
#endif

namespace dynasparse::cuda {

// Checks that a launch was accepted; an error names the kernel (E_CUDA).
void check_launch(const char* kernel_name);

#if defined(DYNASPARSE_SIMT_RUNTIME)
// On the emulated device a kernel could read host memory (it runs on the host);
// on a GPU that is an illegal address. So every pointer argument must be null
// or the emulated device's memory (E_CUDA naming the kernel and the argument).
template <typename T>
void expect_device_argument(const char*, int, const T&) {}
template <typename T>
void expect_device_argument(const char* kernel_name, int index, T* p) {
  if (p != nullptr && !simt::is_device_memory(p))
    fail(ErrorCode::Cuda, std::string("kernel ") + kernel_name + ": argument " + std::to_string(index) +
                              " is a host pointer (on a GPU the kernel would fault on it)");
}
#endif

template <typename... Params, typename... Args>
void launch(const char* kernel_name, void (*kernel)(Params...), dim3 grid, dim3 block, std::size_t shared_bytes,
            Stream stream, Args&&... args) {
  if (grid.x == 0 || grid.y == 0 || grid.z == 0) return;
#if defined(DYNASPARSE_SIMT_EMULATED)
  // The emulation runs the grid on the CPU before returning (the stream is
  // irrelevant: everything is synchronous). The arguments are converted to the
  // parameter types once, as <<<>>> does, and every thread gets its own copy.
  static_cast<void>(stream);
  struct Call {
    void (*kernel)(Params...);
    std::tuple<std::decay_t<Params>...> params;
  } call{kernel, std::tuple<std::decay_t<Params>...>(std::forward<Args>(args)...)};
#if defined(DYNASPARSE_SIMT_RUNTIME)
  std::apply([&](const auto&... p) {
    int index = 0;
    (expect_device_argument(kernel_name, index++, p), ...);
  }, call.params);
  const simt::DeviceAccess device_memory_open;  // the emulated device's memory, for the grid's duration
#endif
  simt::run_grid(kernel_name, grid, block, shared_bytes,
                 [](void* ctx) {
                   Call& c = *static_cast<Call*>(ctx);
                   std::apply(c.kernel, c.params);
                 },
                 &call);
#else
  kernel<<<grid, block, shared_bytes, native(stream)>>>(std::forward<Args>(args)...);
#endif
  check_launch(kernel_name);
}

}  // namespace dynasparse::cuda
