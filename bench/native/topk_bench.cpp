// topk_growth (streamed, tile by tile) against the dense route: cblas_sgemm
// into a rows x cols buffer, mask the stored positions, nth_element + sort of
// the k best over all candidates (what a framework's dense topk does); and
// topk_dense, the selection alone over that held product, against the dense
// route's selection.
//
// Usage: topk_bench [rows cols batch density kfraction reps]
//   defaults 4096 4096 256 0.1 0.01 5: pattern 90% sparse, k = 1% of candidates.
// Prints the median time of `reps` runs and the peak extra memory of each
// route (both allocate through the library's allocator, so memory_stats counts
// every byte), and how many of the selected positions the two routes share
// (sums are rounded differently, so the boundary of the selection can differ).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <numeric>
#include <unordered_set>
#include <vector>

#include "dynasparse/cpu_runtime.h"
#include "dynasparse/memory.h"
#include "dynasparse/ops/csr.h"
#include "dynasparse/ops/rng.h"
#include "dynasparse/ops/topk.h"
#include "bench/native/timing.h"
#include "dynasparse/philox.h"

#if defined(DYNASPARSE_WITH_CBLAS)
#include <cblas.h>
#endif

using namespace dynasparse;

#if defined(DYNASPARSE_WITH_CBLAS)
namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

using bench::median;

struct Run {
  double seconds;
  double gemm_seconds;  // the dense route's sgemm alone
  std::int64_t extra_bytes;
  std::vector<std::int64_t> picked;  // flat indices
};

Run run_streamed(const float* dy, const float* x, const std::int32_t* row_ptr, const std::int32_t* col_idx, std::int64_t rows,
                 std::int64_t cols, std::int64_t batch, std::int64_t k) {
  std::vector<std::int32_t> r(k), c(k);
  std::vector<float> s(k);
  const std::int64_t base = memory_stats(Device::Cpu).bytes_in_use;
  reset_peak_memory(Device::Cpu);
  const auto t0 = std::chrono::steady_clock::now();
  const cpu::Selection sel = cpu::topk_growth(r.data(), c.data(), s.data(), dy, x, row_ptr, col_idx, rows, cols, batch, k);
  Run out{seconds_since(t0), 0, memory_stats(Device::Cpu).peak_bytes - base, {}};
  for (std::int64_t n = 0; n < sel.count; ++n) out.picked.push_back(std::int64_t{r[n]} * cols + c[n]);
  return out;
}

Run run_dense(const float* dy, const float* x, const std::int32_t* row_ptr, const std::int32_t* col_idx, std::int64_t rows,
              std::int64_t cols, std::int64_t batch, std::int64_t k) {
  const std::int64_t base = memory_stats(Device::Cpu).bytes_in_use;
  reset_peak_memory(Device::Cpu);
  const auto t0 = std::chrono::steady_clock::now();
  const std::int64_t n = rows * cols;
  Scratch<float> dense(Device::Cpu, static_cast<std::size_t>(n));
  float* g = dense.data();
  // G = dy · xᵀ: dy is rows x batch, x is cols x batch, both row-major.
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, static_cast<int>(rows), static_cast<int>(cols), static_cast<int>(batch), 1.0f,
              dy, static_cast<int>(batch), x, static_cast<int>(batch), 0.0f, g, static_cast<int>(cols));
  const double gemm_seconds = seconds_since(t0);
  // Scores in place: |G|, with stored positions and NaN made unselectable.
  const float none = -std::numeric_limits<float>::infinity();
  for (std::int64_t f = 0; f < n; ++f) g[f] = std::isnan(g[f]) ? none : std::fabs(g[f]);
  for (std::int64_t i = 0; i < rows; ++i)
    for (std::int32_t p = row_ptr[i]; p < row_ptr[i + 1]; ++p) g[i * cols + col_idx[p]] = none;
  Scratch<std::int32_t> order(Device::Cpu, static_cast<std::size_t>(n));
  std::int32_t* idx = order.data();
  std::iota(idx, idx + n, 0);
  const auto better = [g](std::int32_t a, std::int32_t b) { return g[a] > g[b] || (g[a] == g[b] && a < b); };
  std::nth_element(idx, idx + k, idx + n, better);
  std::sort(idx, idx + k, better);
  Run out{0, gemm_seconds, 0, std::vector<std::int64_t>(idx, idx + k)};
  out.seconds = seconds_since(t0);
  out.extra_bytes = memory_stats(Device::Cpu).peak_bytes - base;
  return out;
}

// The dense route with our selection: the same cblas_sgemm product, then
// topk_dense over it (what SNFS does with its momentum). Its selection time
// against the nth_element + sort above is topk_dense's ratio to the baseline.
Run run_dense_topk_dense(const float* dy, const float* x, const std::int32_t* row_ptr, const std::int32_t* col_idx,
                         std::int64_t rows, std::int64_t cols, std::int64_t batch, std::int64_t k) {
  const auto t0 = std::chrono::steady_clock::now();
  Scratch<float> dense(Device::Cpu, static_cast<std::size_t>(rows * cols));
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, static_cast<int>(rows), static_cast<int>(cols), static_cast<int>(batch), 1.0f,
              dy, static_cast<int>(batch), x, static_cast<int>(batch), 0.0f, dense.data(), static_cast<int>(cols));
  const double gemm_seconds = seconds_since(t0);
  std::vector<std::int32_t> r(k), c(k);
  std::vector<float> s(k);
  const cpu::Selection sel = cpu::topk_dense(r.data(), c.data(), s.data(), dense.data(), row_ptr, col_idx, rows, cols, k);
  Run out{seconds_since(t0), gemm_seconds, 0, {}};
  for (std::int64_t n = 0; n < sel.count; ++n) out.picked.push_back(std::int64_t{r[n]} * cols + c[n]);
  return out;
}

}  // namespace
#endif

