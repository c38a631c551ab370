// One pass over the candidates of topk_growth: every position (i, j) of
// dy · xᵀ not stored in the pattern, with score |sum_b dy[i, b] * x[j, b]|.
//
// The product is recomputed tile by tile in every pass and never stored: a
// block computes a 128 x 128 tile with 256 threads, each thread an 8 x 8
// register block, staging 16 batch columns of dy and x at a time in shared
// memory, as cuda::gemm does. Each
// entry is accumulated in batch order b = 0, 1, ... from 0.0f, one
// __fmul_rn and one __fadd_rn per term (nvcc may not fuse them into an FMA),
// exactly the CPU's sequence of roundings (cpu/topk.cpp sums in float32 in
// batch order with -ffp-contract=off), so the scores are bit-identical to
// the CPU's and both backends select the same positions. The inner loop
// stops at the batch (no zero padding is added: 0 * Inf would be NaN).
//
// Which positions are stored: before the products, thread r < 128 of the
// block walks row i0 + r of the pattern from the first column >= j0 (binary
// search over its sorted columns) to j0 + 128 and builds the row's 128-bit
// mask of stored columns in shared memory, so each stored entry costs one step per
// tile and a candidate's test is one shared-memory read.
//
// Pass::Histogram adds the current digit of every candidate in the
// selection's group to the histogram (radix.cuh), over the sampled tiles only
// when `sample` > 1 (a power of two; tile (tm, tn) with tn = tm mod sample: every row block
// and every column block is sampled alike); Pass::Emit writes the selected
// candidates to `out` (emit_warp, sort.cuh); Pass::Filter writes those the
// state's prefix admits, at most `capacity` of them, counting all of them in
// st->emitted, and counts the candidates that are NaN and those that are not
// in st->filter_nan and st->filter_not_nan (cuda/topk.cu's one-pass
// selection); it stops early once st->emitted is past the capacity.
#pragma once

#include <cstdint>

#include "../launch.cuh"
#include "radix.cuh"
#include "sort.cuh"

// Fully unrolled loops keep the 8 x 8 accumulators (and the mask words) in
// registers: a loop that indexes them at run time would put them in local
// memory. nvcc only (the host compiler of the emulation does not know the
// pragma, and its speed does not matter there).
#if defined(__CUDACC__)
#define DS_SELECT_UNROLL _Pragma("unroll")
#else
#define DS_SELECT_UNROLL
#endif

