// GFLOP/s of dense GEMM: the CBLAS path (when the build has one) and the
// built-in kernel, at 1024^3 and 4096 x 4096 x 256 (m x n x k), median of 5
// timed runs after one warm-up. Usage: matmul_bench [runs]
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "dynasparse/cpu_runtime.h"
#include "dynasparse/ops/dense.h"
#include "dynasparse/ops/rng.h"
#include "dynasparse/philox.h"

using namespace dynasparse;

namespace {

using GemmFn = void (*)(bool, bool, std::int64_t, std::int64_t, std::int64_t, float, const float*, std::int64_t,
                        const float*, std::int64_t, float, float*, std::int64_t);

double median_gflops(GemmFn fn, std::int64_t m, std::int64_t n, std::int64_t k, int runs) {
  std::vector<float> a(static_cast<std::size_t>(m * k)), b(static_cast<std::size_t>(k * n)), c(static_cast<std::size_t>(m * n));
  cpu::fill_normal(a.data(), m * k, 1, rng::kStreamTensor, 0.0f, 1.0f);
  cpu::fill_normal(b.data(), k * n, 2, rng::kStreamTensor, 0.0f, 1.0f);
  fn(false, false, m, n, k, 1.0f, a.data(), k, b.data(), n, 0.0f, c.data(), n);  // warm-up
  std::vector<double> rates;
  for (int r = 0; r < runs; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    fn(false, false, m, n, k, 1.0f, a.data(), k, b.data(), n, 0.0f, c.data(), n);
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    rates.push_back(2.0 * double(m) * double(n) * double(k) / s * 1e-9);
  }
  std::sort(rates.begin(), rates.end());
  return rates[rates.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  const int runs = argc > 1 ? std::max(1, std::atoi(argv[1])) : 5;
  const std::int64_t shapes[][3] = {{1024, 1024, 1024}, {4096, 4096, 256}};
  std::printf("threads %d, median of %d runs\n", cpu::thread_count(), runs);
  for (const auto& s : shapes) {
    if (cpu::gemm_uses_cblas())
      std::printf("%5lld x %5lld x %5lld  cblas    %8.2f GFLOP/s\n", static_cast<long long>(s[0]),
                  static_cast<long long>(s[1]), static_cast<long long>(s[2]), median_gflops(cpu::gemm, s[0], s[1], s[2], runs));
    else
      std::printf("%5lld x %5lld x %5lld  cblas    (not in this build)\n", static_cast<long long>(s[0]),
                  static_cast<long long>(s[1]), static_cast<long long>(s[2]));
    std::printf("%5lld x %5lld x %5lld  builtin  %8.2f GFLOP/s\n", static_cast<long long>(s[0]),
                static_cast<long long>(s[1]), static_cast<long long>(s[2]),
                median_gflops(cpu::gemm_builtin, s[0], s[1], s[2], runs));
  }
  return 0;
}
