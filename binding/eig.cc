// gramTopEigen: the top-k eigenvectors of M Mᵀ for a dense M (the
// eigensolver behind gradmaxOutgoing). Validates, then calls the kernel of
// M's device: on CUDA the vectors stay on the device and the eigenvalues and
// residuals come back to host typed arrays (the solver reads them anyway).
#include <string>

#include "args.h"
#include "dispatch.h"
#include "dynasparse/cuda_runtime.h"
#include "dynasparse/error.h"
#include "dynasparse/ops/eig.h"
#include "export.h"
#include "register.h"
#include "tensor.h"

namespace dynasparse::binding {
namespace {

// gramTopEigen(m, k, tol, maxIter, seed, scale) ->
//   { vectors: NativeTensor [n, k], eigenvalues: Float32Array, residuals: Float32Array,
//     iterations: number, converged: boolean }
Napi::Value gram_top_eigen(const Napi::CallbackInfo& info) {
  const NativeTensor& m = tensor_arg(info, 0, "m");
  expect_dtype(m, DType::F32, "m");
  if (m.shape().size() != 2 || m.shape()[0] < 1 || m.shape()[1] < 1)
    fail(ErrorCode::Shape, "m: expected a non-empty 2-D tensor, got shape " + shape_string(m.shape()));
  const std::int64_t n = m.shape()[0], p = m.shape()[1];
  const std::int64_t k = size_arg(info, 1, "k");
  cpu::TopEigenOptions options;
  options.tol = number_arg(info, 2, "tol");
  options.max_iter = size_arg(info, 3, "maxIter", std::int64_t{1} << 31);
  options.seed = seed_arg(info, 4, "seed");
  options.scale = number_arg(info, 5, "scale");
  // The kernel checks k, tol, maxIter and scale before it touches memory;
  // k <= min(n, p) bounds the allocation below.
  if (k < 1 || k > std::min(n, p))
    fail(ErrorCode::Arg, "k: expected an integer in [1, " + std::to_string(std::min(n, p)) + "], got " + std::to_string(k));
  if (m.device() == Device::Cuda) cuda::require_available();
  BufferPtr vectors = allocate_tensor(m.device(), n * k, DType::F32);
  Napi::Env env = info.Env();
  Napi::Float32Array eigenvalues = Napi::Float32Array::New(env, static_cast<std::size_t>(k));
  Napi::Float32Array residuals = Napi::Float32Array::New(env, static_cast<std::size_t>(k));
  cpu::TopEigenResult r;
  if (m.device() == Device::Cpu)
    r = cpu::top_gram_eigenvectors(m.f32(), n, p, k, options, vectors->as<float>(), eigenvalues.Data(), residuals.Data());
  else
    DS_CUDA(r = cuda::top_gram_eigenvectors(m.f32(), n, p, k, options, vectors->as<float>(), eigenvalues.Data(),
                                            residuals.Data(), cuda::stream()));
  Napi::Object out = Napi::Object::New(env);
  out.Set("vectors", NativeTensor::create(env, std::move(vectors), {n, k}, DType::F32));
  out.Set("eigenvalues", eigenvalues);
  out.Set("residuals", residuals);
  out.Set("iterations", Napi::Number::New(env, static_cast<double>(r.iterations)));
  out.Set("converged", Napi::Boolean::New(env, r.converged));
  return out;
}

void register_eig(Napi::Env env, Napi::Object exports) { export_function<gram_top_eigen>(env, exports, "gramTopEigen"); }

}  // namespace
DS_REGISTER_BINDING(register_eig);

}  // namespace dynasparse::binding
