// Selection kernels against a plain reference. The kernel's sums are sequential
// float32 sums (one rounding per multiply and per add, -ffp-contract=off), so
// the reference below computes the same bits: comparisons are exact.
#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

#include "cpu/parallel.h"
#include "dynasparse/cpu_runtime.h"
#include "dynasparse/error.h"
#include "dynasparse/memory.h"
#include "dynasparse/ops/topk.h"
#include "test/native/error_code.h"
#include "test/native/topk_inputs.h"

using namespace dynasparse;

namespace {

using topk_inputs::Csr;
using topk_inputs::make_csr;
using topk_inputs::random_csr;

std::vector<float> random_floats(std::int64_t n, unsigned seed) {
  std::mt19937 gen(seed);
  std::normal_distribution<float> d(0.0f, 1.0f);
  std::vector<float> v(static_cast<std::size_t>(n));
  for (float& x : v) x = d(gen);
  return v;
}

struct Picked {
  std::vector<std::int32_t> rows, cols, indices;
  std::vector<float> scores;
  std::int64_t nan_count = 0;
  bool operator==(const Picked& o) const {
    // Scores compared bitwise-equal as floats (no NaN is ever selected).
    return rows == o.rows && cols == o.cols && indices == o.indices && scores == o.scores && nan_count == o.nan_count;
  }
};

Picked run_growth(const std::vector<float>& dy, const std::vector<float>& x, const Csr& p, std::int64_t batch, std::int64_t k) {
  Picked r;
  r.rows.resize(static_cast<std::size_t>(k));
  r.cols.resize(static_cast<std::size_t>(k));
  r.scores.resize(static_cast<std::size_t>(k));
  const cpu::Selection s = cpu::topk_growth(r.rows.data(), r.cols.data(), r.scores.data(), dy.data(), x.data(), p.row_ptr.data(),
                                            p.col_idx.data(), p.rows, p.cols, batch, k);
  r.rows.resize(static_cast<std::size_t>(s.count));
  r.cols.resize(static_cast<std::size_t>(s.count));
  r.scores.resize(static_cast<std::size_t>(s.count));
  r.nan_count = s.nan_count;
  return r;
}

Picked ref_growth(const std::vector<float>& dy, const std::vector<float>& x, const Csr& p, std::int64_t batch, std::int64_t k) {
  std::vector<std::pair<float, std::int64_t>> cands;
  Picked r;
  for (std::int64_t i = 0; i < p.rows; ++i) {
    std::int32_t next = p.row_ptr[i];
    for (std::int64_t j = 0; j < p.cols; ++j) {
      if (next < p.row_ptr[i + 1] && p.col_idx[next] == j) {
        ++next;
        continue;
      }
      float s = 0.0f;
      for (std::int64_t b = 0; b < batch; ++b) s += dy[i * batch + b] * x[j * batch + b];
      if (std::isnan(s)) ++r.nan_count;
      else cands.emplace_back(std::fabs(s), i * p.cols + j);
    }
  }
  std::sort(cands.begin(), cands.end(), [](auto& a, auto& b) { return a.first > b.first || (a.first == b.first && a.second < b.second); });
  for (std::int64_t n = 0; n < std::min<std::int64_t>(k, static_cast<std::int64_t>(cands.size())); ++n) {
    r.rows.push_back(static_cast<std::int32_t>(cands[n].second / p.cols));
    r.cols.push_back(static_cast<std::int32_t>(cands[n].second % p.cols));
    r.scores.push_back(cands[n].first);
  }
  return r;
}

Picked run_bottom(const Csr& m, std::int64_t k) {
  Picked r;
  for (auto* v : {&r.rows, &r.cols, &r.indices}) v->resize(static_cast<std::size_t>(k));
  r.scores.resize(static_cast<std::size_t>(k));
  const cpu::Selection s = cpu::bottomk_magnitude(r.rows.data(), r.cols.data(), r.indices.data(), r.scores.data(), m.row_ptr.data(),
                                                  m.col_idx.data(), m.values.data(), m.rows, m.cols, k);
  for (auto* v : {&r.rows, &r.cols, &r.indices}) v->resize(static_cast<std::size_t>(s.count));
  r.scores.resize(static_cast<std::size_t>(s.count));
  r.nan_count = s.nan_count;
  return r;
}

Picked ref_bottom(const Csr& m, std::int64_t k) {
  std::vector<std::pair<float, std::int64_t>> cands;
  Picked r;
  for (std::size_t v = 0; v < m.values.size(); ++v) {
    if (std::isnan(m.values[v])) ++r.nan_count;
    else cands.emplace_back(std::fabs(m.values[v]), static_cast<std::int64_t>(v));
  }
  std::sort(cands.begin(), cands.end(), [](auto& a, auto& b) { return a.first < b.first || (a.first == b.first && a.second < b.second); });
  for (std::int64_t n = 0; n < std::min<std::int64_t>(k, static_cast<std::int64_t>(cands.size())); ++n) {
    const std::int64_t v = cands[n].second;
    std::int32_t row = 0;
    while (m.row_ptr[row + 1] <= v) ++row;
    r.rows.push_back(row);
    r.cols.push_back(m.col_idx[v]);
    r.indices.push_back(static_cast<std::int32_t>(v));
    r.scores.push_back(cands[n].first);
  }
  return r;
}

using test::code_of;

}  // namespace

