// Radix selection without storing the scored items: the k smallest of a set of
// candidates that a "pass" kernel regenerates each time it runs (the tiles of
// dy · xᵀ for topk_growth, the stored values for bottomk_magnitude).
//
// Every candidate has a 32-bit rank key `rk` and a unique index `idx` (the
// flat index row * cols + col, or the index into values). Selection is of the
// k smallest pairs (rk, idx) in lexicographic order, which is the library's
// rule once rk is chosen so that "smaller is better": rk = ~bits(|v|) for the
// largest scores, rk = bits(|v|) for the smallest (the bits of a non-negative,
// non-NaN float are monotone as an unsigned integer); ties in rk go to the
// lower index. NaN is never a candidate: a pass counts it instead.
//
// The pair's bits are refined from the top, one digit per pass: a pass builds
// a histogram of the next digit over the candidates of the current group (the
// candidates whose known high bits equal the prefix found so far), and
// choose_kernel finds the bin holding the `remaining`-th candidate, narrowing
// the group to that bin. Three passes (11 + 11 + 10 bits) determine rk; if the
// group of candidates with exactly that rk is larger than what is still to be
// taken (a tie), more passes refine the index, 11 bits at a time. As soon as a
// group is taken whole (its size equals `remaining`) the selection is done and
// the later passes return at once (the flag is read on the device, so the host
// enqueues the whole sequence without waiting). The final emit pass writes
// every candidate whose masked (rk, idx) is <= the prefix.
//
// A group need not be narrowed down to exactly what is left to take: when it
// exceeds that by at most `surplus` candidates (the callers allow k / 4), it
// is taken whole, and the sort that follows puts the selection first. With
// random scores the group left after the second pass (22 bits of rk) holds a
// few candidates, so a typical selection is two histogram passes and the
// emit pass instead of three and the emit; and a large tie is resolved by the
// sort instead of index passes when it fits. `emit_count` (count plus the
// surplus taken) is what the emit pass writes.
//
// Scratch: one State and a histogram of kBins counters, whatever the sizes.
#pragma once

#include <cstdint>
#include <vector>

#include "../launch.cuh"

