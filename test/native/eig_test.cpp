// The top-k eigensolver of M Mᵀ against exact answers: M is built as
// U diag(sigma) Wᵀ from random orthonormal U, W, so the eigenvectors of M Mᵀ
// (the columns of U) and eigenvalues (sigma^2) are known by construction,
// including exactly and nearly repeated values. Subspaces are compared with
// projectors, since vectors inside a repeated eigenvalue are not unique.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "dynasparse/error.h"
#include "dynasparse/memory.h"
#include "dynasparse/ops/eig.h"
#include "test/native/eig_inputs.h"
#include "dynasparse/philox.h"

using namespace dynasparse;

namespace {

using eig_inputs::Known;
using eig_inputs::make_known;
using eig_inputs::Mat;
using eig_inputs::random_orthonormal;

struct Solved {
  std::vector<float> vectors, eigenvalues, residuals;
  cpu::TopEigenResult result;
};

Solved solve(const std::vector<float>& m, std::int64_t n, std::int64_t p, std::int64_t k, cpu::TopEigenOptions opt) {
  Solved s{std::vector<float>(n * k), std::vector<float>(k), std::vector<float>(k), {}};
  s.result = cpu::top_gram_eigenvectors(m.data(), n, p, k, opt, s.vectors.data(), s.eigenvalues.data(), s.residuals.data());
  return s;
}

// Column j of the solver's output as a unit double vector.
std::vector<double> unit_column(const Solved& s, std::int64_t n, std::int64_t k, std::int64_t j) {
  std::vector<double> v(n);
  double norm = 0.0;
  for (std::int64_t r = 0; r < n; ++r) norm += double(s.vectors[r * k + j]) * s.vectors[r * k + j];
  for (std::int64_t r = 0; r < n; ++r) v[r] = s.vectors[r * k + j] / std::sqrt(norm);
  return v;
}

// ||(I - U_c U_cᵀ) V||_F for the first c columns of u (n x r) and the solver's
// columns [j0, j1): how far those vectors leave the exact invariant subspace.
double outside(const Solved& s, std::int64_t n, std::int64_t k, std::int64_t j0, std::int64_t j1, const Mat& u,
               std::int64_t r, std::int64_t c) {
  double total = 0.0;
  for (std::int64_t j = j0; j < j1; ++j) {
    std::vector<double> v = unit_column(s, n, k, j);
    for (std::int64_t l = 0; l < c; ++l) {
      double d = 0.0;
      for (std::int64_t i = 0; i < n; ++i) d += u[i * r + l] * v[i];
      for (std::int64_t i = 0; i < n; ++i) v[i] -= d * u[i * r + l];
    }
    for (double x : v) total += x * x;
  }
  return std::sqrt(total);
}

// ||P_ours - P_exact||_F for equal dimensions k: sqrt(2) ||(I - P_exact) V||_F.
double projector_distance(const Solved& s, std::int64_t n, std::int64_t k, const Mat& u, std::int64_t r) {
  return std::sqrt(2.0) * outside(s, n, k, 0, k, u, r, k);
}

// Davis–Kahan (sin Θ theorem): ||P - P_exact||_F <= sqrt(2) ||R||_F / gap,
// with ||R||_F <= sqrt(k) * tol * λmax from the per-vector residual test.
// The products are float32, and M itself is rounded to float32, which moves
// A = M Mᵀ by a few 1e-7 λmax; 1e-5 λmax covers that with a wide margin. The
// gap seen by the Ritz values may be smaller than the exact one by the same
// amounts, hence the factor 2.
double subspace_bound(std::int64_t k, double tol, double lambda_max, double gap) {
  return 2.0 * std::sqrt(2.0) * (std::sqrt(double(k)) * tol + 1e-5) * lambda_max / gap;
}

// Every column: largest |component| positive, first such index on ties.
void check_signs(const Solved& s, std::int64_t n, std::int64_t k) {
  for (std::int64_t j = 0; j < k; ++j) {
    std::int64_t arg = 0;
    for (std::int64_t r = 1; r < n; ++r)
      if (std::fabs(s.vectors[r * k + j]) > std::fabs(s.vectors[arg * k + j])) arg = r;
    CHECK(s.vectors[arg * k + j] > 0.0f);
  }
}

// VᵀV = scale² I to float rounding (1e-5 relative: n <= 60 float products).
void check_orthonormal(const Solved& s, std::int64_t n, std::int64_t k, double scale) {
  for (std::int64_t i = 0; i < k; ++i)
    for (std::int64_t j = 0; j < k; ++j) {
      double d = 0.0;
      for (std::int64_t r = 0; r < n; ++r) d += double(s.vectors[r * k + i]) * s.vectors[r * k + j];
      CHECK(std::fabs(d / (scale * scale) - (i == j ? 1.0 : 0.0)) <= 1e-5);
    }
}

// The residuals recomputed in double from the returned float vectors:
// ||M Mᵀ v - λ v|| / λmax, to compare with what the solver reported.
std::vector<double> recomputed_residuals(const Solved& s, const std::vector<float>& m, std::int64_t n, std::int64_t p,
                                         std::int64_t k, double lambda_max) {
  std::vector<double> out(k);
  for (std::int64_t j = 0; j < k; ++j) {
    const std::vector<double> v = unit_column(s, n, k, j);
    std::vector<double> w(p, 0.0);
    for (std::int64_t i = 0; i < n; ++i)
      for (std::int64_t c = 0; c < p; ++c) w[c] += double(m[i * p + c]) * v[i];
    double sum = 0.0;
    for (std::int64_t i = 0; i < n; ++i) {
      double av = 0.0;
      for (std::int64_t c = 0; c < p; ++c) av += double(m[i * p + c]) * w[c];
      sum += (av - s.eigenvalues[j] * v[i]) * (av - s.eigenvalues[j] * v[i]);
    }
    out[j] = lambda_max > 0 ? std::sqrt(sum) / lambda_max : std::sqrt(sum);
  }
  return out;
}

cpu::TopEigenOptions tight() {
  cpu::TopEigenOptions o;
  o.tol = 1e-5;
  o.max_iter = 3000;
  o.seed = 42;
  return o;
}

}  // namespace