namespace dynasparse::cuda::select {

// A thread computes kPer x kPer entries: rows ty + 16 u, columns tx + 16 v
// (tx, ty in 0..15), so a warp's shared-memory reads are broadcasts or
// consecutive words; 8 x 8 per thread gives 64 products per 16 shared loads.
constexpr int kPer = 8;
constexpr int kTileM = 16 * kPer, kTileN = 16 * kPer, kTileK = 16;
constexpr int kGrowthThreads = 256;
constexpr int kTileLd = kTileM + 1;  // +1: the transposing shared-memory stores hit distinct banks
constexpr int kMaskWords = kTileN / 32;

// Shared memory, in 32-bit words: dy's slice As[l][r], x's slice Bs[l][c]
// (floats as bits), the stored-column masks (kMaskWords per tile row), then
// the histogram and NaN counter (radix.cuh). About 27 KiB.
constexpr int kSharedA = 0;
constexpr int kSharedB = kSharedA + kTileK * kTileLd;
constexpr int kSharedMask = kSharedB + kTileK * kTileLd;
constexpr int kSharedHist = kSharedMask + kMaskWords * kTileM;
constexpr std::size_t kGrowthShared = sizeof(unsigned int) * (kSharedHist + kBins + 1);

enum class Pass { Histogram, Emit, Filter };

// kDense: the scores are |dy[i * cols + j]| of a dense [rows, cols] matrix
// instead of products (topk_dense; x and batch unused), over the same tiles,
// masks and selection.
template <Pass kPass, bool kDense = false>
__global__ void __launch_bounds__(kGrowthThreads)
    growth_pass_kernel(const float* __restrict__ dy, const float* __restrict__ x, const std::int32_t* __restrict__ row_ptr,
                       const std::int32_t* __restrict__ col_idx, std::int64_t rows, std::int64_t cols,
                       std::int64_t batch, State* st, unsigned long long* global_hist, Record* out, Digit d,
                       int sample, long long capacity) {
  constexpr bool kEmit = kPass != Pass::Histogram;
  DS_DYNAMIC_SHARED(unsigned int, shared);
  auto As = shared + kSharedA;
  auto Bs = shared + kSharedB;
  auto stored = shared + kSharedMask;
  auto hist = shared + kSharedHist;
  const Filter f = load_filter(st);
  // Uniform over the grid: a histogram pass after the selection is known, or
  // an emit pass with nothing to select or after a filter pass that did it,
  // has nothing to do. A filter pass always runs.
  if (kPass == Pass::Histogram && f.done != 0) return;
  if (kPass == Pass::Emit && (f.emit_count == 0 || f.prefiltered != 0)) return;
  const long long limit = kPass == Pass::Filter ? capacity : f.emit_count;
  if (!kEmit) block_histogram_clear(hist, d);

  const int tid = static_cast<int>(threadIdx.x);
  const int tx = tid % 16, ty = tid / 16;
  unsigned int not_nan = 0, nan = 0;  // the filter pass's counts of this thread's candidates
  const std::int64_t tiles_m = (rows + kTileM - 1) / kTileM, tiles_n = (cols + kTileN - 1) / kTileN;
  for (std::int64_t tm = blockIdx.y; tm < tiles_m; tm += gridDim.y) {
    for (std::int64_t tn = blockIdx.x * static_cast<std::int64_t>(sample) + (tm & (sample - 1)); tn < tiles_n;
         tn += static_cast<std::int64_t>(gridDim.x) * sample) {
      const std::int64_t i0 = tm * kTileM, j0 = tn * kTileN;
      if (kPass == Pass::Filter) {
        // Past its capacity the try has failed whatever the other tiles hold
        // (filter_check_kernel rejects it, and the counts no longer matter):
        // stop, rather than queue an atomic per warp and step on one counter
        // (ties at the threshold admit nearly every candidate). The vote makes
        // the exit uniform over the block.
        const bool over = tid == 0 && *reinterpret_cast<const volatile unsigned long long*>(&st->emitted) >
                                          static_cast<unsigned long long>(capacity);
        if (__syncthreads_or(over)) return;
      }
      if (tid < kTileM) {
        unsigned int bits[kMaskWords];
        DS_SELECT_UNROLL
        for (int w = 0; w < kMaskWords; ++w) bits[w] = 0u;
        const std::int64_t i = i0 + tid;
        if (i < rows) {
          const std::int64_t row_end = row_ptr[i + 1];
          std::int64_t p = lower_bound(col_idx, row_ptr[i], row_end, j0);  // the first stored column >= j0
          for (; p < row_end && col_idx[p] < j0 + kTileN; ++p) {
            const int c = static_cast<int>(col_idx[p] - j0);
            DS_SELECT_UNROLL
            for (int w = 0; w < kMaskWords; ++w)
              if (c / 32 == w) bits[w] |= 1u << (c % 32);
          }
        }
        DS_SELECT_UNROLL
        for (int w = 0; w < kMaskWords; ++w) stored[kMaskWords * tid + w] = bits[w];
      }
      __syncthreads();  // the masks are complete (the batch loop may have no barrier)

      float acc[kPer][kPer];
      DS_SELECT_UNROLL
      for (int u = 0; u < kPer; ++u)
        DS_SELECT_UNROLL
        for (int v = 0; v < kPer; ++v) {
          const std::int64_t i = i0 + ty + 16 * u, j = j0 + tx + 16 * v;
          acc[u][v] = kDense && i < rows && j < cols ? dy[i * cols + j] : 0.0f;
        }
      for (std::int64_t l0 = 0; !kDense && l0 < batch; l0 += kTileK) {
        DS_SELECT_UNROLL
        for (int p = 0; p < (kTileM * kTileK) / kGrowthThreads; ++p) {
          // Consecutive threads read consecutive batch entries of one row.
          const int e = tid + p * kGrowthThreads;
          const int r = e / kTileK, l = e % kTileK;
          const std::int64_t gl = l0 + l;
          const std::int64_t gi = i0 + r, gj = j0 + r;
          As[l * kTileLd + r] = __float_as_uint(gi < rows && gl < batch ? dy[gi * batch + gl] : 0.0f);
          Bs[l * kTileLd + r] = __float_as_uint(gj < cols && gl < batch ? x[gj * batch + gl] : 0.0f);
        }
        __syncthreads();
        const int kc = batch - l0 < kTileK ? static_cast<int>(batch - l0) : kTileK;
        for (int l = 0; l < kc; ++l) {
          float a[kPer], b[kPer];
          DS_SELECT_UNROLL
          for (int u = 0; u < kPer; ++u) a[u] = __uint_as_float(As[l * kTileLd + ty + 16 * u]);
          DS_SELECT_UNROLL
          for (int v = 0; v < kPer; ++v) b[v] = __uint_as_float(Bs[l * kTileLd + tx + 16 * v]);
          DS_SELECT_UNROLL
          for (int u = 0; u < kPer; ++u)
            DS_SELECT_UNROLL
            for (int v = 0; v < kPer; ++v) acc[u][v] = __fadd_rn(acc[u][v], __fmul_rn(a[u], b[v]));
        }
        __syncthreads();  // the next slice overwrites As and Bs
      }

      // Uniform loops (no early exit): the emit pass's warp vote needs every lane.
      DS_SELECT_UNROLL
      for (int u = 0; u < kPer; ++u) {
        const int r = ty + 16 * u;
        const std::int64_t i = i0 + r;
        DS_SELECT_UNROLL
        for (int v = 0; v < kPer; ++v) {
          const int c = tx + 16 * v;
          const std::int64_t j = j0 + c;
          const bool is_stored = ((stored[kMaskWords * r + c / 32] >> (c % 32)) & 1u) != 0u;
          const bool candidate = i < rows && j < cols && !is_stored;
          const unsigned int key = __float_as_uint(fabsf(acc[u][v]));
          const unsigned int rk = ~key;  // the largest scores first
          const unsigned long long idx = static_cast<unsigned long long>(i * cols + j);
          if (kEmit) {
            const bool take = candidate && key <= kInfBits && selected(f, rk, idx);
            emit_warp(take, Record{rk, static_cast<std::int32_t>(i), static_cast<std::int32_t>(j)}, st, out, limit);
            if (kPass == Pass::Filter) {
              not_nan += candidate && key <= kInfBits ? 1u : 0u;
              nan += candidate && key > kInfBits ? 1u : 0u;
            }
          } else if (candidate) {
            histogram_offer(hist, f, d, key, rk, idx);
          }
        }
      }
      __syncthreads();  // the next tile rewrites the masks
    }
  }
  if (!kEmit) {
    __syncthreads();  // every tile's atomics (and the clear) before the flush
    block_histogram_flush(hist, d, global_hist, st);
  }
  if (kPass == Pass::Filter) {
    // The warp's counts to lane 0, one atomic each per warp (every lane is here:
    // the tile loops and the early exit are uniform over the block).
    for (int offset = 16; offset > 0; offset /= 2) {
      not_nan += __shfl_down_sync(0xffffffffu, not_nan, offset);
      nan += __shfl_down_sync(0xffffffffu, nan, offset);
    }
    if (tid % 32 == 0) {
      if (not_nan != 0u) atomicAdd(&st->filter_not_nan, static_cast<unsigned long long>(not_nan));
      if (nan != 0u) atomicAdd(&st->filter_nan, static_cast<unsigned long long>(nan));
    }
  }
}

}  // namespace dynasparse::cuda::select
