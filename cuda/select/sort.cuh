// Sorting the selected candidates on the device: at most k + k / 4 records
// (radix.cuh: the surplus of a group taken whole), written by the emit pass
// in whatever order its atomics gave them; the first count are the selection.
//
// The order is total (rk, then hi, then lo: the indices are unique), so the
// sorted result does not depend on the order the records arrived in. A merge
// sort in the merge-path style: each thread first sorts a chunk of kSortChunk
// consecutive records, then runs of kSortChunk, 2 kSortChunk, ... records are
// merged pairwise, ping-ponging between two buffers. In a merge pass every
// thread writes kSortChunk consecutive outputs of one merged pair: a binary
// search along its diagonal finds how many of the first outputs come from
// each run, and a sequential merge of kSortChunk steps writes them. So a pass
// reads and writes every record once, plus one search per chunk (the earlier
// form searched the other run for every record, ~log2(width) scattered reads
// each, which at k = 500k records cost more than the passes over the product).
// No shared memory and no barriers; ceil(log2(n / kSortChunk)) merge passes.
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
// past `limit` (st->emit_count, or a filter pass's capacity), even if the
// selection were inconsistent, but counts every record in st->emitted: the
// host compares it with st->emit_count and reports a mismatch.
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
constexpr int kSortChunk = 8;

// Sorts each chunk of kSortChunk consecutive records of `a` in place (the last
// may be shorter); the records are st->emit_count long. Insertion sort: the
// chunks are tiny.
__global__ void sort_chunks_kernel(Record* a, const State* st) {
  const long long n = st->emit_count;
  const long long chunks = (n + kSortChunk - 1) / kSortChunk;
  const long long stride = static_cast<long long>(gridDim.x) * blockDim.x;
  for (long long c = static_cast<long long>(blockIdx.x) * blockDim.x + threadIdx.x; c < chunks; c += stride) {
    Record* r = a + c * kSortChunk;
    const int len = static_cast<int>(n - c * kSortChunk < kSortChunk ? n - c * kSortChunk : kSortChunk);
    for (int i = 1; i < len; ++i) {
      const Record x = r[i];
      int j = i;
      for (; j > 0 && precedes(x, r[j - 1]); --j) r[j] = r[j - 1];
      r[j] = x;
    }
  }
}

// dst = src with each pair of consecutive sorted runs of `width` records
// merged (width a multiple of kSortChunk, so no chunk of outputs straddles two
// pairs); the records are st->emit_count long.
__global__ void merge_path_kernel(Record* __restrict__ dst, const Record* __restrict__ src, const State* st,
                                  long long width) {
  const long long n = st->emit_count;
  const long long chunks = (n + kSortChunk - 1) / kSortChunk;
  const long long stride = static_cast<long long>(gridDim.x) * blockDim.x;
  for (long long c = static_cast<long long>(blockIdx.x) * blockDim.x + threadIdx.x; c < chunks; c += stride) {
    const long long out = c * kSortChunk;
    const long long start = out / (2 * width) * (2 * width);  // the pair's first record
    const Record* run_a = src + start;
    const long long len_a = n - start < width ? n - start : width;
    const long long len_b = n - start - len_a < width ? n - start - len_a : width;  // 0: no partner
    const Record* run_b = run_a + len_a;
    const long long diag = out - start;  // outputs of this pair before the chunk
    // i = how many of the first `diag` outputs come from run a: the smallest i
    // with b[diag - i - 1] preceding a[i] (the keys are unique).
    long long lo = diag > len_b ? diag - len_b : 0, hi = diag < len_a ? diag : len_a;
    while (lo < hi) {
      const long long mid = lo + (hi - lo) / 2;
      if (precedes(run_b[diag - mid - 1], run_a[mid])) hi = mid;
      else lo = mid + 1;
    }
    long long i = lo, j = diag - lo;
    const long long end = out + kSortChunk < n ? out + kSortChunk : n;
    for (long long o = out; o < end; ++o) {
      const bool take_a = j >= len_b || (i < len_a && precedes(run_a[i], run_b[j]));
      dst[o] = take_a ? run_a[i++] : run_b[j++];
    }
  }
}

// Sorts st->emit_count records of a (n at most) using b as the other buffer;
// returns the buffer that holds the result. The host knows only the bound n,
// so the passes are planned for it (a pass whose runs already cover every
// record copies them through).
inline Record* sort_records(Record* a, Record* b, const State* st, long long n, Stream s) {
  const unsigned blocks = blocks_for((n + kSortChunk - 1) / kSortChunk, kSortThreads);
  launch("sort_chunks_kernel", sort_chunks_kernel, dim3(blocks), dim3(kSortThreads), 0, s, a, st);
  for (long long width = kSortChunk; width < n; width *= 2) {
    launch("merge_path_kernel", merge_path_kernel, dim3(blocks), dim3(kSortThreads), 0, s, b,
           static_cast<const Record*>(a), st, width);
    Record* t = a;
    a = b;
    b = t;
  }
  return a;
}

}  // namespace dynasparse::cuda::select
