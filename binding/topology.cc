// Topology updates of CSR patterns (drop and grow) and gathers through the
// source map they produce. Validates and dispatches; the kernels compute.
#include <napi.h>

#include <string>

#include "args.h"
#include "csr_args.h"
#include "dispatch.h"
#include "dynasparse/error.h"
#include "dynasparse/ops/topology.h"
#include "export.h"
#include "register.h"
#include "tensor.h"

namespace dynasparse::binding {
namespace {

[[noreturn]] void not_on_cuda(const char* op) { fail(ErrorCode::Device, std::string(op) + ": not implemented on cuda yet"); }

// topologyRebuild(csr, drop: Int32Array, growRows: Int32Array, growCols: Int32Array)
//   -> { rowPtr, colIdx, values, map, nnz, regrown }
Napi::Value rebuild(const Napi::CallbackInfo& info) {
  const CsrArg a = csr_arg(info, 0, "pattern");
  const auto drop = int32_array_arg(info, 1, "drop");
  const auto grow_rows = int32_array_arg(info, 2, "growRows");
  const auto grow_cols = int32_array_arg(info, 3, "growCols");
  if (grow_rows.ElementLength() != grow_cols.ElementLength())
    fail(ErrorCode::Shape, "growCols: expected " + std::to_string(grow_rows.ElementLength()) + " columns (one per grown row), got " +
                               std::to_string(grow_cols.ElementLength()));
  if (a.device != Device::Cpu) {
    cuda::require_available();
    not_on_cuda("topologyRebuild");
  }
  if (a.row_ptr->i32()[0] != 0 || a.row_ptr->i32()[a.rows] != a.nnz)
    fail(ErrorCode::Format, "pattern: rowPtr does not span the stored entries");
  cpu::TopologyResult r = cpu::topology_rebuild(a.row_ptr->i32(), a.col_idx->i32(), a.rows, a.cols, a.nnz, drop.Data(),
                                                static_cast<std::int64_t>(drop.ElementLength()), grow_rows.Data(), grow_cols.Data(),
                                                static_cast<std::int64_t>(grow_rows.ElementLength()));
  BufferPtr values = allocate_tensor(Device::Cpu, r.nnz, DType::F32);
  cpu::gather_by_map(values->as<float>(), a.values->f32(), r.map->as<std::int32_t>(), r.nnz);
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
  if (src.device() != Device::Cpu) {
    cuda::require_available();
    not_on_cuda("gatherByMap");
  }
  const std::int32_t* m = map.i32();
  for (std::int64_t i = 0; i < map.size(); ++i)
    if (m[i] < -1 || m[i] >= src.size())
      fail(ErrorCode::Arg, "map[" + std::to_string(i) + "]: expected -1 or an index in [0, " + std::to_string(src.size()) + "), got " +
                               std::to_string(m[i]));
  BufferPtr out = allocate_tensor(Device::Cpu, map.size(), DType::F32);
  cpu::gather_by_map(out->as<float>(), src.f32(), m, map.size());
  return NativeTensor::create(info.Env(), out, {map.size()}, DType::F32);
}

// randomGrowth(pattern, k, seed, nonce) -> { rows: Int32Array, cols: Int32Array }
Napi::Value random_growth(const Napi::CallbackInfo& info) {
  const CsrArg a = csr_arg(info, 0, "pattern");
  const std::int64_t k = size_arg(info, 1, "k", INT32_MAX);
  const std::uint64_t seed = seed_arg(info, 2, "seed");
  const std::uint64_t nonce = seed_arg(info, 3, "nonce");
  if (a.device != Device::Cpu) {
    cuda::require_available();
    not_on_cuda("randomGrowth");
  }
  if (a.row_ptr->i32()[0] != 0 || a.row_ptr->i32()[a.rows] != a.nnz)
    fail(ErrorCode::Format, "pattern: rowPtr does not span the stored entries");
  if (k > a.rows * a.cols - a.nnz)
    fail(ErrorCode::Arg, "k: expected at most rows * cols - nnz = " + std::to_string(a.rows * a.cols - a.nnz) + " free positions, got " +
                             std::to_string(k));
  Napi::Int32Array rows = Napi::Int32Array::New(info.Env(), static_cast<std::size_t>(k));
  Napi::Int32Array cols = Napi::Int32Array::New(info.Env(), static_cast<std::size_t>(k));
  cpu::random_growth(rows.Data(), cols.Data(), a.row_ptr->i32(), a.col_idx->i32(), a.rows, a.cols, k, seed, nonce);
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
