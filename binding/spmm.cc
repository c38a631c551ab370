// Sparse products: spmm (CSR or 2:4 A times dense B) and sddmm (a dense product
// sampled at a CSR pattern's stored positions). Everything runs on CUDA too
// (cuda/spmm.cu, cuda/spmm24.cu, cuda/sddmm.cu).
#include <napi.h>

#include <climits>
#include <utility>
#include <string>

#include "args.h"
#include "checks.h"
#include "csr_args.h"
#include "dispatch.h"
#include "dynasparse/error.h"
#include "dynasparse/ops/sddmm.h"
#include "dynasparse/ops/sparse24.h"
#include "dynasparse/ops/spmm.h"
#include "export.h"
#include "library_impl.h"
#include "register.h"
#include "sparse24_args.h"
#include "tensor.h"

namespace dynasparse::binding {
namespace {

std::string dims(std::int64_t r, std::int64_t c) { return "[" + std::to_string(r) + ", " + std::to_string(c) + "]"; }

// The common tail of spmm: alpha, beta, out; returns the output tensor's buffer
// (new, or out's) after checking shapes and aliasing.
struct Output {
  BufferPtr buffer;
  Napi::Value handle;  // out's handle, or empty for a new tensor
};

Output output_arg(const Napi::CallbackInfo& info, std::size_t index, std::int64_t m, std::int64_t n, float beta,
                  const NativeTensor& b, const NativeTensor& a_values) {
  const Napi::Value v = arg(info, index, "out");
  if (v.IsNull() || v.IsUndefined()) {
    if (beta != 0.0f) fail(ErrorCode::Arg, "beta: a non-zero beta needs an `out` tensor to accumulate into");
    return {allocate_tensor(b.device(), m * n, DType::F32), Napi::Value()};
  }
  NativeTensor& out = tensor_value(v, "out");
  expect_dtype(out, DType::F32, "out");
  expect_device(out, b.device(), "out");
  if (out.shape() != std::vector<std::int64_t>{m, n})
    fail(ErrorCode::Shape, "out: expected shape " + dims(m, n) + ", got " + shape_string(out.shape()));
  if (out.buffer() == b.buffer() || out.buffer() == a_values.buffer())
    fail(ErrorCode::Arg, "out: must not share memory with an input (the product reads them while writing out)");
  return {out.buffer(), v};
}

Napi::Value result(const Napi::CallbackInfo& info, const Output& o, std::int64_t m, std::int64_t n) {
  if (!o.handle.IsEmpty()) return o.handle;
  return NativeTensor::create(info.Env(), o.buffer, {m, n}, DType::F32);
}

// The CUDA product's row order for a structure of `rows` rows (see
// cuda::spmm_csr_row_order), when the caller keeps one: an int32 tensor of rows
// on a's device; null or undefined: computed on each call.
const std::int32_t* row_order_arg(const Napi::CallbackInfo& info, std::size_t index, std::int64_t rows, Device device) {
  const Napi::Value v = arg(info, index, "order");
  if (v.IsNull() || v.IsUndefined()) return nullptr;
  NativeTensor& order = tensor_value(v, "order");
  expect_dtype(order, DType::I32, "order");
  expect_device(order, device, "order");
  if (order.size() != rows)
    fail(ErrorCode::Format, "order: expected a row order of " + std::to_string(rows) + " rows, got " +
                                std::to_string(order.size()) + " entries");
  return order.i32();
}

// The arguments both sparse products take after a (b, transA, alpha, beta,
// out), checked against a [rows, cols] on `device` whose values are `values`:
// op(a) b must be defined and b on a's device.
struct ProductArgs {
  NativeTensor& b;
  bool trans;
  float alpha, beta;
  std::int64_t m, n;  // op(a) b is [m, n]
  Output out;
};

ProductArgs product_args(const Napi::CallbackInfo& info, std::int64_t rows, std::int64_t cols, Device device,
                         const NativeTensor& values) {
  NativeTensor& b = matrix_arg(info, 1, "b");
  const bool trans = bool_arg(info, 2, "transA");
  const float alpha = float_arg(info, 3, "alpha");
  const float beta = float_arg(info, 4, "beta");
  const std::int64_t m = trans ? cols : rows, k = trans ? rows : cols, n = b.shape()[1];
  if (b.shape()[0] != k)
    fail(ErrorCode::Shape, std::string("spmm: op(a) is ") + dims(m, k) + (trans ? " (a transposed)" : "") + " but b is " +
                               shape_string(b.shape()) + ": the inner dimensions differ");
  // With k = 0, b holds no elements whatever n is, so n alone can make m x n
  // overflow the output's allocation (a wrapped size, then writes past it).
  if (m > 0 && n > kMaxElements / m)
    fail(ErrorCode::Arg, "spmm: the result " + dims(m, n) + " has more than 2^46 elements");
  expect_device(b, device, "b");
  return ProductArgs{b, trans, alpha, beta, m, n, output_arg(info, 5, m, n, beta, b, values)};
}

// Plain (transposed == false) or transposed CSR product on CUDA: with a kept
// row order, or computing one on this call.
void spmm_csr_cuda(float* c, std::int64_t n, const std::int32_t* row_ptr, const std::int32_t* col_idx, const float* values,
                   const std::int32_t* perm, const std::int32_t* order, std::int64_t rows, std::int64_t k,
                   const NativeTensor& b, float alpha, float beta) {
  if (order != nullptr)
    DS_CUDA(cuda::spmm_csr_ordered(c, n, row_ptr, col_idx, values, perm, order, rows, k, b.f32(), n, n, alpha, beta,
                                   cuda::stream()));
  else
    DS_CUDA(cuda::spmm_csr(c, n, row_ptr, col_idx, values, perm, rows, k, b.f32(), n, n, alpha, beta, cuda::stream()));
}

// spmmCsr(a, b, transA, alpha, beta, out | null, transposed | null, order?, impl?)
// `transposed` = { rowPtr, rowIdx, perm }: A's transposed structure (made by
// csrTranspose from this matrix and cached by the TypeScript CsrMatrix), needed
// when transA is true. `order`: the kept CUDA row order of the structure the
// product walks (a's, or the transposed one's), from spmmRowOrder; the CPU
// product checks it and does not use it. `impl`: 'dynasparse' (default) or
// 'cusparse' (cuda only; library_impl.h).
Napi::Value spmm_csr(const Napi::CallbackInfo& info) {
  const CsrArg a = csr_arg(info, 0, "a");
  const auto& [b, trans, alpha, beta, m, n, o] = product_args(info, a.rows, a.cols, a.device, *a.values);
  const bool on_cpu = a.device == Device::Cpu;
  // Checked on every device; only the CUDA product walks rows in an order.
  const std::int32_t* order = row_order_arg(info, 7, m, a.device);
  const bool cusparse = library_impl_arg(info, 8, "cusparse", a.device);
  if (!trans) {
    if (cusparse)
      cusparse_spmm(o.buffer->as<float>(), n, a.row_ptr->i32(), a.col_idx->i32(), a.values->f32(), nullptr, a.rows, a.cols,
                    a.nnz, b.f32(), alpha, beta);
    else if (on_cpu)
      cpu::spmm_csr(o.buffer->as<float>(), n, a.row_ptr->i32(), a.col_idx->i32(), a.values->f32(), nullptr, a.rows, a.cols,
                    b.f32(), n, n, alpha, beta);
    else
      spmm_csr_cuda(o.buffer->as<float>(), n, a.row_ptr->i32(), a.col_idx->i32(), a.values->f32(), nullptr, order, a.rows,
                    a.cols, b, alpha, beta);
    return result(info, o, m, n);
  }
  const Napi::Value tv = arg(info, 6, "transposed");
  if (!tv.IsObject()) fail(ErrorCode::Arg, "transposed: expected the transposed structure of a, got " + describe(tv));
  const Napi::Object t = tv.As<Napi::Object>();
  NativeTensor& rp = tensor_value(t.Get("rowPtr"), "transposed.rowPtr");
  NativeTensor& ri = tensor_value(t.Get("rowIdx"), "transposed.rowIdx");
  NativeTensor& perm = tensor_value(t.Get("perm"), "transposed.perm");
  for (NativeTensor* p : {&rp, &ri, &perm}) {
    expect_dtype(*p, DType::I32, "transposed");
    expect_device(*p, a.device, "transposed");
  }
  // The sizes only: like a's own rowPtr and colIdx, the contents were made by
  // the library (csrTranspose of this matrix, kept by the TypeScript
  // CsrMatrix) and are trusted, so checking them needs no read from the device
  // (on CUDA that would wait for the stream in every backward pass).
  if (rp.size() != a.cols + 1 || ri.size() != a.nnz || perm.size() != a.nnz)
    fail(ErrorCode::Format, "transposed: does not match a (" + std::to_string(a.nnz) + " entries, " + std::to_string(a.cols) +
                                " columns)");
  if (cusparse)
    cusparse_spmm(o.buffer->as<float>(), n, rp.i32(), ri.i32(), a.values->f32(), perm.i32(), a.cols, a.rows, a.nnz, b.f32(),
                  alpha, beta);
  else if (on_cpu)
    cpu::spmm_csr(o.buffer->as<float>(), n, rp.i32(), ri.i32(), a.values->f32(), perm.i32(), a.cols, a.rows, b.f32(), n, n, alpha,
                  beta);
  else
    spmm_csr_cuda(o.buffer->as<float>(), n, rp.i32(), ri.i32(), a.values->f32(), perm.i32(), order, a.cols, a.rows, b, alpha,
                  beta);
  return result(info, o, m, n);
}

// spmmRowOrder(rowPtr, rows): the CUDA product's row swizzle for a structure
// with this rowPtr (int32, rows + 1, on cuda), as a new int32 tensor of rows,
// for callers that keep it while the structure lives (a CsrMatrix never
// changes its structure). The CPU product needs none: E_DEVICE there.
Napi::Value spmm_row_order(const Napi::CallbackInfo& info) {
  NativeTensor& row_ptr = tensor_arg(info, 0, "rowPtr");
  const std::int64_t rows = size_arg(info, 1, "rows", INT32_MAX - 1);
  expect_dtype(row_ptr, DType::I32, "rowPtr");
  if (row_ptr.size() != rows + 1)
    fail(ErrorCode::Format, "rowPtr: expected " + std::to_string(rows + 1) + " entries (rows + 1), got " +
                                std::to_string(row_ptr.size()));
  if (row_ptr.device() != Device::Cuda)
    fail(ErrorCode::Device, "spmmRowOrder: the row order is a CUDA product's; rowPtr is on cpu");
  BufferPtr order = allocate_tensor(Device::Cuda, rows, DType::I32);
  DS_CUDA(cuda::spmm_csr_row_order(order->as<std::int32_t>(), row_ptr.i32(), rows, cuda::stream()));
  return NativeTensor::create(info.Env(), std::move(order), {rows}, DType::I32);
}

// The bf16 tensor-core product: refreshes the copy's values from a.values (they
// may have changed in place since the last call), then multiplies.
void spmm_24_bf16(const Sparse24Arg& a, const Napi::Value& mv, bool trans, const NativeTensor& b, float* c,
                  std::int64_t n, float alpha, float beta) {
  if (!mv.IsObject()) fail(ErrorCode::Arg, "mma: expected the tensor-core copy of a, got " + describe(mv));
  if (a.device != Device::Cuda) fail(ErrorCode::Device, "spmm: precision 'bf16' runs on cuda only, a is on cpu");
  if (trans)
    fail(ErrorCode::Arg, "spmm: precision 'bf16' does not support transA (the tensor cores need the 2:4 groups along k)");
  const Napi::Object m = mv.As<Napi::Object>();
  NativeTensor& values = tensor_value(m.Get("values"), "mma.values");
  NativeTensor& meta = tensor_value(m.Get("meta"), "mma.meta");
  const Sparse24MmaShape shape = sparse24_mma_shape(a.rows, a.cols);
  for (NativeTensor* p : {&values, &meta}) {
    expect_dtype(*p, DType::I32, "mma");
    expect_device(*p, Device::Cuda, "mma");
  }
  if (values.size() != shape.value_words() || meta.size() != shape.meta_words())
    fail(ErrorCode::Format, "mma: does not match a [" + std::to_string(a.rows) + ", " + std::to_string(a.cols) + "]");
  DS_CUDA(cuda::sparse24_mma_values(values.buffer()->as<std::uint32_t>(), a.values->f32(), a.rows, a.cols,
                                    cuda::stream()));
  DS_CUDA(cuda::spmm_24_bf16(c, n, values.buffer()->as<std::uint32_t>(), meta.buffer()->as<std::uint32_t>(), a.rows,
                             a.cols, b.f32(), n, n, alpha, beta, cuda::stream()));
}

// spmm24(a, b, transA, alpha, beta, out | null, mma | null, impl?)
// `mma` = { values, meta }: a's tensor-core copy (sparse24MmaPack); given, the
// product runs on the tensor cores in bf16 (precision 'bf16'). `impl`:
// 'dynasparse' (default) or 'cusparselt' (cuda only, bf16, no transA, no mma;
// library_impl.h).
Napi::Value spmm_24(const Napi::CallbackInfo& info) {
  const Sparse24Arg a = sparse24_arg(info, 0, "a");
  const auto& [b, trans, alpha, beta, m, n, o] = product_args(info, a.rows, a.cols, a.device, *a.values);
  float* c = o.buffer->as<float>();
  const Napi::Value mv = info.Length() > 6 ? info[6] : info.Env().Null();
  const bool mma = !mv.IsNull() && !mv.IsUndefined();
  const bool cusparselt = library_impl_arg(info, 7, "cusparselt", a.device);
  if (cusparselt && (trans || mma))
    fail(ErrorCode::Arg, std::string("impl: 'cusparselt' ") +
                             (trans ? "does not support transA (cuSPARSELt needs the 2:4 groups along k)"
                                    : "takes no tensor-core copy (it compresses a itself)"));
  if (cusparselt)
    cusparselt_spmm24(c, n, a.values->f32(), a.meta->i32(), a.rows, a.cols, b.f32(), alpha, beta);
  else if (mma)
    spmm_24_bf16(a, mv, trans, b, c, n, alpha, beta);
  else if (a.device == Device::Cpu && trans)
    cpu::spmm_24_trans(c, n, a.values->f32(), a.meta->i32(), a.rows, a.cols, b.f32(), n, n, alpha, beta);
  else if (a.device == Device::Cpu)
    cpu::spmm_24(c, n, a.values->f32(), a.meta->i32(), a.rows, a.cols, b.f32(), n, n, alpha, beta);
  else if (trans)
    DS_CUDA(cuda::spmm_24_trans(c, n, a.values->f32(), a.meta->i32(), a.rows, a.cols, b.f32(), n, n, alpha, beta,
                                cuda::stream()));
  else
    DS_CUDA(cuda::spmm_24(c, n, a.values->f32(), a.meta->i32(), a.rows, a.cols, b.f32(), n, n, alpha, beta,
                          cuda::stream()));
  return result(info, o, m, n);
}

// sddmm(a [m, k], b ([p, k] with transB, else [k, p]), pattern [m, p], transB, impl?) -> Tensor [nnz]
// impl: 'dynasparse' (default) or 'cusparse' (cuda only; library_impl.h).
Napi::Value sddmm(const Napi::CallbackInfo& info) {
  NativeTensor& a = matrix_arg(info, 0, "a");
  NativeTensor& b = matrix_arg(info, 1, "b");
  const CsrArg p = csr_arg(info, 2, "pattern");
  const bool trans_b = bool_arg(info, 3, "transB");
  const std::int64_t k = a.shape()[1];
  const std::int64_t bk = trans_b ? b.shape()[1] : b.shape()[0], bn = trans_b ? b.shape()[0] : b.shape()[1];
  if (bk != k)
    fail(ErrorCode::Shape, "sddmm: a is " + shape_string(a.shape()) + " but b is " + shape_string(b.shape()) +
                               (trans_b ? " (used transposed)" : "") + ": the inner dimensions differ");
  if (a.shape()[0] != p.rows || bn != p.cols)
    fail(ErrorCode::Shape, "sddmm: a @ " + std::string(trans_b ? "bT" : "b") + " is " + dims(a.shape()[0], bn) +
                               " but the pattern is " + dims(p.rows, p.cols));
  expect_device(a, p.device, "a");
  expect_device(b, p.device, "b");
  const bool cusparse = library_impl_arg(info, 4, "cusparse", p.device);
  BufferPtr out = allocate_tensor(p.device, p.nnz, DType::F32);
  if (cusparse) {
    cusparse_sddmm(out->as<float>(), p.row_ptr->i32(), p.col_idx->i32(), p.rows, p.cols, p.nnz, a.f32(), k, b.f32(), trans_b);
  } else if (p.device == Device::Cpu) {
    if (trans_b)
      cpu::sddmm_trans_b(out->as<float>(), p.row_ptr->i32(), p.col_idx->i32(), p.rows, a.f32(), k, b.f32(), k, k);
    else
      cpu::sddmm(out->as<float>(), p.row_ptr->i32(), p.col_idx->i32(), p.rows, p.cols, a.f32(), k, b.f32(), bn, k);
  } else if (trans_b) {
    DS_CUDA(cuda::sddmm_trans_b(out->as<float>(), p.row_ptr->i32(), p.col_idx->i32(), p.rows, a.f32(), k, b.f32(), k, k, p.nnz,
                                cuda::stream()));
  } else {
    DS_CUDA(cuda::sddmm(out->as<float>(), p.row_ptr->i32(), p.col_idx->i32(), p.rows, p.cols, a.f32(), k, b.f32(), bn, k, p.nnz,
                        cuda::stream()));
  }
  return NativeTensor::create(info.Env(), out, {p.nnz}, DType::F32);
}

void register_spmm(Napi::Env env, Napi::Object exports) {
  export_function<spmm_csr>(env, exports, "spmmCsr");
  export_function<spmm_row_order>(env, exports, "spmmRowOrder");
  export_function<spmm_24>(env, exports, "spmm24");
  export_function<sddmm>(env, exports, "sddmm");
}

}  // namespace
DS_REGISTER_BINDING(register_spmm);

}  // namespace dynasparse::binding
