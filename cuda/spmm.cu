// CUDA twin of cpu::spmm_csr: C = alpha * A * B + beta * C for a CSR A, in the
// style of Sputnik (Gale et al., SC20):
//   - 1-D tiling with subwarps: a block of kThreads threads holds kThreads / T
//     subwarps of T threads (T a power of two chosen from the dense width n);
//     each subwarp computes one row of C over a column tile of 4 T columns (4
//     accumulators per thread), so narrow products (n = 1..4: T = 1, a thread
//     per row) do not idle 31 lanes of a warp;
//   - row swizzle: the rows are visited in an order sorted by length class
//     (longest first; see spmm_csr_row_order), so the rows of one block have
//     similar lengths (their subwarps finish together) and the long rows start
//     first instead of forming the tail of the grid;
//   - the row's column indices and values are staged through shared memory in
//     chunks, each loaded once, coalesced, by the subwarp's lanes, then read as
//     broadcasts by all of them (values through `perm` for the transposed
//     product: the gather happens once per entry, not once per column);
//   - B's rows are read as float4 vectors when B is 16-byte aligned with a
//     leading dimension that is a multiple of 4 (columns 4q..4q+3 of the tile
//     per thread), else as scalars (columns q, q + T, q + 2T, q + 3T: still
//     coalesced); the columns past n are the scalar residue. C is written as
//     float4 under the same condition on C. Where a thread's 4 columns are
//     inside n, the loads of 4 entries are issued before their sums, so
//     several B rows are in flight per thread (whole_vec4).
//
// Bit-exactness: each output element is summed by one thread, over its row's
// stored entries in ascending stored order, from +0, every product and sum
// written with __fmul_rn / __fadd_rn (nvcc cannot contract them into an FMA;
// the CPU builds with -ffp-contract=off), then alpha * acc (+ beta * C, read
// only when beta != 0) in the CPU's operation order. The results are therefore
// bit for bit the CPU's (NaN payloads aside: a GPU produces the canonical NaN),
// for any launch shape and any row order; the tests compare bits.
#include <cstdint>

#include "dynasparse/ops/spmm.h"
#include "launch.cuh"
#include "spmm_common.cuh"

