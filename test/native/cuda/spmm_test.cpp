// cuda::spmm_csr against cpu::spmm_csr. Both sum each output element in the
// row's stored order from +0 without FMA (ops/spmm.h), so the results are
// compared bit for bit (tolerance 0; any NaN matches any NaN, see csr_inputs.h).
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <vector>

#include "compare.h"
#include "csr_inputs.h"
#include "device_array.h"
#include "dynasparse/ops/csr.h"
#include "dynasparse/ops/spmm.h"

using namespace dynasparse;
using test::DeviceArray;
using test::HostCsr;
using test::Layout;

namespace {

const float kNaN = std::numeric_limits<float>::quiet_NaN();

// The transposed structure of a, as csr_transpose makes it (values read through perm).
struct Transposed {
  std::vector<std::int32_t> row_ptr, row_idx, perm;
};

Transposed transpose(const HostCsr& a) {
  Transposed t;
  t.row_ptr.resize(static_cast<std::size_t>(a.cols + 1));
  t.row_idx.resize(a.col_idx.size());
  t.perm.resize(a.col_idx.size());
  std::vector<std::int32_t> cursor(static_cast<std::size_t>(std::max<std::int64_t>(a.cols, 1)));
  cpu::csr_transpose(t.row_ptr.data(), t.row_idx.data(), t.perm.data(), cursor.data(), a.row_ptr.data(), a.col_idx.data(),
                     a.rows, a.cols);
  return t;
}

// C = alpha op(A) B + beta C on both backends, compared bit for bit. With
// `trans`, op(A) = A^T through the transposed structure and perm. c_fill fills C
// (NaN garbage when beta == 0 is the default); B gets the IEEE edge values when
// `edges`.
void check(const HostCsr& a, bool trans, std::int64_t n, float alpha, float beta, const Layout& l = {},
           bool edges = false, float c_fill = kNaN) {
  CAPTURE(a.rows);
  CAPTURE(a.cols);
  CAPTURE(a.nnz());
  CAPTURE(trans);
  CAPTURE(n);
  CAPTURE(alpha);
  CAPTURE(beta);
  CAPTURE(l.ldb_pad);
  CAPTURE(l.b_offset);
  const test::ProductOperands x =
      test::product_operands(trans ? a.cols : a.rows, trans ? a.rows : a.cols, n, beta, l, edges, c_fill);
  const std::int64_t m = x.m, k = x.k, ldb = x.ldb, ldc = x.ldc;
  const std::vector<float>& b = x.b;
  const std::vector<float>& c = x.c;
  const Transposed t = trans ? transpose(a) : Transposed{};
  const std::vector<std::int32_t>& rp = trans ? t.row_ptr : a.row_ptr;
  const std::vector<std::int32_t>& ci = trans ? t.row_idx : a.col_idx;

  std::vector<float> want = c;
  cpu::spmm_csr(want.data() + l.c_offset, ldc, rp.data(), ci.data(), a.values.data(), trans ? t.perm.data() : nullptr, m, k,
                b.data() + l.b_offset, ldb, n, alpha, beta);

  DeviceArray<std::int32_t> d_rp(rp), d_ci(ci), d_perm(t.perm);
  DeviceArray<float> d_va(a.values), d_b(b), d_c(c);
  cuda::spmm_csr(d_c.data() + l.c_offset, ldc, d_rp.data(), d_ci.data(), d_va.data(), trans ? d_perm.data() : nullptr, m, k,
                 d_b.data() + l.b_offset, ldb, n, alpha, beta, test::kernel_stream());
  test::require_same_bits_nan(d_c.to_host(), want);
}

const std::int64_t kWidths[] = {1, 3, 4, 5, 31, 32, 33, 64, 100, 256};

}  // namespace

TEST_CASE("cuda::spmm_csr is bit-identical to cpu::spmm_csr for every width n (subwarp sizes, float4 residues)") {
  const HostCsr a = test::random_csr(37, 50, 12, 1);  // some rows empty
  for (std::int64_t n : kWidths) check(a, false, n, 1.0f, 0.0f);
}

TEST_CASE("cuda::spmm_csr: alpha, beta != 0 accumulates into C and beta == 0 overwrites NaN garbage") {
  const HostCsr a = test::random_csr(21, 30, 9, 2);
  for (std::int64_t n : {5, 64}) {
    check(a, false, n, 1.0f, 0.0f);    // C is NaN garbage: never read
    check(a, false, n, -1.5f, 0.0f);   // -alpha * +0 on empty rows gives -0, as on the CPU
    check(a, false, n, 0.5f, 2.0f);
    check(a, false, n, 2.0f, -1.0f);
    check(a, false, n, 0.0f, 1.0f);
  }
}

