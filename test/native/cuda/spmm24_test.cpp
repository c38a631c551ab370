// The 2:4 products on CUDA against the CPU backend:
//  - cuda::spmm_24 / spmm_24_trans (fp32) bit for bit (any NaN matches any NaN):
//    the same summation order without FMA (ops/spmm.h);
//  - cuda::spmm_24_bf16 (tensor-core copy, bf16 inputs, fp32 accumulation)
//    within a stated tolerance, bit for bit where bf16 and fp32 are exact
//    (small integers), and, on a GPU, the tensor cores against their portable
//    twin (the emulation runs the twin for both paths).
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "compare.h"
#include "csr_inputs.h"
#include "device_array.h"
#include "dynasparse/bf16.h"
#include "dynasparse/ops/sparse24.h"
#include "test/native/error_code.h"
#include "dynasparse/ops/spmm.h"
#include "sparse24_inputs.h"

using namespace dynasparse;
using test::DeviceArray;
using test::Host24;
using test::Layout;

namespace {

using Case = test::ProductOperands;

Case inputs(const Host24& a, bool trans, std::int64_t n, float beta, const Layout& l, bool edges) {
  return test::product_operands(trans ? a.cols : a.rows, trans ? a.rows : a.cols, n, beta, l, edges);
}

// fp32: C = alpha op(A) B + beta C on both backends, bit for bit.
void check(const Host24& a, bool trans, std::int64_t n, float alpha, float beta, const Layout& l = {},
           bool edges = false) {
  CAPTURE(a.rows);
  CAPTURE(a.cols);
  CAPTURE(trans);
  CAPTURE(n);
  CAPTURE(alpha);
  CAPTURE(beta);
  CAPTURE(l.ldb_pad);
  CAPTURE(l.b_offset);
  CAPTURE(l.c_offset);
  CAPTURE(edges);
  const Case x = inputs(a, trans, n, beta, l, edges);
  std::vector<float> want = x.c;
  float* wc = want.data() + l.c_offset;
  const float* hb = x.b.data() + l.b_offset;
  if (trans)
    cpu::spmm_24_trans(wc, x.ldc, a.values.data(), a.meta.data(), a.rows, a.cols, hb, x.ldb, n, alpha, beta);
  else
    cpu::spmm_24(wc, x.ldc, a.values.data(), a.meta.data(), a.rows, a.cols, hb, x.ldb, n, alpha, beta);
  DeviceArray<float> d_va(a.values), d_b(x.b), d_c(x.c);
  DeviceArray<std::int32_t> d_meta(a.meta);
  float* dc = d_c.data() + l.c_offset;
  const float* db = d_b.data() + l.b_offset;
  if (trans)
    cuda::spmm_24_trans(dc, x.ldc, d_va.data(), d_meta.data(), a.rows, a.cols, db, x.ldb, n, alpha, beta,
                        test::kernel_stream());
  else
    cuda::spmm_24(dc, x.ldc, d_va.data(), d_meta.data(), a.rows, a.cols, db, x.ldb, n, alpha, beta,
                  test::kernel_stream());
  test::require_same_bits_nan(d_c.to_host(), want);
}

const std::int64_t kWidths[] = {1, 3, 4, 5, 33, 64, 100};

}  // namespace

TEST_CASE("cuda::spmm_24 and spmm_24_trans are bit-identical to the CPU for every width n") {
  for (auto [rows, cols] : std::vector<std::pair<std::int64_t, std::int64_t>>{{37, 36}, {1, 8}, {6, 4}}) {
    const Host24 a = test::random24(rows, cols, 1);
    for (std::int64_t n : kWidths) {
      check(a, false, n, 1.0f, 0.0f);
      check(a, true, n, 1.0f, 0.0f);
    }
  }
}

