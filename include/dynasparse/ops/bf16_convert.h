// Dense float32 <-> bf16 copies with zero padding, for the cuSPARSELt 2:4
// baseline (cuda::baseline::spmm_24_sparselt): cuSPARSELt multiplies 16-bit
// row-major operands whose sizes meet its rules, while our tensors are float32
// of any size. There is no CPU twin: nothing on the CPU computes in bf16. The
// host reference the tests compare with is dynasparse/bf16.h, whose rounding
// these kernels use, so the bits agree.
#pragma once

#if defined(DYNASPARSE_WITH_CUDA)

#include <cstdint>

#include "dynasparse/device.h"

namespace dynasparse::cuda {

// out [out_rows, out_cols] (row-major, bf16 bits) = in [rows, cols] (leading
// dimension ld) rounded to bf16 (nearest, ties to even; NaN stays NaN), with
// zeros past row `rows` and column `cols`. E_ARG unless 0 <= rows <= out_rows,
// 0 <= cols <= out_cols and ld >= cols.
void to_bf16_padded(std::uint16_t* out, std::int64_t out_rows, std::int64_t out_cols, const float* in,
                    std::int64_t rows, std::int64_t cols, std::int64_t ld, Stream s);

// c [rows, cols] (leading dimension ldc) = alpha * d + beta * c, where d is bf16
// bits [.., ldd] (the top-left corner of a padded product). Each product and the
// sum are rounded separately (no FMA). beta == 0 does not read c, so whatever c
// held (NaN included) does not leak. E_ARG for negative sizes, ldc < cols or
// ldd < cols.
void bf16_to_f32_axpby(float* c, std::int64_t ldc, const std::uint16_t* d, std::int64_t ldd, std::int64_t rows,
                       std::int64_t cols, float alpha, float beta, Stream s);

}  // namespace dynasparse::cuda

#endif  // DYNASPARSE_WITH_CUDA
