// cuda::mma_sp_fragments, the mma.sp instruction spmm_24_bf16 is built on,
// alone, against cpu::mma_sp_fragments (the PTX ISA's register tables written
// as index arithmetic, sharing no code with cuda/mma_sp.cuh):
//  - probes that each move one thing: one A value (every lane, register and
//    half), one metadata nibble (every lane and nibble, both selectors), one B
//    value (every lane, register and half, under two metadata patterns); the
//    values are small integers, so every sum is exact and the tensor cores
//    must give the CPU's bits;
//  - random small integers in every register, both selectors (exact too);
//  - random floats, through the portable twin only (bit for bit: it adds in
//    the CPU's order; the tensor cores' order is unspecified).
// On a GPU the tensor cores run, and the portable twin as well; the emulation
// runs the twin for both paths. Where a probe differs, the test prints, for
// the first ones, where D was nonzero on each side, read with the documented
// D layout: the first GPU run then tells which layout the hardware uses even
// if it is not the documented one.
#include <doctest/doctest.h>

#include <cstdint>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "compare.h"
#include "device_array.h"
#include "dynasparse/bf16.h"
#include "dynasparse/ops/mma_sp_fragments.h"
#include "test/native/error_code.h"

using namespace dynasparse;
using test::DeviceArray;

namespace {

constexpr std::uint32_t kPositions01 = 0x44444444u;  // every chunk's nibble: positions 0 and 1
constexpr std::uint32_t kPositions23 = 0xEEEEEEEEu;  // positions 2 and 3

void set_half(std::uint32_t& word, int half, float v) {
  const int shift = 16 * half;
  word = (word & ~(0xFFFFu << shift)) | (static_cast<std::uint32_t>(bf16_bits(v)) << shift);
}

// Probes run with one sparsity selector: one warp's registers each.
struct Group {
  int selector = 0;
  std::vector<std::uint32_t> a, b, e;
  std::vector<float> c;
  std::vector<std::string> labels;

