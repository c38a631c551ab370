// CUDA twins of cpu::spmm_24 and cpu::spmm_24_trans (cpu/spmm24.cpp): the fp32
// products (portable: every GPU, and the SIMT emulation), and below them the
// bf16 product on the sparse tensor cores, whose reference is the same fp32
// cpu::spmm_24.
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
#include <string>

#include "dynasparse/ops/sparse24.h"
#include "dynasparse/ops/spmm.h"
#include "launch.cuh"
#include "mma_sp.cuh"
#include "spmm_common.cuh"

namespace dynasparse::cuda {
namespace {

constexpr int kThreads = 128;

using cpu::sparse24_nibble;

// C[rows, n] = alpha A B + beta C. Subwarp slot = A's row; blockIdx.y walks
// the column tiles (grid-stride past the grid's y limit).
template <bool kVecB>
__global__ void __launch_bounds__(kThreads)
    spmm_24_kernel(float* __restrict__ c, std::int64_t ldc, const float* __restrict__ values,
                   const std::int32_t* __restrict__ meta, std::int64_t rows, std::int64_t cols,
                   const float* __restrict__ b, std::int64_t ldb, std::int64_t n, float alpha, float beta,
                   int tpr_log2, bool vec_c) {
  const Subwarp w = subwarp_of<kThreads>(tpr_log2, n);
  const int tpr = w.tpr, q = w.q;
  const std::int64_t row = w.slot;
  if (row >= rows) return;
  const std::int64_t groups = cols / 4, words = (groups + 7) / 8;
  const float* vals = values + row * (cols / 2);
  const std::int32_t* meta_row = meta + row * words;
  for (std::int64_t tile = blockIdx.y; tile < w.tiles; tile += gridDim.y) {
    const std::int64_t base = tile * w.width;
    float acc[4] = {0.0f, 0.0f, 0.0f, 0.0f};
    std::int64_t g = 0;
    if (whole_vec4<kVecB>(base, q, n)) {
      // Two groups' four B rows in flight at once, then their sums in order.
      const float* bq = b + base + 4 * q;
      for (; g + 2 <= groups; g += 2) {
        const std::uint32_t n0 = sparse24_nibble(meta_row, g), n1 = sparse24_nibble(meta_row, g + 1);
        const float4 x0 = load_b4(bq + (4 * g + (n0 & 3u)) * ldb);
        const float4 x1 = load_b4(bq + (4 * g + (n0 >> 2)) * ldb);
        const float4 x2 = load_b4(bq + (4 * g + 4 + (n1 & 3u)) * ldb);
        const float4 x3 = load_b4(bq + (4 * g + 4 + (n1 >> 2)) * ldb);
        add_row(acc, vals[2 * g], x0);
        add_row(acc, vals[2 * g + 1], x1);
        add_row(acc, vals[2 * g + 2], x2);
        add_row(acc, vals[2 * g + 3], x3);
      }
    }
    for (; g < groups; ++g) {
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
  const Subwarp w = subwarp_of<kThreads>(tpr_log2, n);
  const int tpr = w.tpr, q = w.q;
  const std::int64_t j = w.slot;
  if (j >= cols) return;
  const std::int64_t g = j / 4, half = cols / 2, words = (cols / 4 + 7) / 8;
  const std::uint32_t p = static_cast<std::uint32_t>(j % 4);
  for (std::int64_t tile = blockIdx.y; tile < w.tiles; tile += gridDim.y) {
    const std::int64_t base = tile * w.width;
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

// --- the bf16 product on the sparse tensor cores --------------------------------
//
// C = alpha * A * B + beta * C for a 2:4 A on the sparse tensor cores (PTX
// mma.sp m16n8k32, bf16 inputs, fp32 accumulation; cuda/mma_sp.cuh), reading
// A's tensor-core copy (ops/sparse24.h, built by cuda/sparse24.cu) and fp32 B,
// rounded to bf16 as it is staged.
//
// Tiling: a block of 4 warps computes a 64 x 128 tile of C (warps 2 x 2, each
// 32 x 64: 2 m16 tiles x 8 n8 tiles, 64 fp32 accumulators per thread), walking
// k 64 columns at a time (a pair of k32 tiles: one metadata register per lane
// and m16 tile serves both, through the sparsity selector). Per step:
//   - B's 64 x 128 slice is read coalesced (consecutive threads, consecutive
//     columns), rounded to bf16 pairs along k and stored transposed in shared
//     memory, Bs[col][k / 2], so a lane's fragment register (rows 2t, 2t + 1 of
//     its column) is one 32-bit word; rows are padded to 36 words, which puts
//     the 32 lanes' fragment loads (row g, word 4j + t) on 32 distinct banks;
//   - A's fragments and metadata come straight from global memory, 16 and 4
//     bytes per lane, coalesced: the tensor-core copy is laid out per lane.
// k past cols reads B as 0 (A's padding is 0 too, and 0 x 0 adds nothing), rows
// past `rows` and columns past n are neither read nor written.
//
// Accuracy: A and B are rounded to bf16 (relative error 2^-9 each), products
// are accumulated in fp32 in an order the hardware chooses, then the CPU's
// output rule (alpha * acc, + beta * C only when beta != 0). The tests bound
// |C - C_fp32| by 2^-7 * sum_k |alpha A[i,k] B[k,j]| + fp32 accumulation terms
// (test/native/cuda/spmm24_test.cpp).

namespace {

constexpr int kMmaThreads = 128;
constexpr int kBlockM = 64, kBlockN = 128, kStepK = 64;
constexpr int kLdS = kStepK / 2 + 4;  // words per Bs row: 32 bf16 pairs + 4 (bank spread)
constexpr std::size_t kShared = sizeof(std::uint32_t) * kBlockN * kLdS;

// The warp's B fragment of n8 tile `nt`, k32 tile `s` of the step, from Bs.
template <typename S>
__device__ __forceinline__ MmaFragB load_frag_b(const S& bs, int col, int s, int t) {
  MmaFragB f;
  DS_MMA_UNROLL
  for (int j = 0; j < 4; ++j) f.b[j] = bs[col * kLdS + s * 16 + 4 * j + t];
  return f;
}

template <int kSel, bool kPortable, typename S>
__device__ __forceinline__ void step(float (&acc)[2][8][4], const MmaFragA (&fa)[2][2], const std::uint32_t (&e)[2],
                                     const bool (&live)[2], const S& bs, int col0, int t) {
  DS_MMA_UNROLL
  for (int nt = 0; nt < 8; ++nt) {
    const MmaFragB fb = load_frag_b(bs, col0 + 8 * nt, kSel, t);
    DS_MMA_UNROLL
    for (int mi = 0; mi < 2; ++mi)
      if (live[mi]) mma_sp<kSel, kPortable>(acc[mi][nt], fa[mi][kSel], fb, e[mi]);
  }
}

template <bool kPortable>
__global__ void __launch_bounds__(kMmaThreads)
    spmm_24_mma_kernel(float* __restrict__ c, std::int64_t ldc, const std::uint32_t* __restrict__ mma_values,
                       const std::uint32_t* __restrict__ mma_meta, std::int64_t rows, std::int64_t cols,
                       std::int64_t m_tiles, std::int64_t k_tiles, const float* __restrict__ b, std::int64_t ldb,
                       std::int64_t n, float alpha, float beta) {
  DS_DYNAMIC_SHARED(std::uint32_t, bs);
  const int tid = static_cast<int>(threadIdx.x), lane = tid & 31, warp = tid >> 5;
  const int g = lane >> 2, t = lane & 3, wm = warp >> 1, wn = warp & 1;
  const std::int64_t pairs = k_tiles / 2, n_tiles = (n + kBlockN - 1) / kBlockN;
  std::int64_t mt[2];
  bool live[2];
  DS_MMA_UNROLL
  for (int mi = 0; mi < 2; ++mi) {
    mt[mi] = static_cast<std::int64_t>(blockIdx.x) * (kBlockM / 16) + 2 * wm + mi;
    live[mi] = mt[mi] < m_tiles;  // warp-uniform: a whole warp skips a tile past the matrix
  }
  for (std::int64_t tile_n = blockIdx.y; tile_n < n_tiles; tile_n += gridDim.y) {
    const std::int64_t nb = tile_n * kBlockN;
    float acc[2][8][4];
    DS_MMA_UNROLL
    for (int mi = 0; mi < 2; ++mi)
      DS_MMA_UNROLL
      for (int nt = 0; nt < 8; ++nt)
        DS_MMA_UNROLL
        for (int u = 0; u < 4; ++u) acc[mi][nt][u] = 0.0f;
    for (std::int64_t kp = 0; kp < pairs; ++kp) {
      __syncthreads();  // the previous step's fragment loads are done with Bs
      // A warp stages 8 columns x 4 k-words at a time: its stores hit 32
      // distinct banks (word 36 nl + kw: bank 4 nl + kw mod 32), and its reads
      // of B are 8 rows x 8 consecutive floats, whole 32-byte sectors.
      static_assert(kBlockN % 8 == 0 && (kStepK / 2) % 4 == 0 && kMmaThreads % 32 == 0 && kLdS % 32 == 4,
                    "8 x 4 staging chunks over banks 4 nl + kw");
      for (int idx = tid; idx < kBlockN * (kStepK / 2); idx += kMmaThreads) {
        const int chunk = idx / 32, in = idx % 32;
        const int nl = (chunk % (kBlockN / 8)) * 8 + in / 4, kw = (chunk / (kBlockN / 8)) * 4 + in % 4;
        const std::int64_t k = kp * kStepK + 2 * kw, col = nb + nl;
        const float lo = k < cols && col < n ? __ldg(b + k * ldb + col) : 0.0f;
        const float hi = k + 1 < cols && col < n ? __ldg(b + (k + 1) * ldb + col) : 0.0f;
        bs[nl * kLdS + kw] = bf16_pair(lo, hi);
      }
      __syncthreads();
      MmaFragA fa[2][2] = {};
      std::uint32_t e[2] = {0u, 0u};
      DS_MMA_UNROLL
      for (int mi = 0; mi < 2; ++mi) {
        if (!live[mi]) continue;
        e[mi] = __ldg(mma_meta + (mt[mi] * pairs + kp) * 32 + lane);
        DS_MMA_UNROLL
        for (int s = 0; s < 2; ++s) {
          const uint4 v = __ldg(reinterpret_cast<const uint4*>(mma_values) + (mt[mi] * k_tiles + 2 * kp + s) * 32 + lane);
          fa[mi][s] = MmaFragA{{v.x, v.y, v.z, v.w}};
        }
      }
      const int col0 = wn * 64 + g;
      step<0, kPortable>(acc, fa, e, live, bs, col0, t);
      step<1, kPortable>(acc, fa, e, live, bs, col0, t);
    }
    DS_MMA_UNROLL
    for (int mi = 0; mi < 2; ++mi) {
      if (!live[mi]) continue;
      DS_MMA_UNROLL
      for (int nt = 0; nt < 8; ++nt) {
        DS_MMA_UNROLL
        for (int u = 0; u < 4; ++u) {
          const std::int64_t r = mt[mi] * 16 + g + 8 * (u >> 1), col = nb + wn * 64 + 8 * nt + 2 * t + (u & 1);
          if (r < rows && col < n) c[r * ldc + col] = scale_out(acc[mi][nt][u], alpha, beta, c + r * ldc + col);
        }
      }
    }
  }
}

}  // namespace

void spmm_24_bf16(float* c, std::int64_t ldc, const std::uint32_t* mma_values, const std::uint32_t* mma_meta,
                  std::int64_t rows, std::int64_t cols, const float* b, std::int64_t ldb, std::int64_t n, float alpha,
                  float beta, Stream s, MmaPath path) {
  if (rows <= 0 || n <= 0) return;
  // The kernel reads the copy as uint4 (16 bytes per lane); an allocation's
  // start always is, a pointer into one need not be.
  if (!aligned16(mma_values))
    fail(ErrorCode::Arg, "spmm (bf16): the tensor-core copy of the values must be 16-byte aligned");
  if (path == MmaPath::TensorCores) require_sparse_tensor_cores("spmm (bf16)");
  const Sparse24MmaShape shape = sparse24_mma_shape(rows, cols);
  const std::int64_t n_tiles = (n + kBlockN - 1) / kBlockN;
  const dim3 grid(blocks_for(shape.m_tiles, kBlockM / 16, 0x7fffffffLL),
                  static_cast<unsigned>(n_tiles < 65535 ? n_tiles : 65535));
  if (path == MmaPath::TensorCores)
    launch("spmm_24_mma_kernel", spmm_24_mma_kernel<false>, grid, dim3(kMmaThreads), kShared, s, c, ldc, mma_values,
           mma_meta, rows, cols, shape.m_tiles, shape.k_tiles, b, ldb, n, alpha, beta);
  else
    launch("spmm_24_mma_kernel<portable>", spmm_24_mma_kernel<true>, grid, dim3(kMmaThreads), kShared, s, c, ldc,
           mma_values, mma_meta, rows, cols, shape.m_tiles, shape.k_tiles, b, ldb, n, alpha, beta);
}

}  // namespace dynasparse::cuda
