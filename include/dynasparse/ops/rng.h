// Random tensors. Values depend only on (seed, stream, index); see philox.h.
#pragma once

#include <cstdint>

#include "dynasparse/device.h"

namespace dynasparse::cpu {
void fill_uniform(float* out, std::int64_t n, std::uint64_t seed, std::uint64_t stream, float low, float high);
void fill_normal(float* out, std::int64_t n, std::uint64_t seed, std::uint64_t stream, float mean, float std_dev);
}  // namespace dynasparse::cpu

#if defined(DYNASPARSE_WITH_CUDA)
namespace dynasparse::cuda {
void fill_uniform(float* out, std::int64_t n, std::uint64_t seed, std::uint64_t stream, float low, float high, Stream s);
void fill_normal(float* out, std::int64_t n, std::uint64_t seed, std::uint64_t stream, float mean, float std_dev, Stream s);
}  // namespace dynasparse::cuda
#endif
