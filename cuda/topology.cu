// CUDA twins of cpu/topology.cpp: the drop-and-grow rebuild of a CSR pattern,
// the gather through its source map, and SET's random growth. The pattern
// (O(nnz)) never leaves the device; the O(k) lists, which arrive from host
// selections, are checked and sorted on the host (topology_host.h) and
// uploaded.
//
// The rebuild, with the pattern on the device:
//   mark_dropped_kernel:  a byte per stored entry, 1 where dropped;
//   grow_bounds_kernel:   grow_ptr[r] = the first grown position of row r in
//                         the sorted list (a binary search per row);
//   check_grown_kernel:   a binary search of each grown column in its old row:
//                         stored and dropped counts as regrown, stored and not
//                         dropped is the "kept" error (the smallest such flat
//                         index, read back with the regrown count before any
//                         output is allocated);
//   count_rows_kernel:    one warp per row: each entry's rank among the row's
//                         kept entries (ballots) and the new row length, then
//                         scan::counts_to_row_ptr;
//   place_kernel:         one warp per row: a kept entry goes to
//                         (its kept rank) + (grown columns below it), a grown
//                         one to (kept columns below it) + (its grown rank),
//                         both found by binary searches, so every entry moves
//                         independently and the row comes out in column order,
//                         exactly as the CPU's sequential merge.
// Integer results, so they equal the CPU's bit for bit.
#include <algorithm>
#include <climits>
#include <cstdint>
#include <string>
#include <vector>

#include "dynasparse/ops/topology.h"
#include "launch.cuh"
#include "scan.cuh"
#include "topology_host.h"

