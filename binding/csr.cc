// CSR construction and conversion: fromArrays (validated in full), fromDense,
// toDense, random patterns. On CUDA, fromDense and toDense run on the device;
// a random pattern is drawn on the host by the CPU kernels (Floyd's sampling
// is sequential per row and this is construction, not a hot path), uploaded,
// and its values are initialized on the device (bit-identical to the CPU's).
#include <napi.h>

#include <climits>
#include <string>
#include <utility>

#include "args.h"
#include "checks.h"
#include "csr_args.h"
#include "dispatch.h"
#include "dynasparse/error.h"
#include "dynasparse/ops/csr.h"
#include "dynasparse/ops/elementwise.h"
#include "export.h"
#include "register.h"
#include "tensor.h"

namespace dynasparse::binding {

CsrArg csr_arg(const Napi::CallbackInfo& info, std::size_t index, const char* name) {
  const Napi::Value v = arg(info, index, name);
  if (!v.IsObject()) fail(ErrorCode::Arg, std::string(name) + ": expected a CsrMatrix, got " + describe(v));
  const Napi::Object o = v.As<Napi::Object>();
  const std::string n(name);
  auto part = [&](const char* key) -> NativeTensor& {
    const Napi::Value p = o.Get(key);
    if (!p.IsObject()) fail(ErrorCode::Arg, n + ": expected a CsrMatrix, got an object without " + key);
    return tensor_value(p, (n + "." + key).c_str());
  };
  CsrArg a{};
  a.row_ptr = &part("rowPtr");
  a.col_idx = &part("colIdx");
  a.values = &part("values");
  const Napi::Value rows = o.Get("rows"), cols = o.Get("cols");
  if (!rows.IsNumber() || !cols.IsNumber()) fail(ErrorCode::Arg, n + ": expected a CsrMatrix with numeric rows and cols");
  a.rows = static_cast<std::int64_t>(rows.As<Napi::Number>().Int64Value());
  a.cols = static_cast<std::int64_t>(cols.As<Napi::Number>().Int64Value());
  expect_dtype(*a.row_ptr, DType::I32, (n + ".rowPtr").c_str());
  expect_dtype(*a.col_idx, DType::I32, (n + ".colIdx").c_str());
  expect_dtype(*a.values, DType::F32, (n + ".values").c_str());
  a.nnz = a.col_idx->size();
  if (a.rows < 0 || a.cols < 0 || a.cols > INT32_MAX || a.row_ptr->size() != a.rows + 1 || a.values->size() != a.nnz)
    fail(ErrorCode::Format, n + ": inconsistent CSR parts (rowPtr " + std::to_string(a.row_ptr->size()) + ", colIdx " +
                                std::to_string(a.nnz) + ", values " + std::to_string(a.values->size()) + " for " +
                                std::to_string(a.rows) + " rows)");
  a.device = a.values->device();
  if (a.row_ptr->device() != a.device || a.col_idx->device() != a.device)
    fail(ErrorCode::Device, n + ": the CSR parts are on different devices");
  return a;
}

Napi::Object csr_parts(Napi::Env env, BufferPtr row_ptr, BufferPtr col_idx, BufferPtr values, std::int64_t rows, std::int64_t nnz) {
  Napi::Object out = Napi::Object::New(env);
  out.Set("rowPtr", NativeTensor::create(env, std::move(row_ptr), {rows + 1}, DType::I32));
  out.Set("colIdx", NativeTensor::create(env, std::move(col_idx), {nnz}, DType::I32));
  out.Set("values", NativeTensor::create(env, std::move(values), {nnz}, DType::F32));
  out.Set("nnz", static_cast<double>(nnz));
  return out;
}

namespace {

// A host buffer's copy on the CUDA device.
BufferPtr uploaded(const BufferPtr& host, DType dtype) {
  BufferPtr device = allocate_tensor(Device::Cuda, static_cast<std::int64_t>(host->bytes() / dtype_size(dtype)), dtype);
  copy_bytes(device->data(), Device::Cuda, host->data(), Device::Cpu, host->bytes());
  return device;
}

// csrFromArrays(rows, cols, rowPtr: Int32Array, colIdx: Int32Array, values: Float32Array, device)
Napi::Value from_arrays(const Napi::CallbackInfo& info) {
  const std::int64_t rows = size_arg(info, 0, "rows", INT32_MAX - 1);
  const std::int64_t cols = size_arg(info, 1, "cols", INT32_MAX);
  // The structure is checked on private host copies, which become the CPU
  // tensors themselves (see int32_array_copy).
  const HostInts row_ptr = int32_array_copy(info, 2, "rowPtr");
  const HostInts col_idx = int32_array_copy(info, 3, "colIdx");
  const auto values = float32_array_arg(info, 4, "values");
  const Device device = device_arg(info, 5, "device");
  const std::int64_t row_ptr_len = row_ptr.size, nnz = col_idx.size;
  if (static_cast<std::int64_t>(values.ElementLength()) != nnz)
    fail(ErrorCode::Shape, "values: expected " + std::to_string(nnz) + " values (one per column index), got " +
                               std::to_string(values.ElementLength()));
  if (row_ptr_len == 0) fail(ErrorCode::Format, "rowPtr: expected length rows + 1 = " + std::to_string(rows + 1) + ", got 0");
  const std::string problem = cpu::csr_validate(rows, cols, row_ptr.data(), row_ptr_len, col_idx.data(), nnz);
  if (!problem.empty()) fail(ErrorCode::Format, problem);
  BufferPtr rp = device == Device::Cuda ? uploaded(row_ptr.buffer, DType::I32) : row_ptr.buffer;
  BufferPtr ci = device == Device::Cuda ? uploaded(col_idx.buffer, DType::I32) : col_idx.buffer;
  BufferPtr va = allocate_tensor(device, nnz, DType::F32);
  copy_bytes(va->data(), device, values.Data(), Device::Cpu, va->bytes());
  return csr_parts(info.Env(), rp, ci, va, rows, nnz);
}

// csrFromDense(dense [rows, cols], mask | null, threshold)
Napi::Value from_dense(const Napi::CallbackInfo& info) {
  NativeTensor& dense = tensor_arg(info, 0, "dense");
  expect_dtype(dense, DType::F32, "dense");
  if (dense.shape().size() != 2) fail(ErrorCode::Shape, "dense: expected a 2-D tensor, got shape " + shape_string(dense.shape()));
  const std::int64_t rows = dense.shape()[0], cols = dense.shape()[1];
  if (rows >= INT32_MAX || cols > INT32_MAX) fail(ErrorCode::Arg, "dense: rows and cols must be below 2^31");
  const float* mask = nullptr;
  if (info.Length() > 1 && !info[1].IsNull() && !info[1].IsUndefined()) {
    NativeTensor& m = tensor_arg(info, 1, "mask");
    expect_dtype(m, DType::F32, "mask");
    expect_device(m, dense.device(), "mask");
    if (m.shape() != dense.shape())
      fail(ErrorCode::Shape, "mask: expected shape " + shape_string(dense.shape()) + ", got " + shape_string(m.shape()));
    mask = m.f32();
  }
  const double threshold = number_arg(info, 2, "threshold");
  if (threshold < 0) fail(ErrorCode::Arg, "threshold: expected a non-negative number, got " + std::to_string(threshold));
  const Device device = dense.device();
  const auto t = static_cast<float>(threshold);
  BufferPtr rp = allocate_tensor(device, rows + 1, DType::I32);
  std::int64_t nnz = 0;
  if (device == Device::Cpu) {
    nnz = cpu::csr_row_ptr_from_dense(rp->as<std::int32_t>(), dense.f32(), mask, rows, cols, t);
  } else {
    BufferPtr total = Buffer::allocate(Device::Cuda, sizeof(std::int64_t));
    DS_CUDA(cuda::csr_row_ptr_from_dense(rp->as<std::int32_t>(), total->as<std::int64_t>(), dense.f32(), mask, rows, cols,
                                         t, cuda::stream()));
    nnz = read_value<std::int64_t>(total->data(), Device::Cuda);
  }
  if (nnz > INT32_MAX) fail(ErrorCode::Arg, "dense: more than 2^31 - 1 entries would be stored");
  BufferPtr ci = allocate_tensor(device, nnz, DType::I32);
  BufferPtr va = allocate_tensor(device, nnz, DType::F32);
  if (device == Device::Cpu)
    cpu::csr_fill_from_dense(ci->as<std::int32_t>(), va->as<float>(), rp->as<std::int32_t>(), dense.f32(), mask, rows, cols, t);
  else
    DS_CUDA(cuda::csr_fill_from_dense(ci->as<std::int32_t>(), va->as<float>(), rp->as<std::int32_t>(), dense.f32(), mask,
                                      rows, cols, t, cuda::stream()));
  return csr_parts(info.Env(), rp, ci, va, rows, nnz);
}

// csrToDense(csr) -> Tensor [rows, cols]
Napi::Value to_dense(const Napi::CallbackInfo& info) {
  const CsrArg a = csr_arg(info, 0, "matrix");
  BufferPtr out = allocate_tensor(a.device, a.rows * a.cols, DType::F32);
  if (a.device == Device::Cpu)
    cpu::csr_to_dense(out->as<float>(), a.row_ptr->i32(), a.col_idx->i32(), a.values->f32(), a.rows, a.cols);
  else
    DS_CUDA(cuda::csr_to_dense(out->as<float>(), a.row_ptr->i32(), a.col_idx->i32(), a.values->f32(), a.rows, a.cols,
                               cuda::stream()));
  return NativeTensor::create(info.Env(), out, {a.rows, a.cols}, DType::F32);
}

// csrRandom(rows, cols, 'perRow' | 'total', count, seed, init, device)
Napi::Value random(const Napi::CallbackInfo& info) {
  const std::int64_t rows = size_arg(info, 0, "rows", INT32_MAX - 1);
  const std::int64_t cols = size_arg(info, 1, "cols", INT32_MAX);
  const std::string mode = string_arg(info, 2, "mode");
  const std::int64_t count = size_arg(info, 3, "count");
  const std::uint64_t seed = seed_arg(info, 4, "seed");
  const std::string init = string_arg(info, 5, "init");
  const Device device = device_arg(info, 6, "device");
  if (mode != "perRow" && mode != "total") fail(ErrorCode::Arg, "mode: expected 'perRow' or 'total', got '" + mode + "'");
  if (init != "zeros" && init != "sparse-kaiming" && init != "dense-kaiming")
    fail(ErrorCode::Arg, "init: expected 'zeros', 'sparse-kaiming' or 'dense-kaiming', got '" + init + "'");
  if (mode == "perRow" && count > cols)
    fail(ErrorCode::Arg, "nnzPerRow: expected at most cols = " + std::to_string(cols) + ", got " + std::to_string(count));
  if (mode == "total" && (cols == 0 ? count > 0 : count > rows * cols))
    fail(ErrorCode::Arg, "nnz: expected at most rows * cols = " + std::to_string(rows * cols) + ", got " + std::to_string(count));
  const std::int64_t nnz = mode == "perRow" ? rows * count : count;
  if (nnz > INT32_MAX) fail(ErrorCode::Arg, "nnz: expected at most 2^31 - 1 stored entries, got " + std::to_string(nnz));
  if (device != Device::Cpu) cuda::require_available();
  // The pattern is drawn on the host (for CUDA into host buffers, then uploaded).
  BufferPtr rp = allocate_tensor(Device::Cpu, rows + 1, DType::I32);
  BufferPtr ci = allocate_tensor(Device::Cpu, nnz, DType::I32);
  if (mode == "perRow") cpu::csr_random_rows(rp->as<std::int32_t>(), ci->as<std::int32_t>(), rows, cols, count, seed);
  else cpu::csr_random_total(rp->as<std::int32_t>(), ci->as<std::int32_t>(), rows, cols, count, seed);
  if (device != Device::Cpu) {
    BufferPtr rp_dev = allocate_tensor(device, rows + 1, DType::I32);
    BufferPtr ci_dev = allocate_tensor(device, nnz, DType::I32);
    copy_bytes(rp_dev->data(), device, rp->data(), Device::Cpu, rp->bytes());
    copy_bytes(ci_dev->data(), device, ci->data(), Device::Cpu, ci->bytes());
    rp = std::move(rp_dev);
    ci = std::move(ci_dev);
  }
  BufferPtr va = allocate_tensor(device, nnz, DType::F32);
  const bool sparse_fan_in = init == "sparse-kaiming";
  if (device == Device::Cpu) {
    if (init == "zeros") cpu::fill(va->as<float>(), nnz, 0.0f);
    else cpu::csr_kaiming_values(va->as<float>(), rp->as<std::int32_t>(), rows, cols, sparse_fan_in, seed);
  } else if (init == "zeros") {
    DS_CUDA(cuda::fill(va->as<float>(), nnz, 0.0f, cuda::stream()));
  } else {
    DS_CUDA(cuda::csr_kaiming_values(va->as<float>(), rp->as<std::int32_t>(), rows, cols, sparse_fan_in, seed,
                                     cuda::stream()));
  }
  return csr_parts(info.Env(), rp, ci, va, rows, nnz);
}

// csrTranspose(m, withValues) -> { rowPtr, colIdx, values | null, perm, nnz }:
// the [cols, rows] transpose (colIdx holds the original rows) and perm
// (transposed entry e is original entry perm[e]). For a CUDA matrix the
// structure is built on the host and uploaded (a stable counting sort done
// once per pattern, which the TypeScript CsrMatrix caches: construction, not
// a hot path, like csrRandom); the transposed products then run on the device.
Napi::Value transpose(const Napi::CallbackInfo& info) {
  const CsrArg a = csr_arg(info, 0, "matrix");
  const bool with_values = bool_arg(info, 1, "withValues");
  if (a.device != Device::Cpu) cuda::require_available();
  BufferPtr rp = allocate_tensor(a.device, a.cols + 1, DType::I32);
  BufferPtr ri = allocate_tensor(a.device, a.nnz, DType::I32);
  BufferPtr perm = allocate_tensor(a.device, a.nnz, DType::I32);
  BufferPtr va;
  if (with_values) va = allocate_tensor(a.device, a.nnz, DType::F32);
  if (a.device == Device::Cpu) {
    Scratch<std::int32_t> cursor(Device::Cpu, static_cast<std::size_t>(a.cols));
    cpu::csr_transpose(rp->as<std::int32_t>(), ri->as<std::int32_t>(), perm->as<std::int32_t>(), cursor.data(), a.row_ptr->i32(),
                       a.col_idx->i32(), a.rows, a.cols);
    if (va) cpu::gather_values(va->as<float>(), a.values->f32(), perm->as<std::int32_t>(), a.nnz);
  } else {
    DS_CUDA(cuda::csr_transpose(rp->as<std::int32_t>(), ri->as<std::int32_t>(), perm->as<std::int32_t>(), a.row_ptr->i32(),
                                a.col_idx->i32(), a.rows, a.cols, a.nnz, cuda::stream()));
    if (va) DS_CUDA(cuda::gather_values(va->as<float>(), a.values->f32(), perm->as<std::int32_t>(), a.nnz, cuda::stream()));
  }
  Napi::Env env = info.Env();
  Napi::Object out = Napi::Object::New(env);
  out.Set("rowPtr", NativeTensor::create(env, rp, {a.cols + 1}, DType::I32));
  out.Set("colIdx", NativeTensor::create(env, ri, {a.nnz}, DType::I32));
  out.Set("perm", NativeTensor::create(env, perm, {a.nnz}, DType::I32));
  out.Set("nnz", static_cast<double>(a.nnz));
  if (with_values) {
    out.Set("values", NativeTensor::create(env, va, {a.nnz}, DType::F32));
  } else {
    out.Set("values", env.Null());
  }
  return out;
}

// gatherValues(src [n], perm int32 [m], out [m] | null) -> out[e] = src[perm[e]]
Napi::Value gather(const Napi::CallbackInfo& info) {
  NativeTensor& src = tensor_arg(info, 0, "source");
  NativeTensor& perm = tensor_arg(info, 1, "perm");
  expect_dtype(src, DType::F32, "source");
  expect_dtype(perm, DType::I32, "perm");
  expect_device(perm, src.device(), "perm");
  const std::int64_t n = perm.size();
  NativeTensor* out_t = nullptr;
  const Napi::Value ov = arg(info, 2, "out");
  if (!(ov.IsNull() || ov.IsUndefined())) {
    out_t = &tensor_value(ov, "out");
    expect_dtype(*out_t, DType::F32, "out");
    expect_device(*out_t, src.device(), "out");
    if (out_t->size() != n)
      fail(ErrorCode::Shape,
           "out: expected " + std::to_string(n) + " elements (one per perm entry), got shape " + shape_string(out_t->shape()));
    if (out_t->buffer() == src.buffer()) fail(ErrorCode::Arg, "out: must not share memory with source");
  }
  // The indices are checked where they live (on CUDA a device search and one
  // small read back), so no index from JavaScript reads outside source.
  const std::int64_t bad = first_index_outside(perm, 0, src.size());
  if (bad >= 0)
    fail(ErrorCode::Arg, "perm[" + std::to_string(bad) + "]: expected an index in [0, " + std::to_string(src.size()) +
                             "), got " + std::to_string(read_value<std::int32_t>(perm.i32() + bad, perm.device())));
  BufferPtr result = out_t != nullptr ? out_t->buffer() : allocate_tensor(src.device(), n, DType::F32);
  if (src.device() == Device::Cpu)
    cpu::gather_values(result->as<float>(), src.f32(), perm.i32(), n);
  else
    DS_CUDA(cuda::gather_values(result->as<float>(), src.f32(), perm.i32(), n, cuda::stream()));
  if (out_t != nullptr) return ov;
  return NativeTensor::create(info.Env(), result, {n}, DType::F32);
}

void register_csr(Napi::Env env, Napi::Object exports) {
  export_function<transpose>(env, exports, "csrTranspose");
  export_function<gather>(env, exports, "gatherValues");
  export_function<from_arrays>(env, exports, "csrFromArrays");
  export_function<from_dense>(env, exports, "csrFromDense");
  export_function<to_dense>(env, exports, "csrToDense");
  export_function<random>(env, exports, "csrRandom");
}

}  // namespace
DS_REGISTER_BINDING(register_csr);

}  // namespace dynasparse::binding