TEST_CASE("jacobi_eigen diagonalizes symmetric matrices, sorted descending, ties in index order") {
  const std::int64_t b = 12;
  Mat a(b * b), a0, values(b), vectors(b * b);
  for (std::int64_t i = 0; i < b; ++i)
    for (std::int64_t j = 0; j <= i; ++j) a[i * b + j] = a[j * b + i] = rng::normal_at(3, 0, i * b + j, 0.0f, 1.0f);
  a0 = a;
  const int sweeps = cpu::jacobi_eigen(a.data(), b, values.data(), vectors.data());
  CHECK(sweeps < 20);  // quadratic convergence: a handful of sweeps
  for (std::int64_t j = 0; j + 1 < b; ++j) CHECK(values[j] >= values[j + 1]);
  // A V = V Λ and VᵀV = I to a few double roundings of ||A|| (~5).
  for (std::int64_t i = 0; i < b; ++i)
    for (std::int64_t j = 0; j < b; ++j) {
      double av = 0.0, vtv = 0.0;
      for (std::int64_t l = 0; l < b; ++l) av += a0[i * b + l] * vectors[l * b + j];
      for (std::int64_t l = 0; l < b; ++l) vtv += vectors[l * b + i] * vectors[l * b + j];
      CHECK(std::fabs(av - values[j] * vectors[i * b + j]) <= 1e-12);
      CHECK(std::fabs(vtv - (i == j ? 1.0 : 0.0)) <= 1e-13);
    }
  // Trace is preserved.
  double trace = 0.0, sum = 0.0;
  for (std::int64_t i = 0; i < b; ++i) trace += a0[i * b + i], sum += values[i];
  CHECK(std::fabs(trace - sum) <= 1e-12);

  // Ties: diag(1, 3, 3, 2) -> 3 (e1), 3 (e2), 2 (e3), 1 (e0).
  Mat d = {1, 0, 0, 0, 0, 3, 0, 0, 0, 0, 3, 0, 0, 0, 0, 2}, dv(4), dvec(16);
  CHECK(cpu::jacobi_eigen(d.data(), 4, dv.data(), dvec.data()) == 0);
  CHECK(dv == std::vector<double>{3, 3, 2, 1});
  const int expected_axis[4] = {1, 2, 3, 0};
  for (int j = 0; j < 4; ++j)
    for (int r = 0; r < 4; ++r) CHECK(dvec[r * 4 + j] == (r == expected_axis[j] ? 1.0 : 0.0));

  // 2 x 2 with a known answer: [[2, 1], [1, 2]] -> 3, 1.
  Mat t = {2, 1, 1, 2}, tv(2), tvec(4);
  cpu::jacobi_eigen(t.data(), 2, tv.data(), tvec.data());
  CHECK(tv[0] == doctest::Approx(3.0).epsilon(1e-15));
  CHECK(tv[1] == doctest::Approx(1.0).epsilon(1e-15));
  CHECK(std::fabs(std::fabs(tvec[0]) - std::sqrt(0.5)) <= 1e-15);
}

