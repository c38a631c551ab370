// 2:4 inputs shared by the CUDA 2:4 tests (sparse24_test.cpp, spmm24_test.cpp):
// dense matrices with ties, zeros, and the IEEE edge values, compressed by the
// CPU backend.
#pragma once

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

}  // namespace dynasparse::test
