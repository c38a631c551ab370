// Elementwise, bias and loss kernels on dense float32 arrays: what a training
// step needs besides the matrix products. Activations are feature-major: a
// [features, batch] array holds one sample per column.
#pragma once

#include <cstdint>

#include "dynasparse/device.h"

namespace dynasparse::cpu {
void fill(float* out, std::int64_t n, float value);

// out = max(x, 0); NaN stays NaN and -0 becomes +0. out may be x.
void relu(float* out, const float* x, std::int64_t n);

// dx = x > 0 ? dy : 0 (the derivative at x == 0 is taken as 0; a NaN x also
// gives 0, and a NaN dy passes only where x > 0). dx may be dy.
void relu_backward(float* dx, const float* dy, const float* x, std::int64_t n);

// out[f, b] = y[f, b] + bias[f] for y of [features, batch]. out may be y.
void add_bias(float* out, const float* y, const float* bias, std::int64_t features, std::int64_t batch);

// out[f] = sum over b of dy[f, b] (accumulated in double, in order of b, so the
// result does not depend on the thread count).
void bias_grad(float* out, const float* dy, std::int64_t features, std::int64_t batch);

// out = a + b. out may be a or b.
void add(float* out, const float* a, const float* b, std::int64_t n);

// y += alpha * x.
void axpy(float* y, float alpha, const float* x, std::int64_t n);

// The first i in [0, n) with values[i] outside [lo, hi), or -1 when there is
// none: the range check of labels and index maps, naming the first bad entry.
std::int64_t first_index_outside(const std::int32_t* values, std::int64_t n, std::int64_t lo, std::int64_t hi);

// Softmax cross-entropy of logits [classes, batch] (one sample per column)
// against labels (batch values in [0, classes), checked by the caller). Writes
// grad[c, b] = (softmax(logits[:, b])[c] - (c == labels[b])) / batch, the
// gradient of the mean loss, and returns the mean loss (a sum in double of the
// per-sample losses logsumexp(logits[:, b]) - logits[labels[b], b]).
// Numerically stable: the column maximum is subtracted before exp. A column
// with a NaN or +inf logit (or only -inf logits) gives NaN for its loss and
// gradient; a -inf logit elsewhere has probability 0. classes, batch >= 1.
// grad must not overlap logits.
double softmax_cross_entropy(float* grad, const float* logits, const std::int32_t* labels, std::int64_t classes,
                             std::int64_t batch);

// The number of columns b whose argmax over classes equals labels[b]. Ties go
// to the lowest class index; NaN is never the argmax (a column of NaN only
// counts as wrong).
std::int64_t count_correct(const float* logits, const std::int32_t* labels, std::int64_t classes, std::int64_t batch);
}  // namespace dynasparse::cpu

#if defined(DYNASPARSE_WITH_CUDA)
// The CUDA twins: device pointers, enqueued on `s`, same semantics as above.
// relu, relu_backward, add_bias, add and axpy are bit-identical to the CPU;
// bias_grad sums in double in a fixed tree order (reproducible; equal to the
// CPU's float result up to the rounding of a different double summation).
// Results the CPU returns are written to device memory here (read them back
// with copy_bytes).
namespace dynasparse::cuda {
void fill(float* out, std::int64_t n, float value, Stream s);
void relu(float* out, const float* x, std::int64_t n, Stream s);
void relu_backward(float* dx, const float* dy, const float* x, std::int64_t n, Stream s);
void add_bias(float* out, const float* y, const float* bias, std::int64_t features, std::int64_t batch, Stream s);
void bias_grad(float* out, const float* dy, std::int64_t features, std::int64_t batch, Stream s);
void add(float* out, const float* a, const float* b, std::int64_t n, Stream s);
void axpy(float* y, float alpha, const float* x, std::int64_t n, Stream s);
// *result = the first i with values[i] outside [lo, hi), or -1.
void first_index_outside(std::int64_t* result, const std::int32_t* values, std::int64_t n, std::int64_t lo,
                         std::int64_t hi, Stream s);
// *loss = the mean loss. One thread per column, each column's max, sum and loss
// in the CPU's order, and the per-64-column partials added in the CPU's order
// (a deterministic two-stage reduction, no float atomics): the only
// differences from the CPU come from CUDA's expf and log, which are not
// correctly rounded (the emulation, using the host's libm, is bit-identical).
// Labels are not checked: one outside [0, classes) reads nothing out of range
// and makes the loss NaN, so a caller may check them in the same stream pass
// (first_index_outside) and read both results with one copy.
// Uses scratch memory: call it on cuda::stream().
void softmax_cross_entropy(float* grad, double* loss, const float* logits, const std::int32_t* labels,
                           std::int64_t classes, std::int64_t batch, Stream s);
// *correct = the number of correctly classified columns (exact). Labels are
// only compared, never used as indices: any int32 is safe.
void count_correct(std::int64_t* correct, const float* logits, const std::int32_t* labels, std::int64_t classes,
                   std::int64_t batch, Stream s);
}  // namespace dynasparse::cuda
#endif