TEST_CASE("topk_growth matches the reference across tile residues, batch blocks and sizes") {
  // Tiles are 192 x 256 with 6-row groups, 16-column panels and batch blocks of 128.
  const std::vector<std::array<std::int64_t, 4>> cases = {
      {1, 1, 1, 1}, {6, 16, 1, 20}, {7, 17, 2, 50}, {193, 257, 3, 1000}, {97, 40, 128, 300}, {50, 300, 129, 2000}, {5, 600, 260, 77}};
  unsigned seed = 1;
  for (const auto& c : cases) {
    const auto [rows, cols, batch, k] = c;
    CAPTURE(rows);
    CAPTURE(cols);
    CAPTURE(batch);
    const auto dy = random_floats(rows * batch, seed++);
    const auto x = random_floats(cols * batch, seed++);
    const Csr p = random_csr(rows, cols, 0.25, seed++);
    const std::int64_t kk = std::min<std::int64_t>(k, rows * cols - static_cast<std::int64_t>(p.col_idx.size()));
    CHECK(run_growth(dy, x, p, batch, kk) == ref_growth(dy, x, p, batch, kk));
  }
}

TEST_CASE("topk_growth breaks ties by the lower flat index, across threads") {
  // Integer data: products take a handful of exact values, so ties are everywhere.
  const std::int64_t rows = 200, cols = 700, batch = 3;
  std::vector<float> dy(rows * batch), x(cols * batch);
  for (std::size_t n = 0; n < dy.size(); ++n) dy[n] = static_cast<float>((n * 7919) % 4);
  for (std::size_t n = 0; n < x.size(); ++n) x[n] = static_cast<float>(static_cast<int>((n * 104729) % 5) - 2);
  const Csr p = random_csr(rows, cols, 0.1, 7);
  for (std::int64_t k : {1, 10, 5000, 40000}) {
    CAPTURE(k);
    CHECK(run_growth(dy, x, p, batch, k) == ref_growth(dy, x, p, batch, k));
  }
}

TEST_CASE("topk_growth gives the same result on one thread as on the pool") {
  const std::int64_t rows = 120, cols = 520, batch = 20, k = 3000;
  const auto dy = random_floats(rows * batch, 11);
  const auto x = random_floats(cols * batch, 12);
  const Csr p = random_csr(rows, cols, 0.3, 13);
  const Picked pooled = run_growth(dy, x, p, batch, k);
  Picked serial;
  // A parallel_for inside a running one runs serially on its caller: one slot takes every tile.
  cpu::parallel_for(0, 1, 1, [&](std::int64_t, std::int64_t) { serial = run_growth(dy, x, p, batch, k); });
  CHECK(serial == pooled);
}

