// The host half of the CUDA topology kernels (cuda/topology.cu): what works on
// the small O(k) lists that arrive from JavaScript as host arrays. Checking
// them here, where they are, gives the CPU's error messages for free (the
// first offending entry, in list order) and costs no device round trip;
// sorting the grown positions here hands the device merge its lists in
// column order without a device sort. Nothing here touches the pattern, which
// stays on the device.
//
// Each function repeats one step of cpu/topology.cpp exactly (same checks in
// the same order, same messages, same random draws): the tests in
// test/native/cuda/topology_test.cpp compare the two backends.
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "dynasparse/error.h"
#include "dynasparse/growth_sampling.h"
#include "dynasparse/ops/topology.h"

namespace dynasparse::cuda::topology_host {

// The drop list: value indices in [0, nnz), unique, any order. A bit per
// stored entry (nnz / 8 bytes) finds the first repeat as the CPU's byte mask does.
inline void check_drop(const std::int32_t* drop, std::int64_t n_drop, std::int64_t nnz) {
  std::vector<bool> seen(static_cast<std::size_t>(nnz), false);
  for (std::int64_t k = 0; k < n_drop; ++k) {
    const std::int32_t d = drop[k];
    if (d < 0 || d >= nnz)
      cpu::topology_errors::drop_outside(k, d, nnz);
    if (seen[static_cast<std::size_t>(d)]) cpu::topology_errors::drop_repeated(d, k);
    seen[static_cast<std::size_t>(d)] = true;
  }
}

// The grown positions as flat indices r * cols + c in increasing order, after
// the CPU's range check (the first position outside rows x cols, in list
// order). Lists that arrive sorted (randomGrowth, magnitude growth) skip the sort.
inline std::vector<std::int64_t> sorted_grown(const std::int32_t* grow_rows, const std::int32_t* grow_cols, std::int64_t n_grow,
                                              std::int64_t rows, std::int64_t cols) {
  std::vector<std::int64_t> flats(static_cast<std::size_t>(n_grow));
  for (std::int64_t k = 0; k < n_grow; ++k) {
    const std::int32_t r = grow_rows[k], c = grow_cols[k];
    if (r < 0 || r >= rows || c < 0 || c >= cols)
      cpu::topology_errors::grow_outside(k, r, c, rows, cols);
    flats[static_cast<std::size_t>(k)] = static_cast<std::int64_t>(r) * cols + c;
  }
  if (!std::is_sorted(flats.begin(), flats.end())) std::sort(flats.begin(), flats.end());
  return flats;
}

// The smallest flat index that appears twice in sorted `flats`, or -1.
inline std::int64_t first_duplicate(const std::vector<std::int64_t>& flats) {
  const auto it = std::adjacent_find(flats.begin(), flats.end());
  return it == flats.end() ? -1 : *it;
}

// The CPU reports the first row (then column) whose grown positions hold a
// problem; in a row, the first column grown twice or grown while kept, and a
// kept one wins at equal columns (its first occurrence is checked for being
// kept before its second is seen as a repeat). `kept` and `duplicate` are the
// smallest such flat indices (or -1).
inline void report_grown(std::int64_t kept, std::int64_t duplicate, std::int64_t cols) {
  if (kept >= 0 && (duplicate < 0 || kept <= duplicate))
    cpu::topology_errors::grow_kept(kept / cols, kept % cols);
  if (duplicate >= 0)
    cpu::topology_errors::grow_repeated(duplicate / cols, duplicate % cols);
}

// SET's ranks: growth::floyd_ranks (dynasparse/growth_sampling.h), the CPU's
// own draws; only the rank -> position search, which needs the pattern, runs on
// the device.
using growth::floyd_ranks;

}  // namespace dynasparse::cuda::topology_host
