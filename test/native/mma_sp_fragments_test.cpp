// cpu::mma_sp_fragments, the reference the GPU test of the mma.sp instruction
// compares with, on cases worked out by hand from the PTX ISA's register
// tables (ops/mma_sp_fragments.h): where one A value, one metadata nibble and
// B's values land in D, which lanes the sparsity selector reads, and the
// order of the fp32 sums.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <vector>

#include "dynasparse/bf16.h"
#include "dynasparse/ops/mma_sp_fragments.h"
#include "error_code.h"

using namespace dynasparse;

namespace {

struct Warp {
  std::vector<std::uint32_t> a = std::vector<std::uint32_t>(128, 0), b = std::vector<std::uint32_t>(128, 0),
                             e = std::vector<std::uint32_t>(32, 0);
  std::vector<float> d = std::vector<float>(128, 0.0f);

  // B[k][n] into its register: lane 4 n + (k % 8) / 2, register k / 8, half k % 2.
  void set_b(int k, int n, float v) {
    std::uint32_t& word = b[4 * (4 * n + (k % 8) / 2) + k / 8];
    const int shift = 16 * (k % 2);
    word = (word & ~(0xFFFFu << shift)) | (static_cast<std::uint32_t>(bf16_bits(v)) << shift);
  }
  // D[row][col] from its register: lane 4 (row % 8) + col / 2, register 2 (row / 8) + col % 2.
  float get_d(int row, int col) const { return d[4 * (4 * (row % 8) + col / 2) + 2 * (row / 8) + col % 2]; }
  float& at_d(int row, int col) { return d[4 * (4 * (row % 8) + col / 2) + 2 * (row / 8) + col % 2]; }
  void run(int selector) { cpu::mma_sp_fragments(d.data(), a.data(), b.data(), e.data(), selector, 1); }
};

}  // namespace

TEST_CASE("cpu::mma_sp_fragments puts one A value where the A, metadata, B and D tables say") {
  for (int selector : {0, 1}) {
    CAPTURE(selector);
    Warp w;
    // Lane 5 (g = 1, t = 1), register 2: row 1, chunk 5; its high half is
    // compressed column 11, the chunk's second value.
    w.a[4 * 5 + 2] = static_cast<std::uint32_t>(bf16_bits(1.0f)) << 16;
    // Row 1, chunk 5's nibble: lane 4 + 2 selector + 1, bits 4..7 (chunk 5 % 4 = 1,
    // row < 8): positions 1 (low bits) and 3 (high bits), so column 11 is k = 23.
    w.e[4 + 2 * selector + 1] = 0xDu << 4;
    for (int k = 0; k < 32; ++k)
      for (int n = 0; n < 8; ++n) w.set_b(k, n, static_cast<float>(k + 32 * n));  // exact in bf16
    w.run(selector);
    for (int row = 0; row < 16; ++row)
      for (int col = 0; col < 8; ++col) {
        CAPTURE(row);
        CAPTURE(col);
        CHECK(w.get_d(row, col) == (row == 1 ? static_cast<float>(23 + 32 * col) : 0.0f));
      }
  }
}

TEST_CASE("cpu::mma_sp_fragments reads the metadata of the selector's lanes only") {
  Warp w;
  w.a[4 * 5 + 2] = static_cast<std::uint32_t>(bf16_bits(1.0f)) << 16;  // row 1, column 11 (chunk 5)
  w.e[4 + 1] = 0xDu << 4;  // selector 0's lane for row 1, chunk 5: positions 1, 3
  w.e[4 + 3] = 0x9u << 4;  // selector 1's: positions 1, 2
  for (int k = 0; k < 32; ++k)
    for (int n = 0; n < 8; ++n) w.set_b(k, n, static_cast<float>(k + 32 * n));
  Warp w1 = w;
  w.run(0);
  w1.run(1);
  CHECK(w.get_d(1, 0) == 23.0f);   // 4 * 5 + 3
  CHECK(w1.get_d(1, 0) == 22.0f);  // 4 * 5 + 2
  CHECK(w1.get_d(1, 7) == 22.0f + 32 * 7);
}

TEST_CASE("cpu::mma_sp_fragments adds the products one by one onto C, chunk by chunk, lower column first") {
  Warp w;
  // Row 0: compressed columns 0 and 1 (lane 0, register 0) are 1; positions 0
  // and 1 of chunk 0 (lane 0's low nibble); B[0][0] = B[1][0] = 1.
  w.a[0] = static_cast<std::uint32_t>(bf16_bits(1.0f)) | (static_cast<std::uint32_t>(bf16_bits(1.0f)) << 16);
  w.e[0] = 0x4u;
  w.set_b(0, 0, 1.0f);
  w.set_b(1, 0, 1.0f);
  w.at_d(0, 0) = 16777216.0f;  // 2^24: 2^24 + 1 rounds back to 2^24 (ties to even)
  w.at_d(8, 0) = 5.0f;         // a row without products keeps C
  w.run(0);
  CHECK(w.get_d(0, 0) == 16777216.0f);  // (2^24 + 1) + 1, not 2^24 + (1 + 1)
  CHECK(w.get_d(8, 0) == 5.0f);
}

TEST_CASE("cpu::mma_sp_fragments runs each warp on its own registers and refuses a bad selector or count") {
  Warp one;
  one.a[0] = static_cast<std::uint32_t>(bf16_bits(3.0f));
  one.e[0] = 0x4u;
  one.set_b(0, 0, 2.0f);
  std::vector<std::uint32_t> a(256, 0), b(256, 0), e(64, 0);
  std::vector<float> d(256, 0.0f);
  std::copy(one.a.begin(), one.a.end(), a.begin() + 128);  // the second warp only
  std::copy(one.b.begin(), one.b.end(), b.begin() + 128);
  std::copy(one.e.begin(), one.e.end(), e.begin() + 32);
  cpu::mma_sp_fragments(d.data(), a.data(), b.data(), e.data(), 0, 2);
  CHECK(d[0] == 0.0f);
  CHECK(d[128] == 6.0f);
  CHECK(test::code_of([&] { cpu::mma_sp_fragments(d.data(), a.data(), b.data(), e.data(), 2, 1); }) == ErrorCode::Arg);
  CHECK(test::code_of([&] { cpu::mma_sp_fragments(d.data(), a.data(), b.data(), e.data(), 0, -1); }) == ErrorCode::Arg);
}
