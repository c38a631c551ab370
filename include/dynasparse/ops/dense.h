// Dense matrix kernels (row-major float32).
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>

#include "dynasparse/device.h"
#include "dynasparse/error.h"

namespace dynasparse {

// gemm's argument checks (E_ARG), shared so both backends refuse the same
// calls: non-negative sizes, and leading dimensions of at least the stored
// columns (at least 1).
inline void expect_gemm_args(bool transA, bool transB, std::int64_t m, std::int64_t n, std::int64_t k, std::int64_t lda,
                             std::int64_t ldb, std::int64_t ldc) {
  if (m < 0 || n < 0 || k < 0)
    fail(ErrorCode::Arg, "gemm: expected non-negative sizes, got m=" + std::to_string(m) + " n=" + std::to_string(n) +
                             " k=" + std::to_string(k));
  const std::int64_t a_cols = std::max<std::int64_t>(1, transA ? m : k);
  const std::int64_t b_cols = std::max<std::int64_t>(1, transB ? k : n);
  if (lda < a_cols) fail(ErrorCode::Arg, "gemm: lda: expected at least " + std::to_string(a_cols) + ", got " + std::to_string(lda));
  if (ldb < b_cols) fail(ErrorCode::Arg, "gemm: ldb: expected at least " + std::to_string(b_cols) + ", got " + std::to_string(ldb));
  if (ldc < std::max<std::int64_t>(1, n))
    fail(ErrorCode::Arg, "gemm: ldc: expected at least " + std::to_string(std::max<std::int64_t>(1, n)) + ", got " +
                             std::to_string(ldc));
}

}  // namespace dynasparse

namespace dynasparse::cpu {
// out[c, r] = in[r, c] for an in of rows x cols with row stride ld >= cols;
// out is cols x rows, contiguous.
void transpose(float* out, const float* in, std::int64_t rows, std::int64_t cols, std::int64_t ld);

// C = alpha * op(A) @ op(B) + beta * C, row-major, C is m x n, op(A) is m x k,
// op(B) is k x n; op(X) = X^T when transX. A is stored m x k (k x m when
// transA) with row stride lda >= max(1, stored columns); likewise B and C.
// BLAS semantics: beta == 0 never reads C (NaN or garbage in C cannot leak),
// alpha == 0 or k == 0 gives beta * C without reading A or B. Goes through
// CBLAS (cblas_sgemm, called on the caller's thread) when built with
// DYNASPARSE_WITH_CBLAS, and through gemm_builtin otherwise.
void gemm(bool transA, bool transB, std::int64_t m, std::int64_t n, std::int64_t k, float alpha, const float* A,
          std::int64_t lda, const float* B, std::int64_t ldb, float beta, float* C, std::int64_t ldc);

// The built-in kernel behind gemm when no CBLAS was found: packed panels,
// a register-tiled micro-kernel the compiler vectorizes, threaded over tiles
// of C with parallel_for. Each element of C is summed in the same order
// whatever the thread count, so results are reproducible. Always compiled
// (the tests compare it with the CBLAS path).
void gemm_builtin(bool transA, bool transB, std::int64_t m, std::int64_t n, std::int64_t k, float alpha,
                  const float* A, std::int64_t lda, const float* B, std::int64_t ldb, float beta, float* C,
                  std::int64_t ldc);

// Whether gemm goes through a CBLAS (OpenBLAS) in this build.
bool gemm_uses_cblas() noexcept;
}  // namespace dynasparse::cpu

#if defined(DYNASPARSE_WITH_CUDA)
namespace dynasparse::cuda {
void transpose(float* out, const float* in, std::int64_t rows, std::int64_t cols, std::int64_t ld, Stream s);

// The CUDA twin of cpu::gemm (device pointers, enqueued on `s`), the same
// arguments and BLAS semantics (beta == 0 never reads C; alpha == 0 or k == 0
// reads neither A nor B): a hand-written tiled SGEMM, 64 x 64 tiles of C per
// block, 4 x 4 per thread, accumulated with FMAs in k order. Not bit-identical
// to the CPU (different rounding and order); within the usual error bound
// (k + 2) * 2^-24 * sum |alpha a b| + |beta c|.
void gemm(bool transA, bool transB, std::int64_t m, std::int64_t n, std::int64_t k, float alpha, const float* A,
          std::int64_t lda, const float* B, std::int64_t ldb, float beta, float* C, std::int64_t ldc, Stream s);
}  // namespace dynasparse::cuda
#endif
