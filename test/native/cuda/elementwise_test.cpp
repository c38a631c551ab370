// cuda:: elementwise, bias and loss kernels against their cpu:: twins (same
// source on a GPU and under the SIMT emulation; see docs/testing-cuda.md).
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <utility>
#include <vector>

#include "compare.h"
#include "device_array.h"
#include "dynasparse/ops/elementwise.h"

using namespace dynasparse;
using test::DeviceArray;

namespace {

constexpr Stream kStream = nullptr;

// Inputs of n values with the edge values sprinkled in; `offset` extra leading
// elements let a test start the arrays off the 16-byte alignment (the scalar path).
std::vector<float> inputs(std::int64_t n, std::uint32_t seed) {
  std::vector<float> v = test::random_floats(static_cast<std::size_t>(n), seed);
  test::add_edge_values(v, static_cast<std::size_t>(seed % 5));
  return v;
}

// Runs `cuda_fn(out, a, b, n)` and `cpu_fn(...)` on arrays starting `offset`
// floats into their allocation and compares the outputs bit for bit.
template <typename CudaFn, typename CpuFn>
void compare_binary(std::int64_t n, std::int64_t offset, CudaFn cuda_fn, CpuFn cpu_fn, bool in_place) {
  const std::size_t total = static_cast<std::size_t>(n + offset);
  std::vector<float> a = inputs(n + offset, 1), b = inputs(n + offset, 2);
  DeviceArray<float> da(a), db(b), dout(total);
  float* out = in_place ? da.data() : dout.data();
  cuda_fn(out + offset, da.data() + offset, db.data() + offset, n);
  std::vector<float> want(total);
  std::vector<float> cpu_a = a;
  float* cpu_out = in_place ? cpu_a.data() : want.data();
  cpu_fn(cpu_out + offset, cpu_a.data() + offset, b.data() + offset, n);
  std::vector<float> got = in_place ? da.to_host() : dout.to_host();
  std::vector<float> expect = in_place ? cpu_a : want;
  got.erase(got.begin(), got.begin() + offset);
  expect.erase(expect.begin(), expect.begin() + offset);
  test::require_same_bits(got, expect);
}

}  // namespace

TEST_CASE("cuda::relu is bit-identical to cpu::relu (NaN, -0, vector residues, unaligned, in place)") {
  for (std::int64_t n : test::stream_sizes()) {
    for (std::int64_t offset : {0, 1}) {
      for (bool in_place : {false, true}) {
        CAPTURE(n);
        CAPTURE(offset);
        CAPTURE(in_place);
        compare_binary(
            n, offset, [](float* o, const float* a, const float*, std::int64_t k) { cuda::relu(o, a, k, kStream); },
            [](float* o, const float* a, const float*, std::int64_t k) { cpu::relu(o, a, k); }, in_place);
      }
    }
  }
}

TEST_CASE("cuda::relu_backward is bit-identical to cpu::relu_backward") {
  for (std::int64_t n : test::stream_sizes()) {
    for (std::int64_t offset : {0, 3}) {
      for (bool in_place : {false, true}) {
        CAPTURE(n);
        CAPTURE(offset);
        CAPTURE(in_place);
        // in place: dx is dy (a), as the CPU contract allows.
        compare_binary(
            n, offset,
            [](float* o, const float* dy, const float* x, std::int64_t k) { cuda::relu_backward(o, dy, x, k, kStream); },
            [](float* o, const float* dy, const float* x, std::int64_t k) { cpu::relu_backward(o, dy, x, k); }, in_place);
      }
    }
  }
}

