// Timing helpers the CPU microbenchmarks share: medians of repeated runs.
#pragma once

#include <algorithm>
#include <chrono>
#include <vector>

namespace dynasparse::bench {

// The median of a non-empty list of times.
inline double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// The median wall time of `reps` calls of f, in milliseconds.
template <typename F>
double median_ms(int reps, F&& f) {
  std::vector<double> t;
  for (int r = 0; r < reps; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    f();
    t.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }
  return median(t);
}

}  // namespace dynasparse::bench
