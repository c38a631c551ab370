// cuda:: optimizer updates against their cpu:: twins: bit for bit, since every
// element is the same sequence of correctly rounded float operations (the
// products rounded before the sums, sqrt and division IEEE-rounded on both).
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "compare.h"
#include "device_array.h"
#include "dynasparse/ops/optim.h"

using namespace dynasparse;
using test::DeviceArray;

namespace {

constexpr Stream kStream = nullptr;

// The values an optimizer sees: weights and gradients with the edge values, a
// non-negative second moment, and a mask of 1, 0 and NaN (NaN counts as kept).
struct State {
  std::vector<float> w, grad, buf, m, v, mask;
  explicit State(std::int64_t n) {
    const auto size = static_cast<std::size_t>(n);
    w = test::random_floats(size, 11);
    grad = test::random_floats(size, 12);
    buf = test::random_floats(size, 13);
    m = test::random_floats(size, 14, -0.1f, 0.1f);
    v = test::random_floats(size, 15, 0.0f, 0.01f);
    test::add_edge_values(w, 5, 37);
    test::add_edge_values(grad, 2, 29);
    mask.assign(size, 1.0f);
    for (std::size_t i = 0; i < size; i += 3) mask[i] = 0.0f;
    for (std::size_t i = 7; i < size; i += 41) mask[i] = std::numeric_limits<float>::quiet_NaN();
  }
};

// The arrays on the device, each `offset` floats into its allocation.
struct DeviceState {
  DeviceArray<float> w, grad, buf, m, v, mask;
  std::int64_t offset;
  DeviceState(const State& s, std::int64_t off)
      : w(pad(s.w, off)), grad(pad(s.grad, off)), buf(pad(s.buf, off)), m(pad(s.m, off)), v(pad(s.v, off)),
        mask(pad(s.mask, off)), offset(off) {}
  static std::vector<float> pad(const std::vector<float>& x, std::int64_t off) {
    std::vector<float> out(static_cast<std::size_t>(off), 0.0f);
    out.insert(out.end(), x.begin(), x.end());
    return out;
  }
  static std::vector<float> unpad(const DeviceArray<float>& a, std::int64_t off) {
    std::vector<float> x = a.to_host();
    x.erase(x.begin(), x.begin() + off);
    return x;
  }
  float* at(DeviceArray<float>& a) { return a.data() + offset; }
};

}  // namespace

TEST_CASE("cuda::sgd_step is bit-identical to cpu::sgd_step (momentum, Nesterov, decay, masks, residues)") {
  struct Case {
    float momentum, decay;
    bool nesterov;
  };
  const Case cases[] = {{0, 0, false}, {0, 0.01f, false}, {0.9f, 0, false}, {0.9f, 0.05f, false}, {0.8f, 0, true},
                        {0.8f, 0.02f, true}};
  for (std::int64_t n : {0, 1, 3, 4, 5, 257, 1031, 70001}) {
    for (const Case& c : cases) {
      for (bool masked : {false, true}) {
        for (std::int64_t offset : {0, 1}) {
          CAPTURE(n);
          CAPTURE(c.momentum);
          CAPTURE(c.decay);
          CAPTURE(c.nesterov);
          CAPTURE(masked);
          CAPTURE(offset);
          SgdConfig config;
          config.lr = 0.05f;
          config.momentum = c.momentum;
          config.weight_decay = c.decay;
          config.nesterov = c.nesterov;
          State host(n);
          DeviceState dev(host, offset);
          for (int step = 0; step < 3; ++step) {  // the momentum buffer carries over
            cuda::sgd_step(dev.at(dev.w), dev.at(dev.grad), c.momentum != 0 ? dev.at(dev.buf) : nullptr,
                           masked ? dev.at(dev.mask) : nullptr, n, config, kStream);
            cpu::sgd_step(host.w.data(), host.grad.data(), c.momentum != 0 ? host.buf.data() : nullptr,
                          masked ? host.mask.data() : nullptr, n, config);
          }
          test::require_same_bits(DeviceState::unpad(dev.w, offset), host.w);
          test::require_same_bits(DeviceState::unpad(dev.buf, offset), host.buf);  // untouched without momentum
          test::require_same_bits(DeviceState::unpad(dev.grad, offset), host.grad);
        }
      }
    }
  }
}

TEST_CASE("cuda::adam_step is bit-identical to cpu::adam_step (Adam, AdamW, masks, residues, later steps)") {
  for (std::int64_t n : {0, 1, 2, 4, 7, 256, 1029, 70001}) {
    for (int decay_kind : {0, 1, 2}) {
      for (bool masked : {false, true}) {
        for (std::int64_t offset : {0, 3}) {
          CAPTURE(n);
          CAPTURE(decay_kind);
          CAPTURE(masked);
          CAPTURE(offset);
          AdamConfig config;
          config.lr = 1e-3f;
          config.weight_decay = decay_kind == 0 ? 0.0f : 0.01f;
          config.decoupled = decay_kind == 2;
          State host(n);
          DeviceState dev(host, offset);
          for (std::int64_t step : {1, 2, 7}) {
            config.step = step;
            cuda::adam_step(dev.at(dev.w), dev.at(dev.grad), dev.at(dev.m), dev.at(dev.v),
                            masked ? dev.at(dev.mask) : nullptr, n, config, kStream);
            cpu::adam_step(host.w.data(), host.grad.data(), host.m.data(), host.v.data(),
                           masked ? host.mask.data() : nullptr, n, config);
          }
          test::require_same_bits(DeviceState::unpad(dev.w, offset), host.w);
          test::require_same_bits(DeviceState::unpad(dev.m, offset), host.m);
          test::require_same_bits(DeviceState::unpad(dev.v, offset), host.v);
        }
      }
    }
  }
}

TEST_CASE("cuda::remap_state is bit-identical to cpu::remap_state (new entries, repeats, residues)") {
  for (std::int64_t n : {0, 1, 3, 4, 5, 255, 257, 4099}) {
    for (std::int64_t offset : {0, 1}) {
      CAPTURE(n);
      CAPTURE(offset);
      const std::int64_t old_n = 300;
      std::vector<float> in = test::random_floats(static_cast<std::size_t>(old_n), 31);
      test::add_edge_values(in);
      std::vector<std::int32_t> map(static_cast<std::size_t>(n + offset), 0);
      for (std::int64_t i = 0; i < n; ++i)
        map[static_cast<std::size_t>(i + offset)] = i % 5 == 0 ? -1 : static_cast<std::int32_t>((i * 37) % old_n);
      DeviceArray<float> din(in), dout(static_cast<std::size_t>(n + offset));
      DeviceArray<std::int32_t> dmap(map);
      cuda::remap_state(dout.data() + offset, din.data(), dmap.data() + offset, n, kStream);
      std::vector<float> want(static_cast<std::size_t>(n));
      cpu::remap_state(want.data(), in.data(), map.data() + offset, n);
      std::vector<float> got = dout.to_host();
      got.erase(got.begin(), got.begin() + offset);
      test::require_same_bits(got, want);
    }
  }
}
