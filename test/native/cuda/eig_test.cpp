// cuda::top_gram_eigenvectors against cpu::top_gram_eigenvectors (and the
// exact answer where the test builds M = U diag(sigma) Wᵀ, as
// test/native/eig_test.cpp does).
//
// The two solvers run the same method from the same start block and stop on
// the same test, but their GEMMs and reductions round differently, so they
// are compared through what the stopping test guarantees, not bit for bit:
//  - every wanted Ritz pair has ||A v - θ v|| <= tol λmax (reported, and
//    recomputed here in double from the returned float vectors);
//  - eigenvalues: each solver's θ is within ||r|| plus float effects of an
//    eigenvalue (Weyl), so the two differ by at most 2 (tol + 1e-5) λmax. The
//    1e-5 λmax covers the float32 GEMMs with M (the residual is computed from
//    a rounded A v: (n + p) 2^-24 ||M||² ~ 3e-6 λmax for n + p <= 50) and the
//    float32 rounding of M itself;
//  - a separated eigenvector (gap g to the rest of the spectrum): Davis–Kahan
//    gives sin∠(v, u) <= (||r|| + float effects) / (g / 2) (the Ritz value
//    may sit up to the residual away from λ, halving the gap at worst), and
//    with the sign convention ||v - u|| <= √2 sin∠, so the two solvers'
//    unit vectors differ by at most 2 · 2√2 (tol + 1e-5) λmax / g;
//  - a repeated or nearly repeated eigenvalue: single vectors are not
//    determined (or barely), so the k-dimensional subspaces are compared by
//    projector distance ||P_cuda - P_cpu||_F, each within the Davis–Kahan
//    bound 2√2 (√k tol + 1e-5) λmax / gap of the exact one.
// Sizes stay small (n <= 40): the emulation runs each kernel's threads as fibers.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "compare.h"
#include "device_array.h"
#include "dynasparse/error.h"
#include "dynasparse/ops/eig.h"
#include "test/native/eig_inputs.h"
#include "dynasparse/philox.h"

using namespace dynasparse;
using test::DeviceArray;

