// Fused optimizer updates on flat float32 arrays: one pass over memory per
// step. A parameter is either a dense tensor or a sparse matrix's stored
// values; the optimizer state is aligned to it element by element.
#pragma once

#include <cstdint>

#include "dynasparse/device.h"

namespace dynasparse {

// SGD with momentum (PyTorch semantics, dampening 0):
//   g = grad + weight_decay * w
//   buf = momentum * buf + g                      (only when momentum != 0)
//   step = momentum == 0 ? g : nesterov ? g + momentum * buf : buf
//   w -= lr * step
struct SgdConfig {
  float lr = 0;
  float momentum = 0;
  float weight_decay = 0;
  bool nesterov = false;
};

// Adam / AdamW (PyTorch semantics), bias-corrected with the step count t >= 1:
//   Adam:  g = grad + weight_decay * w;  AdamW: g = grad, w -= lr * weight_decay * w
//   m = beta1 * m + (1 - beta1) * g
//   v = beta2 * v + (1 - beta2) * g * g
//   w -= lr * (m / (1 - beta1^t)) / (sqrt(v / (1 - beta2^t)) + eps)
// AdamW's decay uses the weight before this step's Adam update, as PyTorch does.
struct AdamConfig {
  float lr = 0;
  float beta1 = 0.9f;
  float beta2 = 0.999f;
  float eps = 1e-8f;
  float weight_decay = 0;
  bool decoupled = false;  // AdamW
  std::int64_t step = 1;   // t, counted from 1
};

// Per-step constants of Adam, computed once on the host in double precision
// and shared by both backends, so the CPU and CUDA updates start from the same
// float values.
struct AdamConstants {
  float beta1, one_minus_beta1, beta2, one_minus_beta2, eps;
  float step_size;      // lr / (1 - beta1^t)
  float inv_bc2_sqrt;   // 1 / sqrt(1 - beta2^t)
  float decay;          // Adam: weight_decay (added to the gradient)
  float decay_factor;   // AdamW: 1 - lr * weight_decay (multiplies the weight)
};
AdamConstants adam_constants(const AdamConfig& config);

}  // namespace dynasparse

namespace dynasparse::cpu {

// Masks: when `mask` is not null, element i is updated only where
// mask[i] != 0 (NaN counts as nonzero); where mask[i] == 0 the weight is set to
// 0 and the optimizer state is left untouched, so a masked-out weight stays
// exactly zero whatever its gradient.

// One SGD step over n elements. `buf` (the momentum buffer) is neither read
// nor written when momentum == 0 and may then be null.
void sgd_step(float* w, const float* grad, float* buf, const float* mask, std::int64_t n, const SgdConfig& config);

// One Adam/AdamW step over n elements; m and v are the first and second moments.
void adam_step(float* w, const float* grad, float* m, float* v, const float* mask, std::int64_t n,
               const AdamConfig& config);

// Optimizer state after a topology change: out[i] = map[i] < 0 ? 0 : in[map[i]]
// for i in [0, n). Every map[i] must lie in [-1, old_n) for an `in` of old_n
// values (check with first_index_outside(map, n, -1, old_n)). A source may
// appear several times (its state is copied to each entry). `out` must not
// overlap `in`.
void remap_state(float* out, const float* in, const std::int32_t* map, std::int64_t n);

}  // namespace dynasparse::cpu

#if defined(DYNASPARSE_WITH_CUDA)
namespace dynasparse::cuda {
// The CUDA twins: same arguments (device pointers), same semantics, enqueued
// on `s`. Every element is the same sequence of correctly rounded float
// operations as on the CPU (sqrt included), so the results are bit-identical.
void sgd_step(float* w, const float* grad, float* buf, const float* mask, std::int64_t n, const SgdConfig& config,
              Stream s);
void adam_step(float* w, const float* grad, float* m, float* v, const float* mask, std::int64_t n,
               const AdamConfig& config, Stream s);
// The map must have been range-checked (first_index_outside) first.
void remap_state(float* out, const float* in, const std::int32_t* map, std::int64_t n, Stream s);
}  // namespace dynasparse::cuda
#endif
