// Selection kernels: topkGrowth and topkDense (which positions to grow: by
// |dy · xᵀ|, or by a dense score such as SNFS's momentum) and bottomkMagnitude
// (which stored entries to drop). Results are host typed arrays on both
// backends: on CUDA the kernels write device buffers of k entries, and the
// `count` selected entries are copied into the typed arrays (the copy
// synchronizes the backend's stream).
#include <napi.h>

#include <climits>
#include <string>

#include "args.h"
#include "csr_args.h"
#include "dispatch.h"
#include "dynasparse/cuda_runtime.h"
#include "dynasparse/error.h"
#include "dynasparse/memory.h"
#include "dynasparse/ops/topk.h"
#include "export.h"
#include "register.h"
#include "tensor.h"

namespace dynasparse::binding {
namespace {

// One output array of a selection of at most k entries: the host typed array
// JavaScript gets, which the CPU kernel writes directly; on CUDA a device
// buffer of k elements the kernel writes, copied into it once the count is
// known (the copy synchronizes the stream).
template <typename T>
class SelectionArray {
 public:
  SelectionArray(Napi::Env env, Device device, std::int64_t k) : host_(Napi::TypedArrayOf<T>::New(env, static_cast<std::size_t>(k))) {
    if (device != Device::Cpu && k > 0)
      device_ = Buffer::allocate(Device::Cuda, static_cast<std::size_t>(k) * sizeof(T));
  }
  // Where the kernel writes.
  T* data() { return device_ ? device_->as<T>() : host_.Data(); }
  // The first `count` elements (fewer than k when NaN leaves fewer selectable), as JavaScript gets them.
  Napi::TypedArrayOf<T> result(std::int64_t count) {
    if (device_ && count > 0)
      copy_bytes(host_.Data(), Device::Cpu, device_->data(), Device::Cuda, static_cast<std::size_t>(count) * sizeof(T));
    if (count == static_cast<std::int64_t>(host_.ElementLength())) return host_;
    return Napi::TypedArrayOf<T>::New(host_.Env(), static_cast<std::size_t>(count), host_.ArrayBuffer(), host_.ByteOffset());
  }