TEST_CASE("cuda::spmm_csr: edge structures (empty matrix, empty rows, one entry, a dense row)") {
  // No rows, and rows with no entries (C = alpha * 0 everywhere).
  check(test::csr_with_lengths(8, {}, 3), false, 5, 1.0f, 0.0f);
  check(test::csr_with_lengths(8, {0, 0, 0}, 3), false, 5, 1.0f, 0.0f);
  check(test::csr_with_lengths(8, {0, 0, 0}, 3), false, 33, 1.0f, 0.5f);
  // No columns at all (k = 0), n = 0.
  check(test::csr_with_lengths(0, {0, 0}, 3), false, 4, 1.0f, 0.0f);
  check(test::csr_with_lengths(8, {2, 1}, 3), false, 0, 1.0f, 0.0f);
  // One stored entry; a fully dense row among empty ones.
  for (std::int64_t n : {1, 5, 64}) {
    check(test::csr_with_lengths(9, {0, 1, 0}, 4), false, n, 1.0f, 0.0f);
    check(test::csr_with_lengths(70, {0, 70, 0, 3}, 5), false, n, 1.0f, 0.0f);
  }
}

TEST_CASE("cuda::spmm_csr: very long and very short rows mixed (row swizzle, staging in chunks)") {
  const HostCsr a = test::mixed_csr(300, 90, 6);
  for (std::int64_t n : {1, 3, 33, 100}) check(a, false, n, 1.0f, 0.0f);
  check(a, false, 64, -0.75f, 1.25f);
}

TEST_CASE("cuda::spmm_csr: the transposed product through perm (A^T B on the transposed structure)") {
  const HostCsr a = test::random_csr(40, 27, 10, 7);
  for (std::int64_t n : {1, 4, 5, 33, 64}) check(a, true, n, 1.0f, 0.0f);
  check(a, true, 32, 0.5f, -2.0f);
  check(test::mixed_csr(120, 45, 8), true, 31, 1.0f, 0.0f);
}

TEST_CASE("cuda::spmm_csr: NaN and infinities in B propagate exactly where A stores an entry") {
  const HostCsr a = test::random_csr(25, 40, 8, 9);
  for (std::int64_t n : {3, 4, 64, 100}) {
    check(a, false, n, 1.0f, 0.0f, {}, true);
    check(a, true, n, 1.0f, 0.0f, {}, true);
  }
}

TEST_CASE("cuda::spmm_csr: misaligned B and C, leading dimensions past n (scalar paths)") {
  const HostCsr a = test::random_csr(19, 23, 7, 10);
  for (std::int64_t n : {1, 5, 32, 33, 100}) {
    check(a, false, n, 1.0f, 0.0f, {1, 3, 0, 0});   // ldb, ldc not multiples of 4
    check(a, false, n, 1.0f, 0.0f, {4, 4, 1, 0});   // B 4 bytes off the 16-byte alignment
    check(a, false, n, 1.0f, 0.5f, {0, 0, 0, 2});   // C off alignment, B vectorized
    check(a, false, n, 2.0f, 0.0f, {0, 4, 0, 0}, true);
  }
}

TEST_CASE("cuda::spmm_csr_row_order sorts rows by length class and spmm_csr_ordered takes any row order") {
  const HostCsr a = test::mixed_csr(257, 64, 11);
  DeviceArray<std::int32_t> d_rp(a.row_ptr), order(static_cast<std::size_t>(a.rows));
  cuda::spmm_csr_row_order(order.data(), d_rp.data(), a.rows, test::kernel_stream());
  const std::vector<std::int32_t> got = order.to_host();
  std::vector<std::int32_t> sorted = got;
  std::sort(sorted.begin(), sorted.end());
  for (std::int64_t i = 0; i < a.rows; ++i) REQUIRE(sorted[static_cast<std::size_t>(i)] == i);  // a permutation
  auto length = [&](std::int32_t r) { return a.row_ptr[r + 1] - a.row_ptr[r]; };
  auto log2_class = [](std::int32_t len) { return len == 0 ? -1 : 31 - __builtin_clz(static_cast<unsigned>(len)); };
  for (std::size_t i = 1; i < got.size(); ++i) REQUIRE(log2_class(length(got[i - 1])) >= log2_class(length(got[i])));

  // The same product with the computed order, the identity (null) and a reversed order.
  const std::int64_t n = 9;
  const std::vector<float> b = test::random_floats(static_cast<std::size_t>(a.cols * n), 13);
  std::vector<float> want(static_cast<std::size_t>(a.rows * n));
  cpu::spmm_csr(want.data(), n, a.row_ptr.data(), a.col_idx.data(), a.values.data(), nullptr, a.rows, a.cols, b.data(), n, n,
                1.0f, 0.0f);
  std::vector<std::int32_t> reversed(static_cast<std::size_t>(a.rows));
  for (std::int64_t i = 0; i < a.rows; ++i) reversed[static_cast<std::size_t>(i)] = static_cast<std::int32_t>(a.rows - 1 - i);
  DeviceArray<std::int32_t> d_ci(a.col_idx), d_rev(reversed);
  DeviceArray<float> d_va(a.values), d_b(b);
  for (const std::int32_t* ord : {static_cast<const std::int32_t*>(order.data()), static_cast<const std::int32_t*>(nullptr),
                                  static_cast<const std::int32_t*>(d_rev.data())}) {
    DeviceArray<float> d_c(want.size());
    cuda::spmm_csr_ordered(d_c.data(), n, d_rp.data(), d_ci.data(), d_va.data(), nullptr, ord, a.rows, a.cols, d_b.data(), n,
                           n, 1.0f, 0.0f, nullptr);
    test::require_same_bits_nan(d_c.to_host(), want);
  }
}
