// cuda::topk_growth and cuda::bottomk_magnitude against their cpu:: twins.
//
// Both sides compute the scores with the same roundings (each product entry a
// float32 sum in batch order, one rounding per multiply and per add, no FMA:
// cuda/select/growth_pass.cuh), and the selection order (score, then flat
// index) is total, so everything is compared exactly: the counts, the
// positions in order, and the scores bit for bit.
#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <tuple>
#include <vector>

#include "compare.h"
#include "device_array.h"
#include "dynasparse/error.h"
#include "dynasparse/memory.h"
#include "dynasparse/ops/topk.h"
#include "test/native/error_code.h"
#include "test/native/topk_inputs.h"

using namespace dynasparse;
using test::DeviceArray;

namespace {

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
constexpr float kInf = std::numeric_limits<float>::infinity();

using topk_inputs::Csr;
using topk_inputs::make_csr;
using topk_inputs::random_csr;

struct Picked {
  std::vector<std::int32_t> rows, cols, indices;
  std::vector<float> scores;
  std::int64_t count = 0, nan_count = 0;
  bool one_pass = false;  // cuda:: growth selections: found by the filter pass (not compared)
};

void require_same(const Picked& got, const Picked& want) {
  REQUIRE(got.count == want.count);
  REQUIRE(got.nan_count == want.nan_count);
  test::require_equal(got.rows, want.rows);
  test::require_equal(got.cols, want.cols);
  test::require_equal(got.indices, want.indices);
  test::require_same_bits(got.scores, want.scores);
}

template <typename T>
std::vector<T> first(std::vector<T> v, std::int64_t n) {
  v.resize(static_cast<std::size_t>(n));
  return v;
}

// A growth selection (topk_growth, topk_dense) of at most k positions, run by
// select(rows, cols, scores) on host arrays (cpu::) or device arrays (cuda::).
// Device entries past count stay unwritten (poisoned): the kernel writes exactly count.
template <typename Select>
Picked cpu_selection(std::int64_t k, Select select) {
  std::vector<std::int32_t> rows(static_cast<std::size_t>(k)), cols(static_cast<std::size_t>(k));
  std::vector<float> scores(static_cast<std::size_t>(k));
  const cpu::Selection s = select(rows.data(), cols.data(), scores.data());
  return Picked{first(rows, s.count), first(cols, s.count), {}, first(scores, s.count), s.count, s.nan_count};
}
template <typename Select>
Picked cuda_selection(std::int64_t k, Select select) {
  DeviceArray<std::int32_t> rows(static_cast<std::size_t>(k)), cols(static_cast<std::size_t>(k));
  DeviceArray<float> scores(static_cast<std::size_t>(k));
  const cpu::Selection s = select(rows.data(), cols.data(), scores.data());
  return Picked{first(rows.to_host(), s.count), first(cols.to_host(), s.count), {}, first(scores.to_host(), s.count),
                s.count, s.nan_count, s.one_pass};
}

Picked cpu_growth(const std::vector<float>& dy, const std::vector<float>& x, const Csr& p, std::int64_t batch,
                  std::int64_t k) {
  return cpu_selection(k, [&](std::int32_t* rows, std::int32_t* cols, float* scores) {
    return cpu::topk_growth(rows, cols, scores, dy.data(), x.data(), p.row_ptr.data(), p.col_idx.data(), p.rows, p.cols,
                            batch, k);
  });
}

Picked cuda_growth(const std::vector<float>& dy, const std::vector<float>& x, const Csr& p, std::int64_t batch,
                   std::int64_t k) {
  DeviceArray<float> d_dy(dy), d_x(x);
  DeviceArray<std::int32_t> rp(p.row_ptr), ci(p.col_idx);
  return cuda_selection(k, [&](std::int32_t* rows, std::int32_t* cols, float* scores) {
    return cuda::topk_growth(rows, cols, scores, d_dy.data(), d_x.data(), rp.data(), ci.data(), p.rows, p.cols,
                             p.row_ptr.back(), batch, k, test::kernel_stream());
  });
}

void check_growth(const std::vector<float>& dy, const std::vector<float>& x, const Csr& p, std::int64_t batch,
                  std::int64_t k) {
  CAPTURE(p.rows);
  CAPTURE(p.cols);
  CAPTURE(batch);
  CAPTURE(k);
  const Picked want = cpu_growth(dy, x, p, batch, k);
  require_same(cuda_growth(dy, x, p, batch, k), want);
}

std::int64_t candidates(const Csr& p) { return p.rows * p.cols - p.nnz(); }

// k = 0, 1, a few, about half, and every candidate.
std::vector<std::int64_t> k_values(std::int64_t all) {
  std::vector<std::int64_t> ks{0, 1, 7, all / 2, all};
  for (std::int64_t& k : ks) k = std::min(k, all);
  std::sort(ks.begin(), ks.end());
  ks.erase(std::unique(ks.begin(), ks.end()), ks.end());
  return ks;
}

Picked cpu_bottom(const Csr& m, std::int64_t k) {
  Picked r;
  std::vector<std::int32_t> rows(static_cast<std::size_t>(k)), cols(rows), indices(rows);
  std::vector<float> scores(static_cast<std::size_t>(k));
  const cpu::Selection s = cpu::bottomk_magnitude(rows.data(), cols.data(), indices.data(), scores.data(), m.row_ptr.data(),
                                                  m.col_idx.data(), m.values.data(), m.rows, m.cols, k);
  r.count = s.count;
  r.nan_count = s.nan_count;
  r.rows = first(rows, s.count);
  r.cols = first(cols, s.count);
  r.indices = first(indices, s.count);
  r.scores = first(scores, s.count);
  return r;
}

Picked cuda_bottom(const Csr& m, std::int64_t k) {
  DeviceArray<std::int32_t> rp(m.row_ptr), ci(m.col_idx);
  DeviceArray<float> va(m.values);
  DeviceArray<std::int32_t> rows(static_cast<std::size_t>(k)), cols(static_cast<std::size_t>(k)),
      indices(static_cast<std::size_t>(k));
  DeviceArray<float> scores(static_cast<std::size_t>(k));
  const cpu::Selection s = cuda::bottomk_magnitude(rows.data(), cols.data(), indices.data(), scores.data(), rp.data(),
                                                   ci.data(), va.data(), m.rows, m.cols, m.row_ptr.back(), k, test::kernel_stream());
  Picked r;
  r.count = s.count;
  r.nan_count = s.nan_count;
  r.rows = first(rows.to_host(), s.count);
  r.cols = first(cols.to_host(), s.count);
  r.indices = first(indices.to_host(), s.count);
  r.scores = first(scores.to_host(), s.count);
  return r;
}

void check_bottom(const Csr& m, std::int64_t k) {
  CAPTURE(m.rows);
  CAPTURE(m.cols);
  CAPTURE(m.nnz());
  CAPTURE(k);
  require_same(cuda_bottom(m, k), cpu_bottom(m, k));
}

using test::code_of;

}  // namespace

