// Patterns shared by the CPU and CUDA selection tests (topk_test.cpp in
// test/native and test/native/cuda): a CSR built from a predicate, with values
// (i - j) / 4 so that magnitudes tie in known places.
#pragma once

#include <cstdint>
#include <random>
#include <vector>

namespace dynasparse::topk_inputs {

struct Csr {
  std::int64_t rows = 0, cols = 0;
  std::vector<std::int32_t> row_ptr, col_idx;
  std::vector<float> values;
  std::int64_t nnz() const { return static_cast<std::int64_t>(col_idx.size()); }
};

template <typename Stored>
Csr make_csr(std::int64_t rows, std::int64_t cols, Stored stored) {
  Csr m;
  m.rows = rows;
  m.cols = cols;
  m.row_ptr.push_back(0);
  for (std::int64_t i = 0; i < rows; ++i) {
    for (std::int64_t j = 0; j < cols; ++j)
      if (stored(i, j)) {
        m.col_idx.push_back(static_cast<std::int32_t>(j));
        m.values.push_back(static_cast<float>(i - j) * 0.25f);
      }
    m.row_ptr.push_back(static_cast<std::int32_t>(m.col_idx.size()));
  }
  return m;
}

Csr random_csr(std::int64_t rows, std::int64_t cols, double density, unsigned seed) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<double> u(0, 1);
  return make_csr(rows, cols, [&](std::int64_t, std::int64_t) { return u(gen) < density; });
}

}  // namespace dynasparse::topk_inputs
