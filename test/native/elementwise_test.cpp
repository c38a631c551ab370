// Elementwise, bias and loss kernels on raw arrays (cpu/elementwise.cpp).
// Exact comparisons where the kernel does a fixed sequence of float32
// operations (this file is built with -ffp-contract=off like the kernels);
// the softmax cross-entropy is compared with a double reference at 1e-6
// (float32 exp and reciprocal of values <= 1, a few roundings each).
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "dynasparse/ops/elementwise.h"
#include "dynasparse/philox.h"

using namespace dynasparse;

namespace {

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
constexpr float kInf = std::numeric_limits<float>::infinity();

std::vector<float> normal_values(std::int64_t n, std::uint64_t seed, float std_dev = 1.0f) {
  std::vector<float> v(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i) v[i] = rng::normal_at(seed, 3, static_cast<std::uint64_t>(i), 0.0f, std_dev);
  return v;
}

// Mean loss and gradient of softmax cross-entropy in double, feature-major.
double softmax_reference(std::vector<double>& grad, const std::vector<float>& x, const std::vector<std::int32_t>& labels,
                         std::int64_t classes, std::int64_t batch) {
  grad.assign(x.size(), 0.0);
  double total = 0;
  for (std::int64_t b = 0; b < batch; ++b) {
    double max = -INFINITY, sum = 0;
    for (std::int64_t c = 0; c < classes; ++c) max = std::max(max, static_cast<double>(x[c * batch + b]));
    for (std::int64_t c = 0; c < classes; ++c) sum += std::exp(x[c * batch + b] - max);
    total += std::log(sum) + max - x[labels[b] * batch + b];
    for (std::int64_t c = 0; c < classes; ++c)
      grad[c * batch + b] = (std::exp(x[c * batch + b] - max) / sum - (c == labels[b] ? 1.0 : 0.0)) / batch;
  }
  return total / batch;
}

}  // namespace

TEST_CASE("relu: max(x, 0), NaN kept, -0 to +0, and relu_backward: dy where x > 0") {
  const std::vector<float> x{-2.0f, -0.0f, 0.0f, 0.5f, kNaN, kInf, -kInf};
  std::vector<float> y(x.size());
  cpu::relu(y.data(), x.data(), static_cast<std::int64_t>(x.size()));
  CHECK(y[0] == 0.0f);
  CHECK(!std::signbit(y[1]));
  CHECK(y[3] == 0.5f);
  CHECK(std::isnan(y[4]));
  CHECK(y[5] == kInf);
  CHECK(y[6] == 0.0f);
  const std::vector<float> dy{1, 2, 3, 4, 5, kNaN, kNaN};
  std::vector<float> dx(x.size());
  cpu::relu_backward(dx.data(), dy.data(), x.data(), static_cast<std::int64_t>(x.size()));
  const std::vector<float> expected{0, 0, 0, 4, 0, kNaN, 0};  // x == 0 gives 0, NaN x gives 0
  for (std::size_t i = 0; i < x.size(); ++i) {
    CAPTURE(i);
    if (i == 5) CHECK(std::isnan(dx[i]));  // x = inf > 0 passes the NaN dy
    else CHECK(dx[i] == expected[i]);
  }
}

TEST_CASE("relu in place over many chunks") {
  const std::int64_t n = 100003;
  std::vector<float> x = normal_values(n, 1);
  const std::vector<float> original = x;
  cpu::relu(x.data(), x.data(), n);
  std::int64_t bad = -1;
  for (std::int64_t i = 0; i < n && bad < 0; ++i)
    if (x[i] != std::max(original[i], 0.0f)) bad = i;
  CHECK(bad == -1);
}

TEST_CASE("add_bias adds bias[f] to row f, in place too, and bias_grad sums rows in double") {
  const std::int64_t features = 37, batch = 1031;
  const std::vector<float> y = normal_values(features * batch, 2), bias = normal_values(features, 3);
  std::vector<float> out(y.size()), inplace = y;
  cpu::add_bias(out.data(), y.data(), bias.data(), features, batch);
  cpu::add_bias(inplace.data(), inplace.data(), bias.data(), features, batch);
  std::int64_t bad = -1;
  for (std::int64_t i = 0; i < features * batch && bad < 0; ++i) {
    const float expected = y[i] + bias[i / batch];
    if (out[i] != expected || inplace[i] != expected) bad = i;
  }
  CHECK(bad == -1);

  std::vector<float> g(static_cast<std::size_t>(features));
  cpu::bias_grad(g.data(), y.data(), features, batch);
  for (std::int64_t f = 0; f < features; ++f) {
    double s = 0;
    for (std::int64_t b = 0; b < batch; ++b) s += y[f * batch + b];
    CHECK(g[f] == static_cast<float>(s));
  }
  std::vector<float> empty_batch(3, 7.0f);
  cpu::bias_grad(empty_batch.data(), nullptr, 3, 0);
  CHECK(empty_batch == std::vector<float>{0, 0, 0});
}

