// CUDA twins of cpu::sddmm_trans_b and cpu::sddmm: a dense product sampled at
// a CSR pattern's stored positions.
//
// sddmm_trans_b (the weight gradient: dW[i, j] = dot(dY[i, :], X[j, :]), both
// rows contiguous): a group of 8 lanes per stored entry, 4 entries per warp at
// once. The CPU's summation order (ops/sddmm.h) is 32 "lanes", lane l summing
// positions t = l, l + 32, ... then a fixed tree; here lane q of a group holds
// the CPU lanes 4q .. 4q + 3 as the 4 components of a float4 accumulator, so a
// float4 load at t = 32 m + 4 q brings exactly the next position of each of
// them. The tail t >= 32 floor(k / 32) goes to CPU lane t mod 32 (component
// t mod 4 of group lane (t mod 32) / 4), and the tree's first three levels
// (w = 16, 8, 4) are shuffles down by 4, 2 and 1 group lanes, the last two
// (w = 2, 1) adds inside the float4. Every product and sum is written with
// __fmul_rn / __fadd_rn, so the result is the CPU's bit for bit (NaN payloads
// aside). Vector loads need A and B 16-byte aligned with leading dimensions
// that are multiples of 4; otherwise the same lanes load scalars (same sums).
//
// Work is split by stored entry, not by row: a warp takes 32 consecutive
// entries of the flat entry array and finds their rows with a binary search on
// row_ptr (one per group, then a forward check per entry), so very long and
// very short rows cost the same per entry and need no row swizzle.
//
// sddmm (B [k, cols] row-major): B transposed into scratch by cuda::transpose,
// then sddmm_trans_b, as on the CPU (ops/sddmm.h): the same bits as the
// transB form, with coalesced vector loads instead of a gather per entry and t.
#include <cstdint>

#include "dynasparse/ops/dense.h"
#include "dynasparse/ops/sddmm.h"
#include "launch.cuh"