TEST_CASE("top-k eigenvectors of M Mᵀ match the exact ones for distinct singular values") {
  std::vector<double> sigma;
  for (int i = 0; i < 12; ++i) sigma.push_back(10.0 * std::pow(0.8, i));
  const Known kn = make_known(40, 30, sigma, 1);
  const std::int64_t k = 4;
  const Solved s = solve(kn.m, kn.n, kn.p, k, tight());
  CHECK(s.result.converged);
  const double lmax = sigma[0] * sigma[0], gap = sigma[3] * sigma[3] - sigma[4] * sigma[4];
  CHECK(projector_distance(s, kn.n, k, kn.u, 12) <= subspace_bound(k, 1e-5, lmax, gap));
  // Distinct values: each vector is unique up to sign, which the convention
  // fixes; compare each with ±u_j (|cos| within the same bound).
  for (std::int64_t j = 0; j < k; ++j) {
    // Eigenvalue error <= residual norm (Weyl) + float effects.
    CHECK(std::fabs(s.eigenvalues[j] - sigma[j] * sigma[j]) <= (1e-5 + 1e-5) * lmax);
    CHECK(s.residuals[j] <= 1e-5);
  }
  // The reported residuals are the real ones (to float rounding of the vectors).
  const std::vector<double> again = recomputed_residuals(s, kn.m, kn.n, kn.p, k, lmax);
  for (std::int64_t j = 0; j < k; ++j) CHECK(std::fabs(again[j] - s.residuals[j]) <= 2e-6);
  double max_res = 0.0;
  for (float r : s.residuals) max_res = std::max(max_res, double(r));
  CHECK(s.result.max_residual == doctest::Approx(max_res).epsilon(1e-6));
  check_signs(s, kn.n, k);
  check_orthonormal(s, kn.n, k, 1.0);
}

