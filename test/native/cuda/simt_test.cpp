// Tests of the SIMT host emulation itself (cuda/simt): that barriers, shared
// memory, warp shuffles and votes behave as on a GPU, that misuse is reported,
// and that the shuffled block order exposes races between blocks. These kernels
// are written for the emulation only; the GPU runs kernels_test.cpp.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <numeric>
#include <vector>

#include "launch.cuh"

using dynasparse::cuda::launch;
namespace simt = dynasparse::simt;

namespace {

constexpr unsigned kFull = 0xffffffffu;

// --- a shared-memory tree reduction with __syncthreads ------------------------
__global__ void block_sum_kernel(const int* __restrict__ in, int* __restrict__ out, int n) {
  __shared__ int partial[256];
  const int i = static_cast<int>(blockIdx.x * blockDim.x + threadIdx.x);
  partial[threadIdx.x] = i < n ? in[i] : 0;
  __syncthreads();
  for (unsigned s = blockDim.x / 2; s > 0; s >>= 1) {
    if (threadIdx.x < s) partial[threadIdx.x] += partial[threadIdx.x + s];
    __syncthreads();
  }
  if (threadIdx.x == 0) out[blockIdx.x] = partial[0];
}

// The same with dynamic shared memory, and optionally without its first barrier.
template <bool kFirstBarrier>
__global__ void dynamic_sum_kernel(const float* __restrict__ in, float* __restrict__ out) {
  DS_DYNAMIC_SHARED(float, partial);
  partial[threadIdx.x] = in[blockIdx.x * blockDim.x + threadIdx.x];
  if (kFirstBarrier) __syncthreads();
  for (unsigned s = blockDim.x / 2; s > 0; s >>= 1) {
    if (threadIdx.x < s) partial[threadIdx.x] += partial[threadIdx.x + s];
    __syncthreads();
  }
  if (threadIdx.x == 0) out[blockIdx.x] = partial[0];
}

// --- warp shuffles -------------------------------------------------------------
// Inclusive prefix sums of each block: a shuffle scan inside each warp, then a
// scan of the warp totals by the first warp.
__global__ void block_scan_kernel(const int* __restrict__ in, int* __restrict__ out) {
  __shared__ int warp_totals[32];
  const unsigned i = blockIdx.x * blockDim.x + threadIdx.x;
  const unsigned lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  int v = in[i];
  for (unsigned d = 1; d < 32; d <<= 1) {
    const int up = __shfl_up_sync(kFull, v, d);
    if (lane >= d) v += up;
  }
  if (lane == 31) warp_totals[warp] = v;
  __syncthreads();
  if (warp == 0) {
    const unsigned warps = blockDim.x / 32;
    int t = lane < warps ? warp_totals[lane] : 0;
    for (unsigned d = 1; d < 32; d <<= 1) {
      const int up = __shfl_up_sync(kFull, t, d);
      if (lane >= d) t += up;
    }
    if (lane < warps) warp_totals[lane] = t;
  }
  __syncthreads();
  out[i] = v + (warp > 0 ? warp_totals[warp - 1] : 0);
}

// Butterfly sum, tree sum with shuffle-down, and a broadcast within 8-lane groups.
__global__ void shuffle_forms_kernel(const float* __restrict__ in, float* __restrict__ xor_sum,
                                     float* __restrict__ down_sum, float* __restrict__ group_first) {
  const unsigned i = blockIdx.x * blockDim.x + threadIdx.x;
  float a = in[i], b = in[i];
  for (int m = 16; m >= 1; m >>= 1) a += __shfl_xor_sync(kFull, a, m);
  for (unsigned d = 16; d >= 1; d >>= 1) b += __shfl_down_sync(kFull, b, d);
  xor_sum[i] = a;
  if (threadIdx.x % 32 == 0) down_sum[i / 32] = b;
  group_first[i] = __shfl_sync(kFull, in[i], 0, 8);
}

// --- votes -----------------------------------------------------------------------
// Blocks of 48 threads: a full warp and a warp of 16, whose mask names only them.
__global__ void vote_kernel(const int* __restrict__ in, unsigned* __restrict__ ballots, int* __restrict__ any,
                            int* __restrict__ all) {
  const unsigned lanes = std::min(32u, blockDim.x - threadIdx.x / 32 * 32);
  const unsigned mask = lanes == 32 ? kFull : (1u << lanes) - 1;
  const unsigned i = blockIdx.x * blockDim.x + threadIdx.x;
  const unsigned w = blockIdx.x * ((blockDim.x + 31) / 32) + threadIdx.x / 32;
  const unsigned b = __ballot_sync(mask, in[i] > 0);
  const int y = __any_sync(mask, in[i] > 5);
  const int z = __all_sync(mask, in[i] > -100);
  if (threadIdx.x % 32 == 0) {
    ballots[w] = b;
    any[w] = y;
    all[w] = z;
  }
}

__global__ void reduce_match_kernel(const int* __restrict__ in, int* __restrict__ out) {
  const unsigned i = blockIdx.x * blockDim.x + threadIdx.x;
  const int v = in[i];
  const int sum = __reduce_add_sync(kFull, v);
  const int lo = __reduce_min_sync(kFull, v);
  const int hi = __reduce_max_sync(kFull, v);
  const unsigned ored = __reduce_or_sync(kFull, static_cast<unsigned>(v) & 0xF0u);
  const unsigned same = __match_any_sync(kFull, v % 3);
  int all_pred = -1;
  const unsigned all = __match_all_sync(kFull, v >= -1000 ? 1 : 0, &all_pred);
  out[i * 6 + 0] = sum;
  out[i * 6 + 1] = lo;
  out[i * 6 + 2] = hi;
  out[i * 6 + 3] = static_cast<int>(ored);
  out[i * 6 + 4] = static_cast<int>(same);
  out[i * 6 + 5] = all == kFull && all_pred == 1;
}

__global__ void syncthreads_count_kernel(int* out) {
  const int c = __syncthreads_count(threadIdx.x % 3 == 0);
  const int o = __syncthreads_or(threadIdx.x == 77);
  const int a = __syncthreads_and(threadIdx.x < 1000);
  if (threadIdx.x == 0) {
    out[0] = c;
    out[1] = o;
    out[2] = a;
  }
}

// --- indices, atomics, vector loads -------------------------------------------
__global__ void coverage_kernel(int* hits) {
  const unsigned tx = blockIdx.x * blockDim.x + threadIdx.x, ty = blockIdx.y * blockDim.y + threadIdx.y,
                 tz = blockIdx.z * blockDim.z + threadIdx.z;
  const unsigned nx = gridDim.x * blockDim.x, ny = gridDim.y * blockDim.y;
  atomicAdd(&hits[(tz * ny + ty) * nx + tx], 1);
}

__global__ void atomics_kernel(int* count, float* total, unsigned* maximum) {
  atomicAdd(count, 1);
  atomicAdd(total, 0.5f);
  atomicMax(maximum, blockIdx.x * 1000 + threadIdx.x);
}

__global__ void copy4_kernel(const float4* __restrict__ in, float4* __restrict__ out) {
  const unsigned i = blockIdx.x * blockDim.x + threadIdx.x;
  const float4 v = __ldg(&in[i]);
  out[i] = make_float4(v.w, v.z, v.y, v.x);
}

// --- races between blocks ---------------------------------------------------------
// Wrong on purpose: block b reads what block b-1 wrote, as if blocks ran in order.
__global__ void chained_blocks_kernel(int* out) {
  const unsigned b = blockIdx.x;
  out[b] = b == 0 ? 1 : out[b - 1] + 1;
}

// --- misuse ---------------------------------------------------------------------------
__global__ void early_exit_barrier_kernel(float* out) {
  if (threadIdx.x >= 10) return;  // the classic bug: the other threads never reach the barrier
  __syncthreads();
  out[threadIdx.x] = 1.0f;
}

__global__ void two_barriers_kernel(float* out) {
  if (threadIdx.x % 2 == 0) {
    __syncthreads();
  } else {
    __syncthreads();
  }
  out[threadIdx.x] = 1.0f;
}

__global__ void inactive_source_kernel(float* out) {
  const unsigned lane = threadIdx.x % 32;
  if (lane >= 16) return;
  out[threadIdx.x] = __shfl_sync(0x0000ffffu, 1.0f, 20);  // lane 20 is not in the mask
}

__global__ void exited_lane_kernel(float* out) {
  if (threadIdx.x == 5) return;
  out[threadIdx.x] = __shfl_xor_sync(kFull, 1.0f, 1);  // lane 5 never arrives
}

__global__ void full_mask_partial_warp_kernel(float* out) {
  out[threadIdx.x] = __shfl_down_sync(kFull, 1.0f, 1);  // only 20 lanes exist
}

__global__ void shift_read_kernel(float* out) {
  DS_DYNAMIC_SHARED(float, s);
  s[threadIdx.x] = static_cast<float>(threadIdx.x);
  __syncthreads();
  out[threadIdx.x] = s[threadIdx.x + 1];  // the last thread reads an element nobody wrote
}

// Every element is initialized before the first barrier, so the only possible
// reports after it are races.
__global__ void neighbour_kernel(float* out, int barrier) {
  DS_DYNAMIC_SHARED(float, s);
  s[threadIdx.x] = -1.0f;
  __syncthreads();
  s[threadIdx.x] = static_cast<float>(threadIdx.x);
  if (barrier) __syncthreads();
  out[threadIdx.x] = s[(threadIdx.x + 1) % blockDim.x];  // a thread of the next warp, for the last lane
}

// A tile reused across iterations needs a second barrier before it is overwritten.
__global__ void tile_loop_kernel(const float* __restrict__ in, float* __restrict__ out, int iterations,
                                 int second_barrier) {
  DS_DYNAMIC_SHARED(float, tile);
  float acc = 0.0f;
  for (int it = 0; it < iterations; ++it) {
    tile[threadIdx.x] = in[it * blockDim.x + threadIdx.x];
    __syncthreads();
    acc += tile[blockDim.x - 1 - threadIdx.x];
    if (second_barrier) __syncthreads();
  }
  out[threadIdx.x] = acc;
}

__global__ void warp_exchange_kernel(float* out, int syncwarp) {
  DS_DYNAMIC_SHARED(float, s);
  s[threadIdx.x] = -1.0f;
  __syncthreads();
  s[threadIdx.x] = static_cast<float>(threadIdx.x);
  if (syncwarp) __syncwarp();
  out[threadIdx.x] = s[threadIdx.x ^ 1];
}

__global__ void shared_histogram_kernel(const int* __restrict__ in, int* __restrict__ out) {
  DS_DYNAMIC_SHARED(int, bins);
  if (threadIdx.x < 8) bins[threadIdx.x] = 0;
  __syncthreads();
  atomicAdd(&bins[in[blockIdx.x * blockDim.x + threadIdx.x] & 7], 1);
  __syncthreads();
  if (threadIdx.x < 8) out[blockIdx.x * 8 + threadIdx.x] = bins[threadIdx.x];
}

__global__ void shared_overrun_kernel(float* out) {
  DS_DYNAMIC_SHARED(float, s);
  s[threadIdx.x + 1] = 1.0f;  // one element past the launch's shared_bytes for the last thread
  out[threadIdx.x] = 0.0f;
}

__global__ void nothing_kernel(float*) {}

std::vector<float> iota_floats(std::size_t n) {
  std::vector<float> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = static_cast<float>(static_cast<int>(i % 17) - 8);
  return v;
}

}  // namespace