TEST_CASE("cuda::topk_growth equals cpu::topk_growth on random inputs (tile residues, batch 1, k from 0 to all)") {
  // Tiles are 128 x 128 with batch slices of 16: shapes below, at and past them.
  const std::vector<std::array<std::int64_t, 3>> shapes{{1, 1, 1},     {1, 140, 1},   {140, 1, 3},  {128, 128, 16},
                                                        {129, 127, 17}, {70, 90, 33}, {3, 260, 5}, {150, 260, 9}};
  unsigned seed = 1;
  for (const auto& [rows, cols, batch] : shapes) {
    const auto dy = test::random_floats(static_cast<std::size_t>(rows * batch), seed++);
    const auto x = test::random_floats(static_cast<std::size_t>(cols * batch), seed++);
    const Csr p = random_csr(rows, cols, 0.3, seed++);
    for (std::int64_t k : k_values(candidates(p))) check_growth(dy, x, p, batch, k);
  }
}

TEST_CASE("cuda::topk_growth: fully stored rows, empty rows, an empty pattern, batch 0") {
  const std::int64_t rows = 9, cols = 140, batch = 5;
  const auto dy = test::random_floats(rows * batch, 3);
  const auto x = test::random_floats(cols * batch, 4);
  SUBCASE("full and empty rows") {
    const Csr p = make_csr(rows, cols, [](std::int64_t i, std::int64_t j) { return i == 0 || i == 4 || (i == 6 && j == 139); });
    for (std::int64_t k : k_values(candidates(p))) check_growth(dy, x, p, batch, k);
  }
  SUBCASE("empty pattern") {
    const Csr p = make_csr(rows, cols, [](std::int64_t, std::int64_t) { return false; });
    for (std::int64_t k : k_values(candidates(p))) check_growth(dy, x, p, batch, k);
  }
  SUBCASE("every position stored but one") {
    const Csr p = make_csr(rows, cols, [](std::int64_t i, std::int64_t j) { return !(i == 5 && j == 33); });
    for (std::int64_t k : {0, 1}) check_growth(dy, x, p, batch, k);
  }
  SUBCASE("batch 0: every score is 0, a tie broken by index alone") {
    const Csr p = random_csr(rows, cols, 0.2, 9);
    for (std::int64_t k : k_values(candidates(p))) check_growth({}, {}, p, 0, k);
  }
}

