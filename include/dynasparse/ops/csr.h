// CSR format kernels: validation, conversion to and from dense, random patterns.
// CSR = rowPtr (rows + 1), colIdx (nnz, sorted and unique within a row), values (nnz).
#pragma once

#include <cstdint>
#include <string>

#include "dynasparse/device.h"

namespace dynasparse::cpu {

// Checks a host CSR structure in full. Returns an empty string when valid, else
// a message naming the first offending row (and column position).
std::string csr_validate(std::int64_t rows, std::int64_t cols, const std::int32_t* row_ptr, std::int64_t row_ptr_len,
                         const std::int32_t* col_idx, std::int64_t nnz);

// Pass 1 of dense -> CSR: row_ptr[0..rows] as the exclusive scan of the kept
// entries per row; returns nnz. An entry is kept where mask != 0 when a mask is
// given, else where !(|v| <= threshold) (so NaN is kept, never silently lost).
std::int64_t csr_row_ptr_from_dense(std::int32_t* row_ptr, const float* dense, const float* mask, std::int64_t rows,
                                    std::int64_t cols, float threshold);
// Pass 2: the column indices and values of the kept entries (same rule).
void csr_fill_from_dense(std::int32_t* col_idx, float* values, const std::int32_t* row_ptr, const float* dense,
                         const float* mask, std::int64_t rows, std::int64_t cols, float threshold);

// dense[rows x cols] = the CSR matrix (zeros elsewhere).
void csr_to_dense(float* dense, const std::int32_t* row_ptr, const std::int32_t* col_idx, const float* values,
                  std::int64_t rows, std::int64_t cols);

// A random pattern with exactly nnz_per_row distinct columns in every row
// (uniform without replacement, Floyd's algorithm keyed by (seed, row)).
void csr_random_rows(std::int32_t* row_ptr, std::int32_t* col_idx, std::int64_t rows, std::int64_t cols,
                     std::int64_t nnz_per_row, std::uint64_t seed);
// A random pattern with exactly nnz entries placed uniformly among rows x cols.
void csr_random_total(std::int32_t* row_ptr, std::int32_t* col_idx, std::int64_t rows, std::int64_t cols,
                      std::int64_t nnz, std::uint64_t seed);

// Kaiming-normal values for a pattern: std = sqrt(2 / fan_in) where fan_in is the
// row's own nnz ('sparse', Evci et al. gradient-flow init) or cols ('dense').
// Rows with no entries are skipped. Element k uses rng stream kStreamTensor, index k.
void csr_kaiming_values(float* values, const std::int32_t* row_ptr, std::int64_t rows, std::int64_t cols, bool sparse_fan_in,
                        std::uint64_t seed);

// The transpose's structure: row_ptr_t (cols + 1), row_idx (nnz: the original
// row of each transposed entry, ascending within a transposed row) and perm
// (nnz: transposed entry e is original entry perm[e]). A stable counting sort,
// O(rows + cols + nnz); `cursor` is scratch of cols entries.
void csr_transpose(std::int32_t* row_ptr_t, std::int32_t* row_idx, std::int32_t* perm, std::int32_t* cursor,
                   const std::int32_t* row_ptr, const std::int32_t* col_idx, std::int64_t rows, std::int64_t cols);

// out[e] = src[perm[e]] for e < n: re-gathers a transposed matrix's values when
// only the values changed. perm entries must be valid indices of src.
void gather_values(float* out, const float* src, const std::int32_t* perm, std::int64_t n);

}  // namespace dynasparse::cpu

#if defined(DYNASPARSE_WITH_CUDA)
// The CUDA twins (device pointers, enqueued on `s`), bit-identical to the CPU.
// Random patterns have none: the binding builds them on the host.
namespace dynasparse::cuda {
void csr_to_dense(float* dense, const std::int32_t* row_ptr, const std::int32_t* col_idx, const float* values,
                  std::int64_t rows, std::int64_t cols, Stream s);
// Pass 1, with a device scan: row_ptr as on the CPU (clamped at 2^31 - 1) and
// *nnz (device memory) = the total. Uses scratch memory: call it on cuda::stream().
void csr_row_ptr_from_dense(std::int32_t* row_ptr, std::int64_t* nnz, const float* dense, const float* mask,
                            std::int64_t rows, std::int64_t cols, float threshold, Stream s);
void csr_fill_from_dense(std::int32_t* col_idx, float* values, const std::int32_t* row_ptr, const float* dense,
                         const float* mask, std::int64_t rows, std::int64_t cols, float threshold, Stream s);
void csr_kaiming_values(float* values, const std::int32_t* row_ptr, std::int64_t rows, std::int64_t cols,
                        bool sparse_fan_in, std::uint64_t seed, Stream s);
// The stable transpose, bit-identical to cpu::csr_transpose (nnz = row_ptr[rows],
// passed because it lives on the device). Uses about nnz ints of scratch memory:
// call it on cuda::stream().
void csr_transpose(std::int32_t* row_ptr_t, std::int32_t* row_idx, std::int32_t* perm, const std::int32_t* row_ptr,
                   const std::int32_t* col_idx, std::int64_t rows, std::int64_t cols, std::int64_t nnz, Stream s);
// out[e] = src[perm[e]] for e < n, as cpu::gather_values: every perm entry must
// be a valid index of src (the binding checks a perm from JavaScript first).
void gather_values(float* out, const float* src, const std::int32_t* perm, std::int64_t n, Stream s);
}  // namespace dynasparse::cuda
#endif