TEST_CASE("a shared-memory reduction with __syncthreads sums every block") {
  const int n = 10000, threads = 256, blocks = (n + threads - 1) / threads;
  std::vector<int> in(n), out(blocks, -1);
  for (int i = 0; i < n; ++i) in[i] = (i * 37) % 101 - 50;
  launch("block_sum_kernel", block_sum_kernel, dim3(blocks), dim3(threads), 0, nullptr, in.data(), out.data(), n);
  for (int b = 0; b < blocks; ++b) {
    const int hi = std::min(n, (b + 1) * threads);
    CHECK(out[b] == std::accumulate(in.begin() + b * threads, in.begin() + hi, 0));
  }
}

TEST_CASE("dynamic shared memory: a reduction sums, and without its first barrier the unwritten read is reported") {
  const int threads = 128, blocks = 8;
  const std::vector<float> in = iota_floats(threads * blocks);
  std::vector<float> out(blocks);
  launch("dynamic_sum_kernel", dynamic_sum_kernel<true>, dim3(blocks), dim3(threads), threads * sizeof(float),
         nullptr, in.data(), out.data());
  for (int b = 0; b < blocks; ++b)
    CHECK(out[b] == std::accumulate(in.begin() + b * threads, in.begin() + (b + 1) * threads, 0.0f));
  // Some thread reads its partner's element before the partner wrote it, or after
  // with no barrier between: either is reported.
  CHECK_THROWS_WITH_AS(launch("dynamic_sum_kernel", dynamic_sum_kernel<false>, dim3(blocks), dim3(threads),
                              threads * sizeof(float), nullptr, in.data(), out.data()),
                       doctest::Contains("dynamic shared memory bytes"), simt::Violation);
}