TEST_CASE("cuda::topk_growth breaks exact ties by the lower flat index") {
  // Small integers: the products take a handful of exact values; repeated and
  // zero rows of dy and x make whole rows and columns of equal scores. 150 x
  // 140 positions (2 x 2 tiles) need 15 index bits: two index passes resolve
  // the ties.
  const std::int64_t rows = 150, cols = 140, batch = 3;
  std::vector<float> dy(rows * batch), x(cols * batch);
  for (std::size_t n = 0; n < dy.size(); ++n) dy[n] = static_cast<float>((n * 7919) % 4);
  for (std::size_t n = 0; n < x.size(); ++n) x[n] = static_cast<float>(static_cast<int>((n * 104729) % 5) - 2);
  for (std::int64_t b = 0; b < batch; ++b) {
    dy[static_cast<std::size_t>(10 * batch + b)] = 0.0f;                              // a zero row of dy
    dy[static_cast<std::size_t>(11 * batch + b)] = dy[static_cast<std::size_t>(12 * batch + b)];  // a repeated row
    x[static_cast<std::size_t>(130 * batch + b)] = x[static_cast<std::size_t>(3 * batch + b)];
  }
  const Csr p = random_csr(rows, cols, 0.1, 7);
  const std::int64_t all = candidates(p);
  for (std::int64_t k : {std::int64_t{1}, std::int64_t{10}, std::int64_t{500}, all / 3, all - 100, all})
    check_growth(dy, x, p, batch, k);
}

TEST_CASE("cuda::topk_growth: NaN is counted and never selected, Inf is selectable") {
  const std::int64_t rows = 20, cols = 135, batch = 4;
  auto dy = test::random_floats(rows * batch, 21);
  auto x = test::random_floats(cols * batch, 22);
  dy[static_cast<std::size_t>(2 * batch + 1)] = kNaN;   // row 2 of scores: NaN
  dy[static_cast<std::size_t>(5 * batch + 0)] = kInf;   // row 5: +-Inf, or NaN where x is 0 there
  x[static_cast<std::size_t>(7 * batch + 0)] = 0.0f;    // Inf * 0 = NaN at (5, 7)
  x[static_cast<std::size_t>(9 * batch + 2)] = -kInf;   // column 9: +-Inf (NaN at (5, 9): Inf - Inf)
  const Csr p = random_csr(rows, cols, 0.25, 23);
  for (std::int64_t k : k_values(candidates(p))) check_growth(dy, x, p, batch, k);
}

TEST_CASE("cuda::topk_growth refuses k above the candidates (E_ARG), like the CPU") {
  CHECK(code_of([] {
          DeviceArray<float> dy(std::vector<float>{1.0f, 2.0f}), x(std::vector<float>{1.0f, 2.0f});
          DeviceArray<std::int32_t> rp(std::vector<std::int32_t>{0, 1}), ci(std::vector<std::int32_t>{0});
          DeviceArray<std::int32_t> r(2), c(2);
          DeviceArray<float> s(2);
          cuda::topk_growth(r.data(), c.data(), s.data(), dy.data(), x.data(), rp.data(), ci.data(), 1, 2, 1, 1, 2,
                            test::kernel_stream());
        }) == ErrorCode::Arg);
}

