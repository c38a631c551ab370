#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>

#include "dynasparse/ops/dense.h"
#include "launch.cuh"

namespace dynasparse::cuda {
namespace {

constexpr int kTile = 32;
constexpr int kRowsPerPass = 8;

// A 32 x 32 tile staged through shared memory so both the read and the write
// are coalesced; the +1 column avoids shared-memory bank conflicts. The tile
// is dynamic shared memory so the emulation's race and read-before-write
// checks cover it (they cannot see a static __shared__ array).
// Row tiles past gridDim.y (65535 at most) are walked with a stride; the walk
// is the same for every thread of a block, so the barriers stay uniform.
constexpr int kTileLd = kTile + 1;
constexpr std::size_t kTransposeShared = sizeof(float) * kTile * kTileLd;

__global__ void transpose_kernel(float* __restrict__ out, const float* __restrict__ in, std::int64_t rows,
                                 std::int64_t cols, std::int64_t ld) {
  DS_DYNAMIC_SHARED(float, tile);
  const std::int64_t c = static_cast<std::int64_t>(blockIdx.x) * kTile + threadIdx.x;
  for (std::int64_t r0 = static_cast<std::int64_t>(blockIdx.y) * kTile; r0 < rows;
       r0 += static_cast<std::int64_t>(gridDim.y) * kTile) {
    for (int dr = threadIdx.y; dr < kTile; dr += kRowsPerPass) {
      const std::int64_t r = r0 + dr;
      if (r < rows && c < cols) tile[dr * kTileLd + threadIdx.x] = in[r * ld + c];
    }
    __syncthreads();
    const std::int64_t oc = r0 + threadIdx.x;  // column of out = row of in
    const std::int64_t or0 = static_cast<std::int64_t>(blockIdx.x) * kTile;
    for (int dr = threadIdx.y; dr < kTile; dr += kRowsPerPass) {
      const std::int64_t orow = or0 + dr;
      if (orow < cols && oc < rows) out[orow * rows + oc] = tile[threadIdx.x * kTileLd + dr];
    }
    __syncthreads();  // the next row tile overwrites the tile
  }
}


// The tiled SGEMM. A block computes a 64 x 64 tile of C with 256 threads, each
// thread a 4 x 4 register block: rows ty + 16 i and columns tx + 16 j (i, j in
// 0..3), so a warp's loads from shared memory are broadcasts or consecutive
// words and its stores to C are consecutive. op(A) and op(B) are staged through
// shared memory 16 values of k at a time, each load arranged so consecutive
// threads read consecutive addresses of the stored (possibly transposed)
// matrix; out-of-range elements are loaded as zeros (the residue of m, n and k)
// and out-of-range elements of C are neither read nor written. Each element of
// C accumulates its products with FMAs in k order, then
// C = alpha * acc (+ beta * C only when beta != 0: beta == 0 never reads C).
constexpr int kGemmBM = 64, kGemmBN = 64, kGemmBK = 16;
constexpr int kGemmThreads = 256;
// +1 column: the transposing stores into shared memory hit distinct banks.
constexpr int kGemmLdA = kGemmBM + 1, kGemmLdB = kGemmBN + 1;
constexpr std::size_t kGemmShared = sizeof(float) * (kGemmBK * kGemmLdA + kGemmBK * kGemmLdB);

template <bool kTransA, bool kTransB>
__global__ void __launch_bounds__(kGemmThreads)
    gemm_kernel(std::int64_t m, std::int64_t n, std::int64_t k, float alpha, const float* __restrict__ A,
                std::int64_t lda, const float* __restrict__ B, std::int64_t ldb, float beta, float* __restrict__ C,
                std::int64_t ldc) {
  DS_DYNAMIC_SHARED(float, shared);
  auto As = shared;                        // [kGemmBK][kGemmLdA]: As[l][r] = op(A)[i0 + r][l0 + l]
  auto Bs = shared + kGemmBK * kGemmLdA;   // [kGemmBK][kGemmLdB]: Bs[l][c] = op(B)[l0 + l][j0 + c]
  const int tid = static_cast<int>(threadIdx.x);
  const int tx = tid % 16, ty = tid / 16;
  const std::int64_t tiles_m = (m + kGemmBM - 1) / kGemmBM, tiles_n = (n + kGemmBN - 1) / kGemmBN;
  for (std::int64_t tm = blockIdx.y; tm < tiles_m; tm += gridDim.y) {
    for (std::int64_t tn = blockIdx.x; tn < tiles_n; tn += gridDim.x) {
      const std::int64_t i0 = tm * kGemmBM, j0 = tn * kGemmBN;
      float acc[4][4];
      for (int i = 0; i < 4; ++i)
        for (int j = 0; j < 4; ++j) acc[i][j] = 0.0f;
      for (std::int64_t l0 = 0; l0 < k; l0 += kGemmBK) {
        for (int p = 0; p < (kGemmBM * kGemmBK) / kGemmThreads; ++p) {
          const int e = tid + p * kGemmThreads;
          // Stored A is m x k (row i contiguous) or, transposed, k x m.
          const int r = kTransA ? e % kGemmBM : e / kGemmBK;
          const int l = kTransA ? e / kGemmBM : e % kGemmBK;
          const std::int64_t gi = i0 + r, gl = l0 + l;
          float v = 0.0f;
          if (gi < m && gl < k) v = kTransA ? A[gl * lda + gi] : A[gi * lda + gl];
          As[l * kGemmLdA + r] = v;
        }
        for (int p = 0; p < (kGemmBN * kGemmBK) / kGemmThreads; ++p) {
          const int e = tid + p * kGemmThreads;
          // Stored B is k x n (row l contiguous) or, transposed, n x k.
          const int c = kTransB ? e / kGemmBK : e % kGemmBN;
          const int l = kTransB ? e % kGemmBK : e / kGemmBN;
          const std::int64_t gj = j0 + c, gl = l0 + l;
          float v = 0.0f;
          if (gj < n && gl < k) v = kTransB ? B[gj * ldb + gl] : B[gl * ldb + gj];
          Bs[l * kGemmLdB + c] = v;
        }
        __syncthreads();
        for (int l = 0; l < kGemmBK; ++l) {
          float a[4], b[4];
          for (int i = 0; i < 4; ++i) a[i] = As[l * kGemmLdA + ty + 16 * i];
          for (int j = 0; j < 4; ++j) b[j] = Bs[l * kGemmLdB + tx + 16 * j];
          for (int i = 0; i < 4; ++i)
            for (int j = 0; j < 4; ++j) acc[i][j] = fmaf(a[i], b[j], acc[i][j]);
        }
        __syncthreads();  // the next k-slice overwrites the tiles
      }
      for (int i = 0; i < 4; ++i) {
        const std::int64_t gi = i0 + ty + 16 * i;
        if (gi >= m) continue;
        for (int j = 0; j < 4; ++j) {
          const std::int64_t gj = j0 + tx + 16 * j;
          if (gj >= n) continue;
          float* c = C + gi * ldc + gj;
          *c = beta == 0.0f ? __fmul_rn(alpha, acc[i][j]) : fmaf(alpha, acc[i][j], __fmul_rn(beta, *c));
        }
      }
    }
  }
}

// C = beta * C (zeros without reading C when beta == 0): alpha == 0 or k == 0.
__global__ void gemm_scale_kernel(std::int64_t m, std::int64_t n, float beta, float* __restrict__ C, std::int64_t ldc) {
  const std::int64_t stride = static_cast<std::int64_t>(gridDim.x) * blockDim.x;
  for (std::int64_t i = blockIdx.y; i < m; i += gridDim.y) {
    float* row = C + i * ldc;
    for (std::int64_t j = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; j < n; j += stride)
      row[j] = beta == 0.0f ? 0.0f : __fmul_rn(row[j], beta);
  }
}

unsigned grid_dim(std::int64_t blocks) { return static_cast<unsigned>(blocks < 65535 ? blocks : 65535); }

template <bool kTransA, bool kTransB>
void gemm_launch(std::int64_t m, std::int64_t n, std::int64_t k, float alpha, const float* A, std::int64_t lda,
                 const float* B, std::int64_t ldb, float beta, float* C, std::int64_t ldc, Stream s) {
  const dim3 grid(grid_dim((n + kGemmBN - 1) / kGemmBN), grid_dim((m + kGemmBM - 1) / kGemmBM));
  launch("gemm_kernel", gemm_kernel<kTransA, kTransB>, grid, dim3(kGemmThreads), kGemmShared, s, m, n, k, alpha, A,
         lda, B, ldb, beta, C, ldc);
}

}  // namespace

void transpose(float* out, const float* in, std::int64_t rows, std::int64_t cols, std::int64_t ld, Stream s) {
  if (rows <= 0 || cols <= 0) return;
  const dim3 grid(static_cast<unsigned>((cols + kTile - 1) / kTile), grid_dim((rows + kTile - 1) / kTile));
  launch("transpose_kernel", transpose_kernel, grid, dim3(kTile, kRowsPerPass), kTransposeShared, s, out, in, rows, cols,
         ld);
}

void gemm(bool transA, bool transB, std::int64_t m, std::int64_t n, std::int64_t k, float alpha, const float* A,
          std::int64_t lda, const float* B, std::int64_t ldb, float beta, float* C, std::int64_t ldc, Stream s) {
  expect_gemm_args(transA, transB, m, n, k, lda, ldb, ldc);
  if (m == 0 || n == 0) return;
  if (k == 0 || alpha == 0.0f) {
    if (beta == 1.0f) return;
    launch("gemm_scale_kernel", gemm_scale_kernel, dim3(blocks_for(n, 256, 65535), grid_dim(m)), dim3(256), 0, s, m, n,
           beta, C, ldc);
    return;
  }
  if (transA) {
    if (transB) gemm_launch<true, true>(m, n, k, alpha, A, lda, B, ldb, beta, C, ldc, s);
    else gemm_launch<true, false>(m, n, k, alpha, A, lda, B, ldb, beta, C, ldc, s);
  } else {
    if (transB) gemm_launch<false, true>(m, n, k, alpha, A, lda, B, ldb, beta, C, ldc, s);
    else gemm_launch<false, false>(m, n, k, alpha, A, lda, B, ldb, beta, C, ldc, s);
  }
}

}  // namespace dynasparse::cuda
