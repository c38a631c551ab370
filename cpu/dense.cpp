#include "dynasparse/ops/dense.h"

#include <algorithm>

#include "parallel.h"

namespace dynasparse::cpu {

void transpose(float* out, const float* in, std::int64_t rows, std::int64_t cols) {
  // 32 x 32 tiles keep both the reads and the writes within a few cache lines.
  constexpr std::int64_t kTile = 32;
  const std::int64_t tile_rows = (rows + kTile - 1) / kTile;
  parallel_for(0, tile_rows, 1, [&](std::int64_t t0, std::int64_t t1) {
    for (std::int64_t tr = t0; tr < t1; ++tr) {
      const std::int64_t r0 = tr * kTile, r1 = std::min(rows, r0 + kTile);
      for (std::int64_t c0 = 0; c0 < cols; c0 += kTile) {
        const std::int64_t c1 = std::min(cols, c0 + kTile);
        for (std::int64_t r = r0; r < r1; ++r)
          for (std::int64_t c = c0; c < c1; ++c) out[c * rows + r] = in[r * cols + c];
      }
    }
  });
}

}  // namespace dynasparse::cpu