TEST_CASE("cuda::topk_growth's scratch memory is O(k), never rows x cols") {
  const std::int64_t rows = 130, cols = 200, batch = 8, k = 20;
  const auto dy = test::random_floats(rows * batch, 31);
  const auto x = test::random_floats(cols * batch, 32);
  const Csr p = random_csr(rows, cols, 0.1, 33);
  // The emulation's scratch is host memory, a GPU's device memory.
  const Device device = test::kEmulated ? Device::Cpu : Device::Cuda;
  DeviceArray<float> d_dy(dy), d_x(x);
  DeviceArray<std::int32_t> rp(p.row_ptr), ci(p.col_idx), out_r(k), out_c(k);
  DeviceArray<float> out_s(k);
  const Stream s = test::kernel_stream();
  reset_peak_memory(device);
  const std::int64_t before = memory_stats(device).bytes_in_use;
  cuda::topk_growth(out_r.data(), out_c.data(), out_s.data(), d_dy.data(), d_x.data(), rp.data(), ci.data(), rows, cols,
                    p.row_ptr.back(), batch, k, s);
  const std::int64_t extra = memory_stats(device).peak_bytes - before;
  CHECK(extra <= cuda::selection_scratch_bytes(k));
  CHECK(cuda::selection_scratch_bytes(k) < rows * cols * static_cast<std::int64_t>(sizeof(float)));
  CHECK(memory_stats(device).bytes_in_use == before);
}

// topk_dense: topk_growth's passes reading the scores from a dense matrix.
TEST_CASE("cuda::topk_dense equals cpu::topk_dense (tile residues, ties, NaN and Inf, k from 0 to all)") {
  const std::vector<std::array<std::int64_t, 2>> shapes{{1, 1}, {1, 140}, {140, 1}, {128, 128}, {129, 257}, {70, 90}};
  unsigned seed = 11;
  for (const auto& [rows, cols] : shapes) {
    CAPTURE(rows);
    CAPTURE(cols);
    std::vector<float> dense = test::random_floats(static_cast<std::size_t>(rows * cols), seed++);
    for (std::size_t i = 0; i < dense.size(); i += 7) dense[i] = 0.5f;  // exact ties
    if (dense.size() > 20) dense[3] = kNaN, dense[17] = -kInf;
    const Csr p = random_csr(rows, cols, 0.3, seed++);
    DeviceArray<float> d_dense(dense);
    DeviceArray<std::int32_t> rp(p.row_ptr), ci(p.col_idx);
    for (std::int64_t k : k_values(candidates(p))) {
      CAPTURE(k);
      const Picked want = cpu_selection(k, [&](std::int32_t* r, std::int32_t* c, float* sc) {
        return cpu::topk_dense(r, c, sc, dense.data(), p.row_ptr.data(), p.col_idx.data(), rows, cols, k);
      });
      require_same(cuda_selection(k, [&](std::int32_t* r, std::int32_t* c, float* sc) {
                     return cuda::topk_dense(r, c, sc, d_dense.data(), rp.data(), ci.data(), rows, cols,
                                             p.row_ptr.back(), k, test::kernel_stream());
                   }),
                   want);
    }
  }
}

// The one-pass growth selection (cuda/topk.cu): with enough tiles, a threshold
// from sampled tiles (128 x 128 tiles (tm, tn) with tn = tm mod stride) and a
// filter pass; the exact passes when the filter's output cannot be the
// selection. Both must give the CPU's result.
namespace {

Picked dense_selection_checked(const std::vector<float>& dense, const Csr& p, std::int64_t k) {
  CAPTURE(p.rows);
  CAPTURE(p.cols);
  CAPTURE(k);
  DeviceArray<float> d_dense(dense);
  DeviceArray<std::int32_t> rp(p.row_ptr), ci(p.col_idx);
  const Picked want = cpu_selection(k, [&](std::int32_t* r, std::int32_t* c, float* sc) {
    return cpu::topk_dense(r, c, sc, dense.data(), p.row_ptr.data(), p.col_idx.data(), p.rows, p.cols, k);
  });
  const Picked got = cuda_selection(k, [&](std::int32_t* r, std::int32_t* c, float* sc) {
    return cuda::topk_dense(r, c, sc, d_dense.data(), rp.data(), ci.data(), p.rows, p.cols, p.row_ptr.back(), k,
                            test::kernel_stream());
  });
  require_same(got, want);
  return got;
}

// Scores by whether (i, j) lies in a tile the sampled passes read at `stride`.
template <typename Score>
std::vector<float> scores_by_tile(std::int64_t rows, std::int64_t cols, int stride, Score score) {
  std::vector<float> v(static_cast<std::size_t>(rows * cols));
  for (std::int64_t i = 0; i < rows; ++i)
    for (std::int64_t j = 0; j < cols; ++j)
      v[static_cast<std::size_t>(i * cols + j)] = score(i, j, (j / 128) % stride == (i / 128) % stride);
  return v;
}

}  // namespace

