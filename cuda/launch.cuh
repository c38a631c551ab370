// The one way kernels are launched: launch(name, kernel, grid, block, smem,
// stream, args...). Call sites never write <<<>>>, so the SIMT host emulation
// can supply its own launch and run the same kernel sources on the CPU.
#pragma once

#include <utility>

#include "common.cuh"

namespace dynasparse::cuda {

// Checks that a launch was accepted; an error names the kernel (E_CUDA).
void check_launch(const char* kernel_name);

template <typename... Params, typename... Args>
void launch(const char* kernel_name, void (*kernel)(Params...), dim3 grid, dim3 block, std::size_t shared_bytes,
            Stream stream, Args&&... args) {
  if (grid.x == 0 || grid.y == 0 || grid.z == 0) return;
  kernel<<<grid, block, shared_bytes, native(stream)>>>(std::forward<Args>(args)...);
  check_launch(kernel_name);
}

}  // namespace dynasparse::cuda
