// 2:4 matrices: compression from dense, expansion, masks.
#include <napi.h>

#include <string>

#include "args.h"
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

[[noreturn]] void not_on_cuda(const char* op) { fail(ErrorCode::Device, std::string(op) + ": not implemented on cuda yet"); }

// sparse24FromDense(dense [rows, cols]) -> { values, meta }
Napi::Value from_dense(const Napi::CallbackInfo& info) {
  NativeTensor& dense = tensor_arg(info, 0, "dense");
  expect_dtype(dense, DType::F32, "dense");
  if (dense.shape().size() != 2) fail(ErrorCode::Shape, "dense: expected a 2-D tensor, got shape " + shape_string(dense.shape()));
  const std::int64_t rows = dense.shape()[0], cols = dense.shape()[1];
  if (cols % 4 != 0)
    fail(ErrorCode::Shape, "dense: 2:4 sparsity needs a column count divisible by 4, got shape " + shape_string(dense.shape()));
  if (dense.device() != Device::Cpu) not_on_cuda("Sparse24Matrix.fromDense");
  const std::int64_t words = cpu::sparse24_meta_words(cols);
  BufferPtr values = allocate_tensor(Device::Cpu, rows * (cols / 2), DType::F32);
  BufferPtr meta = allocate_tensor(Device::Cpu, rows * words, DType::I32);
  cpu::sparse24_from_dense(values->as<float>(), meta->as<std::int32_t>(), dense.f32(), rows, cols);
  Napi::Object out = Napi::Object::New(info.Env());
  out.Set("values", NativeTensor::create(info.Env(), values, {rows, cols / 2}, DType::F32));
  out.Set("meta", NativeTensor::create(info.Env(), meta, {rows, words}, DType::I32));
  return out;
}

// sparse24ToDense(m) -> Tensor [rows, cols]
Napi::Value to_dense(const Napi::CallbackInfo& info) {
  const Sparse24Arg a = sparse24_arg(info, 0, "matrix");
  if (a.device != Device::Cpu) not_on_cuda("Sparse24Matrix.toDense");
  BufferPtr out = allocate_tensor(Device::Cpu, a.rows * a.cols, DType::F32);
  cpu::sparse24_to_dense(out->as<float>(), a.values->f32(), a.meta->i32(), a.rows, a.cols);
  return NativeTensor::create(info.Env(), out, {a.rows, a.cols}, DType::F32);
}

// sparse24Mask(m) -> Tensor [rows, cols] of 0/1
Napi::Value mask(const Napi::CallbackInfo& info) {
  const Sparse24Arg a = sparse24_arg(info, 0, "matrix");
  if (a.device != Device::Cpu) not_on_cuda("Sparse24Matrix.mask");
  BufferPtr out = allocate_tensor(Device::Cpu, a.rows * a.cols, DType::F32);
  cpu::sparse24_mask(out->as<float>(), a.meta->i32(), a.rows, a.cols);
  return NativeTensor::create(info.Env(), out, {a.rows, a.cols}, DType::F32);
}

void register_sparse24(Napi::Env env, Napi::Object exports) {
  export_function<from_dense>(env, exports, "sparse24FromDense");
  export_function<to_dense>(env, exports, "sparse24ToDense");
  export_function<mask>(env, exports, "sparse24Mask");
}

}  // namespace
DS_REGISTER_BINDING(register_sparse24);

}  // namespace dynasparse::binding
