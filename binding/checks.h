// Checks shared by the kernel bindings: float32 tensors and matrices on one
// device with matching shapes, optional tensor arguments, hyperparameters.
#pragma once

#include <napi.h>

#include <cmath>
#include <limits>
#include <string>

#include "args.h"
#include "dispatch.h"
#include "dynasparse/error.h"
#include "dynasparse/memory.h"
#include "dynasparse/ops/elementwise.h"
#include "tensor.h"

namespace dynasparse::binding {

// A live float32 tensor on `device` (E_ARG for another dtype, E_DEVICE for another device).
inline NativeTensor& f32_tensor_arg(const Napi::CallbackInfo& info, std::size_t index, const char* name, Device device) {
  NativeTensor& t = tensor_arg(info, index, name);
  expect_dtype(t, DType::F32, name);
  expect_device(t, device, name);
  return t;
}

// A live float32 2-D tensor on any device (E_ARG for another dtype, E_SHAPE
// for another rank).
inline NativeTensor& matrix_arg(const Napi::CallbackInfo& info, std::size_t index, const char* name) {
  NativeTensor& t = tensor_arg(info, index, name);
  expect_dtype(t, DType::F32, name);
  if (t.shape().size() != 2)
    fail(ErrorCode::Shape, std::string(name) + ": expected a 2-D tensor, got shape " + shape_string(t.shape()));
  return t;
}

// Same as f32_tensor_arg, but null or undefined gives nullptr.
inline NativeTensor* optional_f32_tensor_arg(const Napi::CallbackInfo& info, std::size_t index, const char* name,
                                             Device device) {
  if (index >= info.Length() || info[index].IsNull() || info[index].IsUndefined()) return nullptr;
  return &f32_tensor_arg(info, index, name, device);
}

// E_SHAPE unless `t` has exactly the shape of `ref`.
inline void expect_same_shape(const NativeTensor& t, const char* name, const NativeTensor& ref, const char* ref_name) {
  if (t.shape() != ref.shape())
    fail(ErrorCode::Shape, std::string(name) + ": expected the shape of " + ref_name + " " + shape_string(ref.shape()) +
                               ", got " + shape_string(t.shape()));
}

// E_SHAPE unless `t` has `size` elements (state arrays are aligned by element, whatever their shape).
inline void expect_size(const NativeTensor& t, const char* name, std::int64_t size, const char* what) {
  if (t.size() != size)
    fail(ErrorCode::Shape, std::string(name) + ": expected " + std::to_string(size) + " elements (" + what + "), got " +
                               std::to_string(t.size()));
}

// E_ARG when two tensors share a buffer where a kernel writes one of them
// (the kernels assume updated arrays overlap nothing else).
inline void expect_not_shared(const NativeTensor& t, const char* name, const NativeTensor& other, const char* other_name) {
  if (t.buffer() == other.buffer())
    fail(ErrorCode::Arg, std::string(name) + ": expected a tensor that does not share its buffer with " + other_name);
}

// E_SHAPE unless `t` is 2-D.
inline void expect_matrix(const NativeTensor& t, const char* name, const char* layout) {
  if (t.shape().size() != 2)
    fail(ErrorCode::Shape, std::string(name) + ": expected a 2-D tensor " + layout + ", got shape " + shape_string(t.shape()));
}

// A hyperparameter: a number in the given range that stays finite as a float32.
inline float hyper_arg(const Napi::CallbackInfo& info, std::size_t index, const char* name, double lo, bool lo_open,
                       double hi, bool hi_open, const char* expected) {
  const double d = number_arg(info, index, name, true);
  const bool ok = (lo_open ? d > lo : d >= lo) && (hi_open ? d < hi : d <= hi) &&
                  std::fabs(d) <= static_cast<double>(std::numeric_limits<float>::max());
  if (!ok) fail(ErrorCode::Arg, std::string(name) + ": expected " + expected + ", got " + describe(info[index]));
  return static_cast<float>(d);
}

// One value of type T at `ptr` on `device`, copied to the host (a CUDA read
// synchronizes the backend's stream): scalar results and error reports.
template <typename T>
T read_value(const void* ptr, Device device) {
  T value{};
  copy_bytes(&value, Device::Cpu, ptr, device, sizeof(T));
  return value;
}

// The first index of the int32 tensor `values` outside [lo, hi), or -1, on the
// tensor's own device (labels and index maps stay where they are).
inline std::int64_t first_index_outside(const NativeTensor& values, std::int64_t lo, std::int64_t hi) {
  if (values.device() == Device::Cpu) return cpu::first_index_outside(values.i32(), values.size(), lo, hi);
  BufferPtr result = Buffer::allocate(Device::Cuda, sizeof(std::int64_t));
  DS_CUDA(cuda::first_index_outside(result->as<std::int64_t>(), values.i32(), values.size(), lo, hi, cuda::stream()));
  return read_value<std::int64_t>(result->data(), Device::Cuda);
}

}  // namespace dynasparse::binding
