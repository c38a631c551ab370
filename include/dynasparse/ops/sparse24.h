// 2:4 structured sparsity on the CPU.
//
// Layout (CPU; the CUDA mma.sp layout is issue 5's and converts from this one):
// a [rows, cols] matrix with cols % 4 == 0 has groups g = 0 .. cols/4 - 1 of
// four consecutive columns per row. Every group stores exactly two entries
// (possibly zero-valued), at positions p0 < p1 in [0, 4):
//   values [rows, cols / 2] float32: values[r, 2g] at column 4g + p0, values[r, 2g + 1] at 4g + p1;
//   meta   [rows, ceil(cols / 32)] int32: group g's nibble p0 | (p1 << 2) sits at bits
//          4 * (g % 8) .. 4 * (g % 8) + 3 of word meta[r, g / 8]; unused nibbles are 0.
#pragma once

#include <cstdint>

#include "dynasparse/device.h"

namespace dynasparse::cpu {

// Metadata words per row for `cols` columns (8 groups of 4 per int32 word).
inline std::int64_t sparse24_meta_words(std::int64_t cols) { return (cols / 4 + 7) / 8; }

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