TEST_CASE("cuda growth selections: one filter pass behind a sampled threshold, the exact passes when it cannot serve") {
  SUBCASE("random scores with NaN and Inf: the filter pass serves every k up to 10%") {
    // 512 x 512: 4 x 4 tiles, stride 4; 1100 x 2100: 9 x 17 tiles, stride 8.
    for (const auto& [rows, cols] : std::vector<std::array<std::int64_t, 2>>{{512, 512}, {1100, 2100}}) {
      std::vector<float> dense = test::random_floats(static_cast<std::size_t>(rows * cols), 5);
      for (std::size_t i = 11; i < dense.size(); i += 997) dense[i] = kNaN;
      dense[5] = kInf, dense[700] = -kInf;
      const Csr p = random_csr(rows, cols, 0.1, 6);
      const std::int64_t all = candidates(p);
      for (std::int64_t k : {std::int64_t{1}, std::int64_t{100}, all / 100, 3 * all / 100, all / 10}) {
        CAPTURE(k);
        CHECK(dense_selection_checked(dense, p, k).one_pass);
      }
    }
  }
  SUBCASE("topk_growth: the products' selection in one pass") {
    const std::int64_t rows = 520, cols = 600, batch = 5;
    const auto dy = test::random_floats(static_cast<std::size_t>(rows * batch), 7);
    const auto x = test::random_floats(static_cast<std::size_t>(cols * batch), 8);
    const Csr p = random_csr(rows, cols, 0.1, 9);
    DeviceArray<float> d_dy(dy), d_x(x);
    DeviceArray<std::int32_t> rp(p.row_ptr), ci(p.col_idx);
    for (std::int64_t k : {std::int64_t{37}, candidates(p) / 50}) {
      CAPTURE(k);
      check_growth(dy, x, p, batch, k);
      const Picked one = cuda_growth(dy, x, p, batch, k);
      CHECK(one.one_pass);
      // allow_one_pass = false: the exact passes alone, the same selection.
      const Picked exact = cuda_selection(k, [&](std::int32_t* r, std::int32_t* c, float* sc) {
        return cuda::topk_growth(r, c, sc, d_dy.data(), d_x.data(), rp.data(), ci.data(), rows, cols, p.row_ptr.back(),
                                 batch, k, test::kernel_stream(), false);
      });
      CHECK_FALSE(exact.one_pass);
      require_same(exact, one);
    }
  }
  SUBCASE("a sample of the largest scores: the threshold admits fewer than k, so the exact passes run") {
    const std::int64_t rows = 512, cols = 512;
    const auto u = test::random_floats(static_cast<std::size_t>(rows * cols), 10, 0.0f, 1.0f);
    const auto dense = scores_by_tile(rows, cols, 4, [&](std::int64_t i, std::int64_t j, bool sampled) {
      return (sampled ? 10.0f : 0.0f) + u[static_cast<std::size_t>(i * cols + j)];
    });
    const Csr p = random_csr(rows, cols, 0.1, 11);
    CHECK_FALSE(dense_selection_checked(dense, p, 20000).one_pass);
  }
  SUBCASE("a sample of the smallest scores: the filter overflows its capacity, so the exact passes run") {
    const std::int64_t rows = 512, cols = 512;
    const auto u = test::random_floats(static_cast<std::size_t>(rows * cols), 12, 0.0f, 1.0f);
    const auto dense = scores_by_tile(rows, cols, 4, [&](std::int64_t i, std::int64_t j, bool sampled) {
      return (sampled ? 0.0f : 10.0f) + u[static_cast<std::size_t>(i * cols + j)] * (sampled ? 0.001f : 1.0f);
    });
    const Csr p = random_csr(rows, cols, 0.1, 13);
    CHECK_FALSE(dense_selection_checked(dense, p, 20000).one_pass);
  }
  SUBCASE("one score everywhere: the tie crowds the threshold, so the exact passes break it by index") {
    const Csr p = random_csr(512, 512, 0.1, 14);
    const std::vector<float> dense(512 * 512, 0.5f);
    for (std::int64_t k : {std::int64_t{1}, std::int64_t{5000}}) CHECK_FALSE(dense_selection_checked(dense, p, k).one_pass);
  }
  SUBCASE("k past half the candidates, or too few tiles: no sampling") {
    const Csr big = random_csr(512, 512, 0.1, 15);
    const auto dense = test::random_floats(512 * 512, 16);
    CHECK_FALSE(dense_selection_checked(dense, big, candidates(big) * 6 / 10).one_pass);
    const Csr small = random_csr(300, 900, 0.1, 17);  // 3 x 8 tiles
    const auto dense_small = test::random_floats(300 * 900, 18);
    CHECK_FALSE(dense_selection_checked(dense_small, small, 1000).one_pass);
  }
}

