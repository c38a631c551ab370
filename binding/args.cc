#include "args.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>

#include "dynasparse/error.h"

namespace dynasparse::binding {
namespace {

constexpr double kMaxSafeInteger = 9007199254740991.0;

[[noreturn]] void bad(const char* name, const std::string& expected, const Napi::Value& got) {
  fail(ErrorCode::Arg, std::string(name) + ": expected " + expected + ", got " + describe(got));
}

}  // namespace

std::string describe(const Napi::Value& value) {
  if (value.IsUndefined()) return "undefined";
  if (value.IsNull()) return "null";
  if (value.IsBoolean()) return value.As<Napi::Boolean>().Value() ? "true" : "false";
  if (value.IsNumber()) {
    const double d = value.As<Napi::Number>().DoubleValue();
    if (std::isnan(d)) return "NaN";
    if (std::isinf(d)) return d > 0 ? "Infinity" : "-Infinity";
    // The shortest decimal that reads back as d, as JavaScript prints it
    // (1.000000001 must not print as 1 in a message about its float32 value).
    char buf[32];
    for (int digits = 1; digits <= 17; ++digits) {
      std::snprintf(buf, sizeof buf, "%.*g", digits, d);
      if (std::strtod(buf, nullptr) == d) break;
    }
    return buf;
  }
  if (value.IsBigInt()) return "a bigint";
  if (value.IsString()) return "the string '" + value.As<Napi::String>().Utf8Value().substr(0, 40) + "'";
  if (value.IsTypedArray()) {
    switch (value.As<Napi::TypedArray>().TypedArrayType()) {
      case napi_float32_array: return "a Float32Array";
      case napi_float64_array: return "a Float64Array";
      case napi_int32_array: return "an Int32Array";
      case napi_uint32_array: return "a Uint32Array";
      case napi_uint8_array: return "a Uint8Array";
      default: return "a typed array of another kind";
    }
  }
  if (value.IsArray()) return "an array";
  if (value.IsFunction()) return "a function";
  if (value.IsObject()) return "an object";
  return "a value of another type";
}

Napi::Value arg(const Napi::CallbackInfo& info, std::size_t index, const char* name) {
  if (index >= info.Length()) fail(ErrorCode::Arg, std::string(name) + ": missing argument");
  return info[index];
}

std::int64_t size_arg(const Napi::CallbackInfo& info, std::size_t index, const char* name, std::int64_t max) {
  const Napi::Value v = arg(info, index, name);
  if (!v.IsNumber()) bad(name, "a non-negative integer", v);
  const double d = v.As<Napi::Number>().DoubleValue();
  if (!std::isfinite(d) || d < 0 || std::floor(d) != d || d > kMaxSafeInteger) bad(name, "a non-negative integer", v);
  if (d > static_cast<double>(max)) bad(name, "an integer at most " + std::to_string(max), v);
  return static_cast<std::int64_t>(d);
}

double number_arg(const Napi::CallbackInfo& info, std::size_t index, const char* name, bool finite) {
  const Napi::Value v = arg(info, index, name);
  if (!v.IsNumber()) bad(name, finite ? "a finite number" : "a number", v);
  const double d = v.As<Napi::Number>().DoubleValue();
  if (finite && !std::isfinite(d)) bad(name, "a finite number", v);
  return d;
}

float float_arg(const Napi::CallbackInfo& info, std::size_t index, const char* name) {
  const double d = number_arg(info, index, name, true);
  if (std::fabs(d) > static_cast<double>(std::numeric_limits<float>::max()))
    bad(name, "a number within the float32 range", info[index]);
  return static_cast<float>(d);
}

bool bool_arg(const Napi::CallbackInfo& info, std::size_t index, const char* name) {
  const Napi::Value v = arg(info, index, name);
  if (!v.IsBoolean()) bad(name, "a boolean", v);
  return v.As<Napi::Boolean>().Value();
}

std::string string_arg(const Napi::CallbackInfo& info, std::size_t index, const char* name) {
  const Napi::Value v = arg(info, index, name);
  if (!v.IsString()) bad(name, "a string", v);
  return v.As<Napi::String>().Utf8Value();
}

Device device_arg(const Napi::CallbackInfo& info, std::size_t index, const char* name) {
  const Napi::Value v = arg(info, index, name);
  if (!v.IsString()) bad(name, "'cpu' or 'cuda'", v);
  return parse_device(v.As<Napi::String>().Utf8Value(), name);
}

std::uint64_t seed_arg(const Napi::CallbackInfo& info, std::size_t index, const char* name) {
  const Napi::Value v = arg(info, index, name);
  if (v.IsBigInt()) {
    bool lossless = false;
    const std::uint64_t seed = v.As<Napi::BigInt>().Uint64Value(&lossless);
    if (!lossless) bad(name, "a seed between 0 and 2^64 - 1", v);
    return seed;
  }
  if (!v.IsNumber()) bad(name, "a non-negative integer seed", v);
  const double d = v.As<Napi::Number>().DoubleValue();
  if (!std::isfinite(d) || d < 0 || std::floor(d) != d || d > kMaxSafeInteger) bad(name, "a non-negative integer seed", v);
  return static_cast<std::uint64_t>(d);
}

std::vector<std::int64_t> shape_arg(const Napi::CallbackInfo& info, std::size_t index, const char* name) {
  const Napi::Value v = arg(info, index, name);
  if (!v.IsArray()) bad(name, "an array of non-negative integers", v);
  const Napi::Array array = v.As<Napi::Array>();
  if (array.Length() > kMaxDims) fail(ErrorCode::Arg, std::string(name) + ": at most 8 dimensions, got " + std::to_string(array.Length()));
  std::vector<std::int64_t> shape;
  std::int64_t count = 1;
  for (std::uint32_t i = 0; i < array.Length(); ++i) {
    const Napi::Value d = array.Get(i);
    if (!d.IsNumber()) bad(name, "an array of non-negative integers", d);
    const double x = d.As<Napi::Number>().DoubleValue();
    if (!std::isfinite(x) || x < 0 || std::floor(x) != x || x > kMaxSafeInteger)
      fail(ErrorCode::Arg, std::string(name) + "[" + std::to_string(i) + "]: expected a non-negative integer, got " + describe(d));
    const auto dim = static_cast<std::int64_t>(x);
    if (dim > 0 && count > kMaxElements / dim)
      fail(ErrorCode::Arg, std::string(name) + ": the element count overflows (more than 2^46 elements)");
    count *= dim;
    shape.push_back(dim);
  }
  return shape;
}

namespace {
template <typename T>
Napi::TypedArrayOf<T> typed_arg(const Napi::CallbackInfo& info, std::size_t index, const char* name, napi_typedarray_type type,
                                const char* expected) {
  const Napi::Value v = arg(info, index, name);
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != type) bad(name, expected, v);
  return v.As<Napi::TypedArrayOf<T>>();
}
}  // namespace