namespace {

using eig_inputs::Known;
using eig_inputs::make_known;
using eig_inputs::Mat;
using eig_inputs::random_orthonormal;

struct Solved {
  std::int64_t n, k;
  std::vector<float> vectors, eigenvalues, residuals;
  cpu::TopEigenResult result;
};

Solved run_cpu(const std::vector<float>& m, std::int64_t n, std::int64_t p, std::int64_t k, const cpu::TopEigenOptions& o) {
  Solved s{n, k, std::vector<float>(static_cast<std::size_t>(n * k)), std::vector<float>(k), std::vector<float>(k), {}};
  s.result = cpu::top_gram_eigenvectors(m.data(), n, p, k, o, s.vectors.data(), s.eigenvalues.data(), s.residuals.data());
  return s;
}

Solved run_cuda(const std::vector<float>& m, std::int64_t n, std::int64_t p, std::int64_t k, const cpu::TopEigenOptions& o) {
  DeviceArray<float> dm(m), dv(static_cast<std::size_t>(n * k));
  Solved s{n, k, {}, std::vector<float>(k), std::vector<float>(k), {}};
  s.result = cuda::top_gram_eigenvectors(dm.data(), n, p, k, o, dv.data(), s.eigenvalues.data(), s.residuals.data(),
                                         test::kernel_stream());

  s.vectors = dv.to_host();  // every element written (DeviceArray poisons them), no write out of bounds
  test::require_same_bits(dm.to_host(), m);
  return s;
}

// Column j as a unit double vector.
std::vector<double> unit_column(const Solved& s, std::int64_t j) {
  std::vector<double> v(static_cast<std::size_t>(s.n));
  double norm = 0.0;
  for (std::int64_t r = 0; r < s.n; ++r) norm += double(s.vectors[r * s.k + j]) * s.vectors[r * s.k + j];
  for (std::int64_t r = 0; r < s.n; ++r) v[r] = s.vectors[r * s.k + j] / std::sqrt(norm);
  return v;
}

// An orthonormal basis (columns as vectors) of a solver's columns [0, c):
// they are orthonormal to float rounding; Gram–Schmidt in double removes it.
std::vector<std::vector<double>> basis(const Solved& s, std::int64_t c) {
  std::vector<std::vector<double>> q;
  for (std::int64_t j = 0; j < c; ++j) {
    std::vector<double> v = unit_column(s, j);
    for (int pass = 0; pass < 2; ++pass)
      for (const auto& e : q) {
        double d = 0.0;
        for (std::size_t r = 0; r < v.size(); ++r) d += e[r] * v[r];
        for (std::size_t r = 0; r < v.size(); ++r) v[r] -= d * e[r];
      }
    double norm = 0.0;
    for (double x : v) norm += x * x;
    for (double& x : v) x /= std::sqrt(norm);
    q.push_back(v);
  }
  return q;
}

// ||(I - Q Qᵀ) V||_F for the unit columns [0, c) of `a` and the basis q.
double outside(const Solved& a, std::int64_t c, const std::vector<std::vector<double>>& q) {
  double total = 0.0;
  for (std::int64_t j = 0; j < c; ++j) {
    std::vector<double> v = unit_column(a, j);
    for (const auto& e : q) {
      double d = 0.0;
      for (std::size_t r = 0; r < v.size(); ++r) d += e[r] * v[r];
      for (std::size_t r = 0; r < v.size(); ++r) v[r] -= d * e[r];
    }
    for (double x : v) total += x * x;
  }
  return std::sqrt(total);
}

// The first c exact singular vectors (columns of u, n x r) as a basis.
std::vector<std::vector<double>> exact_basis(const Known& kn, std::int64_t r, std::int64_t c) {
  std::vector<std::vector<double>> q(static_cast<std::size_t>(c), std::vector<double>(static_cast<std::size_t>(kn.n)));
  for (std::int64_t l = 0; l < c; ++l)
    for (std::int64_t i = 0; i < kn.n; ++i) q[l][i] = kn.u[i * r + l];
  return q;
}

// ||P_a - P_b||_F for two k-dimensional subspaces = √2 ||(I - P_b) V_a||_F.
double projector_distance(const Solved& a, const Solved& b) { return std::sqrt(2.0) * outside(a, a.k, basis(b, b.k)); }

// The Davis–Kahan bound of one solver's k-subspace against the exact one (see the top).
double subspace_bound(std::int64_t k, double tol, double lambda_max, double gap) {
  return 2.0 * std::sqrt(2.0) * (std::sqrt(double(k)) * tol + 1e-5) * lambda_max / gap;
}

// Largest |component| positive in every column, the lowest row on ties.
void check_signs(const Solved& s) {
  for (std::int64_t j = 0; j < s.k; ++j) {
    std::int64_t arg = 0;
    for (std::int64_t r = 1; r < s.n; ++r)
      if (std::fabs(s.vectors[r * s.k + j]) > std::fabs(s.vectors[arg * s.k + j])) arg = r;
    CHECK(s.vectors[arg * s.k + j] > 0.0f);
  }
}

// VᵀV = scale² I to float rounding (1e-5 relative: n <= 40 float products).
void check_orthonormal(const Solved& s, double scale) {
  for (std::int64_t i = 0; i < s.k; ++i)
    for (std::int64_t j = 0; j < s.k; ++j) {
      double d = 0.0;
      for (std::int64_t r = 0; r < s.n; ++r) d += double(s.vectors[r * s.k + i]) * s.vectors[r * s.k + j];
      CHECK(std::fabs(d / (scale * scale) - (i == j ? 1.0 : 0.0)) <= 1e-5);
    }
}

// The reported residuals are honest: ||M Mᵀ v - λ v|| / λmax recomputed in
// double from the returned float vector agrees with the reported one to 1e-5
// (the float rounding of v and the solver's float32 products), and converged
// runs are within tol of it.
void check_residuals(const Solved& s, const std::vector<float>& m, std::int64_t p, double tol) {
  const double lambda_max = s.eigenvalues[0];
  for (std::int64_t j = 0; j < s.k; ++j) {
    const std::vector<double> v = unit_column(s, j);
    std::vector<double> w(static_cast<std::size_t>(p), 0.0);
    for (std::int64_t i = 0; i < s.n; ++i)
      for (std::int64_t c = 0; c < p; ++c) w[c] += double(m[i * p + c]) * v[i];
    double sum = 0.0;
    for (std::int64_t i = 0; i < s.n; ++i) {
      double av = 0.0;
      for (std::int64_t c = 0; c < p; ++c) av += double(m[i * p + c]) * w[c];
      sum += (av - s.eigenvalues[j] * v[i]) * (av - s.eigenvalues[j] * v[i]);
    }
    const double again = lambda_max > 0.0 ? std::sqrt(sum) / lambda_max : std::sqrt(sum);
    CAPTURE(j);
    CHECK(std::fabs(again - s.residuals[j]) <= 1e-5);
    if (s.result.converged) CHECK(s.residuals[j] <= tol);
  }
}

// Both converged; eigenvalues within 2 (tol + 1e-5) λmax; iteration counts
// equal up to one (the residuals of the two runs differ by rounding only, so
// they cross tol in the same iteration unless one lands within ~1e-6 of it).
void check_like_cpu(const Solved& gpu, const Solved& cpu, double tol) {
  CHECK(gpu.result.converged == cpu.result.converged);
  CHECK(std::abs(gpu.result.iterations - cpu.result.iterations) <= 1);
  const double lambda_max = std::max<double>(cpu.eigenvalues[0], 0.0);
  for (std::int64_t j = 0; j < gpu.k; ++j) {
    CAPTURE(j);
    CHECK(std::fabs(double(gpu.eigenvalues[j]) - cpu.eigenvalues[j]) <= 2.0 * (tol + 1e-5) * lambda_max);
    if (j + 1 < gpu.k) CHECK(gpu.eigenvalues[j] >= gpu.eigenvalues[j + 1]);
  }
}

// Columns [0, c) equal to the CPU's within 4√2 (tol + 1e-5) λmax / gap_j
// (scaled by the columns' norm `scale`; see the top).
void check_vectors(const Solved& gpu, const Solved& cpu, std::int64_t c, double tol, double scale,
                   const std::vector<double>& gaps, double lambda_max) {
  for (std::int64_t j = 0; j < c; ++j) {
    const double bound = 4.0 * std::sqrt(2.0) * (tol + 1e-5) * lambda_max / gaps[j] * scale;
    double diff = 0.0;
    for (std::int64_t r = 0; r < gpu.n; ++r) {
      const double d = double(gpu.vectors[r * gpu.k + j]) - cpu.vectors[r * cpu.k + j];
      diff += d * d;
    }
    CAPTURE(j);
    CAPTURE(bound);
    CHECK(std::sqrt(diff) <= bound);
  }
}

// Gap of each of the first k eigenvalues sigma² to the rest of the spectrum
// (0 beyond the rank when the matrix is taller than its rank).
std::vector<double> gaps_of(const std::vector<double>& sigma, std::int64_t k, bool zero_beyond) {
  std::vector<double> lambda;
  for (double s : sigma) lambda.push_back(s * s);
  if (zero_beyond) lambda.push_back(0.0);
  std::vector<double> gaps;
  for (std::int64_t j = 0; j < k; ++j) {
    double g = std::numeric_limits<double>::infinity();
    for (std::size_t l = 0; l < lambda.size(); ++l)
      if (static_cast<std::int64_t>(l) != j) g = std::min(g, std::fabs(lambda[j] - lambda[l]));
    gaps.push_back(g);
  }
  return gaps;
}

// `head` followed by a slowly decaying tail up to `rank` values: with rank
// larger than the block (k + 8), the iteration really iterates (a matrix of
// rank <= b is solved in two steps).
std::vector<double> with_tail(std::vector<double> head, double first, std::int64_t rank) {
  for (double t = first; static_cast<std::int64_t>(head.size()) < rank; t *= 0.97) head.push_back(t);
  return head;
}

cpu::TopEigenOptions options(double tol, std::uint64_t seed = 42, double scale = 1.0) {
  cpu::TopEigenOptions o;
  o.tol = tol;
  o.max_iter = 2000;
  o.seed = seed;
  o.scale = scale;
  return o;
}

ErrorCode code_of(const std::vector<float>& m, std::int64_t n, std::int64_t p, std::int64_t k,
                  const cpu::TopEigenOptions& o, std::string* message = nullptr) {
  DeviceArray<float> dm(m), dv(static_cast<std::size_t>(std::max<std::int64_t>(1, n * std::max<std::int64_t>(k, 1))));
  std::vector<float> e(static_cast<std::size_t>(std::max<std::int64_t>(k, 1))), r(e.size());
  try {
    cuda::top_gram_eigenvectors(dm.data(), n, p, k, o, dv.data(), e.data(), r.data(), test::kernel_stream());
  } catch (const Error& err) {
    if (message != nullptr) *message = err.what();
    // Refused before any kernel ran: the output is still poisoned.
    for (float x : dv.to_host()) CHECK(std::isnan(x));
    return err.code();
  }
  return static_cast<ErrorCode>(-1);
}

}  // namespace

