#include "dynasparse/ops/elementwise.h"
#include "launch.cuh"

namespace dynasparse::cuda {
namespace {

__global__ void fill_kernel(float* __restrict__ out, std::int64_t n, float value) {
  const std::int64_t stride = static_cast<std::int64_t>(gridDim.x) * blockDim.x;
  for (std::int64_t i = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride) out[i] = value;
}

}  // namespace

void fill(float* out, std::int64_t n, float value, Stream s) {
  if (n <= 0) return;
  launch("fill_kernel", fill_kernel, dim3(blocks_for(n, 256)), dim3(256), 0, s, out, n, value);
}

}  // namespace dynasparse::cuda
