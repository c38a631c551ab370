// SET's random growth draws, shared by both backends: k distinct ranks among
// n_free free positions, uniformly, by Floyd's sampling keyed by (seed, nonce)
// with the counter-based generator (stream kStreamGrowth). It is sequential
// (each draw depends on the set so far) and O(k), so it runs on the host for
// the CUDA backend too; only the rank -> position search, which needs the
// pattern, differs between them. One definition keeps the two draw for draw equal.
#pragma once

#include <cstdint>
#include <vector>

#include "dynasparse/floyd_sample.h"
#include "dynasparse/philox.h"

namespace dynasparse::growth {

inline std::uint64_t splitmix64(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// A uniform integer in [0, bound] from 64 counter-based bits (bias < bound / 2^64).
inline std::int64_t uniform_index(std::uint64_t key, std::uint64_t counter, std::int64_t bound) {
  const rng::Bits128 r = rng::philox4x32_10(key, counter, rng::kStreamGrowth);
  const std::uint64_t bits = (static_cast<std::uint64_t>(r.v[0]) << 32) | r.v[1];
  return static_cast<std::int64_t>(bits % static_cast<std::uint64_t>(bound + 1));
}

// k distinct ranks in [0, n_free), sorted ascending. The caller checks 0 <= k <= n_free.
inline std::vector<std::int64_t> floyd_ranks(std::int64_t n_free, std::int64_t k, std::uint64_t seed, std::uint64_t nonce) {
  const std::uint64_t key = splitmix64(seed ^ splitmix64(nonce));
  std::vector<std::int64_t> ranks;
  floyd_sample(ranks, n_free, k,
               [&](std::int64_t i, std::int64_t bound) { return uniform_index(key, static_cast<std::uint64_t>(i), bound); });
  return ranks;
}

}  // namespace dynasparse::growth
