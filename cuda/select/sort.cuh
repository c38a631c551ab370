// Sorting the selected candidates on the device: at most k + k / 4 records
// (radix.cuh: the surplus of a group taken whole), written by the emit pass
// in whatever order its atomics gave them; the first count are the selection.
//
// The order is total (rk, then hi, then lo: the indices are unique), so a
// record's place in the merge of two sorted runs is its place in its own run
// plus the number of records of the other run that precede it, found by a
// binary search: every record moves independently, with no shared state.
// Runs of 1, 2, 4, ... records are merged pairwise, ping-ponging between two
// buffers, in ceil(log2 k) passes of O(n log n) work each; k is the largest
// selection (1% of the candidates in RigL's use), so this stays a small part
// of the selection's time next to the tile products.
#pragma once

#include <cstdint>

#include "../launch.cuh"
#include "radix.cuh"

namespace dynasparse::cuda::select {

// A selected candidate: its rank key and index, the index as (hi, lo) =
// (row, col) for topk_growth and (0, value index) for bottomk_magnitude, so
// comparing (hi, lo) compares flat indices. 12 bytes.
struct Record {
  unsigned int rk;
  std::int32_t hi;
  std::int32_t lo;
};

__device__ __forceinline__ bool precedes(const Record& a, const Record& b) {
  return a.rk < b.rk || (a.rk == b.rk && (a.hi < b.hi || (a.hi == b.hi && a.lo < b.lo)));
}

// The emit passes' write: the warp's selected records go to consecutive slots
// of `out`, reserved with one atomic per warp (a single counter serves the
// whole grid, so per-thread atomics would queue on it). Every lane of the warp
// must call it (the callers' loops are uniform over the warp). Never writes
// past `limit` (st->emit_count), even if the selection were inconsistent: the
// host compares st->emitted with st->emit_count and reports a mismatch.
__device__ __forceinline__ void emit_warp(bool take, const Record& r, State* st, Record* out, long long limit) {
  const unsigned int ballot = __ballot_sync(0xffffffffu, take);
  if (ballot == 0u) return;
  const int lane = static_cast<int>(threadIdx.x) % 32, leader = __ffs(static_cast<int>(ballot)) - 1;
  unsigned long long base = 0;
  if (lane == leader) base = atomicAdd(&st->emitted, static_cast<unsigned long long>(__popc(ballot)));
  base = __shfl_sync(0xffffffffu, base, leader);
  if (!take) return;
  const unsigned long long at = base + static_cast<unsigned long long>(__popc(ballot & ((1u << lane) - 1u)));
  if (at < static_cast<unsigned long long>(limit)) out[at] = r;
}

constexpr int kSortThreads = 256;

// dst = src with each pair of consecutive runs of `width` records merged; the
// records are st->emit_count long.
__global__ void merge_pass_kernel(Record* __restrict__ dst, const Record* __restrict__ src, const State* st,
                                  long long width) {
  const long long n = st->emit_count;
  const long long stride = static_cast<long long>(gridDim.x) * blockDim.x;
  for (long long i = static_cast<long long>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride) {
    const long long run = i / width, start = run * width;
    const long long other = (run ^ 1) * width;
    const Record r = src[i];
    if (other >= n) {  // the last run has no partner yet
      dst[i] = r;
      continue;
    }
    const long long other_end = other + width < n ? other + width : n;
    long long lo = other, hi = other_end;  // the first record of the other run that r precedes
    while (lo < hi) {
      const long long mid = lo + (hi - lo) / 2;
      if (precedes(src[mid], r)) lo = mid + 1;
      else hi = mid;
    }
    const long long base = start < other ? start : other;
    dst[base + (i - start) + (lo - other)] = r;
  }
}

// Sorts st->emit_count records of a (n at most) using b as the other buffer;
// returns the buffer that holds the result.
inline Record* sort_records(Record* a, Record* b, const State* st, long long n, Stream s) {
  const unsigned blocks = blocks_for(n, kSortThreads);
  for (long long width = 1; width < n; width *= 2) {
    launch("merge_pass_kernel", merge_pass_kernel, dim3(blocks), dim3(kSortThreads), 0, s, b,
           static_cast<const Record*>(a), st, width);
    Record* t = a;
    a = b;
    b = t;
  }
  return a;
}

}  // namespace dynasparse::cuda::select
