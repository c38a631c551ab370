#include "dynasparse/ops/rng.h"
#include "dynasparse/philox.h"
#include "launch.cuh"

namespace dynasparse::cuda {
namespace {

__global__ void uniform_kernel(float* __restrict__ out, std::int64_t n, std::uint64_t seed, std::uint64_t stream,
                               float low, float high) {
  const std::int64_t stride = static_cast<std::int64_t>(gridDim.x) * blockDim.x;
  for (std::int64_t i = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride)
    out[i] = rng::uniform_at(seed, stream, static_cast<std::uint64_t>(i), low, high);
}

__global__ void normal_kernel(float* __restrict__ out, std::int64_t n, std::uint64_t seed, std::uint64_t stream,
                              float mean, float std_dev) {
  const std::int64_t stride = static_cast<std::int64_t>(gridDim.x) * blockDim.x;
  for (std::int64_t i = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride)
    out[i] = rng::normal_at(seed, stream, static_cast<std::uint64_t>(i), mean, std_dev);
}

}  // namespace

void fill_uniform(float* out, std::int64_t n, std::uint64_t seed, std::uint64_t stream, float low, float high, Stream s) {
  if (n <= 0) return;
  launch("uniform_kernel", uniform_kernel, dim3(blocks_for(n, 256)), dim3(256), 0, s, out, n, seed, stream, low, high);
}

void fill_normal(float* out, std::int64_t n, std::uint64_t seed, std::uint64_t stream, float mean, float std_dev, Stream s) {
  if (n <= 0) return;
  launch("normal_kernel", normal_kernel, dim3(blocks_for(n, 256)), dim3(256), 0, s, out, n, seed, stream, mean, std_dev);
}

}  // namespace dynasparse::cuda
