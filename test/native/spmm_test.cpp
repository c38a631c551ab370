// spmm kernels (CSR, transposed CSR through perm, 2:4 plain and transposed) and
// the CSR transpose, against serial references in the documented summation
// order: results must match bit for bit (NaN payloads aside).
#include <doctest/doctest.h>

#include <limits>
#include <vector>

#include "dynasparse/ops/csr.h"
#include "dynasparse/ops/sparse24.h"
#include "dynasparse/ops/spmm.h"
#include "sparse_test_util.h"

using namespace dynasparse;
using namespace sparse_test;

namespace {

std::vector<float> run_csr(const Csr& a, const std::vector<float>& b, std::int64_t n, float alpha = 1, float beta = 0,
                           std::vector<float> c = {}) {
  if (c.empty()) c.assign(static_cast<std::size_t>(a.rows * n), std::numeric_limits<float>::quiet_NaN());
  cpu::spmm_csr(c.data(), n, a.row_ptr.data(), a.col_idx.data(), a.values.data(), nullptr, a.rows, a.cols, b.data(), n, n, alpha,
                beta);
  return c;
}

// A^T B through csr_transpose's structure and perm (the path spmm transA takes).
std::vector<float> run_csr_trans(const Csr& a, const std::vector<float>& b, std::int64_t n, float alpha = 1, float beta = 0,
                                 std::vector<float> c = {}) {
  std::vector<std::int32_t> rp(static_cast<std::size_t>(a.cols + 1)), ri(a.col_idx.size()), perm(a.col_idx.size()),
      cursor(static_cast<std::size_t>(a.cols));
  cpu::csr_transpose(rp.data(), ri.data(), perm.data(), cursor.data(), a.row_ptr.data(), a.col_idx.data(), a.rows, a.cols);
  if (c.empty()) c.assign(static_cast<std::size_t>(a.cols * n), 0.0f);
  cpu::spmm_csr(c.data(), n, rp.data(), ri.data(), a.values.data(), perm.data(), a.cols, a.rows, b.data(), n, n, alpha, beta);
  return c;
}

}  // namespace

TEST_CASE("spmm_csr equals the serial same-order reference bit for bit") {
  struct Shape {
    std::int64_t rows, cols, n;
    double density;
  };
  for (const Shape s : {Shape{37, 53, 70, 0.1}, Shape{128, 96, 64, 0.3}, Shape{5, 300, 1, 0.5}, Shape{300, 9, 129, 0.9},
                        Shape{1, 1, 1, 1.0}, Shape{0, 4, 3, 0.5}, Shape{4, 0, 3, 0.5}, Shape{6, 6, 0, 0.5}}) {
    CAPTURE(s.rows);
    CAPTURE(s.cols);
    CAPTURE(s.n);
    const Csr a = random_csr(s.rows, s.cols, s.density, static_cast<std::uint32_t>(s.rows * 31 + s.cols));
    const auto b = random_values(static_cast<std::size_t>(s.cols * s.n), 7);
    CHECK(same_values(run_csr(a, b, s.n), spmm_reference(a, b, s.n, 1, 0, {})));
    const auto bt = random_values(static_cast<std::size_t>(s.rows * s.n), 8);
    CHECK(same_values(run_csr_trans(a, bt, s.n), spmm_reference(transpose_reference(a), bt, s.n, 1, 0, {})));
  }
}

TEST_CASE("spmm_csr alpha/beta: C = alpha A B + beta C - beta = 0 never reads C") {
  const Csr a = random_csr(40, 30, 0.3, 3);
  const auto b = random_values(30 * 70, 4), c0 = random_values(40 * 70, 5);
  CHECK(same_values(run_csr(a, b, 70, -1.5f, 0.25f, c0), spmm_reference(a, b, 70, -1.5f, 0.25f, c0)));
  // run_csr fills C with NaN when none is given: beta = 0 must overwrite it.
  CHECK(same_values(run_csr(a, b, 70, 2.0f, 0.0f), spmm_reference(a, b, 70, 2.0f, 0.0f, {})));
  const auto bt = random_values(40 * 70, 6), c1 = random_values(30 * 70, 7);
  CHECK(same_values(run_csr_trans(a, bt, 70, 0.5f, -2.0f, c1), spmm_reference(transpose_reference(a), bt, 70, 0.5f, -2.0f, c1)));
}

