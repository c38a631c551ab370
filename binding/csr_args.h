// Reading a CSR matrix argument. The TypeScript CsrMatrix passes its parts as
// { rowPtr, colIdx, values, rows, cols } (tensor handles and sizes). Structure
// (monotone rowPtr, in-range sorted columns) is validated once when a matrix is
// created from user data; here the parts are checked for consistency (dtypes,
// lengths, one device) so no kernel can index outside the buffers.
#pragma once

#include <napi.h>

#include <cstdint>

#include "tensor.h"

namespace dynasparse::binding {

struct CsrArg {
  NativeTensor* row_ptr;
  NativeTensor* col_idx;
  NativeTensor* values;
  std::int64_t rows;
  std::int64_t cols;
  std::int64_t nnz;
  Device device;
};

CsrArg csr_arg(const Napi::CallbackInfo& info, std::size_t index, const char* name);

// A JS object { rowPtr, colIdx, values } of fresh tensor handles.
Napi::Object csr_parts(Napi::Env env, BufferPtr row_ptr, BufferPtr col_idx, BufferPtr values, std::int64_t rows, std::int64_t nnz);

}  // namespace dynasparse::binding
