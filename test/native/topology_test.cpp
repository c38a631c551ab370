// Topology rebuild: the new pattern is (kept) ∪ (grown), sorted per row, with a
// source map that keeps old entries (kept and regrown) and marks new ones -1.
#include <doctest/doctest.h>

#include <cstdint>
#include <cstdlib>
#include <functional>
#include <map>
#include <set>
#include <utility>
#include <vector>

#include "dynasparse/error.h"
#include "dynasparse/ops/topology.h"
#include "test/native/error_code.h"
#include "dynasparse/philox.h"

using namespace dynasparse;

namespace {

struct Csr {
  std::int64_t rows, cols;
  std::vector<std::int32_t> row_ptr, col_idx;
};

cpu::TopologyResult rebuild(const Csr& m, const std::vector<std::int32_t>& drop, const std::vector<std::int32_t>& gr,
                            const std::vector<std::int32_t>& gc) {
  return cpu::topology_rebuild(m.row_ptr.data(), m.col_idx.data(), m.rows, m.cols, static_cast<std::int64_t>(m.col_idx.size()),
                               drop.data(), static_cast<std::int64_t>(drop.size()), gr.data(), gc.data(),
                               static_cast<std::int64_t>(gr.size()));
}

std::vector<std::int32_t> ints(const BufferPtr& b, std::int64_t n) { return {b->as<std::int32_t>(), b->as<std::int32_t>() + n}; }

using test::code_of;

}  // namespace

TEST_CASE("topology rebuild merges kept and grown entries and maps kept and regrown ones to their old index") {
  // 3 x 5: row 0 {0, 2, 4}, row 1 {1}, row 2 {}
  const Csr m{3, 5, {0, 3, 4, 4}, {0, 2, 4, 1}};
  // drop value indices 1 (0,2) and 3 (1,1); grow (0,2) again, (2,3), (0,1)
  const auto r = rebuild(m, {1, 3}, {0, 2, 0}, {2, 3, 1});
  REQUIRE(r.nnz == 5);
  CHECK(r.regrown == 1);
  CHECK(ints(r.row_ptr, 4) == std::vector<std::int32_t>{0, 4, 4, 5});
  CHECK(ints(r.col_idx, 5) == std::vector<std::int32_t>{0, 1, 2, 4, 3});
  CHECK(ints(r.map, 5) == std::vector<std::int32_t>{0, -1, 1, 2, -1});
}

TEST_CASE("gather_by_map carries values and zeroes new entries") {
  const std::vector<float> src{1.5f, -2.0f, 3.0f};
  const std::vector<std::int32_t> map{2, -1, 0, -1};
  std::vector<float> out(4, 7.0f);
  cpu::gather_by_map(out.data(), src.data(), map.data(), 4);
  CHECK(out == std::vector<float>{3.0f, 0.0f, 1.5f, 0.0f});
}

TEST_CASE("topology rebuild rejects bad drop lists and grow positions with E_ARG") {
  const Csr m{2, 4, {0, 2, 3}, {1, 3, 0}};
  CHECK(code_of([&] { rebuild(m, {3}, {}, {}); }) == ErrorCode::Arg);              // out of range
  CHECK(rebuild(m, {1, 0}, {}, {}).nnz == 1);                                     // any order
  CHECK(code_of([&] { rebuild(m, {0, 0}, {}, {}); }) == ErrorCode::Arg);           // duplicate drop
  CHECK(code_of([&] { rebuild(m, {}, {2}, {0}); }) == ErrorCode::Arg);             // row out of range
  CHECK(code_of([&] { rebuild(m, {}, {0}, {-1}); }) == ErrorCode::Arg);            // col out of range
  CHECK(code_of([&] { rebuild(m, {}, {0, 0}, {2, 2}); }) == ErrorCode::Arg);       // duplicate grow
  CHECK(code_of([&] { rebuild(m, {0}, {0}, {3}); }) == ErrorCode::Arg);            // grows a kept position
  CHECK(rebuild(m, {0}, {0}, {1}).regrown == 1);                                   // a dropped one may come back
}

