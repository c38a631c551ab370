// Dense GEMM: the built-in kernel and the CBLAS path against a double
// precision triple loop, BLAS semantics (beta == 0, alpha == 0, k == 0),
// NaN propagation, strides, argument checks.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <vector>

#include "dynasparse/error.h"
#include "dynasparse/memory.h"
#include "dynasparse/ops/dense.h"
#include "dynasparse/philox.h"

using namespace dynasparse;

namespace {

using Gemm = std::function<void(bool, bool, std::int64_t, std::int64_t, std::int64_t, float, const float*, std::int64_t,
                                 const float*, std::int64_t, float, float*, std::int64_t)>;

const Gemm kBuiltin = [](bool ta, bool tb, std::int64_t m, std::int64_t n, std::int64_t k, float alpha, const float* a,
                         std::int64_t lda, const float* b, std::int64_t ldb, float beta, float* c, std::int64_t ldc) {
  cpu::gemm_builtin(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
};
const Gemm kDispatch = [](bool ta, bool tb, std::int64_t m, std::int64_t n, std::int64_t k, float alpha, const float* a,
                          std::int64_t lda, const float* b, std::int64_t ldb, float beta, float* c, std::int64_t ldc) {
  cpu::gemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
};

std::vector<float> random_values(std::size_t count, std::uint64_t seed) {
  std::vector<float> v(count);
  for (std::size_t i = 0; i < count; ++i) v[i] = rng::normal_at(seed, 0, i, 0.0f, 1.0f);
  return v;
}

struct Problem {
  bool ta, tb;
  std::int64_t m, n, k;
  std::int64_t pad;  // extra columns in every stored matrix (strides > width)
  float alpha, beta;
};

// Runs one problem through `gemm` and checks every element of C against a
// double triple loop with the rigorous bound for any summation order:
// |fl(c) - c| <= gamma_{k+4} * (|alpha| sum_l |a_il b_lj| + |beta c0_ij|),
// gamma_j = j u / (1 - j u), u = 2^-24 (Higham, Accuracy and Stability, 3.5).
// The +4 covers the alpha and beta products and the additions of partial
// sums over K blocks into C (at most 3 blocks here).
void check_problem(const Gemm& gemm, const Problem& pr, std::uint64_t seed) {
  const std::int64_t a_rows = pr.ta ? pr.k : pr.m, a_cols = pr.ta ? pr.m : pr.k;
  const std::int64_t b_rows = pr.tb ? pr.n : pr.k, b_cols = pr.tb ? pr.k : pr.n;
  const std::int64_t lda = a_cols + pr.pad, ldb = b_cols + pr.pad, ldc = pr.n + pr.pad;
  const std::vector<float> a = random_values(static_cast<std::size_t>(a_rows * lda), seed);
  const std::vector<float> b = random_values(static_cast<std::size_t>(b_rows * ldb), seed + 1);
  std::vector<float> c = random_values(static_cast<std::size_t>(pr.m * ldc), seed + 2);
  const std::vector<float> c0 = c;
  gemm(pr.ta, pr.tb, pr.m, pr.n, pr.k, pr.alpha, a.data(), lda, b.data(), ldb, pr.beta, c.data(), ldc);
  const double u = std::ldexp(1.0, -24), gamma = (pr.k + 4) * u / (1 - (pr.k + 4) * u);
  int bad = 0;
  for (std::int64_t i = 0; i < pr.m; ++i) {
    for (std::int64_t j = 0; j < pr.n; ++j) {
      double sum = 0.0, abs_sum = 0.0;
      for (std::int64_t l = 0; l < pr.k; ++l) {
        const double x = pr.ta ? a[l * lda + i] : a[i * lda + l];
        const double y = pr.tb ? b[j * ldb + l] : b[l * ldb + j];
        sum += x * y;
        abs_sum += std::fabs(x * y);
      }
      const double c_old = c0[i * ldc + j];
      const double ref = pr.alpha * sum + (pr.beta == 0.0f ? 0.0 : pr.beta * c_old);
      const double bound = gamma * (std::fabs(pr.alpha) * abs_sum + std::fabs(pr.beta * c_old)) + 1e-30;
      if (!(std::fabs(c[i * ldc + j] - ref) <= bound)) ++bad;
    }
    // Padding columns of C are never written.
    for (std::int64_t j = pr.n; j < ldc; ++j)
      if (c[i * ldc + j] != c0[i * ldc + j]) ++bad;
  }
  CHECK_MESSAGE(bad == 0, "ta=" << pr.ta << " tb=" << pr.tb << " m=" << pr.m << " n=" << pr.n << " k=" << pr.k
                                << " pad=" << pr.pad << " alpha=" << pr.alpha << " beta=" << pr.beta);
}

void check_all_shapes(const Gemm& gemm) {
  // Shapes on both sides of the kernel's tiles (MR 6, NR 8, MC 72, NC 256,
  // KC 256) so full tiles, residues and several K blocks all run.
  const std::int64_t shapes[][3] = {{1, 1, 1}, {1, 7, 3}, {5, 1, 9},   {6, 8, 4},    {7, 9, 5},
                                    {13, 17, 31}, {73, 259, 300}, {150, 40, 513}, {3, 600, 2}};
  std::uint64_t seed = 10;
  for (const auto& s : shapes)
    for (int t = 0; t < 4; ++t) {
      const bool ta = (t & 1) != 0, tb = (t & 2) != 0;
      check_problem(gemm, {ta, tb, s[0], s[1], s[2], 0, 1.0f, 0.0f}, seed++);
      check_problem(gemm, {ta, tb, s[0], s[1], s[2], 3, -0.5f, 2.0f}, seed++);
    }
  check_problem(gemm, {false, false, 20, 30, 40, 0, 2.0f, 1.0f}, seed++);
  check_problem(gemm, {true, true, 20, 30, 40, 5, 1.0f, -1.0f}, seed++);
}

}  // namespace

TEST_CASE("built-in gemm matches a double triple loop for all transposes, alpha/beta, strides and tile residues") {
  check_all_shapes(kBuiltin);
}

TEST_CASE("gemm (CBLAS when built with it) matches a double triple loop") {
  INFO("gemm uses cblas: " << cpu::gemm_uses_cblas());
  check_all_shapes(kDispatch);
}

TEST_CASE("built-in and CBLAS gemm agree within twice the rounding bound") {
  // Both are within gamma * sum |a b| of the exact product (checked above),
  // so they are within twice that of each other; here on a larger problem.
  const std::int64_t m = 97, n = 130, k = 700;
  const std::vector<float> a = random_values(m * k, 1), b = random_values(k * n, 2);
  std::vector<float> c1(m * n), c2(m * n);
  cpu::gemm_builtin(false, true, m, n, k, 1.0f, a.data(), k, b.data(), k, 0.0f, c1.data(), n);
  cpu::gemm(false, true, m, n, k, 1.0f, a.data(), k, b.data(), k, 0.0f, c2.data(), n);
  const double u = std::ldexp(1.0, -24), gamma = (k + 2) * u / (1 - (k + 2) * u);
  int bad = 0;
  for (std::int64_t i = 0; i < m; ++i)
    for (std::int64_t j = 0; j < n; ++j) {
      double abs_sum = 0.0;
      for (std::int64_t l = 0; l < k; ++l) abs_sum += std::fabs(double(a[i * k + l]) * b[j * k + l]);
      if (!(std::fabs(double(c1[i * n + j]) - c2[i * n + j]) <= 2 * gamma * abs_sum)) ++bad;
    }
  CHECK(bad == 0);
}

TEST_CASE("gemm with beta == 0 never reads C, and alpha == 0 or k == 0 never reads A or B") {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  for (const Gemm* gemm : {&kBuiltin, &kDispatch}) {
    const std::int64_t m = 9, n = 11, k = 5;
    std::vector<float> a = random_values(m * k, 3), b = random_values(k * n, 4);
    std::vector<float> c(m * n, nan);
    (*gemm)(false, false, m, n, k, 1.0f, a.data(), k, b.data(), n, 0.0f, c.data(), n);
    for (float x : c) REQUIRE(std::isfinite(x));

    // alpha == 0: C = beta * C, even with NaN in A and B.
    std::vector<float> a_nan(m * k, nan), b_nan(k * n, nan);
    std::vector<float> c2(m * n, 2.0f);
    (*gemm)(false, false, m, n, k, 0.0f, a_nan.data(), k, b_nan.data(), n, 3.0f, c2.data(), n);
    for (float x : c2) CHECK(x == 6.0f);
    // beta == 0 and alpha == 0: zeros, even over NaN.
    std::vector<float> c3(m * n, nan);
    (*gemm)(true, true, m, n, k, 0.0f, a_nan.data(), m, b_nan.data(), k, 0.0f, c3.data(), n);
    for (float x : c3) CHECK(x == 0.0f);
    // k == 0: C = beta * C (A and B may be empty).
    std::vector<float> c4(m * n, 1.5f);
    (*gemm)(false, false, m, n, 0, 1.0f, nullptr, 1, nullptr, n, -2.0f, c4.data(), n);
    for (float x : c4) CHECK(x == -3.0f);
    // m == 0 or n == 0: nothing to do, nothing touched.
    (*gemm)(false, false, 0, n, k, 1.0f, nullptr, k, b.data(), n, 0.0f, nullptr, n);
    (*gemm)(false, false, m, 0, k, 1.0f, a.data(), k, nullptr, 1, 0.0f, nullptr, 1);
  }
}

TEST_CASE("a NaN in A reaches exactly the row of C it feeds") {
  for (const Gemm* gemm : {&kBuiltin, &kDispatch}) {
    const std::int64_t m = 10, n = 20, k = 30;
    std::vector<float> a = random_values(m * k, 5), b = random_values(k * n, 6);
    a[4 * k + 17] = std::numeric_limits<float>::quiet_NaN();
    std::vector<float> c(m * n);
    (*gemm)(false, false, m, n, k, 1.0f, a.data(), k, b.data(), n, 0.0f, c.data(), n);
    for (std::int64_t i = 0; i < m; ++i)
      for (std::int64_t j = 0; j < n; ++j) CHECK(std::isnan(c[i * n + j]) == (i == 4));
  }
}

TEST_CASE("gemm rejects negative sizes and strides narrower than the matrix") {
  std::vector<float> x(64, 1.0f);
  for (const Gemm* gemm : {&kBuiltin, &kDispatch}) {
    CHECK_THROWS_AS((*gemm)(false, false, -1, 2, 2, 1.0f, x.data(), 2, x.data(), 2, 0.0f, x.data(), 2), Error);
    CHECK_THROWS_AS((*gemm)(false, false, 2, 3, 4, 1.0f, x.data(), 3, x.data(), 3, 0.0f, x.data(), 3), Error);  // lda < k
    CHECK_THROWS_AS((*gemm)(false, true, 2, 3, 4, 1.0f, x.data(), 4, x.data(), 3, 0.0f, x.data(), 3), Error);   // ldb < k
    CHECK_THROWS_AS((*gemm)(true, false, 2, 3, 4, 1.0f, x.data(), 2, x.data(), 3, 0.0f, x.data(), 2), Error);   // ldc < n
    try {
      (*gemm)(true, false, 5, 3, 4, 1.0f, x.data(), 4, x.data(), 3, 0.0f, x.data(), 3);  // transA: lda >= m
      FAIL("expected E_ARG");
    } catch (const Error& e) {
      CHECK(e.code() == ErrorCode::Arg);
    }
  }
}

TEST_CASE("the built-in gemm is reproducible and returns all its scratch memory") {
  const std::int64_t m = 100, n = 300, k = 260;
  const std::vector<float> a = random_values(m * k, 7), b = random_values(k * n, 8);
  std::vector<float> c1(m * n), c2(m * n);
  const std::int64_t before = memory_stats(Device::Cpu).bytes_in_use;
  cpu::gemm_builtin(true, false, m, n, k, 1.0f, a.data(), m, b.data(), n, 0.0f, c1.data(), n);
  cpu::gemm_builtin(true, false, m, n, k, 1.0f, a.data(), m, b.data(), n, 0.0f, c2.data(), n);
  CHECK(memory_stats(Device::Cpu).bytes_in_use == before);
  CHECK(c1 == c2);
}