TEST_CASE("cuda::top_gram_eigenvectors: separated singular values, the CPU's vectors within the Davis–Kahan bound (k = 1 and 3)") {
  // Full rank min(n, p) > b = k + 8, so the block iterates (about ten times
  // for k = 3: the rate is (σ_12 / σ_3)² ~ 0.3); p < n and p > n both.
  for (const auto& [n, p] : {std::pair<std::int64_t, std::int64_t>{24, 17}, {16, 30}}) {
    const std::vector<double> sigma = with_tail({4.0, 3.0, 2.0}, 1.5, std::min(n, p));
    const Known kn = make_known(n, p, sigma, 5);
    for (std::int64_t k : {1, 3}) {
      CAPTURE(n);
      CAPTURE(p);
      CAPTURE(k);
      const double tol = 1e-5;
      const Solved gpu = run_cuda(kn.m, n, p, k, options(tol, 42, 0.5));
      const Solved cpu = run_cpu(kn.m, n, p, k, options(tol, 42, 0.5));
      CHECK(gpu.result.converged);
      check_like_cpu(gpu, cpu, tol);
      check_vectors(gpu, cpu, k, tol, 0.5, gaps_of(sigma, k, true), 16.0);
      check_signs(gpu);
      check_orthonormal(gpu, 0.5);
      check_residuals(gpu, kn.m, p, tol);
      for (std::int64_t j = 0; j < k; ++j)
        CHECK(std::fabs(gpu.eigenvalues[j] - sigma[j] * sigma[j]) <= 2.0 * (tol + 1e-5) * 16.0);
    }
  }
}