TEST_CASE("cuda::bottomk_magnitude equals cpu::bottomk_magnitude bit for bit") {
  SUBCASE("random values with the IEEE edge values (NaN, +-Inf, +-0, subnormal)") {
    for (const auto& [rows, cols, density] : std::vector<std::tuple<std::int64_t, std::int64_t, double>>{
             {1, 1, 1.0}, {1, 50, 0.5}, {33, 70, 0.3}, {200, 90, 0.4}}) {
      Csr m = random_csr(rows, cols, density, static_cast<unsigned>(rows + cols));
      m.values = test::random_floats(m.values.size(), static_cast<std::uint32_t>(rows), -3.0f, 3.0f);
      test::add_edge_values(m.values);
      const std::int64_t nan_count = std::count_if(m.values.begin(), m.values.end(), [](float v) { return std::isnan(v); });
      for (std::int64_t k : k_values(m.nnz())) check_bottom(m, k);
      if (m.nnz() > nan_count) check_bottom(m, m.nnz() - nan_count);  // exactly the selectable ones
    }
  }
  SUBCASE("equal magnitudes of opposite signs, and all values equal") {
    Csr m = random_csr(60, 80, 0.5, 41);
    for (std::size_t v = 0; v < m.values.size(); ++v)
      m.values[v] = static_cast<float>(static_cast<int>(v % 7) - 3) * 0.5f;  // -1.5 .. 1.5: each |v| many times
    for (std::int64_t k : k_values(m.nnz())) check_bottom(m, k);
    for (std::int64_t k : {std::int64_t{300}, std::int64_t{301}}) check_bottom(m, k);
    std::fill(m.values.begin(), m.values.end(), -2.0f);
    for (std::int64_t k : k_values(m.nnz())) check_bottom(m, k);
  }
  SUBCASE("empty rows, an empty matrix, every value NaN") {
    Csr m = make_csr(12, 30, [](std::int64_t i, std::int64_t j) { return i % 3 == 1 && j % 2 == 0; });
    for (std::int64_t k : k_values(m.nnz())) check_bottom(m, k);
    const Csr empty = make_csr(4, 5, [](std::int64_t, std::int64_t) { return false; });
    check_bottom(empty, 0);
    std::fill(m.values.begin(), m.values.end(), kNaN);
    for (std::int64_t k : k_values(m.nnz())) check_bottom(m, k);
  }
}

TEST_CASE("cuda::bottomk_magnitude orders every selection size (the device sort's chunks, runs and residues)") {
  // The sort (select/sort.cuh) sorts chunks of 8 records, then merges runs of
  // 8, 16, 32, ...: every count from 1 to 80, and counts next to a power of
  // two times 8, in ascending, descending and shuffled arrival orders.
  Csr m = make_csr(1, 1100, [](std::int64_t, std::int64_t) { return true; });
  std::vector<std::int64_t> ks;
  for (std::int64_t k = 1; k <= 80; ++k) ks.push_back(k);
  for (std::int64_t run : {128, 256, 512, 1024})
    for (std::int64_t d : {-1, 0, 1}) ks.push_back(run + d);
  for (int order = 0; order < 3; ++order) {
    CAPTURE(order);
    for (std::size_t v = 0; v < m.values.size(); ++v)
      m.values[v] = order == 0 ? static_cast<float>(v) : order == 1 ? static_cast<float>(m.values.size() - v) : 0.0f;
    if (order == 2) m.values = test::random_floats(m.values.size(), 77, -1.0f, 1.0f);
    for (std::int64_t k : ks) check_bottom(m, k);
  }
}

TEST_CASE("cuda::bottomk_magnitude refuses k above nnz (E_ARG), like the CPU") {
  CHECK(code_of([] {
          DeviceArray<std::int32_t> rp(std::vector<std::int32_t>{0, 1}), ci(std::vector<std::int32_t>{0});
          DeviceArray<float> va(std::vector<float>{1.0f});
          DeviceArray<std::int32_t> r(2), c(2), i(2);
          DeviceArray<float> s(2);
          cuda::bottomk_magnitude(r.data(), c.data(), i.data(), s.data(), rp.data(), ci.data(), va.data(), 1, 1, 1, 2,
                                  test::kernel_stream());
        }) == ErrorCode::Arg);
}
