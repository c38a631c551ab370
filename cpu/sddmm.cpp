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
typedef float v8u __attribute__((vector_size(32), aligned(4), may_alias));
// Macros, not functions: passing 32-byte vectors by value would differ in ABI
// between the baseline and the AVX2 clone (-Wpsabi).
#define DS_LOAD8(p) (*reinterpret_cast<const v8u*>(p))
#define DS_STORE8(p, v) (*reinterpret_cast<v8u*>(p) = (v))

// The lane tree of ops/sddmm.h: for w = 16, 8, 4, 2, 1, lane[l] += lane[l + w]
// (l < w). The first two levels pair whole vectors (lanes 0-7 with 16-23 and
// 8-15 with 24-31, then 0-7 with 8-15): the same pairs as the scalar tree, each
// add rounded alone, so the same bits, in three vector adds instead of 24.
DS_SIMD_CLONES float reduce_lanes(const float* __restrict lane) {
  const v8 half = DS_LOAD8(lane) + DS_LOAD8(lane + 16);
  const v8 rest = DS_LOAD8(lane + 8) + DS_LOAD8(lane + 24);
  alignas(32) float x[8];
  DS_STORE8(x, half + rest);
  for (int w = 4; w >= 1; w /= 2)
    for (int l = 0; l < w; ++l) x[l] = x[l] + x[l + w];
  return x[0];
}

// dot(a, b) over k in the lane order of ops/sddmm.h: 32 independent partial
// sums held in four 8-float vectors (lanes 0-7, 8-15, 16-23, 24-31), enough to
// hide the add latency; the tail t >= 32 * floor(k / 32) goes to lanes 0, 1, ...;
// then the tree (reduce_lanes).
DS_SIMD_CLONES float dot_lanes(const float* __restrict a, const float* __restrict b, std::int64_t k) {
  static_assert(kSddmmLanes == 32, "four vectors of eight lanes");
  v8 s0 = {}, s1 = {}, s2 = {}, s3 = {};
  std::int64_t t = 0;
  for (; t + 32 <= k; t += 32) {
    s0 = s0 + DS_LOAD8(a + t) * DS_LOAD8(b + t);
    s1 = s1 + DS_LOAD8(a + t + 8) * DS_LOAD8(b + t + 8);
    s2 = s2 + DS_LOAD8(a + t + 16) * DS_LOAD8(b + t + 16);
    s3 = s3 + DS_LOAD8(a + t + 24) * DS_LOAD8(b + t + 24);
  }
  alignas(32) float lane[32];
  DS_STORE8(lane, s0), DS_STORE8(lane + 8, s1), DS_STORE8(lane + 16, s2), DS_STORE8(lane + 24, s3);
  for (int l = 0; t < k; ++t, ++l) lane[l] = lane[l] + a[t] * b[t];
  return reduce_lanes(lane);
}

// Two dots with one a: dot_lanes(a, b0, k) and dot_lanes(a, b1, k), each in
// its own 32 lanes (so the same bits as two calls), sharing the loads of a.
// Loads, not arithmetic, bound a dot of two streams (two loads per multiply-
// add pair); sharing a cuts them by a quarter.
DS_SIMD_CLONES void dot_lanes_pair(float* __restrict out0, float* __restrict out1, const float* __restrict a,
                                   const float* __restrict b0, const float* __restrict b1, std::int64_t k) {
  v8 s0 = {}, s1 = {}, s2 = {}, s3 = {};
  v8 u0 = {}, u1 = {}, u2 = {}, u3 = {};
  std::int64_t t = 0;
  for (; t + 32 <= k; t += 32) {
    const v8 a0 = DS_LOAD8(a + t), a1 = DS_LOAD8(a + t + 8), a2 = DS_LOAD8(a + t + 16), a3 = DS_LOAD8(a + t + 24);
    s0 = s0 + a0 * DS_LOAD8(b0 + t);
    u0 = u0 + a0 * DS_LOAD8(b1 + t);
    s1 = s1 + a1 * DS_LOAD8(b0 + t + 8);
    u1 = u1 + a1 * DS_LOAD8(b1 + t + 8);
    s2 = s2 + a2 * DS_LOAD8(b0 + t + 16);
    u2 = u2 + a2 * DS_LOAD8(b1 + t + 16);
    s3 = s3 + a3 * DS_LOAD8(b0 + t + 24);
    u3 = u3 + a3 * DS_LOAD8(b1 + t + 24);
  }
  alignas(32) float lane0[32], lane1[32];
  DS_STORE8(lane0, s0), DS_STORE8(lane0 + 8, s1), DS_STORE8(lane0 + 16, s2), DS_STORE8(lane0 + 24, s3);
  DS_STORE8(lane1, u0), DS_STORE8(lane1 + 8, u1), DS_STORE8(lane1 + 16, u2), DS_STORE8(lane1 + 24, u3);
  for (int l = 0; t < k; ++t, ++l) {
    lane0[l] = lane0[l] + a[t] * b0[t];
    lane1[l] = lane1[l] + a[t] * b1[t];
  }
  *out0 = reduce_lanes(lane0);
  *out1 = reduce_lanes(lane1);
}

// sddmm_trans_b's blocking: pattern rows computed together, and columns (rows of
// B) per panel. Tuned on a [4096, 4096] pattern at 90% sparsity, k = 256 and 1024.
constexpr std::int64_t kRowBlock = 256;
constexpr std::int64_t kDepth = 32;

}  // namespace

void sddmm_trans_b(float* out, const std::int32_t* row_ptr, const std::int32_t* col_idx, std::int64_t rows, const float* a,
                   std::int64_t lda, const float* b, std::int64_t ldb, std::int64_t k) {
  // Blocking for the reuse of B's rows: a block of up to kRowBlock pattern rows
  // walks the columns in panels of kDepth, each row computing its entries that
  // fall in the panel before the next panel is read, so a row of B needed by
  // several rows of the block is read from memory once for all of them (at
  // k = 1024, 90% sparsity, this more than halves the time of the plain row
  // loop). Every entry is still one dot_lanes sum (two at a time share a's
  // loads), so the results are the same.
  const std::int64_t block =
      std::clamp<std::int64_t>(rows / (4 * static_cast<std::int64_t>(thread_count())), 16, kRowBlock);
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
        const std::int64_t limit = (next / kDepth + 1) * kDepth;  // the panel holding `next`
        next = INT64_MAX;
        for (std::int64_t r = 0; r < nr; ++r) {
          const float* ai = a + (i0 + r) * lda;
          std::int32_t e = cursor[r];
          const std::int32_t end = row_ptr[i0 + r + 1];
          for (; e + 1 < end && col_idx[e + 1] < limit; e += 2)
            dot_lanes_pair(out + e, out + e + 1, ai, b + col_idx[e] * ldb, b + col_idx[e + 1] * ldb, k);
          for (; e < end && col_idx[e] < limit; ++e) out[e] = dot_lanes(ai, b + col_idx[e] * ldb, k);
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
