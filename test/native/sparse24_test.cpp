// 2:4 compression: the selection rule, the metadata layout, expansion and masks.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "dynasparse/ops/sparse24.h"
#include "sparse_test_util.h"

using namespace dynasparse;

namespace {

struct Compressed {
  std::vector<float> values;
  std::vector<std::int32_t> meta;
};

Compressed compress(const std::vector<float>& dense, std::int64_t rows, std::int64_t cols) {
  Compressed c{std::vector<float>(static_cast<std::size_t>(rows * cols / 2)),
               std::vector<std::int32_t>(static_cast<std::size_t>(rows * cpu::sparse24_meta_words(cols)), -1)};
  cpu::sparse24_from_dense(c.values.data(), c.meta.data(), dense.data(), rows, cols);
  return c;
}

std::vector<float> mask_of(const std::vector<float>& dense, std::int64_t rows, std::int64_t cols) {
  const Compressed c = compress(dense, rows, cols);
  std::vector<float> m(dense.size(), -1.0f);
  cpu::sparse24_mask(m.data(), c.meta.data(), rows, cols);
  return m;
}

}  // namespace

TEST_CASE("sparse24_from_dense keeps the two largest magnitudes with ties to the lower column") {
  CHECK(mask_of({0.5f, -3, 2, 1}, 1, 4) == std::vector<float>{0, 1, 1, 0});
  CHECK(mask_of({1, -1, 1, -1}, 1, 4) == std::vector<float>{1, 1, 0, 0});
  CHECK(mask_of({0, -0.0f, 0, 0}, 1, 4) == std::vector<float>{1, 1, 0, 0});
  CHECK(mask_of({0, 0, 0, 7}, 1, 4) == std::vector<float>{1, 0, 0, 1});
  CHECK(mask_of({2, 1, 2, 2}, 1, 4) == std::vector<float>{1, 0, 1, 0});
}

TEST_CASE("sparse24_from_dense ranks NaN above everything and infinities above finite values") {
  const float nan = std::numeric_limits<float>::quiet_NaN(), inf = std::numeric_limits<float>::infinity();
  CHECK(mask_of({1, nan, 5, 2}, 1, 4) == std::vector<float>{0, 1, 1, 0});
  CHECK(mask_of({nan, nan, nan, 1}, 1, 4) == std::vector<float>{1, 1, 0, 0});
  CHECK(mask_of({-inf, 3, nan, 4}, 1, 4) == std::vector<float>{1, 0, 1, 0});
}

TEST_CASE("the metadata layout: nibble p0 | p1 << 2 at bits 4 (g % 8) of word g / 8 and unused nibbles are 0") {
  // 9 groups in one row (2 words); group g keeps positions 1 and 3.
  std::vector<float> dense(36, 0.0f);
  for (int g = 0; g < 9; ++g) {
    dense[4 * g + 1] = 1.0f + g;
    dense[4 * g + 3] = -2.0f - g;
  }
  const Compressed c = compress(dense, 1, 36);
  const std::uint32_t nib = 1u | (3u << 2);
  std::uint32_t word0 = 0;
  for (int g = 0; g < 8; ++g) word0 |= nib << (4 * g);
  CHECK(static_cast<std::uint32_t>(c.meta[0]) == word0);
  CHECK(static_cast<std::uint32_t>(c.meta[1]) == nib);
  CHECK(c.values[0] == 1.0f);
  CHECK(c.values[1] == -2.0f);
  CHECK(c.values[16] == 9.0f);
  CHECK(c.values[17] == -10.0f);
}

TEST_CASE("sparse24_to_dense restores the kept values in place and zeros elsewhere") {
  const std::int64_t rows = 9, cols = 40;
  const auto dense = sparse_test::random_values(static_cast<std::size_t>(rows * cols), 3);
  const Compressed c = compress(dense, rows, cols);
  std::vector<float> back(dense.size(), -1.0f), mask(dense.size(), -1.0f);
  cpu::sparse24_to_dense(back.data(), c.values.data(), c.meta.data(), rows, cols);
  cpu::sparse24_mask(mask.data(), c.meta.data(), rows, cols);
  for (std::size_t f = 0; f < dense.size(); ++f) {
    CHECK((mask[f] == 1.0f || mask[f] == 0.0f));
    CHECK(back[f] == (mask[f] == 1.0f ? dense[f] : 0.0f));
  }
  for (std::int64_t i = 0; i < rows; ++i)
    for (std::int64_t g = 0; g < cols / 4; ++g) {
      float kept_min = INFINITY, dropped_max = 0;
      for (int p = 0; p < 4; ++p) {
        const float a = std::fabs(dense[i * cols + 4 * g + p]);
        if (mask[i * cols + 4 * g + p] == 1.0f) kept_min = std::fmin(kept_min, a);
        else dropped_max = std::fmax(dropped_max, a);
      }
      CHECK(kept_min >= dropped_max);
    }
}
