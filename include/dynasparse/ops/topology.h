// Topology updates of a CSR pattern: the structural half of a drop-and-grow
// step (RigL, SET, SNFS, magnitude pruning). Given the old pattern, the value
// indices to drop and the positions to grow, builds the new pattern and a
// source map that carries weights and optimizer state across the change.
#pragma once

#include <cstdint>
#include <string>

#include "dynasparse/device.h"
#include "dynasparse/error.h"
#include "dynasparse/hostdevice.h"
#include "dynasparse/memory.h"

namespace dynasparse::cpu {

// The E_ARG messages of a bad drop or grow list, one definition for both
// backends (each checks its lists in the same order, so the same call fails
// with the same words everywhere).
namespace topology_errors {
inline std::string position(std::int64_t r, std::int64_t c) { return "(" + std::to_string(r) + ", " + std::to_string(c) + ")"; }
[[noreturn]] inline void drop_outside(std::int64_t k, std::int64_t d, std::int64_t nnz) {
  fail(ErrorCode::Arg, "drop[" + std::to_string(k) + "]: expected a value index in [0, " + std::to_string(nnz) + "), got " +
                           std::to_string(d));
}
[[noreturn]] inline void drop_repeated(std::int64_t d, std::int64_t k) {
  fail(ErrorCode::Arg, "drop: value index " + std::to_string(d) + " appears more than once (at " + std::to_string(k) + ")");
}
[[noreturn]] inline void grow_outside(std::int64_t k, std::int64_t r, std::int64_t c, std::int64_t rows, std::int64_t cols) {
  fail(ErrorCode::Arg, "grow[" + std::to_string(k) + "]: expected a position in [0, " + std::to_string(rows) + ") x [0, " +
                           std::to_string(cols) + "), got " + position(r, c));
}
[[noreturn]] inline void grow_repeated(std::int64_t r, std::int64_t c) {
  fail(ErrorCode::Arg, "grow: position " + position(r, c) + " appears more than once");
}
[[noreturn]] inline void grow_kept(std::int64_t r, std::int64_t c) {
  fail(ErrorCode::Arg, "grow: position " + position(r, c) + " is stored and not dropped (grown positions must not be kept)");
}
}  // namespace topology_errors

// The free column of in-row rank t in a row whose stored columns are
// c[0] < c[1] < ... < c[count - 1]: t + m, m = #{j : c[j] - j <= t} (c[j] - j
// never decreases, so a binary search). Random growth's rank -> position step.
DS_HOST_DEVICE std::int64_t free_column(const std::int32_t* c, std::int64_t count, std::int64_t t) {
  std::int64_t a = 0, b = count;
  while (a < b) {
    const std::int64_t mid = (a + b) / 2;
    if (c[mid] - mid <= t) a = mid + 1;
    else b = mid;
  }
  return t + a;
}

// The new pattern of a topology update.
struct TopologyResult {
  BufferPtr row_ptr;        // int32, rows + 1
  BufferPtr col_idx;        // int32, nnz (sorted and unique within each row)
  BufferPtr map;            // int32, nnz: old value index of new entry i, or -1 when newly activated
  std::int64_t nnz = 0;     // old nnz - n_drop + n_grow
  std::int64_t regrown = 0; // grown positions that were stored before the update (dropped and grown again)
};

// Builds the pattern (kept entries) ∪ (grown positions), where kept = the old
// entries whose value index is not in `drop`.
//  - drop: n_drop unique value indices in [0, nnz), in any order.
//  - grow_rows / grow_cols: n_grow positions in [0, rows) x [0, cols), unique,
//    none of them kept (a dropped position may be grown again: "regrown").
// map[i] is the old value index of new entry i when that position was stored
// before the update (kept, or regrown: a regrown entry keeps its weight and
// optimizer state, as in the RigL reference), else -1.
// Violations throw E_ARG naming the first offending drop index or position.
// O(nnz + n_grow log(max grown per row)) work, parallel over rows.
TopologyResult topology_rebuild(const std::int32_t* row_ptr, const std::int32_t* col_idx, std::int64_t rows, std::int64_t cols,
                                std::int64_t nnz, const std::int32_t* drop, std::int64_t n_drop, const std::int32_t* grow_rows,
                                const std::int32_t* grow_cols, std::int64_t n_grow);

// SET's random growth: k distinct positions drawn uniformly at random among the
// positions NOT stored in the pattern (rows x cols - nnz of them), written to
// out_rows / out_cols in increasing flat order. Floyd's sampling over the ranks
// of the free positions (O(k) draws from the counter generator keyed by
// (seed, nonce), stream kStreamGrowth), then each rank is mapped to its position
// by binary searches over the row's stored columns: O(k log + rows) time, no
// rows x cols memory. Throws E_ARG when k exceeds the free positions.
void random_growth(std::int32_t* out_rows, std::int32_t* out_cols, const std::int32_t* row_ptr, const std::int32_t* col_idx,
                   std::int64_t rows, std::int64_t cols, std::int64_t k, std::uint64_t seed, std::uint64_t nonce);

// out[i] = map[i] >= 0 ? src[map[i]] : 0 for i in [0, n). The caller guarantees
// every map entry is -1 or a valid index of src.
void gather_by_map(float* out, const float* src, const std::int32_t* map, std::int64_t n);

}  // namespace dynasparse::cpu

#if defined(DYNASPARSE_WITH_CUDA)
// The CUDA twins (cuda/topology.cu): the pattern and the outputs in device
// memory, the same results as the CPU (integers, bit for bit) and the same
// E_ARG messages. They take scratch memory: call them on cuda::stream().
namespace dynasparse::cuda {
// As cpu::topology_rebuild, with row_ptr / col_idx on the device and the
// small O(k) lists drop / grow_rows / grow_cols on the HOST (they come from
// host selections). The lists are checked on the host, sorted and uploaded;
// whether a grown position is kept is checked on the device and read back
// (one small copy, which waits for the stream) before any output exists, so
// an error leaves nothing half-built. The returned buffers are device memory.
cpu::TopologyResult topology_rebuild(const std::int32_t* row_ptr, const std::int32_t* col_idx, std::int64_t rows,
                                     std::int64_t cols, std::int64_t nnz, const std::int32_t* drop, std::int64_t n_drop,
                                     const std::int32_t* grow_rows, const std::int32_t* grow_cols, std::int64_t n_grow,
                                     Stream s);
// As cpu::random_growth, bit for bit: out_rows / out_cols (k each) and the
// pattern in device memory; nnz = row_ptr[rows] is passed because it lives on
// the device. Floyd's sampling of the k ranks runs on the host (O(k), it
// needs only rows * cols - nnz); the ranks are uploaded and mapped to
// positions on the device, where the pattern is.
void random_growth(std::int32_t* out_rows, std::int32_t* out_cols, const std::int32_t* row_ptr, const std::int32_t* col_idx,
                   std::int64_t rows, std::int64_t cols, std::int64_t nnz, std::int64_t k, std::uint64_t seed,
                   std::uint64_t nonce, Stream s);
// out[i] = map[i] >= 0 ? src[map[i]] : 0 for i in [0, n). An index outside
// [-1, n_src) reads nothing and writes 0 (callers that take a map from a user
// check it first: binding/topology.cc).
void gather_by_map(float* out, const float* src, std::int64_t n_src, const std::int32_t* map, std::int64_t n, Stream s);
}  // namespace dynasparse::cuda
#endif
