// CUDA twins of cpu/elementwise.cpp. The streaming kernels are grid-stride
// loops that move float4 vectors when every pointer is 16-byte aligned, with a
// scalar loop for the residue. Every value is the same sequence of correctly
// rounded float operations as on the CPU (__fmul_rn / __fadd_rn keep nvcc from
// contracting a multiply and an add into an FMA), so relu, reluBackward,
// addBias, add and axpy are bit-identical to their CPU twins. biasGrad and the
// loss reduce in another order (see there).
#include <cmath>
#include <limits>

#include "dynasparse/ops/elementwise.h"
#include "launch.cuh"

namespace dynasparse::cuda {
namespace {

constexpr int kThreads = 256;

__device__ __forceinline__ std::int64_t global_thread() {
  return static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
}
__device__ __forceinline__ std::int64_t grid_threads() { return static_cast<std::int64_t>(gridDim.x) * blockDim.x; }

__global__ void fill_kernel(float* __restrict__ out, std::int64_t n, float value) {
  const std::int64_t stride = grid_threads();
  for (std::int64_t i = global_thread(); i < n; i += stride) out[i] = value;
}

// The per-element operations, shared by the vector and the scalar loops.
struct ReluOp {
  __device__ __forceinline__ float operator()(float v) const { return (v > 0.0f || v != v) ? v : 0.0f; }
};
struct ReluBackwardOp {
  __device__ __forceinline__ float operator()(float d, float x) const { return x > 0.0f ? d : 0.0f; }
};
struct AddOp {
  __device__ __forceinline__ float operator()(float a, float b) const { return __fadd_rn(a, b); }
};
struct AxpyOp {  // y + alpha * x, rounded after the multiply as on the CPU
  float alpha;
  __device__ __forceinline__ float operator()(float y, float x) const { return __fadd_rn(y, __fmul_rn(alpha, x)); }
};

// out[i] = op(a[i]) for i in [0, n); vector part first when `vec`. out may be a.
template <typename Op>
__global__ void map1_kernel(float* out, const float* a, std::int64_t n, bool vec, Op op) {
  const std::int64_t stride = grid_threads();
  std::int64_t start = 0;
  if (vec) {
    const std::int64_t n4 = n / 4;
    const float4* a4 = reinterpret_cast<const float4*>(a);
    float4* o4 = reinterpret_cast<float4*>(out);
    for (std::int64_t i = global_thread(); i < n4; i += stride) {
      const float4 v = a4[i];
      o4[i] = make_float4(op(v.x), op(v.y), op(v.z), op(v.w));
    }
    start = n4 * 4;
  }
  for (std::int64_t i = start + global_thread(); i < n; i += stride) out[i] = op(a[i]);
}

// out[i] = op(a[i], b[i]). out may alias a (the in-place axpy, or add's out).
template <typename Op>
__global__ void map2_kernel(float* out, const float* a, const float* b, std::int64_t n, bool vec, Op op) {
  const std::int64_t stride = grid_threads();
  std::int64_t start = 0;
  if (vec) {
    const std::int64_t n4 = n / 4;
    const float4* a4 = reinterpret_cast<const float4*>(a);
    const float4* b4 = reinterpret_cast<const float4*>(b);
    float4* o4 = reinterpret_cast<float4*>(out);
    for (std::int64_t i = global_thread(); i < n4; i += stride) {
      const float4 x = a4[i], y = b4[i];
      o4[i] = make_float4(op(x.x, y.x), op(x.y, y.y), op(x.z, y.z), op(x.w, y.w));
    }
    start = n4 * 4;
  }
  for (std::int64_t i = start + global_thread(); i < n; i += stride) out[i] = op(a[i], b[i]);
}

template <typename Op>
void map1(const char* name, float* out, const float* a, std::int64_t n, Op op, Stream s) {
  if (n <= 0) return;
  const bool vec = aligned16(out, a);
  launch(name, map1_kernel<Op>, dim3(blocks_for(vec ? (n + 3) / 4 : n, kThreads)), dim3(kThreads), 0, s, out, a, n,
         vec, op);
}

template <typename Op>
void map2(const char* name, float* out, const float* a, const float* b, std::int64_t n, Op op, Stream s) {
  if (n <= 0) return;
  const bool vec = aligned16(out, a, b);
  launch(name, map2_kernel<Op>, dim3(blocks_for(vec ? (n + 3) / 4 : n, kThreads)), dim3(kThreads), 0, s, out, a, b,
         n, vec, op);
}

// Rows of y [features, batch] over blockIdx.y (grid-stride past the grid's y
// limit), columns over blockIdx.x: no division per element.
__global__ void add_bias_kernel(float* out, const float* y, const float* __restrict__ bias, std::int64_t features,
                                std::int64_t batch) {
  const std::int64_t stride = grid_threads();
  for (std::int64_t f = blockIdx.y; f < features; f += gridDim.y) {
    const float b = bias[f];
    const float* row = y + f * batch;
    float* dst = out + f * batch;
    for (std::int64_t j = global_thread(); j < batch; j += stride) dst[j] = __fadd_rn(row[j], b);
  }
}

// One block per row (grid-stride over rows): each thread sums a strided part of
// the row in double, then the block reduces with warp shuffles and a shared
// array of per-warp sums. The tree is fixed, so the result is reproducible; it
// differs from the CPU's in-order double sum only by the double rounding of a
// different order (far below a float ulp unless the row cancels).
__global__ void bias_grad_kernel(float* __restrict__ out, const float* __restrict__ dy, std::int64_t features,
                                 std::int64_t batch) {
  DS_DYNAMIC_SHARED(double, warp_sums);  // one per warp
  const int lane = static_cast<int>(threadIdx.x) % warpSize, warp = static_cast<int>(threadIdx.x) / warpSize;
  const int warps = static_cast<int>(blockDim.x) / warpSize;
  for (std::int64_t f = blockIdx.x; f < features; f += gridDim.x) {
    const float* row = dy + f * batch;
    double sum = 0;
    for (std::int64_t j = threadIdx.x; j < batch; j += blockDim.x) sum += static_cast<double>(row[j]);
    for (int offset = warpSize / 2; offset > 0; offset /= 2) sum += __shfl_down_sync(0xffffffffu, sum, offset);
    if (lane == 0) warp_sums[warp] = sum;
    __syncthreads();
    if (warp == 0) {
      double total = lane < warps ? static_cast<double>(warp_sums[lane]) : 0.0;
      for (int offset = warpSize / 2; offset > 0; offset /= 2) total += __shfl_down_sync(0xffffffffu, total, offset);
      if (lane == 0) out[f] = static_cast<float>(total);
    }
    __syncthreads();  // warp_sums is reused by the next row
  }
}

__global__ void set_i64_kernel(std::int64_t* out, std::int64_t value) { *out = value; }

__global__ void first_outside_kernel(std::int64_t* first, const std::int32_t* __restrict__ values, std::int64_t n,
                                     std::int64_t lo, std::int64_t hi) {
  const std::int64_t stride = grid_threads();
  for (std::int64_t i = global_thread(); i < n; i += stride) {
    if (values[i] < lo || values[i] >= hi) {
      // The smallest bad index wins whatever the order the blocks run in.
      atomicMin(reinterpret_cast<long long*>(first), static_cast<long long>(i));
      return;  // later indices of this thread are larger
    }
  }
}

__global__ void none_is_minus_one_kernel(std::int64_t* first, std::int64_t n) {
  if (*first == n) *first = -1;
}

// Columns per block of the loss: the CPU's kBlock, so the per-block partial
// losses are the CPU's partials, summed in the same order.
constexpr int kLossColumns = 64;

// One thread per sample (column): the threads of a warp read consecutive
// columns of one row, so every pass over the classes is coalesced in the
// feature-major layout, and each column's max, sum and loss are computed in the
// CPU's order. Block b writes the sum of its columns' losses, in column order,
// to partials[b].
__global__ void softmax_xent_kernel(float* __restrict__ grad, double* __restrict__ partials,
                                    const float* __restrict__ logits, const std::int32_t* __restrict__ labels,
                                    std::int64_t classes, std::int64_t batch, float inv_batch) {
  DS_DYNAMIC_SHARED(double, losses);  // kLossColumns
  const std::int64_t b = static_cast<std::int64_t>(blockIdx.x) * kLossColumns + threadIdx.x;
  if (b < batch) {
    float max = -std::numeric_limits<float>::infinity();
    for (std::int64_t c = 0; c < classes; ++c) {
      const float x = logits[c * batch + b];
      max = x > max ? x : max;  // NaN never wins here; it poisons the sum below
    }
    double sum = 0;
    for (std::int64_t c = 0; c < classes; ++c) {
      const float e = expf(__fsub_rn(logits[c * batch + b], max));
      grad[c * batch + b] = e;
      sum += static_cast<double>(e);
    }
    // A label outside [0, classes) reads nothing out of range: its loss is NaN
    // (the binding checks the labels in the same pass and reports E_ARG).
    const std::int64_t label = labels[b];
    const double x = label >= 0 && label < classes ? static_cast<double>(logits[label * batch + b])
                                                   : std::numeric_limits<double>::quiet_NaN();
    losses[threadIdx.x] = log(sum) + static_cast<double>(max) - x;
    const float inv_sum = static_cast<float>(1.0 / sum);
    for (std::int64_t c = 0; c < classes; ++c) {
      const float target = c == label ? 1.0f : 0.0f;
      const float e = grad[c * batch + b];
      grad[c * batch + b] = __fmul_rn(__fsub_rn(__fmul_rn(e, inv_sum), target), inv_batch);
    }
  }
  __syncthreads();
  if (threadIdx.x == 0) {
    const std::int64_t b0 = static_cast<std::int64_t>(blockIdx.x) * kLossColumns;
    const std::int64_t w = batch - b0 < kLossColumns ? batch - b0 : kLossColumns;
    double loss = 0;
    for (std::int64_t j = 0; j < w; ++j) loss += static_cast<double>(losses[j]);
    partials[blockIdx.x] = loss;
  }
}

// The second stage: the partials in block order, as the CPU adds them. One
// thread: there are batch / 64 of them, a few dozen for usual batches.
__global__ void mean_loss_kernel(double* __restrict__ loss, const double* __restrict__ partials, std::int64_t blocks,
                                 std::int64_t batch) {
  double total = 0;
  for (std::int64_t i = 0; i < blocks; ++i) total += partials[i];
  *loss = total / static_cast<double>(batch);
}

// One thread per column (coalesced as above); the block counts its correct
// columns with __syncthreads_count and adds them to the total with an integer
// atomic (exact and order-independent).
__global__ void count_correct_kernel(std::int64_t* correct, const float* __restrict__ logits,
                                     const std::int32_t* __restrict__ labels, std::int64_t classes,
                                     std::int64_t batch) {
  const std::int64_t stride = grid_threads();
  // Every thread runs the same number of rounds, so all reach the barrier.
  const std::int64_t rounds = (batch + stride - 1) / stride;
  for (std::int64_t round = 0; round < rounds; ++round) {
    const std::int64_t b = round * stride + global_thread();
    int ok = 0;
    if (b < batch) {
      float best = 0;
      std::int64_t arg = -1;
      for (std::int64_t c = 0; c < classes; ++c) {
        const float x = logits[c * batch + b];
        // Strictly greater keeps the lowest index on ties; x == x skips NaN.
        if (x == x && (arg < 0 || x > best)) best = x, arg = c;
      }
      ok = arg == labels[b] ? 1 : 0;
    }
    const int count = __syncthreads_count(ok);
    if (threadIdx.x == 0 && count > 0)
      atomicAdd(reinterpret_cast<unsigned long long*>(correct), static_cast<unsigned long long>(count));
  }
}

}  // namespace

void fill(float* out, std::int64_t n, float value, Stream s) {
  if (n <= 0) return;
  launch("fill_kernel", fill_kernel, dim3(blocks_for(n, kThreads)), dim3(kThreads), 0, s, out, n, value);
}

void relu(float* out, const float* x, std::int64_t n, Stream s) { map1("relu_kernel", out, x, n, ReluOp{}, s); }

void relu_backward(float* dx, const float* dy, const float* x, std::int64_t n, Stream s) {
  map2("relu_backward_kernel", dx, dy, x, n, ReluBackwardOp{}, s);
}

void add_bias(float* out, const float* y, const float* bias, std::int64_t features, std::int64_t batch, Stream s) {
  if (features <= 0 || batch <= 0) return;
  const unsigned gx = blocks_for(batch, kThreads, 65535);
  const unsigned gy = static_cast<unsigned>(features < 65535 ? features : 65535);
  launch("add_bias_kernel", add_bias_kernel, dim3(gx, gy), dim3(kThreads), 0, s, out, y, bias, features, batch);
}

void bias_grad(float* out, const float* dy, std::int64_t features, std::int64_t batch, Stream s) {
  if (features <= 0) return;
  // Narrow rows get a narrow block (at least one warp): fewer idle threads.
  int threads = 32;
  while (threads < kThreads && threads < batch) threads *= 2;
  launch("bias_grad_kernel", bias_grad_kernel, dim3(blocks_for(features, 1)), dim3(threads),
         sizeof(double) * static_cast<std::size_t>(threads / 32), s, out, dy, features, batch);
}

void add(float* out, const float* a, const float* b, std::int64_t n, Stream s) {
  map2("add_kernel", out, a, b, n, AddOp{}, s);
}

void axpy(float* y, float alpha, const float* x, std::int64_t n, Stream s) {
  map2("axpy_kernel", y, y, x, n, AxpyOp{alpha}, s);
}

void first_index_outside(std::int64_t* result, const std::int32_t* values, std::int64_t n, std::int64_t lo,
                         std::int64_t hi, Stream s) {
  launch("set_i64_kernel", set_i64_kernel, dim3(1), dim3(1), 0, s, result, n);
  if (n > 0)
    launch("first_outside_kernel", first_outside_kernel, dim3(blocks_for(n, kThreads)), dim3(kThreads), 0, s, result,
           values, n, lo, hi);
  launch("none_is_minus_one_kernel", none_is_minus_one_kernel, dim3(1), dim3(1), 0, s, result, n);
}

void softmax_cross_entropy(float* grad, double* loss, const float* logits, const std::int32_t* labels,
                           std::int64_t classes, std::int64_t batch, Stream s) {
  if (classes < 1 || batch < 1) fail(ErrorCode::Arg, "softmax_cross_entropy: expected classes, batch >= 1");
  const std::int64_t blocks = (batch + kLossColumns - 1) / kLossColumns;
  if (blocks > 0x7fffffffLL) fail(ErrorCode::Arg, "softmax_cross_entropy: batch too large for one grid");
  Scratch<double> partials = kernel_scratch<double>(static_cast<std::size_t>(blocks), s, "softmax_cross_entropy");
  const float inv_batch = static_cast<float>(1.0 / static_cast<double>(batch));
  launch("softmax_xent_kernel", softmax_xent_kernel, dim3(static_cast<unsigned>(blocks)), dim3(kLossColumns),
         sizeof(double) * kLossColumns, s, grad, partials.data(), logits, labels, classes, batch, inv_batch);
  launch("mean_loss_kernel", mean_loss_kernel, dim3(1), dim3(1), 0, s, loss, static_cast<const double*>(partials.data()),
         blocks, batch);
}

void count_correct(std::int64_t* correct, const float* logits, const std::int32_t* labels, std::int64_t classes,
                   std::int64_t batch, Stream s) {
  launch("set_i64_kernel", set_i64_kernel, dim3(1), dim3(1), 0, s, correct, std::int64_t{0});
  if (classes < 1 || batch < 1) return;
  launch("count_correct_kernel", count_correct_kernel, dim3(blocks_for(batch, kThreads)), dim3(kThreads), 0, s,
         correct, logits, labels, classes, batch);
}

}  // namespace dynasparse::cuda
