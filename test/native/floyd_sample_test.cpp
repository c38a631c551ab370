// floyd_sample (its bitmap and its hash-table set) against the textbook
// algorithm with a std::set, draw for draw: the same draws must keep the same
// values, or seeded patterns and SET's growth would change between versions.
#include <doctest/doctest.h>

#include <cstdint>
#include <set>
#include <vector>

#include "dynasparse/floyd_sample.h"
#include "dynasparse/philox.h"

namespace {

std::int64_t draw(std::int64_t i, std::int64_t bound) {
  const dynasparse::rng::Bits128 r = dynasparse::rng::philox4x32_10(7, static_cast<std::uint64_t>(i), 3);
  return static_cast<std::int64_t>((static_cast<std::uint64_t>(r.v[0]) << 32 | r.v[1]) % static_cast<std::uint64_t>(bound + 1));
}

std::vector<std::int64_t> textbook(std::int64_t n, std::int64_t k) {
  std::set<std::int64_t> kept;
  for (std::int64_t j = n - k; j < n; ++j) {
    const std::int64_t t = draw(j - (n - k), j);
    kept.insert(kept.count(t) ? j : t);
  }
  return {kept.begin(), kept.end()};
}

}  // namespace

TEST_CASE("floyd_sample keeps the textbook algorithm's values, ascending, with either set") {
  struct Case {
    std::int64_t n, k;
  };
  // n <= 64 k: the bitmap; above: the table (small k in a large range, hash collisions and wrap-around).
  for (const Case c : {Case{1, 1}, Case{10, 10}, Case{100, 3}, Case{640, 10}, Case{641, 10}, Case{1000, 999},
                       Case{4096 * 4096, 167772}, Case{std::int64_t{1} << 40, 5000}, Case{5, 0}, Case{70, 1}}) {
    CAPTURE(c.n);
    CAPTURE(c.k);
    std::vector<std::int64_t> out{42};  // replaced, not appended to
    dynasparse::floyd_sample(out, c.n, c.k, draw);
    CHECK(out == textbook(c.n, c.k));
    CHECK(static_cast<std::int64_t>(out.size()) == c.k);
  }
}
