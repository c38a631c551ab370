#include "dynasparse/ops/rng.h"

#include "dynasparse/philox.h"
#include "parallel.h"

namespace dynasparse::cpu {

void fill_uniform(float* out, std::int64_t n, std::uint64_t seed, std::uint64_t stream, float low, float high) {
  parallel_for(0, n, 1 << 14, [&](std::int64_t lo, std::int64_t hi) {
    for (std::int64_t i = lo; i < hi; ++i) out[i] = rng::uniform_at(seed, stream, static_cast<std::uint64_t>(i), low, high);
  });
}

void fill_normal(float* out, std::int64_t n, std::uint64_t seed, std::uint64_t stream, float mean, float std_dev) {
  parallel_for(0, n, 1 << 13, [&](std::int64_t lo, std::int64_t hi) {
    for (std::int64_t i = lo; i < hi; ++i) out[i] = rng::normal_at(seed, stream, static_cast<std::uint64_t>(i), mean, std_dev);
  });
}

}  // namespace dynasparse::cpu