TEST_CASE("cuda::spmm_24: edge shapes (no rows, one row, one group, k = 0, n = 0)") {
  for (bool trans : {false, true}) {
    check(test::random24(0, 8, 2), trans, 5, 1.0f, 0.0f);   // no rows: A^T B is alpha * 0
    check(test::random24(0, 8, 2), trans, 5, 1.0f, 0.5f);
    check(test::random24(1, 4, 2), trans, 33, 1.0f, 0.0f);
    check(test::random24(3, 0, 2), trans, 4, -1.0f, 0.0f);  // no columns: A B is alpha * 0 (here -0)
    check(test::random24(5, 36, 2), trans, 0, 1.0f, 0.0f);
  }
}

TEST_CASE("cuda::spmm_24: alpha, beta != 0 accumulates into C and beta == 0 overwrites NaN garbage") {
  const Host24 a = test::random24(21, 36, 3);
  for (bool trans : {false, true})
    for (std::int64_t n : {5, 64}) {
      check(a, trans, n, 1.0f, 0.0f);
      check(a, trans, n, -1.5f, 0.0f);
      check(a, trans, n, 0.5f, 2.0f);
      check(a, trans, n, 2.0f, -1.0f);
      check(a, trans, n, 0.0f, 1.0f);
    }
}

TEST_CASE("cuda::spmm_24: NaN and infinities in A and B propagate exactly as on the CPU") {
  const Host24 a = test::random24(25, 68, 4, true);  // NaN/inf kept in A's values
  for (bool trans : {false, true})
    for (std::int64_t n : {3, 4, 64, 100}) check(a, trans, n, 1.0f, 0.0f, {}, true);
}

TEST_CASE("cuda::spmm_24: misaligned B and C, leading dimensions past n (scalar paths)") {
  const Host24 a = test::random24(19, 36, 5);
  for (bool trans : {false, true})
    for (std::int64_t n : {1, 5, 32, 33}) {
      check(a, trans, n, 1.0f, 0.0f, {1, 3, 0, 0});
      check(a, trans, n, 1.0f, 0.0f, {4, 4, 1, 0});
      check(a, trans, n, 1.0f, 0.5f, {0, 0, 0, 2});
    }
}

// --- the tensor-core product ------------------------------------------------------

namespace {

struct Mma {
  DeviceArray<std::uint32_t> values, meta;
  Mma(const Host24& a, DeviceArray<float>& d_values, DeviceArray<std::int32_t>& d_meta)
      : values(static_cast<std::size_t>(sparse24_mma_shape(a.rows, a.cols).value_words())),
        meta(static_cast<std::size_t>(sparse24_mma_shape(a.rows, a.cols).meta_words())) {
    cuda::sparse24_mma_meta(meta.data(), d_meta.data(), a.rows, a.cols, test::kernel_stream());
    cuda::sparse24_mma_values(values.data(), d_values.data(), a.rows, a.cols, test::kernel_stream());
  }
};

// Runs spmm_24_bf16 on `path` and returns C (ldc = n).
std::vector<float> run_bf16(const Host24& a, const Case& x, std::int64_t n, float alpha, float beta,
                            cuda::MmaPath path) {
  DeviceArray<float> d_va(a.values), d_b(x.b), d_c(x.c);
  DeviceArray<std::int32_t> d_meta(a.meta);
  Mma mma(a, d_va, d_meta);
  cuda::spmm_24_bf16(d_c.data(), n, mma.values.data(), mma.meta.data(), a.rows, a.cols, d_b.data(), n, n, alpha, beta,
                     test::kernel_stream(), path);
  return d_c.to_host();
}

// |C_bf16 - C_fp32| <= 2^-7 S + (cols + 4) 2^-22 (S + |beta C|), S = sum |alpha A B|:
// bf16 rounds A and B by at most 2^-9 relative each (2^-8 per product, doubled
// for slack), and both sides accumulate in fp32 in their own order.
void check_bf16(const Host24& a, std::int64_t n, float alpha, float beta, bool edges = false) {
  CAPTURE(a.rows);
  CAPTURE(a.cols);
  CAPTURE(n);
  CAPTURE(alpha);
  CAPTURE(beta);
  const Case x = inputs(a, false, n, beta, {}, edges);
  std::vector<float> want = x.c;
  cpu::spmm_24(want.data(), n, a.values.data(), a.meta.data(), a.rows, a.cols, x.b.data(), n, n, alpha, beta);
  const std::vector<double> mag = test::product_magnitudes(a, x.b, n, alpha);
  auto tolerance = [&](std::size_t i) {
    const double old = beta == 0.0f ? 0.0 : std::fabs(double(beta) * x.c[i]);
    return std::ldexp(mag[i], -7) + double(a.cols + 4) * std::ldexp(mag[i] + old, -22) + 1e-30;
  };
  const std::vector<float> got = run_bf16(a, x, n, alpha, beta, cuda::MmaPath::TensorCores);
  test::require_close(got, want, tolerance);
  if (!test::kEmulated) {
    // The tensor cores against their portable twin: the same bf16 inputs, so
    // only the accumulation order and the hardware's fp32 adds differ.
    const std::vector<float> twin = run_bf16(a, x, n, alpha, beta, cuda::MmaPath::Portable);
    test::require_close(got, twin, [&](std::size_t i) { return double(a.cols + 4) * std::ldexp(mag[i], -20) + 1e-30; });
  }
}

// A and B small integers: bf16 and every fp32 sum are exact, so the bf16 path
// must give the CPU's bits (any layout mistake moves a product to the wrong place).
void check_exact(std::int64_t rows, std::int64_t cols, std::int64_t n, std::uint32_t seed) {
  CAPTURE(rows);
  CAPTURE(cols);
  CAPTURE(n);
  const Host24 a = test::small_integer24(rows, cols, seed, -8.0f, 8.0f);
  Case x = inputs(a, false, n, 0.0f, {}, false);
  for (float& v : x.b) v = std::trunc(v * 4.0f);
  std::vector<float> want = x.c;
  cpu::spmm_24(want.data(), n, a.values.data(), a.meta.data(), rows, cols, x.b.data(), n, n, 1.0f, 0.0f);
  for (cuda::MmaPath path : {cuda::MmaPath::TensorCores, cuda::MmaPath::Portable})
    test::require_same_bits(run_bf16(a, x, n, 1.0f, 0.0f, path), want);
}

}  // namespace

