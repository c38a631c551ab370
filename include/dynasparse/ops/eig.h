// Symmetric eigenproblems: the top-k eigenvectors of a Gram matrix M Mᵀ
// (the top-k left singular vectors of M), as GradMax needs them.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>

#include "dynasparse/device.h"
#include "dynasparse/error.h"

namespace dynasparse::cpu {

struct TopEigenOptions {
  // Stop when every wanted Ritz pair has ||A v - λ v|| <= tol * λ_max. The
  // products with M are float32 GEMMs, so residuals much below ~1e-6 are out
  // of reach; the cap then ends the run and the achieved residuals are reported.
  double tol = 1e-4;
  std::int64_t max_iter = 1000;
  // Seeds the start block (rng::normal_at on rng::kStreamEigen).
  std::uint64_t seed = 0;
  // Norm of each returned vector.
  double scale = 1.0;
};

// The eigensolvers' argument checks (both backends refuse the same calls with
// the same messages): E_SHAPE for an empty matrix, E_ARG for k, tol, max_iter, scale.
inline void check_top_eigen_arguments(std::int64_t n, std::int64_t p, std::int64_t k, const TopEigenOptions& options) {
  if (n < 1 || p < 1)
    fail(ErrorCode::Shape, "eigensolver: expected a matrix with at least one row and column, got " + std::to_string(n) +
                               " x " + std::to_string(p));
  if (k < 1 || k > std::min(n, p))
    fail(ErrorCode::Arg, "k: expected an integer in [1, " + std::to_string(std::min(n, p)) + "] (min of " +
                             std::to_string(n) + " x " + std::to_string(p) + "), got " + std::to_string(k));
  if (!(options.tol > 0.0 && options.tol < 1.0))
    fail(ErrorCode::Arg, "tol: expected a number in (0, 1), got " + std::to_string(options.tol));
  if (options.max_iter < 1)
    fail(ErrorCode::Arg, "maxIter: expected an integer >= 1, got " + std::to_string(options.max_iter));
  if (!(std::isfinite(options.scale) && options.scale > 0.0))
    fail(ErrorCode::Arg, "scale: expected a finite number > 0, got " + std::to_string(options.scale));
}

// M = alpha · G Fᵀ (n x p) given by its factors, never formed: G [n, r] and
// F [p, r], row-major float32 (GradMax: M = (1/B) · gradNext · actPrevᵀ, with
// r = B the batch). The names label the factors in error messages.
struct GramFactors {
  const float* g = nullptr;
  const float* f = nullptr;
  std::int64_t r = 0;
  float alpha = 1.0f;
  const char* g_name = "G";
  const char* f_name = "F";
};

inline void check_gram_factors(const GramFactors& m) {
  if (m.r < 1) fail(ErrorCode::Shape, "eigensolver: expected factors with at least one column, got " + std::to_string(m.r));
  if (!std::isfinite(m.alpha))
    fail(ErrorCode::Arg, "eigensolver: expected a finite factor scale alpha, got " + std::to_string(m.alpha));
}

// The block size: k plus oversampling, at most n. The wanted subspace
// converges like (λ_{b+1} / λ_k)^iter, so a block larger than k pays for
// itself unless k is close to n.
inline std::int64_t top_eigen_block(std::int64_t n, std::int64_t k) { return std::min(n, k + std::max<std::int64_t>(8, k)); }

// Whether an iteration with M given by factors (rank r; per block vector
// about 4 n r + 2 r² multiply-adds, after r² p once for FᵀF) costs less than
// with M formed (4 n p, after n p r once to form it, and n p floats of memory).
inline bool gram_factors_cheaper(std::int64_t n, std::int64_t p, std::int64_t r) {
  return static_cast<double>(r) * static_cast<double>(2 * n + r) < 2.0 * static_cast<double>(n) * static_cast<double>(p);
}

struct TopEigenResult {
  std::int64_t iterations = 0;  // products with M Mᵀ (each followed by Rayleigh–Ritz)
  bool converged = false;
  double max_residual = 0.0;  // the largest of the reported residuals
};

// For M (n x p, row-major float32) and A = M Mᵀ: the k eigenvectors of A with
// the largest eigenvalues, by block subspace iteration (block of k plus
// oversampling) with Rayleigh–Ritz and modified Gram–Schmidt applied twice,
// in double precision except the two float32 GEMMs with M per iteration.
//   vectors:     n x k row-major; column j is eigenvector j, of norm `scale`,
//                its largest-magnitude component positive (ties: lower row).
//   eigenvalues: k, descending, clamped at 0 (A is positive semidefinite).
//   residuals:   k, ||A v_j - λ_j v_j|| / λ_max for unit v_j (0 when A = 0).
// Deterministic: same inputs and seed, same bits (for a fixed thread count
// when the products go through OpenBLAS). Errors: E_ARG when k is outside
// [1, min(n, p)], tol is not in (0, 1), max_iter < 1 or scale is not finite > 0.
TopEigenResult top_gram_eigenvectors(const float* M, std::int64_t n, std::int64_t p, std::int64_t k,
                                     const TopEigenOptions& options, float* vectors, float* eigenvalues,
                                     float* residuals);

// The same for M = alpha · G Fᵀ given by its factors (GramFactors): the same
// method, start block, stopping rule and outputs, with A v computed as
// alpha² G (FᵀF) (Gᵀ v) (FᵀF formed once, r x r), so nothing n x p is formed.
// The float32 products differ from those with M formed, so the results agree
// with that overload within what the tolerance allows, not bit for bit.
// Errors as above, plus E_SHAPE for r < 1 and E_ARG for a non-finite alpha, a
// non-finite value in G or F (named), or FᵀF overflowing float32.
TopEigenResult top_gram_eigenvectors(const GramFactors& m, std::int64_t n, std::int64_t p, std::int64_t k,
                                     const TopEigenOptions& options, float* vectors, float* eigenvalues,
                                     float* residuals);

// All eigenpairs of a symmetric b x b matrix by cyclic Jacobi rotations.
// `a` (row-major, only read as symmetric; destroyed) becomes diagonal;
// values: b, descending (ties keep the lower original index); vectors: b x b
// row-major, column j the unit eigenvector of values[j]. Returns the sweeps used.
int jacobi_eigen(double* a, std::int64_t b, double* values, double* vectors);

}  // namespace dynasparse::cpu

