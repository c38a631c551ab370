// relu, reluBackward, addBias, biasGrad, softmaxCrossEntropy, accuracyCount,
// add, axpy: the kernels of include/dynasparse/ops/elementwise.h. Activations
// are feature-major [features, batch].
#include <napi.h>

#include <limits>
#include <string>

#include "args.h"
#include "checks.h"
#include "dispatch.h"
#include "dynasparse/error.h"
#include "dynasparse/ops/elementwise.h"
#include "export.h"
#include "register.h"
#include "tensor.h"

namespace dynasparse::binding {
namespace {

// A live float32 tensor; its device is the one every other argument must share.
NativeTensor& first_f32_arg(const Napi::CallbackInfo& info, std::size_t index, const char* name) {
  NativeTensor& t = tensor_arg(info, index, name);
  expect_dtype(t, DType::F32, name);
  return t;
}

Napi::Object new_f32(Napi::Env env, BufferPtr buffer, const std::vector<std::int64_t>& shape) {
  return NativeTensor::create(env, std::move(buffer), shape, DType::F32);
}

// relu(x): a new tensor max(x, 0).
Napi::Value relu(const Napi::CallbackInfo& info) {
  NativeTensor& x = first_f32_arg(info, 0, "x");
  BufferPtr out = allocate_tensor(x.device(), x.size(), DType::F32);
  if (x.device() == Device::Cpu) cpu::relu(out->as<float>(), x.f32(), x.size());
  else DS_CUDA(cuda::relu(out->as<float>(), x.f32(), x.size(), cuda::stream()));
  return new_f32(info.Env(), std::move(out), x.shape());
}

// reluBackward(dy, x): a new tensor x > 0 ? dy : 0.
Napi::Value relu_backward(const Napi::CallbackInfo& info) {
  NativeTensor& dy = first_f32_arg(info, 0, "dy");
  NativeTensor& x = f32_tensor_arg(info, 1, "x", dy.device());
  expect_same_shape(x, "x", dy, "dy");
  BufferPtr out = allocate_tensor(dy.device(), dy.size(), DType::F32);
  if (dy.device() == Device::Cpu) cpu::relu_backward(out->as<float>(), dy.f32(), x.f32(), dy.size());
  else DS_CUDA(cuda::relu_backward(out->as<float>(), dy.f32(), x.f32(), dy.size(), cuda::stream()));
  return new_f32(info.Env(), std::move(out), dy.shape());
}

// addBias(y, bias, out | null): y [features, batch] + bias [features] per row,
// into `out` (which may be y itself) or a new tensor; returns the result.
Napi::Value add_bias(const Napi::CallbackInfo& info) {
  NativeTensor& y = first_f32_arg(info, 0, "y");
  NativeTensor& bias = f32_tensor_arg(info, 1, "bias", y.device());
  NativeTensor* out = optional_f32_tensor_arg(info, 2, "out", y.device());
  expect_matrix(y, "y", "[features, batch]");
  const std::int64_t features = y.shape()[0], batch = y.shape()[1];
  if (bias.shape() != std::vector<std::int64_t>{features})
    fail(ErrorCode::Shape, "bias: expected shape [" + std::to_string(features) + "] (one per feature of y " +
                               shape_string(y.shape()) + "), got " + shape_string(bias.shape()));
  if (out != nullptr) expect_same_shape(*out, "out", y, "y");
  BufferPtr result = out != nullptr ? nullptr : allocate_tensor(y.device(), y.size(), DType::F32);
  float* dst = out != nullptr ? out->f32() : result->as<float>();
  if (y.device() == Device::Cpu) cpu::add_bias(dst, y.f32(), bias.f32(), features, batch);
  else DS_CUDA(cuda::add_bias(dst, y.f32(), bias.f32(), features, batch, cuda::stream()));
  if (out != nullptr) return info[2];
  return new_f32(info.Env(), std::move(result), y.shape());
}

// biasGrad(dy): a new tensor [features], the row sums of dy [features, batch].
Napi::Value bias_grad(const Napi::CallbackInfo& info) {
  NativeTensor& dy = first_f32_arg(info, 0, "dy");
  expect_matrix(dy, "dy", "[features, batch]");
  const std::int64_t features = dy.shape()[0], batch = dy.shape()[1];
  BufferPtr out = allocate_tensor(dy.device(), features, DType::F32);
  if (dy.device() == Device::Cpu) cpu::bias_grad(out->as<float>(), dy.f32(), features, batch);
  else DS_CUDA(cuda::bias_grad(out->as<float>(), dy.f32(), features, batch, cuda::stream()));
  return new_f32(info.Env(), std::move(out), {features});
}

// Checks logits [classes, batch] (both >= 1) and labels (int32 [batch] on the
// same device) for the loss and the accuracy. The label values are checked by
// the callers: on CUDA in the same stream pass as the result (one read back).
void check_classification(NativeTensor& logits, NativeTensor& labels) {
  expect_matrix(logits, "logits", "[classes, batch]");
  const std::int64_t classes = logits.shape()[0], batch = logits.shape()[1];
  if (classes < 1 || batch < 1)
    fail(ErrorCode::Shape, "logits: expected at least one class and one sample, got shape " + shape_string(logits.shape()));
  if (classes > std::numeric_limits<std::int32_t>::max())
    fail(ErrorCode::Shape, "logits: at most 2^31 - 1 classes (labels are int32), got " + std::to_string(classes));
  expect_dtype(labels, DType::I32, "labels");
  expect_device(labels, logits.device(), "labels");
  if (labels.shape() != std::vector<std::int64_t>{batch})
    fail(ErrorCode::Shape, "labels: expected shape [" + std::to_string(batch) + "] (one per column of logits " +
                               shape_string(logits.shape()) + "), got " + shape_string(labels.shape()));
}

// E_ARG naming labels[bad] (>= 0), the first label outside [0, classes).
void expect_known_label(const NativeTensor& labels, std::int64_t bad, std::int64_t classes) {
  if (bad >= 0)
    fail(ErrorCode::Arg, "labels[" + std::to_string(bad) + "]: expected a class index in [0, " + std::to_string(classes) +
                             "), got " + std::to_string(read_value<std::int32_t>(labels.i32() + bad, labels.device())));
}

// What a CUDA loss or accuracy writes to device memory: the first bad label's
// index (or -1) beside the result, so one copy brings both back.
template <typename T>
struct CheckedResult {
  std::int64_t bad;
  T value;
};

template <typename T, typename Launch>
CheckedResult<T> run_checked_on_cuda(const NativeTensor& labels, std::int64_t classes, Launch launch_result) {
  BufferPtr both = Buffer::allocate(Device::Cuda, sizeof(CheckedResult<T>));
  auto* device = both->as<CheckedResult<T>>();
  DS_CUDA(cuda::first_index_outside(&device->bad, labels.i32(), labels.size(), 0, classes, cuda::stream()));
  launch_result(&device->value);
  return read_value<CheckedResult<T>>(both->data(), Device::Cuda);
}

// softmaxCrossEntropy(logits, labels) -> { loss, grad }: the mean loss and its
// gradient with respect to logits (a new tensor of logits' shape).
Napi::Value softmax_cross_entropy(const Napi::CallbackInfo& info) {
  NativeTensor& logits = first_f32_arg(info, 0, "logits");
  NativeTensor& labels = tensor_arg(info, 1, "labels");
  check_classification(logits, labels);
  const std::int64_t classes = logits.shape()[0], batch = logits.shape()[1];
  BufferPtr grad = allocate_tensor(logits.device(), logits.size(), DType::F32);
  double loss = 0;
  if (logits.device() == Device::Cpu) {
    expect_known_label(labels, cpu::first_index_outside(labels.i32(), labels.size(), 0, classes), classes);
    loss = cpu::softmax_cross_entropy(grad->as<float>(), logits.f32(), labels.i32(), classes, batch);
  } else {
    // The kernel is safe with bad labels (their loss is NaN), so the check and
    // the loss come back together: one synchronization per training step.
    const CheckedResult<double> r = run_checked_on_cuda<double>(labels, classes, [&](double* mean) {
      DS_CUDA(cuda::softmax_cross_entropy(grad->as<float>(), mean, logits.f32(), labels.i32(), classes, batch,
                                          cuda::stream()));
    });
    expect_known_label(labels, r.bad, classes);
    loss = r.value;
  }
  Napi::Object result = Napi::Object::New(info.Env());
  result.Set("loss", Napi::Number::New(info.Env(), loss));
  result.Set("grad", new_f32(info.Env(), std::move(grad), logits.shape()));
  return result;
}

// accuracyCount(logits, labels): how many columns' argmax equals the label.
Napi::Value accuracy_count(const Napi::CallbackInfo& info) {
  NativeTensor& logits = first_f32_arg(info, 0, "logits");
  NativeTensor& labels = tensor_arg(info, 1, "labels");
  check_classification(logits, labels);
  const std::int64_t classes = logits.shape()[0], batch = logits.shape()[1];
  std::int64_t correct = 0;
  if (logits.device() == Device::Cpu) {
    expect_known_label(labels, cpu::first_index_outside(labels.i32(), labels.size(), 0, classes), classes);
    correct = cpu::count_correct(logits.f32(), labels.i32(), classes, batch);
  } else {
    // Labels are only compared by the count: the check rides along.
    const CheckedResult<std::int64_t> r = run_checked_on_cuda<std::int64_t>(labels, classes, [&](std::int64_t* count) {
      DS_CUDA(cuda::count_correct(count, logits.f32(), labels.i32(), classes, batch, cuda::stream()));
    });
    expect_known_label(labels, r.bad, classes);
    correct = r.value;
  }
  return Napi::Number::New(info.Env(), static_cast<double>(correct));
}

// add(a, b): a new tensor a + b (same shape).
Napi::Value add(const Napi::CallbackInfo& info) {
  NativeTensor& a = first_f32_arg(info, 0, "a");
  NativeTensor& b = f32_tensor_arg(info, 1, "b", a.device());
  expect_same_shape(b, "b", a, "a");
  BufferPtr out = allocate_tensor(a.device(), a.size(), DType::F32);
  if (a.device() == Device::Cpu) cpu::add(out->as<float>(), a.f32(), b.f32(), a.size());
  else DS_CUDA(cuda::add(out->as<float>(), a.f32(), b.f32(), a.size(), cuda::stream()));
  return new_f32(info.Env(), std::move(out), a.shape());
}

// axpy(alpha, x, y): y += alpha * x in place (same shape; x and y distinct buffers).
Napi::Value axpy(const Napi::CallbackInfo& info) {
  const float alpha = float_arg(info, 0, "alpha");
  NativeTensor& x = first_f32_arg(info, 1, "x");
  NativeTensor& y = f32_tensor_arg(info, 2, "y", x.device());
  expect_same_shape(y, "y", x, "x");
  if (x.buffer() == y.buffer())
    fail(ErrorCode::Arg, "y: expected a tensor that does not share its buffer with x (use a copy of x)");
  if (x.device() == Device::Cpu) cpu::axpy(y.f32(), alpha, x.f32(), x.size());
  else DS_CUDA(cuda::axpy(y.f32(), alpha, x.f32(), x.size(), cuda::stream()));
  return info.Env().Undefined();
}

void register_elementwise(Napi::Env env, Napi::Object exports) {
  export_function<relu>(env, exports, "relu");
  export_function<relu_backward>(env, exports, "reluBackward");
  export_function<add_bias>(env, exports, "addBias");
  export_function<bias_grad>(env, exports, "biasGrad");
  export_function<softmax_cross_entropy>(env, exports, "softmaxCrossEntropy");
  export_function<accuracy_count>(env, exports, "accuracyCount");
  export_function<add>(env, exports, "add");
  export_function<axpy>(env, exports, "axpy");
}

}  // namespace
DS_REGISTER_BINDING(register_elementwise);

}  // namespace dynasparse::binding
