// Helpers every CUDA backend file shares: the status check that turns a CUDA
// error into E_CUDA, and grid-size arithmetic.
#pragma once

#include <cuda_runtime.h>

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

inline cudaStream_t native(Stream s) { return reinterpret_cast<cudaStream_t>(s); }

// Blocks needed to cover n items with `per_block` each, capped at what a grid
// dimension allows (kernels use grid-stride loops past the cap).
inline unsigned int blocks_for(std::int64_t n, int per_block, std::int64_t cap = 65535LL * 16) {
  const std::int64_t blocks = (n + per_block - 1) / per_block;
  return static_cast<unsigned int>(blocks < 1 ? 1 : (blocks > cap ? cap : blocks));
}

}  // namespace dynasparse::cuda
