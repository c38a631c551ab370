// cuda:: CSR conversions against their cpu:: twins: integer results (row
// pointers, column indices, counts) and copied or Philox-generated values, so
// everything is compared bit for bit.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <utility>
#include <vector>

#include "compare.h"
#include "device_array.h"
#include "dynasparse/ops/csr.h"

using namespace dynasparse;
using test::DeviceArray;

namespace {

constexpr Stream kStream = nullptr;

struct Pattern {
  std::vector<std::int32_t> row_ptr, col_idx;
  std::vector<float> values;
};

// A random pattern from the CPU kernels (per row, or a total that leaves some
// rows empty), with values that include the edge values.
Pattern random_pattern(std::int64_t rows, std::int64_t cols, bool per_row, std::uint64_t seed) {
  Pattern p;
  p.row_ptr.resize(static_cast<std::size_t>(rows + 1));
  const std::int64_t nnz = per_row ? rows * std::min<std::int64_t>(cols, 5) : (rows * cols) / 7;
  p.col_idx.resize(static_cast<std::size_t>(nnz));
  if (per_row) cpu::csr_random_rows(p.row_ptr.data(), p.col_idx.data(), rows, cols, std::min<std::int64_t>(cols, 5), seed);
  else cpu::csr_random_total(p.row_ptr.data(), p.col_idx.data(), rows, cols, nnz, seed);
  p.values = test::random_floats(static_cast<std::size_t>(nnz), static_cast<std::uint32_t>(seed));
  test::add_edge_values(p.values);
  return p;
}

const std::vector<std::pair<std::int64_t, std::int64_t>>& shapes() {
  static const std::vector<std::pair<std::int64_t, std::int64_t>> s{{1, 1}, {1, 40}, {40, 1}, {37, 300}, {300, 5},
                                                                    {1025, 9}, {3, 1000}};
  return s;
}

}  // namespace

TEST_CASE("cuda::csr_to_dense is bit-identical to cpu::csr_to_dense") {
  for (auto [rows, cols] : shapes()) {
    for (bool per_row : {true, false}) {
      CAPTURE(rows);
      CAPTURE(cols);
      CAPTURE(per_row);
      const Pattern p = random_pattern(rows, cols, per_row, 3);
      DeviceArray<std::int32_t> rp(p.row_ptr), ci(p.col_idx);
      DeviceArray<float> va(p.values), dense(static_cast<std::size_t>(rows * cols));
      cuda::csr_to_dense(dense.data(), rp.data(), ci.data(), va.data(), rows, cols, kStream);
      std::vector<float> want(static_cast<std::size_t>(rows * cols));
      cpu::csr_to_dense(want.data(), p.row_ptr.data(), p.col_idx.data(), p.values.data(), rows, cols);
      test::require_same_bits(dense.to_host(), want);
    }
  }
}

namespace {

// Dense -> CSR on both backends (both passes) and a bit-for-bit comparison.
void check_from_dense(const std::vector<float>& dense, const std::vector<float>* mask, std::int64_t rows,
                      std::int64_t cols, float threshold) {
  const float* host_mask = mask != nullptr ? mask->data() : nullptr;
  std::vector<std::int32_t> want_rp(static_cast<std::size_t>(rows + 1));
  const std::int64_t want_nnz = cpu::csr_row_ptr_from_dense(want_rp.data(), dense.data(), host_mask, rows, cols, threshold);
  std::vector<std::int32_t> want_ci(static_cast<std::size_t>(want_nnz));
  std::vector<float> want_va(static_cast<std::size_t>(want_nnz));
  cpu::csr_fill_from_dense(want_ci.data(), want_va.data(), want_rp.data(), dense.data(), host_mask, rows, cols, threshold);

  DeviceArray<float> d_dense(dense);
  DeviceArray<float> d_mask(mask != nullptr ? *mask : std::vector<float>{});
  DeviceArray<std::int32_t> rp(static_cast<std::size_t>(rows + 1));
  DeviceArray<std::int64_t> nnz(1);
  const float* dev_mask = mask != nullptr ? d_mask.data() : nullptr;
  cuda::csr_row_ptr_from_dense(rp.data(), nnz.data(), d_dense.data(), dev_mask, rows, cols, threshold,
                               test::kernel_stream());
  REQUIRE(nnz.to_host()[0] == want_nnz);
  test::require_equal(rp.to_host(), want_rp);
  DeviceArray<std::int32_t> ci(static_cast<std::size_t>(want_nnz));
  DeviceArray<float> va(static_cast<std::size_t>(want_nnz));
  cuda::csr_fill_from_dense(ci.data(), va.data(), rp.data(), d_dense.data(), dev_mask, rows, cols, threshold,
                            test::kernel_stream());
  test::require_equal(ci.to_host(), want_ci);
  test::require_same_bits(va.to_host(), want_va);
}

}  // namespace