Napi::TypedArrayOf<float> float32_array_arg(const Napi::CallbackInfo& info, std::size_t index, const char* name) {
  return typed_arg<float>(info, index, name, napi_float32_array, "a Float32Array");
}
HostInts int32_array_copy(const Napi::CallbackInfo& info, std::size_t index, const char* name) {
  const auto a = typed_arg<std::int32_t>(info, index, name, napi_int32_array, "an Int32Array");
  HostInts copy{Buffer::allocate(Device::Cpu, a.ElementLength() * sizeof(std::int32_t)), static_cast<std::int64_t>(a.ElementLength())};
  if (copy.size > 0) std::memcpy(copy.buffer->data(), a.Data(), copy.buffer->bytes());
  return copy;
}
Napi::TypedArrayOf<std::uint8_t> uint8_array_arg(const Napi::CallbackInfo& info, std::size_t index, const char* name) {
  return typed_arg<std::uint8_t>(info, index, name, napi_uint8_array, "a Uint8Array");
}

std::int64_t element_count(const std::vector<std::int64_t>& shape) {
  std::int64_t n = 1;
  for (std::int64_t d : shape) n *= d;
  return n;
}

std::string shape_string(const std::vector<std::int64_t>& shape) {
  std::string s = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

}  // namespace dynasparse::binding