TEST_CASE("cuda::top_gram_eigenvectors: an exactly repeated singular value, compared as subspaces") {
  const std::vector<double> sigma = with_tail({3, 3, 3}, 1.0, 16);
  const Known kn = make_known(20, 16, sigma, 11);
  const double tol = 1e-5;
  const auto cluster = exact_basis(kn, 16, 3);
  // k = 3: the cluster; gap 9 - 1 = 8.
  const Solved gpu3 = run_cuda(kn.m, 20, 16, 3, options(tol));
  const Solved cpu3 = run_cpu(kn.m, 20, 16, 3, options(tol));
  check_like_cpu(gpu3, cpu3, tol);
  CHECK(std::sqrt(2.0) * outside(gpu3, 3, cluster) <= subspace_bound(3, tol, 9, 8));
  CHECK(projector_distance(gpu3, cpu3) <= 2.0 * subspace_bound(3, tol, 9, 8));
  check_signs(gpu3);
  check_orthonormal(gpu3, 1.0);
  check_residuals(gpu3, kn.m, 16, tol);
  // k = 2 inside the cluster: any 2-subspace of it is right, so each solver's
  // is checked to lie in the cluster (its vectors are not compared).
  const Solved gpu2 = run_cuda(kn.m, 20, 16, 2, options(tol));
  check_like_cpu(gpu2, run_cpu(kn.m, 20, 16, 2, options(tol)), tol);
  CHECK(outside(gpu2, 2, cluster) <= subspace_bound(2, tol, 9, 8));
  CHECK(outside(gpu2, 2, basis(cpu3, 3)) <= 2.0 * subspace_bound(3, tol, 9, 8));
  check_signs(gpu2);
  check_orthonormal(gpu2, 1.0);
}

