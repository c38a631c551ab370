// Dense matrix kernels (row-major float32).
#pragma once

#include <cstdint>

#include "dynasparse/device.h"

namespace dynasparse::cpu {
// out[c, r] = in[r, c] for an in of rows x cols.
void transpose(float* out, const float* in, std::int64_t rows, std::int64_t cols);
}  // namespace dynasparse::cpu

#if defined(DYNASPARSE_WITH_CUDA)
namespace dynasparse::cuda {
void transpose(float* out, const float* in, std::int64_t rows, std::int64_t cols, Stream s);
}  // namespace dynasparse::cuda
#endif