TEST_CASE("an exactly repeated singular value: the top-k subspace and vectors inside the cluster") {
  const std::vector<double> sigma = {3, 3, 3, 1, 0.5, 0.3};
  const Known kn = make_known(25, 20, sigma, 2);
  const double lmax = 9.0, gap = 9.0 - 1.0;
  // k = 3: the whole cluster, a unique subspace.
  const Solved s3 = solve(kn.m, kn.n, kn.p, 3, tight());
  CHECK(s3.result.converged);
  CHECK(projector_distance(s3, kn.n, 3, kn.u, 6) <= subspace_bound(3, 1e-5, lmax, gap));
  for (float e : s3.eigenvalues) CHECK(std::fabs(e - 9.0) <= 2e-5 * lmax);
  check_signs(s3, kn.n, 3);
  check_orthonormal(s3, kn.n, 3, 1.0);
  // k = 2 inside the cluster: any 2 orthonormal vectors of the cluster are
  // right; they must lie in it (distance to the 3-dim exact subspace).
  const Solved s2 = solve(kn.m, kn.n, kn.p, 2, tight());
  CHECK(s2.result.converged);
  CHECK(outside(s2, kn.n, 2, 0, 2, kn.u, 6, 3) <= subspace_bound(2, 1e-5, lmax, gap));
  for (float e : s2.eigenvalues) CHECK(std::fabs(e - 9.0) <= 2e-5 * lmax);
  check_orthonormal(s2, kn.n, 2, 1.0);
}

TEST_CASE("nearly repeated singular values: the subspace is right although single vectors are ill-conditioned") {
  const std::vector<double> sigma = {2.0, 2.0 * (1 - 1e-4), 2.0 * (1 - 2e-4), 1.0, 0.9, 0.5, 0.1};
  const Known kn = make_known(30, 35, sigma, 3);
  const double lmax = 4.0, gap = sigma[2] * sigma[2] - 1.0;
  const Solved s = solve(kn.m, kn.n, kn.p, 3, tight());
  CHECK(s.result.converged);
  CHECK(projector_distance(s, kn.n, 3, kn.u, 7) <= subspace_bound(3, 1e-5, lmax, gap));
  for (std::int64_t j = 0; j < 3; ++j) CHECK(std::fabs(s.eigenvalues[j] - sigma[j] * sigma[j]) <= 2e-5 * lmax);
  // With k = 5 the gap is between 0.81 and 0.25.
  const Solved s5 = solve(kn.m, kn.n, kn.p, 5, tight());
  CHECK(projector_distance(s5, kn.n, 5, kn.u, 7) <= subspace_bound(5, 1e-5, lmax, 0.81 - 0.25));
  check_signs(s5, kn.n, 5);
}

TEST_CASE("a rank-deficient M: the range is found and the remaining vectors are orthonormal null vectors") {
  const std::vector<double> sigma = {4.0, 2.0};
  const Known kn = make_known(20, 15, sigma, 4);
  const std::int64_t k = 5;
  const Solved s = solve(kn.m, kn.n, kn.p, k, tight());
  CHECK(s.result.converged);
  const double lmax = 16.0;
  // The first two span the range (gap 4 - 0).
  CHECK(outside(s, kn.n, k, 0, 2, kn.u, 2, 2) * std::sqrt(2.0) <= subspace_bound(2, 1e-5, lmax, 4.0));
  CHECK(s.eigenvalues[0] == doctest::Approx(16.0).epsilon(2e-5));
  CHECK(s.eigenvalues[1] == doctest::Approx(4.0).epsilon(1e-4));
  for (std::int64_t j = 2; j < k; ++j) CHECK(s.eigenvalues[j] <= 1e-5 * lmax);
  check_orthonormal(s, kn.n, k, 1.0);
  check_signs(s, kn.n, k);
}

TEST_CASE("M = 0: zero eigenvalues, zero residuals, an orthonormal basis after one iteration") {
  const std::vector<float> m(7 * 5, 0.0f);
  const Solved s = solve(m, 7, 5, 3, tight());
  CHECK(s.result.converged);
  CHECK(s.result.iterations == 1);
  for (std::int64_t j = 0; j < 3; ++j) {
    CHECK(s.eigenvalues[j] == 0.0f);
    CHECK(s.residuals[j] == 0.0f);
  }
  check_orthonormal(s, 7, 3, 1.0);
  check_signs(s, 7, 3);
}

