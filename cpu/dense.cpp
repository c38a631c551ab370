#include "dynasparse/ops/dense.h"

#include <algorithm>
#include <limits>
#include <string>

#include "dynasparse/error.h"
#include "dynasparse/memory.h"
#include "parallel.h"

#if defined(DYNASPARSE_WITH_CBLAS)
#include <cblas.h>

#include <mutex>
#endif

namespace dynasparse::cpu {

void transpose(float* out, const float* in, std::int64_t rows, std::int64_t cols, std::int64_t ld) {
  // 32 x 32 tiles keep both the reads and the writes within a few cache lines.
  constexpr std::int64_t kTile = 32;
  const std::int64_t tile_rows = (rows + kTile - 1) / kTile;
  parallel_for(0, tile_rows, 1, [&](std::int64_t t0, std::int64_t t1) {
    for (std::int64_t tr = t0; tr < t1; ++tr) {
      const std::int64_t r0 = tr * kTile, r1 = std::min(rows, r0 + kTile);
      for (std::int64_t c0 = 0; c0 < cols; c0 += kTile) {
        const std::int64_t c1 = std::min(cols, c0 + kTile);
        for (std::int64_t r = r0; r < r1; ++r)
          for (std::int64_t c = c0; c < c1; ++c) out[c * rows + r] = in[r * ld + c];
      }
    }
  });
}

namespace {

// Register tile of the micro-kernel (MR x NR accumulators: 12 SSE registers
// at NR = 8) and cache blocking: an MC x KC panel of op(A) (~72 KiB) and a
// KC x NC panel of op(B) (~256 KiB, one core's L2) per tile of C.
constexpr std::int64_t kMR = 6, kNR = 8;
constexpr std::int64_t kMC = 72, kNC = 256, kKC = 256;

// C[r0:r1, c0:c1] = beta * C; beta == 0 writes zeros without reading C.
void scale_rows(std::int64_t r0, std::int64_t r1, std::int64_t c0, std::int64_t c1, float beta, float* C,
                std::int64_t ldc) {
  if (beta == 1.0f) return;
  for (std::int64_t i = r0; i < r1; ++i) {
    float* row = C + i * ldc;
    if (beta == 0.0f) {
      for (std::int64_t j = c0; j < c1; ++j) row[j] = 0.0f;
    } else {
      for (std::int64_t j = c0; j < c1; ++j) row[j] *= beta;
    }
  }
}

void scale_matrix(std::int64_t m, std::int64_t n, float beta, float* C, std::int64_t ldc) {
  if (beta == 1.0f || m == 0 || n == 0) return;
  const std::int64_t grain = std::max<std::int64_t>(1, 65536 / std::max<std::int64_t>(1, n));
  parallel_for(0, m, grain, [&](std::int64_t lo, std::int64_t hi) { scale_rows(lo, hi, 0, n, beta, C, ldc); });
}

// Packs op(A)[i0:i0+mc, l0:l0+kc] into MR-row panels (zero-padded), each
// panel stored l-major so the micro-kernel reads it contiguously.
void pack_a(bool transA, const float* A, std::int64_t lda, std::int64_t i0, std::int64_t mc, std::int64_t l0,
            std::int64_t kc, float* Ap) {
  for (std::int64_t p = 0; p * kMR < mc; ++p) {
    float* panel = Ap + p * kMR * kc;
    const std::int64_t rows = std::min(kMR, mc - p * kMR);
    for (std::int64_t ii = 0; ii < kMR; ++ii) {
      const std::int64_t i = i0 + p * kMR + ii;
      if (ii >= rows) {
        for (std::int64_t l = 0; l < kc; ++l) panel[l * kMR + ii] = 0.0f;
      } else if (transA) {
        for (std::int64_t l = 0; l < kc; ++l) panel[l * kMR + ii] = A[(l0 + l) * lda + i];
      } else {
        const float* row = A + i * lda + l0;
        for (std::int64_t l = 0; l < kc; ++l) panel[l * kMR + ii] = row[l];
      }
    }
  }
}

// Packs op(B)[l0:l0+kc, j0:j0+nc] into NR-column panels (zero-padded).
void pack_b(bool transB, const float* B, std::int64_t ldb, std::int64_t l0, std::int64_t kc, std::int64_t j0,
            std::int64_t nc, float* Bp) {
  for (std::int64_t q = 0; q * kNR < nc; ++q) {
    float* panel = Bp + q * kNR * kc;
    const std::int64_t cols = std::min(kNR, nc - q * kNR);
    const std::int64_t j = j0 + q * kNR;
    for (std::int64_t l = 0; l < kc; ++l) {
      float* dst = panel + l * kNR;
      if (transB) {
        for (std::int64_t jj = 0; jj < cols; ++jj) dst[jj] = B[(j + jj) * ldb + l0 + l];
      } else {
        const float* src = B + (l0 + l) * ldb + j;
        for (std::int64_t jj = 0; jj < cols; ++jj) dst[jj] = src[jj];
      }
      for (std::int64_t jj = cols; jj < kNR; ++jj) dst[jj] = 0.0f;
    }
  }
}

// out = sum over l of a[:, l] b[l, :] for one MR x NR tile. Each
// accumulator sums in l order (no reassociation), so the result does not
// depend on threading. With GCC/Clang the tile lives in 12 four-wide vector
// registers (generic vector extensions: SSE2 on any x86-64, NEON on arm64,
// AVX when the build targets it); the plain loops are the portable fallback.
#if defined(__GNUC__)
typedef float Vec4 __attribute__((vector_size(16)));
static_assert(kNR == 8, "the vector micro-kernel holds a row of the tile in two Vec4");

inline Vec4 load4(const float* p) {
  Vec4 v;
  __builtin_memcpy(&v, p, sizeof v);
  return v;
}

void micro_kernel(std::int64_t kc, const float* __restrict a, const float* __restrict b, float* __restrict out) {
  Vec4 c[kMR][2];
  for (std::int64_t i = 0; i < kMR; ++i) c[i][0] = c[i][1] = Vec4{0.0f, 0.0f, 0.0f, 0.0f};
  for (std::int64_t l = 0; l < kc; ++l) {
    const Vec4 b0 = load4(b + l * kNR), b1 = load4(b + l * kNR + 4);
    const float* al = a + l * kMR;
    for (std::int64_t i = 0; i < kMR; ++i) {
      const Vec4 ai = Vec4{al[i], al[i], al[i], al[i]};
      c[i][0] += ai * b0;
      c[i][1] += ai * b1;
    }
  }
  for (std::int64_t i = 0; i < kMR; ++i) {
    __builtin_memcpy(out + i * kNR, &c[i][0], sizeof(Vec4));
    __builtin_memcpy(out + i * kNR + 4, &c[i][1], sizeof(Vec4));
  }
}
#else
void micro_kernel(std::int64_t kc, const float* __restrict a, const float* __restrict b, float* __restrict out) {
  float acc[kMR][kNR] = {};
  for (std::int64_t l = 0; l < kc; ++l) {
    const float* al = a + l * kMR;
    const float* bl = b + l * kNR;
    for (std::int64_t i = 0; i < kMR; ++i) {
      const float ai = al[i];
      for (std::int64_t j = 0; j < kNR; ++j) acc[i][j] += ai * bl[j];
    }
  }
  for (std::int64_t i = 0; i < kMR; ++i)
    for (std::int64_t j = 0; j < kNR; ++j) out[i * kNR + j] = acc[i][j];
}
#endif

}  // namespace

void gemm_builtin(bool transA, bool transB, std::int64_t m, std::int64_t n, std::int64_t k, float alpha,
                  const float* A, std::int64_t lda, const float* B, std::int64_t ldb, float beta, float* C,
                  std::int64_t ldc) {
  expect_gemm_args(transA, transB, m, n, k, lda, ldb, ldc);
  if (m == 0 || n == 0) return;
  if (k == 0 || alpha == 0.0f) {
    scale_matrix(m, n, beta, C, ldc);
    return;
  }
  const std::int64_t tiles_m = (m + kMC - 1) / kMC, tiles_n = (n + kNC - 1) / kNC;
  // Panel buffers sized for this problem (a 1 x 1 product does not take 330 KiB).
  const std::int64_t mc_max = std::min(kMC, (m + kMR - 1) / kMR * kMR);
  const std::int64_t nc_max = std::min(kNC, (n + kNR - 1) / kNR * kNR);
  const std::int64_t kc_max = std::min(kKC, k);
  parallel_for(0, tiles_m * tiles_n, 1, [&](std::int64_t t0, std::int64_t t1) {
    Scratch<float> ap(Device::Cpu, static_cast<std::size_t>(mc_max * kc_max));
    Scratch<float> bp(Device::Cpu, static_cast<std::size_t>(nc_max * kc_max));
    float tile[kMR * kNR];
    for (std::int64_t t = t0; t < t1; ++t) {
      const std::int64_t i0 = (t / tiles_n) * kMC, j0 = (t % tiles_n) * kNC;
      const std::int64_t mc = std::min(kMC, m - i0), nc = std::min(kNC, n - j0);
      scale_rows(i0, i0 + mc, j0, j0 + nc, beta, C, ldc);
      for (std::int64_t l0 = 0; l0 < k; l0 += kKC) {
        const std::int64_t kc = std::min(kKC, k - l0);
        pack_a(transA, A, lda, i0, mc, l0, kc, ap.data());
        pack_b(transB, B, ldb, l0, kc, j0, nc, bp.data());
        for (std::int64_t q = 0; q * kNR < nc; ++q) {
          const std::int64_t cols = std::min(kNR, nc - q * kNR);
          for (std::int64_t p = 0; p * kMR < mc; ++p) {
            const std::int64_t rows = std::min(kMR, mc - p * kMR);
            micro_kernel(kc, ap.data() + p * kMR * kc, bp.data() + q * kNR * kc, tile);
            for (std::int64_t ii = 0; ii < rows; ++ii) {
              float* c = C + (i0 + p * kMR + ii) * ldc + j0 + q * kNR;
              for (std::int64_t jj = 0; jj < cols; ++jj) c[jj] += alpha * tile[ii * kNR + jj];
            }
          }
        }
      }
    }
  });
}

#if defined(DYNASPARSE_WITH_CBLAS)

bool gemm_uses_cblas() noexcept { return true; }

void gemm(bool transA, bool transB, std::int64_t m, std::int64_t n, std::int64_t k, float alpha, const float* A,
          std::int64_t lda, const float* B, std::int64_t ldb, float beta, float* C, std::int64_t ldc) {
  expect_gemm_args(transA, transB, m, n, k, lda, ldb, ldc);
  if (m == 0 || n == 0) return;
  // Handled here so both paths share BLAS semantics exactly (A and B unread).
  if (k == 0 || alpha == 0.0f) {
    scale_matrix(m, n, beta, C, ldc);
    return;
  }
  // CBLAS takes blasint (32-bit here): larger problems use the built-in kernel.
  constexpr std::int64_t kMax = std::numeric_limits<blasint>::max();
  if (m > kMax || n > kMax || k > kMax || lda > kMax || ldb > kMax || ldc > kMax) {
    gemm_builtin(transA, transB, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc);
    return;
  }
#if defined(DYNASPARSE_WITH_OPENBLAS)
  // OpenBLAS runs its own threads; give it as many as our pool has (and call
  // it from the caller's thread, while the pool sleeps) so the two never
  // oversubscribe the cores.
  static std::once_flag threads_set;
  std::call_once(threads_set, [] { openblas_set_num_threads(thread_count()); });
#endif
  cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
              static_cast<blasint>(m), static_cast<blasint>(n), static_cast<blasint>(k), alpha, A,
              static_cast<blasint>(lda), B, static_cast<blasint>(ldb), beta, C, static_cast<blasint>(ldc));
}

#else

bool gemm_uses_cblas() noexcept { return false; }

void gemm(bool transA, bool transB, std::int64_t m, std::int64_t n, std::int64_t k, float alpha, const float* A,
          std::int64_t lda, const float* B, std::int64_t ldb, float beta, float* C, std::int64_t ldc) {
  gemm_builtin(transA, transB, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc);
}

#endif

}  // namespace dynasparse::cpu