TEST_CASE("a warp-shuffle scan gives the prefix sums of each block") {
  const int threads = 256, blocks = 5;
  std::vector<int> in(threads * blocks), out(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) in[i] = static_cast<int>(i * 7 % 13) - 6;
  launch("block_scan_kernel", block_scan_kernel, dim3(blocks), dim3(threads), 0, nullptr, in.data(), out.data());
  std::vector<int> want(in.size());
  for (int b = 0; b < blocks; ++b)
    std::partial_sum(in.begin() + b * threads, in.begin() + (b + 1) * threads, want.begin() + b * threads);
  CHECK(out == want);
}

TEST_CASE("xor, down and width-limited shuffles exchange values between lanes") {
  const int threads = 64, blocks = 3, n = threads * blocks;
  const std::vector<float> in = iota_floats(n);
  std::vector<float> xor_sum(n), down_sum(n / 32), first(n);
  launch("shuffle_forms_kernel", shuffle_forms_kernel, dim3(blocks), dim3(threads), 0, nullptr, in.data(),
         xor_sum.data(), down_sum.data(), first.data());
  for (int w = 0; w < n / 32; ++w) {
    const float sum = std::accumulate(in.begin() + w * 32, in.begin() + (w + 1) * 32, 0.0f);
    CHECK(down_sum[w] == sum);
    for (int l = 0; l < 32; ++l) CHECK(xor_sum[w * 32 + l] == sum);
  }
  for (int i = 0; i < n; ++i) CHECK(first[i] == in[i / 8 * 8]);
}