TEST_CASE("k = min(n, p), a single row, and the scale option") {
  {  // k = p < n: the block is the whole space.
    const std::vector<double> sigma = {5, 4, 3, 2, 1, 0.5};
    const Known kn = make_known(9, 6, sigma, 5);
    const Solved s = solve(kn.m, 9, 6, 6, tight());
    CHECK(s.result.converged);
    CHECK(projector_distance(s, 9, 6, kn.u, 6) <= subspace_bound(6, 1e-5, 25.0, 0.25));
    for (std::int64_t j = 0; j < 6; ++j) CHECK(std::fabs(s.eigenvalues[j] - sigma[j] * sigma[j]) <= 2e-5 * 25.0);
  }
  {  // k = n < p, with scale 3.
    const std::vector<double> sigma = {5, 4, 3, 2, 1, 0.5};
    const Known kn = make_known(6, 9, sigma, 6);
    cpu::TopEigenOptions o = tight();
    o.scale = 3.0;
    const Solved s = solve(kn.m, 6, 9, 6, o);
    check_orthonormal(s, 6, 6, 3.0);
    check_signs(s, 6, 6);
    for (std::int64_t j = 0; j < 6; ++j) CHECK(std::fabs(s.eigenvalues[j] - sigma[j] * sigma[j]) <= 2e-5 * 25.0);
  }
  {  // 1 x p: the only vector is [scale], the eigenvalue ||m||^2.
    const std::vector<float> m = {1.0f, -2.0f, 2.0f};
    cpu::TopEigenOptions o = tight();
    o.scale = 0.5;
    const Solved s = solve(m, 1, 3, 1, o);
    CHECK(s.vectors[0] == 0.5f);
    CHECK(s.eigenvalues[0] == doctest::Approx(9.0).epsilon(1e-6));
  }
}

TEST_CASE("the eigensolver is deterministic, and other seeds find the same subspace") {
  std::vector<double> sigma;
  for (int i = 0; i < 10; ++i) sigma.push_back(5.0 / (1 + i));
  const Known kn = make_known(32, 24, sigma, 7);
  const Solved a = solve(kn.m, kn.n, kn.p, 3, tight()), b = solve(kn.m, kn.n, kn.p, 3, tight());
  CHECK(std::memcmp(a.vectors.data(), b.vectors.data(), a.vectors.size() * sizeof(float)) == 0);
  CHECK(std::memcmp(a.eigenvalues.data(), b.eigenvalues.data(), 3 * sizeof(float)) == 0);
  CHECK(a.result.iterations == b.result.iterations);
  cpu::TopEigenOptions other = tight();
  other.seed = 12345;
  const Solved c = solve(kn.m, kn.n, kn.p, 3, other);
  const double gap = sigma[2] * sigma[2] - sigma[3] * sigma[3];
  CHECK(projector_distance(c, kn.n, 3, kn.u, 10) <= subspace_bound(3, 1e-5, 25.0, gap));
}

TEST_CASE("the iteration cap stops the solver and reports the residuals it reached") {
  std::vector<double> sigma;
  for (int i = 0; i < 12; ++i) sigma.push_back(1.0 - 0.01 * i);  // tiny gaps: slow convergence
  const Known kn = make_known(40, 40, sigma, 8);
  cpu::TopEigenOptions o = tight();
  o.tol = 1e-9;
  o.max_iter = 2;
  const Solved s = solve(kn.m, kn.n, kn.p, 4, o);
  CHECK_FALSE(s.result.converged);
  CHECK(s.result.iterations == 2);
  CHECK(s.result.max_residual > 1e-9);
  const std::vector<double> again = recomputed_residuals(s, kn.m, kn.n, kn.p, 4, 1.0);
  for (std::int64_t j = 0; j < 4; ++j) CHECK(std::fabs(again[j] - s.residuals[j]) <= 2e-6 + 1e-3 * again[j]);
}