TEST_CASE("topk_growth: edge cases (empty rows, dense rows, single nonzero, 1 x 1, batch 0, k = 0, k = all)") {
  const std::int64_t rows = 9, cols = 31, batch = 5;
  const auto dy = random_floats(rows * batch, 3);
  const auto x = random_floats(cols * batch, 4);
  const Csr mixed = make_csr(rows, cols, [](std::int64_t i, std::int64_t j) { return i == 0 || i == 4 || (i == 6 && j == 30); });
  const std::int64_t all = rows * cols - static_cast<std::int64_t>(mixed.col_idx.size());
  CHECK(run_growth(dy, x, mixed, batch, all) == ref_growth(dy, x, mixed, batch, all));
  CHECK(run_growth(dy, x, mixed, batch, 0).rows.empty());
  const Csr single = make_csr(rows, cols, [](std::int64_t i, std::int64_t j) { return i == 3 && j == 0; });
  CHECK(run_growth(dy, x, single, batch, 17) == ref_growth(dy, x, single, batch, 17));
  const Csr none = make_csr(1, 1, [](std::int64_t, std::int64_t) { return false; });
  const Picked one = run_growth({-2.0f}, {3.0f}, none, 1, 1);
  CHECK(one.scores == std::vector<float>{6.0f});
  // batch 0: every product is 0; the order is the flat order of the non-stored positions.
  const Picked zero = run_growth({}, {}, mixed, 0, 40);
  CHECK(zero == ref_growth({}, {}, mixed, 0, 40));
  CHECK(zero.rows.front() == 1);
  const Csr no_rows = make_csr(0, 4, [](std::int64_t, std::int64_t) { return false; });
  CHECK(run_growth({}, x, no_rows, batch, 0).rows.empty());
}

// topk_dense: the reference over the matrix itself, and, where every value is
// finite, topk_growth against the identity (dense · Iᵀ sums dense[i, j] and
// exact zeros: the same scores), so the two selections are one.
Picked run_dense(const std::vector<float>& dense, const Csr& p, std::int64_t k) {
  Picked r;
  r.rows.resize(static_cast<std::size_t>(k));
  r.cols.resize(static_cast<std::size_t>(k));
  r.scores.resize(static_cast<std::size_t>(k));
  const cpu::Selection s = cpu::topk_dense(r.rows.data(), r.cols.data(), r.scores.data(), dense.data(), p.row_ptr.data(),
                                           p.col_idx.data(), p.rows, p.cols, k);
  r.rows.resize(static_cast<std::size_t>(s.count));
  r.cols.resize(static_cast<std::size_t>(s.count));
  r.scores.resize(static_cast<std::size_t>(s.count));
  r.nan_count = s.nan_count;
  return r;
}

TEST_CASE("topk_dense matches the reference and equals topk_growth against the identity") {
  for (auto [rows, cols] : std::vector<std::pair<std::int64_t, std::int64_t>>{{1, 1}, {7, 300}, {193, 257}, {400, 90}}) {
    CAPTURE(rows);
    CAPTURE(cols);
    const Csr p = random_csr(rows, cols, 0.3, static_cast<unsigned>(rows + cols));
    std::mt19937 gen(static_cast<unsigned>(rows * cols));
    std::vector<float> dense(static_cast<std::size_t>(rows * cols));
    // Quantized: many exact ties, broken by the flat index.
    for (float& v : dense) v = static_cast<float>(static_cast<int>(gen() % 41) - 20) * 0.25f;
    std::vector<float> eye(static_cast<std::size_t>(cols * cols), 0.0f);
    for (std::int64_t j = 0; j < cols; ++j) eye[static_cast<std::size_t>(j * cols + j)] = 1.0f;
    const std::int64_t all = rows * cols - p.row_ptr.back();
    for (std::int64_t k : std::vector<std::int64_t>{0, 1, all / 10, all / 2, all}) {
      if (k > all) continue;
      CAPTURE(k);
      const Picked got = run_dense(dense, p, k);
      CHECK(got == ref_growth(dense, eye, p, cols, k));
      CHECK(got == run_growth(dense, eye, p, cols, k));
    }
  }
}

