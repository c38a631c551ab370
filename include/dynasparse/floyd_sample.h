// Floyd's sampling of k distinct values in [0, n), shared by the random CSR
// patterns (cpu/csr.cpp) and SET's random growth (growth_sampling.h):
//   for j = n - k .. n - 1: t = draw(j - (n - k), j), uniform in [0, j];
//                           keep t, or j when t is kept already.
// O(k) draws and no n-sized memory in general; the result is a uniform k-subset
// and depends only on the draws, so every caller gets the same values for the
// same draws whatever set structure is used here.
//
// The set of kept values is what costs: a node-based std::unordered_set spent
// ~860 ms on the 1.68M draws of a 4096 x 4096 pattern at 10% density. Here it is
// a bitmap when that is small (n / 8 bytes, no more than the table would take:
// n <= 64 k), read back in ascending order with no sort, and otherwise a flat
// open-addressing table.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

namespace dynasparse {

// out = the k kept values, ascending. draw(i, bound) must return the i-th draw,
// a uniform integer in [0, bound]. The caller checks 0 <= k <= n.
template <typename Draw>
void floyd_sample(std::vector<std::int64_t>& out, std::int64_t n, std::int64_t k, Draw&& draw) {
  out.clear();
  if (k <= 0) return;
  out.reserve(static_cast<std::size_t>(k));
  if (n <= 64 * k) {
    std::vector<std::uint64_t> bits(static_cast<std::size_t>((n + 63) / 64), 0);
    const auto kept = [&](std::int64_t v) { return (bits[static_cast<std::size_t>(v >> 6)] >> (v & 63)) & 1u; };
    for (std::int64_t j = n - k; j < n; ++j) {
      const std::int64_t t = draw(j - (n - k), j);
      const std::int64_t pick = kept(t) ? j : t;
      bits[static_cast<std::size_t>(pick >> 6)] |= std::uint64_t{1} << (pick & 63);
    }
    for (std::size_t w = 0; w < bits.size(); ++w)
      for (std::uint64_t word = bits[w]; word != 0; word &= word - 1)
        out.push_back(static_cast<std::int64_t>(w) * 64 + __builtin_ctzll(word));
    return;
  }
  // Open addressing with linear probing, at most half full; -1 marks a free slot.
  int log2 = 1;
  while ((std::int64_t{1} << log2) < 2 * k) ++log2;
  const std::uint64_t mask = (std::uint64_t{1} << log2) - 1;
  std::vector<std::int64_t> table(static_cast<std::size_t>(mask + 1), -1);
  const auto slot_of = [&](std::int64_t v) {
    std::uint64_t s = (static_cast<std::uint64_t>(v) * 0x9e3779b97f4a7c15ULL) >> (64 - log2);
    while (table[s] != -1 && table[s] != v) s = (s + 1) & mask;
    return s;
  };
  for (std::int64_t j = n - k; j < n; ++j) {
    const std::int64_t t = draw(j - (n - k), j);
    const std::uint64_t s = slot_of(t);
    const std::int64_t pick = table[s] == t ? j : t;
    table[pick == t ? s : slot_of(j)] = pick;
    out.push_back(pick);
  }
  std::sort(out.begin(), out.end());
}

}  // namespace dynasparse
