// CUDA twins of cpu/optim.cpp: fused, memory-bound updates. Grid-stride loops
// move float4 vectors when every array is 16-byte aligned (a scalar loop takes
// the residue and unaligned arrays), so each element of the weight, gradient,
// state and mask is read once and written once per step.
//
// Bit-exactness: every element goes through the same sequence of float
// operations as the CPU loop (compiled there with -ffp-contract=off), each
// written with a round-to-nearest intrinsic (__fmul_rn, __fadd_rn, __fdiv_rn,
// __fsqrt_rn) so nvcc cannot fuse a multiply and an add into an FMA. IEEE 754
// rounds all of these, square root included, correctly on both sides, and the
// per-step Adam constants come from the one host function adam_constants(), so
// the CUDA results equal the CPU's bit for bit.
#include <cstdint>

#include "dynasparse/ops/optim.h"
#include "launch.cuh"

namespace dynasparse::cuda {
namespace {

constexpr int kThreads = 256;

template <bool kMomentum, bool kNesterov, bool kDecay, bool kMask>
struct SgdOp {
  float lr, momentum, decay;
  // One element: w, buf updated in place; mask read only when kMask.
  __device__ __forceinline__ void operator()(float& w, float g_in, float& buf, float mask) const {
    const float wi = w;
    const float g = kDecay ? __fadd_rn(g_in, __fmul_rn(decay, wi)) : g_in;
    float step = g;
    const bool keep = !kMask || mask != 0.0f;
    if (kMomentum) {
      const float b = __fadd_rn(__fmul_rn(momentum, buf), g);
      step = kNesterov ? __fadd_rn(g, __fmul_rn(momentum, b)) : b;
      if (keep) buf = b;
    }
    const float updated = __fsub_rn(wi, __fmul_rn(lr, step));
    w = keep ? updated : 0.0f;
  }
};

template <bool kMomentum, bool kNesterov, bool kDecay, bool kMask>
__global__ void sgd_kernel(float* __restrict__ w, const float* __restrict__ grad, float* __restrict__ buf,
                           const float* __restrict__ mask, std::int64_t n, bool vec,
                           SgdOp<kMomentum, kNesterov, kDecay, kMask> op) {
  const std::int64_t stride = static_cast<std::int64_t>(gridDim.x) * blockDim.x;
  const std::int64_t tid = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  std::int64_t start = 0;
  if (vec) {
    const std::int64_t n4 = n / 4;
    for (std::int64_t i = tid; i < n4; i += stride) {
      float4 wv = reinterpret_cast<float4*>(w)[i];
      const float4 gv = reinterpret_cast<const float4*>(grad)[i];
      float4 bv = make_float4(0.0f, 0.0f, 0.0f, 0.0f);
      float4 mv = make_float4(1.0f, 1.0f, 1.0f, 1.0f);
      if (kMomentum) bv = reinterpret_cast<float4*>(buf)[i];
      if (kMask) mv = reinterpret_cast<const float4*>(mask)[i];
      op(wv.x, gv.x, bv.x, mv.x);
      op(wv.y, gv.y, bv.y, mv.y);
      op(wv.z, gv.z, bv.z, mv.z);
      op(wv.w, gv.w, bv.w, mv.w);
      reinterpret_cast<float4*>(w)[i] = wv;
      if (kMomentum) reinterpret_cast<float4*>(buf)[i] = bv;
    }
    start = n4 * 4;
  }
  for (std::int64_t i = start + tid; i < n; i += stride) {
    float wi = w[i];
    float b = kMomentum ? buf[i] : 0.0f;
    op(wi, grad[i], b, kMask ? mask[i] : 1.0f);
    w[i] = wi;
    if (kMomentum) buf[i] = b;
  }
}

// kDecay: 0 none, 1 Adam (coupled, into the gradient), 2 AdamW (decoupled).
template <int kDecay, bool kMask>
struct AdamOp {
  AdamConstants k;
  __device__ __forceinline__ void operator()(float& w, float g_in, float& m, float& v, float mask) const {
    float wi = w;
    float g = g_in;
    if (kDecay == 1) g = __fadd_rn(g, __fmul_rn(k.decay, wi));
    if (kDecay == 2) wi = __fmul_rn(wi, k.decay_factor);
    const float mi = __fadd_rn(__fmul_rn(k.beta1, m), __fmul_rn(k.one_minus_beta1, g));
    const float vi = __fadd_rn(__fmul_rn(k.beta2, v), __fmul_rn(k.one_minus_beta2, __fmul_rn(g, g)));
    const float denom = __fadd_rn(__fmul_rn(__fsqrt_rn(vi), k.inv_bc2_sqrt), k.eps);
    const float updated = __fsub_rn(wi, __fmul_rn(k.step_size, __fdiv_rn(mi, denom)));
    const bool keep = !kMask || mask != 0.0f;
    if (keep) m = mi, v = vi;
    w = keep ? updated : 0.0f;
  }
};

template <int kDecay, bool kMask>
__global__ void adam_kernel(float* __restrict__ w, const float* __restrict__ grad, float* __restrict__ m,
                            float* __restrict__ v, const float* __restrict__ mask, std::int64_t n, bool vec,
                            AdamOp<kDecay, kMask> op) {
  const std::int64_t stride = static_cast<std::int64_t>(gridDim.x) * blockDim.x;
  const std::int64_t tid = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  std::int64_t start = 0;
  if (vec) {
    const std::int64_t n4 = n / 4;
    for (std::int64_t i = tid; i < n4; i += stride) {
      float4 wv = reinterpret_cast<float4*>(w)[i];
      const float4 gv = reinterpret_cast<const float4*>(grad)[i];
      float4 mv = reinterpret_cast<float4*>(m)[i];
      float4 vv = reinterpret_cast<float4*>(v)[i];
      float4 kv = make_float4(1.0f, 1.0f, 1.0f, 1.0f);
      if (kMask) kv = reinterpret_cast<const float4*>(mask)[i];
      op(wv.x, gv.x, mv.x, vv.x, kv.x);
      op(wv.y, gv.y, mv.y, vv.y, kv.y);
      op(wv.z, gv.z, mv.z, vv.z, kv.z);
      op(wv.w, gv.w, mv.w, vv.w, kv.w);
      reinterpret_cast<float4*>(w)[i] = wv;
      reinterpret_cast<float4*>(m)[i] = mv;
      reinterpret_cast<float4*>(v)[i] = vv;
    }
    start = n4 * 4;
  }
  for (std::int64_t i = start + tid; i < n; i += stride) {
    float wi = w[i], mi = m[i], vi = v[i];
    op(wi, grad[i], mi, vi, kMask ? mask[i] : 1.0f);
    w[i] = wi, m[i] = mi, v[i] = vi;
  }
}

// out[i] = map[i] < 0 ? 0 : in[map[i]]: the map and the output move as int4 /
// float4 vectors when aligned; the gather itself is scalar.
__global__ void remap_kernel(float* __restrict__ out, const float* __restrict__ in, const std::int32_t* __restrict__ map,
                             std::int64_t n, bool vec) {
  const std::int64_t stride = static_cast<std::int64_t>(gridDim.x) * blockDim.x;
  const std::int64_t tid = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  std::int64_t start = 0;
  if (vec) {
    const std::int64_t n4 = n / 4;
    for (std::int64_t i = tid; i < n4; i += stride) {
      const int4 s = reinterpret_cast<const int4*>(map)[i];
      reinterpret_cast<float4*>(out)[i] = make_float4(s.x < 0 ? 0.0f : in[s.x], s.y < 0 ? 0.0f : in[s.y],
                                                      s.z < 0 ? 0.0f : in[s.z], s.w < 0 ? 0.0f : in[s.w]);
    }
    start = n4 * 4;
  }
  for (std::int64_t i = start + tid; i < n; i += stride) {
    const std::int32_t src = map[i];
    out[i] = src < 0 ? 0.0f : in[src];
  }
}

unsigned grid_for(std::int64_t n, bool vec) { return blocks_for(vec ? (n + 3) / 4 : n, kThreads); }

template <bool kMomentum, bool kNesterov, bool kDecay, bool kMask>
void sgd_run(float* w, const float* grad, float* buf, const float* mask, std::int64_t n, const SgdConfig& c, Stream s) {
  const bool vec = aligned16(w, grad, buf, mask);
  const SgdOp<kMomentum, kNesterov, kDecay, kMask> op{c.lr, c.momentum, c.weight_decay};
  launch("sgd_kernel", sgd_kernel<kMomentum, kNesterov, kDecay, kMask>, dim3(grid_for(n, vec)), dim3(kThreads), 0, s,
         w, grad, buf, mask, n, vec, op);
}

template <bool kMomentum, bool kNesterov, bool kDecay>
void sgd_mask(float* w, const float* grad, float* buf, const float* mask, std::int64_t n, const SgdConfig& c, Stream s) {
  if (mask != nullptr) sgd_run<kMomentum, kNesterov, kDecay, true>(w, grad, buf, mask, n, c, s);
  else sgd_run<kMomentum, kNesterov, kDecay, false>(w, grad, buf, mask, n, c, s);
}

template <bool kMomentum, bool kNesterov>
void sgd_decay(float* w, const float* grad, float* buf, const float* mask, std::int64_t n, const SgdConfig& c, Stream s) {
  // As on the CPU: a zero decay skips the term (0 * inf would be NaN).
  if (c.weight_decay != 0.0f) sgd_mask<kMomentum, kNesterov, true>(w, grad, buf, mask, n, c, s);
  else sgd_mask<kMomentum, kNesterov, false>(w, grad, buf, mask, n, c, s);
}

template <int kDecay, bool kMask>
void adam_run(float* w, const float* grad, float* m, float* v, const float* mask, std::int64_t n,
              const AdamConstants& k, Stream s) {
  const bool vec = aligned16(w, grad, m, v, mask);
  launch("adam_kernel", adam_kernel<kDecay, kMask>, dim3(grid_for(n, vec)), dim3(kThreads), 0, s, w, grad, m, v, mask,
         n, vec, AdamOp<kDecay, kMask>{k});
}

template <int kDecay>
void adam_mask(float* w, const float* grad, float* m, float* v, const float* mask, std::int64_t n,
               const AdamConstants& k, Stream s) {
  if (mask != nullptr) adam_run<kDecay, true>(w, grad, m, v, mask, n, k, s);
  else adam_run<kDecay, false>(w, grad, m, v, mask, n, k, s);
}

}  // namespace

void sgd_step(float* w, const float* grad, float* buf, const float* mask, std::int64_t n, const SgdConfig& config,
              Stream s) {
  if (n <= 0) return;
  if (config.momentum == 0.0f) sgd_decay<false, false>(w, grad, nullptr, mask, n, config, s);
  else if (config.nesterov) sgd_decay<true, true>(w, grad, buf, mask, n, config, s);
  else sgd_decay<true, false>(w, grad, buf, mask, n, config, s);
}

void adam_step(float* w, const float* grad, float* m, float* v, const float* mask, std::int64_t n,
               const AdamConfig& config, Stream s) {
  if (n <= 0) return;
  const AdamConstants k = adam_constants(config);
  if (config.weight_decay == 0.0f) adam_mask<0>(w, grad, m, v, mask, n, k, s);
  else if (config.decoupled) adam_mask<2>(w, grad, m, v, mask, n, k, s);
  else adam_mask<1>(w, grad, m, v, mask, n, k, s);
}

void remap_state(float* out, const float* in, const std::int32_t* map, std::int64_t n, Stream s) {
  if (n <= 0) return;
  const bool vec = aligned16(out, map);
  launch("remap_kernel", remap_kernel, dim3(grid_for(n, vec)), dim3(kThreads), 0, s, out, in, map, n, vec);
}

}  // namespace dynasparse::cuda
