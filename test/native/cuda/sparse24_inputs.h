// 2:4 inputs shared by the CUDA 2:4 tests (sparse24_test.cpp, spmm24_test.cpp,
// and the cuSPARSELt baseline's in cuda_baseline/): dense matrices with ties,
// zeros, and the IEEE edge values, compressed by the CPU backend; small-integer
// operands; and the magnitudes that bound a bf16 product's error.
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

#include "compare.h"
#include "dynasparse/ops/sparse24.h"

namespace dynasparse::test {

struct Host24 {
  std::int64_t rows = 0, cols = 0;
  std::vector<float> values;       // [rows, cols / 2]
  std::vector<std::int32_t> meta;  // [rows, meta words]
};

// Uniform values in [-2, 2) with ties and zeros mixed in (every 5th element
// repeats its left neighbour, every 7th is +0 or -0); `edges` adds NaN, +-inf,
// -0 and a subnormal.
inline std::vector<float> dense24_input(std::int64_t rows, std::int64_t cols, std::uint32_t seed, bool edges) {
  std::vector<float> d = random_floats(static_cast<std::size_t>(rows * cols), seed);
  for (std::size_t i = 1; i < d.size(); i += 5) d[i] = d[i - 1];
  for (std::size_t i = 0; i < d.size(); i += 7) d[i] = (i / 7) % 2 ? -0.0f : 0.0f;
  if (edges) add_edge_values(d, 2, 9);
  return d;
}

inline Host24 compress24(const std::vector<float>& dense, std::int64_t rows, std::int64_t cols) {
  Host24 a{rows, cols, std::vector<float>(static_cast<std::size_t>(rows * cols / 2)),
           std::vector<std::int32_t>(static_cast<std::size_t>(rows * cpu::sparse24_meta_words(cols)))};
  cpu::sparse24_from_dense(a.values.data(), a.meta.data(), dense.data(), rows, cols);
  return a;
}

inline Host24 random24(std::int64_t rows, std::int64_t cols, std::uint32_t seed, bool edges = false) {
  return compress24(dense24_input(rows, cols, seed, edges), rows, cols);
}

// n values uniform in [lo, hi), truncated toward zero: small integers, which
// bf16 holds exactly, so a bf16 product of them is exact wherever its sums
// stay within bf16's (or, accumulated, fp32's) integers.
inline std::vector<float> small_integers(std::size_t n, std::uint32_t seed, float lo, float hi) {
  std::vector<float> v = random_floats(n, seed, lo, hi);
  for (float& x : v) x = std::trunc(x);
  return v;
}

// A [rows, cols] whose dense values are small integers in [lo, hi), compressed to 2:4.
inline Host24 small_integer24(std::int64_t rows, std::int64_t cols, std::uint32_t seed, float lo, float hi) {
  return compress24(small_integers(static_cast<std::size_t>(rows * cols), seed, lo, hi), rows, cols);
}

// S[i, j] = |alpha| * sum over A's stored nonzeros k of |A[i, k] B[k, j]| (B is
// [cols, n], row-major): the scale of a product's rounding error. Zeros are
// skipped, as 0 x NaN in B is not a product A makes.
inline std::vector<double> product_magnitudes(const Host24& a, const std::vector<float>& b, std::int64_t n,
                                              float alpha) {
  std::vector<float> dense(static_cast<std::size_t>(a.rows * a.cols));
  cpu::sparse24_to_dense(dense.data(), a.values.data(), a.meta.data(), a.rows, a.cols);
  std::vector<double> mag(static_cast<std::size_t>(a.rows * n), 0.0);
  for (std::int64_t i = 0; i < a.rows; ++i)
    for (std::int64_t j = 0; j < n; ++j) {
      double s = 0.0;
      for (std::int64_t k = 0; k < a.cols; ++k)
        if (dense[i * a.cols + k] != 0.0f) s += std::fabs(double(dense[i * a.cols + k]) * b[k * n + j]);
      mag[i * n + j] = std::fabs(alpha) * s;
    }
  return mag;
}

}  // namespace dynasparse::test
