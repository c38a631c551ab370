// The fused optimizer kernels on raw arrays (cpu/optim.cpp) against scalar
// references. Sizes cover the vector loops' remainders and several parallel
// chunks (32768 elements each).
//
// Tolerances: the SGD kernel is compared bit for bit with a float32 replay of
// its operations (this file is built with -ffp-contract=off like the kernels).
// Adam is compared with a double-precision reference of the documented
// formula: a few steps of O(1) values accumulate a few dozen float32 roundings,
// well under the 2e-6 relative bound used, while a formula error moves values
// by far more.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <vector>

#include "dynasparse/ops/elementwise.h"
#include "dynasparse/ops/optim.h"
#include "dynasparse/philox.h"

using namespace dynasparse;

namespace {

std::vector<float> normal_values(std::int64_t n, std::uint64_t seed) {
  std::vector<float> v(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i) v[i] = rng::normal_at(seed, 7, static_cast<std::uint64_t>(i), 0.0f, 1.0f);
  return v;
}

// Gradients bounded away from zero, |g| in [0.1, 1.1].
std::vector<float> grad_values(std::int64_t n, std::uint64_t seed) {
  std::vector<float> g(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i) {
    const float u = rng::uniform_at(seed, 9, static_cast<std::uint64_t>(i), 0.1f, 1.1f);
    g[i] = i % 2 == 0 ? u : -u;
  }
  return g;
}

std::vector<float> mask_values(std::int64_t n, std::uint64_t seed) {
  std::vector<float> m(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i) m[i] = rng::uniform_at(seed, 11, static_cast<std::uint64_t>(i), 0.0f, 1.0f) < 0.3f ? 0.0f : 1.0f;
  return m;
}

bool same_bits(float a, float b) { return std::memcmp(&a, &b, sizeof a) == 0; }

}  // namespace

TEST_CASE("sgd_step equals a float32 replay of its formula bit for bit, for every configuration") {
  for (std::int64_t n : {1, 3, 17, 100003}) {
    for (float momentum : {0.0f, 0.9f}) {
      for (bool nesterov : {false, true}) {
        if (nesterov && momentum == 0.0f) continue;
        for (float decay : {0.0f, 0.01f}) {
          for (bool masked : {false, true}) {
            CAPTURE(n);
            CAPTURE(momentum);
            CAPTURE(nesterov);
            CAPTURE(decay);
            CAPTURE(masked);
            const SgdConfig c{0.05f, momentum, decay, nesterov};
            std::vector<float> w = normal_values(n, 1), buf(static_cast<std::size_t>(n), 0.0f);
            std::vector<float> rw = w, rbuf = buf;
            const std::vector<float> mask = mask_values(n, 3);
            for (int step = 0; step < 3; ++step) {
              const std::vector<float> g = grad_values(n, 10 + step);
              cpu::sgd_step(w.data(), g.data(), momentum != 0.0f ? buf.data() : nullptr, masked ? mask.data() : nullptr, n, c);
              for (std::int64_t i = 0; i < n; ++i) {
                if (masked && mask[i] == 0.0f) {
                  rw[i] = 0.0f;
                  continue;
                }
                const float gi = decay != 0.0f ? g[i] + decay * rw[i] : g[i];
                float s = gi;
                if (momentum != 0.0f) {
                  rbuf[i] = momentum * rbuf[i] + gi;
                  s = nesterov ? gi + momentum * rbuf[i] : rbuf[i];
                }
                rw[i] = rw[i] - c.lr * s;
              }
            }
            std::int64_t bad = -1;
            for (std::int64_t i = 0; i < n && bad < 0; ++i)
              if (!same_bits(w[i], rw[i]) || !same_bits(buf[i], rbuf[i])) bad = i;
            CHECK(bad == -1);
          }
        }
      }
    }
  }
}

TEST_CASE("sgd_step without momentum never touches the (null) buffer, and n = 0 touches nothing") {
  std::vector<float> w{1.0f, 2.0f}, g{1.0f, -1.0f};
  cpu::sgd_step(w.data(), g.data(), nullptr, nullptr, 2, SgdConfig{0.5f, 0.0f, 0.0f, false});
  CHECK(w[0] == 0.5f);
  CHECK(w[1] == 2.5f);
  cpu::sgd_step(nullptr, nullptr, nullptr, nullptr, 0, SgdConfig{0.5f, 0.9f, 0.1f, true});
  cpu::adam_step(nullptr, nullptr, nullptr, nullptr, nullptr, 0, AdamConfig{});
}