TEST_CASE("cuda::add and cuda::axpy are bit-identical to their cpu twins") {
  for (std::int64_t n : test::stream_sizes()) {
    for (std::int64_t offset : {0, 2}) {
      CAPTURE(n);
      CAPTURE(offset);
      for (bool in_place : {false, true}) {
        CAPTURE(in_place);
        compare_binary(
            n, offset, [](float* o, const float* a, const float* b, std::int64_t k) { cuda::add(o, a, b, k, kStream); },
            [](float* o, const float* a, const float* b, std::int64_t k) { cpu::add(o, a, b, k); }, in_place);
      }
      for (float alpha : {0.37f, -3.0f, 0.0f}) {
        CAPTURE(alpha);
        // y (a) is updated in place; the product alpha * x is rounded before the add.
        compare_binary(
            n, offset,
            [alpha](float*, const float* y, const float* x, std::int64_t k) {
              cuda::axpy(const_cast<float*>(y), alpha, x, k, kStream);
            },
            [alpha](float*, const float* y, const float* x, std::int64_t k) { cpu::axpy(const_cast<float*>(y), alpha, x, k); },
            true);
      }
    }
  }
}

TEST_CASE("cuda::add_bias is bit-identical to cpu::add_bias, in and out of place") {
  const std::vector<std::pair<std::int64_t, std::int64_t>> shapes{{1, 1}, {3, 5}, {7, 257}, {300, 3}, {2, 1000}};
  for (auto [features, batch] : shapes) {
    for (bool in_place : {false, true}) {
      CAPTURE(features);
      CAPTURE(batch);
      CAPTURE(in_place);
      const std::vector<float> y = inputs(features * batch, 5), bias = inputs(features, 6);
      DeviceArray<float> dy(y), dbias(bias), dout(y.size());
      float* out = in_place ? dy.data() : dout.data();
      cuda::add_bias(out, dy.data(), dbias.data(), features, batch, kStream);
      std::vector<float> want(y.size());
      cpu::add_bias(want.data(), y.data(), bias.data(), features, batch);
      test::require_same_bits(in_place ? dy.to_host() : dout.to_host(), want);
    }
  }
}

TEST_CASE("cuda::bias_grad matches cpu::bias_grad within the double-summation bound") {
  const std::vector<std::pair<std::int64_t, std::int64_t>> shapes{{1, 1}, {1, 2}, {5, 31}, {5, 33}, {17, 256},
                                                                  {3, 257}, {2, 5000}, {300, 7}, {4, 0}};
  for (auto [features, batch] : shapes) {
    CAPTURE(features);
    CAPTURE(batch);
    std::vector<float> dy = test::random_floats(static_cast<std::size_t>(features * batch), 9, -100.0f, 100.0f);
    if (features >= 3 && batch >= 2) {
      dy[static_cast<std::size_t>(batch) + 1] = std::numeric_limits<float>::quiet_NaN();  // row 1
      dy[static_cast<std::size_t>(2 * batch)] = std::numeric_limits<float>::infinity();   // row 2
    }
    DeviceArray<float> ddy(dy), dout(static_cast<std::size_t>(features));
    cuda::bias_grad(dout.data(), ddy.data(), features, batch, kStream);
    std::vector<float> want(static_cast<std::size_t>(features));
    cpu::bias_grad(want.data(), dy.data(), features, batch);
    // Both sum in double, in different orders: each double sum is within
    // batch * 2^-53 * sum|dy| of the exact sum, so the float results differ by
    // at most one float rounding (an ulp of the result) plus twice that.
    test::require_close(dout.to_host(), want, [&](std::size_t f) {
      double abs_sum = 0;
      for (std::int64_t j = 0; j < batch; ++j) abs_sum += std::fabs(dy[f * static_cast<std::size_t>(batch) + j]);
      const double ulp = std::fabs(want[f]) * std::ldexp(1.0, -23);
      return ulp + 2.0 * static_cast<double>(batch) * std::ldexp(abs_sum, -53);
    });
  }
}

TEST_CASE("cuda::first_index_outside finds the smallest bad index, or -1") {
  for (std::int64_t n : {0, 1, 5, 1000, 70001}) {
    for (std::int64_t bad : {-1, 0, 3, 999, 70000}) {
      if (bad >= n) continue;
      CAPTURE(n);
      CAPTURE(bad);
      std::vector<std::int32_t> v(static_cast<std::size_t>(n));
      for (std::int64_t i = 0; i < n; ++i) v[static_cast<std::size_t>(i)] = static_cast<std::int32_t>(i % 10);
      if (bad >= 0) {
        v[static_cast<std::size_t>(bad)] = 10;  // just past the range [0, 10)
        for (std::int64_t later = bad + 7; later < n; later += 97) v[static_cast<std::size_t>(later)] = -1;
      }
      DeviceArray<std::int32_t> dv(v);
      DeviceArray<std::int64_t> result(1);
      cuda::first_index_outside(result.data(), dv.data(), n, 0, 10, kStream);
      CHECK(result.to_host()[0] == cpu::first_index_outside(v.data(), n, 0, 10));
      CHECK(result.to_host()[0] == bad);
    }
  }
}

