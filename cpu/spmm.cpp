// CSR sparse x dense products on the CPU (2:4: cpu/spmm24.cpp; the CUDA twin is
// cuda/spmm.cu). Parallel over output rows (each output
// element has one owner thread and a fixed summation order: see ops/spmm.h),
// tiled over the dense columns so a row's accumulator stays in registers/L1
// while the row's stored entries stream B's rows.
#include "dynasparse/ops/spmm.h"

#include <algorithm>
#include <cstdint>
#include <memory>

#include "dynasparse/cpu_runtime.h"
#include "dynasparse/memory.h"

#include "parallel.h"
#include "simd.h"
#include "spmm_tile.h"

namespace dynasparse::cpu {
namespace {

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

// One block of nr rows of A times one tile of w columns of B (bt, row stride
// ldt), into C's block c: each row's sums over the tile in acc (nr x kTile),
// walking B's rows panel by panel (see spmm_csr). A vector-width clone itself,
// so accumulate_tile inlines into it rather than being called once per row and
// panel.
DS_SIMD_CLONES void multiply_block_tile(float* __restrict c, std::int64_t ldc, const std::int32_t* __restrict row_ptr,
                                        const std::int32_t* __restrict col_idx, const float* __restrict values,
                                        const std::int32_t* __restrict perm, std::int64_t nr, const float* __restrict bt,
                                        std::int64_t ldt, std::int64_t w, std::int64_t depth, float alpha, float beta,
                                        float* __restrict acc, std::int32_t* __restrict cursor) {
  std::fill(acc, acc + nr * kTile, 0.0f);
  std::int64_t next = INT64_MAX;  // the smallest column any row of the block has not added yet
  for (std::int64_t r = 0; r < nr; ++r) {
    cursor[r] = row_ptr[r];
    if (cursor[r] < row_ptr[r + 1]) next = std::min<std::int64_t>(next, col_idx[cursor[r]]);
  }
  while (next != INT64_MAX) {
    const std::int64_t limit = (next / depth + 1) * depth;  // the panel holding `next`
    const auto panel_end = static_cast<std::int32_t>(std::min<std::int64_t>(limit, INT32_MAX));  // columns are int32
    next = INT64_MAX;
    for (std::int64_t r = 0; r < nr; ++r) {
      const std::int32_t e = cursor[r], end = row_ptr[r + 1];
      if (e == end || col_idx[e] >= limit) {  // nothing in this panel
        if (e < end) next = std::min<std::int64_t>(next, col_idx[e]);
        continue;
      }
      const std::int32_t stop =
          e + static_cast<std::int32_t>(accumulate_tile(acc + r * kTile, w, bt, ldt, col_idx + e, perm ? values : values + e,
                                                        perm ? perm + e : nullptr, end - e, panel_end));
      cursor[r] = stop;
      if (stop < end) next = std::min<std::int64_t>(next, col_idx[stop]);
    }
  }
  for (std::int64_t r = 0; r < nr; ++r) store_tile(c + r * ldc, acc + r * kTile, w, alpha, beta);
}

}  // namespace

void spmm_csr(float* c, std::int64_t ldc, const std::int32_t* row_ptr, const std::int32_t* col_idx, const float* values,
              const std::int32_t* perm, std::int64_t rows, std::int64_t k, const float* b, std::int64_t ldb, std::int64_t n,
              float alpha, float beta) {
  if (rows == 0 || n == 0) return;
  const std::int64_t nnz = row_ptr[rows];
  // With more than one tile of columns, every tile reads A's values and B's
  // column slice again. Two one-pass copies make those reads cheap (neither
  // changes a value, so the sums and their bits are those of the plain loop):
  // B packed tile-major (TiledB), and, for a transposed structure, its values
  // gathered through perm once instead of once per tile at random (block by
  // block, below).
  const TiledB tiled(b, ldb, k, n);
  std::unique_ptr<Scratch<float>> gathered;
  if (tiled.packed() && perm != nullptr && nnz > 0)
    gathered = std::make_unique<Scratch<float>>(Device::Cpu, static_cast<std::size_t>(nnz));
  float* const g = gathered ? gathered->data() : nullptr;
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
      // The block's own values, gathered just before its tiles read them
      // (they stay in cache for all of them; a separate pass over all of A
      // first wrote them out to memory and read them back once per tile).
      if (g != nullptr)
        for (std::int64_t e = row_ptr[i0]; e < row_ptr[i0 + nr]; ++e) g[e] = values[perm[e]];
      for (std::int64_t j0 = 0; j0 < n; j0 += kTile)
        multiply_block_tile(c + i0 * ldc + j0, ldc, row_ptr + i0, col_idx, g != nullptr ? g : values,
                            g != nullptr ? nullptr : perm, nr, tiled.tile(j0), tiled.ld(), std::min(kTile, n - j0), depth,
                            alpha, beta, acc, cursor);
    }
  });
}

}  // namespace dynasparse::cpu