TEST_CASE("topk_dense: NaN is counted and never selected, infinities are; k above the candidates is E_ARG") {
  const Csr p = make_csr(3, 4, [](std::int64_t i, std::int64_t j) { return i == j; });
  const float nan = std::numeric_limits<float>::quiet_NaN(), inf = std::numeric_limits<float>::infinity();
  const std::vector<float> dense{9, 1, nan, -inf, 2, 9, -3, nan, 0.5f, -0.0f, 9, 4};  // the diagonal (9s) is stored
  const Picked got = run_dense(dense, p, 7);
  CHECK(got.nan_count == 2);
  CHECK(got.rows == std::vector<std::int32_t>{0, 2, 1, 1, 0, 2, 2});
  CHECK(got.cols == std::vector<std::int32_t>{3, 3, 2, 0, 1, 0, 1});
  CHECK(got.scores == std::vector<float>{inf, 4, 3, 2, 1, 0.5f, 0});
  CHECK(code_of([] {
          const Csr q = make_csr(2, 2, [](std::int64_t i, std::int64_t j) { return i == j; });
          const std::vector<float> d(4, 1.0f);
          std::int32_t r[3], c[3];
          float s[3];
          cpu::topk_dense(r, c, s, d.data(), q.row_ptr.data(), q.col_idx.data(), 2, 2, 3);
        }) == ErrorCode::Arg);
}

TEST_CASE("topk_growth: NaN products are counted and never selected, infinities are") {
  const std::int64_t rows = 10, cols = 70, batch = 4;
  auto dy = random_floats(rows * batch, 5);
  auto x = random_floats(cols * batch, 6);
  dy[2 * batch + 1] = std::numeric_limits<float>::quiet_NaN();  // row 2: all NaN
  x[5 * batch + 3] = std::numeric_limits<float>::infinity();    // column 5: +-Inf
  dy[7 * batch + 3] = 0.0f;                                      // (7, 5): 0 * Inf = NaN
  const Csr p = random_csr(rows, cols, 0.2, 8);
  const std::int64_t all = rows * cols - static_cast<std::int64_t>(p.col_idx.size());
  const Picked got = run_growth(dy, x, p, batch, all);
  const Picked want = ref_growth(dy, x, p, batch, all);
  CHECK(got == want);
  CHECK(got.nan_count > cols / 2);
  CHECK(static_cast<std::int64_t>(got.rows.size()) == all - got.nan_count);
  CHECK(got.scores.front() == std::numeric_limits<float>::infinity());
  CHECK(std::find(got.rows.begin(), got.rows.end(), 2) == got.rows.end());
}

TEST_CASE("topk_growth: k above the candidates is E_ARG") {
  CHECK(code_of([] {
          const Csr p = make_csr(2, 2, [](std::int64_t i, std::int64_t j) { return i == j; });
          std::int32_t r[3], c[3];
          float s[3];
          const float v[2] = {1, 2};
          cpu::topk_growth(r, c, s, v, v, p.row_ptr.data(), p.col_idx.data(), 2, 2, 1, 3);
        }) == ErrorCode::Arg);
}

TEST_CASE("topk_growth allocates exactly its stated scratch, whatever rows x cols") {
  std::vector<std::int64_t> extras;
  for (std::int64_t n : {1536, 2048}) {
    const std::int64_t batch = 4, k = 100;
    const auto dy = random_floats(n * batch, 1);
    const auto x = random_floats(n * batch, 2);
    const Csr p = random_csr(n, n, 0.05, 3);
    std::vector<std::int32_t> r(k), c(k);
    std::vector<float> s(k);
    reset_peak_memory(Device::Cpu);
    const std::int64_t base = memory_stats(Device::Cpu).bytes_in_use;
    cpu::topk_growth(r.data(), c.data(), s.data(), dy.data(), x.data(), p.row_ptr.data(), p.col_idx.data(), n, n, batch, k);
    const std::int64_t extra = memory_stats(Device::Cpu).peak_bytes - base;
    CHECK(extra == cpu::topk_growth_scratch_bytes(n, n, batch, k));
    CHECK(memory_stats(Device::Cpu).bytes_in_use == base);
    extras.push_back(extra);
  }
  // 1.8 times the positions, the same scratch: per thread one tile and 1.5k candidates.
  CHECK(extras[0] == extras[1]);
  // Per thread: a 192 x 256 output tile, a 256 x 128 packed block of x, 1.5k candidates of 12 bytes
  // (about 322 KiB here, against 16 MiB for the dense 2048 x 2048 product).
  CHECK(extras[1] <= cpu::thread_count() * ((192 * 256 + 256 * 128) * 4 + 150 * 12 + 16));
}

