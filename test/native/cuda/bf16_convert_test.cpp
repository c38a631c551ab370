// cuda::to_bf16_padded and cuda::bf16_to_f32_axpby (the cuSPARSELt baseline's
// conversions) against their cpu:: twins: bit for bit, padding included, on a
// GPU and under the SIMT emulation.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <ios>
#include <limits>
#include <vector>

#include "compare.h"
#include "device_array.h"
#include "dynasparse/bf16.h"
#include "dynasparse/ops/bf16_convert.h"
#include "test/native/error_code.h"

using namespace dynasparse;
using test::DeviceArray;

namespace {

constexpr Stream kStream = nullptr;

// rows x ld floats with the IEEE edges, and values that round across a power
// of two or past the largest finite bf16 (to infinity).
std::vector<float> convert_inputs(std::int64_t rows, std::int64_t ld, std::uint32_t seed) {
  std::vector<float> v = test::random_floats(static_cast<std::size_t>(rows * ld), seed, -300.0f, 300.0f);
  test::add_edge_values(v, seed % 7, 9);
  const float rounding[] = {std::numeric_limits<float>::max(), 1.0f + std::ldexp(1.0f, -8),
                            1.0f + 3 * std::ldexp(1.0f, -8), -(2.0f - std::ldexp(1.0f, -9))};
  for (std::size_t i = 5, e = 0; i < v.size(); i += 13) v[i] = rounding[e++ % 4];
  return v;
}

void check_to_bf16(std::int64_t rows, std::int64_t cols, std::int64_t ld, std::int64_t out_rows,
                   std::int64_t out_cols) {
  CAPTURE(rows);
  CAPTURE(cols);
  CAPTURE(ld);
  CAPTURE(out_rows);
  CAPTURE(out_cols);
  const std::vector<float> in = convert_inputs(rows, ld, static_cast<std::uint32_t>(rows * 31 + cols));
  std::vector<std::uint16_t> want(static_cast<std::size_t>(out_rows * out_cols));
  cpu::to_bf16_padded(want.data(), out_rows, out_cols, in.data(), rows, cols, ld);
  DeviceArray<float> d_in(in);
  DeviceArray<std::uint16_t> d_out(want.size());  // starts poisoned: every element must be written
  cuda::to_bf16_padded(d_out.data(), out_rows, out_cols, d_in.data(), rows, cols, ld, kStream);
  const std::vector<std::uint16_t> got = d_out.to_host();
  for (std::size_t i = 0; i < want.size(); ++i) {
    if (got[i] != want[i]) {
      INFO("element " << i << " of " << want.size() << ": cuda 0x" << std::hex << got[i] << ", cpu 0x" << want[i]);
      REQUIRE(got[i] == want[i]);
    }
  }
}

void check_axpby(std::int64_t rows, std::int64_t cols, std::int64_t ldc, std::int64_t ldd, float alpha, float beta) {
  CAPTURE(rows);
  CAPTURE(cols);
  CAPTURE(ldc);
  CAPTURE(ldd);
  CAPTURE(alpha);
  CAPTURE(beta);
  std::vector<std::uint16_t> d(static_cast<std::size_t>(rows * ldd));
  const std::vector<float> source = convert_inputs(rows, ldd, 17);
  for (std::size_t i = 0; i < d.size(); ++i) d[i] = bf16_bits(source[i]);
  std::vector<float> c = convert_inputs(rows, ldc, 23);
  if (beta == 0.0f)  // whatever c holds must not leak through beta == 0
    for (std::size_t i = 0; i < c.size(); i += 2) c[i] = std::numeric_limits<float>::quiet_NaN();
  std::vector<float> want = c;
  cpu::bf16_to_f32_axpby(want.data(), ldc, d.data(), ldd, rows, cols, alpha, beta);
  DeviceArray<std::uint16_t> d_d(d);
  DeviceArray<float> d_c(c);
  cuda::bf16_to_f32_axpby(d_c.data(), ldc, d_d.data(), ldd, rows, cols, alpha, beta, kStream);
  test::require_same_bits(d_c.to_host(), want);
}

}  // namespace

TEST_CASE("cuda::to_bf16_padded is bit-identical to cpu::to_bf16_padded, padding included") {
  check_to_bf16(1, 1, 1, 1, 1);
  check_to_bf16(3, 5, 5, 32, 32);      // pad rows and columns
  check_to_bf16(32, 64, 64, 32, 64);   // no padding
  check_to_bf16(7, 9, 13, 7, 32);      // a leading dimension past cols
  check_to_bf16(0, 0, 0, 32, 32);      // all padding: a zero matrix
  check_to_bf16(513, 130, 130, 544, 160);
  check_to_bf16(70001, 3, 3, 70016, 32);  // past one grid (grid-stride)
}

TEST_CASE("cuda::bf16_to_f32_axpby is bit-identical to cpu::bf16_to_f32_axpby (never reads c when beta == 0)") {
  for (float alpha : {1.0f, -0.5f, 3.0f})
    for (float beta : {0.0f, 1.0f, 0.25f}) {
      check_axpby(1, 1, 1, 1, alpha, beta);
      check_axpby(5, 7, 7, 32, alpha, beta);   // the corner of a padded product
      check_axpby(9, 33, 40, 64, alpha, beta); // both leading dimensions past cols
    }
  check_axpby(0, 5, 5, 5, 1.0f, 0.0f);
  check_axpby(70001, 3, 3, 32, 2.0f, -1.0f);
}

TEST_CASE("cuda::to_bf16_padded and bf16_to_f32_axpby refuse sizes that do not fit (E_ARG)") {
  DeviceArray<float> f(64);
  DeviceArray<std::uint16_t> h(64);
  auto code = [](auto&& f) { return test::code_of(f); };
  CHECK(code([&] { cuda::to_bf16_padded(h.data(), 4, 4, f.data(), 5, 4, 4, kStream); }) == ErrorCode::Arg);
  CHECK(code([&] { cuda::to_bf16_padded(h.data(), 4, 4, f.data(), 4, 5, 5, kStream); }) == ErrorCode::Arg);
  CHECK(code([&] { cuda::to_bf16_padded(h.data(), 4, 8, f.data(), 4, 5, 4, kStream); }) == ErrorCode::Arg);
  CHECK(code([&] { cuda::to_bf16_padded(h.data(), 4, 4, f.data(), -1, 4, 4, kStream); }) == ErrorCode::Arg);
  CHECK(code([&] { cuda::bf16_to_f32_axpby(f.data(), 3, h.data(), 4, 4, 4, 1.0f, 0.0f, kStream); }) == ErrorCode::Arg);
  CHECK(code([&] { cuda::bf16_to_f32_axpby(f.data(), 4, h.data(), 3, 4, 4, 1.0f, 0.0f, kStream); }) == ErrorCode::Arg);
  CHECK(code([&] { cuda::bf16_to_f32_axpby(f.data(), 4, h.data(), 4, -2, 4, 1.0f, 0.0f, kStream); }) == ErrorCode::Arg);
}
