// CUDA twins of cpu::spmm_24 and cpu::spmm_24_trans (fp32, portable: every
// GPU, and the SIMT emulation). The tensor-core product is spmm24_mma.cu.
//
// Both kernels give a subwarp of T threads one output row and a column tile of
// 4 T columns (T from n, as spmm_csr: cuda/spmm_common.cuh); a 2:4 row has no
// length imbalance, so there is no row swizzle. The subwarp's lanes read A's
// metadata and values at the same addresses (broadcast loads) and B's row
// coalesced.
//
// Bit-exactness (ops/spmm.h): each output element is one thread's sum from +0,
// __fmul_rn / __fadd_rn (no FMA), in the CPU's order, then alpha * acc
// (+ beta * C only when beta != 0):
//   - A B: row i's entries e = 0 .. cols/2 - 1 in order (group by group, the
//     lower position first), column 4 (e / 2) + position;
//   - A^T B: output row j (column j of A, group g = j / 4, position p = j % 4)
//     sums A[i, j] B[i, :] over ascending i, a row whose group g stores p in
//     both slots (never made by sparse24_from_dense) adding slot 0 then slot 1,
//     the CPU's (i, e) order. Half of A's rows store a given column, so the scan
//     over all rows wastes at most half of its iterations; in exchange each output
//     has one owner (no float atomics, no partial outputs, no scratch).
#include <cstdint>

#include "dynasparse/ops/sparse24.h"
#include "dynasparse/ops/spmm.h"
#include "launch.cuh"
#include "spmm_common.cuh"

