// Fused optimizer updates: each element's weight, gradient and state are read
// once and written once per step. Every choice that does not depend on the
// element (momentum, Nesterov, decay, mask) is a template parameter, so each
// inner loop is a straight-line body the compiler vectorizes (selects become
// blends, no branches).
#include "dynasparse/ops/optim.h"

#include <cmath>
#include <cstring>

#include "parallel.h"

namespace dynasparse {

AdamConstants adam_constants(const AdamConfig& c) {
  const double t = static_cast<double>(c.step);
  const double bc1 = 1.0 - std::pow(static_cast<double>(c.beta1), t);
  const double bc2 = 1.0 - std::pow(static_cast<double>(c.beta2), t);
  AdamConstants k{};
  k.beta1 = c.beta1;
  k.one_minus_beta1 = static_cast<float>(1.0 - c.beta1);
  k.beta2 = c.beta2;
  k.one_minus_beta2 = static_cast<float>(1.0 - c.beta2);
  k.eps = c.eps;
  k.step_size = static_cast<float>(c.lr / bc1);
  k.inv_bc2_sqrt = static_cast<float>(1.0 / std::sqrt(bc2));
  k.decay = c.weight_decay;
  k.decay_factor = static_cast<float>(1.0 - static_cast<double>(c.lr) * c.weight_decay);
  return k;
}

}  // namespace dynasparse

