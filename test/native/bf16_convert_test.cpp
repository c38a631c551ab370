// cpu::to_bf16_padded and cpu::bf16_to_f32_axpby (the reference of the CUDA
// conversions for the cuSPARSELt baseline) against their definitions: every
// element rounded with bf16_bits, zeros in the padding, alpha * d + beta * c
// with beta == 0 never reading c.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <vector>

#include "dynasparse/bf16.h"
#include "dynasparse/ops/bf16_convert.h"
#include "error_code.h"

using namespace dynasparse;

namespace {

std::uint32_t bits_of(float v) {
  std::uint32_t b;
  std::memcpy(&b, &v, sizeof b);
  return b;
}

}  // namespace

TEST_CASE("cpu::to_bf16_padded rounds each element like bf16_bits (ties to even, NaN, overflow) and zero-pads") {
  const std::int64_t rows = 3, cols = 5, ld = 7, out_rows = 4, out_cols = 8;
  std::vector<float> in(static_cast<std::size_t>(rows * ld));
  for (std::size_t i = 0; i < in.size(); ++i) in[i] = 0.37f * static_cast<float>(i) - 4.0f;
  in[0] = 1.0f + std::ldexp(1.0f, -8);        // a tie: rounds down to even (1.0)
  in[1] = 1.0f + 3 * std::ldexp(1.0f, -8);    // a tie: rounds up to even
  in[2] = std::numeric_limits<float>::max();  // rounds to infinity
  in[3] = std::numeric_limits<float>::quiet_NaN();
  std::vector<std::uint16_t> out(static_cast<std::size_t>(out_rows * out_cols), 0xFFFFu);
  cpu::to_bf16_padded(out.data(), out_rows, out_cols, in.data(), rows, cols, ld);
  for (std::int64_t r = 0; r < out_rows; ++r)
    for (std::int64_t j = 0; j < out_cols; ++j) {
      CAPTURE(r);
      CAPTURE(j);
      const std::uint16_t want = r < rows && j < cols ? bf16_bits(in[r * ld + j]) : std::uint16_t{0};
      CHECK(out[r * out_cols + j] == want);
    }
  CHECK(out[0] == 0x3F80u);
  CHECK(out[1] == 0x3F82u);
  CHECK(out[2] == 0x7F80u);
  CHECK(std::isnan(bf16_float(out[3])));
}

TEST_CASE("cpu::bf16_to_f32_axpby is alpha * d + beta * c per element, and beta == 0 never reads c") {
  const std::int64_t rows = 2, cols = 3, ldc = 4, ldd = 5;
  std::vector<std::uint16_t> d(static_cast<std::size_t>(rows * ldd));
  for (std::size_t i = 0; i < d.size(); ++i) d[i] = bf16_bits(1.5f * static_cast<float>(i) - 3.0f);
  for (float beta : {0.0f, 0.5f}) {
    CAPTURE(beta);
    std::vector<float> c(static_cast<std::size_t>(rows * ldc), beta == 0.0f ? std::nanf("") : 2.0f);
    const std::vector<float> old = c;
    cpu::bf16_to_f32_axpby(c.data(), ldc, d.data(), ldd, rows, cols, -2.0f, beta);
    for (std::int64_t r = 0; r < rows; ++r)
      for (std::int64_t j = 0; j < ldc; ++j) {
        CAPTURE(r);
        CAPTURE(j);
        const float x = bf16_float(d[r * ldd + j]);
        if (j >= cols) CHECK(bits_of(c[r * ldc + j]) == bits_of(old[r * ldc + j]));  // past cols: untouched
        else CHECK(c[r * ldc + j] == (beta == 0.0f ? -2.0f * x : -2.0f * x + beta * 2.0f));
      }
  }
}

TEST_CASE("cpu::to_bf16_padded and bf16_to_f32_axpby refuse sizes that do not fit (E_ARG)") {
  std::vector<float> f(64);
  std::vector<std::uint16_t> h(64);
  CHECK(test::code_of([&] { cpu::to_bf16_padded(h.data(), 4, 4, f.data(), 5, 4, 4); }) == ErrorCode::Arg);
  CHECK(test::code_of([&] { cpu::to_bf16_padded(h.data(), 4, 8, f.data(), 4, 5, 4); }) == ErrorCode::Arg);
  CHECK(test::code_of([&] { cpu::bf16_to_f32_axpby(f.data(), 3, h.data(), 4, 4, 4, 1.0f, 0.0f); }) == ErrorCode::Arg);
  CHECK(test::code_of([&] { cpu::bf16_to_f32_axpby(f.data(), 4, h.data(), 4, -2, 4, 1.0f, 0.0f); }) == ErrorCode::Arg);
}
