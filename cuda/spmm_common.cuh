// Device helpers the sparse x dense kernels share (spmm.cu for CSR, spmm24.cu
// for 2:4): the subwarp's column tile of a B row, and the CPU's output rule.
//
// A subwarp of T threads owns 4 T consecutive output columns starting at
// `base`; thread q holds 4 of them. kVec: columns base + 4q + u (B's rows and
// C's rows are 16-byte aligned: float4 loads/stores); else base + q + T u
// (scalar, still coalesced). Columns past n read as 0 and are never written.
#pragma once

#include <cstdint>

#include "common.cuh"

namespace dynasparse::cuda {

template <bool kVecB>
__device__ __forceinline__ void load_b(float (&v)[4], const float* __restrict__ brow, std::int64_t base, int q, int tpr,
                                       std::int64_t n) {
  if (kVecB) {
    const std::int64_t c0 = base + 4 * q;
    if (c0 + 4 <= n) {
      const float4 x = __ldg(reinterpret_cast<const float4*>(brow + c0));
      v[0] = x.x, v[1] = x.y, v[2] = x.z, v[3] = x.w;
      return;
    }
    for (int u = 0; u < 4; ++u) v[u] = c0 + u < n ? __ldg(brow + c0 + u) : 0.0f;
  } else {
    for (int u = 0; u < 4; ++u) {
      const std::int64_t col = base + q + static_cast<std::int64_t>(tpr) * u;
      v[u] = col < n ? __ldg(brow + col) : 0.0f;
    }
  }
}

// The fast path of the vector layout: the thread's 4 columns c0 .. c0 + 3 of
// the tile all lie inside n. Then a B row is one unconditional float4 load, so
// the kernels can issue the loads of several entries before using any of
// them (with load_b's bounds test between them, nvcc keeps one load in flight
// per thread and the product waits on memory latency). The accumulation order
// does not change: only the loads move earlier.
template <bool kVecB>
__device__ __forceinline__ bool whole_vec4(std::int64_t base, int q, std::int64_t n) {
  return kVecB && base + 4 * q + 4 <= n;
}

__device__ __forceinline__ float4 load_b4(const float* __restrict__ p) {
  return __ldg(reinterpret_cast<const float4*>(p));
}

// acc[u] += v * x[u], each product and sum rounded once, as on the CPU; x as
// load_b gives it or as one float4 (load_b4).
__device__ __forceinline__ void add_row(float (&acc)[4], float v, const float (&x)[4]) {
  for (int u = 0; u < 4; ++u) acc[u] = __fadd_rn(acc[u], __fmul_rn(v, x[u]));
}
__device__ __forceinline__ void add_row(float (&acc)[4], float v, const float4& x) {
  const float xs[4] = {x.x, x.y, x.z, x.w};
  add_row(acc, v, xs);
}

// The CPU's output rule: alpha * acc, plus beta * old only when beta != 0 (so
// NaN garbage in C is never read), each product and the sum rounded once.
__device__ __forceinline__ float scale_out(float acc, float alpha, float beta, const float* old) {
  return beta == 0.0f ? __fmul_rn(alpha, acc) : __fadd_rn(__fmul_rn(alpha, acc), __fmul_rn(beta, *old));
}

// Writes the thread's 4 accumulators to its columns of the output row `crow`
// (same column assignment as load_b<kVecB>); vec_c: float4 stores (C's rows
// 16-byte aligned).
template <bool kVecB>
__device__ __forceinline__ void store_c(float* crow, const float (&acc)[4], std::int64_t base, int q, int tpr,
                                        std::int64_t n, float alpha, float beta, bool vec_c) {
  if (kVecB) {
    const std::int64_t c0 = base + 4 * q;
    if (vec_c && c0 + 4 <= n) {
      float4* p = reinterpret_cast<float4*>(crow + c0);
      const float4 old = beta == 0.0f ? make_float4(0.0f, 0.0f, 0.0f, 0.0f) : *p;
      *p = make_float4(scale_out(acc[0], alpha, beta, &old.x), scale_out(acc[1], alpha, beta, &old.y),
                       scale_out(acc[2], alpha, beta, &old.z), scale_out(acc[3], alpha, beta, &old.w));
    } else {
      for (int u = 0; u < 4; ++u)
        if (c0 + u < n) crow[c0 + u] = scale_out(acc[u], alpha, beta, crow + c0 + u);
    }
  } else {
    for (int u = 0; u < 4; ++u) {
      const std::int64_t col = base + q + static_cast<std::int64_t>(tpr) * u;
      if (col < n) crow[col] = scale_out(acc[u], alpha, beta, crow + col);
    }
  }
}

// T for n output columns: the smallest power of two whose 4 T columns cover
// n, at most a warp (narrow products do not idle 31 lanes).
inline int subwarp_log2(std::int64_t n) {
  int t = 0;
  while (t < 5 && (4LL << t) < n) ++t;
  return t;
}

// A thread's place in the products' layout: blocks of kThreads threads split
// into subwarps of T = 2^tpr_log2 lanes, one output row slot per subwarp
// (block by block), each slot's n columns in tiles of 4 T (blockIdx.y walks
// them, grid-stride); q is the thread's lane within its subwarp.
struct Subwarp {
  int tpr, q, index;             // T, the lane, the subwarp within the block
  std::int64_t slot;             // the output row slot
  std::int64_t width, tiles;     // columns per tile (4 T) and tiles for n columns
};

template <int kThreads>
__device__ __forceinline__ Subwarp subwarp_of(int tpr_log2, std::int64_t n) {
  Subwarp w;
  const int tid = static_cast<int>(threadIdx.x);
  w.tpr = 1 << tpr_log2;
  w.q = tid & (w.tpr - 1);
  w.index = tid >> tpr_log2;
  w.slot = static_cast<std::int64_t>(blockIdx.x) * (kThreads >> tpr_log2) + w.index;
  w.width = 4LL * w.tpr;
  w.tiles = (n + w.width - 1) / w.width;
  return w;
}

// The lanes of thread tid's subwarp of 2^tpr_log2 lanes within its warp.
__device__ __forceinline__ unsigned subwarp_mask(int tid, int tpr_log2) {
  const int tpr = 1 << tpr_log2;
  return tpr == 32 ? 0xffffffffu : ((1u << tpr) - 1u) << ((tid & 31) & ~(tpr - 1));
}

}  // namespace dynasparse::cuda
