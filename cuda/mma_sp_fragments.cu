// mma.sp on operands given register by register (ops/mma_sp_fragments.h): the
// instruction spmm_24_bf16 is built on, run alone so a test can pin its
// register layouts on the hardware. The CPU twin is cpu/mma_sp_fragments.cpp.
#include <string>

#include "dynasparse/ops/mma_sp_fragments.h"
#include "launch.cuh"
#include "mma_sp.cuh"

namespace dynasparse::cuda {
namespace {

// One warp per block, one instruction per warp.
template <int kSelector, bool kPortable>
__global__ void mma_sp_fragments_kernel(float* __restrict__ d, const std::uint32_t* __restrict__ a,
                                        const std::uint32_t* __restrict__ b, const std::uint32_t* __restrict__ e) {
  const std::int64_t i = static_cast<std::int64_t>(blockIdx.x) * 32 + threadIdx.x;
  MmaFragA fa;
  MmaFragB fb;
  float acc[4];
  DS_MMA_UNROLL
  for (int r = 0; r < 4; ++r) {
    fa.a[r] = a[4 * i + r];
    fb.b[r] = b[4 * i + r];
    acc[r] = d[4 * i + r];
  }
  mma_sp<kSelector, kPortable>(acc, fa, fb, e[i]);
  DS_MMA_UNROLL
  for (int r = 0; r < 4; ++r) d[4 * i + r] = acc[r];
}

template <bool kPortable>
void launch_selector(float* d, const std::uint32_t* a, const std::uint32_t* b, const std::uint32_t* e, int selector,
                     std::int64_t warps, Stream s, const char* name) {
  const dim3 grid(static_cast<unsigned>(warps));
  if (selector == 0)
    launch(name, mma_sp_fragments_kernel<0, kPortable>, grid, dim3(32), 0, s, d, a, b, e);
  else
    launch(name, mma_sp_fragments_kernel<1, kPortable>, grid, dim3(32), 0, s, d, a, b, e);
}

}  // namespace

void mma_sp_fragments(float* d, const std::uint32_t* a, const std::uint32_t* b, const std::uint32_t* e, int selector,
                      std::int64_t warps, Stream s, MmaPath path) {
  expect_sparsity_selector(selector);
  if (warps < 0 || warps > 0x7fffffffLL)
    fail(ErrorCode::Arg, "mma_sp_fragments: warp count " + std::to_string(warps) + " outside [0, 2^31)");
  if (warps == 0) return;
  if (path == MmaPath::TensorCores) {
    require_sparse_tensor_cores("mma_sp_fragments");
    launch_selector<false>(d, a, b, e, selector, warps, s, "mma_sp_fragments_kernel");
  } else {
    launch_selector<true>(d, a, b, e, selector, warps, s, "mma_sp_fragments_kernel<portable>");
  }
}

}  // namespace dynasparse::cuda
