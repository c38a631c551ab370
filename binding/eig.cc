// gramTopEigen: the top-k eigenvectors of M Mᵀ for M = alpha · G Fᵀ (the
// eigensolver behind gradmaxOutgoing, where M = (1/B) gradNext · actPrevᵀ).
// Validates, picks how M is applied (gram_factors_cheaper: through its factors,
// or formed once with a GEMM when the rank r is not below the sides), and
// calls the kernel of the factors' device: on CUDA the vectors stay on the
// device and the eigenvalues and residuals come back to host typed arrays.
#include <string>

#include "args.h"
#include "checks.h"
#include "dispatch.h"
#include "dynasparse/cuda_runtime.h"
#include "dynasparse/error.h"
#include "dynasparse/ops/dense.h"
#include "dynasparse/ops/eig.h"
#include "export.h"
#include "register.h"
#include "tensor.h"

namespace dynasparse::binding {
namespace {

// gramTopEigen(g [n, r], f [p, r], alpha, gName, fName, k, tol, maxIter, seed, scale) ->
//   { vectors: NativeTensor [n, k], eigenvalues: Float32Array, residuals: Float32Array,
//     iterations: number, converged: boolean, formed: boolean }
// gName and fName label g and f in messages; formed says whether M was formed.
Napi::Value gram_top_eigen(const Napi::CallbackInfo& info) {
  const std::string g_name = string_arg(info, 3, "gName"), f_name = string_arg(info, 4, "fName");
  const NativeTensor& g = matrix_arg(info, 0, g_name.c_str());
  const NativeTensor& f = matrix_arg(info, 1, f_name.c_str());
  const std::int64_t n = g.shape()[0], r = g.shape()[1], p = f.shape()[0];
  if (f.shape()[1] != r)
    fail(ErrorCode::Shape, f_name + ": expected [p, " + std::to_string(r) + "] (the columns of " + g_name + " " +
                               shape_string(g.shape()) + "), got " + shape_string(f.shape()));
  if (n < 1 || p < 1 || r < 1)
    fail(ErrorCode::Shape, g_name + ", " + f_name + ": expected non-empty matrices, got " + shape_string(g.shape()) +
                               " and " + shape_string(f.shape()));
  expect_device(f, g.device(), f_name.c_str());
  cpu::GramFactors factors;
  factors.g = g.f32();
  factors.f = f.f32();
  factors.r = r;
  factors.alpha = float_arg(info, 2, "alpha");
  factors.g_name = g_name.c_str();
  factors.f_name = f_name.c_str();
  const std::int64_t k = size_arg(info, 5, "k");
  cpu::TopEigenOptions options;
  options.tol = number_arg(info, 6, "tol");
  options.max_iter = size_arg(info, 7, "maxIter", std::int64_t{1} << 31);
  options.seed = seed_arg(info, 8, "seed");
  options.scale = number_arg(info, 9, "scale");
  // The kernels check k, tol, maxIter and scale before they touch memory;
  // k <= min(n, p) bounds the allocation below.
  if (k < 1 || k > std::min(n, p))
    fail(ErrorCode::Arg, "k: expected an integer in [1, " + std::to_string(std::min(n, p)) + "], got " + std::to_string(k));
  const Device device = g.device();
  if (device == Device::Cuda) cuda::require_available();
  BufferPtr vectors = allocate_tensor(device, n * k, DType::F32);
  Napi::Env env = info.Env();
  Napi::Float32Array eigenvalues = Napi::Float32Array::New(env, static_cast<std::size_t>(k));
  Napi::Float32Array residuals = Napi::Float32Array::New(env, static_cast<std::size_t>(k));
  const bool formed = !cpu::gram_factors_cheaper(n, p, r);
  cpu::TopEigenResult result;
  if (formed) {
    cpu::check_top_eigen_arguments(n, p, k, options);  // before the n x p allocation
    BufferPtr m = allocate_tensor(device, n * p, DType::F32);
    if (device == Device::Cpu) {
      cpu::gemm(false, true, n, p, r, factors.alpha, factors.g, r, factors.f, r, 0.0f, m->as<float>(), p);
      result = cpu::top_gram_eigenvectors(m->as<float>(), n, p, k, options, vectors->as<float>(), eigenvalues.Data(),
                                          residuals.Data());
    } else {
      DS_CUDA(cuda::gemm(false, true, n, p, r, factors.alpha, factors.g, r, factors.f, r, 0.0f, m->as<float>(), p,
                         cuda::stream()));
      DS_CUDA(result = cuda::top_gram_eigenvectors(m->as<float>(), n, p, k, options, vectors->as<float>(),
                                                   eigenvalues.Data(), residuals.Data(), cuda::stream()));
    }
  } else if (device == Device::Cpu) {
    result = cpu::top_gram_eigenvectors(factors, n, p, k, options, vectors->as<float>(), eigenvalues.Data(),
                                        residuals.Data());
  } else {
    DS_CUDA(result = cuda::top_gram_eigenvectors(factors, n, p, k, options, vectors->as<float>(), eigenvalues.Data(),
                                                 residuals.Data(), cuda::stream()));
  }
  Napi::Object out = Napi::Object::New(env);
  out.Set("vectors", NativeTensor::create(env, std::move(vectors), {n, k}, DType::F32));
  out.Set("eigenvalues", eigenvalues);
  out.Set("residuals", residuals);
  out.Set("iterations", Napi::Number::New(env, static_cast<double>(result.iterations)));
  out.Set("converged", Napi::Boolean::New(env, result.converged));
  out.Set("formed", Napi::Boolean::New(env, formed));
  return out;
}

void register_eig(Napi::Env env, Napi::Object exports) { export_function<gram_top_eigen>(env, exports, "gramTopEigen"); }

}  // namespace
DS_REGISTER_BINDING(register_eig);

}  // namespace dynasparse::binding
