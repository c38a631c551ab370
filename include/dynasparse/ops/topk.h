// Selection kernels of dynamic sparse training: which connections to grow
// (largest |gradient| among positions not stored) and which to drop (smallest
// |weight| among stored ones).
//
// Both follow the library's selection rule: the order is by score, ties go to
// the lower flat index (row * cols + col), and NaN is never selected but
// counted. +/-Inf has score Inf and is selectable.
#pragma once

#include <cstdint>

#include "dynasparse/device.h"

namespace dynasparse::cpu {

struct Selection {
  std::int64_t count = 0;      // entries written to the outputs: min(k, selectable)
  std::int64_t nan_count = 0;  // candidates whose score is NaN (never selected)
  // CUDA growth selections: whether the one filter pass behind a sampled
  // threshold found the selection, rather than the exact radix passes (see
  // cuda/topk.cu; the result is the same). Always false on the CPU.
  bool one_pass = false;
};

// The k largest |(dy · xᵀ)[i, j]| over the positions (i, j) NOT stored in the
// CSR pattern (rows x cols). dy is [rows, batch], x is [cols, batch], both
// row-major, so entry (i, j) is the dot product of two contiguous rows, summed
// in float32 in batch order (b = 0, 1, ...), one rounding per multiply and per
// add: the result does not depend on tiling, threads or instruction set.
//
// The product is computed tile by tile and only candidates are kept: scratch
// memory is O(threads * (tile + k)), never rows x cols (see
// topk_growth_scratch_bytes). Outputs hold k entries, ordered by score
// descending, ties by lower flat index; scores are |value|. Fewer than k are
// written when NaN candidates leave fewer than k selectable ones.
// Requires 0 <= k <= rows * cols - nnz (E_ARG otherwise).
Selection topk_growth(std::int32_t* out_rows, std::int32_t* out_cols, float* out_scores, const float* dy, const float* x,
                      const std::int32_t* row_ptr, const std::int32_t* col_idx, std::int64_t rows, std::int64_t cols,
                      std::int64_t batch, std::int64_t k);

// Upper bound of the scratch bytes topk_growth allocates for these sizes
// (tests compare memory() peaks against it).
std::int64_t topk_growth_scratch_bytes(std::int64_t rows, std::int64_t cols, std::int64_t batch, std::int64_t k);

// The k largest |dense[i, j]| over the positions (i, j) NOT stored in the CSR
// pattern (rows x cols), dense row-major [rows, cols]: topk_growth's selection
// (same order, ties and NaN handling) over scores the caller holds, such as
// SNFS's momentum of the dense gradient. Extra memory O(threads x k).
Selection topk_dense(std::int32_t* out_rows, std::int32_t* out_cols, float* out_scores, const float* dense,
                     const std::int32_t* row_ptr, const std::int32_t* col_idx, std::int64_t rows, std::int64_t cols,
                     std::int64_t k);

// The k stored entries of smallest |value|, ordered by |value| ascending, ties
// by lower flat index (= lower index into values, CSR order being row-major).
// Writes each entry's row, column, index into values, and |value|.
// Requires 0 <= k <= nnz (E_ARG otherwise).
Selection bottomk_magnitude(std::int32_t* out_rows, std::int32_t* out_cols, std::int32_t* out_indices, float* out_scores,
                            const std::int32_t* row_ptr, const std::int32_t* col_idx, const float* values,
                            std::int64_t rows, std::int64_t cols, std::int64_t k);

}  // namespace dynasparse::cpu

#if defined(DYNASPARSE_WITH_CUDA)
// The CUDA twins (cuda/topk.cu): device pointers for the arrays, the same
// results as the CPU bit for bit (the same selection, order and scores; the
// dot products are summed in batch order without FMA, see cuda/topk.cu), and
// the counts returned on the host, so they synchronize `s` before returning.
// `nnz` = row_ptr[rows], which the host knows (reading it from the device
// would be one more synchronization).
// Scratch memory is O(k) (two candidate buffers of at most k + k / 2 + 1024
// records of 12 bytes plus a 16 KiB histogram, see selection_scratch_bytes): the dense product is never
// stored; each tile lives in shared memory and registers only. They take
// scratch memory, so call them on cuda::stream().
namespace dynasparse::cuda {
using cpu::Selection;
// allow_one_pass = false skips the one-pass try (cuda/topk.cu) and runs the
// exact passes alone: the same result, for tests and benchmarks of both ways.
Selection topk_growth(std::int32_t* out_rows, std::int32_t* out_cols, float* out_scores, const float* dy, const float* x,
                      const std::int32_t* row_ptr, const std::int32_t* col_idx, std::int64_t rows, std::int64_t cols,
                      std::int64_t nnz, std::int64_t batch, std::int64_t k, Stream s, bool allow_one_pass = true);
Selection topk_dense(std::int32_t* out_rows, std::int32_t* out_cols, float* out_scores, const float* dense,
                     const std::int32_t* row_ptr, const std::int32_t* col_idx, std::int64_t rows, std::int64_t cols,
                     std::int64_t nnz, std::int64_t k, Stream s, bool allow_one_pass = true);
Selection bottomk_magnitude(std::int32_t* out_rows, std::int32_t* out_cols, std::int32_t* out_indices, float* out_scores,
                            const std::int32_t* row_ptr, const std::int32_t* col_idx, const float* values,
                            std::int64_t rows, std::int64_t cols, std::int64_t nnz, std::int64_t k, Stream s);
// The scratch bytes either allocates for a selection of k entries (an upper
// bound that does not depend on the matrix's shape).
std::int64_t selection_scratch_bytes(std::int64_t k);
}  // namespace dynasparse::cuda
#endif