namespace {

// Logits [classes, batch] in [-8, 8) with labels; `edges` puts a NaN, a +inf,
// a column of -inf and single -inf logits in.
void classification_inputs(std::int64_t classes, std::int64_t batch, bool edges, std::vector<float>& logits,
                           std::vector<std::int32_t>& labels) {
  logits = test::random_floats(static_cast<std::size_t>(classes * batch), 21, -8.0f, 8.0f);
  labels.resize(static_cast<std::size_t>(batch));
  for (std::int64_t b = 0; b < batch; ++b) labels[static_cast<std::size_t>(b)] = static_cast<std::int32_t>((b * 7 + 3) % classes);
  if (edges && batch >= 4) {
    const float inf = std::numeric_limits<float>::infinity();
    logits[static_cast<std::size_t>(0 * batch + 1)] = std::numeric_limits<float>::quiet_NaN();
    logits[static_cast<std::size_t>((classes - 1) * batch + 2)] = inf;
    for (std::int64_t c = 0; c < classes; ++c) logits[static_cast<std::size_t>(c * batch + 3)] = -inf;
    if (classes >= 2 && batch >= 5) logits[static_cast<std::size_t>(1 * batch + 4)] = -inf;
  }
  // Ties for the argmax: column 0 gets two equal maxima.
  if (classes >= 3) logits[0] = logits[static_cast<std::size_t>(2 * batch)] = 9.0f;
}

}  // namespace

TEST_CASE("cuda::softmax_cross_entropy matches the cpu twin (stable, NaN/inf columns, partial blocks)") {
  const std::vector<std::pair<std::int64_t, std::int64_t>> shapes{{1, 1}, {10, 1}, {10, 63}, {10, 64}, {10, 65},
                                                                  {3, 200}, {100, 7}, {2, 1000}};
  for (auto [classes, batch] : shapes) {
    for (bool edges : {false, true}) {
      CAPTURE(classes);
      CAPTURE(batch);
      CAPTURE(edges);
      std::vector<float> logits;
      std::vector<std::int32_t> labels;
      classification_inputs(classes, batch, edges, logits, labels);
      DeviceArray<float> dlogits(logits), dgrad(logits.size());
      DeviceArray<std::int32_t> dlabels(labels);
      DeviceArray<double> dloss(1);
      cuda::softmax_cross_entropy(dgrad.data(), dloss.data(), dlogits.data(), dlabels.data(), classes, batch,
                                  test::kernel_stream());
      std::vector<float> want(logits.size());
      const double want_loss = cpu::softmax_cross_entropy(want.data(), logits.data(), labels.data(), classes, batch);
      const double loss = dloss.to_host()[0];
      if (test::kEmulated) {
        // Same operations in the same order, the host's expf and log: identical.
        test::require_same_bits(dgrad.to_host(), want);
        CHECK(std::memcmp(&loss, &want_loss, sizeof loss) == 0);
      } else {
        // CUDA's expf is within 2 ulp and its log within 1 ulp of the exact
        // value (the host's are correctly rounded): a few float ulps on the
        // gradient, a relative 1e-12 (far below float) on the double loss.
        test::require_close(dgrad.to_host(), want,
                            [&](std::size_t i) { return 8.0 * std::ldexp(std::fabs(want[i]), -23) + 1e-30; });
        if (std::isnan(want_loss)) CHECK(std::isnan(loss));
        else CHECK(std::fabs(loss - want_loss) <= 1e-12 * std::fabs(want_loss) + 1e-300);
      }
      CHECK(std::isnan(want_loss) == (edges && batch >= 4));  // the NaN / +inf / all -inf columns poison the mean
    }
  }
}

