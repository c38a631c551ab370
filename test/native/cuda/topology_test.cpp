// cuda::topology_rebuild, cuda::gather_by_map and cuda::random_growth against
// their cpu:: twins: integer outputs equal, values bit for bit, and the same
// E_ARG messages for bad lists. Patterns mix empty, short and full rows; the
// drop and grow lists come in random order (the rebuild sorts), include
// regrown positions, and cover rows that become empty or full.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <functional>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "compare.h"
#include "csr_inputs.h"
#include "device_array.h"
#include "dynasparse/error.h"
#include "dynasparse/memory.h"
#include "dynasparse/ops/topology.h"

using namespace dynasparse;
using test::DeviceArray;
using test::HostCsr;

namespace {

struct Lists {
  std::vector<std::int32_t> drop, grow_rows, grow_cols;
};

// test::mixed_csr's mix of empty, single, half and full rows, for any cols.
HostCsr mixed(std::int64_t rows, std::int64_t cols, std::uint32_t seed) {
  std::vector<std::int64_t> lengths(static_cast<std::size_t>(rows));
  for (std::int64_t i = 0; i < rows; ++i) {
    const std::int64_t kind = (i * 7 + seed) % 11;
    lengths[static_cast<std::size_t>(i)] =
        std::min(cols, kind == 0 ? cols : kind == 1 ? cols / 2 : kind < 5 ? 0 : kind < 8 ? 1 : kind - 5);
  }
  return test::csr_with_lengths(cols, lengths, seed);
}

std::vector<std::int32_t> ints(const BufferPtr& b, std::int64_t n) {
  std::vector<std::int32_t> v(static_cast<std::size_t>(n));
  if (n > 0) copy_bytes(v.data(), Device::Cpu, b->data(), b->device(), v.size() * sizeof(std::int32_t));
  return v;
}

// Drops each stored entry with probability p_drop; grows each position that is
// not kept (free, or just dropped: regrown) with probability p_grow; both lists
// shuffled. Row `empty_row` loses all its entries, row `full_row` gains all.
Lists random_lists(const HostCsr& m, double p_drop, double p_grow, std::uint32_t seed, std::int64_t empty_row = -1,
                   std::int64_t full_row = -1) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<double> u(0, 1);
  Lists l;
  std::vector<char> dropped(static_cast<std::size_t>(m.nnz()), 0);
  for (std::int64_t r = 0; r < m.rows; ++r)
    for (std::int32_t k = m.row_ptr[r]; k < m.row_ptr[r + 1]; ++k)
      if (r == empty_row || u(gen) < p_drop) {
        l.drop.push_back(k);
        dropped[static_cast<std::size_t>(k)] = 1;
      }
  for (std::int64_t r = 0; r < m.rows; ++r) {
    std::int32_t k = m.row_ptr[r];
    for (std::int64_t c = 0; c < m.cols; ++c) {
      while (k < m.row_ptr[r + 1] && m.col_idx[k] < c) ++k;
      const bool stored = k < m.row_ptr[r + 1] && m.col_idx[k] == c;
      if (stored && !dropped[static_cast<std::size_t>(k)]) continue;  // kept: never grown
      if (r == full_row || (r != empty_row && u(gen) < p_grow)) {
        l.grow_rows.push_back(static_cast<std::int32_t>(r));
        l.grow_cols.push_back(static_cast<std::int32_t>(c));
      }
    }
  }
  std::shuffle(l.drop.begin(), l.drop.end(), gen);
  std::vector<std::size_t> order(l.grow_rows.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::shuffle(order.begin(), order.end(), gen);
  Lists shuffled{l.drop, {}, {}};
  for (std::size_t i : order) {
    shuffled.grow_rows.push_back(l.grow_rows[i]);
    shuffled.grow_cols.push_back(l.grow_cols[i]);
  }
  return shuffled;
}

cpu::TopologyResult cpu_rebuild(const HostCsr& m, const Lists& l) {
  return cpu::topology_rebuild(m.row_ptr.data(), m.col_idx.data(), m.rows, m.cols, m.nnz(), l.drop.data(),
                               static_cast<std::int64_t>(l.drop.size()), l.grow_rows.data(), l.grow_cols.data(),
                               static_cast<std::int64_t>(l.grow_rows.size()));
}

cpu::TopologyResult cuda_rebuild(const HostCsr& m, const Lists& l) {
  DeviceArray<std::int32_t> rp(m.row_ptr), ci(m.col_idx);
  return cuda::topology_rebuild(rp.data(), ci.data(), m.rows, m.cols, m.nnz(), l.drop.data(),
                                static_cast<std::int64_t>(l.drop.size()), l.grow_rows.data(), l.grow_cols.data(),
                                static_cast<std::int64_t>(l.grow_rows.size()), test::kernel_stream());
}

// The rebuild on both backends (the CPU's result stays alive while the CUDA one
// is built, so no output of the CUDA run can land in memory that already holds
// the expected values), then the values carried through the map.
void check_rebuild(const HostCsr& m, const Lists& l) {
  CAPTURE(m.rows);
  CAPTURE(m.cols);
  CAPTURE(m.nnz());
  CAPTURE(l.drop.size());
  CAPTURE(l.grow_rows.size());
  const cpu::TopologyResult want = cpu_rebuild(m, l);
  const cpu::TopologyResult got = cuda_rebuild(m, l);
  REQUIRE(got.nnz == want.nnz);
  CHECK(got.regrown == want.regrown);
  test::require_equal(ints(got.row_ptr, m.rows + 1), ints(want.row_ptr, m.rows + 1));
  test::require_equal(ints(got.col_idx, got.nnz), ints(want.col_idx, want.nnz));
  const std::vector<std::int32_t> map = ints(want.map, want.nnz);
  test::require_equal(ints(got.map, got.nnz), map);

  std::vector<float> expected(map.size());
  cpu::gather_by_map(expected.data(), m.values.data(), map.data(), want.nnz);
  DeviceArray<float> src(m.values), out(map.size());
  DeviceArray<std::int32_t> map_d(map);
  cuda::gather_by_map(out.data(), src.data(), m.nnz(), map_d.data(), want.nnz, test::kernel_stream());
  test::require_same_bits(out.to_host(), expected);
}

// The error of f (code and message), or an empty message when it succeeds.
std::pair<ErrorCode, std::string> error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return {e.code(), e.what()};
  }
  return {ErrorCode::Io, ""};
}

