// bottomk_magnitude (radix selection, cpu/bottomk.cpp) against the comparison
// route a framework's CPU topk takes: (|value|, index) pairs of every stored
// entry, nth_element for the k smallest, then a sort of those k.
//
// Usage: bottomk_bench [rows cols density kfraction reps]
//   defaults 4096 4096 0.1 0.3 7: a 90%-sparse layer, k = 30% of its entries
//   (RigL's default drop fraction).
// Prints the median of `reps` runs of each route, the ratio, and whether the
// two selections are identical (they must be: the order is total).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <utility>
#include <vector>

#include "dynasparse/cpu_runtime.h"
#include "dynasparse/ops/topk.h"
#include "bench/native/timing.h"
#include "dynasparse/philox.h"

using namespace dynasparse;


int main(int argc, char** argv) {
  const std::int64_t rows = argc > 1 ? std::atoll(argv[1]) : 4096;
  const std::int64_t cols = argc > 2 ? std::atoll(argv[2]) : 4096;
  const double density = argc > 3 ? std::atof(argv[3]) : 0.1;
  const double kfraction = argc > 4 ? std::atof(argv[4]) : 0.3;
  const int reps = argc > 5 ? std::atoi(argv[5]) : 7;

  // A random pattern with per-row counts from the density, values from Philox normals.
  std::vector<std::int32_t> row_ptr(rows + 1, 0), col_idx;
  std::vector<float> values;
  const auto per_row = static_cast<std::int64_t>(std::llround(density * static_cast<double>(cols)));
  for (std::int64_t r = 0; r < rows; ++r) {
    for (std::int64_t j = 0; j < per_row; ++j) {
      col_idx.push_back(static_cast<std::int32_t>((j * cols) / per_row));
      values.push_back(rng::normal_at(7, 0, static_cast<std::uint64_t>(col_idx.size()), 0.0f, 1.0f));
    }
    row_ptr[r + 1] = static_cast<std::int32_t>(col_idx.size());
  }
  const auto nnz = static_cast<std::int64_t>(values.size());
  const auto k = static_cast<std::int64_t>(kfraction * static_cast<double>(nnz));

  std::vector<std::int32_t> out_rows(k), out_cols(k), out_idx(k);
  std::vector<float> out_scores(k);
  const double ours = bench::median_ms(reps, [&] {
    cpu::bottomk_magnitude(out_rows.data(), out_cols.data(), out_idx.data(), out_scores.data(), row_ptr.data(),
                           col_idx.data(), values.data(), rows, cols, k);
  });

  std::vector<std::pair<float, std::int32_t>> pairs;
  const double baseline = bench::median_ms(reps, [&] {
    pairs.resize(static_cast<std::size_t>(nnz));
    for (std::int64_t v = 0; v < nnz; ++v) pairs[v] = {std::fabs(values[v]), static_cast<std::int32_t>(v)};
    std::nth_element(pairs.begin(), pairs.begin() + k, pairs.end());
    std::sort(pairs.begin(), pairs.begin() + k);
  });

  bool same = true;
  for (std::int64_t n = 0; n < k && same; ++n) same = pairs[n].second == out_idx[n] && pairs[n].first == out_scores[n];
  std::printf("bottomk_magnitude %lld x %lld, nnz %lld, k %lld (%.0f%%), %d threads, median of %d\n",
              static_cast<long long>(rows), static_cast<long long>(cols), static_cast<long long>(nnz),
              static_cast<long long>(k), 100.0 * kfraction, cpu::thread_count(), reps);
  std::printf("  radix selection      %8.2f ms\n", ours);
  std::printf("  nth_element + sort   %8.2f ms (one thread, as std::)\n", baseline);
  std::printf("  ratio baseline / ours: %.2fx; identical selections: %s\n", baseline / ours, same ? "yes" : "NO");
  return same ? 0 : 1;
}