TEST_CASE("ballot, any and all vote over the lanes of the mask, in full and partial warps") {
  const int threads = 48, blocks = 4, warps_per_block = 2;
  std::vector<int> in(threads * blocks);
  for (std::size_t i = 0; i < in.size(); ++i) in[i] = (i * 5 % 7 < 3) ? static_cast<int>(i % 9) : -1;
  std::vector<unsigned> ballots(blocks * warps_per_block);
  std::vector<int> any(ballots.size()), all(ballots.size());
  launch("vote_kernel", vote_kernel, dim3(blocks), dim3(threads), 0, nullptr, in.data(), ballots.data(), any.data(),
         all.data());
  for (int b = 0; b < blocks; ++b) {
    for (int w = 0; w < warps_per_block; ++w) {
      const int lanes = w == 0 ? 32 : 16;
      unsigned want = 0;
      bool want_any = false;
      for (int l = 0; l < lanes; ++l) {
        const int v = in[b * threads + w * 32 + l];
        if (v > 0) want |= 1u << l;
        want_any = want_any || v > 5;
      }
      const int k = b * warps_per_block + w;
      CHECK(ballots[k] == want);
      CHECK(any[k] == static_cast<int>(want_any));
      CHECK(all[k] == 1);
    }
  }
}

TEST_CASE("warp reductions and matches combine the values of the mask's lanes") {
  const int n = 64;
  std::vector<int> in(n), out(n * 6);
  for (int i = 0; i < n; ++i) in[i] = (i * 29) % 53 - 20;
  launch("reduce_match_kernel", reduce_match_kernel, dim3(1), dim3(n), 0, nullptr, in.data(), out.data());
  for (int w = 0; w < n / 32; ++w) {
    const auto first = in.begin() + w * 32, last = first + 32;
    unsigned ored = 0;
    for (auto it = first; it != last; ++it) ored |= static_cast<unsigned>(*it) & 0xF0u;
    for (int l = 0; l < 32; ++l) {
      const int i = w * 32 + l;
      unsigned same = 0;
      for (int j = 0; j < 32; ++j)
        if (in[w * 32 + j] % 3 == in[i] % 3) same |= 1u << j;
      CHECK(out[i * 6 + 0] == std::accumulate(first, last, 0));
      CHECK(out[i * 6 + 1] == *std::min_element(first, last));
      CHECK(out[i * 6 + 2] == *std::max_element(first, last));
      CHECK(static_cast<unsigned>(out[i * 6 + 3]) == ored);
      CHECK(static_cast<unsigned>(out[i * 6 + 4]) == same);
      CHECK(out[i * 6 + 5] == 1);
    }
  }
}

