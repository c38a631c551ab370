// 2:4 sparse x dense products on the CPU (the CUDA twin is cuda/spmm24.cu).
// Both are blocked so that what a block reads again stays in cache, using the
// regularity of 2:4: every row holds exactly two entries per group of four
// columns, so a range of columns [p, p + d) is the entries [p / 2, (p + d) / 2)
// of every row, with no search.
//   spmm_24:       a block of rows x a tile of kTile output columns, walking
//                  B's rows in panels of kDepth (the CSR kernel's scheme,
//                  cpu/spmm.cpp): a panel of B is read once for the block.
//   spmm_24_trans: a block of kOutBlock output rows (A's columns) x a tile of
//                  kTile output columns in a local accumulator, A's rows
//                  scattered into it in ascending row order: each row of B is
//                  read once per block and the accumulator stays in cache.
// Summation orders: ops/spmm.h (the blocking does not change them, so the bits
// are those of the plain loops).
#include <algorithm>
#include <cstdint>

#include "dynasparse/cpu_runtime.h"
#include "dynasparse/ops/sparse24.h"
#include "dynasparse/ops/spmm.h"

#include "parallel.h"
#include "simd.h"
#include "spmm_tile.h"

namespace dynasparse::cpu {
namespace {

// spmm_24: rows per block (accumulators: kRowBlock x kTile floats = 32 KiB of
// stack) and B's rows per panel (kDepth x kTile floats = 64 KiB; each row of the
// block adds kDepth / 2 entries per panel). A multiple of 4: panels hold whole groups.
constexpr std::int64_t kRowBlock = 128;
constexpr std::int64_t kDepth = 256;
// spmm_24_trans: output rows per block (kOutBlock x kTile floats = 32 KiB, the
// size of a first-level data cache here; 128 and 256 measured within the noise).
constexpr std::int64_t kOutBlock = 128;
static_assert(kDepth % 4 == 0 && kOutBlock % 4 == 0, "blocks of whole groups of four columns");

// Decodes the entries of groups [g0, g0 + groups) of a 2:4 row (group g's
// slots are entries 2g and 2g + 1) into column indices, a group at a time:
// every caller works on whole groups, so no entry needs its own nibble.
inline void decode_24(std::int32_t* __restrict col, const std::int32_t* __restrict meta_row, std::int64_t g0,
                      std::int64_t groups) {
  for (std::int64_t q = 0; q < groups; ++q) {
    const std::int64_t g = g0 + q;
    const std::uint32_t nibble = sparse24_nibble(meta_row, g);
    col[2 * q] = static_cast<std::int32_t>(4 * g + (nibble & 3u));
    col[2 * q + 1] = static_cast<std::int32_t>(4 * g + (nibble >> 2));
  }
}

// acc[(col[q] - c0) * kTile + t] += vals[q] * b[t] for t < w and q < count, in
// ascending q: one row of B scattered into the accumulator rows of its entries.
// A full tile keeps b's 64 floats in eight vector registers for the whole row.
DS_SIMD_CLONES void scatter_tile(float* __restrict acc, const float* __restrict b, std::int64_t w,
                                 const std::int32_t* __restrict col, std::int64_t c0, const float* __restrict vals,
                                 std::int64_t count) {
  if (w == kTile) {
    const v8 b0 = DS_LOAD8(b), b1 = DS_LOAD8(b + 8), b2 = DS_LOAD8(b + 16), b3 = DS_LOAD8(b + 24);
    const v8 b4 = DS_LOAD8(b + 32), b5 = DS_LOAD8(b + 40), b6 = DS_LOAD8(b + 48), b7 = DS_LOAD8(b + 56);
    for (std::int64_t q = 0; q < count; ++q) {
      const float v = vals[q];
      float* __restrict r = acc + (col[q] - c0) * kTile;
      DS_STORE8(r, DS_LOAD8(r) + v * b0);
      DS_STORE8(r + 8, DS_LOAD8(r + 8) + v * b1);
      DS_STORE8(r + 16, DS_LOAD8(r + 16) + v * b2);
      DS_STORE8(r + 24, DS_LOAD8(r + 24) + v * b3);
      DS_STORE8(r + 32, DS_LOAD8(r + 32) + v * b4);
      DS_STORE8(r + 40, DS_LOAD8(r + 40) + v * b5);
      DS_STORE8(r + 48, DS_LOAD8(r + 48) + v * b6);
      DS_STORE8(r + 56, DS_LOAD8(r + 56) + v * b7);
    }
    return;
  }
  for (std::int64_t q = 0; q < count; ++q) {
    float* __restrict r = acc + (col[q] - c0) * kTile;
    for (std::int64_t t = 0; t < w; ++t) r[t] = r[t] + vals[q] * b[t];
  }
}

// One row's count decoded entries into its tile of sums: accumulate_tile in a
// vector-width clone (accumulate_tile is inlined into its callers, and the
// caller here is a plain lambda).
DS_SIMD_CLONES void accumulate_row_tile(float* __restrict acc, std::int64_t w, const float* __restrict b, std::int64_t ldb,
                                        const std::int32_t* __restrict col, const float* __restrict vals, std::int64_t count) {
  accumulate_tile(acc, w, b, ldb, col, vals, nullptr, count, INT32_MAX);
}

}  // namespace

void spmm_24(float* c, std::int64_t ldc, const float* values, const std::int32_t* meta, std::int64_t rows, std::int64_t cols,
             const float* b, std::int64_t ldb, std::int64_t n, float alpha, float beta) {
  if (rows == 0 || n == 0) return;
  const std::int64_t half = cols / 2, words = sparse24_meta_words(cols);
  const TiledB tiled(b, ldb, cols, n);
  const std::int64_t block =
      std::clamp<std::int64_t>(rows / (4 * static_cast<std::int64_t>(thread_count())), 16, kRowBlock);
  parallel_for(0, rows, block, [&](std::int64_t lo, std::int64_t hi) {
    alignas(64) float acc[kRowBlock * kTile];
    std::int32_t col[kDepth / 2];
    for (std::int64_t i0 = lo; i0 < hi; i0 += block) {
      const std::int64_t nr = std::min(block, hi - i0);
      for (std::int64_t j0 = 0; j0 < n; j0 += kTile) {
        const std::int64_t w = std::min(kTile, n - j0);
        std::fill(acc, acc + nr * kTile, 0.0f);
        // Each row adds its entries panel by panel, so still in ascending order.
        for (std::int64_t p0 = 0; p0 < cols; p0 += kDepth) {
          const std::int64_t e0 = p0 / 2, count = std::min(kDepth, cols - p0) / 2;
          for (std::int64_t r = 0; r < nr; ++r) {
            decode_24(col, meta + (i0 + r) * words, p0 / 4, count / 2);
            accumulate_row_tile(acc + r * kTile, w, tiled.tile(j0), tiled.ld(), col, values + (i0 + r) * half + e0, count);
          }
        }
        for (std::int64_t r = 0; r < nr; ++r) store_tile(c + (i0 + r) * ldc + j0, acc + r * kTile, w, alpha, beta);
      }
    }
  });
}

void spmm_24_trans(float* c, std::int64_t ldc, const float* values, const std::int32_t* meta, std::int64_t rows,
                   std::int64_t cols, const float* b, std::int64_t ldb, std::int64_t n, float alpha, float beta) {
  if (cols == 0 || n == 0) return;
  const std::int64_t half = cols / 2, words = sparse24_meta_words(cols);
  const TiledB tiled(b, ldb, rows, n);
  const std::int64_t slices = (n + kTile - 1) / kTile, blocks = (cols + kOutBlock - 1) / kOutBlock;
  // Each (block, slice) pair has one owner thread: deterministic, no atomics.
  parallel_for(0, blocks * slices, 1, [&](std::int64_t lo, std::int64_t hi) {
    alignas(64) float acc[kOutBlock * kTile];
    std::int32_t col[kOutBlock / 2];
    for (std::int64_t q = lo; q < hi; ++q) {
      const std::int64_t c0 = (q / slices) * kOutBlock, j0 = (q % slices) * kTile;
      const std::int64_t nc = std::min(kOutBlock, cols - c0), w = std::min(kTile, n - j0);
      const std::int64_t e0 = c0 / 2, count = nc / 2;
      const float* bt = tiled.tile(j0);
      std::fill(acc, acc + nc * kTile, 0.0f);
      for (std::int64_t i = 0; i < rows; ++i) {
        decode_24(col, meta + i * words, c0 / 4, count / 2);
        scatter_tile(acc, bt + i * tiled.ld(), w, col, c0, values + i * half + e0, count);
      }
      for (std::int64_t j = 0; j < nc; ++j) store_tile(c + (c0 + j) * ldc + j0, acc + j * kTile, w, alpha, beta);
    }
  });
}

}  // namespace dynasparse::cpu