TEST_CASE("softmax_cross_entropy matches the double reference across block boundaries") {
  for (std::int64_t classes : {1, 2, 10, 130}) {
    for (std::int64_t batch : {1, 63, 64, 65, 1000}) {
      CAPTURE(classes);
      CAPTURE(batch);
      const std::vector<float> x = normal_values(classes * batch, 4 + classes, 4.0f);
      std::vector<std::int32_t> labels(static_cast<std::size_t>(batch));
      for (std::int64_t b = 0; b < batch; ++b) labels[b] = static_cast<std::int32_t>((b * 31) % classes);
      std::vector<float> grad(x.size(), kNaN);
      const double loss = cpu::softmax_cross_entropy(grad.data(), x.data(), labels.data(), classes, batch);
      std::vector<double> ref_grad;
      const double ref = softmax_reference(ref_grad, x, labels, classes, batch);
      CHECK(loss == doctest::Approx(ref).epsilon(1e-6));
      double worst = 0;
      for (std::size_t i = 0; i < grad.size(); ++i) worst = std::max(worst, std::fabs(grad[i] - ref_grad[i]));
      CHECK(worst <= 1e-6 / batch + 1e-7);
    }
  }
}

TEST_CASE("softmax_cross_entropy: NaN and +inf poison their column, -inf is probability 0") {
  // [classes 3, batch 4]: column 0 has a NaN, column 1 a +inf, column 2 a -inf
  // that is not its label, column 3 a -inf that is its label.
  const std::vector<float> x{kNaN, kInf, -kInf, -kInf,  //
                             0.0f, 0.0f, 0.0f, 2.0f,    //
                             1.0f, 0.0f, 0.0f, 0.0f};
  const std::vector<std::int32_t> labels{0, 0, 1, 0};
  std::vector<float> grad(x.size());
  const double loss = cpu::softmax_cross_entropy(grad.data(), x.data(), labels.data(), 3, 4);
  CHECK(std::isnan(loss));
  for (int c = 0; c < 3; ++c) {
    CHECK(std::isnan(grad[c * 4 + 0]));
    CHECK(std::isnan(grad[c * 4 + 1]));
    CHECK(std::isfinite(grad[c * 4 + 2]));
    CHECK(std::isfinite(grad[c * 4 + 3]));
  }
  CHECK(grad[0 * 4 + 2] == 0.0f);
  CHECK(grad[1 * 4 + 2] == doctest::Approx(-0.5 / 4));
  const std::vector<float> label_at_minus_inf{-kInf, 0.0f};
  std::vector<float> g2(2);
  const std::vector<std::int32_t> zero{0};
  CHECK(cpu::softmax_cross_entropy(g2.data(), label_at_minus_inf.data(), zero.data(), 2, 1) == kInf);
  CHECK(g2[0] == -1.0f);
  CHECK(g2[1] == 1.0f);
}

TEST_CASE("count_correct: ties to the lowest class, NaN never the argmax") {
  // [classes 3, batch 5]
  const std::vector<float> x{0.1f, 3.0f, kNaN, kNaN, -kInf,  //
                             0.7f, 3.0f, 1.0f, kNaN, -kInf,  //
                             0.2f, 1.0f, 2.0f, kNaN, -kInf};
  CHECK(cpu::count_correct(x.data(), std::vector<std::int32_t>{1, 0, 2, 0, 0}.data(), 3, 5) == 4);
  CHECK(cpu::count_correct(x.data(), std::vector<std::int32_t>{1, 1, 1, 1, 1}.data(), 3, 5) == 1);
}

TEST_CASE("count_correct over many blocks equals a plain loop") {
  const std::int64_t classes = 7, batch = 5000;
  const std::vector<float> x = normal_values(classes * batch, 9);
  std::vector<std::int32_t> labels(static_cast<std::size_t>(batch));
  std::int64_t expected = 0;
  for (std::int64_t b = 0; b < batch; ++b) {
    labels[b] = static_cast<std::int32_t>((b * 3) % classes);
    std::int64_t best = 0;
    for (std::int64_t c = 1; c < classes; ++c)
      if (x[c * batch + b] > x[best * batch + b]) best = c;
    expected += best == labels[b] ? 1 : 0;
  }
  CHECK(cpu::count_correct(x.data(), labels.data(), classes, batch) == expected);
}

TEST_CASE("add and axpy") {
  const std::int64_t n = 70001;
  const std::vector<float> a = normal_values(n, 11), b = normal_values(n, 12);
  std::vector<float> sum(static_cast<std::size_t>(n)), y = b;
  cpu::add(sum.data(), a.data(), b.data(), n);
  cpu::axpy(y.data(), -0.25f, a.data(), n);
  std::int64_t bad = -1;
  for (std::int64_t i = 0; i < n && bad < 0; ++i)
    if (sum[i] != a[i] + b[i] || y[i] != b[i] + -0.25f * a[i]) bad = i;
  CHECK(bad == -1);
}
