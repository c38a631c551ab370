// The CUDA kernels against their CPU twins. This one source runs on a GPU
// (dynasparse_cuda_gpu_tests) and, in CI, through the SIMT host emulation
// (dynasparse_simt_tests), where the very same cuda/*.cu files run on the CPU.
#include <doctest/doctest.h>

#include <cstdint>
#include <cstring>
#include <utility>
#include <vector>

#include "device_array.h"
#include "dynasparse/ops/dense.h"
#include "dynasparse/ops/elementwise.h"
#include "dynasparse/ops/rng.h"
#include "dynasparse/philox.h"

using namespace dynasparse;
using test::DeviceArray;

namespace {

// The legacy default stream: the test's cudaMemcpy calls are ordered after it.
constexpr Stream kStream = nullptr;

std::uint32_t bits_of(float v) {
  std::uint32_t b;
  std::memcpy(&b, &v, sizeof b);
  return b;
}

// Bit-for-bit equality, reporting the first element that differs.
void require_same_bits(const std::vector<float>& got, const std::vector<float>& want) {
  REQUIRE(got.size() == want.size());
  for (std::size_t i = 0; i < got.size(); ++i) {
    if (bits_of(got[i]) != bits_of(want[i])) {
      INFO("element " << i << " of " << got.size() << ": cuda " << got[i] << ", cpu " << want[i]);
      REQUIRE(bits_of(got[i]) == bits_of(want[i]));
    }
  }
}

}  // namespace

TEST_CASE("cuda::fill matches cpu::fill, with block residues") {
  for (std::int64_t n : {1, 255, 256, 257, 4099, 100003}) {
    CAPTURE(n);
    DeviceArray<float> out(static_cast<std::size_t>(n));
    cuda::fill(out.data(), n, -2.25f, kStream);
    std::vector<float> want(static_cast<std::size_t>(n));
    cpu::fill(want.data(), n, -2.25f);
    require_same_bits(out.to_host(), want);
  }
}

TEST_CASE("cuda::fill of zero elements writes nothing") {
  DeviceArray<float> out(8);
  cuda::fill(out.data(), 0, 1.0f, kStream);
  for (float v : out.to_host()) CHECK(bits_of(v) == 0xFFFFFFFFu);  // still the poison
}

TEST_CASE("cuda::fill_uniform is bit-identical to cpu::fill_uniform") {
  for (std::int64_t n : {1, 1000, 65537}) {
    for (std::uint64_t seed : {0ull, 42ull, 0xFFFFFFFFFFFFull}) {
      CAPTURE(n);
      CAPTURE(seed);
      DeviceArray<float> out(static_cast<std::size_t>(n));
      cuda::fill_uniform(out.data(), n, seed, rng::kStreamTensor, -0.5f, 3.0f, kStream);
      std::vector<float> want(static_cast<std::size_t>(n));
      cpu::fill_uniform(want.data(), n, seed, rng::kStreamTensor, -0.5f, 3.0f);
      require_same_bits(out.to_host(), want);
    }
  }
}

TEST_CASE("cuda::fill_normal is bit-identical to cpu::fill_normal") {
  for (std::int64_t n : {1, 1000, 65537}) {
    for (std::uint64_t seed : {1ull, 7ull}) {
      CAPTURE(n);
      CAPTURE(seed);
      DeviceArray<float> out(static_cast<std::size_t>(n));
      cuda::fill_normal(out.data(), n, seed, rng::kStreamPattern, 0.25f, 1.5f, kStream);
      std::vector<float> want(static_cast<std::size_t>(n));
      cpu::fill_normal(want.data(), n, seed, rng::kStreamPattern, 0.25f, 1.5f);
      require_same_bits(out.to_host(), want);
    }
  }
}

TEST_CASE("cuda::transpose of more row tiles than a grid's y dimension holds (65535): the rows past it are walked") {
  // 65535 tiles of 32 rows, plus 3 rows: 2,097,123 x 1.
  const std::int64_t rows = 65535LL * 32 + 3, cols = 1;
  std::vector<float> in(static_cast<std::size_t>(rows));
  for (std::size_t i = 0; i < in.size(); ++i) in[i] = static_cast<float>(i % 1000003);
  DeviceArray<float> d_in(in);
  DeviceArray<float> d_out(static_cast<std::size_t>(rows));
  cuda::transpose(d_out.data(), d_in.data(), rows, cols, cols, kStream);
  require_same_bits(d_out.to_host(), in);  // a column's transpose is the same values as a row
}

TEST_CASE("cuda::transpose matches cpu::transpose on tile residues, thin shapes and padded rows") {
  const std::vector<std::pair<std::int64_t, std::int64_t>> shapes{
      {1, 1}, {1, 100}, {100, 1}, {3, 70}, {31, 33}, {32, 32}, {33, 31}, {64, 65}, {257, 129}};
  for (auto [rows, cols] : shapes)
    for (std::int64_t pad : {0, 3}) {
      CAPTURE(rows);
      CAPTURE(cols);
      CAPTURE(pad);
      const std::int64_t ld = cols + pad;
      std::vector<float> in(static_cast<std::size_t>(rows * ld));
      for (std::size_t i = 0; i < in.size(); ++i) in[i] = static_cast<float>(i) * 0.5f - 7.0f;
      DeviceArray<float> d_in(in);
      DeviceArray<float> d_out(static_cast<std::size_t>(rows * cols));
      cuda::transpose(d_out.data(), d_in.data(), rows, cols, ld, kStream);
      std::vector<float> want(static_cast<std::size_t>(rows * cols));
      cpu::transpose(want.data(), in.data(), rows, cols, ld);
      require_same_bits(d_out.to_host(), want);
      require_same_bits(d_in.to_host(), in);  // the input is left alone
    }
}
