// cuda::sddmm_trans_b and cuda::sddmm against their cpu:: twins. Both follow
// the summation orders of ops/sddmm.h without FMA, so the results are compared
// bit for bit (tolerance 0; any NaN matches any NaN, see csr_inputs.h).
#include <doctest/doctest.h>

#include <cstdint>
#include <vector>

#include "compare.h"
#include "csr_inputs.h"
#include "device_array.h"
#include "dynasparse/ops/sddmm.h"

using namespace dynasparse;
using test::DeviceArray;
using test::HostCsr;

namespace {

// out[e] for the pattern p with A [rows, k] and B ([cols, k] when trans_b, else
// [k, cols]), on both backends. pad: extra floats per row of A and B (leading
// dimensions past k, or past cols); offset: floats into the allocation.
void check(const HostCsr& p, bool trans_b, std::int64_t k, std::int64_t pad = 0, std::int64_t offset = 0,
           bool edges = false) {
  CAPTURE(p.rows);
  CAPTURE(p.cols);
  CAPTURE(p.nnz());
  CAPTURE(trans_b);
  CAPTURE(k);
  CAPTURE(pad);
  CAPTURE(offset);
  const std::int64_t lda = k + pad, ldb = (trans_b ? k : p.cols) + pad, b_rows = trans_b ? p.cols : k;
  std::vector<float> a = test::random_floats(static_cast<std::size_t>(offset + p.rows * lda), 21);
  std::vector<float> b = test::random_floats(static_cast<std::size_t>(offset + b_rows * ldb), 22);
  if (edges) {
    test::add_edge_values(a, static_cast<std::size_t>(offset) + 5, 13);
    test::add_edge_values(b, static_cast<std::size_t>(offset) + 1, 9);
  }
  std::vector<float> want(static_cast<std::size_t>(p.nnz()));
  if (trans_b)
    cpu::sddmm_trans_b(want.data(), p.row_ptr.data(), p.col_idx.data(), p.rows, a.data() + offset, lda, b.data() + offset, ldb, k);
  else
    cpu::sddmm(want.data(), p.row_ptr.data(), p.col_idx.data(), p.rows, p.cols, a.data() + offset, lda, b.data() + offset, ldb,
               k);

  DeviceArray<std::int32_t> d_rp(p.row_ptr), d_ci(p.col_idx);
  DeviceArray<float> d_a(a), d_b(b), d_out(want.size());
  if (trans_b)
    cuda::sddmm_trans_b(d_out.data(), d_rp.data(), d_ci.data(), p.rows, d_a.data() + offset, lda, d_b.data() + offset, ldb, k,
                        p.nnz(), nullptr);
  else
    cuda::sddmm(d_out.data(), d_rp.data(), d_ci.data(), p.rows, p.cols, d_a.data() + offset, lda, d_b.data() + offset, ldb, k,
                p.nnz(), test::kernel_stream());  // it takes scratch memory (bᵀ)
  test::require_same_bits_nan(d_out.to_host(), want);
}

const std::int64_t kDepths[] = {0, 1, 3, 4, 5, 31, 32, 33, 64, 100, 257};

}  // namespace

TEST_CASE("cuda::sddmm_trans_b is bit-identical to cpu::sddmm_trans_b for every k (lane order, float4 residues)") {
  const HostCsr p = test::random_csr(23, 31, 9, 1);
  for (std::int64_t k : kDepths) check(p, true, k);
}

TEST_CASE("cuda::sddmm is bit-identical to cpu::sddmm for every k") {
  const HostCsr p = test::random_csr(23, 31, 9, 2);
  for (std::int64_t k : kDepths) check(p, false, k);
}

TEST_CASE("cuda::sddmm_trans_b and cuda::sddmm: edge patterns (empty, empty rows, one entry, a dense row)") {
  for (bool trans_b : {true, false}) {
    check(test::csr_with_lengths(5, {}, 3), trans_b, 8);
    check(test::csr_with_lengths(5, {0, 0, 0, 0}, 3), trans_b, 8);
    for (std::int64_t k : {1, 33, 64}) {
      check(test::csr_with_lengths(9, {0, 0, 1, 0, 0}, 4), trans_b, k);
      check(test::csr_with_lengths(70, {0, 70, 0, 2}, 5), trans_b, k);
    }
  }
}

TEST_CASE("cuda::sddmm_trans_b and cuda::sddmm: very long and very short rows mixed, many empty rows") {
  for (bool trans_b : {true, false}) {
    check(test::mixed_csr(150, 80, 6), trans_b, 37);
    // Long runs of empty rows between entries: the row search must skip them.
    std::vector<std::int64_t> lengths(400, 0);
    lengths[3] = 2, lengths[200] = 40, lengths[201] = 1, lengths[399] = 5;
    check(test::csr_with_lengths(40, lengths, 7), trans_b, 20);
  }
}

TEST_CASE("cuda::sddmm_trans_b and cuda::sddmm: NaN and infinities, misaligned operands, padded leading dimensions") {
  const HostCsr p = test::random_csr(17, 26, 8, 8);
  for (bool trans_b : {true, false}) {
    for (std::int64_t k : {5, 32, 64, 100}) {
      check(p, trans_b, k, 0, 0, true);
      check(p, trans_b, k, 3, 0);  // leading dimensions not multiples of 4
      check(p, trans_b, k, 4, 1);  // 4 bytes off the 16-byte alignment
      check(p, trans_b, k, 4, 0);  // padded, vectorized
    }
  }
}
