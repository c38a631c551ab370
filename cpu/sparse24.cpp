// 2:4 structured sparsity: compression from dense, expansion, masks. Layout in
// ops/sparse24.h. Parallel over rows; every group is independent.
#include "dynasparse/ops/sparse24.h"

#include <algorithm>
#include <cmath>

#include "parallel.h"

namespace dynasparse::cpu {
namespace {

std::int64_t grain(std::int64_t cols) { return std::max<std::int64_t>(1, 16384 / std::max<std::int64_t>(1, cols)); }

}  // namespace

void sparse24_from_dense(float* values, std::int32_t* meta, const float* dense, std::int64_t rows, std::int64_t cols) {
  const std::int64_t groups = cols / 4, words = sparse24_meta_words(cols);
  parallel_for(0, rows, grain(cols), [&](std::int64_t lo, std::int64_t hi) {
    for (std::int64_t r = lo; r < hi; ++r) {
      const float* x = dense + r * cols;
      std::int32_t* meta_row = meta + r * words;
      std::fill(meta_row, meta_row + words, 0);
      for (std::int64_t g = 0; g < groups; ++g) {
        const float* q = x + 4 * g;
        std::uint32_t kept[2];
        sparse24_keep(q, &kept[0], &kept[1]);
        values[r * (cols / 2) + 2 * g] = q[kept[0]];
        values[r * (cols / 2) + 2 * g + 1] = q[kept[1]];
        meta_row[g >> 3] = static_cast<std::int32_t>(static_cast<std::uint32_t>(meta_row[g >> 3]) |
                                                     ((kept[0] | (kept[1] << 2)) << (4 * (g & 7))));
      }
    }
  });
}

void sparse24_to_dense(float* dense, const float* values, const std::int32_t* meta, std::int64_t rows, std::int64_t cols) {
  const std::int64_t groups = cols / 4, words = sparse24_meta_words(cols);
  parallel_for(0, rows, grain(cols), [&](std::int64_t lo, std::int64_t hi) {
    for (std::int64_t r = lo; r < hi; ++r) {
      float* x = dense + r * cols;
      std::fill(x, x + cols, 0.0f);
      for (std::int64_t g = 0; g < groups; ++g) {
        const std::uint32_t nibble = sparse24_nibble(meta + r * words, g);
        x[4 * g + (nibble & 3u)] = values[r * (cols / 2) + 2 * g];
        x[4 * g + (nibble >> 2)] = values[r * (cols / 2) + 2 * g + 1];
      }
    }
  });
}

void sparse24_mask(float* mask, const std::int32_t* meta, std::int64_t rows, std::int64_t cols) {
  const std::int64_t groups = cols / 4, words = sparse24_meta_words(cols);
  parallel_for(0, rows, grain(cols), [&](std::int64_t lo, std::int64_t hi) {
    for (std::int64_t r = lo; r < hi; ++r) {
      float* x = mask + r * cols;
      std::fill(x, x + cols, 0.0f);
      for (std::int64_t g = 0; g < groups; ++g) {
        const std::uint32_t nibble = sparse24_nibble(meta + r * words, g);
        x[4 * g + (nibble & 3u)] = 1.0f;
        x[4 * g + (nibble >> 2)] = 1.0f;
      }
    }
  });
}

}  // namespace dynasparse::cpu
