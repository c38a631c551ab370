// Helpers shared by the CUDA kernel tests: the stream to launch on, bit-exact
// and tolerance comparisons, random inputs with the IEEE edge values.
#pragma once

#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "dynasparse/cuda_runtime.h"
#include "dynasparse/device.h"

#if !defined(DYNASPARSE_SIMT_EMULATION)
#include <cuda_runtime.h>
#endif

namespace dynasparse::test {

// The stream for kernels whose host wrapper takes scratch memory (it must be
// cuda::stream(), the allocator's stream). On a GPU the device is synchronized
// first, so the uploads DeviceArray made on the legacy stream have landed; the
// emulation runs everything synchronously and has no stream.
inline Stream kernel_stream() {
#if defined(DYNASPARSE_SIMT_EMULATION)
  return nullptr;
#else
  REQUIRE(cudaDeviceSynchronize() == cudaSuccess);
  return cuda::stream();
#endif
}

// Whether this run is the emulation (the host's libm) rather than a GPU.
constexpr bool kEmulated =
#if defined(DYNASPARSE_SIMT_EMULATION)
    true;
#else
    false;
#endif

inline std::uint32_t float_bits(float v) {
  std::uint32_t b;
  std::memcpy(&b, &v, sizeof b);
  return b;
}

// Bit-for-bit equality, reporting the first element that differs.
template <typename T>
void require_equal(const std::vector<T>& got, const std::vector<T>& want) {
  REQUIRE(got.size() == want.size());
  for (std::size_t i = 0; i < got.size(); ++i) {
    if (got[i] != want[i]) {
      INFO("element " << i << " of " << got.size() << ": cuda " << got[i] << ", cpu " << want[i]);
      REQUIRE(got[i] == want[i]);
    }
  }
}

// Bit-for-bit equality of floats, reporting the first element that differs.
// On a GPU any NaN equals any NaN: arithmetic there returns the canonical NaN
// (0x7fffffff) where the host keeps an operand's payload or writes its own
// default NaN (0xffc00000 for inf - inf), so only the payloads may differ.
// Under the emulation the kernels run on the host, and the payloads must
// match too.
inline void require_same_bits(const std::vector<float>& got, const std::vector<float>& want) {
  REQUIRE(got.size() == want.size());
  for (std::size_t i = 0; i < got.size(); ++i) {
    if (!kEmulated && std::isnan(got[i]) && std::isnan(want[i])) continue;
    if (float_bits(got[i]) != float_bits(want[i])) {
      INFO("element " << i << " of " << got.size() << ": cuda " << got[i] << ", cpu " << want[i]);
      REQUIRE(float_bits(got[i]) == float_bits(want[i]));
    }
  }
}

// |got - want| <= tolerance(i) elementwise; NaN must match NaN, infinities exactly.
template <typename Tol>
void require_close(const std::vector<float>& got, const std::vector<float>& want, Tol tolerance) {
  REQUIRE(got.size() == want.size());
  for (std::size_t i = 0; i < got.size(); ++i) {
    const float g = got[i], w = want[i];
    bool ok;
    if (std::isnan(w) || std::isnan(g)) ok = std::isnan(w) && std::isnan(g);
    else if (std::isinf(w) || std::isinf(g)) ok = g == w;
    else ok = std::fabs(static_cast<double>(g) - w) <= tolerance(i);
    if (!ok) {
      INFO("element " << i << " of " << got.size() << ": cuda " << g << ", cpu " << w << ", tolerance " << tolerance(i));
      REQUIRE(ok);
    }
  }
}

// n floats uniform in [lo, hi) from a fixed seed.
inline std::vector<float> random_floats(std::size_t n, std::uint32_t seed, float lo = -2.0f, float hi = 2.0f) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> v(n);
  for (float& x : v) x = dist(gen);
  return v;
}

// Sprinkles the IEEE edge values over v (every `every`-th element from `first`):
// NaN, +inf, -inf, -0, +0, the smallest subnormal.
inline void add_edge_values(std::vector<float>& v, std::size_t first = 3, std::size_t every = 11) {
  const float edges[] = {std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity(),
                         -std::numeric_limits<float>::infinity(), -0.0f, 0.0f,
                         std::numeric_limits<float>::denorm_min()};
  std::size_t e = 0;
  for (std::size_t i = first; i < v.size(); i += every) v[i] = edges[e++ % 6];
}

// The sizes that exercise a streaming kernel: empty, tiny, the float4 residues
// and the block boundaries.
inline const std::vector<std::int64_t>& stream_sizes() {
  static const std::vector<std::int64_t> sizes{0, 1, 2, 3, 4, 5, 7, 8, 255, 256, 257, 1023, 1025, 4099, 70001};
  return sizes;
}

}  // namespace dynasparse::test