 private:
  Napi::TypedArrayOf<T> host_;
  BufferPtr device_;
};

void expect_matrix(const NativeTensor& t, const char* name) {
  expect_dtype(t, DType::F32, name);
  if (t.shape().size() != 2) fail(ErrorCode::Shape, std::string(name) + ": expected a 2-D tensor, got shape " + shape_string(t.shape()));
}

// E_ARG unless k <= the pattern's candidate positions (rows x cols - nnz).
void expect_k_candidates(const CsrArg& p, std::int64_t k) {
  if (p.rows > INT32_MAX - 1) fail(ErrorCode::Arg, "pattern: expected fewer than 2^31 - 1 rows");
  const std::int64_t candidates = p.rows * p.cols - p.nnz;
  if (k > candidates)
    fail(ErrorCode::Arg, "k: expected at most rows * cols - nnz = " + std::to_string(candidates) +
                             " candidate positions, got " + std::to_string(k));
}

// A growth selection of at most k positions on `device`: select(rows, cols,
// scores) writes the SelectionArrays and returns the counts. -> { rows: Int32Array, cols: Int32Array, scores: Float32Array, nanCount }
template <typename Select>
Napi::Value growth_selection(Napi::Env env, Device device, std::int64_t k, Select select) {
  if (device != Device::Cpu) cuda::require_available();
  SelectionArray<std::int32_t> rows(env, device, k), cols(env, device, k);
  SelectionArray<float> scores(env, device, k);
  cpu::Selection s;
  // On CUDA, k = 0 selects nothing and computes nothing, as on the CPU.
  if (device == Device::Cpu || k > 0) s = select(rows.data(), cols.data(), scores.data());
  Napi::Object out = Napi::Object::New(env);
  out.Set("rows", rows.result(s.count));
  out.Set("cols", cols.result(s.count));
  out.Set("scores", scores.result(s.count));
  out.Set("nanCount", static_cast<double>(s.nan_count));
  return out;
}

// topkGrowth(dy [rows, batch], x [cols, batch], pattern (rows x cols), k)
Napi::Value topk_growth(const Napi::CallbackInfo& info) {
  NativeTensor& dy = tensor_arg(info, 0, "dy");
  NativeTensor& x = tensor_arg(info, 1, "x");
  const CsrArg p = csr_arg(info, 2, "pattern");
  const std::int64_t k = size_arg(info, 3, "k", INT32_MAX);
  expect_matrix(dy, "dy");
  expect_matrix(x, "x");
  if (dy.shape()[0] != p.rows)
    fail(ErrorCode::Shape, "dy: expected " + std::to_string(p.rows) + " rows (pattern.rows), got shape " + shape_string(dy.shape()));
  if (x.shape()[0] != p.cols)
    fail(ErrorCode::Shape, "x: expected " + std::to_string(p.cols) + " rows (pattern.cols), got shape " + shape_string(x.shape()));
  if (x.shape()[1] != dy.shape()[1])
    fail(ErrorCode::Shape, "x: expected batch " + std::to_string(dy.shape()[1]) + " (dy's second dimension), got shape " +
                               shape_string(x.shape()));
  expect_device(dy, p.device, "dy");
  expect_device(x, p.device, "x");
  expect_k_candidates(p, k);
  const std::int64_t batch = dy.shape()[1];
  return growth_selection(info.Env(), p.device, k, [&](std::int32_t* rows, std::int32_t* cols, float* scores) {
    cpu::Selection s;
    if (p.device == Device::Cpu)
      s = cpu::topk_growth(rows, cols, scores, dy.f32(), x.f32(), p.row_ptr->i32(), p.col_idx->i32(), p.rows, p.cols, batch, k);
    else
      DS_CUDA(s = cuda::topk_growth(rows, cols, scores, dy.f32(), x.f32(), p.row_ptr->i32(), p.col_idx->i32(), p.rows, p.cols,
                                    p.nnz, batch, k, cuda::stream()));
    return s;
  });
}

// topkDense(dense [rows, cols], pattern (rows x cols), k)
Napi::Value topk_dense(const Napi::CallbackInfo& info) {
  NativeTensor& dense = tensor_arg(info, 0, "dense");
  const CsrArg p = csr_arg(info, 1, "pattern");
  const std::int64_t k = size_arg(info, 2, "k", INT32_MAX);
  expect_matrix(dense, "dense");
  if (dense.shape()[0] != p.rows || dense.shape()[1] != p.cols)
    fail(ErrorCode::Shape, "dense: expected shape [" + std::to_string(p.rows) + ", " + std::to_string(p.cols) +
                               "] (the pattern's), got " + shape_string(dense.shape()));
  expect_device(dense, p.device, "dense");
  expect_k_candidates(p, k);
  return growth_selection(info.Env(), p.device, k, [&](std::int32_t* rows, std::int32_t* cols, float* scores) {
    cpu::Selection s;
    if (p.device == Device::Cpu)
      s = cpu::topk_dense(rows, cols, scores, dense.f32(), p.row_ptr->i32(), p.col_idx->i32(), p.rows, p.cols, k);
    else
      DS_CUDA(s = cuda::topk_dense(rows, cols, scores, dense.f32(), p.row_ptr->i32(), p.col_idx->i32(), p.rows, p.cols, p.nnz, k,
                                   cuda::stream()));
    return s;
  });
}

// bottomkMagnitude(matrix, k)
//   -> { rows: Int32Array, cols: Int32Array, indices: Int32Array, scores: Float32Array, nanCount }
Napi::Value bottomk_magnitude(const Napi::CallbackInfo& info) {
  const CsrArg m = csr_arg(info, 0, "matrix");
  const std::int64_t k = size_arg(info, 1, "k", INT32_MAX);
  if (k > m.nnz)
    fail(ErrorCode::Arg, "k: expected at most nnz = " + std::to_string(m.nnz) + " stored entries, got " + std::to_string(k));

  const Napi::Env env = info.Env();
  if (m.device != Device::Cpu) cuda::require_available();
  SelectionArray<std::int32_t> rows(env, m.device, k), cols(env, m.device, k), indices(env, m.device, k);
  SelectionArray<float> scores(env, m.device, k);
  cpu::Selection s;
  if (m.device == Device::Cpu)
    s = cpu::bottomk_magnitude(rows.data(), cols.data(), indices.data(), scores.data(), m.row_ptr->i32(), m.col_idx->i32(),
                               m.values->f32(), m.rows, m.cols, k);
  else if (k > 0)
    DS_CUDA(s = cuda::bottomk_magnitude(rows.data(), cols.data(), indices.data(), scores.data(), m.row_ptr->i32(),
                                        m.col_idx->i32(), m.values->f32(), m.rows, m.cols, m.nnz, k, cuda::stream()));
  Napi::Object out = Napi::Object::New(env);
  out.Set("rows", rows.result(s.count));
  out.Set("cols", cols.result(s.count));
  out.Set("indices", indices.result(s.count));
  out.Set("scores", scores.result(s.count));
  out.Set("nanCount", static_cast<double>(s.nan_count));
  return out;
}

void register_topk(Napi::Env env, Napi::Object exports) {
  export_function<topk_growth>(env, exports, "topkGrowth");
  export_function<topk_dense>(env, exports, "topkDense");
  export_function<bottomk_magnitude>(env, exports, "bottomkMagnitude");
}

}  // namespace
DS_REGISTER_BINDING(register_topk);

}  // namespace dynasparse::binding