namespace dynasparse::cuda {
namespace {

constexpr int kThreads = 256;
constexpr int kWarps = kThreads / 32;

// What check_grown_kernel reports.
struct GrownCheck {
  long long kept_min;            // the smallest grown flat index that is kept, LLONG_MAX if none
  unsigned long long regrown;    // grown positions that were stored and dropped
};

__global__ void zero_bytes_kernel(std::uint8_t* __restrict__ out, std::int64_t n) {
  const std::int64_t stride = static_cast<std::int64_t>(gridDim.x) * blockDim.x;
  for (std::int64_t i = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride) out[i] = 0;
}

// The drop list is checked (in range, unique) before it is uploaded.
__global__ void mark_dropped_kernel(std::uint8_t* __restrict__ dropped, const std::int32_t* __restrict__ drop,
                                    std::int64_t n_drop) {
  const std::int64_t stride = static_cast<std::int64_t>(gridDim.x) * blockDim.x;
  for (std::int64_t i = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n_drop; i += stride)
    dropped[drop[i]] = 1;
}

__global__ void grow_bounds_kernel(std::int32_t* __restrict__ grow_ptr, const std::int32_t* __restrict__ g_rows,
                                   std::int64_t n_grow, std::int64_t rows) {
  const std::int64_t stride = static_cast<std::int64_t>(gridDim.x) * blockDim.x;
  for (std::int64_t r = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; r <= rows; r += stride)
    grow_ptr[r] = static_cast<std::int32_t>(lower_bound(g_rows, 0, n_grow, r));
}

__global__ void init_check_kernel(GrownCheck* check) {
  check->kept_min = LLONG_MAX;
  check->regrown = 0;
}

__global__ void check_grown_kernel(GrownCheck* __restrict__ check, const std::int32_t* __restrict__ row_ptr,
                                   const std::int32_t* __restrict__ col_idx, const std::uint8_t* __restrict__ dropped,
                                   const std::int32_t* __restrict__ g_rows, const std::int32_t* __restrict__ g_cols,
                                   std::int64_t n_grow, std::int64_t cols) {
  const std::int64_t stride = static_cast<std::int64_t>(gridDim.x) * blockDim.x;
  for (std::int64_t j = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; j < n_grow; j += stride) {
    const std::int32_t r = g_rows[j], c = g_cols[j];
    const std::int64_t end = row_ptr[r + 1];
    const std::int64_t k = lower_bound(col_idx, row_ptr[r], end, c);
    if (k < end && col_idx[k] == c) {
      if (dropped[k]) atomicAdd(&check->regrown, 1ULL);
      else atomicMin(&check->kept_min, static_cast<long long>(r) * cols + c);
    }
  }
}

// One warp per row (grid-stride): kept_rank[k] = kept entries of the row
// before entry k, and new_row_ptr[r + 1] = the row's kept + grown entries.
__global__ void count_rows_kernel(std::int32_t* __restrict__ new_row_ptr, std::int32_t* __restrict__ kept_rank,
                                  const std::int32_t* __restrict__ row_ptr, const std::uint8_t* __restrict__ dropped,
                                  const std::int32_t* __restrict__ grow_ptr, std::int64_t rows) {
  const int lane = static_cast<int>(threadIdx.x) % 32;
  const unsigned below = (1u << lane) - 1u;
  const std::int64_t warp = static_cast<std::int64_t>(blockIdx.x) * kWarps + threadIdx.x / 32;
  const std::int64_t warps = static_cast<std::int64_t>(gridDim.x) * kWarps;
  for (std::int64_t r = warp; r < rows; r += warps) {
    std::int32_t kept = 0;
    for (std::int64_t k0 = row_ptr[r]; k0 < row_ptr[r + 1]; k0 += 32) {  // uniform over the warp
      const std::int64_t k = k0 + lane;
      const bool keep = k < row_ptr[r + 1] && dropped[k] == 0;
      const unsigned ballot = __ballot_sync(0xffffffffu, keep);
      if (k < row_ptr[r + 1]) kept_rank[k] = kept + __popc(ballot & below);
      kept += __popc(ballot);
    }
    if (lane == 0) new_row_ptr[r + 1] = kept + (grow_ptr[r + 1] - grow_ptr[r]);
  }
}

// One warp per row (grid-stride). Kept and grown columns are disjoint (a
// grown position is never kept), so the places below fill the new row
// exactly once each, in column order.
__global__ void place_kernel(std::int32_t* __restrict__ new_col, std::int32_t* __restrict__ map,
                             const std::int32_t* __restrict__ new_row_ptr, const std::int32_t* __restrict__ row_ptr,
                             const std::int32_t* __restrict__ col_idx, const std::uint8_t* __restrict__ dropped,
                             const std::int32_t* __restrict__ kept_rank, const std::int32_t* __restrict__ grow_ptr,
                             const std::int32_t* __restrict__ g_cols, std::int64_t rows) {
  const int lane = static_cast<int>(threadIdx.x) % 32;
  const std::int64_t warp = static_cast<std::int64_t>(blockIdx.x) * kWarps + threadIdx.x / 32;
  const std::int64_t warps = static_cast<std::int64_t>(gridDim.x) * kWarps;
  for (std::int64_t r = warp; r < rows; r += warps) {
    const std::int64_t base = new_row_ptr[r];
    const std::int64_t begin = row_ptr[r], end = row_ptr[r + 1];
    const std::int64_t g_begin = grow_ptr[r], g_end = grow_ptr[r + 1];
    const std::int64_t kept_total = new_row_ptr[r + 1] - base - (g_end - g_begin);
    for (std::int64_t k = begin + lane; k < end; k += 32) {
      if (dropped[k]) continue;  // a regrown one is placed from the grown list
      const std::int32_t c = col_idx[k];
      const std::int64_t at = base + kept_rank[k] + (lower_bound(g_cols, g_begin, g_end, c) - g_begin);
      new_col[at] = c;
      map[at] = static_cast<std::int32_t>(k);
    }
    for (std::int64_t j = g_begin + lane; j < g_end; j += 32) {
      const std::int32_t c = g_cols[j];
      const std::int64_t k = lower_bound(col_idx, begin, end, c);
      const std::int64_t kept_below = k < end ? kept_rank[k] : kept_total;
      const std::int64_t at = base + kept_below + (j - g_begin);
      new_col[at] = c;
      map[at] = k < end && col_idx[k] == c ? static_cast<std::int32_t>(k) : -1;  // regrown keeps its old entry
    }
  }
}

__global__ void zero_i32_kernel(std::int32_t* out) { *out = 0; }

__global__ void gather_by_map_kernel(float* __restrict__ out, const float* __restrict__ src, std::int64_t n_src,
                                     const std::int32_t* __restrict__ map, std::int64_t n) {
  const std::int64_t stride = static_cast<std::int64_t>(gridDim.x) * blockDim.x;
  for (std::int64_t i = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride) {
    const std::int32_t m = map[i];
    out[i] = m >= 0 && m < n_src ? src[m] : 0.0f;
  }
}

// SET's rank -> position, as on the CPU: the row is the last r with
// free_before(r) = r * cols - row_ptr[r] <= rank (free_before never
// decreases; full rows are skipped), and in a row with stored columns
// c_0 < c_1 < ... the free column of in-row rank t is t + #{j : c_j - j <= t}.
__global__ void rank_to_position_kernel(std::int32_t* __restrict__ out_rows, std::int32_t* __restrict__ out_cols,
                                        const long long* __restrict__ ranks, std::int64_t k,
                                        const std::int32_t* __restrict__ row_ptr, const std::int32_t* __restrict__ col_idx,
                                        std::int64_t rows, std::int64_t cols) {
  const std::int64_t stride = static_cast<std::int64_t>(gridDim.x) * blockDim.x;
  for (std::int64_t i = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < k; i += stride) {
    const long long rank = ranks[i];
    std::int64_t lo = 0, hi = rows + 1;  // upper_bound over free_before(0..rows)
    while (lo < hi) {
      const std::int64_t mid = lo + (hi - lo) / 2;
      if (mid * cols - row_ptr[mid] <= rank) lo = mid + 1;
      else hi = mid;
    }
    const std::int64_t r = lo - 1;
    const std::int64_t t = rank - (r * cols - row_ptr[r]);
    out_rows[i] = static_cast<std::int32_t>(r);
    out_cols[i] = static_cast<std::int32_t>(cpu::free_column(col_idx + row_ptr[r], row_ptr[r + 1] - row_ptr[r], t));
  }
}

unsigned warp_rows_grid(std::int64_t rows) { return blocks_for(rows, kWarps); }

}  // namespace

cpu::TopologyResult topology_rebuild(const std::int32_t* row_ptr, const std::int32_t* col_idx, std::int64_t rows,
                                     std::int64_t cols, std::int64_t nnz, const std::int32_t* drop, std::int64_t n_drop,
                                     const std::int32_t* grow_rows, const std::int32_t* grow_cols, std::int64_t n_grow,
                                     Stream s) {
  const char* op = "topology_rebuild";
  // The host lists, checked in the CPU's order; the grown ones sorted.
  topology_host::check_drop(drop, n_drop, nnz);
  const std::vector<std::int64_t> flats = topology_host::sorted_grown(grow_rows, grow_cols, n_grow, rows, cols);
  const auto n_d = static_cast<std::size_t>(n_drop), n_g = static_cast<std::size_t>(n_grow);

  // One upload of the three lists (a host -> device copy waits for the
  // stream: one wait, not three), then the drop mask.
  std::vector<std::int32_t> lists(n_d + 2 * n_g);
  std::copy(drop, drop + n_d, lists.begin());
  for (std::size_t j = 0; j < n_g; ++j) {
    lists[n_d + j] = static_cast<std::int32_t>(flats[j] / cols);
    lists[n_d + n_g + j] = static_cast<std::int32_t>(flats[j] % cols);
  }
  Scratch<std::int32_t> lists_d = kernel_scratch<std::int32_t>(lists.size(), s, op);
  upload(lists_d.data(), lists.data(), lists.size());
  const std::int32_t* drop_d = lists_d.data();
  const std::int32_t* g_rows = drop_d + n_d;
  const std::int32_t* g_cols = g_rows + n_g;
  Scratch<std::uint8_t> dropped = kernel_scratch<std::uint8_t>(static_cast<std::size_t>(nnz), s, op);
  Scratch<std::int32_t> grow_ptr = kernel_scratch<std::int32_t>(static_cast<std::size_t>(rows + 1), s, op);
  Scratch<GrownCheck> check = kernel_scratch<GrownCheck>(1, s, op);
  if (nnz > 0) {
    launch("zero_bytes_kernel", zero_bytes_kernel, dim3(blocks_for(nnz, kThreads)), dim3(kThreads), 0, s, dropped.data(), nnz);
    if (n_drop > 0)
      launch("mark_dropped_kernel", mark_dropped_kernel, dim3(blocks_for(n_drop, kThreads)), dim3(kThreads), 0, s,
             dropped.data(), drop_d, n_drop);
  }
  launch("grow_bounds_kernel", grow_bounds_kernel, dim3(blocks_for(rows + 1, kThreads)), dim3(kThreads), 0, s,
         grow_ptr.data(), g_rows, n_grow, rows);

  // "Kept" needs the pattern: checked on the device, read back with the
  // regrown count before anything is allocated for the result.
  launch("init_check_kernel", init_check_kernel, dim3(1), dim3(1), 0, s, check.data());
  if (n_grow > 0)
    launch("check_grown_kernel", check_grown_kernel, dim3(blocks_for(n_grow, kThreads)), dim3(kThreads), 0, s, check.data(),
           row_ptr, col_idx, static_cast<const std::uint8_t*>(dropped.data()), g_rows,
           g_cols, n_grow, cols);
  const GrownCheck checked = read_back(check.data());
  topology_host::report_grown(checked.kept_min == LLONG_MAX ? -1 : checked.kept_min, topology_host::first_duplicate(flats), cols);

  // Every check passed: the lists are unique and disjoint from the kept
  // entries, so the new nnz is known on the host.
  cpu::TopologyResult result;
  result.regrown = static_cast<std::int64_t>(checked.regrown);
  result.nnz = nnz - n_drop + n_grow;
  if (result.nnz > INT32_MAX) fail(ErrorCode::Arg, "grow: the new pattern would store more than 2^31 - 1 entries");
  result.row_ptr = Buffer::allocate(kScratchDevice, static_cast<std::size_t>(rows + 1) * sizeof(std::int32_t));
  result.col_idx = Buffer::allocate(kScratchDevice, static_cast<std::size_t>(result.nnz) * sizeof(std::int32_t));
  result.map = Buffer::allocate(kScratchDevice, static_cast<std::size_t>(result.nnz) * sizeof(std::int32_t));
  std::int32_t* new_row_ptr = result.row_ptr->as<std::int32_t>();
  if (rows == 0) {
    launch("zero_i32_kernel", zero_i32_kernel, dim3(1), dim3(1), 0, s, new_row_ptr);
    return result;
  }
  Scratch<std::int32_t> kept_rank = kernel_scratch<std::int32_t>(static_cast<std::size_t>(nnz), s, op);
  Scratch<std::int64_t> total = kernel_scratch<std::int64_t>(1, s, op);
  launch("count_rows_kernel", count_rows_kernel, dim3(warp_rows_grid(rows)), dim3(kThreads), 0, s, new_row_ptr,
         kept_rank.data(), row_ptr, static_cast<const std::uint8_t*>(dropped.data()),
         static_cast<const std::int32_t*>(grow_ptr.data()), rows);
  scan::counts_to_row_ptr(new_row_ptr, total.data(), rows, s, op);
  if (result.nnz > 0)
    launch("place_kernel", place_kernel, dim3(warp_rows_grid(rows)), dim3(kThreads), 0, s, result.col_idx->as<std::int32_t>(),
           result.map->as<std::int32_t>(), static_cast<const std::int32_t*>(new_row_ptr), row_ptr, col_idx,
           static_cast<const std::uint8_t*>(dropped.data()), static_cast<const std::int32_t*>(kept_rank.data()),
           static_cast<const std::int32_t*>(grow_ptr.data()), g_cols, rows);
  return result;
}

void gather_by_map(float* out, const float* src, std::int64_t n_src, const std::int32_t* map, std::int64_t n, Stream s) {
  if (n <= 0) return;
  launch("gather_by_map_kernel", gather_by_map_kernel, dim3(blocks_for(n, kThreads)), dim3(kThreads), 0, s, out, src, n_src,
         map, n);
}

void random_growth(std::int32_t* out_rows, std::int32_t* out_cols, const std::int32_t* row_ptr, const std::int32_t* col_idx,
                   std::int64_t rows, std::int64_t cols, std::int64_t nnz, std::int64_t k, std::uint64_t seed,
                   std::uint64_t nonce, Stream s) {
  const std::int64_t n_free = rows * cols - nnz;
  if (k < 0 || k > n_free)
    fail(ErrorCode::Arg, "k: expected at most rows * cols - nnz = " + std::to_string(n_free) + " free positions, got " +
                             std::to_string(k));
  if (k == 0) return;
  const std::vector<std::int64_t> ranks = topology_host::floyd_ranks(n_free, k, seed, nonce);
  Scratch<long long> ranks_d = kernel_scratch<long long>(static_cast<std::size_t>(k), s, "random_growth");
  static_assert(sizeof(long long) == sizeof(std::int64_t), "ranks are uploaded as they are");
  upload(ranks_d.data(), reinterpret_cast<const long long*>(ranks.data()), static_cast<std::size_t>(k));
  launch("rank_to_position_kernel", rank_to_position_kernel, dim3(blocks_for(k, kThreads)), dim3(kThreads), 0, s, out_rows,
         out_cols, static_cast<const long long*>(ranks_d.data()), k, row_ptr, col_idx, rows, cols);
}

}  // namespace dynasparse::cuda
