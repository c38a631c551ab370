// 2:4 sparse x dense products on the CPU (the CUDA twin is cuda/spmm24.cu).
// spmm_24 is parallel over output rows with the CSR kernel's column tiles
// (cpu/spmm_tile.h); spmm_24_trans gives each thread a slice of output columns
// and scatters A's rows into it in ascending row order. Summation orders: ops/spmm.h.
#include <algorithm>
#include <cstdint>
#include <memory>

#include "dynasparse/cpu_runtime.h"
#include "dynasparse/memory.h"
#include "dynasparse/ops/sparse24.h"
#include "dynasparse/ops/spmm.h"

#include "parallel.h"
#include "simd.h"
#include "spmm_tile.h"

namespace dynasparse::cpu {
namespace {

// Entries of a 2:4 row decoded at once into stack buffers.
constexpr std::int64_t kDecode = 256;

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

// c[0, w) *= alpha
DS_SIMD_CLONES void scale(float* __restrict c, float alpha, std::int64_t w) {
  for (std::int64_t t = 0; t < w; ++t) c[t] = alpha * c[t];
}

// c[0, w) += v * b[0, w)
DS_SIMD_CLONES void axpy(float* __restrict c, const float* __restrict b, float v, std::int64_t w) {
  for (std::int64_t t = 0; t < w; ++t) c[t] = c[t] + v * b[t];
}

}  // namespace

void spmm_24(float* c, std::int64_t ldc, const float* values, const std::int32_t* meta, std::int64_t rows, std::int64_t cols,
             const float* b, std::int64_t ldb, std::int64_t n, float alpha, float beta) {
  if (rows == 0 || n == 0) return;
  const std::int64_t half = cols / 2, words = sparse24_meta_words(cols);
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

void spmm_24_trans(float* c, std::int64_t ldc, const float* values, const std::int32_t* meta, std::int64_t rows,
                   std::int64_t cols, const float* b, std::int64_t ldb, std::int64_t n, float alpha, float beta) {
  if (cols == 0 || n == 0) return;
  const std::int64_t half = cols / 2, words = sparse24_meta_words(cols);
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
