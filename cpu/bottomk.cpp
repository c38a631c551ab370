// bottomk_magnitude: the k stored entries of smallest |value| by radix
// selection on the magnitudes' float bits (for a non-negative float the bits
// order as the values do, so |value| is compared as an unsigned 32-bit key).
//
// RigL drops a large fraction of each layer (30% by default), so k is often a
// third of nnz: a bounded candidate buffer (topk.cpp's Selector, right for the
// 1% that growth keeps) then accepts nearly everything and ends in a
// comparison sort of k records. Here instead:
//   1. two histogram passes (the high, then the low 16 bits of the key, on
//      per-thread histograms over contiguous ranges) find the k-th smallest
//      key T and how many entries equal to T are needed;
//   2. each range copies its entries below T, and its share of those equal to
//      T (ranges in index order, so ties go to the lower index), into an array
//      already ordered by index; the per-range counts come from the histograms;
//   3. a stable LSD radix sort on the 32-bit key alone (two 16-bit passes, a
//      pass skipped when all keys share its digit) then gives the order
//      (|value|, index): the result is the one the definition asks for, bit for
//      bit, whatever the thread count.
// Extra memory: per thread two 65536-bin int64 histograms (1 MiB), 2 k records
// of 8 bytes, and for k >= nnz / 16 the row of each stored entry (nnz int32). NaN has a key above +inf's and is counted, never selected.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>

#include "dynasparse/cpu_runtime.h"
#include "dynasparse/error.h"
#include "dynasparse/memory.h"
#include "dynasparse/ops/topk.h"
#include "parallel.h"

