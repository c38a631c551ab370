// Helpers shared by the sparse kernel tests: random CSR matrices, float32
// references in the kernels' documented summation orders, bit comparison.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <vector>

namespace sparse_test {

struct Csr {
  std::int64_t rows = 0, cols = 0;
  std::vector<std::int32_t> row_ptr{0}, col_idx;
  std::vector<float> values;
};

inline std::vector<float> random_values(std::size_t n, std::uint32_t seed) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> d(-1.0f, 1.0f);
  std::vector<float> v(n);
  for (auto& x : v) x = d(gen);
  return v;
}

inline Csr random_csr(std::int64_t rows, std::int64_t cols, double density, std::uint32_t seed) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  Csr a;
  a.rows = rows;
  a.cols = cols;
  for (std::int64_t i = 0; i < rows; ++i) {
    for (std::int64_t j = 0; j < cols; ++j) {
      if (u(gen) < density) {
        a.col_idx.push_back(static_cast<std::int32_t>(j));
        a.values.push_back(static_cast<float>(u(gen) * 2 - 1));
      }
    }
    a.row_ptr.push_back(static_cast<std::int32_t>(a.col_idx.size()));
  }
  return a;
}

// The serial reference: C = alpha * A B + beta * C0, summed in stored order from
// +0; `volatile` keeps every product and sum a separately rounded float op.
inline std::vector<float> spmm_reference(const Csr& a, const std::vector<float>& b, std::int64_t n, float alpha, float beta,
                                         const std::vector<float>& c0) {
  std::vector<float> c(static_cast<std::size_t>(a.rows * n));
  for (std::int64_t i = 0; i < a.rows; ++i)
    for (std::int64_t j = 0; j < n; ++j) {
      volatile float acc = 0.0f;
      for (std::int32_t e = a.row_ptr[i]; e < a.row_ptr[i + 1]; ++e) {
        volatile float p = a.values[e] * b[a.col_idx[e] * n + j];
        acc = acc + p;
      }
      volatile float scaled = alpha * acc;
      c[i * n + j] = beta == 0.0f ? scaled : scaled + beta * c0[i * n + j];
    }
  return c;
}

// The transpose by a stable sort of (column, row): the reference for csr_transpose.
inline Csr transpose_reference(const Csr& a, std::vector<std::int32_t>* perm = nullptr) {
  Csr t;
  t.rows = a.cols;
  t.cols = a.rows;
  t.row_ptr.assign(static_cast<std::size_t>(a.cols + 1), 0);
  if (perm) perm->clear();
  for (std::int64_t c = 0; c < a.cols; ++c) {
    for (std::int64_t i = 0; i < a.rows; ++i)
      for (std::int32_t e = a.row_ptr[i]; e < a.row_ptr[i + 1]; ++e)
        if (a.col_idx[e] == c) {
          t.col_idx.push_back(static_cast<std::int32_t>(i));
          t.values.push_back(a.values[e]);
          if (perm) perm->push_back(e);
        }
    t.row_ptr[c + 1] = static_cast<std::int32_t>(t.col_idx.size());
  }
  return t;
}

inline bool same_bits(const std::vector<float>& x, const std::vector<float>& y) {
  return x.size() == y.size() && (x.empty() || std::memcmp(x.data(), y.data(), x.size() * sizeof(float)) == 0);
}

// Same values with NaN equal to NaN (payloads may differ between a reference and a kernel).
inline bool same_values(const std::vector<float>& x, const std::vector<float>& y) {
  if (x.size() != y.size()) return false;
  for (std::size_t i = 0; i < x.size(); ++i) {
    if (std::isnan(x[i]) && std::isnan(y[i])) continue;
    std::uint32_t a, b;
    std::memcpy(&a, &x[i], 4);
    std::memcpy(&b, &y[i], 4);
    if (a != b) return false;
  }
  return true;
}

}  // namespace sparse_test
