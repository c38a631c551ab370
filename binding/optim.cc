// sgdStep, adamStep, remapState: the fused optimizer updates (include/dynasparse/ops/optim.h).
// Parameters and state are updated in place; nothing is allocated but remapState's result.
#include <napi.h>

#include <string>

#include "args.h"
#include "checks.h"
#include "dispatch.h"
#include "dynasparse/error.h"
#include "dynasparse/ops/elementwise.h"
#include "dynasparse/ops/optim.h"
#include "export.h"
#include "register.h"
#include "tensor.h"

namespace dynasparse::binding {
namespace {

constexpr double kFloatMax = 3.4028234663852886e38;

// sgdStep(value, grad, momentumBuffer | null, mask | null, lr, momentum, weightDecay, nesterov)
Napi::Value sgd_step(const Napi::CallbackInfo& info) {
  NativeTensor& w = tensor_arg(info, 0, "value");
  expect_dtype(w, DType::F32, "value");
  const Device device = w.device();
  NativeTensor& grad = f32_tensor_arg(info, 1, "grad", device);
  NativeTensor* buf = optional_f32_tensor_arg(info, 2, "momentumBuffer", device);
  NativeTensor* mask = optional_f32_tensor_arg(info, 3, "mask", device);
  SgdConfig config;
  config.lr = hyper_arg(info, 4, "lr", 0, true, kFloatMax, false, "a finite number > 0");
  config.momentum = hyper_arg(info, 5, "momentum", 0, false, kFloatMax, false, "a finite number >= 0");
  config.weight_decay = hyper_arg(info, 6, "weightDecay", 0, false, kFloatMax, false, "a finite number >= 0");
  config.nesterov = bool_arg(info, 7, "nesterov");
  expect_same_shape(grad, "grad", w, "value");
  if (mask != nullptr) expect_same_shape(*mask, "mask", w, "value");
  if (config.momentum != 0.0f) {
    if (buf == nullptr) fail(ErrorCode::Arg, "momentumBuffer: expected a Tensor when momentum > 0, got null");
    expect_size(*buf, "momentumBuffer", w.size(), "one per parameter value");
  }
  expect_not_shared(grad, "grad", w, "value");
  if (mask != nullptr) expect_not_shared(*mask, "mask", w, "value");
  if (config.momentum != 0.0f) {
    expect_not_shared(*buf, "momentumBuffer", w, "value");
    expect_not_shared(*buf, "momentumBuffer", grad, "grad");
    if (mask != nullptr) expect_not_shared(*buf, "momentumBuffer", *mask, "mask");
  }
  if (config.nesterov && config.momentum == 0.0f)
    fail(ErrorCode::Arg, "nesterov: Nesterov momentum needs momentum > 0, got momentum 0");
  float* buf_ptr = config.momentum != 0.0f ? buf->f32() : nullptr;
  const float* mask_ptr = mask != nullptr ? mask->f32() : nullptr;
  if (device == Device::Cpu) cpu::sgd_step(w.f32(), grad.f32(), buf_ptr, mask_ptr, w.size(), config);
  else DS_CUDA(cuda::sgd_step(w.f32(), grad.f32(), buf_ptr, mask_ptr, w.size(), config, cuda::stream()));
  return info.Env().Undefined();
}

// adamStep(value, grad, expAvg, expAvgSq, mask | null, lr, beta1, beta2, eps, weightDecay, decoupled, step)
Napi::Value adam_step(const Napi::CallbackInfo& info) {
  NativeTensor& w = tensor_arg(info, 0, "value");
  expect_dtype(w, DType::F32, "value");
  const Device device = w.device();
  NativeTensor& grad = f32_tensor_arg(info, 1, "grad", device);
  NativeTensor& m = f32_tensor_arg(info, 2, "expAvg", device);
  NativeTensor& v = f32_tensor_arg(info, 3, "expAvgSq", device);
  NativeTensor* mask = optional_f32_tensor_arg(info, 4, "mask", device);
  AdamConfig config;
  config.lr = hyper_arg(info, 5, "lr", 0, true, kFloatMax, false, "a finite number > 0");
  config.beta1 = hyper_arg(info, 6, "beta1", 0, false, 1, true, "a number in [0, 1)");
  config.beta2 = hyper_arg(info, 7, "beta2", 0, false, 1, true, "a number in [0, 1)");
  config.eps = hyper_arg(info, 8, "eps", 0, true, kFloatMax, false, "a finite number > 0");
  config.weight_decay = hyper_arg(info, 9, "weightDecay", 0, false, kFloatMax, false, "a finite number >= 0");
  config.decoupled = bool_arg(info, 10, "decoupled");
  config.step = size_arg(info, 11, "step");
  if (config.step < 1) fail(ErrorCode::Arg, "step: expected an integer >= 1, got 0");
  // beta close to 1 could round to 1 as a float32 (1 - beta^t would then be 0).
  if (config.beta1 >= 1.0f || config.beta2 >= 1.0f)
    fail(ErrorCode::Arg, "beta1, beta2: expected numbers below 1 after rounding to float32");
  expect_same_shape(grad, "grad", w, "value");
  if (mask != nullptr) expect_same_shape(*mask, "mask", w, "value");
  expect_size(m, "expAvg", w.size(), "one per parameter value");
  expect_size(v, "expAvgSq", w.size(), "one per parameter value");
  // value, expAvg and expAvgSq are written: none may share a buffer with another argument.
  const NativeTensor* args[] = {&w, &grad, &m, &v, mask};
  const char* names[] = {"value", "grad", "expAvg", "expAvgSq", "mask"};
  const bool written[] = {true, false, true, true, false};
  for (int i = 0; i < 5; ++i)
    for (int j = i + 1; j < 5; ++j)
      if (args[i] != nullptr && args[j] != nullptr && (written[i] || written[j]))
        expect_not_shared(*args[j], names[j], *args[i], names[i]);
  const float* mask_ptr = mask != nullptr ? mask->f32() : nullptr;
  if (device == Device::Cpu) cpu::adam_step(w.f32(), grad.f32(), m.f32(), v.f32(), mask_ptr, w.size(), config);
  else DS_CUDA(cuda::adam_step(w.f32(), grad.f32(), m.f32(), v.f32(), mask_ptr, w.size(), config, cuda::stream()));
  return info.Env().Undefined();
}

// remapState(state, map): a new float32 tensor of map.size values,
// out[i] = map[i] < 0 ? 0 : state[map[i]]; map is int32 on the state's device,
// each entry in [-1, state.size).
Napi::Value remap_state(const Napi::CallbackInfo& info) {
  NativeTensor& state = tensor_arg(info, 0, "state");
  expect_dtype(state, DType::F32, "state");
  NativeTensor& map = tensor_arg(info, 1, "map");
  expect_dtype(map, DType::I32, "map");
  expect_device(map, state.device(), "map");
  const std::int64_t n = map.size();
  const std::int64_t bad = first_index_outside(map, -1, state.size());
  if (bad >= 0)
    fail(ErrorCode::Arg, "map[" + std::to_string(bad) + "]: expected -1 (a new entry) or an index in [0, " +
                             std::to_string(state.size()) + "), got " +
                             std::to_string(read_value<std::int32_t>(map.i32() + bad, map.device())));
  BufferPtr out = allocate_tensor(state.device(), n, DType::F32);
  if (state.device() == Device::Cpu) cpu::remap_state(out->as<float>(), state.f32(), map.i32(), n);
  else DS_CUDA(cuda::remap_state(out->as<float>(), state.f32(), map.i32(), n, cuda::stream()));
  return NativeTensor::create(info.Env(), std::move(out), {n}, DType::F32);
}

void register_optim(Napi::Env env, Napi::Object exports) {
  export_function<sgd_step>(env, exports, "sgdStep");
  export_function<adam_step>(env, exports, "adamStep");
  export_function<remap_state>(env, exports, "remapState");
}

}  // namespace
DS_REGISTER_BINDING(register_optim);

}  // namespace dynasparse::binding