TEST_CASE("cuda dense -> CSR (count, device scan, fill) is bit-identical to the cpu twin") {
  std::vector<std::pair<std::int64_t, std::int64_t>> all = shapes();
  // Scan tiles are 1024 rows: one tile exactly, a residue, several tiles.
  all.insert(all.end(), {{1024, 3}, {1023, 2}, {2100, 4}, {5000, 1}, {4, 0}, {0, 5}, {2, 257}});
  for (auto [rows, cols] : all) {
    CAPTURE(rows);
    CAPTURE(cols);
    std::vector<float> dense = test::random_floats(static_cast<std::size_t>(rows * cols), 17, -1.0f, 1.0f);
    for (std::size_t i = 0; i < dense.size(); i += 3) dense[i] = 0.0f;  // exact zeros
    test::add_edge_values(dense, 1, 13);                                 // NaN is kept, -0 is not
    std::vector<float> mask = test::random_floats(dense.size(), 18, -1.0f, 1.0f);
    for (float& m : mask) m = m > 0.3f ? 1.0f : 0.0f;
    SUBCASE("threshold 0") { check_from_dense(dense, nullptr, rows, cols, 0.0f); }
    SUBCASE("threshold 0.5") { check_from_dense(dense, nullptr, rows, cols, 0.5f); }
    SUBCASE("mask") { check_from_dense(dense, &mask, rows, cols, 0.0f); }
  }
}

#if !defined(DYNASPARSE_SIMT_EMULATION)
// More than 256 scan tiles (262144 rows) takes the carry across chunks of the
// tile-offset scan. Too many blocks for the emulation's time budget; the logic
// is the same block scan the smaller cases run, repeated with a carry.
TEST_CASE("cuda dense -> CSR over more than 256 scan tiles (GPU only)") {
  const std::int64_t rows = 300000, cols = 3;
  std::vector<float> dense = test::random_floats(static_cast<std::size_t>(rows * cols), 19, -1.0f, 1.0f);
  for (std::size_t i = 0; i < dense.size(); i += 2) dense[i] = 0.0f;
  check_from_dense(dense, nullptr, rows, cols, 0.0f);
}
#endif

TEST_CASE("cuda::csr_kaiming_values is bit-identical to cpu::csr_kaiming_values (sparse and dense fan-in)") {
  for (auto [rows, cols] : shapes()) {
    for (bool per_row : {true, false}) {
      for (bool sparse_fan_in : {true, false}) {
        CAPTURE(rows);
        CAPTURE(cols);
        CAPTURE(per_row);
        CAPTURE(sparse_fan_in);
        const Pattern p = random_pattern(rows, cols, per_row, 5);
        DeviceArray<std::int32_t> rp(p.row_ptr);
        DeviceArray<float> va(p.values.size());
        cuda::csr_kaiming_values(va.data(), rp.data(), rows, cols, sparse_fan_in, 77, kStream);
        std::vector<float> want(p.values.size());
        cpu::csr_kaiming_values(want.data(), p.row_ptr.data(), rows, cols, sparse_fan_in, 77);
        test::require_same_bits(va.to_host(), want);
      }
    }
  }
}

TEST_CASE("cuda::csr_transpose is bit-identical to cpu::csr_transpose, and gather_values re-gathers through perm") {
  std::vector<std::pair<std::int64_t, std::int64_t>> all = shapes();
  all.push_back({0, 7});   // no rows: every transposed row empty
  all.push_back({7, 0});   // no columns: row_ptr_t is {0}
  all.push_back({200, 3});  // few columns: many entries per transposed row, chunks of several rows
  for (auto [rows, cols] : all) {
    for (bool per_row : {true, false}) {
      CAPTURE(rows);
      CAPTURE(cols);
      CAPTURE(per_row);
      const Pattern p = random_pattern(rows, cols, per_row, 5);
      const std::int64_t nnz = static_cast<std::int64_t>(p.col_idx.size());
      std::vector<std::int32_t> want_rp(static_cast<std::size_t>(cols + 1)), want_ri(p.col_idx.size()), want_perm(p.col_idx.size()),
          cursor(static_cast<std::size_t>(cols));
      cpu::csr_transpose(want_rp.data(), want_ri.data(), want_perm.data(), cursor.data(), p.row_ptr.data(), p.col_idx.data(), rows,
                         cols);
      DeviceArray<std::int32_t> rp(p.row_ptr), ci(p.col_idx), rp_t(static_cast<std::size_t>(cols + 1)),
          ri(p.col_idx.size()), perm(p.col_idx.size());
      cuda::csr_transpose(rp_t.data(), ri.data(), perm.data(), rp.data(), ci.data(), rows, cols, nnz,
                          test::kernel_stream());  // it takes scratch memory
      CHECK(rp_t.to_host() == want_rp);
      CHECK(ri.to_host() == want_ri);
      CHECK(perm.to_host() == want_perm);

      DeviceArray<float> va(p.values), gathered(p.values.size());
      cuda::gather_values(gathered.data(), va.data(), perm.data(), nnz, kStream);
      std::vector<float> want_va(p.values.size());
      cpu::gather_values(want_va.data(), p.values.data(), want_perm.data(), nnz);
      test::require_same_bits(gathered.to_host(), want_va);
    }
  }
}
