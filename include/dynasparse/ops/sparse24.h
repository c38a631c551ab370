// 2:4 structured sparsity on the CPU.
//
// Layout (CPU, and the CUDA backend's fp32 kernels; the tensor-core copy below
// converts from it):
// a [rows, cols] matrix with cols % 4 == 0 has groups g = 0 .. cols/4 - 1 of
// four consecutive columns per row. Every group stores exactly two entries
// (possibly zero-valued), at positions p0 < p1 in [0, 4):
//   values [rows, cols / 2] float32: values[r, 2g] at column 4g + p0, values[r, 2g + 1] at 4g + p1;
//   meta   [rows, ceil(cols / 32)] int32: group g's nibble p0 | (p1 << 2) sits at bits
//          4 * (g % 8) .. 4 * (g % 8) + 3 of word meta[r, g / 8]; unused nibbles are 0.
#pragma once

#include <cmath>
#include <cstdint>

#include "dynasparse/device.h"
#include "dynasparse/hostdevice.h"

namespace dynasparse::cpu {

// Metadata words per row for `cols` columns (8 groups of 4 per int32 word).
DS_HOST_DEVICE std::int64_t sparse24_meta_words(std::int64_t cols) { return (cols / 4 + 7) / 8; }

// Group g's nibble p0 | (p1 << 2) in a row's metadata words.
DS_HOST_DEVICE std::uint32_t sparse24_nibble(const std::int32_t* meta_row, std::int64_t g) {
  return (static_cast<std::uint32_t>(meta_row[g >> 3]) >> (4 * (g & 7))) & 0xFu;
}

// Whether x ranks above y in the selection: NaN above every number, then the
// larger magnitude (comparisons only, exact on every backend).
DS_HOST_DEVICE bool sparse24_ranks_above(float x, float y) {
  const bool nx = x != x, ny = y != y;  // isnan, without a libm call on either side
  if (nx || ny) return nx && !ny;
  return fabsf(x) > fabsf(y);
}

// The two positions p0 < p1 a group q[0..3] keeps: p is kept when fewer than two
// positions beat it, and o beats p when it ranks above, or ranks equal and has
// the lower column. The one rule both backends' sparse24_from_dense apply.
DS_HOST_DEVICE void sparse24_keep(const float* q, std::uint32_t* p0, std::uint32_t* p1) {
  std::uint32_t kept[2] = {0, 0};
  int count = 0;
  for (std::uint32_t p = 0; p < 4; ++p) {
    int beaten = 0;
    for (std::uint32_t o = 0; o < 4; ++o)
      if (o != p && (sparse24_ranks_above(q[o], q[p]) || (o < p && !sparse24_ranks_above(q[p], q[o])))) ++beaten;
    if (beaten < 2 && count < 2) kept[count++] = p;  // ascending p, so kept[0] < kept[1]
  }
  *p0 = kept[0];
  *p1 = kept[1];
}

// Keeps the two entries of largest |w| in every group of 4 along each row.
// Ranking: NaN ranks above every number (so a NaN is kept, never silently
// dropped), then larger |w|; equal ranks go to the lower column (so +0/-0 and
// ties keep the lower positions). cols % 4 == 0 is the caller's check.
void sparse24_from_dense(float* values, std::int32_t* meta, const float* dense, std::int64_t rows, std::int64_t cols);

// dense[rows, cols]: the stored values at their positions, zeros elsewhere.
void sparse24_to_dense(float* dense, const float* values, const std::int32_t* meta, std::int64_t rows, std::int64_t cols);

// mask[rows, cols]: 1 at stored positions, 0 elsewhere.
void sparse24_mask(float* mask, const std::int32_t* meta, std::int64_t rows, std::int64_t cols);

}  // namespace dynasparse::cpu

namespace dynasparse {

// The tensor-core copy of a [rows, cols] 2:4 matrix (cuda/sparse24.cu builds it,
// cuda/spmm24.cu reads it): tiles of 16 rows x 32 columns, the operand A and
// the metadata of one PTX `mma.sp::ordered_metadata.m16n8k32` bf16 instruction.
// Rows are padded to a multiple of 16 and columns to a multiple of 64 (tiles come
// in pairs: one metadata word per lane covers two, through the sparsity selector).
//   values: words [((mt * k_tiles + kt) * 32 + lane) * 4 + i], i = 0..3: lane's
//           fragment registers a0..a3 of tile (mt, kt), two bf16 each;
//   meta:   words [(mt * k_tiles / 2 + kt / 2) * 32 + lane]: lane's metadata
//           register for the tile pair (kt even: selector 0, read from lanes
//           4g + 0/1; kt odd: selector 1, lanes 4g + 2/3).
// cuda/mma_sp.cuh spells out the fragment and metadata layouts.
struct Sparse24MmaShape {
  std::int64_t m_tiles = 0;  // ceil(rows / 16)
  std::int64_t k_tiles = 0;  // 2 * ceil(cols / 64)
  std::int64_t value_words() const { return m_tiles * k_tiles * 32 * 4; }
  std::int64_t meta_words() const { return m_tiles * (k_tiles / 2) * 32; }
};

inline Sparse24MmaShape sparse24_mma_shape(std::int64_t rows, std::int64_t cols) {
  return {(rows + 15) / 16, 2 * ((cols + 63) / 64)};
}

}  // namespace dynasparse

#if defined(DYNASPARSE_WITH_CUDA)
// The CUDA twins (device pointers, enqueued on `s`): cuda/sparse24.cu.
namespace dynasparse::cuda {

// cpu::sparse24_from_dense on the GPU: the same selection (NaN first, then |w|,
// ties to the lower column), the same bits in values and metadata.
void sparse24_from_dense(float* values, std::int32_t* meta, const float* dense, std::int64_t rows, std::int64_t cols,
                         Stream s);
void sparse24_to_dense(float* dense, const float* values, const std::int32_t* meta, std::int64_t rows,
                       std::int64_t cols, Stream s);
void sparse24_mask(float* mask, const std::int32_t* meta, std::int64_t rows, std::int64_t cols, Stream s);

// The tensor-core copy (Sparse24MmaShape): metadata from the CPU layout's
// (once per pattern), values rounded to bf16 (again whenever values change).
void sparse24_mma_meta(std::uint32_t* mma_meta, const std::int32_t* meta, std::int64_t rows, std::int64_t cols,
                       Stream s);
void sparse24_mma_values(std::uint32_t* mma_values, const float* values, std::int64_t rows, std::int64_t cols,
                         Stream s);

}  // namespace dynasparse::cuda
#endif