TEST_CASE("spmm_csr propagates NaN and infinity only through stored entries") {
  Csr a;
  a.rows = 2;
  a.cols = 3;
  a.row_ptr = {0, 1, 2};
  a.col_idx = {0, 2};
  a.values = {std::numeric_limits<float>::infinity(), 2.0f};
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const std::vector<float> b = {1, 0, nan, 5, 3, -1};  // B [3, 2]: row 1 (NaN) is never read
  const auto c = run_csr(a, b, 2);
  CHECK(std::isinf(c[0]));
  CHECK(std::isnan(c[1]));  // inf * 0
  CHECK(c[2] == 6.0f);
  CHECK(c[3] == -2.0f);
}

TEST_CASE("spmm_csr reads a strided B and writes a strided C across several column tiles") {
  // Several 64-column tiles take the packed-B path; ldb and ldc wider than n
  // check that packing and storing follow the leading dimensions.
  const Csr a = random_csr(150, 90, 0.2, 21);
  const std::int64_t n = 150, ldb = n + 7, ldc = n + 3;
  const auto dense_b = random_values(static_cast<std::size_t>(a.cols * n), 22);
  std::vector<float> b(static_cast<std::size_t>(a.cols * ldb), std::numeric_limits<float>::quiet_NaN());
  for (std::int64_t r = 0; r < a.cols; ++r)
    for (std::int64_t j = 0; j < n; ++j) b[static_cast<std::size_t>(r * ldb + j)] = dense_b[static_cast<std::size_t>(r * n + j)];
  std::vector<float> c(static_cast<std::size_t>(a.rows * ldc), -1.0f);
  cpu::spmm_csr(c.data(), ldc, a.row_ptr.data(), a.col_idx.data(), a.values.data(), nullptr, a.rows, a.cols, b.data(), ldb, n, 1.0f,
                0.0f);
  const auto ref = spmm_reference(a, dense_b, n, 1, 0, {});
  std::vector<float> packed_c(static_cast<std::size_t>(a.rows * n));
  for (std::int64_t i = 0; i < a.rows; ++i) {
    for (std::int64_t j = 0; j < n; ++j) packed_c[static_cast<std::size_t>(i * n + j)] = c[static_cast<std::size_t>(i * ldc + j)];
    for (std::int64_t j = n; j < ldc; ++j) CHECK(c[static_cast<std::size_t>(i * ldc + j)] == -1.0f);  // padding untouched
  }
  CHECK(same_values(packed_c, ref));
}

TEST_CASE("spmm_csr is deterministic across runs of a multi-threaded size") {
  const Csr a = random_csr(600, 400, 0.1, 9);
  const auto b = random_values(400 * 96, 10);
  const auto first = run_csr(a, b, 96);
  for (int r = 0; r < 3; ++r) CHECK(same_bits(run_csr(a, b, 96), first));
  CHECK(same_values(first, spmm_reference(a, b, 96, 1, 0, {})));
  const auto bt = random_values(600 * 96, 11);
  CHECK(same_bits(run_csr_trans(a, bt, 96), run_csr_trans(a, bt, 96)));
}

TEST_CASE("csr_transpose is a stable counting sort - gather_values re-gathers through perm") {
  const Csr a = random_csr(23, 31, 0.25, 12);
  std::vector<std::int32_t> want_perm;
  const Csr t = transpose_reference(a, &want_perm);
  std::vector<std::int32_t> rp(32), ri(a.col_idx.size()), perm(a.col_idx.size()), cursor(31);
  cpu::csr_transpose(rp.data(), ri.data(), perm.data(), cursor.data(), a.row_ptr.data(), a.col_idx.data(), a.rows, a.cols);
  CHECK(rp == t.row_ptr);
  CHECK(ri == t.col_idx);
  CHECK(perm == want_perm);
  std::vector<float> values(a.col_idx.size());
  cpu::gather_values(values.data(), a.values.data(), perm.data(), static_cast<std::int64_t>(values.size()));
  CHECK(values == t.values);
  CHECK(cpu::csr_validate(t.rows, t.cols, rp.data(), t.rows + 1, ri.data(), static_cast<std::int64_t>(ri.size())).empty());
}