void check_same_error(const HostCsr& m, const Lists& l, const char* fragment) {
  const auto want = error_of([&] { cpu_rebuild(m, l); });
  const auto got = error_of([&] { cuda_rebuild(m, l); });
  INFO("cpu: " << want.second << " | cuda: " << got.second);
  REQUIRE(want.first == ErrorCode::Arg);
  CHECK(want.second.find(fragment) != std::string::npos);
  CHECK(got.first == want.first);
  CHECK(got.second == want.second);
}

}  // namespace

TEST_CASE("topology_rebuild: random patterns, lists in random order, regrowth") {
  const std::vector<std::pair<std::int64_t, std::int64_t>> shapes{{1, 1}, {3, 5}, {17, 33}, {40, 70}, {9, 200}, {70, 9}};
  std::uint32_t seed = 1;
  for (const auto& [rows, cols] : shapes) {
    const HostCsr m = mixed(rows, cols, seed);
    for (const double p_drop : {0.0, 0.3, 1.0})
      for (const double p_grow : {0.0, 0.1, 0.5}) check_rebuild(m, random_lists(m, p_drop, p_grow, ++seed));
    // A row that becomes empty and one that becomes full, in one update.
    if (rows >= 2) check_rebuild(m, random_lists(m, 0.2, 0.05, ++seed, 0, rows - 1));
  }
}

TEST_CASE("topology_rebuild: empty patterns, empty lists, everything dropped and grown back") {
  const HostCsr none = test::csr_with_lengths(6, {0, 0, 0, 0}, 3);  // nnz = 0
  check_rebuild(none, {});
  check_rebuild(none, random_lists(none, 0.0, 0.4, 5));
  check_rebuild(none, random_lists(none, 0.0, 1.0, 6));  // becomes dense
  const HostCsr full = test::csr_with_lengths(5, {5, 5, 5}, 4);
  check_rebuild(full, {});
  check_rebuild(full, random_lists(full, 1.0, 0.0, 7));  // becomes empty
  check_rebuild(full, random_lists(full, 1.0, 1.0, 8));  // all dropped, all regrown: map is the identity
  check_rebuild(test::csr_with_lengths(0, {0, 0}, 9), {});  // no columns
  HostCsr no_rows;
  no_rows.cols = 4;
  check_rebuild(no_rows, {});
  // Long rows: the warp walks them in several chunks of 32.
  const HostCsr wide = test::csr_with_lengths(300, {0, 150, 299, 37, 300}, 10);
  check_rebuild(wide, random_lists(wide, 0.5, 0.3, 11));
  check_rebuild(wide, random_lists(wide, 0.0, 0.2, 12, -1, 0));
}

TEST_CASE("topology_rebuild: bad lists give the CPU's E_ARG message and no result") {
  // 2 x 4: row 0 {1, 3}, row 1 {0}
  HostCsr m = test::csr_with_lengths(4, {0, 0}, 1);
  m.row_ptr = {0, 2, 3};
  m.col_idx = {1, 3, 0};
  m.values = {1.0f, 2.0f, 3.0f};
  check_same_error(m, {{3}, {}, {}}, "drop[0]");
  check_same_error(m, {{-1}, {}, {}}, "drop[0]");
  check_same_error(m, {{0, 0}, {}, {}}, "more than once");
  check_same_error(m, {{2, 0, 2, 5}, {}, {}}, "at 2");  // the first repeat comes before the bad index
  check_same_error(m, {{}, {2}, {0}}, "grow[0]");
  check_same_error(m, {{}, {0, 1}, {2, 4}}, "grow[1]");
  check_same_error(m, {{}, {0, 0}, {2, 2}}, "more than once");
  check_same_error(m, {{}, {0}, {3}}, "not dropped");
  check_same_error(m, {{0}, {1, 0}, {0, 1}}, "(1, 0) is stored and not dropped");
  // The first problem in row-major order wins, whichever list order it came in:
  check_same_error(m, {{}, {1, 0, 0}, {1, 2, 2}}, "(0, 2) appears more than once");
  check_same_error(m, {{}, {1, 0, 0}, {0, 2, 2}}, "(0, 2) appears more than once");  // before the kept (1, 0)
  check_same_error(m, {{0}, {1, 1, 0, 0}, {1, 1, 3, 3}}, "(0, 3) is stored and not dropped");  // kept wins at equal positions
  check_same_error(m, {{0}, {1, 1, 0}, {2, 2, 0}}, "(1, 2) appears more than once");
  // A dropped position may come back.
  check_rebuild(m, {{0}, {0}, {1}});
}