TEST_CASE("topology rebuild matches a set-based reference on random patterns") {
  for (std::uint64_t seed = 1; seed <= 20; ++seed) {
    const std::int64_t rows = 1 + static_cast<std::int64_t>(rng::bits_at(seed, 7, 0) % 40);
    const std::int64_t cols = 1 + static_cast<std::int64_t>(rng::bits_at(seed, 7, 1) % 40);
    Csr m{rows, cols, {0}, {}};
    std::uint64_t counter = 2;
    for (std::int64_t r = 0; r < rows; ++r) {
      for (std::int64_t c = 0; c < cols; ++c)
        if (rng::bits_at(seed, 7, counter++) % 3 == 0) m.col_idx.push_back(static_cast<std::int32_t>(c));
      m.row_ptr.push_back(static_cast<std::int32_t>(m.col_idx.size()));
    }
    // Old positions and their indices; drop about a third; grow among non-kept positions.
    std::map<std::pair<std::int32_t, std::int32_t>, std::int32_t> old;
    for (std::int64_t r = 0; r < rows; ++r)
      for (std::int32_t k = m.row_ptr[r]; k < m.row_ptr[r + 1]; ++k) old[{static_cast<std::int32_t>(r), m.col_idx[k]}] = k;
    std::vector<std::int32_t> drop;
    std::set<std::int32_t> dropped;
    for (std::int32_t k = 0; k < static_cast<std::int32_t>(m.col_idx.size()); ++k)
      if (rng::bits_at(seed, 8, static_cast<std::uint64_t>(k)) % 3 == 0) {
        drop.push_back(k);
        dropped.insert(k);
      }
    std::vector<std::int32_t> gr, gc;
    std::map<std::pair<std::int32_t, std::int32_t>, std::int32_t> expected;  // position -> expected map value
    for (const auto& [pos, k] : old)
      if (!dropped.count(k)) expected[pos] = k;
    // grow in descending flat order, so the kernel has to sort
    for (std::int64_t flat = rows * cols - 1; flat >= 0; --flat) {
      const auto pos = std::make_pair(static_cast<std::int32_t>(flat / cols), static_cast<std::int32_t>(flat % cols));
      const auto it = old.find(pos);
      const bool kept = it != old.end() && !dropped.count(it->second);
      if (kept || rng::bits_at(seed, 9, static_cast<std::uint64_t>(flat)) % 4 != 0) continue;
      gr.push_back(pos.first);
      gc.push_back(pos.second);
      expected[pos] = it != old.end() ? it->second : -1;
    }
    const auto r = rebuild(m, drop, gr, gc);
    REQUIRE(r.nnz == static_cast<std::int64_t>(expected.size()));
    const auto rp = ints(r.row_ptr, rows + 1);
    const auto ci = ints(r.col_idx, r.nnz);
    const auto mp = ints(r.map, r.nnz);
    std::int64_t i = 0;
    for (const auto& [pos, src] : expected) {  // std::map iterates in row-major order
      CHECK(ci[i] == pos.second);
      CHECK(mp[i] == src);
      CHECK(i >= rp[pos.first]);
      CHECK(i < rp[pos.first + 1]);
      ++i;
    }
  }
}

TEST_CASE("random_growth draws distinct free positions, sorted, deterministically, covering every free position") {
  // 4 x 6 with some full and some empty rows
  const Csr m{4, 6, {0, 6, 6, 8, 9}, {0, 1, 2, 3, 4, 5, 1, 4, 0}};
  const std::int64_t n_free = 4 * 6 - 9;
  std::vector<std::int32_t> r(n_free), c(n_free);
  cpu::random_growth(r.data(), c.data(), m.row_ptr.data(), m.col_idx.data(), 4, 6, n_free, 3, 11);
  std::set<std::pair<std::int32_t, std::int32_t>> got;
  for (std::int64_t i = 0; i < n_free; ++i) {
    got.insert({r[i], c[i]});
    if (i > 0) CHECK(r[i - 1] * 6 + c[i - 1] < r[i] * 6 + c[i]);
  }
  CHECK(static_cast<std::int64_t>(got.size()) == n_free);  // k = all free: every free position exactly once
  for (const auto& [row, col] : got)
    for (std::int32_t k = m.row_ptr[row]; k < m.row_ptr[row + 1]; ++k) CHECK(m.col_idx[k] != col);
  // a smaller draw is reproducible and depends on the nonce
  std::vector<std::int32_t> r1(5), c1(5), r2(5), c2(5), r3(5), c3(5);
  cpu::random_growth(r1.data(), c1.data(), m.row_ptr.data(), m.col_idx.data(), 4, 6, 5, 3, 11);
  cpu::random_growth(r2.data(), c2.data(), m.row_ptr.data(), m.col_idx.data(), 4, 6, 5, 3, 11);
  cpu::random_growth(r3.data(), c3.data(), m.row_ptr.data(), m.col_idx.data(), 4, 6, 5, 3, 12);
  CHECK(r1 == r2);
  CHECK(c1 == c2);
  CHECK((r1 != r3 || c1 != c3));
  CHECK_THROWS_AS(cpu::random_growth(r.data(), c.data(), m.row_ptr.data(), m.col_idx.data(), 4, 6, n_free + 1, 3, 11), Error);
}

TEST_CASE("random_growth is close to uniform over the free positions") {
  const Csr m{2, 5, {0, 2, 3}, {1, 3, 0}};  // 7 free positions
  std::map<std::pair<std::int32_t, std::int32_t>, int> hits;
  std::vector<std::int32_t> r(2), c(2);
  const int trials = 7000;
  for (int t = 0; t < trials; ++t) {
    cpu::random_growth(r.data(), c.data(), m.row_ptr.data(), m.col_idx.data(), 2, 5, 2, 99, static_cast<std::uint64_t>(t));
    hits[{r[0], c[0]}]++;
    hits[{r[1], c[1]}]++;
  }
  CHECK(hits.size() == 7);
  for (const auto& [pos, n] : hits) CHECK(std::abs(n - 2000) < 200);  // each position expected 2 * 7000 / 7 = 2000 times
}