TEST_CASE("__syncthreads_count, _or and _and reduce a predicate over the block") {
  std::vector<int> out(3, -1);
  launch("syncthreads_count_kernel", syncthreads_count_kernel, dim3(2), dim3(100), 0, nullptr, out.data());
  CHECK(out[0] == 34);
  CHECK(out[1] == 1);
  CHECK(out[2] == 1);
}

TEST_CASE("3D grids and blocks cover every thread index exactly once") {
  const dim3 grid(3, 2, 2), block(8, 4, 2);
  std::vector<int> hits(3 * 8 * 2 * 4 * 2 * 2, 0);
  launch("coverage_kernel", coverage_kernel, grid, block, 0, nullptr, hits.data());
  CHECK(std::all_of(hits.begin(), hits.end(), [](int h) { return h == 1; }));
}

TEST_CASE("atomics are atomic across blocks running in parallel") {
  int count = 0;
  float total = 0.0f;
  unsigned maximum = 0;
  launch("atomics_kernel", atomics_kernel, dim3(64), dim3(128), 0, nullptr, &count, &total, &maximum);
  CHECK(count == 64 * 128);
  CHECK(total == 0.5f * 64 * 128);
  CHECK(maximum == 63 * 1000 + 127);
}

TEST_CASE("vector types and __ldg") {
  std::vector<float4> in(64), out(64);
  for (int i = 0; i < 64; ++i) in[i] = make_float4(i, i + 0.25f, i + 0.5f, i + 0.75f);
  launch("copy4_kernel", copy4_kernel, dim3(2), dim3(32), 0, nullptr, in.data(), out.data());
  for (int i = 0; i < 64; ++i) {
    CHECK(out[i].x == in[i].w);
    CHECK(out[i].w == in[i].x);
  }
  CHECK(alignof(float4) == 16);
  CHECK(alignof(int4) == 16);
  CHECK(alignof(float2) == 8);
}

