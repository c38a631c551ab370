// The CUDA twin of cpu/eig.cpp: the top-k eigenvectors of A = M Mᵀ for a
// dense M (n x p, float32, on the device) by block subspace iteration with
// Rayleigh–Ritz, the method, start block, stopping rule, tolerance, outputs
// and sign convention of the CPU solver (see include/dynasparse/ops/eig.h).
//
// Each iteration, as on the CPU:
//   z = A v in float32 on the device (cuda::gemm): zᵀ = (vᵀ M) Mᵀ with M
//     formed, or alpha² ((vᵀ G) FᵀF) Gᵀ with M = alpha G Fᵀ given by factors;
//   h = vᵀ z (b x b, double, device reductions), copied to the host;
//   h = y diag(theta) yᵀ by cpu::jacobi_eigen on the host (b is k plus
//     oversampling: a few hundred numbers), y and theta copied back;
//   Ritz vectors x = v y, images ax = z y and the k residual sums on the
//     device, the sums copied to the host for the stopping test;
//   v = orthonormalized ax (fallback x) on the device (eig/orthonormalize.cuh).
// So the host reads b² + 2 and k values and writes b² + b values per
// iteration (three synchronizing copies on a GPU); the blocks stay on the device.
//
// Not bit-identical to the CPU: the GEMMs accumulate in another order than
// OpenBLAS or the built-in CPU kernel, and the double reductions use a tree.
// Both stop on the same test with the same tolerance, so the results agree to
// within what the tolerance allows (test/native/cuda/eig_test.cpp). Same
// inputs and seed on the same device give the same bits: no float atomics.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "dynasparse/ops/dense.h"
#include "dynasparse/ops/eig.h"
#include "eig/kernels.cuh"
#include "eig/orthonormalize.cuh"
#include "launch.cuh"

