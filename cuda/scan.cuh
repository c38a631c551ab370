// The device exclusive scan of per-row counts into a CSR row_ptr, shared by
// the kernels that build a pattern on the device (csr.cu: dense -> CSR and the
// transpose; topology.cu: the drop-and-grow rebuild). No sequential pass over
// rows: the counts are cut into tiles of kTile rows (each thread kItems
// consecutive rows):
//   tile_sums_kernel: tile_sums[t] = the sum of tile t's counts;
//   offsets_kernel:   one block turns tile_sums into exclusive offsets (in
//                     chunks of kThreads tiles, carrying the running sum) and
//                     writes the total;
//   apply_kernel:     each tile rescans its counts and writes
//                     row_ptr[r] = min(offset + prefix, INT32_MAX), as the CPU
//                     clamps (callers refuse totals above 2^31 - 1).
// The kernels sit in an anonymous namespace: each kernel file that includes
// this header gets its own copy (no relocatable device code needed).
#pragma once

#include <cstdint>

#include "launch.cuh"

namespace dynasparse::cuda::scan {
namespace {

constexpr int kThreads = 256;
constexpr int kWarps = kThreads / 32;
constexpr int kItems = 4;
constexpr std::int64_t kTile = static_cast<std::int64_t>(kThreads) * kItems;

// The sum of `value` over the block (every thread gets it). `sums` holds one
// entry per warp; the trailing barrier lets the caller reuse it at once.
template <typename T, typename Shared>
__device__ T block_sum(T value, Shared sums) {
  const int lane = static_cast<int>(threadIdx.x) % 32, warp = static_cast<int>(threadIdx.x) / 32;
  for (int offset = 16; offset > 0; offset /= 2) value += __shfl_xor_sync(0xffffffffu, value, offset);
  if (lane == 0) sums[warp] = value;
  __syncthreads();
  T total = 0;
  for (int w = 0; w < kWarps; ++w) total += static_cast<T>(sums[w]);
  __syncthreads();
  return total;
}

// The exclusive prefix of `value` over the block's threads (in thread order)
// and, in *total, the block's sum. `sums` holds one entry per warp.
template <typename T, typename Shared>
__device__ T block_exclusive_scan(T value, Shared sums, T* total) {
  const int lane = static_cast<int>(threadIdx.x) % 32, warp = static_cast<int>(threadIdx.x) / 32;
  T inclusive = value;
  for (int offset = 1; offset < 32; offset *= 2) {
    const T up = __shfl_up_sync(0xffffffffu, inclusive, offset);
    if (lane >= offset) inclusive += up;
  }
  if (lane == 31) sums[warp] = inclusive;
  __syncthreads();
  T before = 0, all = 0;
  for (int w = 0; w < kWarps; ++w) {
    const T s = sums[w];
    if (w < warp) before += s;
    all += s;
  }
  __syncthreads();
  *total = all;
  return before + inclusive - value;
}

__global__ void tile_sums_kernel(long long* __restrict__ tile_sums, const std::int32_t* __restrict__ counts, std::int64_t n) {
  DS_DYNAMIC_SHARED(long long, sums);
  const std::int64_t base = static_cast<std::int64_t>(blockIdx.x) * kTile + threadIdx.x * kItems;
  long long local = 0;
  for (int i = 0; i < kItems; ++i)
    if (base + i < n) local += counts[base + i];
  const long long total = block_sum(local, sums);
  if (threadIdx.x == 0) tile_sums[blockIdx.x] = total;
}

__global__ void offsets_kernel(long long* __restrict__ tile_sums, std::int64_t tiles, std::int64_t* __restrict__ total) {
  DS_DYNAMIC_SHARED(long long, sums);
  long long carry = 0;
  for (std::int64_t t0 = 0; t0 < tiles; t0 += kThreads) {  // uniform over the block
    const std::int64_t t = t0 + threadIdx.x;
    const long long v = t < tiles ? tile_sums[t] : 0;
    long long chunk = 0;
    const long long before = block_exclusive_scan(v, sums, &chunk);
    if (t < tiles) tile_sums[t] = carry + before;
    carry += chunk;
  }
  if (threadIdx.x == 0) *total = carry;
}

__global__ void apply_kernel(std::int32_t* __restrict__ row_ptr, const long long* __restrict__ offsets, std::int64_t n) {
  DS_DYNAMIC_SHARED(long long, sums);
  std::int32_t* counts = row_ptr + 1;
  const std::int64_t base = static_cast<std::int64_t>(blockIdx.x) * kTile + threadIdx.x * kItems;
  long long items[kItems];
  long long local = 0;
  for (int i = 0; i < kItems; ++i) {
    items[i] = base + i < n ? counts[base + i] : 0;
    local += items[i];
  }
  long long total = 0;
  // The barriers inside the scan also separate every read of counts above
  // from the writes below (the tile's rows are read and written in place).
  long long running = offsets[blockIdx.x] + block_exclusive_scan(local, sums, &total);
  for (int i = 0; i < kItems; ++i) {
    running += items[i];
    if (base + i < n) counts[base + i] = static_cast<std::int32_t>(running < 0x7fffffffLL ? running : 0x7fffffffLL);
  }
  if (blockIdx.x == 0 && threadIdx.x == 0) row_ptr[0] = 0;
}

// row_ptr[1..n] holds n >= 1 counts: turns row_ptr[0..n] into their exclusive
// scan (row_ptr[0] = 0) and writes the exact total to *total (device memory).
// Takes scratch memory: call it on cuda::stream(); `op` names the caller.
inline void counts_to_row_ptr(std::int32_t* row_ptr, std::int64_t* total, std::int64_t n, Stream s, const char* op) {
  const std::int64_t tiles = (n + kTile - 1) / kTile;
  Scratch<long long> tile_sums = kernel_scratch<long long>(static_cast<std::size_t>(tiles), s, op);
  const std::size_t shared = sizeof(long long) * kWarps;
  launch("scan::tile_sums_kernel", tile_sums_kernel, dim3(static_cast<unsigned>(tiles)), dim3(kThreads), shared, s,
         tile_sums.data(), static_cast<const std::int32_t*>(row_ptr + 1), n);
  launch("scan::offsets_kernel", offsets_kernel, dim3(1), dim3(kThreads), shared, s, tile_sums.data(), tiles, total);
  launch("scan::apply_kernel", apply_kernel, dim3(static_cast<unsigned>(tiles)), dim3(kThreads), shared, s, row_ptr,
         static_cast<const long long*>(tile_sums.data()), n);
}

}  // namespace
}  // namespace dynasparse::cuda::scan
