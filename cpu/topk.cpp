// topk_growth: the selection over dy · xᵀ, streamed, never materialized, and
// topk_dense: the same selection over a dense matrix the caller holds (SNFS's
// momentum). bottomk_magnitude, a radix selection over stored values, is in
// bottomk.cpp.
//
// Candidates are kept per thread in a buffer of 1.5k entries of 12 bytes: a
// candidate that beats the current k-th best is appended; when the buffer
// fills, keep_best (a radix selection of the k-th score) keeps the best k and
// raises the threshold. This costs O(1) amortized per accepted candidate (a
// binary heap costs O(log k) with scattered accesses, and with k = 1% of the
// candidates the accepted ones are many), and O(k) memory per thread. (Not
// bottomk.cpp's selection: that one runs in parallel over one array with 1 MiB
// of histograms per thread; this one runs inside one thread's scan, on the stack.) The per-thread survivors are merged and
// sorted at the end. The order is total (score, then flat index), so the
// result does not depend on which thread saw which tile.
#include "dynasparse/ops/topk.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>

#include "dynasparse/cpu_runtime.h"
#include "dynasparse/error.h"
#include "dynasparse/memory.h"
#include "parallel.h"

namespace dynasparse::cpu {
namespace {

// Ordered by (score, hi, lo) = (score, row, col), so ties compare as the flat
// index does. 12 bytes, no padding.
struct Candidate {
  float score;
  std::int32_t hi;
  std::int32_t lo;
};

inline bool index_less(const Candidate& a, const Candidate& b) noexcept { return a.hi < b.hi || (a.hi == b.hi && a.lo < b.lo); }

// The order of selection: `better(a, b)` is a strict total order on
// candidates with non-NaN scores, largest score first, then lowest flat index.
// `may_enter(s, bound)` is the cheap pre-check against the current
// threshold's score; it is false for NaN.
struct Largest {
  static bool better(const Candidate& a, const Candidate& b) noexcept {
    return a.score > b.score || (a.score == b.score && index_less(a, b));
  }
  bool operator()(const Candidate& a, const Candidate& b) const noexcept { return better(a, b); }
  static bool may_enter(float s, float bound) noexcept { return s >= bound; }
  static constexpr float kOpen = -std::numeric_limits<float>::infinity();
};

std::uint32_t score_bits(float score) noexcept {
  std::uint32_t bits;
  std::memcpy(&bits, &score, sizeof bits);
  return bits;
}

// The score bits of the k-th largest score of buf[0, n) (1 <= k <= n): three
// histogram passes over 11, 11 and 10 bits, each among the candidates that
// match the digits fixed so far. Scores are non-negative and never NaN (they
// are |products| that passed may_enter), so their bits order as they do.
std::uint32_t kth_largest_bits(const Candidate* buf, std::int64_t n, std::int64_t k) noexcept {
  std::uint32_t prefix = 0, prefix_mask = 0;
  std::int64_t rank = k;  // the rank still to find among the candidates matching prefix
  for (const int shift : {21, 10, 0}) {
    const int width = shift == 0 ? 10 : 11;
    std::int64_t count[2048] = {};
    for (std::int64_t i = 0; i < n; ++i) {
      const std::uint32_t bits = score_bits(buf[i].score);
      if ((bits & prefix_mask) == prefix) ++count[(bits >> shift) & ((1u << width) - 1)];
    }
    std::int64_t digit = (1 << width) - 1;
    for (; count[digit] < rank; --digit) rank -= count[digit];
    prefix |= static_cast<std::uint32_t>(digit) << shift;
    prefix_mask |= ((1u << width) - 1) << shift;
  }
  return prefix;
}

// Moves the best k of buf[0, n) under Largest (1 <= k <= n) to buf[0, k), in no
// particular order, and returns the worst of them. It is the set
// std::nth_element would leave there (the order is total, so the best k are
// unique), found without nth_element's data-dependent branches, which
// mispredict on most comparisons of random scores: the k-th score by a radix
// selection, then one branch-free pass keeps every candidate scoring at least
// it; only when more than one candidate shares that score are those ties
// sorted out by index.
Candidate keep_best(Candidate* buf, std::int64_t n, std::int64_t k) noexcept {
  const std::uint32_t kth = kth_largest_bits(buf, n, k);
  std::int64_t kept = 0, ties = 0;
  for (std::int64_t i = 0; i < n; ++i) {
    const Candidate c = buf[i];
    const std::uint32_t bits = score_bits(c.score);
    buf[kept] = c;  // kept <= i: only already-read slots are overwritten
    kept += bits >= kth;
    ties += bits == kth;
  }
  // kept - ties candidates beat the k-th score; the best k - that of the ties stay.
  const std::int64_t tie_slots = k - (kept - ties);
  if (ties > tie_slots) {
    Candidate* tied = std::partition(buf, buf + kept, [kth](const Candidate& c) { return score_bits(c.score) != kth; });
    std::nth_element(tied, tied + (tie_slots - 1), buf + kept, index_less);
  }
  // The worst kept: the tie with the largest index (index order decides among equal scores).
  Candidate worst{0.0f, -1, -1};
  for (std::int64_t i = 0; i < k; ++i)
    if (score_bits(buf[i].score) == kth && index_less(worst, buf[i])) worst = buf[i];
  return worst;
}

// Slack of k / 2: a shrink (O(1.5k)) every k / 2 accepted candidates.
std::int64_t selector_capacity(std::int64_t k) { return k + std::max<std::int64_t>(1, k / 2); }

// The best k candidates seen so far (under Largest), in a caller-provided
// buffer of selector_capacity(k).
class Selector {
 public:
  Selector(Candidate* buffer, std::int64_t k) : buf_(buffer), k_(k), cap_(selector_capacity(k)) {}

