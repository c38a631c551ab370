// Elementwise, bias and loss kernels. Loss and accuracy walk feature-major
// [classes, batch] arrays a block of columns at a time, so every inner loop
// reads a contiguous run of one row (vectorizable, cache-friendly) instead of
// striding down a column.
#include "dynasparse/ops/elementwise.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <limits>

#include "dynasparse/device.h"
#include "dynasparse/memory.h"
#include "parallel.h"

namespace dynasparse::cpu {
namespace {

// Elements per parallel chunk of the streaming kernels.
constexpr std::int64_t kGrain = std::int64_t{1} << 15;
// Columns per block in the loss kernels (per-column accumulators live on the stack).
constexpr std::int64_t kBlock = 64;

// Rows per chunk when each row has `cols` elements: about kGrain elements.
std::int64_t row_grain(std::int64_t cols) { return std::max<std::int64_t>(1, kGrain / std::max<std::int64_t>(1, cols)); }

}  // namespace

void fill(float* out, std::int64_t n, float value) {
  parallel_for(0, n, 1 << 16, [&](std::int64_t lo, std::int64_t hi) {
    for (std::int64_t i = lo; i < hi; ++i) out[i] = value;
  });
}

void relu(float* out, const float* x, std::int64_t n) {
  parallel_for(0, n, kGrain, [&](std::int64_t lo, std::int64_t hi) {
    for (std::int64_t i = lo; i < hi; ++i) {
      const float v = x[i];
      // Bitwise | keeps the body branch-free; v != v is the NaN test.
      out[i] = ((v > 0.0f) | (v != v)) ? v : 0.0f;
    }
  });
}

void relu_backward(float* dx, const float* dy, const float* x, std::int64_t n) {
  parallel_for(0, n, kGrain, [&](std::int64_t lo, std::int64_t hi) {
    for (std::int64_t i = lo; i < hi; ++i) {
      const float d = dy[i];  // read unconditionally: a conditional load blocks vectorization
      dx[i] = x[i] > 0.0f ? d : 0.0f;
    }
  });
}

void add_bias(float* out, const float* y, const float* bias, std::int64_t features, std::int64_t batch) {
  parallel_for(0, features, row_grain(batch), [&](std::int64_t lo, std::int64_t hi) {
    for (std::int64_t f = lo; f < hi; ++f) {
      const float b = bias[f];
      const float* row = y + f * batch;
      float* dst = out + f * batch;
      for (std::int64_t j = 0; j < batch; ++j) dst[j] = row[j] + b;
    }
  });
}

void bias_grad(float* out, const float* dy, std::int64_t features, std::int64_t batch) {
  parallel_for(0, features, row_grain(batch), [&](std::int64_t lo, std::int64_t hi) {
    for (std::int64_t f = lo; f < hi; ++f) {
      const float* row = dy + f * batch;
      double sum = 0;
      for (std::int64_t j = 0; j < batch; ++j) sum += row[j];
      out[f] = static_cast<float>(sum);
    }
  });
}

void add(float* out, const float* a, const float* b, std::int64_t n) {
  parallel_for(0, n, kGrain, [&](std::int64_t lo, std::int64_t hi) {
    for (std::int64_t i = lo; i < hi; ++i) out[i] = a[i] + b[i];
  });
}

void axpy(float* y, float alpha, const float* x, std::int64_t n) {
  parallel_for(0, n, kGrain, [&](std::int64_t lo, std::int64_t hi) {
    float* __restrict__ dst = y;
    const float* __restrict__ src = x;
    for (std::int64_t i = lo; i < hi; ++i) dst[i] = dst[i] + alpha * src[i];
  });
}

std::int64_t first_index_outside(const std::int32_t* values, std::int64_t n, std::int64_t lo, std::int64_t hi) {
  // Each chunk stops at its first bad value; the smallest index over all
  // chunks wins, so the answer does not depend on the thread count.
  std::atomic<std::int64_t> first{n};
  parallel_for(0, n, kGrain, [&](std::int64_t begin, std::int64_t end) {
    for (std::int64_t i = begin; i < end; ++i) {
      if (values[i] < lo || values[i] >= hi) {
        std::int64_t seen = first.load();
        while (i < seen && !first.compare_exchange_weak(seen, i)) {
        }
        return;
      }
    }
  });
  const std::int64_t found = first.load();
  return found == n ? -1 : found;
}

double softmax_cross_entropy(float* grad, const float* logits, const std::int32_t* labels, std::int64_t classes,
                             std::int64_t batch) {
  const std::int64_t blocks = (batch + kBlock - 1) / kBlock;
  // One partial loss per block, added in block order at the end: the same
  // result whatever the thread count.
  Scratch<double> partial(Device::Cpu, static_cast<std::size_t>(blocks));
  double* partials = partial.data();
  const float inv_batch = static_cast<float>(1.0 / static_cast<double>(batch));
  const std::int64_t grain = std::max<std::int64_t>(1, kGrain / (kBlock * classes));
  parallel_for(0, blocks, grain, [&](std::int64_t block_lo, std::int64_t block_hi) {
    float max[kBlock];
    float inv_sum[kBlock];
    double sum[kBlock];
    for (std::int64_t block = block_lo; block < block_hi; ++block) {
      const std::int64_t b0 = block * kBlock;
      const std::int64_t w = std::min(kBlock, batch - b0);
      for (std::int64_t j = 0; j < w; ++j) max[j] = -std::numeric_limits<float>::infinity();
      for (std::int64_t c = 0; c < classes; ++c) {
        const float* row = logits + c * batch + b0;
        for (std::int64_t j = 0; j < w; ++j) max[j] = row[j] > max[j] ? row[j] : max[j];
      }
      // exp(x - max) goes into grad first and is normalized below. A NaN or
      // +inf logit makes x - max NaN somewhere in the column, hence its sum.
      for (std::int64_t j = 0; j < w; ++j) sum[j] = 0;
      for (std::int64_t c = 0; c < classes; ++c) {
        const float* row = logits + c * batch + b0;
        float* out = grad + c * batch + b0;
        for (std::int64_t j = 0; j < w; ++j) {
          const float e = std::exp(row[j] - max[j]);
          out[j] = e;
          sum[j] += e;
        }
      }
      double loss = 0;
      for (std::int64_t j = 0; j < w; ++j) {
        const std::int64_t label = labels[b0 + j];
        const double x = logits[label * batch + b0 + j];
        // log sum exp(x_c) - x_label = log(sum) + max - x_label.
        loss += std::log(sum[j]) + static_cast<double>(max[j]) - x;
        inv_sum[j] = static_cast<float>(1.0 / sum[j]);
      }
      partials[block] = loss;
      const std::int32_t* label = labels + b0;
      for (std::int64_t c = 0; c < classes; ++c) {
        float* out = grad + c * batch + b0;
        for (std::int64_t j = 0; j < w; ++j) {
          const float target = label[j] == c ? 1.0f : 0.0f;
          out[j] = (out[j] * inv_sum[j] - target) * inv_batch;
        }
      }
    }
  });
  double total = 0;
  for (std::int64_t block = 0; block < blocks; ++block) total += partials[block];
  return total / static_cast<double>(batch);
}

std::int64_t count_correct(const float* logits, const std::int32_t* labels, std::int64_t classes, std::int64_t batch) {
  const std::int64_t blocks = (batch + kBlock - 1) / kBlock;
  const std::int64_t grain = std::max<std::int64_t>(1, kGrain / (kBlock * classes));
  std::atomic<std::int64_t> correct{0};
  parallel_for(0, blocks, grain, [&](std::int64_t block_lo, std::int64_t block_hi) {
    float best[kBlock];
    std::int32_t arg[kBlock];
    std::int64_t count = 0;
    for (std::int64_t block = block_lo; block < block_hi; ++block) {
      const std::int64_t b0 = block * kBlock;
      const std::int64_t w = std::min(kBlock, batch - b0);
      for (std::int64_t j = 0; j < w; ++j) best[j] = 0, arg[j] = -1;
      for (std::int64_t c = 0; c < classes; ++c) {
        const float* row = logits + c * batch + b0;
        for (std::int64_t j = 0; j < w; ++j) {
          const float x = row[j];
          // Strictly greater keeps the lowest index on ties; x == x skips NaN.
          if (x == x && (arg[j] < 0 || x > best[j])) best[j] = x, arg[j] = static_cast<std::int32_t>(c);
        }
      }
      for (std::int64_t j = 0; j < w; ++j) count += arg[j] == labels[b0 + j] ? 1 : 0;
    }
    correct += count;
  });
  return correct.load();
}

}  // namespace dynasparse::cpu
