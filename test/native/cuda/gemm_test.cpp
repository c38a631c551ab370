// cuda::gemm (the hand-written tiled SGEMM) against a double-precision
// reference and cpu::gemm. The kernel accumulates with FMAs in k order and the
// CPU (OpenBLAS or the built-in kernel) in its own order, so the results are
// not bit-identical; each is within the standard bound of a k-term dot product,
//   |c - exact| <= gamma * (|alpha| * sum_l |a_il b_lj| + |beta c_ij|),
// gamma = (k + 2) * 2^-24 (k roundings of the sum, alpha, beta). The
// special cases that do no arithmetic on A and B (beta == 0 ignoring C,
// alpha == 0, k == 0) are compared bit for bit.
#include <doctest/doctest.h>

#include <array>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "compare.h"
#include "device_array.h"
#include "dynasparse/ops/dense.h"

using namespace dynasparse;
using test::DeviceArray;

namespace {

constexpr Stream kStream = nullptr;

struct Problem {
  bool ta, tb;
  std::int64_t m, n, k, lda, ldb, ldc;
  float alpha, beta;
  std::vector<float> A, B, C;
};

// Stored A is m x k (k x m when transposed) with row stride lda = its columns
// + pad; likewise B and C.
Problem make_problem(bool ta, bool tb, std::int64_t m, std::int64_t n, std::int64_t k, float alpha, float beta,
                     std::int64_t pad) {
  Problem p{ta, tb, m, n, k, 0, 0, 0, alpha, beta, {}, {}, {}};
  const std::int64_t a_rows = ta ? k : m, a_cols = ta ? m : k;
  const std::int64_t b_rows = tb ? n : k, b_cols = tb ? k : n;
  p.lda = std::max<std::int64_t>(1, a_cols) + pad;
  p.ldb = std::max<std::int64_t>(1, b_cols) + pad;
  p.ldc = std::max<std::int64_t>(1, n) + pad;
  p.A = test::random_floats(static_cast<std::size_t>(a_rows * p.lda), 41);
  p.B = test::random_floats(static_cast<std::size_t>(b_rows * p.ldb), 42);
  p.C = test::random_floats(static_cast<std::size_t>(m * p.ldc), 43);
  return p;
}

float a_at(const Problem& p, std::int64_t i, std::int64_t l) { return p.ta ? p.A[l * p.lda + i] : p.A[i * p.lda + l]; }
float b_at(const Problem& p, std::int64_t l, std::int64_t j) { return p.tb ? p.B[j * p.ldb + l] : p.B[l * p.ldb + j]; }

std::vector<float> run_cuda(const Problem& p) {
  DeviceArray<float> A(p.A), B(p.B), C(p.C);
  cuda::gemm(p.ta, p.tb, p.m, p.n, p.k, p.alpha, A.data(), p.lda, B.data(), p.ldb, p.beta, C.data(), p.ldc, kStream);
  // The inputs are left alone.
  test::require_same_bits(A.to_host(), p.A);
  test::require_same_bits(B.to_host(), p.B);
  return C.to_host();
}

std::vector<float> run_cpu(const Problem& p) {
  std::vector<float> C = p.C;
  cpu::gemm(p.ta, p.tb, p.m, p.n, p.k, p.alpha, p.A.data(), p.lda, p.B.data(), p.ldb, p.beta, C.data(), p.ldc);
  return C;
}

// Checks `got` (a full C with its padding) against the double reference and
// the error bound; the padding columns of C must be untouched.
void check_bound(const Problem& p, const std::vector<float>& got, const char* who) {
  CAPTURE(who);
  REQUIRE(got.size() == p.C.size());
  const double gamma = static_cast<double>(p.k + 2) * std::ldexp(1.0, -24);
  for (std::int64_t i = 0; i < p.m; ++i) {
    for (std::int64_t j = 0; j < p.ldc; ++j) {
      const std::size_t at = static_cast<std::size_t>(i * p.ldc + j);
      if (j >= p.n) {
        REQUIRE(test::float_bits(got[at]) == test::float_bits(p.C[at]));
        continue;
      }
      double exact = 0, magnitude = 0;
      for (std::int64_t l = 0; l < p.k; ++l) {
        const double prod = static_cast<double>(a_at(p, i, l)) * b_at(p, l, j);
        exact += prod;
        magnitude += std::fabs(prod);
      }
      exact *= p.alpha;
      magnitude *= std::fabs(p.alpha);
      if (p.beta != 0.0f) {
        exact += static_cast<double>(p.beta) * p.C[at];
        magnitude += std::fabs(static_cast<double>(p.beta) * p.C[at]);
      }
      const double bound = gamma * magnitude + std::numeric_limits<float>::denorm_min();
      if (!(std::fabs(got[at] - exact) <= bound)) {
        INFO("C[" << i << ", " << j << "] = " << got[at] << ", exact " << exact << ", bound " << bound);
        REQUIRE(std::fabs(got[at] - exact) <= bound);
      }
    }
  }
}

}  // namespace

