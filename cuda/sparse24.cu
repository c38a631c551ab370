// CUDA twins of cpu/sparse24.cpp (2:4 compression, expansion, masks) and the
// conversion to the tensor-core copy that cuda/spmm24.cu reads.
//
// Bit-exactness: the kernels only compare and copy floats (no arithmetic), with
// the CPU's ranking rule, so values and metadata are the CPU's bits.
#include <cstdint>

#include "dynasparse/bf16.h"
#include "dynasparse/ops/sparse24.h"
#include "launch.cuh"

namespace dynasparse::cuda {
namespace {

constexpr int kThreads = 256;

using cpu::sparse24_keep;
using cpu::sparse24_meta_words;
using cpu::sparse24_nibble;

// One thread per metadata word (8 groups of one row): it assembles the word in
// a register, so no two threads write the same word (no atomics).
__global__ void from_dense_kernel(float* __restrict__ values, std::int32_t* __restrict__ meta,
                                  const float* __restrict__ dense, std::int64_t rows, std::int64_t cols) {
  const std::int64_t words = sparse24_meta_words(cols), groups = cols / 4, half = cols / 2;
  const std::int64_t stride = static_cast<std::int64_t>(gridDim.x) * blockDim.x;
  for (std::int64_t t = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; t < rows * words;
       t += stride) {
    const std::int64_t r = t / words, w = t % words;
    std::uint32_t word = 0;
    for (std::int64_t g = 8 * w; g < groups && g < 8 * w + 8; ++g) {
      const float* q = dense + r * cols + 4 * g;
      const float x[4] = {q[0], q[1], q[2], q[3]};
      std::uint32_t kept[2];
      sparse24_keep(x, &kept[0], &kept[1]);
      values[r * half + 2 * g] = x[kept[0]];
      values[r * half + 2 * g + 1] = x[kept[1]];
      word |= (kept[0] | (kept[1] << 2)) << (4 * (g & 7));
    }
    meta[t] = static_cast<std::int32_t>(word);
  }
}

// One thread per group: writes its 4 columns (the stored values, or `one` for a
// mask, at their positions; zeros elsewhere). The second slot is written after
// the first, as on the CPU.
template <bool kMask>
__global__ void expand_kernel(float* __restrict__ out, const float* __restrict__ values,
                              const std::int32_t* __restrict__ meta, std::int64_t rows, std::int64_t cols) {
  const std::int64_t words = sparse24_meta_words(cols), groups = cols / 4, half = cols / 2;
  const std::int64_t stride = static_cast<std::int64_t>(gridDim.x) * blockDim.x;
  for (std::int64_t t = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; t < rows * groups;
       t += stride) {
    const std::int64_t r = t / groups, g = t % groups;
    const std::uint32_t nibble = sparse24_nibble(meta + r * words, g);
    const std::uint32_t p0 = nibble & 3u, p1 = nibble >> 2;
    const float v0 = kMask ? 1.0f : values[r * half + 2 * g], v1 = kMask ? 1.0f : values[r * half + 2 * g + 1];
    float* x = out + r * cols + 4 * g;
    for (std::uint32_t p = 0; p < 4; ++p) x[p] = p == p1 ? v1 : (p == p0 ? v0 : 0.0f);
  }
}

// --- the tensor-core copy (layout: ops/sparse24.h, cuda/spmm24.cu) ---------

// Lane `lane` of tile pair (mt, kt2): metadata for rows mt*16 + g and + 8
// (g = lane / 4) of tile kt = 2 kt2 + (lane % 4) / 2, half (lane % 2): the CPU
// word of a row for tile kt is word kt (8 groups = 32 columns), its groups
// 0..3 in the low 16 bits, 4..7 in the high 16 bits. Padding (rows past `rows`,
// groups past cols / 4) gets positions {0, 1} (0b0100, a valid ordered value;
// the padded values are 0).
__global__ void mma_meta_kernel(std::uint32_t* __restrict__ out, const std::int32_t* __restrict__ meta,
                                std::int64_t rows, std::int64_t cols, std::int64_t total, std::int64_t pairs) {
  const std::int64_t words = sparse24_meta_words(cols), groups = cols / 4;
  const std::int64_t stride = static_cast<std::int64_t>(gridDim.x) * blockDim.x;
  for (std::int64_t t = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; t < total; t += stride) {
    const int lane = static_cast<int>(t & 31), g = lane >> 2, tig = lane & 3;
    const std::int64_t tile = t >> 5, mt = tile / pairs, kt = 2 * (tile % pairs) + (tig >> 1);
    std::int64_t valid = groups - 8 * kt;  // groups of this tile that exist
    valid = valid < 0 ? 0 : (valid > 8 ? 8 : valid);
    std::uint32_t pad = 0;
    for (std::int64_t q = valid; q < 8; ++q) pad |= 0x4u << (4 * q);
    std::uint32_t halves[2];
    for (int h = 0; h < 2; ++h) {
      const std::int64_t r = mt * 16 + g + 8 * h;
      const std::uint32_t word =
          r < rows && kt < words ? static_cast<std::uint32_t>(meta[r * words + kt]) | pad : 0x44444444u;
      halves[h] = (tig & 1) ? word >> 16 : word & 0xFFFFu;
    }
    out[t] = halves[0] | (halves[1] << 16);
  }
}

// Lane `lane` of tile (mt, kt): registers a0..a3 = bf16 pairs of compressed
// columns kt*16 + {2c, 2c + 1} (c = lane % 4, then c + 4) of rows mt*16 + g
// (a0, a2) and mt*16 + g + 8 (a1, a3); zeros past the matrix.
__global__ void mma_values_kernel(std::uint32_t* __restrict__ out, const float* __restrict__ values,
                                  std::int64_t rows, std::int64_t cols, std::int64_t total, std::int64_t k_tiles) {
  const std::int64_t half = cols / 2;
  const std::int64_t stride = static_cast<std::int64_t>(gridDim.x) * blockDim.x;
  for (std::int64_t t = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; t < total; t += stride) {
    const int lane = static_cast<int>(t & 31), g = lane >> 2, tig = lane & 3;
    const std::int64_t tile = t >> 5, mt = tile / k_tiles, kt = tile % k_tiles;
    for (int i = 0; i < 4; ++i) {
      const std::int64_t r = mt * 16 + g + 8 * (i & 1), c = kt * 16 + 2 * tig + 8 * (i >> 1);
      const float lo = r < rows && c < half ? values[r * half + c] : 0.0f;
      const float hi = r < rows && c + 1 < half ? values[r * half + c + 1] : 0.0f;
      out[4 * t + i] = bf16_pair(lo, hi);
    }
  }
}

unsigned grid_for(std::int64_t n) { return blocks_for(n, kThreads, 0x7fffffffLL); }

}  // namespace

void sparse24_from_dense(float* values, std::int32_t* meta, const float* dense, std::int64_t rows, std::int64_t cols,
                         Stream s) {
  const std::int64_t n = rows * sparse24_meta_words(cols);
  if (n <= 0) return;
  launch("sparse24_from_dense_kernel", from_dense_kernel, dim3(grid_for(n)), dim3(kThreads), 0, s, values, meta, dense,
         rows, cols);
}

void sparse24_to_dense(float* dense, const float* values, const std::int32_t* meta, std::int64_t rows,
                       std::int64_t cols, Stream s) {
  const std::int64_t n = rows * (cols / 4);
  if (n <= 0) return;
  launch("sparse24_to_dense_kernel", expand_kernel<false>, dim3(grid_for(n)), dim3(kThreads), 0, s, dense, values, meta,
         rows, cols);
}

void sparse24_mask(float* mask, const std::int32_t* meta, std::int64_t rows, std::int64_t cols, Stream s) {
  const std::int64_t n = rows * (cols / 4);
  if (n <= 0) return;
  launch("sparse24_mask_kernel", expand_kernel<true>, dim3(grid_for(n)), dim3(kThreads), 0, s, mask,
         static_cast<const float*>(nullptr), meta, rows, cols);
}

void sparse24_mma_meta(std::uint32_t* mma_meta, const std::int32_t* meta, std::int64_t rows, std::int64_t cols,
                       Stream s) {
  const Sparse24MmaShape shape = sparse24_mma_shape(rows, cols);
  if (shape.meta_words() <= 0) return;
  launch("sparse24_mma_meta_kernel", mma_meta_kernel, dim3(grid_for(shape.meta_words())), dim3(kThreads), 0, s,
         mma_meta, meta, rows, cols, shape.meta_words(), shape.k_tiles / 2);
}

void sparse24_mma_values(std::uint32_t* mma_values, const float* values, std::int64_t rows, std::int64_t cols,
                         Stream s) {
  const Sparse24MmaShape shape = sparse24_mma_shape(rows, cols);
  const std::int64_t lanes = shape.value_words() / 4;
  if (lanes <= 0) return;
  launch("sparse24_mma_values_kernel", mma_values_kernel, dim3(grid_for(lanes)), dim3(kThreads), 0, s, mma_values,
         values, rows, cols, lanes, shape.k_tiles);
}

}  // namespace dynasparse::cuda
