// One sparse tensor-core instruction, PTX
//   mma.sp::ordered_metadata.sync.aligned.m16n8k32.row.col.f32.bf16.bf16.f32
// D[16, 8] = A[16, 32] B[32, 8] + C, A 2:4 sparse along k, and its portable twin
// written with warp shuffles (what the SIMT emulation runs, and what the GPU
// tests compare the tensor cores with).
//
// Register layout, from the PTX ISA ("Matrix fragments for sparse mma.m16n8k32
// with .f16/.bf16", "Sparse matrix storage"; g = lane / 4, t = lane % 4; it
// agrees with MLIR's sm_80 integration test of this shape, sparse-mma-2-4-f16,
// which loads the metadata of rows g and g + 8 into the low and high halves of
// lanes 4g, 4g + 1 for selector 0, and A's and B's pairs as below):
//   A (compressed [16, 16], chunk c = dense columns 4c..4c+3 holds compressed
//     columns 2c, 2c + 1), four registers of two bf16 (lower column in the low
//     half): a0 = row g, chunk t; a1 = row g + 8, chunk t; a2 = row g,
//     chunk t + 4; a3 = row g + 8, chunk t + 4 (the dense m16n8k16 A layout).
//   B [32, 8]: b_j (j = 0..3) = rows 8j + 2t and 8j + 2t + 1 (low half first)
//     of column g.
//   C/D [16, 8]: d0, d1 = row g, columns 2t, 2t + 1; d2, d3 = row g + 8.
//   Metadata: the 2-bit positions of a chunk's two stored values, the first in
//     the lower 2 bits (ordered_metadata: first < second), one 4-bit nibble per
//     chunk. With sparsity selector S (0 or 1), lanes 4g + 2S (chunks 0..3) and
//     4g + 2S + 1 (chunks 4..7) supply it: bits 4q..4q+3 hold row g's chunk
//     (q or 4 + q), bits 16 + 4q.. row g + 8's. So one 32-bit register per lane
//     serves two instructions, the lanes t < 2 for selector 0, t >= 2 for 1.
// This nibble is exactly the CPU layout's (ops/sparse24.h), whose metadata word
// for 32 columns of a row is the low half (chunks 0..3) and high half (4..7);
// cuda/sparse24.cu's mma_meta_kernel only regroups the halves of rows g, g + 8.
#pragma once

#include <cstdint>

#include <string>

#include "common.cuh"
#include "dynasparse/bf16.h"
#include "dynasparse/cuda_runtime.h"

// Fully unrolled loops keep fragments and accumulators in registers (a loop
// indexing them at run time would put them in local memory). nvcc only: the
// emulation's host compiler does not know the pragma.
#if defined(__CUDACC__)
#define DS_MMA_UNROLL _Pragma("unroll")
#else
#define DS_MMA_UNROLL
#endif

namespace dynasparse::cuda {

// E_DEVICE, naming `what`, unless the device has sparse tensor cores (compute
// capability 8.0 and above): what the TensorCores path of every mma.sp kernel
// needs. The emulation runs the portable twin for that path: nothing to ask.
inline void require_sparse_tensor_cores(const char* what) {
#if defined(DYNASPARSE_SIMT_EMULATED)
  static_cast<void>(what);
#else
  if (device_info().compute_capability < 80)
    fail(ErrorCode::Device, std::string(what) + ": the sparse tensor cores need compute capability 8.0 or above, this device has " +
                                device_info().compute_capability_name());
#endif
}

struct MmaFragA {
  std::uint32_t a[4];
};
struct MmaFragB {
  std::uint32_t b[4];
};

// The portable twin. Every output element sums its row's 16 stored products
// chunk by chunk (lower slot first) onto C with one fp32 rounding per product
// (exact: bf16 x bf16 fits a float) and per addition. Values travel by
// __shfl_sync from the lanes that hold them, exactly as the registers are laid
// out above, so the emulation checks the layouts the kernel builds. The real
// instruction's internal order and rounding are unspecified: results agree
// within the bound documented in spmm24.cu, not bit for bit.
template <int kSelector>
__device__ __forceinline__ void mma_sp_portable(float (&d)[4], const MmaFragA& fa, const MmaFragB& fb,
                                                std::uint32_t e) {
  const int lane = static_cast<int>(threadIdx.x & 31), g = lane >> 2, t = lane & 3;
  for (int c = 0; c < 8; ++c) {
    const int src = 4 * g + (c & 3);
    const std::uint32_t pair[2] = {__shfl_sync(0xffffffffu, fa.a[c < 4 ? 0 : 2], src),
                                   __shfl_sync(0xffffffffu, fa.a[c < 4 ? 1 : 3], src)};
    const std::uint32_t meta = __shfl_sync(0xffffffffu, e, 4 * g + 2 * kSelector + (c >> 2));
    const std::uint32_t bj = fb.b[c >> 1];  // rows 4c..4c+3 lie in register c / 2 of every lane
    for (int h = 0; h < 2; ++h) {           // row g + 8 h
      const std::uint32_t nibble = (meta >> (16 * h + 4 * (c & 3))) & 0xFu;
      for (int slot = 0; slot < 2; ++slot) {
        const float a = bf16_float(static_cast<std::uint16_t>(pair[h] >> (16 * slot)));
        const int k = 4 * c + static_cast<int>((nibble >> (2 * slot)) & 3u);
        for (int col = 0; col < 2; ++col) {  // column 2t + col lives in lane 4 (2t + col) + (k % 8) / 2
          const std::uint32_t w = __shfl_sync(0xffffffffu, bj, 4 * (2 * t + col) + ((k & 7) >> 1));
          const float bv = bf16_float(static_cast<std::uint16_t>(w >> (16 * (k & 1))));
          d[2 * h + col] = __fadd_rn(d[2 * h + col], __fmul_rn(a, bv));
        }
      }
    }
  }
}

// The instruction's spelling. `.sp::ordered_metadata` (PTX ISA 8.5, CUDA 12.5)
// is what the PTX ISA advises ("mma.sp may have substantially reduced
// performance on some target architectures"); older toolkits do not know it
// and take plain `.sp`, which computes the same product here because our
// metadata is ordered anyway (first position < second in every group).
#if defined(__CUDACC_VER_MAJOR__) && (__CUDACC_VER_MAJOR__ > 12 || (__CUDACC_VER_MAJOR__ == 12 && __CUDACC_VER_MINOR__ >= 5))
#define DS_MMA_SP "mma.sp::ordered_metadata"
#else
#define DS_MMA_SP "mma.sp"
#endif

// The instruction (compute capability 8.0+; the portable twin elsewhere).
// kPortable selects the twin on any device: the GPU tests run both.
template <int kSelector, bool kPortable>
__device__ __forceinline__ void mma_sp(float (&d)[4], const MmaFragA& fa, const MmaFragB& fb, std::uint32_t e) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
  if constexpr (!kPortable) {
    asm volatile(
        DS_MMA_SP ".sync.aligned.m16n8k32.row.col.f32.bf16.bf16.f32 "
        "{%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9, %10, %11}, {%0, %1, %2, %3}, %12, %13;\n"
        : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
        : "r"(fa.a[0]), "r"(fa.a[1]), "r"(fa.a[2]), "r"(fa.a[3]), "r"(fb.b[0]), "r"(fb.b[1]), "r"(fb.b[2]),
          "r"(fb.b[3]), "r"(e), "n"(kSelector));
    return;
  }
#endif
  mma_sp_portable<kSelector>(d, fa, fb, e);
}

}  // namespace dynasparse::cuda