  std::size_t add(const std::string& label, std::uint32_t metadata) {
    a.resize(a.size() + 128, 0);
    b.resize(b.size() + 128, 0);
    e.resize(e.size() + 32, metadata);
    c.resize(c.size() + 128, 0.0f);
    labels.push_back(label);
    return labels.size() - 1;
  }
  std::int64_t warps() const { return static_cast<std::int64_t>(labels.size()); }
  // A[row][j] (compressed) for every row and j: lane (g, t), register r, half h
  // hold row g + 8 (r % 2), j = 2 (t + 4 (r / 2)) + h.
  template <typename F>
  void fill_a(std::size_t w, F value) {
    for (int lane = 0; lane < 32; ++lane)
      for (int r = 0; r < 4; ++r)
        for (int h = 0; h < 2; ++h)
          set_half(a[128 * w + 4 * lane + r], h, value(lane / 4 + 8 * (r % 2), 2 * (lane % 4 + 4 * (r / 2)) + h));
  }
  // B[k][n]: lane 4 n + (k % 8) / 2, register k / 8, half k % 2.
  template <typename F>
  void fill_b(std::size_t w, F value) {
    for (int k = 0; k < 32; ++k)
      for (int n = 0; n < 8; ++n) set_half(b[128 * w + 4 * (4 * n + (k % 8) / 2) + k / 8], k % 2, value(k, n));
  }
};

// "(row,col)=value" for D's nonzero elements, read with the documented D layout.
std::string nonzero_d(const std::vector<float>& d, std::size_t w) {
  std::ostringstream out;
  int total = 0;
  for (int lane = 0; lane < 32; ++lane)
    for (int u = 0; u < 4; ++u) {
      const float v = d[128 * w + 4 * lane + u];
      if (v == 0.0f) continue;
      if (++total <= 16) out << " (" << lane / 4 + 8 * (u / 2) << "," << 2 * (lane % 4) + u % 2 << ")=" << v;
    }
  if (total == 0) return " none";
  if (total > 16) out << " ... " << total << " in all";
  return out.str();
}

std::vector<float> run_cuda(const Group& g, cuda::MmaPath path) {
  DeviceArray<std::uint32_t> da(g.a), db(g.b), de(g.e);
  DeviceArray<float> dd(g.c);
  cuda::mma_sp_fragments(dd.data(), da.data(), db.data(), de.data(), g.selector, g.warps(), test::kernel_stream(), path);
  return dd.to_host();
}

std::vector<float> run_cpu(const Group& g) {
  std::vector<float> d = g.c;
  cpu::mma_sp_fragments(d.data(), g.a.data(), g.b.data(), g.e.data(), g.selector, g.warps());
  return d;
}

// Every probe of the group on `path` against the CPU, bit for bit; the first
// probes that differ are described.
void check_group(const Group& g, cuda::MmaPath path, const char* what) {
  const std::vector<float> want = run_cpu(g), got = run_cuda(g, path);
  int differing = 0;
  for (std::size_t w = 0; w < g.labels.size(); ++w) {
    bool same = true;
    for (std::size_t i = 128 * w; i < 128 * (w + 1) && same; ++i) same = test::float_bits(got[i]) == test::float_bits(want[i]);
    if (same) continue;
    if (++differing <= 32) {
      const std::string line = std::string(what) + ", " + g.labels[w] + " (selector " + std::to_string(g.selector) +
                               "): D nonzero at, documented:" + nonzero_d(want, w) + "; " +
                               (path == cuda::MmaPath::TensorCores ? "tensor cores" : "portable twin") + ":" +
                               nonzero_d(got, w);
      MESSAGE(line);
    }
  }
  const std::string summary = std::string(what) + ": " + std::to_string(differing) + " of " +
                              std::to_string(g.labels.size()) + " probes differ from the documented layout";
  INFO(summary);
  CHECK(differing == 0);
}

// One A value at a time: row g + 8 (r % 2), compressed column j. With every
// chunk at positions 0, 1 and B[k][n] = 1 + k + 32 n, D's row holds B's row
// k = 2 j - j % 2 (chunk j / 2, position j % 2): the place and the values say
// the row and the column.
Group a_probes() {
  Group g;
  for (int lane = 0; lane < 32; ++lane)
    for (int r = 0; r < 4; ++r)
      for (int h = 0; h < 2; ++h) {
        const std::size_t w = g.add("A lane " + std::to_string(lane) + " register " + std::to_string(r) + " half " +
                                        std::to_string(h),
                                    kPositions01);
        set_half(g.a[128 * w + 4 * lane + r], h, 1.0f);
        g.fill_b(w, [](int k, int n) { return static_cast<float>(1 + k + 32 * n); });
      }
  return g;
}

// One metadata nibble at a time, moved from positions 0, 1 to 2, 3, with A all
// ones and B[k][n] = 0 at positions 0, 1 and c + 1 at positions 2, 3 of chunk
// c: only the row the nibble serves becomes nonzero, by 2 (c + 1).
Group metadata_probes(int selector) {
  Group g;
  g.selector = selector;
  for (int lane = 0; lane < 32; ++lane)
    for (int q = 0; q < 8; ++q) {
      const std::size_t w = g.add("metadata lane " + std::to_string(lane) + " nibble " + std::to_string(q), kPositions01);
      g.e[32 * w + lane] = (kPositions01 & ~(0xFu << (4 * q))) | (0xEu << (4 * q));
      g.fill_a(w, [](int, int) { return 1.0f; });
      g.fill_b(w, [](int k, int) { return k % 4 < 2 ? 0.0f : static_cast<float>(k / 4 + 1); });
    }
  return g;
}

// One B value at a time, with A[row][j] = j + 1 (the value names the
// compressed column, hence k) under positions 0, 1 and under 2, 3.
Group b_probes() {
  Group g;
  for (const std::uint32_t metadata : {kPositions01, kPositions23})
    for (int lane = 0; lane < 32; ++lane)
      for (int j = 0; j < 4; ++j)
        for (int h = 0; h < 2; ++h) {
          const std::size_t w = g.add("B lane " + std::to_string(lane) + " register " + std::to_string(j) + " half " +
                                          std::to_string(h) + (metadata == kPositions01 ? ", positions 0 1" : ", positions 2 3"),
                                      metadata);
          set_half(g.b[128 * w + 4 * lane + j], h, 1.0f);
          g.fill_a(w, [](int, int col) { return static_cast<float>(col + 1); });
        }
  return g;
}

// Random registers: small integers (every sum exact) or floats; metadata with
// two distinct ordered positions per chunk, as the instruction requires.
Group random_group(int selector, std::int64_t warps, bool integers, std::uint32_t seed) {
  static const std::uint32_t kOrderedNibbles[6] = {0x4, 0x8, 0xC, 0x9, 0xD, 0xE};  // (0,1) (0,2) (0,3) (1,2) (1,3) (2,3)
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> small(-8, 8), nibble(0, 5);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  const auto value = [&] { return integers ? static_cast<float>(small(rng)) : normal(rng); };
  Group g;
  g.selector = selector;
  for (std::int64_t n = 0; n < warps; ++n) {
    const std::size_t w = g.add("random warp " + std::to_string(n), 0);
    for (int i = 0; i < 128; ++i) {
      set_half(g.a[128 * w + i], 0, value());
      set_half(g.a[128 * w + i], 1, value());
      set_half(g.b[128 * w + i], 0, value());
      set_half(g.b[128 * w + i], 1, value());
      g.c[128 * w + i] = integers ? static_cast<float>(small(rng)) : normal(rng);
    }
    for (int lane = 0; lane < 32; ++lane) {
      std::uint32_t e = 0;
      for (int q = 0; q < 8; ++q) e |= kOrderedNibbles[nibble(rng)] << (4 * q);
      g.e[32 * w + lane] = e;
    }
  }
  return g;
}

// The emulation runs the portable twin for both paths: once is enough there.
std::vector<cuda::MmaPath> paths() {
#if defined(DYNASPARSE_SIMT_EMULATION)
  return {cuda::MmaPath::TensorCores};
#else
  return {cuda::MmaPath::TensorCores, cuda::MmaPath::Portable};
#endif
}

}  // namespace

