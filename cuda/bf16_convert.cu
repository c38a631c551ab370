// The CUDA twins of cpu/bf16_convert.cpp (ops/bf16_convert.h): the padded
// float32 <-> bf16 copies between our float32 tensors and cuSPARSELt's 16-bit
// operands. Rounding is dynasparse/bf16.h's on the host and the device alike,
// and the epilogue is the spmm kernels' scale_out (one rounding per operation,
// no FMA), so the results are the CPU's bits.
#include "dynasparse/bf16.h"
#include "dynasparse/ops/bf16_convert.h"
#include "launch.cuh"
#include "spmm_common.cuh"

namespace dynasparse::cuda {
namespace {

constexpr int kThreads = 256;

// One thread per output element, grid-stride: the padding is written too, so
// the caller's scratch needs no separate clear.
__global__ void to_bf16_padded_kernel(std::uint16_t* __restrict__ out, std::int64_t out_rows, std::int64_t out_cols,
                                      const float* __restrict__ in, std::int64_t rows, std::int64_t cols,
                                      std::int64_t ld) {
  const std::int64_t total = out_rows * out_cols;
  const std::int64_t stride = static_cast<std::int64_t>(gridDim.x) * blockDim.x;
  for (std::int64_t t = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; t < total; t += stride) {
    const std::int64_t r = t / out_cols, j = t % out_cols;
    out[t] = (r < rows && j < cols) ? bf16_bits(in[r * ld + j]) : std::uint16_t{0};
  }
}

__global__ void bf16_to_f32_axpby_kernel(float* __restrict__ c, std::int64_t ldc, const std::uint16_t* __restrict__ d,
                                         std::int64_t ldd, std::int64_t rows, std::int64_t cols, float alpha,
                                         float beta) {
  const std::int64_t total = rows * cols;
  const std::int64_t stride = static_cast<std::int64_t>(gridDim.x) * blockDim.x;
  for (std::int64_t t = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; t < total; t += stride) {
    const std::int64_t r = t / cols, j = t % cols;
    float* dst = c + r * ldc + j;
    *dst = scale_out(bf16_float(d[r * ldd + j]), alpha, beta, dst);
  }
}

}  // namespace

void to_bf16_padded(std::uint16_t* out, std::int64_t out_rows, std::int64_t out_cols, const float* in,
                    std::int64_t rows, std::int64_t cols, std::int64_t ld, Stream s) {
  expect_bf16_padded_sizes(out_rows, out_cols, rows, cols, ld);
  const std::int64_t total = out_rows * out_cols;
  if (total == 0) return;
  launch("to_bf16_padded_kernel", to_bf16_padded_kernel, dim3(blocks_for(total, kThreads)), dim3(kThreads), 0, s, out,
         out_rows, out_cols, in, rows, cols, ld);
}

void bf16_to_f32_axpby(float* c, std::int64_t ldc, const std::uint16_t* d, std::int64_t ldd, std::int64_t rows,
                       std::int64_t cols, float alpha, float beta, Stream s) {
  expect_bf16_axpby_sizes(ldc, ldd, rows, cols);
  const std::int64_t total = rows * cols;
  if (total == 0) return;
  launch("bf16_to_f32_axpby_kernel", bf16_to_f32_axpby_kernel, dim3(blocks_for(total, kThreads)), dim3(kThreads), 0, s,
         c, ldc, d, ldd, rows, cols, alpha, beta);
}

}  // namespace dynasparse::cuda