  float bound() const noexcept { return bound_; }

  // Scores that fail Largest::may_enter(score, bound()) need not be offered.
  void offer(float score, std::int32_t hi, std::int32_t lo) noexcept {
    const Candidate c{score, hi, lo};
    if (full_ && !Largest::better(c, threshold_)) return;
    buf_[n_++] = c;
    if (n_ == cap_) shrink();
  }

  std::int64_t size() const noexcept { return n_; }

 private:
  void shrink() noexcept {
    threshold_ = keep_best(buf_, n_, k_);
    n_ = k_;
    bound_ = threshold_.score;
    full_ = true;
  }

  Candidate* buf_;
  std::int64_t k_, cap_;
  std::int64_t n_ = 0;
  bool full_ = false;
  Candidate threshold_{0.0f, 0, 0};
  float bound_ = Largest::kOpen;
};

struct SlotResult {
  std::int64_t kept;
  std::int64_t nan_count;
};

// Sorts n candidates best first (score descending, then flat index) when every
// flat index row * cols + col fits in 32 bits: each becomes the 64-bit key
// (~score bits) << 32 | flat, whose ascending order is that order (scores are
// non-negative and never NaN here), and the keys are radix sorted, 11 bits at
// a time, digits every key shares skipped. For RigL's growth (k a few percent
// of rows x cols, 500k for a 4096 x 4096 layer) that is 5x faster than a
// comparison sort of the 12-byte records. `spare` is the buffer's room past the
// n records (in bytes): the keys are written over the records themselves and
// the second array of the passes needs 4 n bytes more. Returns false (nothing
// done) where the keys or the arrays do not fit.
bool radix_sort_best(Candidate* buf, std::int64_t n, std::int64_t cols, std::int64_t rows, std::int64_t spare) {
  // Keys at bytes [0, 8 n), the radix passes' second array at [8 n, 16 n).
  if (n < 2 || rows * cols > (std::int64_t{1} << 32) || 16 * n > 12 * n + spare) return false;
  auto* bytes = reinterpret_cast<unsigned char*>(buf);
  // Key i is written at byte 8 i, after record i (at 12 i) has been read: in place.
  for (std::int64_t i = 0; i < n; ++i) {
    Candidate c;
    std::memcpy(&c, bytes + 12 * i, sizeof c);
    std::uint32_t score_bits;
    std::memcpy(&score_bits, &c.score, sizeof score_bits);
    const std::uint64_t key = static_cast<std::uint64_t>(~score_bits) << 32 |
                              static_cast<std::uint64_t>(static_cast<std::int64_t>(c.hi) * cols + c.lo);
    std::memcpy(bytes + 8 * i, &key, sizeof key);
  }
  unsigned char* data = bytes;
  unsigned char* tmp = bytes + 8 * n;
  constexpr int kDigitBits = 11;
  constexpr std::uint64_t kMask = (1u << kDigitBits) - 1;
  std::int64_t count[1 << kDigitBits];
  auto key_at = [](const unsigned char* p, std::int64_t i) {
    std::uint64_t key;
    std::memcpy(&key, p + 8 * i, sizeof key);
    return key;
  };
  for (int shift = 0; shift < 64; shift += kDigitBits) {
    std::fill_n(count, 1 << kDigitBits, 0);
    for (std::int64_t i = 0; i < n; ++i) ++count[(key_at(data, i) >> shift) & kMask];
    if (count[(key_at(data, 0) >> shift) & kMask] == n) continue;  // a digit every key shares
    std::int64_t sum = 0;
    for (auto& c : count) {
      const std::int64_t here = c;
      c = sum;
      sum += here;
    }
    for (std::int64_t i = 0; i < n; ++i) {
      const std::uint64_t key = key_at(data, i);
      std::memcpy(tmp + 8 * count[(key >> shift) & kMask]++, &key, sizeof key);
    }
    std::swap(data, tmp);
  }
  if (data != bytes) std::memmove(bytes, data, static_cast<std::size_t>(8 * n));
  // Back to records, from the last one down: record i (bytes [12 i, 12 i + 12))
  // overwrites only keys i and above, already read.
  for (std::int64_t i = n - 1; i >= 0; --i) {
    const std::uint64_t key = key_at(bytes, i);
    const auto flat = static_cast<std::int64_t>(key & 0xffffffffu);
    const auto score_bits = ~static_cast<std::uint32_t>(key >> 32);
    Candidate c;
    std::memcpy(&c.score, &score_bits, sizeof c.score);
    c.hi = static_cast<std::int32_t>(flat / cols);
    c.lo = static_cast<std::int32_t>(flat % cols);
    std::memcpy(bytes + 12 * i, &c, sizeof c);
  }
  return true;
}

// Merges the slots' survivors (slot s holds kept entries at s * cap) into the
// best k, sorted; returns how many there are.
std::int64_t merge_slots(Candidate* buf, const SlotResult* slots, std::int64_t n_slots, std::int64_t cap, std::int64_t k,
                         std::int64_t rows, std::int64_t cols) {
  std::int64_t total = 0;
  for (std::int64_t s = 0; s < n_slots; ++s) {
    if (s * cap != total && slots[s].kept > 0)
      std::memmove(buf + total, buf + s * cap, static_cast<std::size_t>(slots[s].kept) * sizeof(Candidate));
    total += slots[s].kept;
  }
  const std::int64_t count = std::min(k, total);
  if (total > count) keep_best(buf, total, count);
  const std::int64_t spare = (n_slots * cap - count) * static_cast<std::int64_t>(sizeof(Candidate));
  if (!radix_sort_best(buf, count, cols, rows, spare)) std::sort(buf, buf + count, Largest{});
  return count;
}

// ---- the tile product ------------------------------------------------------
//
// C[i, j] = sum_b dy[i, b] * x[j, b] for a tile of kTileRows x kTileCols, in
// batch blocks of kBlockK. A block of x is packed into panels of kNr columns,
// batch-major, so the micro-kernel broadcasts one dy value and multiplies a
// whole panel row: kMr x kNr accumulators stay in registers. Each C[i, j] is
// accumulated sequentially over b (multiply, round, add, round), whatever
// the vector width: bit-identical to a scalar loop.

constexpr std::int64_t kMr = 6;
constexpr std::int64_t kNr = 16;
constexpr std::int64_t kTileRows = 192;  // multiple of kMr; tall, so each packed block of x serves many rows
constexpr std::int64_t kTileCols = 256;  // multiple of kNr
constexpr std::int64_t kBlockK = 128;
constexpr std::int64_t kTileFloats = kTileRows * kTileCols + kTileCols * kBlockK;

typedef float v8f __attribute__((vector_size(32)));

// packed[p][b][c] = x[c0 + p * kNr + c, k0 + b] (0 past the last column).
// Written in order (one 64-byte panel row at a time) from kNr sequential
// read streams.
void pack_x(float* packed, const float* x, std::int64_t c0, std::int64_t ncols, std::int64_t batch, std::int64_t k0,
            std::int64_t kc) {
  const std::int64_t panels = (ncols + kNr - 1) / kNr;
  for (std::int64_t p = 0; p < panels; ++p) {
    float* dst = packed + p * kc * kNr;
    const std::int64_t width = std::min(kNr, ncols - p * kNr);
    const float* src[kNr];
    for (std::int64_t c = 0; c < kNr; ++c) src[c] = x + (c0 + p * kNr + std::min(c, width - 1)) * batch + k0;
    for (std::int64_t b = 0; b < kc; ++b)
      for (std::int64_t c = 0; c < kNr; ++c) dst[b * kNr + c] = src[c][b];
    if (width < kNr)
      for (std::int64_t b = 0; b < kc; ++b) std::fill(dst + b * kNr + width, dst + (b + 1) * kNr, 0.0f);
  }
}

// One batch block of a tile: ctile (kTileRows x kTileCols) = (first ? 0 : ctile)
// + dy rows [r0, r0 + nrows) · packed panels. Rows past nrows repeat the last
// row (their results land in unused tile rows).
__attribute__((always_inline)) inline void tile_block_impl(float* ctile, const float* dy, std::int64_t batch,
                                                           std::int64_t r0, std::int64_t nrows, const float* packed,
                                                           std::int64_t panels, std::int64_t k0, std::int64_t kc,
                                                           bool first) {
  for (std::int64_t p = 0; p < panels; ++p) {
    const float* bp = packed + p * kc * kNr;
    for (std::int64_t rg = 0; rg < nrows; rg += kMr) {
      const float* a[kMr];
      for (std::int64_t r = 0; r < kMr; ++r) a[r] = dy + (r0 + std::min(rg + r, nrows - 1)) * batch + k0;
      float* c = ctile + rg * kTileCols + p * kNr;
      v8f acc[kMr][2];
      for (std::int64_t r = 0; r < kMr; ++r) {
        if (first) {
          acc[r][0] = v8f{};
          acc[r][1] = v8f{};
        } else {
          std::memcpy(&acc[r][0], c + r * kTileCols, sizeof(v8f));
          std::memcpy(&acc[r][1], c + r * kTileCols + 8, sizeof(v8f));
        }
      }
      for (std::int64_t b = 0; b < kc; ++b) {
        v8f b0, b1;
        std::memcpy(&b0, bp + b * kNr, sizeof(v8f));
        std::memcpy(&b1, bp + b * kNr + 8, sizeof(v8f));
        for (std::int64_t r = 0; r < kMr; ++r) {
          const float av = a[r][b];
          acc[r][0] += av * b0;
          acc[r][1] += av * b1;
        }
      }
      for (std::int64_t r = 0; r < kMr; ++r) {
        std::memcpy(c + r * kTileCols, &acc[r][0], sizeof(v8f));
        std::memcpy(c + r * kTileCols + 8, &acc[r][1], sizeof(v8f));
      }
    }
  }
}

using TileBlockFn = void (*)(float*, const float*, std::int64_t, std::int64_t, std::int64_t, const float*, std::int64_t,
                             std::int64_t, std::int64_t, bool);

void tile_block_generic(float* ctile, const float* dy, std::int64_t batch, std::int64_t r0, std::int64_t nrows,
                        const float* packed, std::int64_t panels, std::int64_t k0, std::int64_t kc, bool first) {
  tile_block_impl(ctile, dy, batch, r0, nrows, packed, panels, k0, kc, first);
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
// The same code with 256-bit registers (no FMA: the sums stay bit-identical).
__attribute__((target("avx2"))) void tile_block_avx2(float* ctile, const float* dy, std::int64_t batch,
                                                     std::int64_t r0, std::int64_t nrows, const float* packed,
                                                     std::int64_t panels, std::int64_t k0, std::int64_t kc,
                                                     bool first) {
  tile_block_impl(ctile, dy, batch, r0, nrows, packed, panels, k0, kc, first);
}
#endif

TileBlockFn pick_tile_block() {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
  if (__builtin_cpu_supports("avx2")) return tile_block_avx2;
#endif
  return tile_block_generic;
}

// Offers the tile's entries that are not stored in the pattern. NaN scores
// fail may_enter and are counted on that (rare) path.
// The scores are ctile[r * ld + (j - c0)] for tile row r (pattern row r0 + r)
// and column j.
void scan_tile(Selector& sel, std::int64_t& nan_count, const float* ctile, std::int64_t ld,
               const std::int32_t* row_ptr, const std::int32_t* col_idx, std::int64_t r0, std::int64_t nrows,
               std::int64_t c0, std::int64_t ncols) {
  const std::int64_t c1 = c0 + ncols;
  for (std::int64_t r = 0; r < nrows; ++r) {
    const std::int64_t i = r0 + r;
    const float* crow = ctile + r * ld - c0;  // crow[j] for j in [c0, c1)
    const std::int32_t* stored = std::lower_bound(col_idx + row_ptr[i], col_idx + row_ptr[i + 1], c0);
    const std::int32_t* stored_end = col_idx + row_ptr[i + 1];
    const auto row = static_cast<std::int32_t>(i);
    std::int64_t j = c0;
    while (j < c1) {
      const std::int64_t stop = (stored < stored_end && *stored < c1) ? *stored : c1;
      for (; j < stop; ++j) {
        const float s = std::fabs(crow[j]);
        if (!Largest::may_enter(s, sel.bound())) {
          if (std::isnan(s)) ++nan_count;
          continue;
        }
        sel.offer(s, row, static_cast<std::int32_t>(j));
      }
      if (stop < c1) {
        ++j;  // skip the stored position
        ++stored;
      }
    }
  }
}

// The slots the tiles of a rows x cols matrix are shared among: one per
// thread, never more than there are tiles.
std::int64_t tile_slots(std::int64_t rows, std::int64_t cols) {
  const std::int64_t units = ((rows + kTileRows - 1) / kTileRows) * ((cols + kTileCols - 1) / kTileCols);
  return std::max<std::int64_t>(1, std::min<std::int64_t>(thread_count(), units));
}

// E_ARG unless 0 <= k <= the candidate positions (rows * cols - nnz).
void expect_k(std::int64_t rows, std::int64_t cols, std::int64_t nnz, std::int64_t k) {
  const std::int64_t candidates = rows * cols - nnz;
  if (k < 0 || k > candidates)
    fail(ErrorCode::Arg, "k: expected at most rows * cols - nnz = " + std::to_string(candidates) +
                             " candidate positions, got " + std::to_string(k));
}

// The selection both entry points make: the kTileRows x kTileCols tiles of a
// rows x cols matrix are taken in turn by tile_slots() slots, each run by one
// thread at a time and keeping its Selector across the tiles it takes;
// scan(sel, nan_count, slot, r0, nrows, c0, ncols) offers one tile's
// candidates. The slots' selections are merged and the best k written out.
template <typename Scan>
Selection select_tiles(std::int32_t* out_rows, std::int32_t* out_cols, float* out_scores, std::int64_t rows,
                       std::int64_t cols, std::int64_t k, Scan&& scan) {
  const std::int64_t tile_cols = (cols + kTileCols - 1) / kTileCols;
  const std::int64_t units = ((rows + kTileRows - 1) / kTileRows) * tile_cols;
  const std::int64_t slots = tile_slots(rows, cols);
  const std::int64_t cap = selector_capacity(k);
  // One allocation of each kind per call, sliced per slot.
  Scratch<Candidate> kept(Device::Cpu, static_cast<std::size_t>(slots * cap));
  Scratch<SlotResult> slot_results(Device::Cpu, static_cast<std::size_t>(slots));
  for (std::int64_t s = 0; s < slots; ++s) slot_results.data()[s] = SlotResult{0, 0};

  std::atomic<std::int64_t> next{0};
  parallel_for(0, slots, 1, [&](std::int64_t lo, std::int64_t hi) {
    for (std::int64_t slot = lo; slot < hi; ++slot) {
      Selector sel(kept.data() + slot * cap, k);
      std::int64_t nan_count = 0;
      for (std::int64_t u = next.fetch_add(1); u < units; u = next.fetch_add(1)) {
        const std::int64_t r0 = (u / tile_cols) * kTileRows, c0 = (u % tile_cols) * kTileCols;
        scan(sel, nan_count, slot, r0, std::min(kTileRows, rows - r0), c0, std::min(kTileCols, cols - c0));
      }
      slot_results.data()[slot] = SlotResult{sel.size(), nan_count};
    }
  });

  Selection result;
  for (std::int64_t s = 0; s < slots; ++s) result.nan_count += slot_results.data()[s].nan_count;
  Candidate* best = kept.data();
  result.count = merge_slots(best, slot_results.data(), slots, cap, k, rows, cols);
  for (std::int64_t n = 0; n < result.count; ++n) {
    out_rows[n] = best[n].hi;
    out_cols[n] = best[n].lo;
    out_scores[n] = best[n].score;
  }
  return result;
}

}  // namespace

std::int64_t topk_growth_scratch_bytes(std::int64_t rows, std::int64_t cols, std::int64_t batch, std::int64_t k) {
  if (k == 0) return 0;
  const std::int64_t slots = tile_slots(rows, cols);
  (void)batch;  // the batch is blocked by kBlockK: scratch does not grow with it
  return slots * (kTileFloats * static_cast<std::int64_t>(sizeof(float)) +
                  selector_capacity(k) * static_cast<std::int64_t>(sizeof(Candidate)) +
                  static_cast<std::int64_t>(sizeof(SlotResult)));
}

Selection topk_growth(std::int32_t* out_rows, std::int32_t* out_cols, float* out_scores, const float* dy, const float* x,
                      const std::int32_t* row_ptr, const std::int32_t* col_idx, std::int64_t rows, std::int64_t cols,
                      std::int64_t batch, std::int64_t k) {
  expect_k(rows, cols, row_ptr[rows], k);
  if (k == 0) return Selection{};  // nothing to select: the product is not computed

  // Each slot's product tile and packed x panel, sliced from one allocation.
  Scratch<float> tiles(Device::Cpu, static_cast<std::size_t>(tile_slots(rows, cols) * kTileFloats));
  static const TileBlockFn tile_block = pick_tile_block();
  return select_tiles(out_rows, out_cols, out_scores, rows, cols, k,
                      [&](Selector& sel, std::int64_t& nan_count, std::int64_t slot, std::int64_t r0,
                          std::int64_t nrows, std::int64_t c0, std::int64_t ncols) {
                        float* ctile = tiles.data() + slot * kTileFloats;
                        float* packed = ctile + kTileRows * kTileCols;
                        const std::int64_t panels = (ncols + kNr - 1) / kNr;
                        if (batch == 0) {
                          for (std::int64_t r = 0; r < nrows; ++r) std::fill_n(ctile + r * kTileCols, ncols, 0.0f);
                        }
                        for (std::int64_t k0 = 0; k0 < batch; k0 += kBlockK) {
                          const std::int64_t kc = std::min(kBlockK, batch - k0);
                          pack_x(packed, x, c0, ncols, batch, k0, kc);
                          tile_block(ctile, dy, batch, r0, nrows, packed, panels, k0, kc, k0 == 0);
                        }
                        scan_tile(sel, nan_count, ctile, kTileCols, row_ptr, col_idx, r0, nrows, c0, ncols);
                      });
}

Selection topk_dense(std::int32_t* out_rows, std::int32_t* out_cols, float* out_scores, const float* dense,
                     const std::int32_t* row_ptr, const std::int32_t* col_idx, std::int64_t rows, std::int64_t cols,
                     std::int64_t k) {
  expect_k(rows, cols, row_ptr[rows], k);
  if (k == 0) return Selection{};
  // topk_growth's selection over the same tiles, the scores read instead of computed.
  return select_tiles(out_rows, out_cols, out_scores, rows, cols, k,
                      [&](Selector& sel, std::int64_t& nan_count, std::int64_t, std::int64_t r0,
                          std::int64_t nrows, std::int64_t c0, std::int64_t ncols) {
                        scan_tile(sel, nan_count, dense + r0 * cols + c0, cols, row_ptr, col_idx, r0, nrows, c0, ncols);
                      });
}

}  // namespace dynasparse::cpu
