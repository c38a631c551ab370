// The `impl` option and the calls into the library baselines (library_impl.h).
#include "library_impl.h"

#include <string>

#include "args.h"
#include "dispatch.h"
#include "dynasparse/error.h"
#include "dynasparse/memory.h"
#include "dynasparse/ops/csr.h"
#include "dynasparse/ops/dense.h"
#include "dynasparse/ops/elementwise.h"

#if defined(DYNASPARSE_WITH_CUDA)
#include "dynasparse/cuda_baseline.h"
#endif

namespace dynasparse::binding {

bool library_impl_arg(const Napi::CallbackInfo& info, std::size_t index, const char* library, Device device) {
  const Napi::Value v = info.Length() > index ? info[index] : info.Env().Undefined();
  if (v.IsUndefined() || v.IsNull()) return false;
  const std::string expected = std::string("'dynasparse' or '") + library + "'";
  if (!v.IsString()) fail(ErrorCode::Arg, "impl: expected " + expected + ", got " + describe(v));
  const std::string name = v.As<Napi::String>().Utf8Value();
  if (name == "dynasparse") return false;
  if (name != library) fail(ErrorCode::Arg, "impl: expected " + expected + ", got '" + name + "'");
  if (device != Device::Cuda)
    fail(ErrorCode::Device, std::string("impl: '") + library + "' runs on cuda; the operands are on " + device_name(device));
  return true;
}

#if defined(DYNASPARSE_WITH_CUDA)

namespace {

// The empty sum (no stored entries, or k = 0) with beta = 0: `count` zeros at
// out, without asking the library what it makes of empty operands (some
// refuse them, others do not say). The library must still be there: whether
// an impl works never depends on the operands' sizes.
void empty_sum(float* out, std::int64_t count, const cuda::baseline::LibraryStatus& library, const char* name) {
  cuda::baseline::require_loaded(library, name);
  cuda::fill(out, count, 0.0f, cuda::stream());
}

}  // namespace

void cusparse_spmm(float* c, std::int64_t n, const std::int32_t* row_ptr, const std::int32_t* col_idx,
                   const float* values, const std::int32_t* perm, std::int64_t rows, std::int64_t cols,
                   std::int64_t nnz, const float* b, float alpha, float beta) {
  BufferPtr gathered;
  if (perm != nullptr) {
    gathered = Buffer::allocate(Device::Cuda, static_cast<std::size_t>(nnz) * sizeof(float));
    cuda::gather_values(gathered->as<float>(), values, perm, nnz, cuda::stream());
    values = gathered->as<float>();
  }
  if (rows == 0 || n == 0) return;
  if (nnz == 0 && beta == 0.0f) return empty_sum(c, rows * n, cuda::baseline::libraries().cusparse, "cuSPARSE");
  // Set up first: a missing library fails here, before c is touched.
  cuda::baseline::Spmm op(cuda::baseline::SpmmAlg::CsrAlg2, rows, cols, nnz, row_ptr, col_idx, values, n, b, c,
                          cuda::stream());
  // beta = 0 must not read c (it may hold anything; cuSPARSE does not promise
  // to skip it): start from zeros.
  if (beta == 0.0f) cuda::fill(c, rows * n, 0.0f, cuda::stream());
  op.run(alpha, beta);
}

void cusparse_sddmm(float* out, const std::int32_t* row_ptr, const std::int32_t* col_idx, std::int64_t rows,
                    std::int64_t cols, std::int64_t nnz, const float* a, std::int64_t k, const float* b, bool trans_b) {
  if (nnz == 0) return;
  if (k == 0) return empty_sum(out, nnz, cuda::baseline::libraries().cusparse, "cuSPARSE");
  // Set up first: a missing library fails here, before out is touched.
  cuda::baseline::Sddmm op(rows, cols, k, a, b, nnz, row_ptr, col_idx, out, cuda::stream(), trans_b);
  cuda::fill(out, nnz, 0.0f, cuda::stream());  // beta = 0 below: the values start defined
  op.run(1.0f, 0.0f);
}

void cusparselt_spmm24(float* c, std::int64_t n, const float* values, const std::int32_t* meta, std::int64_t rows,
                       std::int64_t cols, const float* b, float alpha, float beta) {
  cuda::baseline::spmm_24_sparselt(c, values, meta, rows, cols, b, n, alpha, beta, cuda::stream());
}

void cublas_sgemm(bool trans_a, bool trans_b, std::int64_t m, std::int64_t n, std::int64_t k, float alpha,
                  const float* a, std::int64_t lda, const float* b, std::int64_t ldb, float beta, float* c,
                  std::int64_t ldc) {
  // matmul's result is a whole [m, n] tensor (ldc == n), so the zeros are contiguous.
  if (k == 0 && beta == 0.0f && m > 0 && n > 0) return empty_sum(c, m * n, cuda::baseline::libraries().cublas, "cuBLAS");
  cuda::baseline::sgemm(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, cuda::stream());
}

#else

void cusparse_spmm(float*, std::int64_t, const std::int32_t*, const std::int32_t*, const float*, const std::int32_t*,
                   std::int64_t, std::int64_t, std::int64_t, const float*, float, float) {
  cuda::require_available();
}
void cusparse_sddmm(float*, const std::int32_t*, const std::int32_t*, std::int64_t, std::int64_t, std::int64_t,
                    const float*, std::int64_t, const float*, bool) {
  cuda::require_available();
}
void cusparselt_spmm24(float*, std::int64_t, const float*, const std::int32_t*, std::int64_t, std::int64_t, const float*,
                       float, float) {
  cuda::require_available();
}
void cublas_sgemm(bool, bool, std::int64_t, std::int64_t, std::int64_t, float, const float*, std::int64_t, const float*,
                  std::int64_t, float, float*, std::int64_t) {
  cuda::require_available();
}

#endif

}  // namespace dynasparse::binding
