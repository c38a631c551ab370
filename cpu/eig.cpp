#include "dynasparse/ops/eig.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>

#include "dynasparse/error.h"
#include "dynasparse/memory.h"
#include "dynasparse/ops/dense.h"
#include "dynasparse/philox.h"

namespace dynasparse::cpu {

int jacobi_eigen(double* a, std::int64_t b, double* values, double* vectors) {
  Scratch<double> v_buf(Device::Cpu, static_cast<std::size_t>(std::max<std::int64_t>(1, b * b)));
  Scratch<std::int64_t> order_buf(Device::Cpu, static_cast<std::size_t>(std::max<std::int64_t>(1, b)));
  double* v = v_buf.data();
  for (std::int64_t i = 0; i < b * b; ++i) v[i] = 0.0;
  for (std::int64_t i = 0; i < b; ++i) v[i * b + i] = 1.0;
  // Symmetrize from the upper triangle, so a slightly asymmetric input (from
  // rounding) is read consistently.
  for (std::int64_t i = 0; i < b; ++i)
    for (std::int64_t j = 0; j < i; ++j) a[i * b + j] = a[j * b + i];

  // Cyclic Jacobi (Golub & Van Loan, Alg. 8.5.3): each rotation zeroes one
  // off-diagonal pair; sweeps converge quadratically. Stop when the
  // off-diagonal mass is below double rounding of the whole matrix.
  constexpr int kMaxSweeps = 100;
  int sweeps = 0;
  for (; sweeps < kMaxSweeps; ++sweeps) {
    double off = 0.0, total = 0.0;
    for (std::int64_t i = 0; i < b; ++i)
      for (std::int64_t j = 0; j < b; ++j) {
        const double x = a[i * b + j] * a[i * b + j];
        total += x;
        if (i != j) off += x;
      }
    if (off == 0.0 || off <= 1e-30 * total) break;
    for (std::int64_t p = 0; p + 1 < b; ++p) {
      for (std::int64_t q = p + 1; q < b; ++q) {
        const double apq = a[p * b + q];
        if (apq == 0.0) continue;
        const double tau = (a[q * b + q] - a[p * b + p]) / (2.0 * apq);
        // The smaller root of t^2 + 2 tau t - 1 = 0 (rotation angle <= pi/4).
        const double t = std::isinf(tau * tau) ? 0.5 / tau
                                               : (tau >= 0 ? 1.0 : -1.0) / (std::fabs(tau) + std::sqrt(1.0 + tau * tau));
        const double c = 1.0 / std::sqrt(1.0 + t * t), s = t * c;
        for (std::int64_t r = 0; r < b; ++r) {  // A J
          const double arp = a[r * b + p], arq = a[r * b + q];
          a[r * b + p] = c * arp - s * arq;
          a[r * b + q] = s * arp + c * arq;
        }
        for (std::int64_t r = 0; r < b; ++r) {  // Jᵀ (A J)
          const double apr = a[p * b + r], aqr = a[q * b + r];
          a[p * b + r] = c * apr - s * aqr;
          a[q * b + r] = s * apr + c * aqr;
        }
        a[p * b + q] = a[q * b + p] = 0.0;
        for (std::int64_t r = 0; r < b; ++r) {  // V J
          const double vrp = v[r * b + p], vrq = v[r * b + q];
          v[r * b + p] = c * vrp - s * vrq;
          v[r * b + q] = s * vrp + c * vrq;
        }
      }
    }
  }
  std::int64_t* order = order_buf.data();
  std::iota(order, order + b, std::int64_t{0});
  std::stable_sort(order, order + b, [&](std::int64_t x, std::int64_t y) { return a[x * b + x] > a[y * b + y]; });
  for (std::int64_t j = 0; j < b; ++j) {
    values[j] = a[order[j] * b + order[j]];
    for (std::int64_t r = 0; r < b; ++r) vectors[r * b + j] = v[r * b + order[j]];
  }
  return sweeps;
}

namespace {

// Blocks of b vectors of length n are stored one vector per row (b x n,
// row-major), so every vector operation below runs over contiguous memory.

double dot(const double* x, const double* y, std::int64_t n) {
  double s = 0.0;
  for (std::int64_t r = 0; r < n; ++r) s += x[r] * y[r];
  return s;
}

// Orthonormalizes vector j of q against vectors [0, j) by modified
// Gram–Schmidt, applied twice ("twice is enough", Giraud et al. 2005).
// Returns the norm left before the final normalization, relative to the
// vector's norm on entry (0 for a zero or non-finite vector).
double orthonormalize_vector(double* q, std::int64_t n, std::int64_t j) {
  double* qj = q + j * n;
  const double start = std::sqrt(dot(qj, qj, n));
  if (!(start > 0.0) || !std::isfinite(start)) return 0.0;
  for (std::int64_t r = 0; r < n; ++r) qj[r] /= start;
  for (int pass = 0; pass < 2; ++pass) {
    for (std::int64_t i = 0; i < j; ++i) {
      const double* qi = q + i * n;
      const double d = dot(qi, qj, n);
      for (std::int64_t r = 0; r < n; ++r) qj[r] -= d * qi[r];
    }
  }
  const double left = std::sqrt(dot(qj, qj, n));
  if (left > 0.0)
    for (std::int64_t r = 0; r < n; ++r) qj[r] /= left;
  return left;
}

// Below this relative norm a vector is taken as dependent on the ones before
// it (its direction would be rounding noise) and replaced.
constexpr double kDependent = 1e-10;

// Fills vector j with the deterministic random vector number `draw`.
void random_vector(double* q, std::int64_t n, std::int64_t j, std::uint64_t seed, std::uint64_t draw) {
  for (std::int64_t r = 0; r < n; ++r)
    q[j * n + r] = rng::normal_at(seed, rng::kStreamEigen, draw * static_cast<std::uint64_t>(n) + static_cast<std::uint64_t>(r),
                                  0.0f, 1.0f);
}

// Makes the b vectors of q orthonormal. A dependent vector is replaced by the
// fallback's vector (when given) and then by fresh random vectors, so the
// block keeps full rank even when A is rank deficient.
void orthonormalize(double* q, const double* fallback, std::int64_t n, std::int64_t b, std::uint64_t seed,
                    std::uint64_t& draws) {
  for (std::int64_t j = 0; j < b; ++j) {
    if (orthonormalize_vector(q, n, j) > kDependent) continue;
    bool ok = false;
    if (fallback != nullptr) {
      std::copy(fallback + j * n, fallback + (j + 1) * n, q + j * n);
      ok = orthonormalize_vector(q, n, j) > kDependent;
    }
    // b <= n, so a random vector is independent of j < n vectors with
    // probability 1; the loop bound only guards against the impossible.
    for (int attempt = 0; !ok && attempt < 64; ++attempt) {
      random_vector(q, n, j, seed, draws++);
      ok = orthonormalize_vector(q, n, j) > kDependent;
    }
    if (!ok) fail(ErrorCode::Arg, "eigensolver: could not complete an orthonormal basis");
  }
}

// out_j = sum_l y[l, j] v_l for the b vectors of v (b x n) and y (b x b):
// the block v @ y with vectors as rows.
void combine(const double* v, const double* y, double* out, std::int64_t n, std::int64_t b) {
  for (std::int64_t j = 0; j < b; ++j) {
    double* o = out + j * n;
    std::fill(o, o + n, 0.0);
    for (std::int64_t l = 0; l < b; ++l) {
      const double c = y[l * b + j];
      const double* vl = v + l * n;
      for (std::int64_t r = 0; r < n; ++r) o[r] += c * vl[r];
    }
  }
}

// E_ARG naming `what` and the first NaN or infinity of x (rows x cols, row-major).
void check_finite(const float* x, std::int64_t rows, std::int64_t cols, const std::string& what) {
  for (std::int64_t i = 0; i < rows * cols; ++i)
    if (!std::isfinite(x[i]))
      fail(ErrorCode::Arg, "eigensolver: " + what + " holds a non-finite value at (" + std::to_string(i / cols) + ", " +
                               std::to_string(i % cols) + ")");
}

// Block subspace iteration with Rayleigh–Ritz for A = M Mᵀ (n x n), whichever
// way M is given: apply(vf) overwrites the float32 block vf (b x n, vectors as
// rows) with (A v) in the same layout. The arguments are checked by the caller.
template <typename Apply>
TopEigenResult solve(std::int64_t n, std::int64_t k, std::int64_t b, const TopEigenOptions& options, Apply&& apply,
                     float* vectors, float* eigenvalues, float* residuals) {
  const auto nb = static_cast<std::size_t>(n * b);
  Scratch<double> v_buf(Device::Cpu, nb), z_buf(Device::Cpu, nb), x_buf(Device::Cpu, nb), ax_buf(Device::Cpu, nb);
  Scratch<float> vf_buf(Device::Cpu, nb);
  Scratch<double> h_buf(Device::Cpu, static_cast<std::size_t>(b * b)), y_buf(Device::Cpu, static_cast<std::size_t>(b * b));
  Scratch<double> theta_buf(Device::Cpu, static_cast<std::size_t>(b)), res_buf(Device::Cpu, static_cast<std::size_t>(b));
  double *v = v_buf.data(), *z = z_buf.data(), *x = x_buf.data(), *ax = ax_buf.data();
  float* vf = vf_buf.data();
  double *h = h_buf.data(), *y = y_buf.data(), *theta = theta_buf.data(), *res = res_buf.data();

  // Start block: vector j, entry r is normal draw (j * n + r); later
  // replacements of dependent vectors continue the count.
  std::uint64_t draws = 0;
  for (std::int64_t j = 0; j < b; ++j) random_vector(v, n, j, options.seed, draws++);
  orthonormalize(v, nullptr, n, b, options.seed, draws);

  TopEigenResult result;
  for (std::int64_t iter = 1;; ++iter) {
    // z = A v in float32 (the only work that grows with M).
    for (std::size_t i = 0; i < nb; ++i) vf[i] = static_cast<float>(v[i]);
    apply(vf);
    for (std::size_t i = 0; i < nb; ++i) z[i] = static_cast<double>(vf[i]);

    // Rayleigh–Ritz: h = vᵀ A v = y diag(theta) yᵀ; Ritz vectors x = v y
    // and their images ax = A x = z y.
    for (std::int64_t i = 0; i < b; ++i)
      for (std::int64_t j = i; j < b; ++j) h[i * b + j] = h[j * b + i] = dot(v + i * n, z + j * n, n);
    jacobi_eigen(h, b, theta, y);
    combine(v, y, x, n, b);
    combine(z, y, ax, n, b);

    const double lambda_max = std::max(theta[0], 0.0);
    bool converged = true;
    for (std::int64_t j = 0; j < k; ++j) {
      double s = 0.0;
      for (std::int64_t r = 0; r < n; ++r) {
        const double d = ax[j * n + r] - theta[j] * x[j * n + r];
        s += d * d;
      }
      res[j] = lambda_max > 0.0 ? std::sqrt(s) / lambda_max : 0.0;
      if (!(res[j] <= options.tol)) converged = false;
    }
    result.iterations = iter;
    if (converged || iter >= options.max_iter) {
      result.converged = converged;
      break;
    }
    // Next block: orthonormalized A x (one more power step on the Ritz
    // basis); a vector A x_j that vanishes (A rank deficient) falls back to x_j.
    std::copy(ax, ax + nb, v);
    orthonormalize(v, x, n, b, options.seed, draws);
  }

  result.max_residual = 0.0;
  for (std::int64_t j = 0; j < k; ++j) {
    eigenvalues[j] = static_cast<float>(std::max(theta[j], 0.0));
    residuals[j] = static_cast<float>(res[j]);
    result.max_residual = std::max(result.max_residual, res[j]);
    // Ritz vectors of an orthonormal basis are orthonormal; renormalizing in
    // double only removes rounding before scaling.
    const double* xj = x + j * n;
    const double factor = options.scale / std::sqrt(dot(xj, xj, n));
    std::int64_t arg = 0;
    float best = -1.0f;
    for (std::int64_t r = 0; r < n; ++r) {
      const float value = static_cast<float>(xj[r] * factor);
      vectors[r * k + j] = value;
      if (std::fabs(value) > best) best = std::fabs(value), arg = r;
    }
    // Sign convention on the float values returned (the flip is exact).
    if (vectors[arg * k + j] < 0.0f)
      for (std::int64_t r = 0; r < n; ++r) vectors[r * k + j] = -vectors[r * k + j];
  }
  return result;
}

}  // namespace

TopEigenResult top_gram_eigenvectors(const float* M, std::int64_t n, std::int64_t p, std::int64_t k,
                                     const TopEigenOptions& options, float* vectors, float* eigenvalues,
                                     float* residuals) {
  check_top_eigen_arguments(n, p, k, options);
  check_finite(M, n, p, "the matrix");
  const std::int64_t b = top_eigen_block(n, k);
  Scratch<float> wf_buf(Device::Cpu, static_cast<std::size_t>(p * b));
  float* wf = wf_buf.data();
  // zᵀ = (vᵀ M) Mᵀ: two GEMMs of O(n p b).
  const auto apply = [&](float* vf) {
    gemm(false, false, b, p, n, 1.0f, vf, n, M, p, 0.0f, wf, p);
    gemm(false, true, b, n, p, 1.0f, wf, p, M, p, 0.0f, vf, n);
  };
  return solve(n, k, b, options, apply, vectors, eigenvalues, residuals);
}

TopEigenResult top_gram_eigenvectors(const GramFactors& m, std::int64_t n, std::int64_t p, std::int64_t k,
                                     const TopEigenOptions& options, float* vectors, float* eigenvalues,
                                     float* residuals) {
  check_top_eigen_arguments(n, p, k, options);
  check_gram_factors(m);
  check_finite(m.g, n, m.r, m.g_name);
  check_finite(m.f, p, m.r, m.f_name);
  const std::int64_t b = top_eigen_block(n, k), r = m.r;
  Scratch<float> c_buf(Device::Cpu, static_cast<std::size_t>(r * r)), u_buf(Device::Cpu, static_cast<std::size_t>(b * r)),
      q_buf(Device::Cpu, static_cast<std::size_t>(b * r));
  float *c = c_buf.data(), *u = u_buf.data(), *q = q_buf.data();
  gemm(true, false, r, r, p, 1.0f, m.f, r, m.f, r, 0.0f, c, r);  // C = FᵀF, once
  check_finite(c, r, r, std::string(m.f_name) + "ᵀ" + m.f_name + " (its Gram matrix)");
  const float alpha2 = m.alpha * m.alpha;
  // zᵀ = vᵀ M Mᵀ = alpha² ((vᵀ G) C) Gᵀ: three GEMMs of O(n r b + r² b).
  const auto apply = [&](float* vf) {
    gemm(false, false, b, r, n, 1.0f, vf, n, m.g, r, 0.0f, u, r);
    gemm(false, false, b, r, r, alpha2, u, r, c, r, 0.0f, q, r);
    gemm(false, true, b, n, r, 1.0f, q, r, m.g, r, 0.0f, vf, n);
  };
  return solve(n, k, b, options, apply, vectors, eigenvalues, residuals);
}

}  // namespace dynasparse::cpu
