// Inputs shared by the sparse kernel tests (spmm_test.cpp, spmm24_test.cpp, sddmm_test.cpp):
// patterns with chosen row lengths (empty, short, long, dense rows mixed) and a
// bit comparison that counts any NaN equal to any NaN (a GPU produces the
// canonical NaN where the host keeps an operand's payload).
#pragma once

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <ios>
#include <limits>
#include <numeric>
#include <random>
#include <vector>

#include "compare.h"

namespace dynasparse::test {

// How a product test lays out its dense operands: leading dimensions wider than
// n, and allocations offset from 16-byte alignment (the kernels' scalar paths).
struct Layout {
  std::int64_t ldb_pad = 0, ldc_pad = 0;    // leading dimension = n + pad
  std::int64_t b_offset = 0, c_offset = 0;  // floats into the allocation (0: 16-byte aligned)
};

// The dense operands of a product test, op(A) [m, k] times B [k, n] into C
// [m, n], laid out as `l` (leading dimensions n + pad, allocations offset by
// b_offset / c_offset floats): B random, with the IEEE edge values near its
// start when `edges`; C random when beta != 0, else filled with c_fill (NaN
// garbage by default, which beta = 0 must never read).
struct ProductOperands {
  std::vector<float> b, c;
  std::int64_t m, k, ldb, ldc;
};

inline ProductOperands product_operands(std::int64_t m, std::int64_t k, std::int64_t n, float beta, const Layout& l,
                                        bool edges, float c_fill = std::numeric_limits<float>::quiet_NaN()) {
  ProductOperands x{{}, {}, m, k, n + l.ldb_pad, n + l.ldc_pad};
  x.b = random_floats(static_cast<std::size_t>(l.b_offset + k * x.ldb), 11);
  if (edges) add_edge_values(x.b, static_cast<std::size_t>(l.b_offset) + 2, 7);
  const auto c_size = static_cast<std::size_t>(l.c_offset + m * x.ldc);
  x.c = beta == 0.0f ? std::vector<float>(c_size, c_fill) : random_floats(c_size, 12);
  return x;
}

struct HostCsr {
  std::int64_t rows = 0, cols = 0;
  std::vector<std::int32_t> row_ptr{0}, col_idx;
  std::vector<float> values;
  std::int64_t nnz() const { return static_cast<std::int64_t>(col_idx.size()); }
};

// Row i gets lengths[i] distinct sorted columns in [0, cols), uniformly drawn;
// values uniform in [-2, 2).
inline HostCsr csr_with_lengths(std::int64_t cols, const std::vector<std::int64_t>& lengths, std::uint32_t seed) {
  HostCsr a;
  a.rows = static_cast<std::int64_t>(lengths.size());
  a.cols = cols;
  std::mt19937 gen(seed);
  std::vector<std::int32_t> all(static_cast<std::size_t>(cols));
  std::iota(all.begin(), all.end(), 0);
  for (std::int64_t len : lengths) {
    REQUIRE(len <= cols);
    std::shuffle(all.begin(), all.end(), gen);
    std::vector<std::int32_t> row(all.begin(), all.begin() + len);
    std::sort(row.begin(), row.end());
    a.col_idx.insert(a.col_idx.end(), row.begin(), row.end());
    a.row_ptr.push_back(static_cast<std::int32_t>(a.col_idx.size()));
  }
  a.values = random_floats(a.col_idx.size(), seed + 1);
  return a;
}

// Each row's length uniform in [0, max_len].
inline HostCsr random_csr(std::int64_t rows, std::int64_t cols, std::int64_t max_len, std::uint32_t seed) {
  std::mt19937 gen(seed);
  std::uniform_int_distribution<std::int64_t> len(0, std::min(max_len, cols));
  std::vector<std::int64_t> lengths(static_cast<std::size_t>(rows));
  for (auto& l : lengths) l = len(gen);
  return csr_with_lengths(cols, lengths, seed + 7);
}

// Very long and very short rows interleaved (a dense row, empty rows, single
// entries): what the row swizzle and the entry-split kernels must balance.
inline HostCsr mixed_csr(std::int64_t rows, std::int64_t cols, std::uint32_t seed) {
  std::vector<std::int64_t> lengths(static_cast<std::size_t>(rows));
  for (std::int64_t i = 0; i < rows; ++i) {
    const std::int64_t kind = (i * 7 + seed) % 11;
    lengths[static_cast<std::size_t>(i)] = kind == 0 ? cols : kind == 1 ? cols / 2 : kind < 5 ? 0 : kind < 8 ? 1 : kind - 5;
  }
  return csr_with_lengths(cols, lengths, seed);
}

// Bit for bit, except that any NaN equals any NaN.
inline void require_same_bits_nan(const std::vector<float>& got, const std::vector<float>& want) {
  REQUIRE(got.size() == want.size());
  for (std::size_t i = 0; i < got.size(); ++i) {
    const bool same = (std::isnan(got[i]) && std::isnan(want[i])) || float_bits(got[i]) == float_bits(want[i]);
    if (!same) {
      INFO("element " << i << " of " << got.size() << ": cuda " << got[i] << " (0x" << std::hex << float_bits(got[i])
                      << "), cpu " << want[i] << " (0x" << float_bits(want[i]) << std::dec << ")");
      REQUIRE(same);
    }
  }
}

}  // namespace dynasparse::test