#if defined(DYNASPARSE_WITH_CUDA)
namespace dynasparse::cuda {
using cpu::GramFactors;
using cpu::TopEigenOptions;
using cpu::TopEigenResult;

// The CUDA twin of cpu::top_gram_eigenvectors (cuda/eig.cu): the same method
// (block subspace iteration, block of k plus max(8, k) oversampling, clipped to
// n; Rayleigh–Ritz; MGS twice with the same dependency rule and replacements),
// the same start block (the same Philox draws), the same stopping rule, checks,
// error messages, sign convention and outputs. M and `vectors` are device
// pointers; `eigenvalues` and `residuals` are host arrays of k.
//
// On the device: the two float32 GEMMs with M per iteration (cuda::gemm), the
// Gram matrix vᵀ(A v), the Ritz vectors and their images, the residual sums and
// the orthonormalization, all in double. On the host: the b x b projected
// eigenproblem (cpu::jacobi_eigen, b = the block size). Per iteration the host
// reads b² + 2 and k values and writes b² + b (three synchronizing copies).
// Not bit-identical to the CPU (other GEMM and reduction orders), so the
// iteration count can differ by one or two near the tolerance; deterministic on
// one device. Takes scratch memory, so call it on cuda::stream().
TopEigenResult top_gram_eigenvectors(const float* M, std::int64_t n, std::int64_t p, std::int64_t k,
                                     const TopEigenOptions& options, float* vectors, float* eigenvalues,
                                     float* residuals, Stream s);
// The twin of cpu::top_gram_eigenvectors(GramFactors, ...): G and F are device
// pointers; the three products per iteration are cuda::gemm calls.
TopEigenResult top_gram_eigenvectors(const GramFactors& m, std::int64_t n, std::int64_t p, std::int64_t k,
                                     const TopEigenOptions& options, float* vectors, float* eigenvalues,
                                     float* residuals, Stream s);
}  // namespace dynasparse::cuda
#endif