namespace dynasparse::cuda {
namespace {

constexpr int kThreads = 128;
// Entries of a row staged at once per subwarp: 8 T, at most 32 (so a block
// stages at most 128 x 8 entries = 8 KiB).
constexpr int kMaxChunk = 32;
// Length classes of the row swizzle: __clz(length), 1..31 for a non-empty row
// (fewer leading zeros: longer), 32 for an empty one.
constexpr int kBuckets = 33;
constexpr int kSwizzleCounters = 2 * kBuckets;  // counts, then scatter cursors

struct Entry {
  std::int32_t col;
  float value;
};

// --- row swizzle ---------------------------------------------------------------

__global__ void swizzle_zero_kernel(std::int32_t* counters) {
  if (threadIdx.x < kSwizzleCounters) counters[threadIdx.x] = 0;
}

// counters[b] = the number of rows of length class b. A block counts into
// shared memory first, so the global atomics are one per class per block.
__global__ void swizzle_count_kernel(std::int32_t* __restrict__ counters, const std::int32_t* __restrict__ row_ptr,
                                     std::int64_t rows) {
  DS_DYNAMIC_SHARED(std::int32_t, hist);
  if (threadIdx.x < kBuckets) hist[threadIdx.x] = 0;
  __syncthreads();
  const std::int64_t stride = static_cast<std::int64_t>(gridDim.x) * blockDim.x;
  for (std::int64_t r = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; r < rows; r += stride)
    atomicAdd(hist + __clz(row_ptr[r + 1] - row_ptr[r]), 1);
  __syncthreads();
  if (threadIdx.x < kBuckets) {
    const std::int32_t count = hist[threadIdx.x];
    if (count > 0) atomicAdd(counters + threadIdx.x, count);
  }
}

// order[pos] = r, where pos = (rows of longer classes) + (a slot of r's class
// taken with an atomic). The order within a class depends on timing, which is
// harmless: a row's results do not depend on when it is computed.
__global__ void swizzle_scatter_kernel(std::int32_t* __restrict__ order, std::int32_t* __restrict__ counters,
                                       const std::int32_t* __restrict__ row_ptr, std::int64_t rows) {
  DS_DYNAMIC_SHARED(std::int32_t, offset);
  if (threadIdx.x < kBuckets) {
    std::int32_t before = 0;
    for (unsigned q = 0; q < threadIdx.x; ++q) before += counters[q];
    offset[threadIdx.x] = before;
  }
  __syncthreads();
  const std::int64_t stride = static_cast<std::int64_t>(gridDim.x) * blockDim.x;
  for (std::int64_t r = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; r < rows; r += stride) {
    const int b = __clz(row_ptr[r + 1] - row_ptr[r]);
    const std::int32_t pos = offset[b] + atomicAdd(counters + kBuckets + b, 1);
    order[pos] = static_cast<std::int32_t>(r);
  }
}

// --- the product ------------------------------------------------------------------

// One subwarp of T = 2^tpr_log2 threads per row slot; blockIdx.y walks the
// column tiles (grid-stride past the grid's y limit). row_order maps a slot
// to a row (null: the identity).
template <bool kVecB>
__global__ void __launch_bounds__(kThreads)
    spmm_csr_kernel(float* __restrict__ c, std::int64_t ldc, const std::int32_t* __restrict__ row_ptr,
                    const std::int32_t* __restrict__ col_idx, const float* __restrict__ values,
                    const std::int32_t* __restrict__ perm, const std::int32_t* __restrict__ row_order,
                    std::int64_t rows, const float* __restrict__ b, std::int64_t ldb, std::int64_t n, float alpha,
                    float beta, int tpr_log2, bool vec_c) {
  DS_DYNAMIC_SHARED(Entry, stage);
  const Subwarp w = subwarp_of<kThreads>(tpr_log2, n);
  const int tpr = w.tpr, q = w.q;
  const int chunk = tpr * 8 < kMaxChunk ? tpr * 8 : kMaxChunk;
  // The subwarp's lanes within its warp: __syncwarp orders its own staging only.
  const unsigned mask = subwarp_mask(static_cast<int>(threadIdx.x), tpr_log2);
  if (w.slot >= rows) return;  // the whole subwarp: no lane of another mask leaves
  const std::int64_t row = row_order != nullptr ? row_order[w.slot] : w.slot;
  const std::int32_t begin = row_ptr[row], end = row_ptr[row + 1];
  auto mine = stage + w.index * chunk;
  for (std::int64_t tile = blockIdx.y; tile < w.tiles; tile += gridDim.y) {
    const std::int64_t base = tile * w.width;
    const bool whole = whole_vec4<kVecB>(base, q, n);
    float acc[4] = {0.0f, 0.0f, 0.0f, 0.0f};
    // 64-bit: e0 + chunk may pass 2^31 - 1 when nnz is near it.
    for (std::int64_t e0 = begin; e0 < end; e0 += chunk) {
      const int count = static_cast<int>(end - e0 < chunk ? end - e0 : chunk);
      for (int i = q; i < count; i += tpr) {
        const std::int64_t e = e0 + i;
        mine[i] = Entry{col_idx[e], values[perm != nullptr ? perm[e] : e]};
      }
      __syncwarp(mask);
      int i = 0;
      if (whole) {
        // Four entries' B rows in flight at once, then their sums in order.
        const float* bq = b + base + 4 * q;
        for (; i + 4 <= count; i += 4) {
          const Entry e0 = mine[i], e1 = mine[i + 1], e2 = mine[i + 2], e3 = mine[i + 3];
          const float4 x0 = load_b4(bq + static_cast<std::int64_t>(e0.col) * ldb);
          const float4 x1 = load_b4(bq + static_cast<std::int64_t>(e1.col) * ldb);
          const float4 x2 = load_b4(bq + static_cast<std::int64_t>(e2.col) * ldb);
          const float4 x3 = load_b4(bq + static_cast<std::int64_t>(e3.col) * ldb);
          add_row(acc, e0.value, x0);
          add_row(acc, e1.value, x1);
          add_row(acc, e2.value, x2);
          add_row(acc, e3.value, x3);
        }
      }
      for (; i < count; ++i) {
        const Entry en = mine[i];
        float v[4];
        load_b<kVecB>(v, b + static_cast<std::int64_t>(en.col) * ldb, base, q, tpr, n);
        add_row(acc, en.value, v);
      }
      __syncwarp(mask);  // the next chunk overwrites the staged entries
    }
    store_c<kVecB>(c + row * ldc, acc, base, q, tpr, n, alpha, beta, vec_c);
  }
}

unsigned swizzle_grid(std::int64_t rows) { return blocks_for(rows, kThreads, 1024); }

void row_order_into(std::int32_t* order, std::int32_t* counters, const std::int32_t* row_ptr, std::int64_t rows,
                    Stream s) {
  const std::size_t shared = sizeof(std::int32_t) * kBuckets;
  launch("swizzle_zero_kernel", swizzle_zero_kernel, dim3(1), dim3(kSwizzleCounters), 0, s, counters);
  launch("swizzle_count_kernel", swizzle_count_kernel, dim3(swizzle_grid(rows)), dim3(kThreads), shared, s, counters,
         row_ptr, rows);
  launch("swizzle_scatter_kernel", swizzle_scatter_kernel, dim3(swizzle_grid(rows)), dim3(kThreads), shared, s, order,
         counters, row_ptr, rows);
}

}  // namespace

void spmm_csr_row_order(std::int32_t* order, const std::int32_t* row_ptr, std::int64_t rows, Stream s) {
  if (rows <= 0) return;
  Scratch<std::int32_t> counters = kernel_scratch<std::int32_t>(kSwizzleCounters, s, "spmm_csr_row_order");
  row_order_into(order, counters.data(), row_ptr, rows, s);
}

void spmm_csr_ordered(float* c, std::int64_t ldc, const std::int32_t* row_ptr, const std::int32_t* col_idx,
                      const float* values, const std::int32_t* perm, const std::int32_t* row_order, std::int64_t rows,
                      std::int64_t k, const float* b, std::int64_t ldb, std::int64_t n, float alpha, float beta,
                      Stream s) {
  static_cast<void>(k);  // B's height only bounds the column indices
  if (rows <= 0 || n <= 0) return;
  // T: the smallest power of two whose 4 T columns cover n, at most a warp.
  const int tpr_log2 = subwarp_log2(n);
  const int tpr = 1 << tpr_log2, chunk = tpr * 8 < kMaxChunk ? tpr * 8 : kMaxChunk;
  const int subwarps = kThreads / tpr;
  const std::int64_t tiles = (n + 4LL * tpr - 1) / (4LL * tpr);
  const dim3 grid(blocks_for(rows, subwarps, 0x7fffffffLL), static_cast<unsigned>(tiles < 65535 ? tiles : 65535));
  const std::size_t shared = sizeof(Entry) * static_cast<std::size_t>(subwarps * chunk);
  const bool vec_b = aligned16(b) && ldb % 4 == 0;
  const bool vec_c = aligned16(c) && ldc % 4 == 0;
  if (vec_b)
    launch("spmm_csr_kernel<vec>", spmm_csr_kernel<true>, grid, dim3(kThreads), shared, s, c, ldc, row_ptr, col_idx,
           values, perm, row_order, rows, b, ldb, n, alpha, beta, tpr_log2, vec_c);
  else
    launch("spmm_csr_kernel<scalar>", spmm_csr_kernel<false>, grid, dim3(kThreads), shared, s, c, ldc, row_ptr,
           col_idx, values, perm, row_order, rows, b, ldb, n, alpha, beta, tpr_log2, vec_c);
}

void spmm_csr(float* c, std::int64_t ldc, const std::int32_t* row_ptr, const std::int32_t* col_idx, const float* values,
              const std::int32_t* perm, std::int64_t rows, std::int64_t k, const float* b, std::int64_t ldb,
              std::int64_t n, float alpha, float beta, Stream s) {
  if (rows <= 0 || n <= 0) return;
  // One scratch block: the row order (rows) and the swizzle's counters. It is
  // stream-ordered memory freed when this function returns, after the product
  // that reads it has been enqueued on the same stream.
  Scratch<std::int32_t> scratch =
      kernel_scratch<std::int32_t>(static_cast<std::size_t>(rows) + kSwizzleCounters, s, "spmm_csr");
  std::int32_t* order = scratch.data();
  row_order_into(order, order + rows, row_ptr, rows, s);
  spmm_csr_ordered(c, ldc, row_ptr, col_idx, values, perm, order, rows, k, b, ldb, n, alpha, beta, s);
}

}  // namespace dynasparse::cuda
