// matmul: dense GEMM on tensors. Validates shapes, dtypes and devices, then
// dispatches to the backend (cpu::gemm, or the hand-written cuda::gemm).
#include <string>

#include "args.h"
#include "checks.h"
#include "dispatch.h"
#include "dynasparse/error.h"
#include "dynasparse/ops/dense.h"
#include "export.h"
#include "library_impl.h"
#include "register.h"
#include "tensor.h"

namespace dynasparse::binding {
namespace {

// matmul(a, b, transA, transB, alpha, beta, out | undefined, impl?): op(a) @ op(b)
// (times alpha, plus beta * out when out is given). Returns the new tensor,
// or undefined when the result went to `out`. impl: 'dynasparse' (default) or
// 'cublas' (cuda only; library_impl.h).
Napi::Value matmul(const Napi::CallbackInfo& info) {
  const NativeTensor& a = matrix_arg(info, 0, "a");
  const NativeTensor& b = matrix_arg(info, 1, "b");
  const bool trans_a = bool_arg(info, 2, "transA");
  const bool trans_b = bool_arg(info, 3, "transB");
  const float alpha = float_arg(info, 4, "alpha");
  const float beta = float_arg(info, 5, "beta");
  const bool has_out = info.Length() > 6 && !info[6].IsUndefined();
  if (b.device() != a.device())
    fail(ErrorCode::Device, std::string("b: expected a tensor on '") + device_name(a.device()) + "' like a, got one on '" +
                                device_name(b.device()) + "'");
  const std::int64_t m = trans_a ? a.shape()[1] : a.shape()[0];
  const std::int64_t k = trans_a ? a.shape()[0] : a.shape()[1];
  const std::int64_t kb = trans_b ? b.shape()[1] : b.shape()[0];
  const std::int64_t n = trans_b ? b.shape()[0] : b.shape()[1];
  if (k != kb)
    fail(ErrorCode::Shape, std::string("b: inner dimensions differ: op(a) is [") + std::to_string(m) + ", " +
                               std::to_string(k) + "] (a " + shape_string(a.shape()) + (trans_a ? ", transposed" : "") +
                               "), op(b) is [" + std::to_string(kb) + ", " + std::to_string(n) + "] (b " +
                               shape_string(b.shape()) + (trans_b ? ", transposed" : "") + ")");
  if (m > 0 && n > kMaxElements / m)
    fail(ErrorCode::Arg, "matmul: the result [" + std::to_string(m) + ", " + std::to_string(n) + "] has more than 2^46 elements");
  if (!has_out && beta != 0.0f)
    fail(ErrorCode::Arg, "beta: a non-zero beta needs an `out` tensor to accumulate into, got beta " + std::to_string(beta));

  const NativeTensor* out = has_out ? &matrix_arg(info, 6, "out") : nullptr;
  if (out != nullptr) {
    expect_device(*out, a.device(), "out");
    if (out->shape()[0] != m || out->shape()[1] != n)
      fail(ErrorCode::Shape, "out: expected shape [" + std::to_string(m) + ", " + std::to_string(n) + "], got " +
                                 shape_string(out->shape()));
    // Reading a or b while writing their own buffer would corrupt the product.
    if (out->buffer() == a.buffer() || out->buffer() == b.buffer())
      fail(ErrorCode::Arg, "out: must not share memory with a or b");
  }

  const bool cublas = library_impl_arg(info, 7, "cublas", a.device());
  BufferPtr result;
  float* c = nullptr;
  if (out != nullptr) {
    c = out->f32();
  } else {
    result = allocate_tensor(a.device(), m * n, DType::F32);
    c = result->as<float>();
  }
  const std::int64_t lda = a.shape()[1] > 0 ? a.shape()[1] : 1, ldb = b.shape()[1] > 0 ? b.shape()[1] : 1;
  const std::int64_t ldc = n > 0 ? n : 1;
  if (cublas)
    cublas_sgemm(trans_a, trans_b, m, n, k, alpha, a.f32(), lda, b.f32(), ldb, beta, c, ldc);
  else if (a.device() == Device::Cpu)
    cpu::gemm(trans_a, trans_b, m, n, k, alpha, a.f32(), lda, b.f32(), ldb, beta, c, ldc);
  else
    DS_CUDA(cuda::gemm(trans_a, trans_b, m, n, k, alpha, a.f32(), lda, b.f32(), ldb, beta, c, ldc, cuda::stream()));
  if (out != nullptr) return info.Env().Undefined();
  return NativeTensor::create(info.Env(), std::move(result), {m, n}, DType::F32);
}

void register_dense(Napi::Env env, Napi::Object exports) { export_function<matmul>(env, exports, "matmul"); }

}  // namespace
DS_REGISTER_BINDING(register_dense);

}  // namespace dynasparse::binding