TEST_CASE("cuda::gemm is within the dot-product error bound, like cpu::gemm (transposes, tile residues, strides)") {
  struct Size {
    std::int64_t m, n, k;
  };
  // Tiles are 64 x 64 with 16 values of k per slice: exact tiles, residues of
  // each, thin shapes and vectors.
  const Size sizes[] = {{1, 1, 1}, {3, 5, 7}, {64, 64, 16}, {65, 63, 17}, {130, 70, 33}, {1, 200, 40}, {200, 1, 5},
                        {17, 129, 64}};
  const std::array<std::array<float, 2>, 3> scalars{{{1.0f, 0.0f}, {0.5f, 2.0f}, {-1.5f, 1.0f}}};
  int round = 0;
  for (const Size& s : sizes) {
    for (int t = 0; t < 4; ++t, ++round) {
      {
        // Each (size, transposes) pair takes the next (alpha, beta): every
        // pair of scalars meets every transpose combination over the sizes.
        const auto& ab = scalars[static_cast<std::size_t>(round % 3)];
        const bool ta = (t & 1) != 0, tb = (t & 2) != 0;
        CAPTURE(s.m);
        CAPTURE(s.n);
        CAPTURE(s.k);
        CAPTURE(ta);
        CAPTURE(tb);
        CAPTURE(ab[0]);
        CAPTURE(ab[1]);
        const Problem p = make_problem(ta, tb, s.m, s.n, s.k, ab[0], ab[1], (s.m + s.n) % 3);
        check_bound(p, run_cuda(p), "cuda");
        check_bound(p, run_cpu(p), "cpu");
      }
    }
  }
}

TEST_CASE("cuda::gemm with beta == 0 never reads C (NaN in C does not leak)") {
  Problem p = make_problem(false, true, 67, 33, 20, 1.25f, 0.0f, 1);
  for (float& c : p.C) c = std::numeric_limits<float>::quiet_NaN();
  const std::vector<float> got = run_cuda(p);
  for (std::int64_t i = 0; i < p.m; ++i)
    for (std::int64_t j = 0; j < p.n; ++j) REQUIRE(!std::isnan(got[static_cast<std::size_t>(i * p.ldc + j)]));
  check_bound(p, got, "cuda");
}

TEST_CASE("cuda::gemm with alpha == 0 or k == 0 is beta * C, bit for bit with cpu::gemm") {
  for (float beta : {0.0f, 1.0f, -0.75f}) {
    CAPTURE(beta);
    Problem zero_alpha = make_problem(true, false, 70, 65, 9, 0.0f, beta, 2);
    zero_alpha.A[0] = std::numeric_limits<float>::quiet_NaN();  // A and B are not read
    test::require_same_bits(run_cuda(zero_alpha), run_cpu(zero_alpha));
    const Problem zero_k = make_problem(false, false, 70, 65, 0, 2.0f, beta, 0);
    test::require_same_bits(run_cuda(zero_k), run_cpu(zero_k));
  }
  const Problem empty = make_problem(false, false, 0, 5, 3, 1.0f, 0.0f, 0);
  CHECK(run_cuda(empty).empty());
}

TEST_CASE("cuda::gemm propagates NaN and infinity from A and B like cpu::gemm") {
  Problem p = make_problem(false, false, 40, 50, 30, 1.0f, 0.0f, 0);
  p.A[static_cast<std::size_t>(3 * p.lda + 7)] = std::numeric_limits<float>::quiet_NaN();  // row 3 of C
  p.B[static_cast<std::size_t>(11 * p.ldb + 20)] = std::numeric_limits<float>::infinity();  // column 20 of C
  const std::vector<float> got = run_cuda(p), want = run_cpu(p);
  for (std::size_t i = 0; i < got.size(); ++i) {
    CAPTURE(i);
    CHECK(std::isnan(got[i]) == std::isnan(want[i]));
    if (std::isinf(want[i])) CHECK(got[i] == want[i]);
  }
  CHECK(std::isnan(got[static_cast<std::size_t>(3 * p.ldc + 0)]));
}

TEST_CASE("cuda::gemm refuses invalid sizes and strides like cpu::gemm") {
  CHECK_THROWS(cuda::gemm(false, false, -1, 2, 2, 1.0f, nullptr, 2, nullptr, 2, 0.0f, nullptr, 2, kStream));
  CHECK_THROWS(cuda::gemm(false, false, 2, 2, 3, 1.0f, nullptr, 2, nullptr, 2, 0.0f, nullptr, 2, kStream));  // lda < k
  CHECK_THROWS(cuda::gemm(false, true, 2, 4, 3, 1.0f, nullptr, 3, nullptr, 2, 0.0f, nullptr, 4, kStream));   // ldb < k
  CHECK_THROWS(cuda::gemm(false, false, 2, 4, 3, 1.0f, nullptr, 3, nullptr, 4, 0.0f, nullptr, 3, kStream));  // ldc < n
}
