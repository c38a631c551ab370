// Test matrices with a known singular value decomposition, shared by the CPU
// and CUDA eigensolver tests (eig_test.cpp in test/native and test/native/cuda).
#pragma once

#include <cmath>
#include <cstdint>
#include <vector>

#include "dynasparse/philox.h"

namespace dynasparse::eig_inputs {

using Mat = std::vector<double>;  // row-major

// n x cols with orthonormal columns: Gaussian columns, classical
// Gram–Schmidt applied twice (the test's own, independent of the solver).
Mat random_orthonormal(std::int64_t n, std::int64_t cols, std::uint64_t seed) {
  Mat q(n * cols);
  for (std::int64_t i = 0; i < n * cols; ++i) q[i] = rng::normal_at(seed, 7, i, 0.0f, 1.0f);
  for (std::int64_t j = 0; j < cols; ++j) {
    for (int pass = 0; pass < 2; ++pass) {
      std::vector<double> d(j, 0.0);
      for (std::int64_t i = 0; i < j; ++i)
        for (std::int64_t r = 0; r < n; ++r) d[i] += q[r * cols + i] * q[r * cols + j];
      for (std::int64_t i = 0; i < j; ++i)
        for (std::int64_t r = 0; r < n; ++r) q[r * cols + j] -= d[i] * q[r * cols + i];
    }
    double s = 0.0;
    for (std::int64_t r = 0; r < n; ++r) s += q[r * cols + j] * q[r * cols + j];
    for (std::int64_t r = 0; r < n; ++r) q[r * cols + j] /= std::sqrt(s);
  }
  return q;
}

struct Known {
  std::int64_t n, p;
  std::vector<float> m;       // n x p
  Mat u;                      // n x r, the exact left singular vectors
  std::vector<double> sigma;  // r, descending
  std::vector<float> g, f;    // M's factors, M = g fᵀ: g = U diag(sigma) (n x r), f = W (p x r)
};

Known make_known(std::int64_t n, std::int64_t p, const std::vector<double>& sigma, std::uint64_t seed) {
  const auto r = static_cast<std::int64_t>(sigma.size());
  Known k{n, p, std::vector<float>(n * p), random_orthonormal(n, r, seed), sigma, std::vector<float>(n * r),
          std::vector<float>(p * r)};
  const Mat w = random_orthonormal(p, r, seed + 100);
  for (std::int64_t i = 0; i < n; ++i)
    for (std::int64_t j = 0; j < p; ++j) {
      double s = 0.0;
      for (std::int64_t l = 0; l < r; ++l) s += k.u[i * r + l] * sigma[l] * w[j * r + l];
      k.m[i * p + j] = static_cast<float>(s);
    }
  for (std::int64_t i = 0; i < n; ++i)
    for (std::int64_t l = 0; l < r; ++l) k.g[i * r + l] = static_cast<float>(k.u[i * r + l] * sigma[l]);
  for (std::int64_t j = 0; j < p * r; ++j) k.f[j] = static_cast<float>(w[j]);
  return k;
}

}  // namespace dynasparse::eig_inputs