int main(int argc, char** argv) {
#if !defined(DYNASPARSE_WITH_CBLAS)
  (void)argc;
  (void)argv;
  std::printf("topk_bench: the library was built without a CBLAS; the dense baseline needs cblas_sgemm\n");
  return 0;
#else
  const std::int64_t rows = argc > 1 ? std::atoll(argv[1]) : 4096;
  const std::int64_t cols = argc > 2 ? std::atoll(argv[2]) : 4096;
  const std::int64_t batch = argc > 3 ? std::atoll(argv[3]) : 256;
  const double density = argc > 4 ? std::atof(argv[4]) : 0.1;
  const double kfrac = argc > 5 ? std::atof(argv[5]) : 0.01;
  const int reps = argc > 6 ? std::atoi(argv[6]) : 5;
  if (rows * cols >= (std::int64_t{1} << 31)) {
    std::fprintf(stderr, "topk_bench: rows * cols must stay below 2^31 (the baseline's int32 index array)\n");
    return 1;
  }

  std::vector<float> dy(rows * batch), x(cols * batch);
  cpu::fill_normal(dy.data(), rows * batch, 1, rng::kStreamTensor, 0.0f, 1.0f);
  cpu::fill_normal(x.data(), cols * batch, 2, rng::kStreamTensor, 0.0f, 1.0f);
  const auto nnz = static_cast<std::int64_t>(std::llround(density * static_cast<double>(rows * cols)));
  std::vector<std::int32_t> row_ptr(rows + 1), col_idx(nnz);
  cpu::csr_random_total(row_ptr.data(), col_idx.data(), rows, cols, nnz, 3);
  const std::int64_t candidates = rows * cols - nnz;
  const auto k = std::max<std::int64_t>(1, static_cast<std::int64_t>(kfrac * static_cast<double>(candidates)));

  std::printf("topk_bench: rows %lld cols %lld batch %lld nnz %lld (density %.3f) k %lld, %d threads, median of %d\n",
              static_cast<long long>(rows), static_cast<long long>(cols), static_cast<long long>(batch), static_cast<long long>(nnz),
              density, static_cast<long long>(k), cpu::thread_count(), reps);
  std::vector<double> t_stream, t_dense, t_gemm, t_select_base, t_select_ours;
  Run stream{}, dense{}, held{};
  for (int r = 0; r < reps; ++r) {
    stream = run_streamed(dy.data(), x.data(), row_ptr.data(), col_idx.data(), rows, cols, batch, k);
    dense = run_dense(dy.data(), x.data(), row_ptr.data(), col_idx.data(), rows, cols, batch, k);
    held = run_dense_topk_dense(dy.data(), x.data(), row_ptr.data(), col_idx.data(), rows, cols, batch, k);
    t_stream.push_back(stream.seconds);
    t_dense.push_back(dense.seconds);
    t_gemm.push_back(dense.gemm_seconds);
    t_select_base.push_back(dense.seconds - dense.gemm_seconds);
    t_select_ours.push_back(held.seconds - held.gemm_seconds);
  }
  const double gflop = 2.0 * static_cast<double>(rows * cols * batch) * 1e-9;
  std::printf("%-32s %10s %10s %14s\n", "route", "median ms", "GFLOP/s", "peak extra MiB");
  std::printf("%-32s %10.2f %10.1f %14.3f\n", "topk_growth (streamed)", median(t_stream) * 1e3, gflop / median(t_stream),
              static_cast<double>(stream.extra_bytes) / (1 << 20));
  std::printf("%-32s %10.2f %10.1f %14.3f\n", "cblas_sgemm + nth_element", median(t_dense) * 1e3, gflop / median(t_dense),
              static_cast<double>(dense.extra_bytes) / (1 << 20));
  std::printf("%-32s %10.2f %10.1f\n", "  of which cblas_sgemm", median(t_gemm) * 1e3, gflop / median(t_gemm));
  std::printf("selection over a held dense product: topk_dense %.2f ms, |.| + mask + nth_element + sort %.2f ms (%.2fx); "
              "same positions in the same order: %s\n",
              median(t_select_ours) * 1e3, median(t_select_base) * 1e3, median(t_select_base) / median(t_select_ours),
              held.picked == dense.picked ? "yes" : "NO");
  const std::unordered_set<std::int64_t> a(stream.picked.begin(), stream.picked.end());
  std::int64_t shared = 0;
  for (std::int64_t f : dense.picked) shared += a.count(f);
  std::printf("selections share %lld of %lld positions (different rounding moves the boundary only)\n",
              static_cast<long long>(shared), static_cast<long long>(k));
  return 0;
#endif
}
