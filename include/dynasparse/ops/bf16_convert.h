// Dense float32 <-> bf16 copies with zero padding: what stands between our
// float32 tensors and cuSPARSELt's 16-bit operands, whose sizes must meet its
// rules (cuda::baseline::spmm_24_sparselt). The CPU versions are the reference
// the CUDA kernels are tested against, bit for bit: both round with
// dynasparse/bf16.h and apply the epilogue one rounding per operation.
#pragma once

#include <cstdint>
#include <string>

#include "dynasparse/device.h"
#include "dynasparse/error.h"

namespace dynasparse {

// The size rules both backends check (E_ARG).
inline void expect_bf16_padded_sizes(std::int64_t out_rows, std::int64_t out_cols, std::int64_t rows,
                                     std::int64_t cols, std::int64_t ld) {
  if (rows < 0 || cols < 0 || rows > out_rows || cols > out_cols)
    fail(ErrorCode::Arg, "to_bf16_padded: the input [" + std::to_string(rows) + ", " + std::to_string(cols) +
                             "] does not fit the output [" + std::to_string(out_rows) + ", " +
                             std::to_string(out_cols) + "]");
  if (ld < cols)
    fail(ErrorCode::Arg, "to_bf16_padded: ld " + std::to_string(ld) + " is below cols " + std::to_string(cols));
}

inline void expect_bf16_axpby_sizes(std::int64_t ldc, std::int64_t ldd, std::int64_t rows, std::int64_t cols) {
  if (rows < 0 || cols < 0)
    fail(ErrorCode::Arg, "bf16_to_f32_axpby: negative size [" + std::to_string(rows) + ", " + std::to_string(cols) + "]");
  if (ldc < cols || ldd < cols)
    fail(ErrorCode::Arg, "bf16_to_f32_axpby: leading dimensions " + std::to_string(ldc) + " (c) and " +
                             std::to_string(ldd) + " (d) must be at least cols " + std::to_string(cols));
}

}  // namespace dynasparse

namespace dynasparse::cpu {

// out [out_rows, out_cols] (row-major, bf16 bits) = in [rows, cols] (leading
// dimension ld) rounded to bf16 (nearest, ties to even; NaN stays NaN), with
// zeros past row `rows` and column `cols`. E_ARG unless 0 <= rows <= out_rows,
// 0 <= cols <= out_cols and ld >= cols.
void to_bf16_padded(std::uint16_t* out, std::int64_t out_rows, std::int64_t out_cols, const float* in,
                    std::int64_t rows, std::int64_t cols, std::int64_t ld);

// c [rows, cols] (leading dimension ldc) = alpha * d + beta * c, where d is bf16
// bits [.., ldd] (the top-left corner of a padded product). Each product and the
// sum are rounded separately (no FMA). beta == 0 does not read c, so whatever c
// held (NaN included) does not leak. E_ARG for negative sizes, ldc < cols or
// ldd < cols.
void bf16_to_f32_axpby(float* c, std::int64_t ldc, const std::uint16_t* d, std::int64_t ldd, std::int64_t rows,
                       std::int64_t cols, float alpha, float beta);

}  // namespace dynasparse::cpu

#if defined(DYNASPARSE_WITH_CUDA)
// The CUDA twins (device pointers, enqueued on `s`): cuda/bf16_convert.cu,
// bit-identical to the above.
namespace dynasparse::cuda {

void to_bf16_padded(std::uint16_t* out, std::int64_t out_rows, std::int64_t out_cols, const float* in,
                    std::int64_t rows, std::int64_t cols, std::int64_t ld, Stream s);
void bf16_to_f32_axpby(float* c, std::int64_t ldc, const std::uint16_t* d, std::int64_t ldd, std::int64_t rows,
                       std::int64_t cols, float alpha, float beta, Stream s);

}  // namespace dynasparse::cuda
#endif