TEST_CASE("the eigensolver rejects bad arguments and non-finite input, and frees its scratch") {
  const std::vector<float> m(4 * 3, 1.0f);
  std::vector<float> v(12), e(4), r(4);
  const std::int64_t before = memory_stats(Device::Cpu).bytes_in_use;
  auto expect_arg = [&](std::int64_t k, cpu::TopEigenOptions o, const std::vector<float>& input) {
    try {
      cpu::top_gram_eigenvectors(input.data(), 4, 3, k, o, v.data(), e.data(), r.data());
      FAIL("expected E_ARG");
    } catch (const Error& err) {
      CHECK(err.code() == ErrorCode::Arg);
    }
  };
  cpu::TopEigenOptions ok;
  expect_arg(0, ok, m);
  expect_arg(4, ok, m);  // k > min(4, 3)
  cpu::TopEigenOptions o = ok;
  o.tol = 0.0;
  expect_arg(1, o, m);
  o.tol = 1.0;
  expect_arg(1, o, m);
  o = ok;
  o.max_iter = 0;
  expect_arg(1, o, m);
  o = ok;
  o.scale = 0.0;
  expect_arg(1, o, m);
  o.scale = std::numeric_limits<double>::infinity();
  expect_arg(1, o, m);
  std::vector<float> bad = m;
  bad[5] = std::numeric_limits<float>::quiet_NaN();
  expect_arg(1, ok, bad);
  CHECK_THROWS_AS(cpu::top_gram_eigenvectors(m.data(), 0, 3, 1, ok, v.data(), e.data(), r.data()), Error);
  // A successful run returns every scratch byte.
  cpu::top_gram_eigenvectors(m.data(), 4, 3, 2, ok, v.data(), e.data(), r.data());
  CHECK(memory_stats(Device::Cpu).bytes_in_use == before);
}

namespace {

Solved solve_factored(const Known& kn, std::int64_t k, cpu::TopEigenOptions opt, float alpha = 1.0f) {
  const auto r = static_cast<std::int64_t>(kn.sigma.size());
  Solved s{std::vector<float>(kn.n * k), std::vector<float>(k), std::vector<float>(k), {}};
  cpu::GramFactors f;
  f.g = kn.g.data();
  f.f = kn.f.data();
  f.r = r;
  f.alpha = alpha;
  s.result = cpu::top_gram_eigenvectors(f, kn.n, kn.p, k, opt, s.vectors.data(), s.eigenvalues.data(), s.residuals.data());
  return s;
}

}  // namespace

TEST_CASE("M given by its factors: the exact answers, and those of M formed, within the tolerance") {
  struct Case {
    std::vector<double> sigma;
    std::int64_t k;
  };
  const Case cases[] = {{{10, 8, 6.4, 5.1, 4.1, 3.3, 2.6}, 4},   // distinct
                        {{3, 3, 3, 1, 0.5, 0.3}, 3},             // a repeated value: the cluster's subspace
                        {{2, 1.5}, 4}};                          // rank 2 < k: two null vectors
  for (const Case& c : cases) {
    CAPTURE(c.k);
    const Known kn = make_known(36, 28, c.sigma, 5);
    const auto rank = static_cast<std::int64_t>(c.sigma.size());
    const Solved s = solve_factored(kn, c.k, tight());
    const Solved formed = solve(kn.m, kn.n, kn.p, c.k, tight());
    CHECK(s.result.converged);
    const double lmax = c.sigma[0] * c.sigma[0];
    for (std::int64_t j = 0; j < c.k; ++j) {
      const double exact = j < rank ? c.sigma[j] * c.sigma[j] : 0.0;
      CHECK(std::fabs(s.eigenvalues[j] - exact) <= 2e-5 * lmax);
      CHECK(std::fabs(s.eigenvalues[j] - formed.eigenvalues[j]) <= 4e-5 * lmax);
      CHECK(s.residuals[j] <= 1e-5);
    }
    // The subspace of the values above the first gap is the exact one.
    std::int64_t top = 1;
    while (top < std::min(c.k, rank) && c.sigma[top] == c.sigma[0]) ++top;
    const double gap = lmax - (top < rank ? c.sigma[top] * c.sigma[top] : 0.0);
    CHECK(std::sqrt(2.0) * outside(s, kn.n, c.k, 0, top, kn.u, rank, top) <= subspace_bound(top, 1e-5, lmax, gap));
    check_signs(s, kn.n, c.k);
    check_orthonormal(s, kn.n, c.k, 1.0);
  }
}