TEST_CASE("the shuffled block order exposes a kernel that assumes blocks run in order") {
  simt::ScopedConfig cfg;
  cfg->parallel = false;  // one block after another, so the outcome depends only on the order
  const int blocks = 64;
  std::vector<int> want(blocks);
  std::iota(want.begin(), want.end(), 1);
  std::vector<int> out(blocks, 0);
  cfg->shuffle = false;
  launch("chained_blocks_kernel", chained_blocks_kernel, dim3(blocks), dim3(1), 0, nullptr, out.data());
  CHECK(out == want);  // in index order the bug hides
  std::fill(out.begin(), out.end(), 0);
  cfg->shuffle = true;
  launch("chained_blocks_kernel", chained_blocks_kernel, dim3(blocks), dim3(1), 0, nullptr, out.data());
  CHECK(out != want);  // shuffled, it shows
}

TEST_CASE("a __syncthreads that only some threads reach is reported") {
  std::vector<float> out(64);
  CHECK_THROWS_WITH_AS(launch("early_exit_barrier_kernel", early_exit_barrier_kernel, dim3(2), dim3(64), 0, nullptr,
                              out.data()),
                       doctest::Contains("divergent __syncthreads"), simt::Violation);
  CHECK_THROWS_WITH_AS(
      launch("two_barriers_kernel", two_barriers_kernel, dim3(1), dim3(64), 0, nullptr, out.data()),
      doctest::Contains("__syncthreads is not the same for all threads"), simt::Violation);
}

TEST_CASE("a shuffle from an inactive lane, or waiting for a lane that exited, is reported") {
  std::vector<float> out(64);
  CHECK_THROWS_WITH_AS(
      launch("inactive_source_kernel", inactive_source_kernel, dim3(1), dim3(64), 0, nullptr, out.data()),
      doctest::Contains("lane 20 is inactive"), simt::Violation);
  CHECK_THROWS_WITH_AS(launch("exited_lane_kernel", exited_lane_kernel, dim3(1), dim3(32), 0, nullptr, out.data()),
                       doctest::Contains("has exited"), simt::Violation);
  CHECK_THROWS_WITH_AS(launch("full_mask_partial_warp_kernel", full_mask_partial_warp_kernel, dim3(1), dim3(20), 0,
                              nullptr, out.data()),
                       doctest::Contains("lanes that do not exist"), simt::Violation);
}

TEST_CASE("a dynamic shared read before any write is reported in checking mode") {
  std::vector<float> out(32);
  CHECK_THROWS_WITH_AS(launch("shift_read_kernel", shift_read_kernel, dim3(1), dim3(32), 33 * sizeof(float), nullptr,
                              out.data()),
                       doctest::Contains("thread (31,0,0) reads dynamic shared memory bytes [128, 132)"),
                       simt::Violation);
  simt::ScopedConfig cfg;
  cfg->check_shared = false;  // unchecked, the read sees the poison (NaN)
  launch("shift_read_kernel", shift_read_kernel, dim3(1), dim3(32), 33 * sizeof(float), nullptr, out.data());
  CHECK(out[0] == 1.0f);
  CHECK(std::isnan(out[31]));
}

TEST_CASE("races on dynamic shared memory between barriers are reported in checking mode") {
  const int threads = 64, iterations = 3;
  std::vector<float> out(threads);
  launch("neighbour_kernel", neighbour_kernel, dim3(1), dim3(threads), threads * sizeof(float), nullptr, out.data(), 1);
  for (int t = 0; t < threads; ++t) CHECK(out[t] == static_cast<float>((t + 1) % threads));
  CHECK_THROWS_WITH_AS(launch("neighbour_kernel", neighbour_kernel, dim3(1), dim3(threads), threads * sizeof(float),
                              nullptr, out.data(), 0),
                       doctest::Contains("race on dynamic shared memory"), simt::Violation);

  std::vector<float> in(threads * iterations);
  for (std::size_t i = 0; i < in.size(); ++i) in[i] = static_cast<float>(i);
  launch("tile_loop_kernel", tile_loop_kernel, dim3(1), dim3(threads), threads * sizeof(float), nullptr, in.data(),
         out.data(), iterations, 1);
  for (int t = 0; t < threads; ++t) {
    float want = 0.0f;
    for (int it = 0; it < iterations; ++it) want += in[it * threads + threads - 1 - t];
    CHECK(out[t] == want);
  }
  CHECK_THROWS_WITH_AS(launch("tile_loop_kernel", tile_loop_kernel, dim3(1), dim3(threads), threads * sizeof(float),
                              nullptr, in.data(), out.data(), iterations, 0),
                       doctest::Contains("race on dynamic shared memory"), simt::Violation);
}