namespace dynasparse::cuda {
namespace {

constexpr int kThreads = 128;

using cpu::sparse24_nibble;

__device__ __forceinline__ void add_row(float (&acc)[4], float v, const float (&x)[4]) {
  for (int u = 0; u < 4; ++u) acc[u] = __fadd_rn(acc[u], __fmul_rn(v, x[u]));
}

// C[rows, n] = alpha A B + beta C. Subwarp slot = A's row; blockIdx.y walks
// the column tiles (grid-stride past the grid's y limit).
template <bool kVecB>
__global__ void __launch_bounds__(kThreads)
    spmm_24_kernel(float* __restrict__ c, std::int64_t ldc, const float* __restrict__ values,
                   const std::int32_t* __restrict__ meta, std::int64_t rows, std::int64_t cols,
                   const float* __restrict__ b, std::int64_t ldb, std::int64_t n, float alpha, float beta,
                   int tpr_log2, bool vec_c) {
  const int tpr = 1 << tpr_log2, tid = static_cast<int>(threadIdx.x);
  const int q = tid & (tpr - 1);
  const std::int64_t row = static_cast<std::int64_t>(blockIdx.x) * (kThreads >> tpr_log2) + (tid >> tpr_log2);
  if (row >= rows) return;
  const std::int64_t groups = cols / 4, words = (groups + 7) / 8;
  const float* vals = values + row * (cols / 2);
  const std::int32_t* meta_row = meta + row * words;
  const std::int64_t width = 4LL * tpr, tiles = (n + width - 1) / width;
  for (std::int64_t tile = blockIdx.y; tile < tiles; tile += gridDim.y) {
    const std::int64_t base = tile * width;
    float acc[4] = {0.0f, 0.0f, 0.0f, 0.0f};
    for (std::int64_t g = 0; g < groups; ++g) {
      const std::uint32_t nibble = sparse24_nibble(meta_row, g);
      float x[4];
      load_b<kVecB>(x, b + (4 * g + (nibble & 3u)) * ldb, base, q, tpr, n);
      add_row(acc, vals[2 * g], x);
      load_b<kVecB>(x, b + (4 * g + (nibble >> 2)) * ldb, base, q, tpr, n);
      add_row(acc, vals[2 * g + 1], x);
    }
    store_c<kVecB>(c + row * ldc, acc, base, q, tpr, n, alpha, beta, vec_c);
  }
}

// C[cols, n] = alpha A^T B + beta C, B [rows, n]. Subwarp slot = A's column j.
template <bool kVecB>
__global__ void __launch_bounds__(kThreads)
    spmm_24_trans_kernel(float* __restrict__ c, std::int64_t ldc, const float* __restrict__ values,
                         const std::int32_t* __restrict__ meta, std::int64_t rows, std::int64_t cols,
                         const float* __restrict__ b, std::int64_t ldb, std::int64_t n, float alpha, float beta,
                         int tpr_log2, bool vec_c) {
  const int tpr = 1 << tpr_log2, tid = static_cast<int>(threadIdx.x);
  const int q = tid & (tpr - 1);
  const std::int64_t j = static_cast<std::int64_t>(blockIdx.x) * (kThreads >> tpr_log2) + (tid >> tpr_log2);
  if (j >= cols) return;
  const std::int64_t g = j / 4, half = cols / 2, words = (cols / 4 + 7) / 8;
  const std::uint32_t p = static_cast<std::uint32_t>(j % 4);
  const std::int64_t width = 4LL * tpr, tiles = (n + width - 1) / width;
  for (std::int64_t tile = blockIdx.y; tile < tiles; tile += gridDim.y) {
    const std::int64_t base = tile * width;
    float acc[4] = {0.0f, 0.0f, 0.0f, 0.0f};
    for (std::int64_t i = 0; i < rows; ++i) {
      const std::uint32_t nibble = sparse24_nibble(meta + i * words, g);
      if ((nibble & 3u) != p && (nibble >> 2) != p) continue;  // the subwarp's branch: one j
      float x[4];
      load_b<kVecB>(x, b + i * ldb, base, q, tpr, n);
      if ((nibble & 3u) == p) add_row(acc, values[i * half + 2 * g], x);
      if ((nibble >> 2) == p) add_row(acc, values[i * half + 2 * g + 1], x);
    }
    store_c<kVecB>(c + j * ldc, acc, base, q, tpr, n, alpha, beta, vec_c);
  }
}

using Kernel = void (*)(float*, std::int64_t, const float*, const std::int32_t*, std::int64_t, std::int64_t,
                        const float*, std::int64_t, std::int64_t, float, float, int, bool);

// Launches `kernel` (scalar or vector flavour) over `slots` output rows.
void run(const char* name, Kernel scalar, Kernel vec, std::int64_t slots, float* c, std::int64_t ldc,
         const float* values, const std::int32_t* meta, std::int64_t rows, std::int64_t cols, const float* b,
         std::int64_t ldb, std::int64_t n, float alpha, float beta, Stream s) {
  const int tpr_log2 = subwarp_log2(n), tpr = 1 << tpr_log2;
  const std::int64_t tiles = (n + 4LL * tpr - 1) / (4LL * tpr);
  const dim3 grid(blocks_for(slots, kThreads / tpr, 0x7fffffffLL), static_cast<unsigned>(tiles < 65535 ? tiles : 65535));
  const bool vec_b = aligned16(b) && ldb % 4 == 0, vec_c = aligned16(c) && ldc % 4 == 0;
  launch(name, vec_b ? vec : scalar, grid, dim3(kThreads), 0, s, c, ldc, values, meta, rows, cols, b, ldb, n, alpha,
         beta, tpr_log2, vec_c);
}

}  // namespace

void spmm_24(float* c, std::int64_t ldc, const float* values, const std::int32_t* meta, std::int64_t rows,
             std::int64_t cols, const float* b, std::int64_t ldb, std::int64_t n, float alpha, float beta, Stream s) {
  if (rows <= 0 || n <= 0) return;
  run("spmm_24_kernel", spmm_24_kernel<false>, spmm_24_kernel<true>, rows, c, ldc, values, meta, rows, cols, b, ldb, n,
      alpha, beta, s);
}

void spmm_24_trans(float* c, std::int64_t ldc, const float* values, const std::int32_t* meta, std::int64_t rows,
                   std::int64_t cols, const float* b, std::int64_t ldb, std::int64_t n, float alpha, float beta,
                   Stream s) {
  if (cols <= 0 || n <= 0) return;
  run("spmm_24_trans_kernel", spmm_24_trans_kernel<false>, spmm_24_trans_kernel<true>, cols, c, ldc, values, meta,
      rows, cols, b, ldb, n, alpha, beta, s);
}

}  // namespace dynasparse::cuda