TEST_CASE("M given by its factors: alpha scales M, so the eigenvalues by alpha² and not the vectors") {
  const Known kn = make_known(30, 40, {6, 4, 2, 1}, 9);
  const Solved one = solve_factored(kn, 2, tight(), 1.0f);
  const Solved quarter = solve_factored(kn, 2, tight(), 0.25f);
  for (std::int64_t j = 0; j < 2; ++j) CHECK(quarter.eigenvalues[j] == doctest::Approx(one.eigenvalues[j] / 16.0).epsilon(1e-5));
  for (std::size_t i = 0; i < one.vectors.size(); ++i) CHECK(std::fabs(quarter.vectors[i] - one.vectors[i]) <= 1e-4);
}

TEST_CASE("M given by its factors: refusals name the factor, and the scratch is freed") {
  const Known kn = make_known(6, 5, {2, 1}, 3);
  std::vector<float> v(6 * 2), e(2), r(2);
  const std::int64_t before = memory_stats(Device::Cpu).bytes_in_use;
  auto code_and_message = [&](cpu::GramFactors f) -> std::pair<ErrorCode, std::string> {
    try {
      cpu::top_gram_eigenvectors(f, 6, 5, 2, cpu::TopEigenOptions{}, v.data(), e.data(), r.data());
    } catch (const Error& err) {
      return {err.code(), err.what()};
    }
    return {ErrorCode::Io, "no error"};
  };
  cpu::GramFactors ok;
  ok.g = kn.g.data();
  ok.f = kn.f.data();
  ok.r = 2;
  ok.g_name = "gradNext";
  ok.f_name = "actPrev";
  cpu::GramFactors f = ok;
  f.r = 0;
  CHECK(code_and_message(f).first == ErrorCode::Shape);
  f = ok;
  f.alpha = std::numeric_limits<float>::infinity();
  CHECK(code_and_message(f).first == ErrorCode::Arg);
  std::vector<float> bad_g = kn.g, bad_f = kn.f, huge_f = kn.f;
  bad_g[3] = std::numeric_limits<float>::quiet_NaN();  // row 1, column 1
  bad_f[8] = -std::numeric_limits<float>::infinity();  // row 4, column 0
  f = ok;
  f.g = bad_g.data();
  auto [code, message] = code_and_message(f);
  CHECK(code == ErrorCode::Arg);
  CHECK(message.find("gradNext holds a non-finite value at (1, 1)") != std::string::npos);
  f = ok;
  f.f = bad_f.data();
  std::tie(code, message) = code_and_message(f);
  CHECK(message.find("actPrev holds a non-finite value at (4, 0)") != std::string::npos);
  huge_f[0] = 3e20f;  // finite, but its square overflows in FᵀF
  f = ok;
  f.f = huge_f.data();
  std::tie(code, message) = code_and_message(f);
  CHECK(code == ErrorCode::Arg);
  CHECK(message.find("Gram matrix") != std::string::npos);
  CHECK(memory_stats(Device::Cpu).bytes_in_use == before);
  cpu::top_gram_eigenvectors(ok, 6, 5, 2, cpu::TopEigenOptions{}, v.data(), e.data(), r.data());
  CHECK(memory_stats(Device::Cpu).bytes_in_use == before);
}