TEST_CASE("cuda::top_gram_eigenvectors: nearly repeated singular values, compared as subspaces") {
  // The top three differ by 1e-4 relative: single vectors are barely
  // determined at tol 1e-5, the 3-subspace is (gap to the fourth: ~3).
  const std::vector<double> sigma = with_tail({2, 2 * (1 - 1e-4), 2 * (1 - 2e-4)}, 1.0, 14);
  const Known kn = make_known(18, 14, sigma, 21);
  const double tol = 1e-5, gap = sigma[2] * sigma[2] - 1.0;
  const Solved gpu = run_cuda(kn.m, 18, 14, 3, options(tol, 3, 0.1));
  const Solved cpu = run_cpu(kn.m, 18, 14, 3, options(tol, 3, 0.1));
  check_like_cpu(gpu, cpu, tol);
  CHECK(std::sqrt(2.0) * outside(gpu, 3, exact_basis(kn, 14, 3)) <= subspace_bound(3, tol, 4, gap));
  CHECK(projector_distance(gpu, cpu) <= 2.0 * subspace_bound(3, tol, 4, gap));
  check_signs(gpu);
  check_orthonormal(gpu, 0.1);
  check_residuals(gpu, kn.m, 14, tol);
}

TEST_CASE("cuda::top_gram_eigenvectors: k = min(n, p), with the block the whole space and smaller than it") {
  const std::vector<double> sigma{6, 5, 4, 3, 2, 1};
  // n = 10, p = 6: b = min(10, 6 + 8) = n, one Rayleigh–Ritz on the whole space.
  // n = 5, p = 9: k = n = 5. n = 40, p = 6: b = 12 < n and A has rank 6, so
  // the images A x_j of the null-space Ritz vectors vanish and the fallback runs.
  struct Case {
    std::int64_t n, p;
  };
  for (const Case c : {Case{10, 6}, Case{5, 9}, Case{40, 6}}) {
    const std::int64_t k = std::min(c.n, c.p);
    const std::vector<double> s(sigma.begin(), sigma.begin() + k);
    const Known kn = make_known(c.n, c.p, s, 31);
    CAPTURE(c.n);
    CAPTURE(c.p);
    const double tol = 1e-5;
    const Solved gpu = run_cuda(kn.m, c.n, c.p, k, options(tol));
    const Solved cpu = run_cpu(kn.m, c.n, c.p, k, options(tol));
    CHECK(gpu.result.converged);
    check_like_cpu(gpu, cpu, tol);
    check_vectors(gpu, cpu, k, tol, 1.0, gaps_of(s, k, c.n > k), 36.0);
    check_signs(gpu);
    check_orthonormal(gpu, 1.0);
    check_residuals(gpu, kn.m, c.p, tol);
  }
}

TEST_CASE("cuda::top_gram_eigenvectors: batch 1 (M of rank 1), the null-space columns orthonormal with eigenvalue 0") {
  // M = g aᵀ: one singular value |g| |a|, the rest 0.
  const std::int64_t n = 15, p = 11;
  const std::vector<float> g = test::random_floats(n, 3), a = test::random_floats(p, 4);
  std::vector<float> m(static_cast<std::size_t>(n * p));
  for (std::int64_t i = 0; i < n; ++i)
    for (std::int64_t j = 0; j < p; ++j) m[i * p + j] = g[i] * a[j];
  const double tol = 1e-5;
  for (std::int64_t k : {1, 3}) {
    CAPTURE(k);
    const Solved gpu = run_cuda(m, n, p, k, options(tol));
    const Solved cpu = run_cpu(m, n, p, k, options(tol));
    CHECK(gpu.result.converged);
    check_like_cpu(gpu, cpu, tol);
    const double lambda = cpu.eigenvalues[0];
    check_vectors(gpu, cpu, 1, tol, 1.0, {lambda}, lambda);  // gap to 0 is λ itself
    for (std::int64_t j = 1; j < k; ++j) CHECK(gpu.eigenvalues[j] <= 1e-5 * lambda);
    check_signs(gpu);
    check_orthonormal(gpu, 1.0);
    check_residuals(gpu, m, p, tol);
  }
}