namespace {

// The 2:4 matrix as CSR of its stored entries in group order (the kernels' order).
Csr stored_24(const std::vector<float>& values, const std::vector<std::int32_t>& meta, std::int64_t rows, std::int64_t cols) {
  Csr a;
  a.rows = rows;
  a.cols = cols;
  const std::int64_t words = cpu::sparse24_meta_words(cols);
  for (std::int64_t i = 0; i < rows; ++i) {
    for (std::int64_t g = 0; g < cols / 4; ++g) {
      const std::uint32_t nib = (static_cast<std::uint32_t>(meta[i * words + g / 8]) >> (4 * (g % 8))) & 0xF;
      a.col_idx.push_back(static_cast<std::int32_t>(4 * g + (nib & 3)));
      a.col_idx.push_back(static_cast<std::int32_t>(4 * g + (nib >> 2)));
      a.values.push_back(values[i * (cols / 2) + 2 * g]);
      a.values.push_back(values[i * (cols / 2) + 2 * g + 1]);
    }
    a.row_ptr.push_back(static_cast<std::int32_t>(a.col_idx.size()));
  }
  return a;
}

}  // namespace

TEST_CASE("spmm_24 and spmm_24_trans equal the same-order reference bit for bit") {
  struct Shape {
    std::int64_t rows, cols, n;
  };
  for (const Shape s : {Shape{16, 32, 24}, Shape{33, 64, 70}, Shape{1, 4, 1}, Shape{7, 1032, 3}, Shape{0, 8, 5},
                        Shape{300, 520, 130}}) {  // the last: several row blocks, panels and tiles, each with a residue
    CAPTURE(s.cols);
    const auto dense = random_values(static_cast<std::size_t>(s.rows * s.cols), 21);
    std::vector<float> values(static_cast<std::size_t>(s.rows * s.cols / 2));
    std::vector<std::int32_t> meta(static_cast<std::size_t>(s.rows * cpu::sparse24_meta_words(s.cols)));
    cpu::sparse24_from_dense(values.data(), meta.data(), dense.data(), s.rows, s.cols);
    const Csr ref = stored_24(values, meta, s.rows, s.cols);
    const auto b = random_values(static_cast<std::size_t>(s.cols * s.n), 22);
    std::vector<float> c(static_cast<std::size_t>(s.rows * s.n), std::numeric_limits<float>::quiet_NaN());
    cpu::spmm_24(c.data(), s.n, values.data(), meta.data(), s.rows, s.cols, b.data(), s.n, s.n, 1.0f, 0.0f);
    CHECK(same_values(c, spmm_reference(ref, b, s.n, 1, 0, {})));
    const auto bt = random_values(static_cast<std::size_t>(s.rows * s.n), 23);
    const auto c0 = random_values(static_cast<std::size_t>(s.cols * s.n), 24);
    std::vector<float> ct(static_cast<std::size_t>(s.cols * s.n), std::numeric_limits<float>::quiet_NaN());
    cpu::spmm_24_trans(ct.data(), s.n, values.data(), meta.data(), s.rows, s.cols, bt.data(), s.n, s.n, -0.5f, 0.0f);
    CHECK(same_values(ct, spmm_reference(transpose_reference(ref), bt, s.n, -0.5f, 0, {})));
    std::vector<float> cb = c0;
    cpu::spmm_24_trans(cb.data(), s.n, values.data(), meta.data(), s.rows, s.cols, bt.data(), s.n, s.n, 2.0f, 0.75f);
    CHECK(same_values(cb, spmm_reference(transpose_reference(ref), bt, s.n, 2.0f, 0.75f, c0)));
  }
}
