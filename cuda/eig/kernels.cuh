// The eigensolver's block kernels besides the orthonormalization: the start
// block, the float32 <-> double conversions around the GEMMs with M, the
// Rayleigh–Ritz pieces (Gram matrix, Ritz vectors and their images, residual
// sums), the final scaling with the sign convention, and the input check.
// Blocks of b vectors of length n are stored one vector per row (b x n), as
// in cpu/eig.cpp, so every vector operation reads contiguous memory.
#pragma once

#include <cstdint>

#include "../launch.cuh"
#include "dynasparse/philox.h"
#include "reduce.cuh"

namespace dynasparse::cuda::eig {

__device__ __forceinline__ std::int64_t global_thread() {
  return static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
}
__device__ __forceinline__ std::int64_t grid_threads() { return static_cast<std::int64_t>(gridDim.x) * blockDim.x; }

// The start block: entry r of vector j is normal draw (j * n + r) on
// rng::kStreamEigen, the CPU's start block bit for bit (normal_at is exact on
// both sides).
__global__ void start_block_kernel(double* __restrict__ v, std::int64_t n, std::int64_t b, std::uint64_t seed) {
  const std::int64_t total = n * b, stride = grid_threads();
  for (std::int64_t i = global_thread(); i < total; i += stride)
    v[i] = rng::normal_at(seed, rng::kStreamEigen, static_cast<std::uint64_t>(i), 0.0f, 1.0f);
}

__global__ void to_float_kernel(float* __restrict__ out, const double* __restrict__ in, std::int64_t count) {
  const std::int64_t stride = grid_threads();
  for (std::int64_t i = global_thread(); i < count; i += stride) out[i] = static_cast<float>(in[i]);
}

__global__ void to_double_kernel(double* __restrict__ out, const float* __restrict__ in, std::int64_t count) {
  const std::int64_t stride = grid_threads();
  for (std::int64_t i = global_thread(); i < count; i += stride) out[i] = static_cast<double>(in[i]);
}

// h = vᵀ (A v) as the CPU forms it: h[i, j] = h[j, i] = <v_i, z_j> for i <= j.
// Pairs (i over the grid's x, j over its y, grid-stride past the grid's size);
// a block's loop bounds are the same in all its threads, so every thread
// reaches every barrier. Shared memory: kReduceSlots doubles.
__global__ void gram_kernel(double* __restrict__ h, const double* __restrict__ v, const double* __restrict__ z,
                            std::int64_t n, std::int64_t b) {
  DS_DYNAMIC_SHARED(double, slots);
  for (std::int64_t j = blockIdx.y; j < b; j += gridDim.y) {
    for (std::int64_t i = blockIdx.x; i <= j; i += gridDim.x) {
      double s = 0.0;
      for (std::int64_t r = threadIdx.x; r < n; r += blockDim.x) s += v[i * n + r] * z[j * n + r];
      s = block_sum(s, slots);
      if (threadIdx.x == 0) h[i * b + j] = h[j * b + i] = s;
    }
  }
}

// Ritz vectors x = v y and their images ax = z y (y: b x b, column j the
// coefficients of Ritz vector j): x_j[r] = sum_l y[l, j] v_l[r] in l order,
// as cpu/eig.cpp's combine. Rows r over the grid's x, vectors j over its y.
__global__ void combine_kernel(double* __restrict__ x, double* __restrict__ ax, const double* __restrict__ v,
                               const double* __restrict__ z, const double* __restrict__ y, std::int64_t n,
                               std::int64_t b) {
  const std::int64_t stride = grid_threads();
  for (std::int64_t j = blockIdx.y; j < b; j += gridDim.y) {
    for (std::int64_t r = global_thread(); r < n; r += stride) {
      double sx = 0.0, sa = 0.0;
      for (std::int64_t l = 0; l < b; ++l) {
        const double c = y[l * b + j];
        sx += c * v[l * n + r];
        sa += c * z[l * n + r];
      }
      x[j * n + r] = sx;
      ax[j * n + r] = sa;
    }
  }
}

// res2[j] = ||ax_j - theta_j x_j||² for the k wanted pairs, one block each.
// Shared memory: kReduceSlots doubles.
__global__ void residual_kernel(double* __restrict__ res2, const double* __restrict__ x, const double* __restrict__ ax,
                                const double* __restrict__ theta, std::int64_t n) {
  DS_DYNAMIC_SHARED(double, slots);
  const std::int64_t j = blockIdx.x;
  const double t = theta[j];
  double s = 0.0;
  for (std::int64_t r = threadIdx.x; r < n; r += blockDim.x) {
    const double d = ax[j * n + r] - t * x[j * n + r];
    s += d * d;
  }
  s = block_sum(s, slots);
  if (threadIdx.x == 0) res2[j] = s;
}

// Column j of vectors (n x k) = x_j scaled to norm `scale`, rounded to float,
// negated when its largest-magnitude float component (the lowest row on ties)
// is negative: cpu/eig.cpp's output step. One block per column. Shared
// memory: kReduceSlots doubles, then each thread's best |value| and its row.
__global__ void finish_kernel(float* __restrict__ vectors, const double* __restrict__ x, std::int64_t n,
                              std::int64_t k, double scale) {
  DS_DYNAMIC_SHARED(double, shared);
  auto slots = shared;
  auto best_abs = shared + kReduceSlots;
  auto best_row = shared + kReduceSlots + blockDim.x;  // rows < 2^53 are exact in a double
  const std::int64_t j = blockIdx.x;
  const double* xj = x + j * n;
  double s = 0.0;
  for (std::int64_t r = threadIdx.x; r < n; r += blockDim.x) s += xj[r] * xj[r];
  const double factor = scale / sqrt(block_sum(s, slots));
  // Each thread's first largest |value| over its rows (ascending), then the
  // block's: larger wins, the lower row on ties, as the CPU's strict > scan.
  float best = -1.0f;
  std::int64_t arg = 0;
  for (std::int64_t r = threadIdx.x; r < n; r += blockDim.x) {
    const float value = static_cast<float>(xj[r] * factor);
    if (fabsf(value) > best) best = fabsf(value), arg = r;
  }
  best_abs[threadIdx.x] = best;
  best_row[threadIdx.x] = static_cast<double>(arg);
  __syncthreads();
  if (threadIdx.x == 0) {
    double top = best_abs[0], row = best_row[0];
    for (unsigned t = 1; t < blockDim.x; ++t)
      if (best_abs[t] > top || (best_abs[t] == top && best_row[t] < row)) top = best_abs[t], row = best_row[t];
    const float at = static_cast<float>(xj[static_cast<std::int64_t>(row)] * factor);
    slots[0] = at < 0.0f ? -1.0 : 1.0;
  }
  __syncthreads();
  const bool flip = slots[0] < 0.0;  // the flip is exact
  for (std::int64_t r = threadIdx.x; r < n; r += blockDim.x) {
    const float value = static_cast<float>(xj[r] * factor);
    vectors[r * k + j] = flip ? -value : value;
  }
}

// first[0] = the smallest flat index of a NaN or infinite value of m (count
// when none): an integer atomicMin, so the answer does not depend on the
// blocks' order. first[0] must hold count on entry.
__global__ void first_non_finite_kernel(unsigned long long* first, const float* __restrict__ m, std::int64_t count) {
  const std::int64_t stride = grid_threads();
  for (std::int64_t i = global_thread(); i < count; i += stride) {
    if (!(fabsf(m[i]) <= 3.402823466e38f)) {
      atomicMin(first, static_cast<unsigned long long>(i));
      return;  // this thread's later indices are larger
    }
  }
}

__global__ void set_u64_kernel(unsigned long long* out, unsigned long long value) { *out = value; }

}  // namespace dynasparse::cuda::eig
