// CSR spmm (forward A·B and transposed Aᵀ·B through the cached transposed
// structure) and the weight gradient (sddmm_trans_b: dY Xᵀ at A's pattern, a
// training step's third product) at each sparsity, and the 2:4 products (spmm_24, spmm_24_trans) at
// their fixed 50%, against cblas_sgemm of the same dense shape, without
// Node.js, so the kernels can be profiled (perf) and tuned in isolation.
//
// Usage: spmm_bench [rows k batch sparsities reps]
//   defaults 4096 4096 256 "0.5,0.7,0.8,0.9,0.95,0.98,0.99" 5.
// Prints, per sparsity, the median ms of `reps` runs of each route and the
// speedup over the dense GEMM measured in the same run.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <string>
#include <vector>

#include "dynasparse/cpu_runtime.h"
#include "dynasparse/ops/csr.h"
#include "dynasparse/ops/rng.h"
#include "dynasparse/ops/sddmm.h"
#include "dynasparse/ops/sparse24.h"
#include "dynasparse/ops/spmm.h"
#include "dynasparse/philox.h"

#include "bench/native/timing.h"

#if defined(DYNASPARSE_WITH_CBLAS)
#include <cblas.h>
#endif

using namespace dynasparse;

#if defined(DYNASPARSE_WITH_CBLAS)
namespace {

using bench::median_ms;

std::vector<double> parse_list(const char* s) {
  std::vector<double> out;
  std::stringstream in(s);
  std::string item;
  while (std::getline(in, item, ',')) out.push_back(std::atof(item.c_str()));
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  const std::int64_t rows = argc > 1 ? std::atoll(argv[1]) : 4096;
  const std::int64_t k = argc > 2 ? std::atoll(argv[2]) : 4096;
  const std::int64_t n = argc > 3 ? std::atoll(argv[3]) : 256;
  const std::vector<double> sparsities = parse_list(argc > 4 ? argv[4] : "0.5,0.7,0.8,0.9,0.95,0.98,0.99");
  const int reps = argc > 5 ? std::atoi(argv[5]) : 5;

  std::vector<float> b(k * n), bt(rows * n), c(rows * n), ct(k * n), dense_w(rows * k), dense_grad(rows * k);
  cpu::fill_normal(b.data(), k * n, 1, rng::kStreamTensor, 0.0f, 1.0f);
  cpu::fill_normal(bt.data(), rows * n, 2, rng::kStreamTensor, 0.0f, 1.0f);
  cpu::fill_normal(dense_w.data(), rows * k, 3, rng::kStreamTensor, 0.0f, 1.0f);
  std::printf("spmm_bench: A %lld x %lld, B %lld x %lld, %d threads, median of %d runs, ms\n", static_cast<long long>(rows),
              static_cast<long long>(k), static_cast<long long>(k), static_cast<long long>(n), cpu::thread_count(), reps);
  for (const double sparsity : sparsities) {
    const auto nnz = static_cast<std::int64_t>(std::llround((1.0 - sparsity) * static_cast<double>(rows * k)));
    std::vector<std::int32_t> row_ptr(rows + 1), col_idx(nnz), row_ptr_t(k + 1), row_idx(nnz), perm(nnz), cursor(k);
    std::vector<float> values(nnz);
    cpu::csr_random_total(row_ptr.data(), col_idx.data(), rows, k, nnz, 4);
    cpu::fill_normal(values.data(), nnz, 5, rng::kStreamTensor, 0.0f, 1.0f);
    cpu::csr_transpose(row_ptr_t.data(), row_idx.data(), perm.data(), cursor.data(), row_ptr.data(), col_idx.data(), rows, k);

    const double forward = median_ms(reps, [&] {
      cpu::spmm_csr(c.data(), n, row_ptr.data(), col_idx.data(), values.data(), nullptr, rows, k, b.data(), n, n, 1.0f, 0.0f);
    });
    const double backward = median_ms(reps, [&] {
      cpu::spmm_csr(ct.data(), n, row_ptr_t.data(), row_idx.data(), values.data(), perm.data(), k, rows, bt.data(), n, n, 1.0f,
                    0.0f);
    });
    const double dense = median_ms(reps, [&] {
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, static_cast<int>(rows), static_cast<int>(n), static_cast<int>(k), 1.0f,
                  dense_w.data(), static_cast<int>(k), b.data(), static_cast<int>(n), 0.0f, c.data(), static_cast<int>(n));
    });
    // dW = dY Xᵀ with dY = bt [rows, n] and X = b read as [k, n] (n = batch):
    // both operands' rows contiguous, as a training step lays them out.
    const double gradient = median_ms(reps, [&] {
      cpu::sddmm_trans_b(values.data(), row_ptr.data(), col_idx.data(), rows, bt.data(), n, b.data(), n, n);
    });
    const double dense_gradient = median_ms(reps, [&] {
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, static_cast<int>(rows), static_cast<int>(k), static_cast<int>(n), 1.0f,
                  bt.data(), static_cast<int>(n), b.data(), static_cast<int>(n), 0.0f, dense_grad.data(), static_cast<int>(k));
    });
    const double gflop = 2.0 * static_cast<double>(nnz) * static_cast<double>(n) * 1e-9;
    std::printf(
        "sparsity %4.1f%%  forward %8.2f (%5.1f GFLOP/s, %5.2fx dense)  transposed %8.2f (%5.2fx)  dense sgemm %8.2f  "
        "gradient %8.2f (%5.1f GFLOP/s, %5.2fx dense)  dense NT sgemm %8.2f\n",
        sparsity * 100, forward, gflop / forward * 1e3, dense / forward, backward, dense / backward, dense, gradient,
        gflop / gradient * 1e3, dense_gradient / gradient, dense_gradient);
  }
  if (k % 4 == 0) {
    std::vector<float> values24(rows * k / 2);
    std::vector<std::int32_t> meta(rows * cpu::sparse24_meta_words(k));
    cpu::sparse24_from_dense(values24.data(), meta.data(), dense_w.data(), rows, k);
    const double forward = median_ms(reps, [&] {
      cpu::spmm_24(c.data(), n, values24.data(), meta.data(), rows, k, b.data(), n, n, 1.0f, 0.0f);
    });
    const double backward = median_ms(reps, [&] {
      cpu::spmm_24_trans(ct.data(), n, values24.data(), meta.data(), rows, k, bt.data(), n, n, 1.0f, 0.0f);
    });
    const double dense = median_ms(reps, [&] {
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, static_cast<int>(rows), static_cast<int>(n), static_cast<int>(k), 1.0f,
                  dense_w.data(), static_cast<int>(k), b.data(), static_cast<int>(n), 0.0f, c.data(), static_cast<int>(n));
    });
    const double gflop = static_cast<double>(rows * k) * static_cast<double>(n) * 1e-9;
    std::printf("2:4 (50.0%%)     forward %8.2f (%5.1f GFLOP/s, %5.2fx dense)  transposed %8.2f (%5.2fx)  dense sgemm %8.2f\n",
                forward, gflop / forward * 1e3, dense / forward, backward, dense / backward, dense);
  }
  return 0;
}
#else
int main() {
  std::fprintf(stderr, "spmm_bench: built without a CBLAS; nothing to compare against\n");
  return 1;
}
#endif
