// Block-wide sums in double for the eigensolver's kernels: every thread adds
// its strided share, warps reduce by shuffles, warp 0 adds the warp sums. The
// tree is fixed by the block size, so a sum is the same run to run (it differs
// from the CPU's in-order sum by double rounding only).
#pragma once

#include "../launch.cuh"

namespace dynasparse::cuda::eig {

constexpr unsigned kFullMask = 0xffffffffu;
// Doubles of dynamic shared memory block_sum needs: one per warp (at most 32)
// and one to broadcast the total.
constexpr int kReduceSlots = 33;

// Threads of the one-block-per-vector kernels: enough warps to cover n rows
// once, at most 256 (blockDim must be a multiple of 32: full warps shuffle).
inline int vector_threads(std::int64_t n) {
  const std::int64_t warps = (n + 31) / 32;
  return static_cast<int>(32 * (warps < 1 ? 1 : (warps > 8 ? 8 : warps)));
}

// The sum of `value` over the block; every thread returns it. `slots` is
// dynamic shared memory of kReduceSlots doubles, free again on return (the
// last barrier keeps the next call's writes behind this call's reads).
template <typename Slots>
__device__ double block_sum(double value, Slots slots) {
  const int lane = static_cast<int>(threadIdx.x) % 32, warp = static_cast<int>(threadIdx.x) / 32;
  const int warps = static_cast<int>(blockDim.x) / 32;
  for (int offset = 16; offset > 0; offset /= 2) value += __shfl_down_sync(kFullMask, value, offset);
  if (lane == 0) slots[warp] = value;
  __syncthreads();
  if (warp == 0) {
    double total = lane < warps ? static_cast<double>(slots[lane]) : 0.0;
    for (int offset = 16; offset > 0; offset /= 2) total += __shfl_down_sync(kFullMask, total, offset);
    if (lane == 0) slots[32] = total;
  }
  __syncthreads();
  const double total = slots[32];
  __syncthreads();
  return total;
}

}  // namespace dynasparse::cuda::eig