namespace dynasparse::cuda {
namespace {

using eig::State;

constexpr int kThreads = 256;

// E_ARG naming `what` and its first NaN or infinity (row-major flat order), as the CPU.
void check_finite(const float* x, std::int64_t rows, std::int64_t cols, const std::string& what, Stream s) {
  const std::int64_t count = rows * cols;
  Scratch<unsigned long long> first = kernel_scratch<unsigned long long>(1, s, "gramTopEigen");
  launch("set_u64_kernel", eig::set_u64_kernel, dim3(1), dim3(1), 0, s, first.data(),
         static_cast<unsigned long long>(count));
  launch("first_non_finite_kernel", eig::first_non_finite_kernel, dim3(blocks_for(count, kThreads)), dim3(kThreads), 0,
         s, first.data(), x, count);
  unsigned long long at = 0;
  download(&at, first.data(), 1);
  const auto i = static_cast<std::int64_t>(at);
  if (i < count)
    fail(ErrorCode::Arg, "eigensolver: " + what + " holds a non-finite value at (" + std::to_string(i / cols) + ", " +
                             std::to_string(i % cols) + ")");
}

// Orthonormalizes the b vectors of q (b x n) one after the other (see
// eig/orthonormalize.cuh); fallback may be null.
void orthonormalize(double* q, const double* fallback, std::int64_t n, std::int64_t b, std::uint64_t seed,
                    State* state, Stream s) {
  const int threads = eig::vector_threads(n);
  for (std::int64_t j = 0; j < b; ++j)
    launch("orthonormalize_kernel", eig::orthonormalize_kernel, dim3(1), dim3(threads),
           sizeof(double) * eig::kReduceSlots, s, q, fallback, n, j, seed, state);
}

// Block subspace iteration with Rayleigh–Ritz for A = M Mᵀ, whichever way M
// is given: apply(vf) overwrites the float32 device block vf (b x n, vectors
// as rows) with (A v) in the same layout. The caller checks the arguments.
template <typename Apply>
TopEigenResult solve(std::int64_t n, std::int64_t k, std::int64_t b, const TopEigenOptions& options, Apply&& apply,
                     float* vectors, float* eigenvalues, float* residuals, Stream s) {
  const auto nb = static_cast<std::size_t>(n * b), bb = static_cast<std::size_t>(b * b);
  const char* op = "gramTopEigen";
  // Device: the four blocks (v, z, x, ax) in double, the float32 block the
  // products read and write, and one small buffer: [State | h (b²) | y (b²) | theta (b) | res2 (k)].
  Scratch<double> blocks = kernel_scratch<double>(4 * nb, s, op);
  Scratch<float> vf_buf = kernel_scratch<float>(nb, s, op);
  static_assert(sizeof(State) == 2 * sizeof(double), "State takes the first two doubles of the small buffer");
  Scratch<double> small = kernel_scratch<double>(2 + 2 * bb + static_cast<std::size_t>(b + k), s, op);
  double *v = blocks.data(), *z = v + nb, *x = z + nb, *ax = x + nb;
  float* vf = vf_buf.data();
  auto* state = reinterpret_cast<State*>(small.data());
  double *h_dev = small.data() + 2, *y_dev = h_dev + bb, *theta_dev = y_dev + bb, *res2_dev = theta_dev + b;
  // Host: the State and h as downloaded, y and theta as uploaded (contiguous
  // like their device copies), the residual sums.
  std::vector<double> state_h(2 + bb), y_theta(bb + static_cast<std::size_t>(b)), res2(static_cast<std::size_t>(k)),
      res(static_cast<std::size_t>(k));
  double* h = state_h.data() + 2;
  double *y = y_theta.data(), *theta = y + bb;

  const int vthreads = eig::vector_threads(n);
  const auto gram_grid = static_cast<unsigned>(std::min<std::int64_t>(b, 65535));
  const std::size_t reduce_bytes = sizeof(double) * eig::kReduceSlots;
  const State start{static_cast<unsigned long long>(b), 0};
  upload(state, &start, 1);
  launch("start_block_kernel", eig::start_block_kernel, dim3(blocks_for(static_cast<std::int64_t>(nb), kThreads)),
         dim3(kThreads), 0, s, v, n, b, options.seed);
  orthonormalize(v, nullptr, n, b, options.seed, state, s);

  TopEigenResult result;
  for (std::int64_t iter = 1;; ++iter) {
    // z = A v in float32.
    const auto cnb = static_cast<std::int64_t>(nb);
    launch("to_float_kernel", eig::to_float_kernel, dim3(blocks_for(cnb, kThreads)), dim3(kThreads), 0, s, vf, v, cnb);
    apply(vf);
    launch("to_double_kernel", eig::to_double_kernel, dim3(blocks_for(cnb, kThreads)), dim3(kThreads), 0, s, z, vf, cnb);

    // Rayleigh–Ritz: h on the device, its eigenproblem on the host.
    launch("gram_kernel", eig::gram_kernel, dim3(gram_grid, gram_grid), dim3(vthreads),
           reduce_bytes, s, h_dev, v, z, n, b);
    download(state_h.data(), small.data(), 2 + bb);
    State st;
    std::memcpy(&st, state_h.data(), sizeof st);
    if (st.failed != 0) fail(ErrorCode::Arg, "eigensolver: could not complete an orthonormal basis");
    cpu::jacobi_eigen(h, b, theta, y);
    upload(y_dev, y_theta.data(), y_theta.size());
    launch("combine_kernel", eig::combine_kernel, dim3(blocks_for(n, kThreads), gram_grid),
           dim3(kThreads), 0, s, x, ax, v, z, y_dev, n, b);
    launch("residual_kernel", eig::residual_kernel, dim3(static_cast<unsigned>(k)), dim3(vthreads), reduce_bytes, s,
           res2_dev, x, ax, theta_dev, n);
    download(res2.data(), res2_dev, res2.size());

    const double lambda_max = std::max(theta[0], 0.0);
    bool converged = true;
    for (std::int64_t j = 0; j < k; ++j) {
      res[j] = lambda_max > 0.0 ? std::sqrt(res2[j]) / lambda_max : 0.0;
      if (!(res[j] <= options.tol)) converged = false;
    }
    result.iterations = iter;
    if (converged || iter >= options.max_iter) {
      result.converged = converged;
      break;
    }
    // Next block: orthonormalized A x, falling back to x. ax becomes v and the
    // old v (no longer needed) the next ax.
    std::swap(v, ax);
    orthonormalize(v, x, n, b, options.seed, state, s);
  }

  result.max_residual = 0.0;
  for (std::int64_t j = 0; j < k; ++j) {
    eigenvalues[j] = static_cast<float>(std::max(theta[j], 0.0));
    residuals[j] = static_cast<float>(res[j]);
    result.max_residual = std::max(result.max_residual, res[j]);
  }
  launch("finish_kernel", eig::finish_kernel, dim3(static_cast<unsigned>(k)), dim3(vthreads),
         sizeof(double) * (eig::kReduceSlots + 2 * static_cast<std::size_t>(vthreads)), s, vectors, x, n, k,
         options.scale);
  return result;
}

}  // namespace

TopEigenResult top_gram_eigenvectors(const float* M, std::int64_t n, std::int64_t p, std::int64_t k,
                                     const TopEigenOptions& options, float* vectors, float* eigenvalues,
                                     float* residuals, Stream s) {
  cpu::check_top_eigen_arguments(n, p, k, options);
  check_finite(M, n, p, "the matrix", s);
  const std::int64_t b = cpu::top_eigen_block(n, k);
  Scratch<float> wf_buf = kernel_scratch<float>(static_cast<std::size_t>(p * b), s, "gramTopEigen");
  float* wf = wf_buf.data();
  // zᵀ = (vᵀ M) Mᵀ.
  const auto apply = [&](float* vf) {
    gemm(false, false, b, p, n, 1.0f, vf, n, M, p, 0.0f, wf, p, s);
    gemm(false, true, b, n, p, 1.0f, wf, p, M, p, 0.0f, vf, n, s);
  };
  return solve(n, k, b, options, apply, vectors, eigenvalues, residuals, s);
}

TopEigenResult top_gram_eigenvectors(const GramFactors& m, std::int64_t n, std::int64_t p, std::int64_t k,
                                     const TopEigenOptions& options, float* vectors, float* eigenvalues,
                                     float* residuals, Stream s) {
  cpu::check_top_eigen_arguments(n, p, k, options);
  cpu::check_gram_factors(m);
  check_finite(m.g, n, m.r, m.g_name, s);
  check_finite(m.f, p, m.r, m.f_name, s);
  const std::int64_t b = cpu::top_eigen_block(n, k), r = m.r;
  const char* op = "gramTopEigen";
  Scratch<float> c_buf = kernel_scratch<float>(static_cast<std::size_t>(r * r), s, op),
                 u_buf = kernel_scratch<float>(static_cast<std::size_t>(b * r), s, op),
                 q_buf = kernel_scratch<float>(static_cast<std::size_t>(b * r), s, op);
  float *c = c_buf.data(), *u = u_buf.data(), *q = q_buf.data();
  gemm(true, false, r, r, p, 1.0f, m.f, r, m.f, r, 0.0f, c, r, s);  // C = FᵀF, once
  check_finite(c, r, r, std::string(m.f_name) + "ᵀ" + m.f_name + " (its Gram matrix)", s);
  const float alpha2 = m.alpha * m.alpha;
  // zᵀ = alpha² ((vᵀ G) C) Gᵀ, as on the CPU.
  const auto apply = [&](float* vf) {
    gemm(false, false, b, r, n, 1.0f, vf, n, m.g, r, 0.0f, u, r, s);
    gemm(false, false, b, r, r, alpha2, u, r, c, r, 0.0f, q, r, s);
    gemm(false, true, b, n, r, 1.0f, q, r, m.g, r, 0.0f, vf, n, s);
  };
  return solve(n, k, b, options, apply, vectors, eigenvalues, residuals, s);
}

}  // namespace dynasparse::cuda
