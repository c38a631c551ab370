// The `impl` option: an operation runs our kernel (the default, 'dynasparse')
// or, on CUDA, the NVIDIA library baseline it is benchmarked against
// (include/dynasparse/cuda_baseline.h: cuSPARSE, cuSPARSELt, cuBLAS). The baselines are
// dlopened, so they fail with E_DEVICE naming the library where it is missing
// and the addon still loads. They are comparisons, not replacements: their
// summation orders differ from ours, so their results are not bit-identical.
#pragma once

#include <napi.h>

#include <cstddef>
#include <cstdint>

#include "dynasparse/device.h"

namespace dynasparse::binding {

// Argument `index` ('dynasparse', `library`, or undefined/null for ours):
// true when `library` is asked for. E_ARG for anything else; E_DEVICE when the
// library is asked for with operands on the CPU.
bool library_impl_arg(const Napi::CallbackInfo& info, std::size_t index, const char* library, Device device);

// The CUDA calls (device pointers; enqueued on cuda::stream()). Without the CUDA
// backend they report E_DEVICE like every CUDA branch.

// c [rows, n] = alpha * A b + beta * c through cuSPARSE SpMM (CSR_ALG2, row-major
// dense operands). A's values are read through perm when it is not null (a
// transposed structure), gathered into scratch first: cuSPARSE has no such gather.
void cusparse_spmm(float* c, std::int64_t n, const std::int32_t* row_ptr, const std::int32_t* col_idx,
                   const float* values, const std::int32_t* perm, std::int64_t rows, std::int64_t cols,
                   std::int64_t nnz, const float* b, float alpha, float beta);

// out[e] = (a @ op(b))[i, j] at the pattern's stored entries through cuSPARSE
// SDDMM; a is [rows, k], b is [cols, k] (trans_b: cuSPARSE's opB = TRANSPOSE,
// no copy) or [k, cols].
void cusparse_sddmm(float* out, const std::int32_t* row_ptr, const std::int32_t* col_idx, std::int64_t rows,
                    std::int64_t cols, std::int64_t nnz, const float* a, std::int64_t k, const float* b, bool trans_b);

// c [rows, n] = alpha * A b + beta * c through cuSPARSELt in bf16 for a 2:4 A
// [rows, cols] in our storage (cuda::baseline::spmm_24_sparselt).
void cusparselt_spmm24(float* c, std::int64_t n, const float* values, const std::int32_t* meta, std::int64_t rows,
                       std::int64_t cols, const float* b, float alpha, float beta);

// c = alpha * op(a) op(b) + beta * c through cublasSgemm (row-major, as cpu::gemm;
// c is contiguous, ldc == n, when k == 0 and beta == 0, which gives zeros).
void cublas_sgemm(bool trans_a, bool trans_b, std::int64_t m, std::int64_t n, std::int64_t k, float alpha,
                  const float* a, std::int64_t lda, const float* b, std::int64_t ldb, float beta, float* c,
                  std::int64_t ldc);

}  // namespace dynasparse::binding