TEST_CASE("mma.sp puts each A value, metadata nibble and B value where the PTX ISA's tables say") {
  for (cuda::MmaPath path : paths()) {
    CAPTURE(static_cast<int>(path));
    check_group(a_probes(), path, "A probes");
    check_group(metadata_probes(0), path, "metadata probes");
    check_group(metadata_probes(1), path, "metadata probes");
    check_group(b_probes(), path, "B probes");
  }
}

TEST_CASE("mma.sp on random small integers gives the CPU's bits for both selectors") {
  for (cuda::MmaPath path : paths()) {
    CAPTURE(static_cast<int>(path));
    check_group(random_group(0, 32, true, 1), path, "random small integers");
    check_group(random_group(1, 32, true, 2), path, "random small integers");
  }
}

TEST_CASE("the portable twin of mma.sp adds in the CPU's order: bit for bit on random floats") {
  check_group(random_group(0, 16, false, 3), cuda::MmaPath::Portable, "random floats");
  check_group(random_group(1, 16, false, 4), cuda::MmaPath::Portable, "random floats");
}

TEST_CASE("cuda::mma_sp_fragments refuses a selector other than 0 or 1 and a negative warp count") {
  Group g = random_group(0, 1, true, 5);
  DeviceArray<std::uint32_t> da(g.a), db(g.b), de(g.e);
  DeviceArray<float> dd(g.c);
  for (cuda::MmaPath path : {cuda::MmaPath::TensorCores, cuda::MmaPath::Portable}) {
    CHECK(test::code_of([&] {
            cuda::mma_sp_fragments(dd.data(), da.data(), db.data(), de.data(), 2, 1, test::kernel_stream(), path);
          }) == ErrorCode::Arg);
    CHECK(test::code_of([&] {
            cuda::mma_sp_fragments(dd.data(), da.data(), db.data(), de.data(), 0, -1, test::kernel_stream(), path);
          }) == ErrorCode::Arg);
  }
  cuda::mma_sp_fragments(dd.data(), da.data(), db.data(), de.data(), 0, 0, test::kernel_stream(),
                         cuda::MmaPath::Portable);  // no warps: nothing runs
  test::require_same_bits(dd.to_host(), g.c);
}