TEST_CASE("bottomk_magnitude matches the reference, ties by value index, across chunks") {
  Csr m = random_csr(300, 400, 0.6, 21);  // ~72000 entries: several 32768-entry chunks
  std::mt19937 gen(5);
  // Few distinct magnitudes with both signs: many ties.
  for (float& v : m.values) v = static_cast<float>(static_cast<int>(gen() % 9) - 4) * 0.5f;
  for (std::int64_t k : std::vector<std::int64_t>{1, 100, 20000, static_cast<std::int64_t>(m.values.size())}) {
    CAPTURE(k);
    CHECK(run_bottom(m, k) == ref_bottom(m, k));
  }
}

// The radix selection (cpu/bottomk.cpp): keys spread over many high 16-bit bins,
// thresholds inside a bin, ties at the threshold split across ranges, signed
// zeros (one magnitude), subnormals, infinities and NaN (never selected, so k
// above the selectable count returns them all).
TEST_CASE("bottomk_magnitude: radix selection over wide magnitudes, large k, signed zeros, NaN, several ranges") {
  Csr m = random_csr(400, 600, 0.6, 33);  // ~144000 entries: more than one 32768-entry range per thread
  std::mt19937 gen(9);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  const std::int64_t nnz = static_cast<std::int64_t>(m.values.size());
  std::int64_t nans = 0;
  for (std::int64_t v = 0; v < nnz; ++v) {
    float x = std::ldexp(normal(gen), static_cast<int>(gen() % 60) - 30);
    switch (gen() % 40) {
      case 0: x = 0.0f; break;
      case 1: x = -0.0f; break;
      case 2: x = 0.75f; break;  // a heavily tied magnitude
      case 3: x = -0.75f; break;
      case 4: x = std::numeric_limits<float>::denorm_min() * static_cast<float>(gen() % 5); break;
      case 5: x = (gen() % 2 ? 1 : -1) * std::numeric_limits<float>::infinity(); break;
      case 6: x = std::numeric_limits<float>::quiet_NaN(); ++nans; break;
      default: break;
    }
    m.values[static_cast<std::size_t>(v)] = x;
  }
  const std::int64_t selectable = nnz - nans;
  for (std::int64_t k : std::vector<std::int64_t>{1, 2, 1000, nnz / 3, nnz / 2, selectable - 1, selectable, nnz}) {
    CAPTURE(k);
    const Picked got = run_bottom(m, k);
    CHECK(got.nan_count == nans);
    CHECK(static_cast<std::int64_t>(got.indices.size()) == std::min(k, selectable));
    CHECK(got == ref_bottom(m, k));
  }
  // A threshold in the tied magnitude: the ties go to the lowest indices.
  std::int64_t below = 0;
  for (float x : m.values) below += std::fabs(x) < 0.75f ? 1 : 0;
  for (std::int64_t k : {below + 1, below + 500}) {
    CAPTURE(k);
    CHECK(run_bottom(m, k) == ref_bottom(m, k));
  }
}

TEST_CASE("bottomk_magnitude: empty rows, NaN and infinities, k = 0") {
  Csr m = make_csr(6, 5, [](std::int64_t i, std::int64_t j) { return (i == 1 || i == 4) && j != 2; });
  m.values = {3, std::numeric_limits<float>::quiet_NaN(), -1, 0.5f, -std::numeric_limits<float>::infinity(), 2, 2, -0.5f};
  const Picked got = run_bottom(m, 8);
  CHECK(got == ref_bottom(m, 8));
  CHECK(got.nan_count == 1);
  CHECK(got.indices == std::vector<std::int32_t>{3, 7, 2, 5, 6, 0, 4});
  CHECK(got.rows == std::vector<std::int32_t>{1, 4, 1, 4, 4, 1, 4});
  CHECK(run_bottom(m, 0).indices.empty());
}

TEST_CASE("bottomk_magnitude: k above nnz is E_ARG") {
  CHECK(code_of([] {
          const Csr p = make_csr(2, 2, [](std::int64_t i, std::int64_t j) { return i == j; });
          std::int32_t r[3], c[3], ix[3];
          float s[3];
          cpu::bottomk_magnitude(r, c, ix, s, p.row_ptr.data(), p.col_idx.data(), p.values.data(), 2, 2, 3);
        }) == ErrorCode::Arg);
}