TEST_CASE("cuda::top_gram_eigenvectors: a zero matrix gives the CPU's orthonormalized start block in one iteration") {
  // A = 0: h = 0, the Ritz rotation is the identity, every residual is 0. The
  // start block is the CPU's bit for bit (the same Philox draws), orthonormalized
  // by the same MGS in double with another summation order, so the float
  // vectors agree to a float rounding (1e-6 of the scale).
  const std::int64_t n = 13, p = 7, k = 3;
  const std::vector<float> m(static_cast<std::size_t>(n * p), 0.0f);
  const Solved gpu = run_cuda(m, n, p, k, options(1e-4, 9, 2.0));
  const Solved cpu = run_cpu(m, n, p, k, options(1e-4, 9, 2.0));
  CHECK(gpu.result.converged);
  CHECK(gpu.result.iterations == 1);
  CHECK(gpu.result.max_residual == 0.0);
  for (std::int64_t j = 0; j < k; ++j) {
    CHECK(gpu.eigenvalues[j] == 0.0f);
    CHECK(gpu.residuals[j] == 0.0f);
  }
  test::require_close(gpu.vectors, cpu.vectors, [](std::size_t) { return 2e-6; });
  check_signs(gpu);
  check_orthonormal(gpu, 2.0);
}

TEST_CASE("cuda::top_gram_eigenvectors: deterministic, and the iteration cap is reported") {
  std::vector<double> sigma;
  for (int i = 0; i < 24; ++i) sigma.push_back(1.0 - 0.01 * i);  // tiny gaps: slow convergence
  const Known kn = make_known(30, 24, sigma, 8);
  cpu::TopEigenOptions o = options(1e-9);
  o.max_iter = 2;
  const Solved a = run_cuda(kn.m, 30, 24, 4, o), b = run_cuda(kn.m, 30, 24, 4, o);
  test::require_same_bits(a.vectors, b.vectors);
  test::require_same_bits(a.eigenvalues, b.eigenvalues);
  test::require_same_bits(a.residuals, b.residuals);
  CHECK_FALSE(a.result.converged);
  CHECK(a.result.iterations == 2);
  CHECK(a.result.max_residual > 1e-9);
  check_residuals(a, kn.m, 24, 1e-9);
  // After the same two iterations the CPU's residuals are the same up to rounding.
  const Solved cpu = run_cpu(kn.m, 30, 24, 4, o);
  for (std::int64_t j = 0; j < 4; ++j) CHECK(std::fabs(a.residuals[j] - cpu.residuals[j]) <= 1e-5);
}

TEST_CASE("cuda::top_gram_eigenvectors refuses what the CPU refuses, with the same messages, before any work") {
  const std::int64_t n = 4, p = 3;
  const std::vector<float> m(static_cast<std::size_t>(n * p), 1.0f);
  const cpu::TopEigenOptions ok = options(1e-4);
  CHECK(code_of(m, n, p, 0, ok) == ErrorCode::Arg);
  std::string message;
  CHECK(code_of(m, n, p, 4, ok, &message) == ErrorCode::Arg);  // k > min(4, 3)
  CHECK(message.find("k: expected an integer in [1, 3]") != std::string::npos);
  cpu::TopEigenOptions o = ok;
  for (double tol : {0.0, 1.0, std::numeric_limits<double>::quiet_NaN()}) {
    o.tol = tol;
    CHECK(code_of(m, n, p, 1, o) == ErrorCode::Arg);
  }
  o = ok;
  o.max_iter = 0;
  CHECK(code_of(m, n, p, 1, o) == ErrorCode::Arg);
  o = ok;
  for (double scale : {0.0, -1.0, std::numeric_limits<double>::infinity()}) {
    o.scale = scale;
    CHECK(code_of(m, n, p, 1, o) == ErrorCode::Arg);
  }
  for (float bad : {std::numeric_limits<float>::quiet_NaN(), -std::numeric_limits<float>::infinity()}) {
    std::vector<float> with_bad = m;
    with_bad[5] = bad;
    with_bad[10] = bad;  // the first one is named
    CHECK(code_of(with_bad, n, p, 1, ok, &message) == ErrorCode::Arg);
    CHECK(message.find("non-finite value at (1, 2)") != std::string::npos);
  }
  CHECK(code_of(m, 0, p, 1, ok) == ErrorCode::Shape);
}

