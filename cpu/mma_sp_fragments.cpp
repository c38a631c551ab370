// mma.sp m16n8k32 (bf16, fp32 accumulate) on the CPU, from the register
// layouts of the PTX ISA written as index arithmetic: a second statement of
// them beside cuda/mma_sp.cuh's portable twin (which moves values with warp
// shuffles), so the GPU test of the instruction has a reference that shares
// no code with what it checks.
#include "dynasparse/ops/mma_sp_fragments.h"

#include <string>

#include "dynasparse/bf16.h"
#include "dynasparse/error.h"

namespace dynasparse::cpu {
namespace {

float half_of(std::uint32_t word, int half) { return bf16_float(static_cast<std::uint16_t>(word >> (16 * half))); }

// One warp's registers (32 lanes x 4 for a, b, d; 32 for e), unpacked into the
// matrices they hold, multiplied, and packed back into d.
void one_warp(float* d, const std::uint32_t* a, const std::uint32_t* b, const std::uint32_t* e, int selector) {
  float A[16][16];  // compressed: columns 2c, 2c + 1 belong to chunk c (dense k 4c .. 4c + 3)
  float B[32][8];
  float C[16][8];
  unsigned meta[16][8];  // the nibble of (row, chunk)
  for (int lane = 0; lane < 32; ++lane) {
    const int g = lane / 4, t = lane % 4;
    for (int r = 0; r < 4; ++r) {
      const int row = g + 8 * (r % 2), chunk = t + 4 * (r / 2);
      for (int h = 0; h < 2; ++h) A[row][2 * chunk + h] = half_of(a[4 * lane + r], h);
    }
    for (int j = 0; j < 4; ++j)
      for (int h = 0; h < 2; ++h) B[8 * j + 2 * t + h][g] = half_of(b[4 * lane + j], h);
    for (int u = 0; u < 4; ++u) C[g + 8 * (u / 2)][2 * t + u % 2] = d[4 * lane + u];
  }
  for (int row = 0; row < 16; ++row)
    for (int chunk = 0; chunk < 8; ++chunk) {
      const int lane = 4 * (row % 8) + 2 * selector + chunk / 4;
      meta[row][chunk] = (e[lane] >> (4 * (chunk % 4) + 16 * (row / 8))) & 0xFu;
    }
  for (int lane = 0; lane < 32; ++lane) {
    const int g = lane / 4, t = lane % 4;
    for (int u = 0; u < 4; ++u) {
      const int row = g + 8 * (u / 2), col = 2 * t + u % 2;
      float acc = C[row][col];
      for (int chunk = 0; chunk < 8; ++chunk)
        for (int slot = 0; slot < 2; ++slot) {
          const int k = 4 * chunk + static_cast<int>((meta[row][chunk] >> (2 * slot)) & 3u);
          const float product = A[row][2 * chunk + slot] * B[k][col];  // exact: bf16 x bf16
          acc = acc + product;  // one rounding per sum (built with -ffp-contract=off)
        }
      d[4 * lane + u] = acc;
    }
  }
}

}  // namespace

void mma_sp_fragments(float* d, const std::uint32_t* a, const std::uint32_t* b, const std::uint32_t* e, int selector,
                      std::int64_t warps) {
  expect_sparsity_selector(selector);
  if (warps < 0) fail(ErrorCode::Arg, "mma_sp_fragments: negative warp count " + std::to_string(warps));
  for (std::int64_t w = 0; w < warps; ++w) one_warp(d + 128 * w, a + 128 * w, b + 128 * w, e + 32 * w, selector);
}

}  // namespace dynasparse::cpu
