// Topology updates of CSR patterns (drop and grow) and gathers through the
// source map they produce. Validates and dispatches; the kernels compute.
// On CUDA the pattern, the values and the map stay on the device; the drop
// and grow lists are host typed arrays (the selections return them) that the
// CUDA kernels check and upload themselves (cuda/topology.cu).
#include <napi.h>

#include <string>

#include "args.h"
#include "checks.h"
#include "csr_args.h"
#include "dispatch.h"
#include "dynasparse/error.h"
#include "dynasparse/ops/topology.h"
#include "export.h"
#include "register.h"
#include "tensor.h"

namespace dynasparse::binding {
namespace {

// E_FORMAT unless rowPtr starts at 0 and ends at nnz (the kernels index the
// stored entries through it). On CUDA two 4-byte reads, which wait for the stream.
void expect_spanning(const CsrArg& a) {
  const std::int32_t first = read_value<std::int32_t>(a.row_ptr->i32(), a.device);
  const std::int32_t last = read_value<std::int32_t>(a.row_ptr->i32() + a.rows, a.device);
  if (first != 0 || last != a.nnz) fail(ErrorCode::Format, "pattern: rowPtr does not span the stored entries");
}

// topologyRebuild(csr, drop: Int32Array, growRows: Int32Array, growCols: Int32Array)
//   -> { rowPtr, colIdx, values, map, nnz, regrown }
Napi::Value rebuild(const Napi::CallbackInfo& info) {
  const CsrArg a = csr_arg(info, 0, "pattern");
  // Private copies, checked by the kernels' host code (see int32_array_copy).
  const HostInts drop_copy = int32_array_copy(info, 1, "drop");
  const HostInts grow_rows_copy = int32_array_copy(info, 2, "growRows");
  const HostInts grow_cols_copy = int32_array_copy(info, 3, "growCols");
  const std::int64_t n_drop = drop_copy.size, n_grow = grow_rows_copy.size;
  if (n_grow != grow_cols_copy.size)
    fail(ErrorCode::Shape, "growCols: expected " + std::to_string(n_grow) + " columns (one per grown row), got " +
                               std::to_string(grow_cols_copy.size));
  if (a.device != Device::Cpu) cuda::require_available();
  expect_spanning(a);
  const std::int32_t* drop = drop_copy.data();
  const std::int32_t* grow_rows = grow_rows_copy.data();
  const std::int32_t* grow_cols = grow_cols_copy.data();
  cpu::TopologyResult r;
  BufferPtr values;
  if (a.device == Device::Cpu) {
    r = cpu::topology_rebuild(a.row_ptr->i32(), a.col_idx->i32(), a.rows, a.cols, a.nnz, drop, n_drop, grow_rows, grow_cols, n_grow);
    values = allocate_tensor(Device::Cpu, r.nnz, DType::F32);
    cpu::gather_by_map(values->as<float>(), a.values->f32(), r.map->as<std::int32_t>(), r.nnz);
  } else {
    // Errors are raised before the result exists: the old matrix is untouched either way.
    DS_CUDA(r = cuda::topology_rebuild(a.row_ptr->i32(), a.col_idx->i32(), a.rows, a.cols, a.nnz, drop, n_drop, grow_rows, grow_cols, n_grow, cuda::stream()));
    values = allocate_tensor(Device::Cuda, r.nnz, DType::F32);
    // The map comes from the rebuild itself: every index is -1 or valid.
    DS_CUDA(cuda::gather_by_map(values->as<float>(), a.values->f32(), a.nnz, r.map->as<std::int32_t>(), r.nnz, cuda::stream()));
  }
  Napi::Object out = csr_parts(info.Env(), r.row_ptr, r.col_idx, values, a.rows, r.nnz);
  out.Set("map", NativeTensor::create(info.Env(), r.map, {r.nnz}, DType::I32));
  out.Set("regrown", static_cast<double>(r.regrown));
  return out;
}

// gatherByMap(src: float32 tensor, map: int32 tensor) -> float32 tensor of map.size:
// out[i] = src[map[i]], or 0 where map[i] = -1.
Napi::Value gather(const Napi::CallbackInfo& info) {
  NativeTensor& src = tensor_arg(info, 0, "src");
  NativeTensor& map = tensor_arg(info, 1, "map");
  expect_dtype(src, DType::F32, "src");
  expect_dtype(map, DType::I32, "map");
  expect_device(map, src.device(), "map");
  if (src.device() != Device::Cpu) cuda::require_available();
  // The map is checked where it lives (on CUDA a device search and one small
  // read back), so no index from JavaScript reads outside src.
  const std::int64_t bad = first_index_outside(map, -1, src.size());
  if (bad >= 0)
    fail(ErrorCode::Arg, "map[" + std::to_string(bad) + "]: expected -1 or an index in [0, " + std::to_string(src.size()) +
                             "), got " + std::to_string(read_value<std::int32_t>(map.i32() + bad, map.device())));
  BufferPtr out = allocate_tensor(src.device(), map.size(), DType::F32);
  if (src.device() == Device::Cpu)
    cpu::gather_by_map(out->as<float>(), src.f32(), map.i32(), map.size());
  else
    DS_CUDA(cuda::gather_by_map(out->as<float>(), src.f32(), src.size(), map.i32(), map.size(), cuda::stream()));
  return NativeTensor::create(info.Env(), out, {map.size()}, DType::F32);
}

// randomGrowth(pattern, k, seed, nonce) -> { rows: Int32Array, cols: Int32Array }
Napi::Value random_growth(const Napi::CallbackInfo& info) {
  const CsrArg a = csr_arg(info, 0, "pattern");
  const std::int64_t k = size_arg(info, 1, "k", INT32_MAX);
  const std::uint64_t seed = seed_arg(info, 2, "seed");
  const std::uint64_t nonce = seed_arg(info, 3, "nonce");
  if (a.device != Device::Cpu) cuda::require_available();
  expect_spanning(a);
  if (k > a.rows * a.cols - a.nnz)
    fail(ErrorCode::Arg, "k: expected at most rows * cols - nnz = " + std::to_string(a.rows * a.cols - a.nnz) + " free positions, got " +
                             std::to_string(k));
  Napi::Int32Array rows = Napi::Int32Array::New(info.Env(), static_cast<std::size_t>(k));
  Napi::Int32Array cols = Napi::Int32Array::New(info.Env(), static_cast<std::size_t>(k));
  if (a.device == Device::Cpu) {
    cpu::random_growth(rows.Data(), cols.Data(), a.row_ptr->i32(), a.col_idx->i32(), a.rows, a.cols, k, seed, nonce);
  } else if (k > 0) {
    // The positions are drawn on the device, where the pattern is, then copied
    // into the typed arrays (2k ints; the copy waits for the stream).
    BufferPtr d_rows = allocate_tensor(Device::Cuda, k, DType::I32);
    BufferPtr d_cols = allocate_tensor(Device::Cuda, k, DType::I32);
    DS_CUDA(cuda::random_growth(d_rows->as<std::int32_t>(), d_cols->as<std::int32_t>(), a.row_ptr->i32(), a.col_idx->i32(), a.rows,
                                a.cols, a.nnz, k, seed, nonce, cuda::stream()));
    copy_bytes(rows.Data(), Device::Cpu, d_rows->data(), Device::Cuda, static_cast<std::size_t>(k) * sizeof(std::int32_t));
    copy_bytes(cols.Data(), Device::Cpu, d_cols->data(), Device::Cuda, static_cast<std::size_t>(k) * sizeof(std::int32_t));
  }
  Napi::Object out = Napi::Object::New(info.Env());
  out.Set("rows", rows);
  out.Set("cols", cols);
  return out;
}

void register_topology(Napi::Env env, Napi::Object exports) {
  export_function<rebuild>(env, exports, "topologyRebuild");
  export_function<gather>(env, exports, "gatherByMap");
  export_function<random_growth>(env, exports, "randomGrowth");
}

}  // namespace
DS_REGISTER_BINDING(register_topology);

}  // namespace dynasparse::binding