TEST_CASE("adam_step follows the PyTorch Adam and AdamW formulas") {
  for (std::int64_t n : {1, 5, 100003}) {
    for (int mode = 0; mode < 3; ++mode) {  // 0: no decay, 1: Adam L2, 2: AdamW
      for (bool masked : {false, true}) {
        CAPTURE(n);
        CAPTURE(mode);
        CAPTURE(masked);
        AdamConfig c;
        c.lr = 0.01f;
        c.weight_decay = mode == 0 ? 0.0f : 0.1f;
        c.decoupled = mode == 2;
        std::vector<float> w = normal_values(n, 2), m(static_cast<std::size_t>(n), 0.0f), v = m;
        std::vector<double> rw(w.begin(), w.end()), rm(m.begin(), m.end()), rv = rm;
        const std::vector<float> mask = mask_values(n, 4);
        std::vector<float> m_before, v_before;
        for (int t = 1; t <= 4; ++t) {
          const std::vector<float> g = grad_values(n, 20 + t);
          c.step = t;
          m_before = m, v_before = v;
          cpu::adam_step(w.data(), g.data(), m.data(), v.data(), masked ? mask.data() : nullptr, n, c);
          const double b1 = c.beta1, b2 = c.beta2, lr = c.lr, wd = c.weight_decay;
          for (std::int64_t i = 0; i < n; ++i) {
            if (masked && mask[i] == 0.0f) {
              rw[i] = 0;
              continue;
            }
            double gi = g[i];
            if (mode == 1) gi += wd * rw[i];
            if (mode == 2) rw[i] -= lr * wd * rw[i];
            rm[i] = b1 * rm[i] + (1 - b1) * gi;
            rv[i] = b2 * rv[i] + (1 - b2) * gi * gi;
            const double mhat = rm[i] / (1 - std::pow(b1, t)), vhat = rv[i] / (1 - std::pow(b2, t));
            rw[i] -= lr * mhat / (std::sqrt(vhat) + static_cast<double>(c.eps));
          }
        }
        double worst = 0;
        for (std::int64_t i = 0; i < n; ++i) {
          worst = std::max(worst, std::fabs(w[i] - rw[i]) / (1 + std::fabs(rw[i])));
          worst = std::max(worst, std::fabs(m[i] - rm[i]) / (1 + std::fabs(rm[i])));
          worst = std::max(worst, std::fabs(v[i] - rv[i]) / (1 + std::fabs(rv[i])));
        }
        CHECK(worst <= 2e-6);
        if (masked) {  // the last step left masked-out moments bit for bit as they were
          std::int64_t bad = -1;
          for (std::int64_t i = 0; i < n && bad < 0; ++i)
            if (mask[i] == 0.0f && (!same_bits(m[i], m_before[i]) || !same_bits(v[i], v_before[i]) || w[i] != 0.0f)) bad = i;
          CHECK(bad == -1);
        }
      }
    }
  }
}

TEST_CASE("adam_step: the first step moves each weight by lr * sign(g) (bias correction with t = 1)") {
  std::vector<float> w{0.0f, 0.0f, 1.0f}, g{3.0f, -0.25f, 1e-3f}, m(3, 0.0f), v(3, 0.0f);
  AdamConfig c;
  c.lr = 1e-3f;
  c.eps = 1e-12f;
  cpu::adam_step(w.data(), g.data(), m.data(), v.data(), nullptr, 3, c);
  CHECK(w[0] == doctest::Approx(-1e-3).epsilon(1e-5));
  CHECK(w[1] == doctest::Approx(1e-3).epsilon(1e-5));
  CHECK(w[2] == doctest::Approx(1 - 1e-3).epsilon(1e-6));
}

TEST_CASE("NaN gradients stay in their element, and a zero mask still zeroes the weight") {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  std::vector<float> w{1, 1, 1}, g{nan, 1, nan}, mask{1, 1, 0}, m(3, 0.0f), v(3, 0.0f);
  AdamConfig c;
  c.lr = 0.1f;
  cpu::adam_step(w.data(), g.data(), m.data(), v.data(), mask.data(), 3, c);
  CHECK(std::isnan(w[0]));
  CHECK(std::isnan(m[0]));
  CHECK(w[1] == doctest::Approx(0.9).epsilon(1e-5));
  CHECK(w[2] == 0.0f);
  CHECK(m[2] == 0.0f);
  CHECK(v[2] == 0.0f);
}

TEST_CASE("remap_state gathers surviving entries and zeroes new ones") {
  const std::int64_t old_n = 100003, n = 120000;
  const std::vector<float> in = normal_values(old_n, 5);
  std::vector<std::int32_t> map(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i) map[i] = i % 5 == 0 ? -1 : static_cast<std::int32_t>((i * 7919) % old_n);
  REQUIRE(cpu::first_index_outside(map.data(), n, -1, old_n) == -1);
  std::vector<float> out(static_cast<std::size_t>(n), 123.0f);
  cpu::remap_state(out.data(), in.data(), map.data(), n);
  std::int64_t bad = -1;
  for (std::int64_t i = 0; i < n && bad < 0; ++i)
    if (out[i] != (map[i] < 0 ? 0.0f : in[map[i]])) bad = i;
  CHECK(bad == -1);
  cpu::remap_state(nullptr, nullptr, nullptr, 0);
}

TEST_CASE("first_index_outside finds the first bad map entry whatever chunk it lies in") {
  const std::int64_t n = 200000;
  std::vector<std::int32_t> map(static_cast<std::size_t>(n), 0);
  CHECK(cpu::first_index_outside(map.data(), n, -1, 1) == -1);
  map[150000] = 1;   // == old_n: out of range
  map[190000] = -2;  // below -1
  CHECK(cpu::first_index_outside(map.data(), n, -1, 1) == 150000);
  map[40000] = -7;
  CHECK(cpu::first_index_outside(map.data(), n, -1, 1) == 40000);
  map[0] = std::numeric_limits<std::int32_t>::max();
  CHECK(cpu::first_index_outside(map.data(), n, -1, 1) == 0);
  CHECK(cpu::first_index_outside(map.data(), 0, -1, 1) == -1);
}