namespace {

cpu::GramFactors factors_of(const float* g, const float* f, std::int64_t r, float alpha) {
  cpu::GramFactors m;
  m.g = g;
  m.f = f;
  m.r = r;
  m.alpha = alpha;
  m.g_name = "gradNext";
  m.f_name = "actPrev";
  return m;
}

Solved run_cpu_factored(const Known& kn, std::int64_t k, const cpu::TopEigenOptions& o, float alpha) {
  const auto r = static_cast<std::int64_t>(kn.sigma.size());
  Solved s{kn.n, k, std::vector<float>(static_cast<std::size_t>(kn.n * k)), std::vector<float>(k), std::vector<float>(k), {}};
  s.result = cpu::top_gram_eigenvectors(factors_of(kn.g.data(), kn.f.data(), r, alpha), kn.n, kn.p, k, o, s.vectors.data(),
                                        s.eigenvalues.data(), s.residuals.data());
  return s;
}

Solved run_cuda_factored(const Known& kn, std::int64_t k, const cpu::TopEigenOptions& o, float alpha) {
  const auto r = static_cast<std::int64_t>(kn.sigma.size());
  DeviceArray<float> dg(kn.g), df(kn.f), dv(static_cast<std::size_t>(kn.n * k));
  Solved s{kn.n, k, {}, std::vector<float>(k), std::vector<float>(k), {}};
  s.result = cuda::top_gram_eigenvectors(factors_of(dg.data(), df.data(), r, alpha), kn.n, kn.p, k, o, dv.data(),
                                         s.eigenvalues.data(), s.residuals.data(), test::kernel_stream());
  s.vectors = dv.to_host();
  test::require_same_bits(dg.to_host(), kn.g);
  test::require_same_bits(df.to_host(), kn.f);
  return s;
}

}  // namespace

TEST_CASE("cuda::top_gram_eigenvectors with M given by its factors: the CPU's answers within the tolerance") {
  const std::vector<double> sigma = with_tail({10, 7, 5}, 3, 14);
  const Known kn = make_known(36, 30, sigma, 17);
  const double tol = 1e-5;
  for (float alpha : {1.0f, 0.5f}) {
    CAPTURE(alpha);
    const Solved gpu = run_cuda_factored(kn, 3, options(tol), alpha), cpu = run_cpu_factored(kn, 3, options(tol), alpha);
    check_like_cpu(gpu, cpu, tol);
    const double lmax = cpu.eigenvalues[0];
    std::vector<double> gaps = gaps_of(sigma, 3, true);
    for (double& g : gaps) g *= double(alpha) * alpha;
    check_vectors(gpu, cpu, 3, tol, 1.0, gaps, lmax);
    check_signs(gpu);
    check_orthonormal(gpu, 1.0);
    // The residuals it reports are those of M = alpha G Fᵀ formed in double.
    std::vector<float> m = kn.m;
    for (float& x : m) x *= alpha;
    check_residuals(gpu, m, kn.p, tol);
  }
}

TEST_CASE("cuda::top_gram_eigenvectors with M given by its factors refuses what the CPU refuses, naming the factor") {
  const Known kn = make_known(6, 5, {2, 1}, 3);
  auto message_of = [&](std::vector<float> g, std::vector<float> f, std::int64_t r, float alpha) {
    DeviceArray<float> dg(g), df(f), dv(12);
    std::vector<float> e(2), res(2);
    try {
      cuda::top_gram_eigenvectors(factors_of(dg.data(), df.data(), r, alpha), 6, 5, 2, options(1e-4), dv.data(), e.data(),
                                  res.data(), test::kernel_stream());
    } catch (const Error& err) {
      return std::string(err.what());
    }
    return std::string("no error");
  };
  std::vector<float> bad_g = kn.g, bad_f = kn.f, huge_f = kn.f;
  bad_g[3] = std::numeric_limits<float>::quiet_NaN();
  bad_f[8] = -std::numeric_limits<float>::infinity();
  huge_f[0] = 3e20f;
  CHECK(message_of(bad_g, kn.f, 2, 1.0f).find("gradNext holds a non-finite value at (1, 1)") != std::string::npos);
  CHECK(message_of(kn.g, bad_f, 2, 1.0f).find("actPrev holds a non-finite value at (4, 0)") != std::string::npos);
  CHECK(message_of(kn.g, huge_f, 2, 1.0f).find("Gram matrix") != std::string::npos);
  CHECK(message_of(kn.g, kn.f, 2, std::numeric_limits<float>::infinity()).find("alpha") != std::string::npos);
  CHECK(message_of(kn.g, kn.f, 0, 1.0f).find("at least one column") != std::string::npos);
}
