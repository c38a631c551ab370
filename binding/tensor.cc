#include "tensor.h"

#include <cstring>
#include <string>

#include "addon_data.h"
#include "args.h"
#include "dispatch.h"
#include "dynasparse/error.h"
#include "dynasparse/ops/dense.h"
#include "dynasparse/ops/elementwise.h"
#include "dynasparse/ops/rng.h"
#include "dynasparse/philox.h"
#include "errors.h"
#include "export.h"
#include "register.h"

namespace dynasparse::binding {

// The external memory of one buffer, reported to V8 once and taken back when
// the last handle sharing it goes (raw N-API: a destructor must not throw).
class ExternalMemoryReport {
 public:
  ExternalMemoryReport(napi_env env, std::int64_t bytes) : env_(env), bytes_(bytes) {
    std::int64_t total = 0;
    napi_adjust_external_memory(env_, bytes_, &total);
  }
  ~ExternalMemoryReport() {
    std::int64_t total = 0;
    napi_adjust_external_memory(env_, -bytes_, &total);
  }
  ExternalMemoryReport(const ExternalMemoryReport&) = delete;
  ExternalMemoryReport& operator=(const ExternalMemoryReport&) = delete;

 private:
  napi_env env_;
  std::int64_t bytes_;
};

namespace {

// Marks objects made by NativeTensor so a method given another object fails
// with E_ARG instead of reinterpreting foreign memory.
constexpr napi_type_tag kTensorTag = {0x6479a5e7f1b24c3aULL, 0x8d2f61c0e94b7a15ULL};

}  // namespace

Napi::Function NativeTensor::define(Napi::Env env) { return DefineClass(env, "NativeTensor", {}); }

NativeTensor::NativeTensor(const Napi::CallbackInfo& info) : Napi::ObjectWrap<NativeTensor>(info) {}

// The finalizer path (a handle the user never disposed) releases through the members.
NativeTensor::~NativeTensor() = default;

void NativeTensor::dispose() {
  if (disposed()) return;
  AddonData& data = addon_data(Env());
  if (data.calls > 1) {  // this dispose is itself one native call
    dispose_pending_ = true;
    data.deferred_disposals.push_back(Napi::Persistent(Value()));
    return;
  }
  release();
}

void NativeTensor::release() {
  buffer_.reset();
  report_.reset();
  dispose_pending_ = false;
}

NativeCallScope::NativeCallScope(Napi::Env env) : data_(&addon_data(env)) { ++data_->calls; }

NativeCallScope::~NativeCallScope() {
  if (--data_->calls != 0 || data_->deferred_disposals.empty()) return;
  std::vector<Napi::ObjectReference> deferred = std::move(data_->deferred_disposals);
  data_->deferred_disposals.clear();
  for (Napi::ObjectReference& ref : deferred) {
    try {
      NativeTensor::Unwrap(ref.Value())->release();
    } catch (...) {  // a destructor must not throw; the finalizer frees it then
    }
  }
}

Napi::Object NativeTensor::create(Napi::Env env, BufferPtr buffer, std::vector<std::int64_t> shape, DType dtype,
                                  bool report_bytes) {
  Napi::Object object = addon_data(env).tensor_class.New({});
  object.TypeTag(&kTensorTag);
  NativeTensor* t = Unwrap(object);
  t->size_ = element_count(shape);
  t->shape_ = std::move(shape);
  t->dtype_ = dtype;
  t->device_ = buffer->device();
  if (report_bytes && buffer->bytes() > 0)
    t->report_ = std::make_shared<ExternalMemoryReport>(env, static_cast<std::int64_t>(buffer->bytes()));
  t->buffer_ = std::move(buffer);
  return object;
}

Napi::Object NativeTensor::view(Napi::Env env, const NativeTensor& of, std::vector<std::int64_t> shape) {
  Napi::Object object = create(env, of.buffer_, std::move(shape), of.dtype_, false);
  Unwrap(object)->report_ = of.report_;
  return object;
}

NativeTensor& tensor_handle_arg(const Napi::CallbackInfo& info, std::size_t index, const char* name) {
  const Napi::Value v = arg(info, index, name);
  if (!v.IsObject() || !v.As<Napi::Object>().CheckTypeTag(&kTensorTag))
    fail(ErrorCode::Arg, std::string(name) + ": expected a Tensor, got " + describe(v));
  return *NativeTensor::Unwrap(v.As<Napi::Object>());
}

NativeTensor& tensor_value(const Napi::Value& v, const char* name) {
  if (!v.IsObject() || !v.As<Napi::Object>().CheckTypeTag(&kTensorTag))
    fail(ErrorCode::Arg, std::string(name) + ": expected a Tensor, got " + describe(v));
  NativeTensor& t = *NativeTensor::Unwrap(v.As<Napi::Object>());
  if (t.disposed()) fail(ErrorCode::Disposed, std::string(name) + ": the tensor has been disposed");
  return t;
}

NativeTensor& tensor_arg(const Napi::CallbackInfo& info, std::size_t index, const char* name) {
  return tensor_value(arg(info, index, name), name);
}

void expect_dtype(const NativeTensor& t, DType dtype, const char* name) {
  if (t.dtype() != dtype)
    fail(ErrorCode::Arg, std::string(name) + ": expected a " + dtype_name(dtype) + " tensor, got " + dtype_name(t.dtype()));
}

void expect_device(const NativeTensor& t, Device device, const char* name) {
  if (t.device() != device)
    fail(ErrorCode::Device, std::string(name) + ": expected a tensor on '" + device_name(device) + "', got one on '" +
                                device_name(t.device()) + "'");
}

BufferPtr allocate_tensor(Device device, std::int64_t elements, DType dtype) {
  // A backstop: callers check the sizes they multiply, in terms the user knows.
  if (elements < 0 || elements > kMaxElements)
    fail(ErrorCode::Arg, "a result of " + std::to_string(elements) + " elements: tensors hold at most 2^46");
  if (device == Device::Cuda) cuda::require_available();
  return Buffer::allocate(device, static_cast<std::size_t>(elements) * dtype_size(dtype));
}

namespace {

// tensorFromArray(data: Float32Array | Int32Array, shape, device)
Napi::Value from_array(const Napi::CallbackInfo& info) {
  const Napi::Value data = arg(info, 0, "data");
  const std::vector<std::int64_t> shape = shape_arg(info, 1, "shape");
  const Device device = device_arg(info, 2, "device");
  DType dtype;
  std::size_t length;
  const void* src;
  if (data.IsTypedArray() && data.As<Napi::TypedArray>().TypedArrayType() == napi_int32_array) {
    const auto a = data.As<Napi::Int32Array>();
    dtype = DType::I32, length = a.ElementLength(), src = a.Data();
  } else {
    const auto a = float32_array_arg(info, 0, "data");
    dtype = DType::F32, length = a.ElementLength(), src = a.Data();
  }
  const std::int64_t n = element_count(shape);
  if (static_cast<std::int64_t>(length) != n)
    fail(ErrorCode::Shape, "data: expected " + std::to_string(n) + " values for shape " + shape_string(shape) + ", got " +
                               std::to_string(length));
  BufferPtr buffer = allocate_tensor(device, n, dtype);
  copy_bytes(buffer->data(), device, src, Device::Cpu, buffer->bytes());
  return NativeTensor::create(info.Env(), std::move(buffer), shape, dtype);
}

// tensorFull(shape, value, device)
Napi::Value full(const Napi::CallbackInfo& info) {
  const std::vector<std::int64_t> shape = shape_arg(info, 0, "shape");
  const float value = static_cast<float>(number_arg(info, 1, "value", false));
  const Device device = device_arg(info, 2, "device");
  const std::int64_t n = element_count(shape);
  BufferPtr buffer = allocate_tensor(device, n, DType::F32);
  if (device == Device::Cpu) {
    cpu::fill(buffer->as<float>(), n, value);
  } else {
    DS_CUDA(cuda::fill(buffer->as<float>(), n, value, cuda::stream()));
  }
  return NativeTensor::create(info.Env(), std::move(buffer), shape, DType::F32);
}

// tensorRandom(shape, 'normal' | 'uniform', seed, a, b, device):
// normal(mean a, std b) or uniform[a, b).
Napi::Value random(const Napi::CallbackInfo& info) {
  const std::vector<std::int64_t> shape = shape_arg(info, 0, "shape");
  const std::string kind = string_arg(info, 1, "distribution");
  const std::uint64_t seed = seed_arg(info, 2, "seed");
  const float fa = float_arg(info, 3, kind == "normal" ? "mean" : "low");
  const float fb = float_arg(info, 4, kind == "normal" ? "std" : "high");
  const Device device = device_arg(info, 5, "device");
  if (kind != "normal" && kind != "uniform")
    fail(ErrorCode::Arg, "distribution: expected 'normal' or 'uniform', got '" + kind + "'");
  if (kind == "normal" && fb < 0) fail(ErrorCode::Arg, "std: expected a non-negative number, got " + describe(info[4]));
  // Compared as the float32 values the kernel draws between: two doubles that
  // round to the same float leave no value in [low, high).
  if (kind == "uniform" && !(fa < fb))
    fail(ErrorCode::Arg, "high: expected a number greater than low (" + describe(info[3]) + ") as float32 values, got " +
                             describe(info[4]));
  const std::int64_t n = element_count(shape);
  BufferPtr buffer = allocate_tensor(device, n, DType::F32);
  float* out = buffer->as<float>();
  if (device == Device::Cpu) {
    if (kind == "normal") cpu::fill_normal(out, n, seed, rng::kStreamTensor, fa, fb);
    else cpu::fill_uniform(out, n, seed, rng::kStreamTensor, fa, fb);
  } else {
    if (kind == "normal") {
      DS_CUDA(cuda::fill_normal(out, n, seed, rng::kStreamTensor, fa, fb, cuda::stream()));
    } else {
      DS_CUDA(cuda::fill_uniform(out, n, seed, rng::kStreamTensor, fa, fb, cuda::stream()));
    }
  }
  return NativeTensor::create(info.Env(), std::move(buffer), shape, DType::F32);
}

// tensorToArray(t): a new Float32Array or Int32Array (synchronizes).
Napi::Value to_array(const Napi::CallbackInfo& info) {
  NativeTensor& t = tensor_arg(info, 0, "tensor");
  const auto n = static_cast<std::size_t>(t.size());
  if (t.dtype() == DType::I32) {
    Napi::Int32Array out = Napi::Int32Array::New(info.Env(), n);
    copy_bytes(out.Data(), Device::Cpu, t.buffer()->data(), t.device(), n * sizeof(std::int32_t));
    return out;
  }
  Napi::Float32Array out = Napi::Float32Array::New(info.Env(), n);
  copy_bytes(out.Data(), Device::Cpu, t.buffer()->data(), t.device(), n * sizeof(float));
  return out;
}

// tensorTo(t, device): a copy on the device (a new handle even when it is the same device).
Napi::Value to_device(const Napi::CallbackInfo& info) {
  NativeTensor& t = tensor_arg(info, 0, "tensor");
  const Device device = device_arg(info, 1, "device");
  BufferPtr buffer = allocate_tensor(device, t.size(), t.dtype());
  copy_bytes(buffer->data(), device, t.buffer()->data(), t.device(), buffer->bytes());
  return NativeTensor::create(info.Env(), std::move(buffer), t.shape(), t.dtype());
}

// tensorReshape(t, shape): a view sharing t's buffer.
Napi::Value reshape(const Napi::CallbackInfo& info) {
  NativeTensor& t = tensor_arg(info, 0, "tensor");
  const std::vector<std::int64_t> shape = shape_arg(info, 1, "shape");
  if (element_count(shape) != t.size())
    fail(ErrorCode::Shape, "shape: cannot reshape " + shape_string(t.shape()) + " (" + std::to_string(t.size()) +
                               " elements) to " + shape_string(shape));
  return NativeTensor::view(info.Env(), t, shape);
}

// tensorTranspose(t): a new 2-D tensor, out[c][r] = t[r][c].
Napi::Value transpose(const Napi::CallbackInfo& info) {
  NativeTensor& t = tensor_arg(info, 0, "tensor");
  if (t.shape().size() != 2)
    fail(ErrorCode::Shape, "tensor: transpose expects a 2-D tensor, got shape " + shape_string(t.shape()));
  expect_dtype(t, DType::F32, "tensor");
  const std::int64_t rows = t.shape()[0], cols = t.shape()[1];
  BufferPtr buffer = allocate_tensor(t.device(), t.size(), DType::F32);
  if (t.device() == Device::Cpu) {
    cpu::transpose(buffer->as<float>(), t.f32(), rows, cols, cols);
  } else {
    DS_CUDA(cuda::transpose(buffer->as<float>(), t.f32(), rows, cols, cols, cuda::stream()));
  }
  return NativeTensor::create(info.Env(), std::move(buffer), {cols, rows}, DType::F32);
}

Napi::Value dispose(const Napi::CallbackInfo& info) {
  tensor_handle_arg(info, 0, "tensor").dispose();
  return info.Env().Undefined();
}

Napi::Value is_disposed(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), tensor_handle_arg(info, 0, "tensor").disposed());
}

}  // namespace

namespace {
void register_tensor(Napi::Env env, Napi::Object exports) {
  Napi::Function ctor = NativeTensor::define(env);
  addon_data(env).tensor_class = Napi::Persistent(ctor);
  export_function<from_array>(env, exports, "tensorFromArray");
  export_function<full>(env, exports, "tensorFull");
  export_function<random>(env, exports, "tensorRandom");
  export_function<to_array>(env, exports, "tensorToArray");
  export_function<to_device>(env, exports, "tensorTo");
  export_function<reshape>(env, exports, "tensorReshape");
  export_function<transpose>(env, exports, "tensorTranspose");
  export_function<dispose>(env, exports, "tensorDispose");
  export_function<is_disposed>(env, exports, "tensorDisposed");
}

}  // namespace
DS_REGISTER_BINDING(register_tensor);

}  // namespace dynasparse::binding
