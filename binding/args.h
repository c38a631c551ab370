// Reading and validating JavaScript arguments. Everything that later indexes
// memory is checked here, whatever the TypeScript layer already checked.
#pragma once

#include <napi.h>

#include <cstdint>
#include <string>
#include <vector>

#include "dynasparse/device.h"
#include "dynasparse/memory.h"

namespace dynasparse::binding {

// Largest element count of one tensor: keeps byte sizes and int64 offsets far
// from overflow (2^46 float32 values = 256 TiB, beyond any device).
constexpr std::int64_t kMaxElements = std::int64_t{1} << 46;
constexpr std::size_t kMaxDims = 8;

// An argument that must exist; E_ARG "name: expected ..., got <type>".
Napi::Value arg(const Napi::CallbackInfo& info, std::size_t index, const char* name);

// A finite number that is a non-negative integer no larger than `max`.
std::int64_t size_arg(const Napi::CallbackInfo& info, std::size_t index, const char* name,
                      std::int64_t max = kMaxElements);
// A finite number (float32 range is checked only when `finite` is required).
double number_arg(const Napi::CallbackInfo& info, std::size_t index, const char* name, bool finite = true);
// A finite number that stays finite as a float32 (a double beyond the float32
// range would silently become an infinity in the kernels), as a float.
float float_arg(const Napi::CallbackInfo& info, std::size_t index, const char* name);
bool bool_arg(const Napi::CallbackInfo& info, std::size_t index, const char* name);
std::string string_arg(const Napi::CallbackInfo& info, std::size_t index, const char* name);
Device device_arg(const Napi::CallbackInfo& info, std::size_t index, const char* name);
// A seed: a non-negative safe integer or a BigInt below 2^64.
std::uint64_t seed_arg(const Napi::CallbackInfo& info, std::size_t index, const char* name);
// An array of non-negative safe integers whose product is at most kMaxElements.
std::vector<std::int64_t> shape_arg(const Napi::CallbackInfo& info, std::size_t index, const char* name);

Napi::TypedArrayOf<float> float32_array_arg(const Napi::CallbackInfo& info, std::size_t index, const char* name);
// An Int32Array's values copied into a new host buffer. Index arrays are
// copied before anything checks them: an array on a SharedArrayBuffer can
// change under another thread between a check and a later read, and an
// unchecked index would then reach a kernel.
struct HostInts {
  BufferPtr buffer;
  std::int64_t size = 0;
  const std::int32_t* data() const { return buffer->as<std::int32_t>(); }
};
HostInts int32_array_copy(const Napi::CallbackInfo& info, std::size_t index, const char* name);
Napi::TypedArrayOf<std::uint8_t> uint8_array_arg(const Napi::CallbackInfo& info, std::size_t index, const char* name);

std::int64_t element_count(const std::vector<std::int64_t>& shape);
std::string shape_string(const std::vector<std::int64_t>& shape);
// A short description of a JavaScript value's type for error messages.
std::string describe(const Napi::Value& value);

}  // namespace dynasparse::binding
