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
__global__ void __launch_bounds__(kThreads)
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
      for (int idx = tid; idx < kBlockN * (kStepK / 2); idx += kThreads) {
        const int nl = idx % kBlockN, kw = idx / kBlockN;
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
#if !defined(DYNASPARSE_SIMT_EMULATED)
  if (path == MmaPath::TensorCores && device_info().compute_capability < 80)
    fail(ErrorCode::Device, "spmm (bf16): the sparse tensor cores need compute capability 8.0 or above, this device has " +
                                std::to_string(device_info().compute_capability / 10) + "." +
                                std::to_string(device_info().compute_capability % 10));
#endif
  const Sparse24MmaShape shape = sparse24_mma_shape(rows, cols);
  const std::int64_t n_tiles = (n + kBlockN - 1) / kBlockN;
  const dim3 grid(blocks_for(shape.m_tiles, kBlockM / 16, 0x7fffffffLL),
                  static_cast<unsigned>(n_tiles < 65535 ? n_tiles : 65535));
  if (path == MmaPath::TensorCores)
    launch("spmm_24_mma_kernel", spmm_24_mma_kernel<false>, grid, dim3(kThreads), kShared, s, c, ldc, mma_values,
           mma_meta, rows, cols, shape.m_tiles, shape.k_tiles, b, ldb, n, alpha, beta);
  else
    launch("spmm_24_mma_kernel<portable>", spmm_24_mma_kernel<true>, grid, dim3(kThreads), kShared, s, c, ldc,
           mma_values, mma_meta, rows, cols, shape.m_tiles, shape.k_tiles, b, ldb, n, alpha, beta);
}

}  // namespace dynasparse::cuda
