// sddmm kernels against serial references in their documented summation orders
// (bit for bit), plus a float64 error-bound check of those references.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "dynasparse/memory.h"
#include "dynasparse/ops/sddmm.h"
#include "sparse_test_util.h"

using namespace dynasparse;
using namespace sparse_test;

namespace {

float lane_dot(const float* a, const float* b, std::int64_t k, std::int64_t stride_b) {
  volatile float lane[cpu::kSddmmLanes] = {};
  for (std::int64_t t = 0; t < k; ++t) {
    volatile float p = a[t] * b[t * stride_b];
    lane[t % cpu::kSddmmLanes] = lane[t % cpu::kSddmmLanes] + p;
  }
  for (int w = cpu::kSddmmLanes / 2; w >= 1; w /= 2)
    for (int l = 0; l < w; ++l) lane[l] = lane[l] + lane[l + w];
  return lane[0];
}

}  // namespace

TEST_CASE("sddmm_trans_b and sddmm equal the lane-order reference bit for bit") {
  struct Shape {
    std::int64_t rows, cols, k;
    double density;
  };
  for (const Shape s : {Shape{30, 40, 100, 0.2}, Shape{64, 64, 256, 0.1}, Shape{7, 300, 33, 0.5}, Shape{50, 20, 1, 0.5},
                        Shape{1, 1, 65, 1.0}, Shape{3, 3, 0, 1.0}, Shape{0, 5, 4, 0.5},
                        // several column panels (256 columns each at k = 256), a few entries per row in each
                        Shape{20, 700, 256, 0.05}}) {
    CAPTURE(s.k);
    const Csr p = random_csr(s.rows, s.cols, s.density, static_cast<std::uint32_t>(s.rows + s.cols));
    const auto a = random_values(static_cast<std::size_t>(s.rows * s.k), 1);
    const auto b = random_values(static_cast<std::size_t>(s.cols * s.k), 2);
    std::vector<float> out(p.col_idx.size()), want(p.col_idx.size());
    cpu::sddmm_trans_b(out.data(), p.row_ptr.data(), p.col_idx.data(), s.rows, a.data(), s.k, b.data(), s.k, s.k);
    for (std::int64_t i = 0; i < s.rows; ++i)
      for (std::int32_t e = p.row_ptr[i]; e < p.row_ptr[i + 1]; ++e)
        want[e] = lane_dot(a.data() + i * s.k, b.data() + p.col_idx[e] * s.k, s.k, 1);
    CHECK(same_values(out, want));
    // Non-transposed: b is [k, cols], summed in the same lane order.
    cpu::sddmm(out.data(), p.row_ptr.data(), p.col_idx.data(), s.rows, s.cols, a.data(), s.k, b.data(), s.cols, s.k);
    for (std::int64_t i = 0; i < s.rows; ++i)
      for (std::int32_t e = p.row_ptr[i]; e < p.row_ptr[i + 1]; ++e)
        want[e] = lane_dot(a.data() + i * s.k, b.data() + p.col_idx[e], s.k, s.cols);
    CHECK(same_values(out, want));
  }
}

TEST_CASE("sddmm_trans_b is within gamma_k sum|a||b| of the float64 dot product") {
  const std::int64_t k = 1000;
  const Csr p = random_csr(10, 10, 0.5, 3);
  const auto a = random_values(10 * k, 4), b = random_values(10 * k, 5);
  std::vector<float> out(p.col_idx.size());
  cpu::sddmm_trans_b(out.data(), p.row_ptr.data(), p.col_idx.data(), 10, a.data(), k, b.data(), k, k);
  const double u = std::ldexp(1.0, -24), gamma = k * u / (1 - k * u);
  for (std::int64_t i = 0; i < 10; ++i)
    for (std::int32_t e = p.row_ptr[i]; e < p.row_ptr[i + 1]; ++e) {
      double exact = 0, mag = 0;
      for (std::int64_t t = 0; t < k; ++t) {
        const double x = static_cast<double>(a[i * k + t]) * b[p.col_idx[e] * k + t];
        exact += x;
        mag += std::fabs(x);
      }
      CHECK(std::fabs(out[e] - exact) <= gamma * mag);
    }
}

TEST_CASE("sddmm is deterministic and NaN reaches only the entries that read it") {
  const Csr p = random_csr(300, 200, 0.2, 6);
  const std::int64_t k = 96;
  auto a = random_values(300 * k, 7);
  const auto b = random_values(200 * k, 8);
  a[5 * k + 3] = std::numeric_limits<float>::quiet_NaN();  // row 5 of a
  std::vector<float> x(p.col_idx.size()), y(p.col_idx.size());
  cpu::sddmm_trans_b(x.data(), p.row_ptr.data(), p.col_idx.data(), 300, a.data(), k, b.data(), k, k);
  cpu::sddmm_trans_b(y.data(), p.row_ptr.data(), p.col_idx.data(), 300, a.data(), k, b.data(), k, k);
  CHECK(same_bits(x, y));
  for (std::int64_t i = 0; i < 300; ++i)
    for (std::int32_t e = p.row_ptr[i]; e < p.row_ptr[i + 1]; ++e) CHECK(std::isnan(x[e]) == (i == 5));
}

TEST_CASE("sddmm reads a padded B through one transposed scratch copy the size of B, released on return") {
  const std::int64_t rows = 40, cols = 70, k = 37, ldb = cols + 3;
  const Csr p = random_csr(rows, cols, 0.3, 11);
  const auto a = random_values(static_cast<std::size_t>(rows * k), 12);
  const auto b = random_values(static_cast<std::size_t>(k * ldb), 13);
  std::vector<float> out(p.col_idx.size()), want(p.col_idx.size());
  const MemoryStats before = memory_stats(Device::Cpu);
  reset_peak_memory(Device::Cpu);
  cpu::sddmm(out.data(), p.row_ptr.data(), p.col_idx.data(), rows, cols, a.data(), k, b.data(), ldb, k);
  const MemoryStats after = memory_stats(Device::Cpu);
  CHECK(after.bytes_in_use == before.bytes_in_use);
  CHECK(after.peak_bytes - before.bytes_in_use == static_cast<std::int64_t>(cols * k * sizeof(float)));
  for (std::int64_t i = 0; i < rows; ++i)
    for (std::int32_t e = p.row_ptr[i]; e < p.row_ptr[i + 1]; ++e)
      want[e] = lane_dot(a.data() + i * k, b.data() + p.col_idx[e], k, ldb);
  CHECK(same_values(out, want));
}