namespace dynasparse::cuda::select {

constexpr int kDigitBits = 11;
constexpr int kBins = 1 << kDigitBits;

// A NaN's |v| bits are above +Inf's.
constexpr unsigned int kInfBits = 0x7f800000u;

// The selection's state, in device memory. Written by init_kernel and
// choose_kernel (one thread each), read by the passes.
struct State {
  unsigned int key_prefix;        // known high bits of the last selected rk (under key_mask)
  unsigned int key_mask;
  unsigned long long idx_prefix;  // known high bits of its index (under idx_mask)
  unsigned long long idx_mask;
  long long remaining;            // candidates still to take from the current group
  long long count;                // min(k, candidates that are not NaN): the selection's size
  long long emit_count;           // count + the surplus of a group taken whole (set with done)
  unsigned long long nan_count;   // NaN candidates (counted by the first pass)
  unsigned long long emitted;     // candidates the emit pass wrote (== emit_count when all is well)
  unsigned long long filter_nan;      // a filter pass's count of NaN candidates (see filter_check_kernel)
  unsigned long long filter_not_nan;  // and of the others
  int done;                       // 1: the current group is taken whole; later passes do nothing
  int prefiltered;                // 1: a filter pass emitted the selection (then done is 1 and the
                                  // exact passes, the emit pass included, do nothing)
};

// One pass's digit: bits [shift, shift + bits) of rk (on_index == 0) or idx.
struct Digit {
  int on_index;
  int shift;
  int bits;
  int first;  // the first pass: counts NaN, and choose_kernel sets count
};

// The passes for candidates whose indices are below 2^index_bits: three on
// rk, then as many on the index as its bits need (0 when there is a single
// candidate position).
inline std::vector<Digit> digit_plan(int index_bits) {
  std::vector<Digit> plan{{0, 21, 11, 1}, {0, 10, 11, 0}, {0, 0, 10, 0}};
  for (int top = index_bits; top > 0; top -= kDigitBits) {
    const int shift = top > kDigitBits ? top - kDigitBits : 0;
    plan.push_back(Digit{1, shift, top - shift, 0});
  }
  return plan;
}

// Bits needed for indices 0 .. max_index.
inline int bits_for(std::uint64_t max_index) {
  int bits = 0;
  while (bits < 64 && (max_index >> bits) != 0) ++bits;
  return bits;
}

// What a pass reads of the state, once, at its start.
struct Filter {
  unsigned int key_prefix, key_mask;
  unsigned long long idx_prefix, idx_mask;
  long long emit_count;
  int done;
  int prefiltered;
};

__device__ __forceinline__ Filter load_filter(const State* st) {
  return Filter{st->key_prefix, st->key_mask, st->idx_prefix, st->idx_mask, st->emit_count, st->done, st->prefiltered};
}

// Whether (rk, idx) is in the group the current pass refines.
__device__ __forceinline__ bool in_group(const Filter& f, unsigned int rk, unsigned long long idx) {
  return (rk & f.key_mask) == f.key_prefix && (idx & f.idx_mask) == f.idx_prefix;
}

// Whether the emit pass takes (rk, idx): its known bits are <= the prefix. The
// masks cover high bits only, so comparing masked values is comparing pairs
// lexicographically on the known bits (idx_mask is nonzero only once all of
// rk is known; while it is 0 the whole rk group is taken).
__device__ __forceinline__ bool selected(const Filter& f, unsigned int rk, unsigned long long idx) {
  const unsigned int known = rk & f.key_mask;
  if (known != f.key_prefix) return known < f.key_prefix;
  return (idx & f.idx_mask) <= f.idx_prefix;
}

// The candidate's bin in this pass's histogram (it must be in the group).
__device__ __forceinline__ unsigned int digit_of(const Digit& d, unsigned int rk, unsigned long long idx) {
  const unsigned long long field = d.on_index ? idx : static_cast<unsigned long long>(rk);
  return static_cast<unsigned int>((field >> d.shift) & ((1ull << d.bits) - 1ull));
}

// A block's histogram in shared memory (kBins counters) and NaN counter
// (entry kBins): zeroed before use, added to the global histogram after.
// Counts per block stay far below 2^32 (a block sees at most 2^30 candidates,
// see the callers' grids).
template <typename Shared>
__device__ void block_histogram_clear(Shared hist, const Digit& d) {
  for (int b = static_cast<int>(threadIdx.x); b < (1 << d.bits); b += static_cast<int>(blockDim.x)) hist[b] = 0u;
  if (threadIdx.x == 0) hist[kBins] = 0u;
}

// Call after a __syncthreads that follows the block's last atomicAdd.
template <typename Shared>
__device__ void block_histogram_flush(Shared hist, const Digit& d, unsigned long long* global_hist, State* st) {
  for (int b = static_cast<int>(threadIdx.x); b < (1 << d.bits); b += static_cast<int>(blockDim.x)) {
    const unsigned int v = hist[b];
    if (v != 0u) atomicAdd(global_hist + b, static_cast<unsigned long long>(v));
  }
  if (threadIdx.x == 0 && d.first) {
    const unsigned int nans = hist[kBins];
    if (nans != 0u) atomicAdd(&st->nan_count, static_cast<unsigned long long>(nans));
  }
}

// One candidate (its |v| bits `key`, its rk and idx) offered to a histogram pass.
template <typename Shared>
__device__ __forceinline__ void histogram_offer(Shared hist, const Filter& f, const Digit& d, unsigned int key,
                                                unsigned int rk, unsigned long long idx) {
  if (key > kInfBits) {
    if (d.first) atomicAdd(hist + kBins, 1u);
    return;
  }
  if (in_group(f, rk, idx)) atomicAdd(hist + digit_of(d, rk, idx), 1u);
}

__global__ void init_kernel(State* st, unsigned long long* hist) {
  for (int b = static_cast<int>(threadIdx.x); b < kBins; b += static_cast<int>(blockDim.x)) hist[b] = 0ull;
  if (threadIdx.x == 0) *st = State{};
}

constexpr int kChooseThreads = 256;
constexpr int kChooseWarps = kChooseThreads / 32;

// One block: the bin of the `remaining`-th candidate of the group (bins in
// ascending order, so the smallest pairs are taken first), then the narrowed
// group becomes the state, taken whole when it exceeds what is left by at
// most `surplus`; the histogram is cleared for the next pass. Each thread owns
// a contiguous run of bins; a block scan of the runs' sums finds the run, and
// its thread walks it.
__global__ void __launch_bounds__(kChooseThreads) choose_kernel(State* st, unsigned long long* hist, Digit d,
                                                                long long k, long long surplus) {
  DS_DYNAMIC_SHARED(unsigned long long, sums);  // one per warp
  if (st->done) return;  // uniform: the pass did not run and the histogram is still zero
  long long remaining = st->remaining;
  long long count = st->count;
  const int bins = 1 << d.bits;
  const int per = (bins + kChooseThreads - 1) / kChooseThreads;
  const int b0 = static_cast<int>(threadIdx.x) * per;
  const int b1 = b0 + per < bins ? b0 + per : bins;
  unsigned long long run = 0;
  for (int b = b0; b < b1; ++b) run += hist[b];

  // Exclusive scan of the runs over the block (warp shuffles, then the warps' sums).
  const int lane = static_cast<int>(threadIdx.x) % 32, warp = static_cast<int>(threadIdx.x) / 32;
  unsigned long long inclusive = run;
  for (int offset = 1; offset < 32; offset *= 2) {
    const unsigned long long up = __shfl_up_sync(0xffffffffu, inclusive, offset);
    if (lane >= offset) inclusive += up;
  }
  if (lane == 31) sums[warp] = inclusive;
  __syncthreads();
  unsigned long long before = 0, total = 0;
  for (int w = 0; w < kChooseWarps; ++w) {
    const unsigned long long s = sums[w];
    if (w < warp) before += s;
    total += s;
  }
  before += inclusive - run;

  bool finished = false;
  if (d.first) {
    // The group is every candidate that is not NaN.
    count = static_cast<long long>(total) < k ? static_cast<long long>(total) : k;
    remaining = count;
    // Nothing (then total is 0 too), or everything but at most the surplus.
    finished = static_cast<long long>(total) - count <= surplus;
    if (threadIdx.x == 0) {
      st->count = count;
      // Otherwise the thread that finds the bin writes remaining, done and
      // emit_count (one writer per field, whatever order the threads run in).
      if (finished) {
        st->remaining = count;
        st->emit_count = static_cast<long long>(total);
        st->done = 1;
      }
    }
  }
  const unsigned long long want = static_cast<unsigned long long>(remaining);
  if (!finished && before < want && want <= before + run) {
    unsigned long long above = before;
    int b = b0;
    while (above + hist[b] < want) above += hist[b++];
    const unsigned long long group = hist[b];
    const long long left = remaining - static_cast<long long>(above);
    const unsigned long long digit_mask = ((1ull << d.bits) - 1ull) << d.shift;
    if (d.on_index) {
      st->idx_prefix |= static_cast<unsigned long long>(b) << d.shift;
      st->idx_mask |= digit_mask;
    } else {
      st->key_prefix |= static_cast<unsigned int>(b) << d.shift;
      st->key_mask |= static_cast<unsigned int>(digit_mask);
    }
    st->remaining = left;
    // emit_count never exceeds k + surplus, the capacity of the callers'
    // record buffers (here count <= k; above, total - count <= surplus).
    const long long extra = static_cast<long long>(group) - left;
    if (extra <= surplus) {
      st->emit_count = count + extra;
      st->done = 1;
    }
  }
  __syncthreads();  // every read of the histogram above happens before it is cleared
  for (int b = b0; b < b1; ++b) hist[b] = 0ull;
}

// After a filter pass (a pass that emitted every candidate whose known bits
// are <= the prefix a sampled selection found, into `capacity` records, see
// cuda/topk.cu): the emitted candidates form a set closed under "better than"
// (the masks cover high bits of rk only), so when there are at least count =
// min(k, candidates that are not NaN, as the filter pass counted them) of
// them and they all fit, they hold the selection and the sort finishes it;
// the state says so and the exact passes do nothing. Otherwise the state is
// reset, and the exact passes run as if the filter had not (the histogram is
// zero: every choose_kernel clears it). One thread.
__global__ void filter_check_kernel(State* st, long long k, long long capacity) {
  const auto not_nan = static_cast<long long>(st->filter_not_nan);
  const long long count = not_nan < k ? not_nan : k;
  const unsigned long long got = st->emitted;
  if (got <= static_cast<unsigned long long>(capacity) && got >= static_cast<unsigned long long>(count)) {
    st->count = count;
    st->remaining = 0;
    st->nan_count = st->filter_nan;
    st->emit_count = static_cast<long long>(got);
    st->done = 1;
    st->prefiltered = 1;
  } else {
    *st = State{};  // as init_kernel leaves it
  }
}

}  // namespace dynasparse::cuda::select