TEST_CASE("cuda::spmm_24_bf16 is exact on small integers (the fragment and metadata layouts)") {
  check_exact(16, 32, 8, 1);    // one instruction's shape
  check_exact(16, 64, 8, 2);    // both sparsity selectors
  check_exact(37, 100, 33, 3);  // padded rows, k tiles, n tiles
  check_exact(70, 36, 130, 4);  // two block rows, two block columns
}

TEST_CASE("cuda::spmm_24_bf16 stays within the bf16 tolerance of cpu::spmm_24") {
  check_bf16(test::random24(1, 4, 7), 1, 1.0f, 0.0f);
  check_bf16(test::random24(20, 68, 8), 5, 1.0f, 0.0f);
  check_bf16(test::random24(33, 132, 9), 64, -0.5f, 0.0f);
  check_bf16(test::random24(17, 36, 10), 33, 2.0f, 0.5f);
  check_bf16(test::random24(5, 8, 11), 100, 1.0f, 0.0f, true);  // NaN / inf in B
  check_bf16(test::random24(3, 0, 12), 4, 1.0f, 0.0f);          // k = 0
}

TEST_CASE("cuda::spmm_24_bf16 refuses a tensor-core copy that is not 16-byte aligned (its lanes read uint4)") {
  const Host24 a = test::random24(16, 32, 13);
  DeviceArray<float> d_va(a.values), d_b(std::vector<float>(32 * 8, 1.0f)), d_c(std::vector<float>(16 * 8, 0.0f));
  DeviceArray<std::int32_t> d_meta(a.meta);
  Mma mma(a, d_va, d_meta);
  for (cuda::MmaPath path : {cuda::MmaPath::TensorCores, cuda::MmaPath::Portable})
    CHECK(test::code_of([&] {
            cuda::spmm_24_bf16(d_c.data(), 8, mma.values.data() + 1, mma.meta.data(), a.rows, a.cols, d_b.data(), 8, 8,
                               1.0f, 0.0f, test::kernel_stream(), path);
          }) == ErrorCode::Arg);
}
