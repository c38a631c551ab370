// One sparse tensor-core instruction (PTX mma.sp m16n8k32, bf16 in, fp32
// accumulate) per warp, on operands given register by register: a probe of
// the instruction's register layouts, not a way to compute. spmm_24_bf16 rests
// on those layouts (cuda/mma_sp.cuh); this runs the instruction on inputs
// chosen to show where each register's values go (one-hot fragments, one
// metadata nibble changed), so the first GPU run can say which layout the
// hardware uses if it is not the documented one.
//
// Per warp w and lane l (i = 32 w + l): a[4 i .. 4 i + 3] A's four registers
// (two bf16 each, low half first), b[4 i ..] B's four, e[i] the metadata
// register, d[4 i ..] C on entry and D on return. The layouts (g = l / 4,
// t = l % 4), as cuda/mma_sp.cuh documents them from the PTX ISA:
//   A, compressed [16, 16]: a[r] holds row g + 8 (r % 2), compressed columns
//     2 c and 2 c + 1 of chunk c = t + 4 (r / 2) (the lower column in the low
//     half; chunk c stands for the dense columns 4 c .. 4 c + 3);
//   B [32, 8]: b[j] = rows 8 j + 2 t (low half), 8 j + 2 t + 1 of column g;
//   D, C [16, 8]: d[u] = row g + 8 (u / 2), column 2 t + u % 2;
//   metadata: chunk c of row r is the nibble 4 (c % 4) + 16 (r / 8) of lane
//     4 (r % 8) + 2 selector + c / 4: its low two bits the dense position
//     (0..3 within the chunk's four k) of compressed column 2 c, its high two
//     bits that of 2 c + 1. Other lanes' metadata is not read.
#pragma once

#include <cstdint>
#include <string>

#include "dynasparse/device.h"
#include "dynasparse/error.h"

namespace dynasparse {

// E_ARG unless the sparsity selector is 0 or 1: the check both backends make.
inline void expect_sparsity_selector(int selector) {
  if (selector != 0 && selector != 1)
    fail(ErrorCode::Arg, "mma_sp_fragments: the sparsity selector must be 0 or 1, got " + std::to_string(selector));
}

}  // namespace dynasparse

namespace dynasparse::cpu {

// The documented layouts, in the portable twin's order: every D element adds
// its row's 16 products chunk by chunk, the lower column first, onto C, each
// product and each sum rounded to fp32 (bf16 x bf16 products are exact). So
// it equals the portable twin bit for bit on any input, and the tensor cores
// bit for bit where every sum is exact (small integers). selector: 0 or 1
// (E_ARG otherwise); warps >= 0.
void mma_sp_fragments(float* d, const std::uint32_t* a, const std::uint32_t* b, const std::uint32_t* e, int selector,
                      std::int64_t warps);

}  // namespace dynasparse::cpu

#if defined(DYNASPARSE_WITH_CUDA)
#include "dynasparse/ops/spmm.h"  // MmaPath

namespace dynasparse::cuda {

// The instruction itself (MmaPath::TensorCores: compute capability 8.0 and
// above, E_DEVICE below) or its portable twin, one warp per block. Device
// pointers, enqueued on `s`; no scratch memory.
void mma_sp_fragments(float* d, const std::uint32_t* a, const std::uint32_t* b, const std::uint32_t* e, int selector,
                      std::int64_t warps, Stream s, MmaPath path);

}  // namespace dynasparse::cuda
#endif
