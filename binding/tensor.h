// The JavaScript handle of a dense tensor: a reference-counted device buffer,
// a shape and a dtype. Sparse matrices are built from these handles in the
// TypeScript layer (rowPtr, colIdx and values are tensors).
#pragma once

#include <napi.h>

#include <cstdint>
#include <memory>
#include <vector>

#include "dynasparse/memory.h"

namespace dynasparse::binding {

class ExternalMemoryReport;

class NativeTensor : public Napi::ObjectWrap<NativeTensor> {
 public:
  static Napi::Function define(Napi::Env env);

  // A new handle owning `buffer`, whose bytes are reported to V8 as external
  // memory (so garbage collection feels them) unless `report_bytes` is false.
  static Napi::Object create(Napi::Env env, BufferPtr buffer, std::vector<std::int64_t> shape, DType dtype,
                             bool report_bytes = true);
  // A new handle sharing `of`'s buffer (and its report to V8) with another shape.
  static Napi::Object view(Napi::Env env, const NativeTensor& of, std::vector<std::int64_t> shape);

  explicit NativeTensor(const Napi::CallbackInfo& info);
  ~NativeTensor() override;

  // Frees this handle's hold on the buffer. Called from JavaScript that another
  // native call ran, it only marks the handle disposed, and the memory goes when
  // that call returns: the call may have checked this tensor and still read it.
  void dispose();
  // The deferred half of dispose (and all of it otherwise).
  void release();
  bool disposed() const noexcept { return buffer_ == nullptr || dispose_pending_; }
  const BufferPtr& buffer() const noexcept { return buffer_; }
  const std::vector<std::int64_t>& shape() const noexcept { return shape_; }
  std::int64_t size() const noexcept { return size_; }
  DType dtype() const noexcept { return dtype_; }
  Device device() const noexcept { return device_; }
  float* f32() const noexcept { return buffer_->as<float>(); }
  std::int32_t* i32() const noexcept { return buffer_->as<std::int32_t>(); }

 private:
  BufferPtr buffer_;
  std::vector<std::int64_t> shape_;
  std::int64_t size_ = 0;
  DType dtype_ = DType::F32;
  Device device_ = Device::Cpu;
  bool dispose_pending_ = false;
  // The buffer's bytes as reported to V8, shared by the handles (views) that
  // share the buffer: reported once, taken back when the last handle lets go.
  std::shared_ptr<ExternalMemoryReport> report_;
};

// A live tensor given as a value (type-tag checked; E_DISPOSED if disposed).
NativeTensor& tensor_value(const Napi::Value& value, const char* name);
// A live tensor argument (type-tag checked; E_DISPOSED if disposed).
NativeTensor& tensor_arg(const Napi::CallbackInfo& info, std::size_t index, const char* name);
// Same, but a disposed handle is returned rather than refused.
NativeTensor& tensor_handle_arg(const Napi::CallbackInfo& info, std::size_t index, const char* name);

// Throws E_ARG unless the tensor has the dtype; E_DEVICE unless it is on `device`.
void expect_dtype(const NativeTensor& t, DType dtype, const char* name);
void expect_device(const NativeTensor& t, Device device, const char* name);

// Allocates a tensor's buffer on a device after checking the device is usable.
BufferPtr allocate_tensor(Device device, std::int64_t elements, DType dtype);

}  // namespace dynasparse::binding