// The binding checks the labels in the same stream pass as the loss, so the
// kernel must survive bad ones: nothing is read out of range (a label of
// 2^31 - 1 would read gigabytes past the logits), their columns' loss is NaN,
// and the other columns' gradients are the CPU's.
TEST_CASE("cuda::softmax_cross_entropy with labels below 0 or at least classes: no read out of range, NaN loss") {
  const std::int64_t classes = 5, batch = 4;
  std::vector<float> logits(classes * batch);
  for (std::size_t i = 0; i < logits.size(); ++i) logits[i] = 0.25f * static_cast<float>(i % 7) - 0.5f;
  const std::vector<std::int32_t> labels{2, -1, 2147483647, 4};
  DeviceArray<float> dlogits(logits), dgrad(logits.size());
  DeviceArray<std::int32_t> dlabels(labels);
  DeviceArray<double> dloss(1);
  cuda::softmax_cross_entropy(dgrad.data(), dloss.data(), dlogits.data(), dlabels.data(), classes, batch,
                              test::kernel_stream());
  CHECK(std::isnan(dloss.to_host()[0]));
  // Columns 0 and 3 have valid labels: their gradients are the CPU's for the same labels.
  const std::vector<std::int32_t> valid{2, 0, 0, 4};
  std::vector<float> want(logits.size());
  cpu::softmax_cross_entropy(want.data(), logits.data(), valid.data(), classes, batch);
  const std::vector<float> got = dgrad.to_host();
  for (std::int64_t c = 0; c < classes; ++c)
    for (std::int64_t b : {0, 3}) {
      CAPTURE(c);
      CAPTURE(b);
      const float g = got[c * batch + b], w = want[c * batch + b];
      CHECK(std::fabs(g - w) <= 8.0f * std::ldexp(std::fabs(w), -23) + 1e-30f);
    }
}

#if !defined(DYNASPARSE_SIMT_EMULATION)
// Scratch memory is ordered on cuda::stream(); another stream is refused
// rather than risking a use after free (the emulation has no streams).
TEST_CASE("cuda::softmax_cross_entropy refuses a stream other than cuda::stream() (GPU only)") {
  DeviceArray<float> logits(std::vector<float>(6, 0.0f)), grad(6);
  DeviceArray<std::int32_t> labels(std::vector<std::int32_t>{0, 1});
  DeviceArray<double> loss(1);
  CHECK_THROWS(cuda::softmax_cross_entropy(grad.data(), loss.data(), logits.data(), labels.data(), 3, 2, kStream));
}
#endif

TEST_CASE("cuda::count_correct equals cpu::count_correct (ties to the lowest class, NaN never wins)") {
  const std::vector<std::pair<std::int64_t, std::int64_t>> shapes{{1, 1}, {10, 1}, {3, 255}, {3, 257}, {10, 1000},
                                                                  {7, 70001}};
  for (auto [classes, batch] : shapes) {
    for (bool edges : {false, true}) {
      CAPTURE(classes);
      CAPTURE(batch);
      std::vector<float> logits;
      std::vector<std::int32_t> labels;
      classification_inputs(classes, batch, edges, logits, labels);
      // Make about half of the labels the argmax so the count is not trivial.
      for (std::int64_t b = 0; b < batch; b += 2) {
        std::int64_t arg = 0;
        for (std::int64_t c = 1; c < classes; ++c)
          if (logits[static_cast<std::size_t>(c * batch + b)] > logits[static_cast<std::size_t>(arg * batch + b)]) arg = c;
        labels[static_cast<std::size_t>(b)] = static_cast<std::int32_t>(arg);
      }
      DeviceArray<float> dlogits(logits);
      DeviceArray<std::int32_t> dlabels(labels);
      DeviceArray<std::int64_t> dcount(1);
      cuda::count_correct(dcount.data(), dlogits.data(), dlabels.data(), classes, batch, kStream);
      const std::int64_t want = cpu::count_correct(logits.data(), labels.data(), classes, batch);
      CHECK(dcount.to_host()[0] == want);
      CHECK(want > 0);
    }
  }
}
