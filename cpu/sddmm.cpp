// Sampled dense-dense products on the CPU, parallel over the pattern's rows
// (each stored entry has one owner thread and a fixed summation order, see
// ops/sddmm.h, so results are the same bits for any thread count).
#include "dynasparse/ops/sddmm.h"

#include <algorithm>
#include <cstdint>

#include "dynasparse/cpu_runtime.h"
#include "dynasparse/memory.h"
#include "dynasparse/ops/dense.h"

#include "parallel.h"
#include "simd.h"

namespace dynasparse::cpu {
namespace {

typedef float v8 __attribute__((vector_size(32)));
typedef float v4 __attribute__((vector_size(16)));
typedef float v8u __attribute__((vector_size(32), aligned(4), may_alias));
// Macros, not functions: passing 32-byte vectors by value would differ in ABI
// between the baseline and the AVX2 clone (-Wpsabi).
#define DS_LOAD8(p) (*reinterpret_cast<const v8u*>(p))
#define DS_STORE8(p, v) (*reinterpret_cast<v8u*>(p) = (v))

// G dot products that share a: out[g] = dot(a, b[g]) over k, each in the lane
// order of ops/sddmm.h. Entry g's 32 lanes are four 8-float vectors s[g][0..3]
// (lanes 0-7, 8-15, 16-23, 24-31), enough independent sums to hide the add
// latency; the tail t >= 32 * floor(k / 32) goes to lanes 0, 1, ... Sharing a
// matters because loads, not arithmetic, bound these dots: G + 1 loads per G
// multiply-add pairs instead of two.
//
// The lane tree stays in registers. Its first two levels pair whole vectors
// (lanes 0-7 with 16-23 and 8-15 with 24-31, then 0-7 with 8-15); the last
// three (w = 4, 2, 1) pair lanes inside one vector, and shuffles line up the
// same pairs for four entries at once. Each add is rounded alone, as in the
// scalar tree, so the bits are those of ops/sddmm.h's definition.
template <int G>
__attribute__((always_inline)) inline void dot_group(float* __restrict out, const float* __restrict a,
                                                     const float* const* __restrict b, std::int64_t k) {
  static_assert(kSddmmLanes == 32, "four vectors of eight lanes");
  static_assert(G >= 1 && G <= 4, "one shuffle tree reduces up to four entries");
  v8 s[G][4];
#pragma GCC unroll 16
  for (int g = 0; g < G; ++g) s[g][0] = s[g][1] = s[g][2] = s[g][3] = v8{};
  std::int64_t t = 0;
  for (; t + 32 <= k; t += 32) {
#pragma GCC unroll 4
    for (int v = 0; v < 4; ++v) {
      const v8 av = DS_LOAD8(a + t + 8 * v);
#pragma GCC unroll 4
      for (int g = 0; g < G; ++g) s[g][v] = s[g][v] + av * DS_LOAD8(b[g] + t + 8 * v);
    }
  }
  if (t < k) {  // the tail, lane by lane, through memory (only when 32 does not divide k)
    alignas(32) float lane[32];
    for (int g = 0; g < G; ++g) {
      DS_STORE8(lane, s[g][0]), DS_STORE8(lane + 8, s[g][1]), DS_STORE8(lane + 16, s[g][2]), DS_STORE8(lane + 24, s[g][3]);
      for (std::int64_t u = t, l = 0; u < k; ++u, ++l) lane[l] = lane[l] + a[u] * b[g][u];
      s[g][0] = DS_LOAD8(lane), s[g][1] = DS_LOAD8(lane + 8), s[g][2] = DS_LOAD8(lane + 16), s[g][3] = DS_LOAD8(lane + 24);
    }
  }
  v8 x[4];  // levels w = 16 and w = 8: lanes 0-7 of each entry (unused entries: zeros, never stored)
#pragma GCC unroll 4
  for (int g = 0; g < 4; ++g) x[g] = g < G ? (s[g][0] + s[g][2]) + (s[g][1] + s[g][3]) : v8{};
  // w = 4: lanes 0-3 += lanes 4-7, entries 0 and 1 in one vector, 2 and 3 in another.
  const v8 y01 = __builtin_shufflevector(x[0], x[1], 0, 1, 2, 3, 8, 9, 10, 11) +
                 __builtin_shufflevector(x[0], x[1], 4, 5, 6, 7, 12, 13, 14, 15);
  const v8 y23 = __builtin_shufflevector(x[2], x[3], 0, 1, 2, 3, 8, 9, 10, 11) +
                 __builtin_shufflevector(x[2], x[3], 4, 5, 6, 7, 12, 13, 14, 15);
  // w = 2: lanes 0-1 += lanes 2-3, all four entries in one vector.
  const v8 z = __builtin_shufflevector(y01, y23, 0, 1, 4, 5, 8, 9, 12, 13) +
               __builtin_shufflevector(y01, y23, 2, 3, 6, 7, 10, 11, 14, 15);
  // w = 1: lane 0 += lane 1; entry g's sum is r[g].
  const v4 r = __builtin_shufflevector(z, z, 0, 2, 4, 6) + __builtin_shufflevector(z, z, 1, 3, 5, 7);
#pragma GCC unroll 4
  for (int g = 0; g < G; ++g) out[g] = r[g];
}

// out[e], e in [first, stop): the stored entries of one pattern row (a = that
// row of A) whose columns are in the current panel, three at a time: three
// entries' twelve accumulators, A's vector and a product fit AVX2's sixteen
// registers; four spilled two accumulators to the stack and ran 4-6% slower
// (an AVX-512 copy gained nothing at three or four, and six ran a third slower).
DS_SIMD_CLONES void dot_run(float* __restrict out, const float* __restrict a, const float* __restrict b, std::int64_t ldb,
                            const std::int32_t* __restrict col, std::int64_t count, std::int64_t k) {
  std::int64_t e = 0;
  for (; e + 3 <= count; e += 3) {
    const float* rows[3] = {b + col[e] * ldb, b + col[e + 1] * ldb, b + col[e + 2] * ldb};
    dot_group<3>(out + e, a, rows, k);
  }
  const float* rows[2] = {};
  for (std::int64_t g = 0; e + g < count; ++g) rows[g] = b + col[e + g] * ldb;
  switch (count - e) {
    case 2: dot_group<2>(out + e, a, rows, k); break;
    case 1: dot_group<1>(out + e, a, rows, k); break;
    default: break;
  }
}

// sddmm_trans_b's blocking: at most kRowBlock pattern rows computed together,
// over panels of B's rows that fill about kPanelBytes (256 KiB: a quarter of a
// 1 MiB L2, leaving room for the block's rows of A).
constexpr std::int64_t kRowBlock = 256;
constexpr std::int64_t kPanelBytes = 256 * 1024;

// Panel depth (pattern columns per panel): a power of two with depth * k floats
// near kPanelBytes, from 16 to 4096. Tuned on a [4096, 4096] pattern, k = 256
// (where depth 256) and 1024 (depth 64): deeper panels give each row more
// entries per visit (grouped three to a shared load of A's row, see dot_run), and
// at 98% sparsity 32-column panels left a row one entry per visit and ran 2x
// slower; at 50-90% anything from 64 to 512 columns was within the noise.
std::int64_t panel_depth(std::int64_t k) {
  std::int64_t depth = 16;
  while (depth < 4096 && 2 * depth * std::max<std::int64_t>(k, 1) * static_cast<std::int64_t>(sizeof(float)) <= kPanelBytes)
    depth *= 2;
  return depth;
}

}  // namespace

void sddmm_trans_b(float* out, const std::int32_t* row_ptr, const std::int32_t* col_idx, std::int64_t rows, const float* a,
                   std::int64_t lda, const float* b, std::int64_t ldb, std::int64_t k) {
  // Blocking for the reuse of B's rows: a block of up to kRowBlock pattern rows
  // walks the columns in panels (panel_depth), each row computing its entries
  // that fall in the panel before the next panel is read, so a row of B needed
  // by several rows of the block is read from memory once for all of them (at
  // k = 1024, 90% sparsity, this more than halves the time of the plain row
  // loop). Every entry is still its own lane sum and tree (dot_group), so the
  // results are the same in any blocking.
  const std::int64_t block =
      std::clamp<std::int64_t>(rows / (4 * static_cast<std::int64_t>(thread_count())), 16, kRowBlock);
  const std::int64_t depth = panel_depth(k);
  parallel_for(0, rows, block, [&](std::int64_t lo, std::int64_t hi) {
    std::int32_t cursor[kRowBlock];
    for (std::int64_t i0 = lo; i0 < hi; i0 += block) {
      const std::int64_t nr = std::min(block, hi - i0);
      std::int64_t next = INT64_MAX;  // the smallest column of the block not computed yet
      for (std::int64_t r = 0; r < nr; ++r) {
        cursor[r] = row_ptr[i0 + r];
        if (cursor[r] < row_ptr[i0 + r + 1]) next = std::min<std::int64_t>(next, col_idx[cursor[r]]);
      }
      while (next != INT64_MAX) {
        const std::int64_t limit = (next / depth + 1) * depth;  // the panel holding `next`
        next = INT64_MAX;
        for (std::int64_t r = 0; r < nr; ++r) {
          const float* ai = a + (i0 + r) * lda;
          const std::int32_t first = cursor[r], end = row_ptr[i0 + r + 1];
          std::int32_t e = first;
          while (e < end && col_idx[e] < limit) ++e;
          if (e > first) dot_run(out + first, ai, b, ldb, col_idx + first, e - first, k);
          cursor[r] = e;
          if (e < end) next = std::min<std::int64_t>(next, col_idx[e]);
        }
      }
    }
  });
}

void sddmm(float* out, const std::int32_t* row_ptr, const std::int32_t* col_idx, std::int64_t rows, std::int64_t cols,
           const float* a, std::int64_t lda, const float* b, std::int64_t ldb, std::int64_t k) {
  if (rows == 0 || row_ptr[rows] == 0) return;
  if (k == 0) return sddmm_trans_b(out, row_ptr, col_idx, rows, a, lda, b, 0, 0);  // reads neither a nor b
  Scratch<float> bt(Device::Cpu, static_cast<std::size_t>(cols * k));
  transpose(bt.data(), b, k, cols, ldb);
  sddmm_trans_b(out, row_ptr, col_idx, rows, a, lda, bt.data(), k, k);
}

}  // namespace dynasparse::cpu
