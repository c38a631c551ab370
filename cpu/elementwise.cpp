#include "dynasparse/ops/elementwise.h"

#include "parallel.h"

namespace dynasparse::cpu {

void fill(float* out, std::int64_t n, float value) {
  parallel_for(0, n, 1 << 16, [&](std::int64_t lo, std::int64_t hi) {
    for (std::int64_t i = lo; i < hi; ++i) out[i] = value;
  });
}

}  // namespace dynasparse::cpu
