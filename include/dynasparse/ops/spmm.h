// Sparse x dense products: C = alpha * op(A) * B + beta * C with A in CSR or 2:4
// form, B and C dense row-major float32.
//
// Summation order (the determinism contract): every output element C[i, j] is
// computed by one thread, which sums the products of row i's stored entries in
// their stored order (ascending column for CSR; group by group, lower position
// first, for 2:4), starting from +0, with one rounding per multiply and per add
// (no FMA: the library builds with -ffp-contract=off). Then
//   C[i, j] = alpha * acc                      when beta == 0 (C's old contents are never read,
//                                               so NaN garbage in an output is overwritten),
//   C[i, j] = alpha * acc + beta * C[i, j]      otherwise.
// The result is therefore the same bits for any thread count and any run, and a
// plain serial loop in that order reproduces it exactly. Only stored entries are
// multiplied: a NaN in B meets a row of A only where A stores an entry.
#pragma once

#include <cstdint>

#include "dynasparse/device.h"

namespace dynasparse::cpu {

// A^T B for a CSR A runs this same kernel on A's transposed structure
// (csr_transpose: row_ptr_t, the original rows as columns, and perm), reading
// the values through perm. Why this design: the alternative, per-thread partial
// outputs, needs threads x cols x n floats and a reduction whose order depends on
// the partition (not deterministic across thread counts), and atomics on floats
// are not deterministic at all. The transposed structure costs O(rows + cols +
// nnz) once per sparsity pattern (the TypeScript CsrMatrix caches it: patterns
// are immutable) and makes each output row one thread's sum in ascending
// original row, like the plain product; value updates need no refresh.
//
// C[rows, n] = alpha * A * B + beta * C, A = CSR [rows, k] (row_ptr, col_idx,
// values; k only tunes the blocking), B row-major [k, n] with leading dimension ldb, C with ldc.
// When `perm` is non-null the value of stored entry e is values[perm[e]]
// (a transposed structure reading the original matrix's values in place).
void spmm_csr(float* c, std::int64_t ldc, const std::int32_t* row_ptr, const std::int32_t* col_idx, const float* values,
              const std::int32_t* perm, std::int64_t rows, std::int64_t k, const float* b, std::int64_t ldb, std::int64_t n, float alpha,
              float beta);

// C[rows, n] = alpha * A * B + beta * C for a 2:4 A [rows, cols] stored as
// values [rows, cols / 2] and metadata [rows, ceil(cols / 32)] int32 words (see
// ops/sparse24.h for the layout); B is [cols, n].
void spmm_24(float* c, std::int64_t ldc, const float* values, const std::int32_t* meta, std::int64_t rows, std::int64_t cols,
             const float* b, std::int64_t ldb, std::int64_t n, float alpha, float beta);

// C[cols, n] = alpha * A^T * B + beta * C for a 2:4 A [rows, cols], B [rows, n].
// Threads own disjoint blocks of C and scatter A's rows into them in ascending
// row order, so C[j, :] sums A[i, j] * B[i, :] over ascending i (the order a
// serial loop over A^T's rows would use) — deterministic, no atomics.
void spmm_24_trans(float* c, std::int64_t ldc, const float* values, const std::int32_t* meta, std::int64_t rows,
                   std::int64_t cols, const float* b, std::int64_t ldb, std::int64_t n, float alpha, float beta);

}  // namespace dynasparse::cpu

#if defined(DYNASPARSE_WITH_CUDA)
// The CUDA twins (device pointers, enqueued on `s`): cuda/spmm.cu.
namespace dynasparse::cuda {

// cpu::spmm_csr on the GPU, with the same semantics and the same bits (same
// summation order, no FMA; NaN payloads aside). The rows are visited in an order
// sorted by length (the row swizzle), computed on each call into scratch memory
// taken from the backend allocator (rows + 66 int32, freed in stream order when
// the call returns): call it on cuda::stream().
void spmm_csr(float* c, std::int64_t ldc, const std::int32_t* row_ptr, const std::int32_t* col_idx, const float* values,
              const std::int32_t* perm, std::int64_t rows, std::int64_t k, const float* b, std::int64_t ldb, std::int64_t n,
              float alpha, float beta, Stream s);

// The row swizzle alone: order (rows int32, device memory the caller owns) = the
// rows sorted by length class (__clz of the length: longest first; the order
// within a class is unspecified). Valid as long as the pattern's row_ptr does not
// change, so a caller that keeps it per pattern skips its three small launches.
// Uses 66 int32 of scratch memory: call it on cuda::stream().
void spmm_csr_row_order(std::int32_t* order, const std::int32_t* row_ptr, std::int64_t rows, Stream s);

// spmm_csr with a row order from spmm_csr_row_order (or any permutation of
// [0, rows); null: the identity). Takes no scratch memory: any stream.
void spmm_csr_ordered(float* c, std::int64_t ldc, const std::int32_t* row_ptr, const std::int32_t* col_idx,
                      const float* values, const std::int32_t* perm, const std::int32_t* row_order, std::int64_t rows,
                      std::int64_t k, const float* b, std::int64_t ldb, std::int64_t n, float alpha, float beta, Stream s);

// cpu::spmm_24 and cpu::spmm_24_trans on the GPU (cuda/spmm24.cu), fp32, with
// the same summation order and therefore the same bits (NaN payloads aside).
// The transposed product gives each output element one thread that walks A's
// rows in ascending order: deterministic, no atomics, no scratch memory.
void spmm_24(float* c, std::int64_t ldc, const float* values, const std::int32_t* meta, std::int64_t rows,
             std::int64_t cols, const float* b, std::int64_t ldb, std::int64_t n, float alpha, float beta, Stream s);
void spmm_24_trans(float* c, std::int64_t ldc, const float* values, const std::int32_t* meta, std::int64_t rows,
                   std::int64_t cols, const float* b, std::int64_t ldb, std::int64_t n, float alpha, float beta,
                   Stream s);

// Which code computes each 16 x 8 x 32 tile product of spmm_24_bf16: the
// sparse tensor cores (PTX mma.sp, compute capability 8.0 and above), or the
// portable twin, the same instruction written with warp shuffles (what the SIMT
// emulation runs, and what the GPU tests compare the tensor cores with).
enum class MmaPath { TensorCores, Portable };

// C[rows, n] = alpha * A * B + beta * C with A's tensor-core copy (see
// ops/sparse24.h: sparse24_mma_meta, sparse24_mma_values): A's values and B
// rounded to bf16, products accumulated in fp32 by the tensor cores (order
// unspecified: not bit-identical to spmm_24; see cuda/spmm24.cu for the
// error bound the tests use). Throws E_DEVICE below compute capability 8.0
// (TensorCores path). No scratch memory.
void spmm_24_bf16(float* c, std::int64_t ldc, const std::uint32_t* mma_values, const std::uint32_t* mma_meta,
                  std::int64_t rows, std::int64_t cols, const float* b, std::int64_t ldb, std::int64_t n, float alpha,
                  float beta, Stream s, MmaPath path = MmaPath::TensorCores);

}  // namespace dynasparse::cuda
#endif
