// Sparse x dense products on the CPU. Parallel over output rows (each output
// element has one owner thread and a fixed summation order: see ops/spmm.h),
// tiled over the dense columns so a row's accumulator stays in registers/L1
// while the row's stored entries stream B's rows.
#include "dynasparse/ops/spmm.h"

#include <algorithm>
#include <cstdint>
#include <memory>

#include "dynasparse/cpu_runtime.h"
#include "dynasparse/memory.h"
#include "dynasparse/ops/sparse24.h"

#include "parallel.h"
#include "simd.h"

namespace dynasparse::cpu {
namespace {

// Width of one accumulator tile of output columns (64 floats = 8 AVX2 registers).
constexpr std::int64_t kTile = 64;
// spmm_csr's blocking: at most kRowBlock rows of A together (their accumulators
// take kRowBlock x kTile floats = 64 KiB of stack), B's rows in panels of
// kDepth rows, or more for sparser rows (see panel_depth).
// Tuned on a [4096, 4096] A at 90% sparsity with B of 256 and 1024 columns.
constexpr std::int64_t kRowBlock = 256;
constexpr std::int64_t kDepth = 256;

// Panel depth: kDepth, or deeper so that a row adds about 16 entries per panel
// (fewer would spend the time loading and storing accumulators), at most 4096.
std::int64_t panel_depth(std::int64_t mean_entries_per_row, std::int64_t k) {
  std::int64_t depth = kDepth;
  while (depth < 4096 && depth * std::max<std::int64_t>(1, mean_entries_per_row) < 16 * k) depth *= 2;
  return depth;
}
// Entries of a 2:4 row decoded at once into stack buffers.
constexpr std::int64_t kDecode = 256;

// Eight floats as one GCC vector: elementwise multiplies and adds, each
// rounded like the scalar operation; unaligned loads through a may_alias type.
typedef float v8 __attribute__((vector_size(32)));
typedef float v8u __attribute__((vector_size(32), aligned(4), may_alias));

// Macros, not functions: a function passing a 32-byte vector by value would
// have a different ABI in the baseline and the AVX2 clone (-Wpsabi).
#define DS_LOAD8(p) (*reinterpret_cast<const v8u*>(p))
#define DS_STORE8(p, v) (*reinterpret_cast<v8u*>(p) = (v))

// acc[0, w) += sum over entries e in [0, count) of v(e) * b[col[e] * ldb + t], in
// ascending e, where v(e) = vals[perm[e]] with a perm, vals[e] without. A full
// tile keeps its 64 sums in eight vector registers for the whole row.
DS_SIMD_CLONES void accumulate_tile(float* __restrict acc, std::int64_t w, const float* __restrict b, std::int64_t ldb,
                                    const std::int32_t* __restrict col, const float* __restrict vals,
                                    const std::int32_t* __restrict perm, std::int64_t count) {
  if (w == kTile) {
    v8 a0 = DS_LOAD8(acc), a1 = DS_LOAD8(acc + 8), a2 = DS_LOAD8(acc + 16), a3 = DS_LOAD8(acc + 24);
    v8 a4 = DS_LOAD8(acc + 32), a5 = DS_LOAD8(acc + 40), a6 = DS_LOAD8(acc + 48), a7 = DS_LOAD8(acc + 56);
    for (std::int64_t e = 0; e < count; ++e) {
      const float v = perm ? vals[perm[e]] : vals[e];
      const float* __restrict r = b + col[e] * ldb;
      a0 = a0 + v * DS_LOAD8(r);
      a1 = a1 + v * DS_LOAD8(r + 8);
      a2 = a2 + v * DS_LOAD8(r + 16);
      a3 = a3 + v * DS_LOAD8(r + 24);
      a4 = a4 + v * DS_LOAD8(r + 32);
      a5 = a5 + v * DS_LOAD8(r + 40);
      a6 = a6 + v * DS_LOAD8(r + 48);
      a7 = a7 + v * DS_LOAD8(r + 56);
    }
    DS_STORE8(acc, a0), DS_STORE8(acc + 8, a1), DS_STORE8(acc + 16, a2), DS_STORE8(acc + 24, a3);
    DS_STORE8(acc + 32, a4), DS_STORE8(acc + 40, a5), DS_STORE8(acc + 48, a6), DS_STORE8(acc + 56, a7);
    return;
  }
  for (std::int64_t e = 0; e < count; ++e) {
    const float v = perm ? vals[perm[e]] : vals[e];
    const float* __restrict r = b + col[e] * ldb;
    for (std::int64_t t = 0; t < w; ++t) acc[t] = acc[t] + v * r[t];
  }
}

DS_SIMD_CLONES void store_tile(float* __restrict c, const float* __restrict acc, std::int64_t w, float alpha, float beta) {
  if (beta == 0.0f) {
    for (std::int64_t t = 0; t < w; ++t) c[t] = alpha * acc[t];
  } else {
    for (std::int64_t t = 0; t < w; ++t) c[t] = alpha * acc[t] + beta * c[t];
  }
}

// Grain of rows per chunk: about 32K multiply-adds, at least one row.
std::int64_t row_grain(std::int64_t entries_per_row, std::int64_t n) {
  const std::int64_t work = std::max<std::int64_t>(1, entries_per_row) * std::max<std::int64_t>(1, n);
  return std::max<std::int64_t>(1, 32768 / work);
}

// Decodes entries [first, first + count) of a 2:4 row (entry 2g + s is group g's
// slot s) into column indices.
inline void decode_24(std::int32_t* col, const std::int32_t* meta_row, std::int64_t first, std::int64_t count) {
  for (std::int64_t q = 0; q < count; ++q) {
    const std::int64_t e = first + q, g = e >> 1;
    const std::uint32_t nibble = sparse24_nibble(meta_row, g);
    const std::uint32_t pos = (e & 1) ? (nibble >> 2) : (nibble & 3u);
    col[q] = static_cast<std::int32_t>(4 * g + pos);
  }
}

}  // namespace

namespace {

// Copies B's columns into tile-major panels: tile t holds B[0, k) x [t * kTile,
// t * kTile + w) as k rows of kTile floats (the last tile's unused columns are
// left unwritten and never read). Why: with several tiles, a row block walks
// each tile's column slice of B row by row; in B itself those 256-byte pieces
// lie ldb floats apart, so a panel of them touches one page per row (for a 1024
// wide B, 256 pages a panel: more than the first-level TLB holds) and defeats the
// prefetchers. Packed, a panel is one contiguous run of memory. One pass over B,
// O(k x n) scratch the size of B; copying does not change any value.
void pack_tiles(float* packed, const float* b, std::int64_t ldb, std::int64_t k, std::int64_t n) {
  const std::int64_t tiles = (n + kTile - 1) / kTile;
  parallel_for(0, tiles * k, 1024, [&](std::int64_t lo, std::int64_t hi) {
    for (std::int64_t q = lo; q < hi; ++q) {
      const std::int64_t t = q / k, r = q % k, j0 = t * kTile, w = std::min(kTile, n - j0);
      std::copy(b + r * ldb + j0, b + r * ldb + j0 + w, packed + q * kTile);
    }
  });
}

}  // namespace

void spmm_csr(float* c, std::int64_t ldc, const std::int32_t* row_ptr, const std::int32_t* col_idx, const float* values,
              const std::int32_t* perm, std::int64_t rows, std::int64_t k, const float* b, std::int64_t ldb, std::int64_t n,
              float alpha, float beta) {
  if (rows == 0 || n == 0) return;
  const std::int64_t nnz = row_ptr[rows];
  const std::int64_t tiles = (n + kTile - 1) / kTile;
  // With more than one tile of columns, every tile reads A's values and B's
  // column slice again. Two one-pass copies make those reads cheap (neither
  // changes a value, so the sums and their bits are those of the plain loop):
  // B packed tile-major (see pack_tiles), and, for a transposed structure, its
  // values gathered through perm once instead of once per tile at random.
  std::unique_ptr<Scratch<float>> packed, gathered;
  if (tiles > 1 && k > 0) {
    packed = std::make_unique<Scratch<float>>(Device::Cpu, static_cast<std::size_t>(tiles * k * kTile));
    pack_tiles(packed->data(), b, ldb, k, n);
    if (perm != nullptr && nnz > 0) {
      gathered = std::make_unique<Scratch<float>>(Device::Cpu, static_cast<std::size_t>(nnz));
      float* g = gathered->data();
      parallel_for(0, nnz, 65536, [&](std::int64_t lo, std::int64_t hi) {
        for (std::int64_t e = lo; e < hi; ++e) g[e] = values[perm[e]];
      });
      values = g;
      perm = nullptr;
    }
  }
  // Blocking for the reuse of B's rows (a random pattern gives no other reuse):
  // a block of up to kRowBlock rows of A and one tile of kTile columns of B and
  // C are computed together, walking B's rows in panels (kDepth x kTile floats =
  // 64 KiB; deeper for very sparse rows, see panel_depth): each row of the block adds its entries that fall in the
  // panel before the next panel is read, so a B row segment shared by several
  // rows of the block comes from memory once instead of once per row. For a
  // [4096, 1024] B (16 MiB) that halves the time of the plain row loop. Each row
  // still adds its own entries in ascending column order from +0, so the sums
  // (and the bits) are exactly those of the plain loop in any blocking.
  const std::int64_t block =
      std::clamp<std::int64_t>(rows / (4 * static_cast<std::int64_t>(thread_count())), 16, kRowBlock);
  const std::int64_t depth = panel_depth(nnz / rows, k);
  parallel_for(0, rows, block, [&](std::int64_t lo, std::int64_t hi) {
    alignas(64) float acc[kRowBlock * kTile];
    std::int32_t cursor[kRowBlock];
    for (std::int64_t i0 = lo; i0 < hi; i0 += block) {
      const std::int64_t nr = std::min(block, hi - i0);
      for (std::int64_t j0 = 0; j0 < n; j0 += kTile) {
        const std::int64_t w = std::min(kTile, n - j0);
        // This tile's B: a packed panel (row stride kTile) or B itself.
        const float* bt = packed ? packed->data() + (j0 / kTile) * k * kTile : b + j0;
        const std::int64_t ldt = packed ? kTile : ldb;
        std::fill(acc, acc + nr * kTile, 0.0f);
        std::int64_t next = INT64_MAX;  // the smallest column any row of the block has not added yet
        for (std::int64_t r = 0; r < nr; ++r) {
          cursor[r] = row_ptr[i0 + r];
          if (cursor[r] < row_ptr[i0 + r + 1]) next = std::min<std::int64_t>(next, col_idx[cursor[r]]);
        }
        while (next != INT64_MAX) {
          const std::int64_t limit = (next / depth + 1) * depth;  // the panel holding `next`
          next = INT64_MAX;
          for (std::int64_t r = 0; r < nr; ++r) {
            const std::int32_t e = cursor[r], end = row_ptr[i0 + r + 1];
            std::int32_t stop = e;
            while (stop < end && col_idx[stop] < limit) ++stop;
            if (stop > e)
              accumulate_tile(acc + r * kTile, w, bt, ldt, col_idx + e, perm ? values : values + e, perm ? perm + e : nullptr,
                              stop - e);
            cursor[r] = stop;
            if (stop < end) next = std::min<std::int64_t>(next, col_idx[stop]);
          }
        }
        for (std::int64_t r = 0; r < nr; ++r) store_tile(c + (i0 + r) * ldc + j0, acc + r * kTile, w, alpha, beta);
      }
    }
  });
}

void spmm_24(float* c, std::int64_t ldc, const float* values, const std::int32_t* meta, std::int64_t rows, std::int64_t cols,
             const float* b, std::int64_t ldb, std::int64_t n, float alpha, float beta) {
  if (rows == 0 || n == 0) return;
  const std::int64_t half = cols / 2, words = (cols / 4 + 7) / 8;
  parallel_for(0, rows, row_grain(half, n), [&](std::int64_t lo, std::int64_t hi) {
    alignas(64) float acc[kTile];
    std::int32_t col[kDecode];
    for (std::int64_t i = lo; i < hi; ++i) {
      const float* vals = values + i * half;
      const std::int32_t* meta_row = meta + i * words;
      for (std::int64_t j0 = 0; j0 < n; j0 += kTile) {
        const std::int64_t w = std::min(kTile, n - j0);
        std::fill(acc, acc + w, 0.0f);
        for (std::int64_t e0 = 0; e0 < half; e0 += kDecode) {
          const std::int64_t count = std::min(kDecode, half - e0);
          decode_24(col, meta_row, e0, count);
          accumulate_tile(acc, w, b + j0, ldb, col, vals + e0, nullptr, count);
        }
        store_tile(c + i * ldc + j0, acc, w, alpha, beta);
      }
    }
  });
}

namespace {

// c[0, w) *= alpha
DS_SIMD_CLONES void scale(float* __restrict c, float alpha, std::int64_t w) {
  for (std::int64_t t = 0; t < w; ++t) c[t] = alpha * c[t];
}

// c[0, w) += v * b[0, w)
DS_SIMD_CLONES void axpy(float* __restrict c, const float* __restrict b, float v, std::int64_t w) {
  for (std::int64_t t = 0; t < w; ++t) c[t] = c[t] + v * b[t];
}

}  // namespace

void spmm_24_trans(float* c, std::int64_t ldc, const float* values, const std::int32_t* meta, std::int64_t rows,
                   std::int64_t cols, const float* b, std::int64_t ldb, std::int64_t n, float alpha, float beta) {
  if (cols == 0 || n == 0) return;
  const std::int64_t half = cols / 2, words = (cols / 4 + 7) / 8;
  // The unscaled sums go to C itself when beta == 0, else to a scratch copy of
  // C's shape (the old C is needed for beta * C).
  std::unique_ptr<Scratch<float>> scratch;
  float* acc = c;
  std::int64_t lda = ldc;
  if (beta != 0.0f) {
    scratch = std::make_unique<Scratch<float>>(Device::Cpu, static_cast<std::size_t>(cols * n));
    acc = scratch->data();
    lda = n;
  }
  // Slices of kTile output columns, one owner thread each.
  const std::int64_t slices = (n + kTile - 1) / kTile;
  parallel_for(0, slices, 1, [&](std::int64_t lo, std::int64_t hi) {
    std::int32_t col[kDecode];
    for (std::int64_t s = lo; s < hi; ++s) {
      const std::int64_t j0 = s * kTile, w = std::min(kTile, n - j0);
      for (std::int64_t j = 0; j < cols; ++j) std::fill(acc + j * lda + j0, acc + j * lda + j0 + w, 0.0f);
      for (std::int64_t i = 0; i < rows; ++i) {
        const float* vals = values + i * half;
        const float* bi = b + i * ldb + j0;
        for (std::int64_t e0 = 0; e0 < half; e0 += kDecode) {
          const std::int64_t count = std::min(kDecode, half - e0);
          decode_24(col, meta + i * words, e0, count);
          for (std::int64_t q = 0; q < count; ++q) axpy(acc + col[q] * lda + j0, bi, vals[e0 + q], w);
        }
      }
      for (std::int64_t j = 0; j < cols; ++j) {
        if (beta == 0.0f) scale(c + j * ldc + j0, alpha, w);
        else store_tile(c + j * ldc + j0, acc + j * lda + j0, w, alpha, beta);
      }
    }
  });
}

}  // namespace dynasparse::cpu
