// Sampled dense-dense products: for every stored (i, j) of a CSR pattern, the
// entry (A * op(B))[i, j]. With A = dY [out, batch] and B = X [in, batch]
// (feature-major activations) and op = transpose, out[e] is a sparse layer's
// weight gradient at its stored positions, computed with both operands' rows
// contiguous (the "contiguous-k" layout) and no transposed copy.
#pragma once

#include <cstdint>

#include "dynasparse/device.h"

namespace dynasparse::cpu {

// Lanes of the transB dot product (see sddmm_trans_b).
constexpr int kSddmmLanes = 32;

// out[e] = dot(A[i, :], B[j, :]) for stored entry e = (i, j); A [rows, k] (lda),
// B [pattern cols, k] (ldb). Summation order: lane l (0 <= l < 32) sums the
// products of positions t = l, l + 32, l + 64, ... in ascending t from +0; then
// the lanes are combined as a tree: for w = 16, 8, 4, 2, 1: lane[l] += lane[l + w]
// (l < w); the result is lane[0]. Deterministic and vectorizable.
void sddmm_trans_b(float* out, const std::int32_t* row_ptr, const std::int32_t* col_idx, std::int64_t rows, const float* a,
                   std::int64_t lda, const float* b, std::int64_t ldb, std::int64_t k);

// out[e] = sum_t A[i, t] * B[t, j] for stored entry e = (i, j); A [rows, k] (lda),
// B [k, cols] (ldb), cols = the pattern's columns. B is first transposed into
// scratch ([cols, k], the size of B), then sddmm_trans_b runs on it: the same
// summation order and so the same bits as sddmm_trans_b on Bᵀ. Why: read in
// place, B's column j lies ldb floats apart at every t, a gather per entry and
// t that ran 6-8x slower than the contiguous dot products at 4096 columns.
void sddmm(float* out, const std::int32_t* row_ptr, const std::int32_t* col_idx, std::int64_t rows, std::int64_t cols,
           const float* a, std::int64_t lda, const float* b, std::int64_t ldb, std::int64_t k);

}  // namespace dynasparse::cpu

#if defined(DYNASPARSE_WITH_CUDA)
// The CUDA twins (device pointers, enqueued on `s`): cuda/sddmm.cu. Same
// semantics and the same bits as the CPU (same summation order, no FMA; NaN
// payloads aside). `nnz` = row_ptr[rows], which the host cannot read from device
// memory without a synchronization, so the caller passes it.
namespace dynasparse::cuda {
void sddmm_trans_b(float* out, const std::int32_t* row_ptr, const std::int32_t* col_idx, std::int64_t rows, const float* a,
                   std::int64_t lda, const float* b, std::int64_t ldb, std::int64_t k, std::int64_t nnz, Stream s);
void sddmm(float* out, const std::int32_t* row_ptr, const std::int32_t* col_idx, std::int64_t rows, std::int64_t cols,
           const float* a, std::int64_t lda, const float* b, std::int64_t ldb, std::int64_t k, std::int64_t nnz, Stream s);
}  // namespace dynasparse::cuda
#endif
