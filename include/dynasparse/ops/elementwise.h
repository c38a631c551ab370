// Elementwise kernels on dense float32 arrays.
#pragma once

#include <cstdint>

#include "dynasparse/device.h"

namespace dynasparse::cpu {
void fill(float* out, std::int64_t n, float value);
}  // namespace dynasparse::cpu

#if defined(DYNASPARSE_WITH_CUDA)
namespace dynasparse::cuda {
void fill(float* out, std::int64_t n, float value, Stream s);
}  // namespace dynasparse::cuda
#endif
