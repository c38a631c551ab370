// cuda::sparse24_from_dense / _to_dense / _mask against their cpu:: twins. The
// kernels only compare and copy floats, so values are compared bit for bit
// (NaN payloads included) and the metadata words exactly.
#include <doctest/doctest.h>

#include <cstdint>
#include <utility>
#include <vector>

#include "compare.h"
#include "device_array.h"
#include "dynasparse/ops/sparse24.h"
#include "sparse24_inputs.h"

using namespace dynasparse;
using test::DeviceArray;

namespace {

const std::vector<std::pair<std::int64_t, std::int64_t>>& shapes() {
  // cols: one group, one word exactly, words with unused nibbles, many words.
  static const std::vector<std::pair<std::int64_t, std::int64_t>> s{
      {0, 8}, {1, 4}, {1, 8}, {3, 36}, {5, 32}, {37, 68}, {300, 4}, {17, 260}, {2, 0}};
  return s;
}

}  // namespace

TEST_CASE("cuda::sparse24_from_dense gives the CPU's values and metadata bit for bit (NaN, ties, +-0)") {
  for (auto [rows, cols] : shapes()) {
    for (bool edges : {false, true}) {
      CAPTURE(rows);
      CAPTURE(cols);
      CAPTURE(edges);
      const std::vector<float> dense = test::dense24_input(rows, cols, 3, edges);
      const test::Host24 want = test::compress24(dense, rows, cols);
      DeviceArray<float> d_dense(dense), d_values(want.values.size());
      DeviceArray<std::int32_t> d_meta(want.meta.size());
      cuda::sparse24_from_dense(d_values.data(), d_meta.data(), d_dense.data(), rows, cols, test::kernel_stream());
      test::require_same_bits(d_values.to_host(), want.values);
      test::require_equal(d_meta.to_host(), want.meta);
    }
  }
}

TEST_CASE("cuda::sparse24_from_dense: the selection cases of the CPU test, one group each") {
  const float nan = std::numeric_limits<float>::quiet_NaN(), inf = std::numeric_limits<float>::infinity();
  const std::vector<std::vector<float>> groups{{0.5f, -3, 2, 1}, {1, -1, 1, -1}, {0, -0.0f, 0, 0}, {0, 0, 0, 7},
                                               {2, 1, 2, 2},     {1, nan, 5, 2}, {nan, nan, nan, 1}, {-inf, 3, nan, 4}};
  std::vector<float> dense;
  for (const auto& g : groups) dense.insert(dense.end(), g.begin(), g.end());
  const std::int64_t rows = static_cast<std::int64_t>(groups.size());
  const test::Host24 want = test::compress24(dense, rows, 4);
  DeviceArray<float> d_dense(dense), d_values(want.values.size());
  DeviceArray<std::int32_t> d_meta(want.meta.size());
  cuda::sparse24_from_dense(d_values.data(), d_meta.data(), d_dense.data(), rows, 4, test::kernel_stream());
  test::require_same_bits(d_values.to_host(), want.values);
  test::require_equal(d_meta.to_host(), want.meta);
}

TEST_CASE("cuda::sparse24_to_dense and cuda::sparse24_mask equal the CPU's bit for bit") {
  for (auto [rows, cols] : shapes()) {
    CAPTURE(rows);
    CAPTURE(cols);
    const test::Host24 a = test::random24(rows, cols, 5, true);
    std::vector<float> want_dense(static_cast<std::size_t>(rows * cols)), want_mask(want_dense.size());
    cpu::sparse24_to_dense(want_dense.data(), a.values.data(), a.meta.data(), rows, cols);
    cpu::sparse24_mask(want_mask.data(), a.meta.data(), rows, cols);
    DeviceArray<float> d_values(a.values), d_dense(want_dense.size()), d_mask(want_mask.size());
    DeviceArray<std::int32_t> d_meta(a.meta);
    cuda::sparse24_to_dense(d_dense.data(), d_values.data(), d_meta.data(), rows, cols, test::kernel_stream());
    cuda::sparse24_mask(d_mask.data(), d_meta.data(), rows, cols, test::kernel_stream());
    test::require_same_bits(d_dense.to_host(), want_dense);
    test::require_same_bits(d_mask.to_host(), want_mask);
  }
}

TEST_CASE("cuda::sparse24_mma_meta: every lane's nibbles name the CPU positions; padding is the valid 0b0100") {
  for (auto [rows, cols] : std::vector<std::pair<std::int64_t, std::int64_t>>{{1, 4}, {17, 36}, {40, 132}, {16, 64}}) {
    CAPTURE(rows);
    CAPTURE(cols);
    const test::Host24 a = test::random24(rows, cols, 6);
    const Sparse24MmaShape shape = sparse24_mma_shape(rows, cols);
    DeviceArray<std::int32_t> d_meta(a.meta);
    DeviceArray<std::uint32_t> d_mma(static_cast<std::size_t>(shape.meta_words()));
    cuda::sparse24_mma_meta(d_mma.data(), d_meta.data(), rows, cols, test::kernel_stream());
    const std::vector<std::uint32_t> mma = d_mma.to_host();
    const std::int64_t words = cpu::sparse24_meta_words(cols), pairs = shape.k_tiles / 2;
    // Decode by the PTX layout (cuda/mma_sp.cuh): lane 4g + 2S + h holds, for
    // tile kt = 2 kt2 + S, chunks 4h..4h+3 of rows g (low half) and g + 8 (high).
    for (std::int64_t mt = 0; mt < shape.m_tiles; ++mt)
      for (std::int64_t kt2 = 0; kt2 < pairs; ++kt2)
        for (int lane = 0; lane < 32; ++lane) {
          const std::uint32_t e = mma[static_cast<std::size_t>((mt * pairs + kt2) * 32 + lane)];
          const int g = lane / 4, sel = (lane % 4) / 2, h = lane % 2;
          for (int row_half = 0; row_half < 2; ++row_half)
            for (int q = 0; q < 4; ++q) {
              const std::uint32_t nibble = (e >> (16 * row_half + 4 * q)) & 0xFu;
              const std::int64_t r = mt * 16 + g + 8 * row_half, group = (2 * kt2 + sel) * 8 + 4 * h + q;
              std::uint32_t want = 0x4u;
              if (r < rows && group < cols / 4)
                want = (static_cast<std::uint32_t>(a.meta[static_cast<std::size_t>(r * words + group / 8)]) >>
                        (4 * (group % 8))) & 0xFu;
              INFO("tile " << mt << "," << kt2 << " lane " << lane << " row " << r << " group " << group);
              REQUIRE(nibble == want);
              REQUIRE((nibble & 3u) < (nibble >> 2));  // ordered_metadata
            }
        }
  }
}