namespace dynasparse::cpu {
namespace {

constexpr std::uint32_t kInfinityKey = 0x7f800000u;  // keys above it are NaN
constexpr std::int64_t kBins = 1 << 16;

inline std::uint32_t magnitude_key(float v) noexcept {
  const float s = std::fabs(v);
  std::uint32_t u;
  std::memcpy(&u, &s, sizeof u);
  return u;
}

inline float key_value(std::uint32_t u) noexcept {
  float s;
  std::memcpy(&s, &u, sizeof s);
  return s;
}

// The first bin where the running count of `total` reaches `k` (1 <= k <= sum),
// and the count before it.
std::int64_t crossing_bin(const std::int64_t* total, std::int64_t k, std::int64_t& before) {
  before = 0;
  for (std::int64_t b = 0; b < kBins; ++b) {
    if (before + total[b] >= k) return b;
    before += total[b];
  }
  return kBins - 1;  // unreachable when k <= the sum
}

// Stable LSD radix sort of records (key << 32 | index) by their key, 16 bits
// at a time; `tmp` has n records. Returns where the sorted records are.
std::uint64_t* sort_by_key(std::uint64_t* data, std::uint64_t* tmp, std::int64_t n, std::int64_t* count) {
  if (n == 0) return data;
  for (int shift = 32; shift < 64; shift += 16) {
    std::fill_n(count, kBins, 0);
    for (std::int64_t i = 0; i < n; ++i) ++count[(data[i] >> shift) & 0xffffu];
    if (count[(data[0] >> shift) & 0xffffu] == n) continue;  // one digit: already in order for this pass
    std::int64_t sum = 0;
    for (std::int64_t b = 0; b < kBins; ++b) {
      const std::int64_t c = count[b];
      count[b] = sum;
      sum += c;
    }
    for (std::int64_t i = 0; i < n; ++i) tmp[count[(data[i] >> shift) & 0xffffu]++] = data[i];
    std::swap(data, tmp);
  }
  return data;
}

}  // namespace

Selection bottomk_magnitude(std::int32_t* out_rows, std::int32_t* out_cols, std::int32_t* out_indices, float* out_scores,
                            const std::int32_t* row_ptr, const std::int32_t* col_idx, const float* values,
                            std::int64_t rows, std::int64_t cols, std::int64_t k) {
  (void)cols;
  const std::int64_t nnz = row_ptr[rows];
  if (k < 0 || k > nnz)
    fail(ErrorCode::Arg, "k: expected at most nnz = " + std::to_string(nnz) + " stored entries, got " + std::to_string(k));
  Selection result;
  if (k == 0) return result;

  // Contiguous ranges, one per slot, in index order.
  constexpr std::int64_t kMinRange = 1 << 15;
  const std::int64_t slots = std::max<std::int64_t>(1, std::min<std::int64_t>(thread_count(), nnz / kMinRange));
  const std::int64_t span = (nnz + slots - 1) / slots;
  auto range_of = [&](std::int64_t s, std::int64_t& lo, std::int64_t& hi) {
    lo = std::min(nnz, s * span);
    hi = std::min(nnz, lo + span);
  };
  Scratch<std::int64_t> hist(Device::Cpu, static_cast<std::size_t>(2 * slots * kBins));  // high, then low halves
  Scratch<std::int64_t> nans(Device::Cpu, static_cast<std::size_t>(slots));
  std::int64_t* high = hist.data();
  std::int64_t* low = hist.data() + slots * kBins;
  std::fill_n(hist.data(), 2 * slots * kBins, 0);

  // 1a. High halves of the keys (and the NaN count).
  parallel_for(0, slots, 1, [&](std::int64_t s0, std::int64_t s1) {
    for (std::int64_t s = s0; s < s1; ++s) {
      std::int64_t lo, hi, nan = 0;
      range_of(s, lo, hi);
      std::int64_t* h = high + s * kBins;
      for (std::int64_t v = lo; v < hi; ++v) {
        const std::uint32_t key = magnitude_key(values[v]);
        if (key > kInfinityKey) ++nan;
        else ++h[key >> 16];
      }
      nans.data()[s] = nan;
    }
  });
  std::int64_t selectable = nnz;
  for (std::int64_t s = 0; s < slots; ++s) {
    result.nan_count += nans.data()[s];
    selectable -= nans.data()[s];
  }
  k = std::min(k, selectable);
  if (k == 0) return result;

  Scratch<std::int64_t> total(Device::Cpu, static_cast<std::size_t>(kBins));
  auto sum_slots = [&](const std::int64_t* per_slot) {
    std::fill_n(total.data(), kBins, 0);
    for (std::int64_t s = 0; s < slots; ++s)
      for (std::int64_t b = 0; b < kBins; ++b) total.data()[b] += per_slot[s * kBins + b];
  };
  sum_slots(high);
  std::int64_t below_high = 0;
  const auto top = static_cast<std::uint32_t>(crossing_bin(total.data(), k, below_high));

  // 1b. Low halves of the keys in the crossing high bin.
  parallel_for(0, slots, 1, [&](std::int64_t s0, std::int64_t s1) {
    for (std::int64_t s = s0; s < s1; ++s) {
      std::int64_t lo, hi;
      range_of(s, lo, hi);
      std::int64_t* h = low + s * kBins;
      for (std::int64_t v = lo; v < hi; ++v) {
        const std::uint32_t key = magnitude_key(values[v]);
        if ((key >> 16) == top) ++h[key & 0xffffu];
      }
    }
  });
  sum_slots(low);
  std::int64_t below_low = 0;
  const auto bottom = static_cast<std::uint32_t>(crossing_bin(total.data(), k - below_high, below_low));
  const std::uint32_t threshold = top << 16 | bottom;
  const std::int64_t below = below_high + below_low;  // entries with key < threshold: all selected
  const std::int64_t ties = k - below;                // entries with key == threshold: the first `ties`

  // 2. Where each range writes: its entries below the threshold, and its share
  // of the ties (the ranges in index order take them first come, first served).
  Scratch<std::int64_t> offsets(Device::Cpu, static_cast<std::size_t>(3 * slots));
  std::int64_t* below_at = offsets.data();
  std::int64_t* tie_at = offsets.data() + slots;
  std::int64_t* tie_take = offsets.data() + 2 * slots;
  std::int64_t next_below = 0, next_tie = below, ties_left = ties;
  for (std::int64_t s = 0; s < slots; ++s) {
    std::int64_t count = 0;
    for (std::uint32_t b = 0; b < top; ++b) count += high[s * kBins + b];
    for (std::uint32_t b = 0; b < bottom; ++b) count += low[s * kBins + b];
    below_at[s] = next_below;
    next_below += count;
    const std::int64_t take = std::min(ties_left, low[s * kBins + bottom]);
    tie_at[s] = next_tie;
    tie_take[s] = take;
    next_tie += take;
    ties_left -= take;
  }

  Scratch<std::uint64_t> records(Device::Cpu, static_cast<std::size_t>(2 * k));
  std::uint64_t* picked = records.data();
  parallel_for(0, slots, 1, [&](std::int64_t s0, std::int64_t s1) {
    for (std::int64_t s = s0; s < s1; ++s) {
      std::int64_t lo, hi;
      range_of(s, lo, hi);
      std::int64_t b_out = below_at[s], t_out = tie_at[s];
      const std::int64_t t_end = t_out + tie_take[s];
      for (std::int64_t v = lo; v < hi; ++v) {
        const std::uint32_t key = magnitude_key(values[v]);
        const std::uint64_t record = static_cast<std::uint64_t>(key) << 32 | static_cast<std::uint32_t>(v);
        if (key < threshold) picked[b_out++] = record;
        else if (key == threshold && t_out < t_end) picked[t_out++] = record;
      }
    }
  });

  // 3. Order by (|value|, index): stable by key over records already in index order.
  std::uint64_t* sorted = sort_by_key(picked, records.data() + k, below, total.data());
  if (sorted != picked) std::copy(sorted, sorted + below, picked);  // the ties (all key == threshold) follow, in index order

  // Each selected entry's row: for a large k, from a table of every stored
  // entry's row written row by row (O(nnz), sequential: a RigL drop of 30% is
  // 3x faster so); for a small one, by a binary search over row_ptr each.
  const bool table = k >= nnz / 16;
  Scratch<std::int32_t> row_of(Device::Cpu, table ? static_cast<std::size_t>(nnz) : 0);
  if (table)
    parallel_for(0, rows, 256, [&](std::int64_t r0, std::int64_t r1) {
      for (std::int64_t r = r0; r < r1; ++r)
        std::fill(row_of.data() + row_ptr[r], row_of.data() + row_ptr[r + 1], static_cast<std::int32_t>(r));
    });
  parallel_for(0, k, 4096, [&](std::int64_t n0, std::int64_t n1) {
    for (std::int64_t n = n0; n < n1; ++n) {
      const auto v = static_cast<std::int32_t>(picked[n] & 0xffffffffu);
      // Otherwise the last r with row_ptr[r] <= v (empty rows skipped).
      out_rows[n] = table ? row_of.data()[v]
                          : static_cast<std::int32_t>((std::upper_bound(row_ptr, row_ptr + rows + 1, v) - row_ptr) - 1);
      out_cols[n] = col_idx[v];
      out_indices[n] = v;
      out_scores[n] = key_value(static_cast<std::uint32_t>(picked[n] >> 32));
    }
  });
  result.count = k;
  return result;
}

}  // namespace dynasparse::cpu
