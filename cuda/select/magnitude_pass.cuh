// One pass over the candidates of bottomk_magnitude: every stored value v,
// scored |values[v]|, the smallest first (rk = bits(|value|), which orders
// non-negative floats; ties by the lower index v, which is the lower flat
// index since CSR order is row-major). Exact: no arithmetic but fabsf.
//
// Grid-stride over the values; kEmit as in growth_pass.cuh.
#pragma once

#include <cstdint>

#include "../launch.cuh"
#include "radix.cuh"
#include "sort.cuh"

namespace dynasparse::cuda::select {

constexpr int kMagnitudeThreads = 256;
constexpr std::size_t kMagnitudeShared = sizeof(unsigned int) * (kBins + 1);

// Enough blocks to fill a GPU; few enough that flushing their histograms
// stays cheap. nnz < 2^31, so a block's counts fit 32 bits.
inline unsigned magnitude_blocks(std::int64_t nnz) { return blocks_for(nnz, kMagnitudeThreads * 16, 1024); }

template <bool kEmit>
__global__ void __launch_bounds__(kMagnitudeThreads)
    magnitude_pass_kernel(const float* __restrict__ values, std::int64_t nnz, State* st,
                          unsigned long long* global_hist, Record* out, Digit d) {
  DS_DYNAMIC_SHARED(unsigned int, hist);
  const Filter f = load_filter(st);
  if (kEmit ? f.emit_count == 0 : f.done != 0) return;  // uniform over the grid
  if (!kEmit) {
    block_histogram_clear(hist, d);
    __syncthreads();
  }
  // A block-uniform loop (every lane runs every iteration): the emit pass's
  // warp vote needs every lane.
  const std::int64_t stride = static_cast<std::int64_t>(gridDim.x) * blockDim.x;
  for (std::int64_t base = static_cast<std::int64_t>(blockIdx.x) * blockDim.x; base < nnz; base += stride) {
    const std::int64_t v = base + threadIdx.x;
    const bool in_range = v < nnz;
    const unsigned int key = in_range ? __float_as_uint(fabsf(values[v])) : ~0u;
    const unsigned long long idx = static_cast<unsigned long long>(v);
    if (kEmit) {
      const bool take = in_range && key <= kInfBits && selected(f, key, idx);
      emit_warp(take, Record{key, 0, static_cast<std::int32_t>(v)}, st, out, f.emit_count);
    } else if (in_range) {
      histogram_offer(hist, f, d, key, key, idx);
    }
  }
  if (!kEmit) {
    __syncthreads();
    block_histogram_flush(hist, d, global_hist, st);
  }
}

}  // namespace dynasparse::cuda::select