TEST_CASE("lanes of a warp exchanging through shared memory need __syncwarp") {
  std::vector<float> out(32);
  launch("warp_exchange_kernel", warp_exchange_kernel, dim3(1), dim3(32), 32 * sizeof(float), nullptr, out.data(), 1);
  for (int t = 0; t < 32; ++t) CHECK(out[t] == static_cast<float>(t ^ 1));
  CHECK_THROWS_WITH_AS(launch("warp_exchange_kernel", warp_exchange_kernel, dim3(1), dim3(32), 32 * sizeof(float),
                              nullptr, out.data(), 0),
                       doctest::Contains("with no __syncthreads or __syncwarp between them"), simt::Violation);
}

TEST_CASE("shared-memory atomics count without being reported as races") {
  const int threads = 128, blocks = 4;
  std::vector<int> in(threads * blocks), out(blocks * 8);
  for (std::size_t i = 0; i < in.size(); ++i) in[i] = static_cast<int>(i * 13 % 29);
  launch("shared_histogram_kernel", shared_histogram_kernel, dim3(blocks), dim3(threads), 8 * sizeof(int), nullptr,
         in.data(), out.data());
  for (int b = 0; b < blocks; ++b)
    for (int k = 0; k < 8; ++k)
      CHECK(out[b * 8 + k] == std::count_if(in.begin() + b * threads, in.begin() + (b + 1) * threads,
                                            [k](int v) { return (v & 7) == k; }));
}

TEST_CASE("a dynamic shared access outside the launch's shared_bytes is reported") {
  std::vector<float> out(32);
  CHECK_THROWS_WITH_AS(launch("shared_overrun_kernel", shared_overrun_kernel, dim3(1), dim3(32), 32 * sizeof(float),
                              nullptr, out.data()),
                       doctest::Contains("outside the 128 bytes"), simt::Violation);
}

TEST_CASE("launches beyond the hardware limits are reported") {
  std::vector<float> out(1);
  CHECK_THROWS_WITH_AS(launch("nothing_kernel", nothing_kernel, dim3(1), dim3(1025), 0, nullptr, out.data()),
                       doctest::Contains("a block has at most 1024"), simt::Violation);
  CHECK_THROWS_WITH_AS(launch("nothing_kernel", nothing_kernel, dim3(1), dim3(32, 32, 2), 0, nullptr, out.data()),
                       doctest::Contains("a block has at most 1024"), simt::Violation);
  CHECK_THROWS_WITH_AS(launch("nothing_kernel", nothing_kernel, dim3(1, 70000), dim3(32), 0, nullptr, out.data()),
                       doctest::Contains("exceeds the limits"), simt::Violation);
  CHECK_THROWS_WITH_AS(launch("nothing_kernel", nothing_kernel, dim3(1), dim3(32), 48 * 1024 + 4, nullptr, out.data()),
                       doctest::Contains("the limit is 49152"), simt::Violation);
  simt::ScopedConfig cfg;
  cfg->max_shared_bytes = 100 * 1024;  // as after cudaFuncSetAttribute(MaxDynamicSharedMemorySize)
  launch("nothing_kernel", nothing_kernel, dim3(1), dim3(1024), 48 * 1024 + 4, nullptr, out.data());
}

TEST_CASE("warp operations outside a launch are reported") {
  CHECK_THROWS_WITH_AS(__syncthreads(), doctest::Contains("outside a kernel"), simt::Violation);
  CHECK_THROWS_WITH_AS(__shfl_sync(kFull, 1, 0), doctest::Contains("outside a kernel"), simt::Violation);
}