namespace dynasparse::cuda {
namespace {

constexpr int kThreads = 128;
constexpr int kGroup = 8;                    // lanes per entry
constexpr int kEntriesPerWarp = 32;          // 8 rounds of 4 entries
constexpr int kGroupsPerWarp = 32 / kGroup;  // entries computed at once by a warp

// The row holding stored entry e: the smallest r in [lo, rows) with
// row_ptr[r + 1] > e (empty rows have row_ptr[r + 1] == row_ptr[r] and are skipped).
__device__ __forceinline__ std::int64_t row_of(const std::int32_t* __restrict__ row_ptr, std::int64_t lo,
                                               std::int64_t rows, std::int64_t e) {
  return upper_bound(row_ptr + 1, lo, rows - 1, e);
}

__device__ __forceinline__ float4 mul_add4(float4 acc, float4 a, float4 b) {
  return make_float4(__fadd_rn(acc.x, __fmul_rn(a.x, b.x)), __fadd_rn(acc.y, __fmul_rn(a.y, b.y)),
                     __fadd_rn(acc.z, __fmul_rn(a.z, b.z)), __fadd_rn(acc.w, __fmul_rn(a.w, b.w)));
}

// The 4 floats at p[0..3] (p 16-byte aligned when kVec).
template <bool kVec>
__device__ __forceinline__ float4 load4(const float* __restrict__ p) {
  if (kVec) return __ldg(reinterpret_cast<const float4*>(p));
  return make_float4(__ldg(p), __ldg(p + 1), __ldg(p + 2), __ldg(p + 3));
}

// dot(a[0, k), b[0, k)) in the CPU's lane order, for group lane q (0..7); the
// full result is returned to q == 0 after the shuffles (every lane of the warp
// must call this together: the shuffles use the full mask).
template <bool kVec>
__device__ __forceinline__ float group_dot(const float* __restrict__ a, const float* __restrict__ b, std::int64_t k,
                                           int q, bool active) {
  float4 acc = make_float4(0.0f, 0.0f, 0.0f, 0.0f);
  if (active) {
    const std::int64_t main = k / 32 * 32;
    for (std::int64_t t = 4 * q; t < main; t += 32) acc = mul_add4(acc, load4<kVec>(a + t), load4<kVec>(b + t));
    // The tail: CPU lane r = t - main, here component r % 4 of group lane r / 4.
    const std::int64_t t0 = main + 4 * q;
    if (t0 < k) acc.x = __fadd_rn(acc.x, __fmul_rn(__ldg(a + t0), __ldg(b + t0)));
    if (t0 + 1 < k) acc.y = __fadd_rn(acc.y, __fmul_rn(__ldg(a + t0 + 1), __ldg(b + t0 + 1)));
    if (t0 + 2 < k) acc.z = __fadd_rn(acc.z, __fmul_rn(__ldg(a + t0 + 2), __ldg(b + t0 + 2)));
    if (t0 + 3 < k) acc.w = __fadd_rn(acc.w, __fmul_rn(__ldg(a + t0 + 3), __ldg(b + t0 + 3)));
  }
  // Tree levels w = 16, 8, 4: CPU lane l += lane l + w, i.e. group lane q +=
  // group lane q + w / 4, componentwise (lanes q >= w / 4 compute unused sums).
  for (int d = 4; d >= 1; d /= 2) {
    const float x = __shfl_down_sync(0xffffffffu, acc.x, d, kGroup);
    const float y = __shfl_down_sync(0xffffffffu, acc.y, d, kGroup);
    const float z = __shfl_down_sync(0xffffffffu, acc.z, d, kGroup);
    const float w = __shfl_down_sync(0xffffffffu, acc.w, d, kGroup);
    acc = make_float4(__fadd_rn(acc.x, x), __fadd_rn(acc.y, y), __fadd_rn(acc.z, z), __fadd_rn(acc.w, w));
  }
  // w = 2: lanes 0, 1 += lanes 2, 3; w = 1: lane 0 += lane 1.
  return __fadd_rn(__fadd_rn(acc.x, acc.z), __fadd_rn(acc.y, acc.w));
}

// Each warp: chunks of kEntriesPerWarp consecutive entries (grid-stride);
// group g of the warp takes entries chunk + g, + 4, + 8, ...
template <bool kVec>
__global__ void __launch_bounds__(kThreads)
    sddmm_trans_b_kernel(float* __restrict__ out, const std::int32_t* __restrict__ row_ptr,
                         const std::int32_t* __restrict__ col_idx, std::int64_t rows, const float* __restrict__ a,
                         std::int64_t lda, const float* __restrict__ b, std::int64_t ldb, std::int64_t k,
                         std::int64_t nnz) {
  const int lane = static_cast<int>(threadIdx.x) & 31;
  const int g = lane / kGroup, q = lane % kGroup;
  const std::int64_t warp = (static_cast<std::int64_t>(blockIdx.x) * kThreads + threadIdx.x) / 32;
  const std::int64_t warps = static_cast<std::int64_t>(gridDim.x) * (kThreads / 32);
  for (std::int64_t first = warp * kEntriesPerWarp; first < nnz; first += warps * kEntriesPerWarp) {  // warp-uniform
    std::int64_t row = -1;
    for (int round = 0; round < kEntriesPerWarp / kGroupsPerWarp; ++round) {
      const std::int64_t e = first + round * kGroupsPerWarp + g;
      const bool active = e < nnz;
      if (active && (row < 0 || row_ptr[row + 1] <= e)) row = row_of(row_ptr, row < 0 ? 0 : row + 1, rows, e);
      const float* ai = a + (active ? row * lda : 0);
      const float* bj = b + (active ? static_cast<std::int64_t>(col_idx[e]) * ldb : 0);
      const float dot = group_dot<kVec>(ai, bj, k, q, active);
      if (active && q == 0) out[e] = dot;
    }
  }
}

}  // namespace

void sddmm_trans_b(float* out, const std::int32_t* row_ptr, const std::int32_t* col_idx, std::int64_t rows,
                   const float* a, std::int64_t lda, const float* b, std::int64_t ldb, std::int64_t k, std::int64_t nnz,
                   Stream s) {
  if (rows <= 0 || nnz <= 0) return;
  static_assert(cpu::kSddmmLanes == 32, "the lane order of ops/sddmm.h: 8 group lanes x 4 components");
  const unsigned grid = blocks_for(nnz, kThreads / 32 * kEntriesPerWarp, 65535LL * 4);
  if (aligned16(a, b) && lda % 4 == 0 && ldb % 4 == 0)
    launch("sddmm_trans_b_kernel<vec>", sddmm_trans_b_kernel<true>, dim3(grid), dim3(kThreads), 0, s, out, row_ptr,
           col_idx, rows, a, lda, b, ldb, k, nnz);
  else
    launch("sddmm_trans_b_kernel<scalar>", sddmm_trans_b_kernel<false>, dim3(grid), dim3(kThreads), 0, s, out,
           row_ptr, col_idx, rows, a, lda, b, ldb, k, nnz);
}

void sddmm(float* out, const std::int32_t* row_ptr, const std::int32_t* col_idx, std::int64_t rows, std::int64_t cols,
           const float* a, std::int64_t lda, const float* b, std::int64_t ldb, std::int64_t k, std::int64_t nnz, Stream s) {
  if (rows <= 0 || nnz <= 0) return;
  if (k == 0) return sddmm_trans_b(out, row_ptr, col_idx, rows, a, lda, b, 0, 0, nnz, s);  // reads neither a nor b
  // Freed when this returns: the pool orders the release after the kernels on s.
  Scratch<float> bt = kernel_scratch<float>(static_cast<std::size_t>(cols * k), s, "sddmm");
  transpose(bt.data(), b, k, cols, ldb, s);
  sddmm_trans_b(out, row_ptr, col_idx, rows, a, lda, bt.data(), k, k, nnz, s);
}

}  // namespace dynasparse::cuda
