// 2:4 matrices: compression from dense, expansion, masks (CPU or CUDA), and
// the tensor-core copy a CUDA matrix keeps for bf16 products (sparse24MmaPack).
#include <napi.h>

#include <string>

#include "args.h"
#include "dispatch.h"
#include "dynasparse/error.h"
#include "dynasparse/ops/sparse24.h"
#include "export.h"
#include "register.h"
#include "sparse24_args.h"
#include "tensor.h"

namespace dynasparse::binding {

Sparse24Arg sparse24_arg(const Napi::CallbackInfo& info, std::size_t index, const char* name) {
  const Napi::Value v = arg(info, index, name);
  const std::string n(name);
  if (!v.IsObject()) fail(ErrorCode::Arg, n + ": expected a Sparse24Matrix, got " + describe(v));
  const Napi::Object o = v.As<Napi::Object>();
  auto part = [&](const char* key) -> NativeTensor& {
    const Napi::Value p = o.Get(key);
    if (!p.IsObject()) fail(ErrorCode::Arg, n + ": expected a Sparse24Matrix, got an object without " + key);
    return tensor_value(p, (n + "." + key).c_str());
  };
  Sparse24Arg a{};
  a.values = &part("values");
  a.meta = &part("meta");
  const Napi::Value rows = o.Get("rows"), cols = o.Get("cols");
  if (!rows.IsNumber() || !cols.IsNumber()) fail(ErrorCode::Arg, n + ": expected a Sparse24Matrix with numeric rows and cols");
  a.rows = rows.As<Napi::Number>().Int64Value();
  a.cols = cols.As<Napi::Number>().Int64Value();
  expect_dtype(*a.values, DType::F32, (n + ".values").c_str());
  expect_dtype(*a.meta, DType::I32, (n + ".meta").c_str());
  if (a.rows < 0 || a.cols < 0 || a.cols % 4 != 0 || a.values->size() != a.rows * (a.cols / 2) ||
      a.meta->size() != a.rows * cpu::sparse24_meta_words(a.cols))
    fail(ErrorCode::Format, n + ": inconsistent 2:4 parts (values " + std::to_string(a.values->size()) + ", meta " +
                                std::to_string(a.meta->size()) + " for [" + std::to_string(a.rows) + ", " +
                                std::to_string(a.cols) + "])");
  a.device = a.values->device();
  if (a.meta->device() != a.device) fail(ErrorCode::Device, n + ": the 2:4 parts are on different devices");
  return a;
}

namespace {

// sparse24FromDense(dense [rows, cols]) -> { values, meta }
Napi::Value from_dense(const Napi::CallbackInfo& info) {
  NativeTensor& dense = tensor_arg(info, 0, "dense");
  expect_dtype(dense, DType::F32, "dense");
  if (dense.shape().size() != 2) fail(ErrorCode::Shape, "dense: expected a 2-D tensor, got shape " + shape_string(dense.shape()));
  const std::int64_t rows = dense.shape()[0], cols = dense.shape()[1];
  if (cols % 4 != 0)
    fail(ErrorCode::Shape, "dense: 2:4 sparsity needs a column count divisible by 4, got shape " + shape_string(dense.shape()));
  const std::int64_t words = cpu::sparse24_meta_words(cols);
  BufferPtr values = allocate_tensor(dense.device(), rows * (cols / 2), DType::F32);
  BufferPtr meta = allocate_tensor(dense.device(), rows * words, DType::I32);
  if (dense.device() == Device::Cpu)
    cpu::sparse24_from_dense(values->as<float>(), meta->as<std::int32_t>(), dense.f32(), rows, cols);
  else
    DS_CUDA(cuda::sparse24_from_dense(values->as<float>(), meta->as<std::int32_t>(), dense.f32(), rows, cols,
                                      cuda::stream()));
  Napi::Object out = Napi::Object::New(info.Env());
  out.Set("values", NativeTensor::create(info.Env(), values, {rows, cols / 2}, DType::F32));
  out.Set("meta", NativeTensor::create(info.Env(), meta, {rows, words}, DType::I32));
  return out;
}

// sparse24ToDense(m) -> Tensor [rows, cols]
Napi::Value to_dense(const Napi::CallbackInfo& info) {
  const Sparse24Arg a = sparse24_arg(info, 0, "matrix");
  BufferPtr out = allocate_tensor(a.device, a.rows * a.cols, DType::F32);
  if (a.device == Device::Cpu)
    cpu::sparse24_to_dense(out->as<float>(), a.values->f32(), a.meta->i32(), a.rows, a.cols);
  else
    DS_CUDA(cuda::sparse24_to_dense(out->as<float>(), a.values->f32(), a.meta->i32(), a.rows, a.cols, cuda::stream()));
  return NativeTensor::create(info.Env(), out, {a.rows, a.cols}, DType::F32);
}

// sparse24Mask(m) -> Tensor [rows, cols] of 0/1
Napi::Value mask(const Napi::CallbackInfo& info) {
  const Sparse24Arg a = sparse24_arg(info, 0, "matrix");
  BufferPtr out = allocate_tensor(a.device, a.rows * a.cols, DType::F32);
  if (a.device == Device::Cpu)
    cpu::sparse24_mask(out->as<float>(), a.meta->i32(), a.rows, a.cols);
  else
    DS_CUDA(cuda::sparse24_mask(out->as<float>(), a.meta->i32(), a.rows, a.cols, cuda::stream()));
  return NativeTensor::create(info.Env(), out, {a.rows, a.cols}, DType::F32);
}

// sparse24MmaPack(m) -> { values, meta, valueWords, metaWords }: the tensor-core copy of a CUDA matrix
// (layout: ops/sparse24.h), int32 tensors holding bf16 pairs and metadata words.
// The metadata is built here once (the pattern never changes); the values are
// rounded from m.values here and again by every bf16 product (spmm24), since
// optimizers update m.values in place.
Napi::Value mma_pack(const Napi::CallbackInfo& info) {
  const Sparse24Arg a = sparse24_arg(info, 0, "matrix");
  if (a.device != Device::Cuda)
    fail(ErrorCode::Device, "Sparse24Matrix: the bf16 tensor-core copy exists only on cuda, the matrix is on cpu");
  const Sparse24MmaShape shape = sparse24_mma_shape(a.rows, a.cols);
  BufferPtr values = allocate_tensor(Device::Cuda, shape.value_words(), DType::I32);
  BufferPtr meta = allocate_tensor(Device::Cuda, shape.meta_words(), DType::I32);
  DS_CUDA(cuda::sparse24_mma_meta(meta->as<std::uint32_t>(), a.meta->i32(), a.rows, a.cols, cuda::stream()));
  DS_CUDA(cuda::sparse24_mma_values(values->as<std::uint32_t>(), a.values->f32(), a.rows, a.cols, cuda::stream()));
  Napi::Object out = Napi::Object::New(info.Env());
  out.Set("values", NativeTensor::create(info.Env(), values, {shape.value_words()}, DType::I32));
  out.Set("meta", NativeTensor::create(info.Env(), meta, {shape.meta_words()}, DType::I32));
  out.Set("valueWords", static_cast<double>(shape.value_words()));
  out.Set("metaWords", static_cast<double>(shape.meta_words()));
  return out;
}

void register_sparse24(Napi::Env env, Napi::Object exports) {
  export_function<from_dense>(env, exports, "sparse24FromDense");
  export_function<to_dense>(env, exports, "sparse24ToDense");
  export_function<mask>(env, exports, "sparse24Mask");
  export_function<mma_pack>(env, exports, "sparse24MmaPack");
}

}  // namespace
DS_REGISTER_BINDING(register_sparse24);

}  // namespace dynasparse::binding
