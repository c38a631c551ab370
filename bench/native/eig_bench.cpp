// GradMax's eigensolver (cpu::top_gram_eigenvectors) for M = (1/B) G Fᵀ with
// G [n, B] and F [p, B], two ways: M formed once with a GEMM and iterated with,
// and M applied through its factors (nothing n x p). Both run the same block
// iteration to the same tolerance from the same start, so the ratio is the cost
// of the products and the memory is the n x p matrix.
//
// Usage: eig_bench [n p batch k reps]   defaults 4096 4096 256 8 3.
// Prints, per route, the median ms of `reps` runs (forming M included), the
// iterations, the peak extra memory, and the largest difference of the
// eigenvalues relative to the largest (both converge within tol = 1e-4).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "bench/native/timing.h"
#include "dynasparse/memory.h"
#include "dynasparse/ops/dense.h"
#include "dynasparse/ops/eig.h"
#include "dynasparse/ops/rng.h"
#include "dynasparse/philox.h"

using namespace dynasparse;

int main(int argc, char** argv) {
  const std::int64_t n = argc > 1 ? std::atoll(argv[1]) : 4096;
  const std::int64_t p = argc > 2 ? std::atoll(argv[2]) : 4096;
  const std::int64_t batch = argc > 3 ? std::atoll(argv[3]) : 256;
  const std::int64_t k = argc > 4 ? std::atoll(argv[4]) : 8;
  const int reps = argc > 5 ? std::atoi(argv[5]) : 3;
  std::vector<float> g(n * batch), f(p * batch), vec(n * k), formed_ev(k), factored_ev(k), res(k);
  cpu::fill_normal(g.data(), n * batch, 3, rng::kStreamTensor, 0.0f, 1.0f);
  cpu::fill_normal(f.data(), p * batch, 2, rng::kStreamTensor, 0.0f, 1.0f);
  cpu::TopEigenOptions options;
  cpu::TopEigenResult formed{}, factored{};

  auto peak_of = [](auto&& run) {
    const std::int64_t before = memory_stats(Device::Cpu).bytes_in_use;
    reset_peak_memory(Device::Cpu);
    run();
    return static_cast<double>(memory_stats(Device::Cpu).peak_bytes - before) / (1 << 20);
  };
  auto run_formed = [&] {
    Scratch<float> m(Device::Cpu, static_cast<std::size_t>(n * p));
    cpu::gemm(false, true, n, p, batch, 1.0f / static_cast<float>(batch), g.data(), batch, f.data(), batch, 0.0f, m.data(), p);
    formed = cpu::top_gram_eigenvectors(m.data(), n, p, k, options, vec.data(), formed_ev.data(), res.data());
  };
  cpu::GramFactors factors;
  factors.g = g.data();
  factors.f = f.data();
  factors.r = batch;
  factors.alpha = 1.0f / static_cast<float>(batch);
  auto run_factored = [&] {
    factored = cpu::top_gram_eigenvectors(factors, n, p, k, options, vec.data(), factored_ev.data(), res.data());
  };
  const double formed_ms = bench::median_ms(reps, run_formed), factored_ms = bench::median_ms(reps, run_factored);
  const double formed_mib = peak_of(run_formed), factored_mib = peak_of(run_factored);
  double diff = 0.0;
  for (std::int64_t j = 0; j < k; ++j) diff = std::max(diff, std::fabs(double(formed_ev[j]) - factored_ev[j]) / formed_ev[0]);
  std::printf("eig_bench: M = (1/B) G Fᵀ, n %lld p %lld B %lld, top %lld, tol %g, median of %d runs\n",
              static_cast<long long>(n), static_cast<long long>(p), static_cast<long long>(batch), static_cast<long long>(k),
              options.tol, reps);
  std::printf("M formed          %9.1f ms  %4lld iterations  peak extra %8.2f MiB\n", formed_ms,
              static_cast<long long>(formed.iterations), formed_mib);
  std::printf("M by its factors  %9.1f ms  %4lld iterations  peak extra %8.2f MiB  (formed / factors %.2fx)\n", factored_ms,
              static_cast<long long>(factored.iterations), factored_mib, formed_ms / factored_ms);
  std::printf("largest eigenvalue difference: %.2e of the largest; the rule picks: %s\n", diff,
              cpu::gram_factors_cheaper(n, p, batch) ? "factors" : "formed");
  return 0;
}
