// The padded float32 <-> bf16 copies (ops/bf16_convert.h): the reference of
// their CUDA twins, a row per step of a parallel loop.
#include "dynasparse/ops/bf16_convert.h"

#include <algorithm>

#include "dynasparse/bf16.h"
#include "parallel.h"

namespace dynasparse::cpu {
namespace {

// Rows per parallel chunk when each row has `cols` elements: about 32k elements.
std::int64_t row_grain(std::int64_t cols) {
  return std::max<std::int64_t>(1, (std::int64_t{1} << 15) / std::max<std::int64_t>(1, cols));
}

}  // namespace

void to_bf16_padded(std::uint16_t* out, std::int64_t out_rows, std::int64_t out_cols, const float* in,
                    std::int64_t rows, std::int64_t cols, std::int64_t ld) {
  expect_bf16_padded_sizes(out_rows, out_cols, rows, cols, ld);
  parallel_for(0, out_rows, row_grain(out_cols), [&](std::int64_t lo, std::int64_t hi) {
    for (std::int64_t r = lo; r < hi; ++r) {
      std::uint16_t* o = out + r * out_cols;
      const std::int64_t kept = r < rows ? cols : 0;
      for (std::int64_t j = 0; j < kept; ++j) o[j] = bf16_bits(in[r * ld + j]);
      std::fill(o + kept, o + out_cols, std::uint16_t{0});
    }
  });
}

void bf16_to_f32_axpby(float* c, std::int64_t ldc, const std::uint16_t* d, std::int64_t ldd, std::int64_t rows,
                       std::int64_t cols, float alpha, float beta) {
  expect_bf16_axpby_sizes(ldc, ldd, rows, cols);
  parallel_for(0, rows, row_grain(cols), [&](std::int64_t lo, std::int64_t hi) {
    for (std::int64_t r = lo; r < hi; ++r)
      for (std::int64_t j = 0; j < cols; ++j) {
        const float scaled = alpha * bf16_float(d[r * ldd + j]);
        float& dst = c[r * ldc + j];
        dst = beta == 0.0f ? scaled : scaled + beta * dst;  // the library builds with -ffp-contract=off
      }
  });
}

}  // namespace dynasparse::cpu
