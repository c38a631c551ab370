// Orthonormalization of a block of b vectors of length n (stored one vector
// per row, b x n, double) on the device: cpu/eig.cpp's rule, vector after
// vector, with the same arithmetic per vector: normalize, modified
// Gram–Schmidt against the vectors before it applied twice ("twice is
// enough", Giraud et al. 2005), normalize again. A vector whose relative norm
// left is <= kDependent is replaced by the fallback's vector (when there is
// one), then by fresh random vectors (rng::normal_at, draw numbers continuing
// the count), as on the CPU, so the block keeps full rank when A is rank
// deficient.
//
// One block per vector, launched once per vector in order (vector j needs
// vectors 0..j-1 final): the MGS dependencies are sequential, and one block
// covering n rows keeps every reduction on chip with no host round trip. The
// draw counter and a failure flag live in device memory (State), so the
// replacement decisions are made on the device too; the host reads the flag
// with the next Gram matrix.
#pragma once

#include <cstdint>

#include "../launch.cuh"
#include "dynasparse/philox.h"
#include "reduce.cuh"

namespace dynasparse::cuda::eig {

// Device state shared by the solver's kernels, read back by the host with the
// Gram matrix (it sits just before it in one buffer).
struct State {
  unsigned long long draws;   // random vectors drawn so far (the start block's b included)
  unsigned long long failed;  // 1 when a vector could not be made independent
};

// Below this relative norm a vector is taken as dependent on the ones before
// it (cpu/eig.cpp's kDependent).
constexpr double kDependent = 1e-10;

// cpu/eig.cpp's orthonormalize_vector for vector j of q, by the whole block.
// Every thread touches only its own rows r = threadIdx.x + t * blockDim.x of
// vector j, so only the reductions need barriers. Returns the norm left before
// the final normalization relative to the norm on entry (0 for a zero or
// non-finite vector), the same value in every thread.
template <typename Slots>
__device__ double orthonormalize_vector(double* q, std::int64_t n, std::int64_t j, Slots slots) {
  double* qj = q + j * n;
  double s = 0.0;
  for (std::int64_t r = threadIdx.x; r < n; r += blockDim.x) s += qj[r] * qj[r];
  const double start = sqrt(block_sum(s, slots));
  if (!(start > 0.0 && start <= 1.7976931348623157e308)) return 0.0;
  for (std::int64_t r = threadIdx.x; r < n; r += blockDim.x) qj[r] /= start;
  for (int pass = 0; pass < 2; ++pass) {
    for (std::int64_t i = 0; i < j; ++i) {
      const double* qi = q + i * n;
      double d = 0.0;
      for (std::int64_t r = threadIdx.x; r < n; r += blockDim.x) d += qi[r] * qj[r];
      d = block_sum(d, slots);
      for (std::int64_t r = threadIdx.x; r < n; r += blockDim.x) qj[r] -= d * qi[r];
    }
  }
  s = 0.0;
  for (std::int64_t r = threadIdx.x; r < n; r += blockDim.x) s += qj[r] * qj[r];
  const double left = sqrt(block_sum(s, slots));
  if (left > 0.0)
    for (std::int64_t r = threadIdx.x; r < n; r += blockDim.x) qj[r] /= left;
  return left;
}

// Vector j of q set to the random vector number `draw` (cpu/eig.cpp's random_vector).
__device__ inline void random_vector(double* q, std::int64_t n, std::int64_t j, std::uint64_t seed, std::uint64_t draw) {
  for (std::int64_t r = threadIdx.x; r < n; r += blockDim.x)
    q[j * n + r] = rng::normal_at(seed, rng::kStreamEigen, draw * static_cast<std::uint64_t>(n) + static_cast<std::uint64_t>(r),
                                  0.0f, 1.0f);
}

// One block: vector j of q made orthonormal to vectors 0..j-1 (see above).
// Shared memory: kReduceSlots doubles.
__global__ void orthonormalize_kernel(double* __restrict__ q, const double* __restrict__ fallback, std::int64_t n,
                                      std::int64_t j, std::uint64_t seed, State* state) {
  DS_DYNAMIC_SHARED(double, slots);
  if (orthonormalize_vector(q, n, j, slots) > kDependent) return;
  bool ok = false;
  if (fallback != nullptr) {
    for (std::int64_t r = threadIdx.x; r < n; r += blockDim.x) q[j * n + r] = fallback[j * n + r];
    ok = orthonormalize_vector(q, n, j, slots) > kDependent;
  }
  // Every thread reads the counter before thread 0 writes it back (the
  // barriers inside the reductions order the read before the write).
  const unsigned long long first_draw = state->draws;
  unsigned long long draws = first_draw;
  // b <= n, so a random vector is independent of j < n vectors with
  // probability 1; the bound only guards against the impossible.
  for (int attempt = 0; !ok && attempt < 64; ++attempt) {
    random_vector(q, n, j, seed, draws++);
    ok = orthonormalize_vector(q, n, j, slots) > kDependent;
  }
  __syncthreads();
  if (threadIdx.x == 0) {
    state->draws = draws;
    if (!ok) state->failed = 1;
  }
}

}  // namespace dynasparse::cuda::eig
