// 2:4 structured sparsity: compression from dense, expansion, masks. Layout in
// ops/sparse24.h. Parallel over rows; every group is independent.
#include "dynasparse/ops/sparse24.h"

#include <algorithm>
#include <cmath>

#include "parallel.h"

namespace dynasparse::cpu {
namespace {

// Whether x ranks above y: NaN above every number, then larger magnitude.
inline bool ranks_above(float x, float y) {
  const bool nx = std::isnan(x), ny = std::isnan(y);
  if (nx || ny) return nx && !ny;
  return std::fabs(x) > std::fabs(y);
}

inline std::uint32_t nibble_of(const std::int32_t* meta_row, std::int64_t g) {
  return (static_cast<std::uint32_t>(meta_row[g >> 3]) >> (4 * (g & 7))) & 0xFu;
}

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
        // Position p is kept when fewer than two positions beat it; position o
        // beats p when it ranks above, or ranks equal and has the lower column.
        std::uint32_t kept[2] = {0, 0};
        int count = 0;
        for (std::uint32_t p = 0; p < 4; ++p) {
          int beaten = 0;
          for (std::uint32_t o = 0; o < 4; ++o) {
            if (o == p) continue;
            if (ranks_above(q[o], q[p]) || (o < p && !ranks_above(q[p], q[o]))) ++beaten;
          }
          if (beaten < 2) kept[count++] = p;  // ascending p, so kept[0] < kept[1]
        }
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
        const std::uint32_t nibble = nibble_of(meta + r * words, g);
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
        const std::uint32_t nibble = nibble_of(meta + r * words, g);
        x[4 * g + (nibble & 3u)] = 1.0f;
        x[4 * g + (nibble >> 2)] = 1.0f;
      }
    }
  });
}

}  // namespace dynasparse::cpu
