// Reading a 2:4 matrix argument. The TypeScript Sparse24Matrix passes its parts
// as { values, meta, rows, cols }. The metadata is only ever written by
// sparse24FromDense (every nibble valid by construction, and a nibble can only
// name positions 0..3 inside its own group); here the parts are checked for
// consistency (dtypes, shapes, one device) so no kernel indexes outside them.
#pragma once

#include <napi.h>

#include <cstdint>

#include "tensor.h"

namespace dynasparse::binding {

struct Sparse24Arg {
  NativeTensor* values;  // [rows, cols / 2] float32
  NativeTensor* meta;    // [rows, ceil(cols / 32)] int32
  std::int64_t rows;
  std::int64_t cols;
  Device device;
};

Sparse24Arg sparse24_arg(const Napi::CallbackInfo& info, std::size_t index, const char* name);

}  // namespace dynasparse::binding
