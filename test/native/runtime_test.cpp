// The runtime every kernel relies on: buffers, memory statistics, the thread
// pool and the counter-based generator.
#include <doctest/doctest.h>

#include <atomic>
#include <cmath>
#include <numeric>
#include <stdexcept>
#include <vector>

#include "cpu/parallel.h"
#include "dynasparse/cuda_runtime.h"
#include "dynasparse/error.h"
#include "dynasparse/memory.h"
#include "dynasparse/ops/dense.h"
#include "dynasparse/ops/rng.h"
#include "dynasparse/philox.h"

using namespace dynasparse;

TEST_CASE("buffers are counted while alive and released when the last reference goes") {
  const MemoryStats before = memory_stats(Device::Cpu);
  {
    BufferPtr a = Buffer::allocate(Device::Cpu, 1000);
    BufferPtr b = a;
    CHECK(memory_stats(Device::Cpu).bytes_in_use == before.bytes_in_use + 1000);
    CHECK(memory_stats(Device::Cpu).allocations == before.allocations + 1);
    CHECK(reinterpret_cast<std::uintptr_t>(a->data()) % 64 == 0);
    a.reset();
    CHECK(memory_stats(Device::Cpu).bytes_in_use == before.bytes_in_use + 1000);
  }
  CHECK(memory_stats(Device::Cpu).bytes_in_use == before.bytes_in_use);
  CHECK(memory_stats(Device::Cpu).allocations == before.allocations);
}

TEST_CASE("peak memory follows the largest use since the last reset") {
  reset_peak_memory(Device::Cpu);
  const std::int64_t base = memory_stats(Device::Cpu).bytes_in_use;
  { BufferPtr big = Buffer::allocate(Device::Cpu, 1 << 20); }
  CHECK(memory_stats(Device::Cpu).peak_bytes == base + (1 << 20));
  reset_peak_memory(Device::Cpu);
  CHECK(memory_stats(Device::Cpu).peak_bytes == base);
}

TEST_CASE("an impossible allocation is E_OOM and the allocator keeps working") {
  try {
    Buffer::allocate(Device::Cpu, std::size_t{1} << 62);
    FAIL("expected E_OOM");
  } catch (const Error& e) {
    CHECK(e.code() == ErrorCode::Oom);
  }
  CHECK(Buffer::allocate(Device::Cpu, 64)->bytes() == 64);
}

TEST_CASE("cuda reports its availability with a reason") {
  const cuda::DeviceInfo& info = cuda::device_info();
  if (!info.available) {
    CHECK(!info.reason.empty());
    CHECK_THROWS_AS(Buffer::allocate(Device::Cuda, 16), Error);
  }
}

TEST_CASE("parallel_for covers the range exactly once, with any grain") {
  for (std::int64_t n : {0, 1, 7, 1000, 100003}) {
    for (std::int64_t grain : {1, 3, 64, 1 << 20}) {
      std::vector<std::atomic<int>> hits(static_cast<std::size_t>(n));
      cpu::parallel_for(0, n, grain, [&](std::int64_t lo, std::int64_t hi) {
        for (std::int64_t i = lo; i < hi; ++i) hits[static_cast<std::size_t>(i)]++;
      });
      for (auto& h : hits) REQUIRE(h.load() == 1);
    }
  }
}

TEST_CASE("parallel_for rethrows a chunk's exception and stays usable, and nesting runs serially") {
  CHECK_THROWS_AS(cpu::parallel_for(0, 1000, 1,
                                    [](std::int64_t lo, std::int64_t) {
                                      if (lo >= 500) throw std::runtime_error("boom");
                                    }),
                  std::runtime_error);
  std::atomic<std::int64_t> total{0};
  cpu::parallel_for(0, 100, 1, [&](std::int64_t lo, std::int64_t hi) {
    cpu::parallel_for(0, 10, 1, [&](std::int64_t l2, std::int64_t h2) { total += (hi - lo) * (h2 - l2); });
  });
  CHECK(total.load() == 1000);
}

TEST_CASE("Philox4x32-10 matches the Random123 known-answer vectors") {
  // Known-answer tests from Random123 (kat_vectors): counter and key all zero,
  // and all ones.
  const rng::Bits128 zero = rng::philox4x32_10(0, 0, 0);
  CHECK(zero.v[0] == 0x6627e8d5u);
  CHECK(zero.v[1] == 0xe169c58du);
  CHECK(zero.v[2] == 0xbc57ac4cu);
  CHECK(zero.v[3] == 0x9b00dbd8u);
  const rng::Bits128 ones = rng::philox4x32_10(~0ull, ~0ull, ~0ull);
  CHECK(ones.v[0] == 0x408f276du);
  CHECK(ones.v[1] == 0x41c83b0eu);
  CHECK(ones.v[2] == 0xa20bc7c6u);
  CHECK(ones.v[3] == 0x6d5451fdu);
}

TEST_CASE("the portable log and cos agree with libm to double rounding") {
  for (double x : {1e-7, 0.001, 0.1, 0.5, 0.70710678, 0.9, 0.999999}) {
    CHECK(std::fabs(rng::portable_log(x) - std::log(x)) <= 4e-16 * std::fabs(std::log(x)) + 1e-300);
  }
  for (int i = 0; i < 4096; ++i) {
    const double u = i / 4096.0;
    CHECK(std::fabs(rng::portable_cos_2pi(u) - std::cos(2 * M_PI * u)) <= 1e-15);
  }
}

TEST_CASE("normal and uniform fills have the right moments and depend only on (seed, index)") {
  const std::int64_t n = 1 << 18;
  std::vector<float> a(n), b(n);
  cpu::fill_normal(a.data(), n, 42, rng::kStreamTensor, 1.5f, 2.0f);
  cpu::fill_normal(b.data(), 1000, 42, rng::kStreamTensor, 1.5f, 2.0f);
  for (int i = 0; i < 1000; ++i) REQUIRE(a[i] == b[i]);
  double mean = std::accumulate(a.begin(), a.end(), 0.0) / n;
  double var = 0;
  for (float v : a) var += (v - mean) * (v - mean);
  var /= n;
  // Standard errors: 2/sqrt(n) = 0.004 for the mean, about 4*sqrt(2/n) = 0.011 for the variance.
  CHECK(std::fabs(mean - 1.5) < 0.02);
  CHECK(std::fabs(var - 4.0) < 0.06);
  cpu::fill_uniform(a.data(), n, 7, rng::kStreamTensor, -1.0f, 3.0f);
  double umean = 0;
  for (float v : a) {
    REQUIRE(v >= -1.0f);
    REQUIRE(v < 3.0f);
    umean += v;
  }
  CHECK(std::fabs(umean / n - 1.0) < 0.02);
}

TEST_CASE("transpose handles non-square shapes, tile residues and padded rows") {
  for (auto [r, c] : std::vector<std::pair<int, int>>{{1, 1}, {3, 70}, {33, 31}, {64, 65}})
    for (int pad : {0, 5}) {
      const int ld = c + pad;
      std::vector<float> in(r * ld), out(r * c);
      for (int i = 0; i < r * ld; ++i) in[i] = static_cast<float>(i);
      cpu::transpose(out.data(), in.data(), r, c, ld);
      for (int i = 0; i < r; ++i)
        for (int j = 0; j < c; ++j) REQUIRE(out[j * r + i] == in[i * ld + j]);
    }
}
