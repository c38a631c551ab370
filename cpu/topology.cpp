#include "dynasparse/ops/topology.h"

#include <algorithm>
#include <climits>
#include <string>
#include <vector>

#include "dynasparse/growth_sampling.h"

#include "dynasparse/error.h"
#include "parallel.h"

namespace dynasparse::cpu {
namespace {

// What pass 1 found wrong with a row's grown positions (0: nothing).
enum RowProblem : std::int8_t { kNone = 0, kDuplicate = 1, kKept = 2 };

}  // namespace

TopologyResult topology_rebuild(const std::int32_t* row_ptr, const std::int32_t* col_idx, std::int64_t rows, std::int64_t cols,
                                std::int64_t nnz, const std::int32_t* drop, std::int64_t n_drop, const std::int32_t* grow_rows,
                                const std::int32_t* grow_cols, std::int64_t n_grow) {
  // Drop list: unique value indices in any order (bottom-k selections come
  // ordered by score), marked in a byte mask.
  Scratch<std::uint8_t> dropped(Device::Cpu, static_cast<std::size_t>(std::max<std::int64_t>(nnz, 1)));
  std::uint8_t* is_dropped = dropped.data();
  std::fill(is_dropped, is_dropped + nnz, std::uint8_t{0});
  for (std::int64_t k = 0; k < n_drop; ++k) {
    const std::int32_t d = drop[k];
    if (d < 0 || d >= nnz)
      topology_errors::drop_outside(k, d, nnz);
    if (is_dropped[d]) topology_errors::drop_repeated(d, k);
    is_dropped[d] = 1;
  }

  // Grown positions bucketed by row (counting sort), each row's columns sorted below.
  Scratch<std::int64_t> grow_ptr_s(Device::Cpu, static_cast<std::size_t>(rows + 1));
  std::int64_t* grow_ptr = grow_ptr_s.data();
  std::fill(grow_ptr, grow_ptr + rows + 1, std::int64_t{0});
  for (std::int64_t k = 0; k < n_grow; ++k) {
    const std::int32_t r = grow_rows[k], c = grow_cols[k];
    if (r < 0 || r >= rows || c < 0 || c >= cols)
      topology_errors::grow_outside(k, r, c, rows, cols);
    ++grow_ptr[r + 1];
  }
  for (std::int64_t r = 0; r < rows; ++r) grow_ptr[r + 1] += grow_ptr[r];
  Scratch<std::int32_t> grow_sorted_s(Device::Cpu, static_cast<std::size_t>(std::max<std::int64_t>(n_grow, 1)));
  std::int32_t* grow_sorted = grow_sorted_s.data();
  {
    Scratch<std::int64_t> fill_s(Device::Cpu, static_cast<std::size_t>(rows + 1));
    std::int64_t* next = fill_s.data();
    std::copy(grow_ptr, grow_ptr + rows + 1, next);
    for (std::int64_t k = 0; k < n_grow; ++k) grow_sorted[next[grow_rows[k]]++] = grow_cols[k];
  }

  // Pass 1, per row: sort the grown columns, check them against the old row,
  // count the new row's entries and the regrown ones.
  Scratch<std::int64_t> counts_s(Device::Cpu, static_cast<std::size_t>(rows + 1));
  Scratch<std::int64_t> regrown_s(Device::Cpu, static_cast<std::size_t>(std::max<std::int64_t>(rows, 1)));
  Scratch<std::int8_t> problem_s(Device::Cpu, static_cast<std::size_t>(std::max<std::int64_t>(rows, 1)));
  Scratch<std::int32_t> problem_col_s(Device::Cpu, static_cast<std::size_t>(std::max<std::int64_t>(rows, 1)));
  std::int64_t* counts = counts_s.data();
  std::int64_t* regrown_per_row = regrown_s.data();
  std::int8_t* problem = problem_s.data();
  std::int32_t* problem_col = problem_col_s.data();
  parallel_for(0, rows, 256, [&](std::int64_t lo, std::int64_t hi) {
    for (std::int64_t r = lo; r < hi; ++r) {
      std::int32_t* g = grow_sorted + grow_ptr[r];
      const std::int64_t ng = grow_ptr[r + 1] - grow_ptr[r];
      std::sort(g, g + ng);
      problem[r] = kNone;
      regrown_per_row[r] = 0;
      std::int64_t kept = 0, regrown = 0;
      for (std::int32_t k = row_ptr[r]; k < row_ptr[r + 1]; ++k) kept += is_dropped[k] ? 0 : 1;
      std::int32_t k = row_ptr[r];
      for (std::int64_t j = 0; j < ng && problem[r] == kNone; ++j) {
        if (j > 0 && g[j] == g[j - 1]) {
          problem[r] = kDuplicate;
          problem_col[r] = g[j];
          break;
        }
        while (k < row_ptr[r + 1] && col_idx[k] < g[j]) ++k;
        if (k < row_ptr[r + 1] && col_idx[k] == g[j]) {
          if (!is_dropped[k]) {
            problem[r] = kKept;
            problem_col[r] = g[j];
          } else {
            ++regrown;
          }
        }
      }
      counts[r + 1] = kept + ng;
      regrown_per_row[r] = regrown;
    }
  });
  TopologyResult result;
  counts[0] = 0;
  for (std::int64_t r = 0; r < rows; ++r) {
    if (problem[r] == kDuplicate)
      topology_errors::grow_repeated(r, problem_col[r]);
    if (problem[r] == kKept)
      topology_errors::grow_kept(r, problem_col[r]);
    counts[r + 1] += counts[r];
    result.regrown += regrown_per_row[r];
  }
  result.nnz = counts[rows];
  if (result.nnz > INT32_MAX) fail(ErrorCode::Arg, "grow: the new pattern would store more than 2^31 - 1 entries");

  result.row_ptr = Buffer::allocate(Device::Cpu, static_cast<std::size_t>(rows + 1) * sizeof(std::int32_t));
  result.col_idx = Buffer::allocate(Device::Cpu, static_cast<std::size_t>(result.nnz) * sizeof(std::int32_t));
  result.map = Buffer::allocate(Device::Cpu, static_cast<std::size_t>(result.nnz) * sizeof(std::int32_t));
  std::int32_t* new_row_ptr = result.row_ptr->as<std::int32_t>();
  std::int32_t* new_col = result.col_idx->as<std::int32_t>();
  std::int32_t* map = result.map->as<std::int32_t>();
  for (std::int64_t r = 0; r <= rows; ++r) new_row_ptr[r] = static_cast<std::int32_t>(counts[r]);

  // Pass 2, per row: merge the kept entries with the grown columns.
  parallel_for(0, rows, 256, [&](std::int64_t lo, std::int64_t hi) {
    for (std::int64_t r = lo; r < hi; ++r) {
      const std::int32_t* g = grow_sorted + grow_ptr[r];
      const std::int64_t ng = grow_ptr[r + 1] - grow_ptr[r];
      std::int64_t out = new_row_ptr[r];
      std::int32_t k = row_ptr[r];
      const std::int32_t end = row_ptr[r + 1];
      std::int64_t j = 0;
      while (k < end || j < ng) {
        if (k < end && is_dropped[k] && (j >= ng || g[j] > col_idx[k])) {  // dropped, not regrown
          ++k;
          continue;
        }
        if (j >= ng || (k < end && col_idx[k] < g[j])) {  // kept
          new_col[out] = col_idx[k];
          map[out++] = k++;
        } else if (k < end && col_idx[k] == g[j]) {  // regrown: keeps its old entry
          new_col[out] = g[j++];
          map[out++] = k++;
        } else {  // newly activated
          new_col[out] = g[j++];
          map[out++] = -1;
        }
      }
    }
  });
  return result;
}


void random_growth(std::int32_t* out_rows, std::int32_t* out_cols, const std::int32_t* row_ptr, const std::int32_t* col_idx,
                   std::int64_t rows, std::int64_t cols, std::int64_t k, std::uint64_t seed, std::uint64_t nonce) {
  // free_before[r] = free positions in rows < r.
  std::vector<std::int64_t> free_before(static_cast<std::size_t>(rows + 1), 0);
  for (std::int64_t r = 0; r < rows; ++r) free_before[r + 1] = free_before[r] + cols - (row_ptr[r + 1] - row_ptr[r]);
  const std::int64_t n_free = free_before[rows];
  if (k < 0 || k > n_free)
    fail(ErrorCode::Arg, "k: expected at most rows * cols - nnz = " + std::to_string(n_free) + " free positions, got " + std::to_string(k));
  // Floyd: k distinct ranks in [0, n_free), uniformly, sorted.
  const std::vector<std::int64_t> ranks = growth::floyd_ranks(n_free, k, seed, nonce);
  // Rank -> position: the row by the free positions before it, then free_column.
  parallel_for(0, k, 4096, [&](std::int64_t lo, std::int64_t hi) {
    for (std::int64_t i = lo; i < hi; ++i) {
      const std::int64_t rank = ranks[static_cast<std::size_t>(i)];
      const std::int64_t r = (std::upper_bound(free_before.begin(), free_before.end(), rank) - free_before.begin()) - 1;
      const std::int64_t t = rank - free_before[static_cast<std::size_t>(r)];
      out_rows[i] = static_cast<std::int32_t>(r);
      out_cols[i] = static_cast<std::int32_t>(free_column(col_idx + row_ptr[r], row_ptr[r + 1] - row_ptr[r], t));
    }
  });
}

void gather_by_map(float* out, const float* src, const std::int32_t* map, std::int64_t n) {
  parallel_for(0, n, 16384, [&](std::int64_t lo, std::int64_t hi) {
    for (std::int64_t i = lo; i < hi; ++i) out[i] = map[i] >= 0 ? src[map[i]] : 0.0f;
  });
}

}  // namespace dynasparse::cpu