namespace dynasparse::cpu {
namespace {

// Elements per parallel chunk: large enough to amortize scheduling, small
// enough to balance a few threads on parameters of ~100k values.
constexpr std::int64_t kGrain = std::int64_t{1} << 15;

// keep ? a : b, written with bit operations. With a plain conditional
// expression GCC moves the computation of `a` (a division, for Adam) under the
// condition, and a conditional division (which may trap) blocks vectorization.
inline float select(bool keep, float a, float b) {
  std::uint32_t x, y;
  std::memcpy(&x, &a, sizeof x);
  std::memcpy(&y, &b, sizeof y);
  const std::uint32_t k = keep ? ~std::uint32_t{0} : std::uint32_t{0};
  x = (x & k) | (y & ~k);
  std::memcpy(&a, &x, sizeof a);
  return a;
}

template <bool kMomentum, bool kNesterov, bool kDecay, bool kMask>
void sgd_range(float* __restrict__ w, const float* __restrict__ grad, float* __restrict__ buf,
               const float* __restrict__ mask, std::int64_t lo, std::int64_t hi, float lr, float momentum,
               float decay) {
  for (std::int64_t i = lo; i < hi; ++i) {
    const float wi = w[i];
    const float g = kDecay ? grad[i] + decay * wi : grad[i];
    float step = g;
    if constexpr (kMomentum) {
      const float b = momentum * buf[i] + g;
      step = kNesterov ? g + momentum * b : b;
      if constexpr (kMask) {
        buf[i] = select(mask[i] != 0.0f, b, buf[i]);
      } else {
        buf[i] = b;
      }
    }
    const float updated = wi - lr * step;
    if constexpr (kMask) {
      w[i] = select(mask[i] != 0.0f, updated, 0.0f);
    } else {
      w[i] = updated;
    }
  }
}

template <bool kMomentum, bool kNesterov, bool kDecay, bool kMask>
void sgd_run(float* w, const float* grad, float* buf, const float* mask, std::int64_t n, const SgdConfig& c) {
  parallel_for(0, n, kGrain, [&](std::int64_t lo, std::int64_t hi) {
    sgd_range<kMomentum, kNesterov, kDecay, kMask>(w, grad, buf, mask, lo, hi, c.lr, c.momentum, c.weight_decay);
  });
}

template <bool kMomentum, bool kNesterov, bool kDecay>
void sgd_mask(float* w, const float* grad, float* buf, const float* mask, std::int64_t n, const SgdConfig& c) {
  if (mask != nullptr) sgd_run<kMomentum, kNesterov, kDecay, true>(w, grad, buf, mask, n, c);
  else sgd_run<kMomentum, kNesterov, kDecay, false>(w, grad, buf, mask, n, c);
}

template <bool kMomentum, bool kNesterov>
void sgd_decay(float* w, const float* grad, float* buf, const float* mask, std::int64_t n, const SgdConfig& c) {
  // A zero decay skips the term (as PyTorch does), so an infinite weight does
  // not turn into NaN through 0 * inf.
  if (c.weight_decay != 0.0f) sgd_mask<kMomentum, kNesterov, true>(w, grad, buf, mask, n, c);
  else sgd_mask<kMomentum, kNesterov, false>(w, grad, buf, mask, n, c);
}

// kDecay: 0 none, 1 Adam (coupled, into the gradient), 2 AdamW (decoupled).
template <int kDecay, bool kMask>
void adam_range(float* __restrict__ w, const float* __restrict__ grad, float* __restrict__ m, float* __restrict__ v,
                const float* __restrict__ mask, std::int64_t lo, std::int64_t hi, const AdamConstants k) {
  for (std::int64_t i = lo; i < hi; ++i) {
    float wi = w[i];
    float g = grad[i];
    if constexpr (kDecay == 1) g = g + k.decay * wi;
    if constexpr (kDecay == 2) wi = wi * k.decay_factor;
    const float mi = k.beta1 * m[i] + k.one_minus_beta1 * g;
    const float vi = k.beta2 * v[i] + k.one_minus_beta2 * (g * g);
    const float denom = std::sqrt(vi) * k.inv_bc2_sqrt + k.eps;
    const float updated = wi - k.step_size * (mi / denom);
    if constexpr (kMask) {
      const bool keep = mask[i] != 0.0f;
      m[i] = select(keep, mi, m[i]);
      v[i] = select(keep, vi, v[i]);
      w[i] = select(keep, updated, 0.0f);
    } else {
      m[i] = mi;
      v[i] = vi;
      w[i] = updated;
    }
  }
}

template <int kDecay, bool kMask>
void adam_run(float* w, const float* grad, float* m, float* v, const float* mask, std::int64_t n, const AdamConstants& k) {
  parallel_for(0, n, kGrain, [&](std::int64_t lo, std::int64_t hi) { adam_range<kDecay, kMask>(w, grad, m, v, mask, lo, hi, k); });
}

template <int kDecay>
void adam_mask(float* w, const float* grad, float* m, float* v, const float* mask, std::int64_t n, const AdamConstants& k) {
  if (mask != nullptr) adam_run<kDecay, true>(w, grad, m, v, mask, n, k);
  else adam_run<kDecay, false>(w, grad, m, v, mask, n, k);
}

}  // namespace

void sgd_step(float* w, const float* grad, float* buf, const float* mask, std::int64_t n, const SgdConfig& config) {
  if (n <= 0) return;
  if (config.momentum == 0.0f) sgd_decay<false, false>(w, grad, buf, mask, n, config);
  else if (config.nesterov) sgd_decay<true, true>(w, grad, buf, mask, n, config);
  else sgd_decay<true, false>(w, grad, buf, mask, n, config);
}

void adam_step(float* w, const float* grad, float* m, float* v, const float* mask, std::int64_t n,
               const AdamConfig& config) {
  if (n <= 0) return;
  const AdamConstants k = adam_constants(config);
  if (config.weight_decay == 0.0f) adam_mask<0>(w, grad, m, v, mask, n, k);
  else if (config.decoupled) adam_mask<2>(w, grad, m, v, mask, n, k);
  else adam_mask<1>(w, grad, m, v, mask, n, k);
}

void remap_state(float* out, const float* in, const std::int32_t* map, std::int64_t n) {
  parallel_for(0, n, kGrain, [&](std::int64_t lo, std::int64_t hi) {
    for (std::int64_t i = lo; i < hi; ++i) {
      const std::int32_t src = map[i];
      out[i] = src < 0 ? 0.0f : in[src];
    }
  });
}

}  // namespace dynasparse::cpu
