#include "dynasparse/ops/dense.h"
#include "launch.cuh"

namespace dynasparse::cuda {
namespace {

constexpr int kTile = 32;
constexpr int kRowsPerPass = 8;

// A 32 x 32 tile staged through shared memory so both the read and the write
// are coalesced; the +1 column avoids shared-memory bank conflicts.
__global__ void transpose_kernel(float* __restrict__ out, const float* __restrict__ in, std::int64_t rows,
                                 std::int64_t cols) {
  __shared__ float tile[kTile][kTile + 1];
  const std::int64_t c = static_cast<std::int64_t>(blockIdx.x) * kTile + threadIdx.x;
  const std::int64_t r0 = static_cast<std::int64_t>(blockIdx.y) * kTile;
  for (int dr = threadIdx.y; dr < kTile; dr += kRowsPerPass) {
    const std::int64_t r = r0 + dr;
    if (r < rows && c < cols) tile[dr][threadIdx.x] = in[r * cols + c];
  }
  __syncthreads();
  const std::int64_t oc = r0 + threadIdx.x;  // column of out = row of in
  const std::int64_t or0 = static_cast<std::int64_t>(blockIdx.x) * kTile;
  for (int dr = threadIdx.y; dr < kTile; dr += kRowsPerPass) {
    const std::int64_t orow = or0 + dr;
    if (orow < cols && oc < rows) out[orow * rows + oc] = tile[threadIdx.x][dr];
  }
}

}  // namespace

void transpose(float* out, const float* in, std::int64_t rows, std::int64_t cols, Stream s) {
  if (rows <= 0 || cols <= 0) return;
  const dim3 grid(static_cast<unsigned>((cols + kTile - 1) / kTile), static_cast<unsigned>((rows + kTile - 1) / kTile));
  launch("transpose_kernel", transpose_kernel, grid, dim3(kTile, kRowsPerPass), 0, s, out, in, rows, cols);
}

}  // namespace dynasparse::cuda