TEST_CASE("gather_by_map: any map length, new entries zero, bad indices read nothing") {
  for (const std::int64_t n : test::stream_sizes()) {
    CAPTURE(n);
    const std::int64_t n_src = n / 2 + 1;
    const std::vector<float> src = test::random_floats(static_cast<std::size_t>(n_src), 3);
    std::vector<std::int32_t> map(static_cast<std::size_t>(n));
    std::mt19937 gen(static_cast<std::uint32_t>(n));
    std::uniform_int_distribution<std::int32_t> pick(-1, static_cast<std::int32_t>(n_src - 1));
    for (auto& m : map) m = pick(gen);
    std::vector<float> want(map.size());
    cpu::gather_by_map(want.data(), src.data(), map.data(), n);
    DeviceArray<float> src_d(src), out(map.size());
    DeviceArray<std::int32_t> map_d(map);
    cuda::gather_by_map(out.data(), src_d.data(), n_src, map_d.data(), n, test::kernel_stream());
    test::require_same_bits(out.to_host(), want);
  }
  // Indices outside [-1, n_src): 0, and no read (the binding rejects such maps first).
  const std::vector<float> src{1.0f, 2.0f};
  DeviceArray<float> src_d(src), out(4);
  DeviceArray<std::int32_t> map_d(std::vector<std::int32_t>{1, 2, -7, 0});
  cuda::gather_by_map(out.data(), src_d.data(), 2, map_d.data(), 4, test::kernel_stream());
  test::require_same_bits(out.to_host(), {2.0f, 0.0f, 0.0f, 1.0f});
}

namespace {

void check_growth(const HostCsr& m, std::int64_t k, std::uint64_t seed, std::uint64_t nonce) {
  CAPTURE(m.rows);
  CAPTURE(m.cols);
  CAPTURE(k);
  std::vector<std::int32_t> want_rows(static_cast<std::size_t>(k)), want_cols(want_rows);
  cpu::random_growth(want_rows.data(), want_cols.data(), m.row_ptr.data(), m.col_idx.data(), m.rows, m.cols, k, seed, nonce);
  DeviceArray<std::int32_t> rp(m.row_ptr), ci(m.col_idx), rows(static_cast<std::size_t>(k)), cols(static_cast<std::size_t>(k));
  cuda::random_growth(rows.data(), cols.data(), rp.data(), ci.data(), m.rows, m.cols, m.nnz(), k, seed, nonce,
                      test::kernel_stream());
  test::require_equal(rows.to_host(), want_rows);
  test::require_equal(cols.to_host(), want_cols);
}

}  // namespace

TEST_CASE("random_growth: the CPU's positions for every k, full and empty rows") {
  std::uint32_t seed = 20;
  for (const auto& [rows, cols] : std::vector<std::pair<std::int64_t, std::int64_t>>{{1, 1}, {4, 6}, {23, 41}, {64, 5}}) {
    const HostCsr m = mixed(rows, cols, seed);
    const std::int64_t n_free = rows * cols - m.nnz();
    for (const std::int64_t k : {std::int64_t{0}, std::int64_t{1}, n_free / 3, n_free})
      if (k <= n_free) check_growth(m, k, seed, static_cast<std::uint64_t>(k) * 7 + 1);
    ++seed;
  }
  const HostCsr empty = test::csr_with_lengths(9, {0, 0, 0}, 2);
  check_growth(empty, 27, 5, 6);
  check_growth(empty, 4, (1ULL << 63) + 3, (1ULL << 40) + 9);

  const HostCsr full = test::csr_with_lengths(3, {3, 3}, 2);
  check_growth(full, 0, 1, 1);
  const auto want = error_of([&] {
    std::int32_t r = 0, c = 0;
    cpu::random_growth(&r, &c, full.row_ptr.data(), full.col_idx.data(), 2, 3, 1, 1, 1);
  });
  const auto got = error_of([&] {
    DeviceArray<std::int32_t> rp(full.row_ptr), ci(full.col_idx), r(1), c(1);
    cuda::random_growth(r.data(), c.data(), rp.data(), ci.data(), 2, 3, 6, 1, 1, 1, test::kernel_stream());
  });
  REQUIRE(want.first == ErrorCode::Arg);
  CHECK(got.first == want.first);
  CHECK(got.second == want.second);
}
