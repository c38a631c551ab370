// The NVIDIA library baselines (include/dynasparse/cuda_baseline.h): what the
// loader reports, the error a missing library gives, and, on a GPU with the
// libraries, cuBLAS / cuSPARSE / cuSPARSELt results against the CPU backend.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "compare.h"
#include "csr_inputs.h"
#include "device_array.h"
#include "dynasparse/cuda_baseline.h"
#include "dynasparse/cuda_runtime.h"
#include "dynasparse/error.h"
#include "dynasparse/ops/csr.h"
#include "dynasparse/ops/dense.h"
#include "dynasparse/ops/rng.h"
#include "dynasparse/ops/sparse24.h"
#include "dynasparse/ops/spmm.h"
#include "dynasparse/philox.h"
#include "sparse24_inputs.h"
#include "test/native/error_code.h"

using namespace dynasparse;
namespace baseline = dynasparse::cuda::baseline;
using test::DeviceArray;
using test::Host24;

namespace {

// The legacy default stream: DeviceArray's cudaMemcpy calls are ordered after it.
constexpr Stream kStream = nullptr;

// The stream for baselines that take workspace (ordered on cuda::stream()):
// the device is synchronized first, so DeviceArray's uploads on the legacy
// stream have landed (to_host() synchronizes the device again before reading).
Stream workspace_stream() {
  REQUIRE(cudaDeviceSynchronize() == cudaSuccess);
  return cuda::stream();
}

constexpr bool kCublasCompiled =
#if defined(DYNASPARSE_HAVE_CUBLAS_HEADERS)
    true;
#else
    false;
#endif
constexpr bool kCusparseCompiled =
#if defined(DYNASPARSE_HAVE_CUSPARSE_HEADERS)
    true;
#else
    false;
#endif
constexpr bool kCusparseltCompiled =
#if defined(DYNASPARSE_HAVE_CUSPARSELT_HEADERS)
    true;
#else
    false;
#endif

void check_status(const baseline::LibraryStatus& status, bool compiled, const char* header) {
  CHECK(status.compiled == compiled);
  if (!compiled) {
    CHECK_FALSE(status.loaded);
    CHECK(status.reason.find(header) != std::string::npos);
  } else if (status.loaded) {
    CHECK(status.reason.empty());
    CHECK_FALSE(status.path.empty());
  } else {
    CHECK_FALSE(status.reason.empty());
  }
}

std::vector<float> normal(std::int64_t n, std::uint64_t seed) {
  std::vector<float> v(static_cast<std::size_t>(n));
  cpu::fill_normal(v.data(), n, seed, rng::kStreamTensor, 0.0f, 1.0f);
  return v;
}

void require_close(const std::vector<float>& got, const std::vector<float>& want, double tolerance) {
  REQUIRE(got.size() == want.size());
  for (std::size_t i = 0; i < got.size(); ++i) {
    if (!(std::fabs(double(got[i]) - double(want[i])) <= tolerance)) {
      INFO("element " << i << ": library " << got[i] << ", cpu " << want[i]);
      REQUIRE(std::fabs(double(got[i]) - double(want[i])) <= tolerance);
    }
  }
}

// True when the GPU and the library are there; otherwise says why the case has nothing to compare.
bool usable(const baseline::LibraryStatus& status, const char* library) {
  if (!cuda::device_info().available) {
    MESSAGE("no CUDA device (" << cuda::device_info().reason << "): " << std::string(library) << " results not compared");
    return false;
  }
  if (!status.loaded) {
    MESSAGE(std::string(library) << " not usable (" << status.reason << "): results not compared");
    return false;
  }
  return true;
}

std::vector<float> run_sparselt(const Host24& a, const std::vector<float>& b, const std::vector<float>& c,
                                std::int64_t n, float alpha, float beta);

// cuSPARSELt's products need compute capability 8.0 (sparse tensor cores) and a
// release with kernels for this GPU (0.6 for 9.0): a loaded library that has
// none refuses with E_DEVICE, which is then all there is to check.
bool sparselt_usable() {
  if (!usable(baseline::libraries().cusparselt, "cuSPARSELt")) return false;
  const Host24 a = test::random24(16, 32, 99);
  const std::vector<float> b(32 * 16, 1.0f), c(16 * 16, 0.0f);
  try {
    run_sparselt(a, b, c, 16, 1.0f, 0.0f);
    return true;
  } catch (const Error& e) {
    REQUIRE(e.code() == ErrorCode::Device);  // anything else is a failure of the baseline
    MESSAGE("cuSPARSELt cannot run here (" << e.what() << "): results not compared");
    return false;
  }
}

std::vector<float> run_sparselt(const Host24& a, const std::vector<float>& b, const std::vector<float>& c,
                                std::int64_t n, float alpha, float beta) {
  DeviceArray<float> d_va(a.values), d_b(b), d_c(c);
  DeviceArray<std::int32_t> d_meta(a.meta);
  baseline::spmm_24_sparselt(d_c.data(), d_va.data(), d_meta.data(), a.rows, a.cols, d_b.data(), n, alpha, beta,
                             test::kernel_stream());
  return d_c.to_host();
}

// Small integers in [-2, 2]: with at most 64 stored entries a row, every sum is
// an integer of magnitude <= 256, exact in bf16 as in fp32.
void check_exact(std::int64_t rows, std::int64_t cols, std::int64_t n, std::uint32_t seed) {
  CAPTURE(rows);
  CAPTURE(cols);
  CAPTURE(n);
  const Host24 a = test::small_integer24(rows, cols, seed, -2.99f, 2.99f);
  const std::vector<float> b = test::small_integers(static_cast<std::size_t>(cols * n), seed + 1, -2.99f, 2.99f);
  const std::vector<float> c(static_cast<std::size_t>(rows * n), std::nanf(""));  // beta = 0: never read
  std::vector<float> want = c;
  cpu::spmm_24(want.data(), n, a.values.data(), a.meta.data(), rows, cols, b.data(), n, n, 1.0f, 0.0f);
  test::require_same_bits(run_sparselt(a, b, c, n, 1.0f, 0.0f), want);
}

// |C_lt - C_fp32| <= 2^-7 S + 2^-8 S + (cols + 4) 2^-22 (S + |beta C|), S = sum
// |alpha A B|: bf16 inputs (as spmm_24_bf16's bound), the product written in bf16
// (at most 2^-9 of |alpha D| <= S, doubled), both sides summing in fp32.
void check_close(const Host24& a, std::int64_t n, float alpha, float beta) {
  CAPTURE(a.rows);
  CAPTURE(a.cols);
  CAPTURE(n);
  CAPTURE(alpha);
  CAPTURE(beta);
  const test::ProductOperands x = test::product_operands(a.rows, a.cols, n, beta, {}, false);
  std::vector<float> want = x.c;
  cpu::spmm_24(want.data(), n, a.values.data(), a.meta.data(), a.rows, a.cols, x.b.data(), n, n, alpha, beta);
  const std::vector<double> mag = test::product_magnitudes(a, x.b, n, alpha);
  const std::vector<float> got = run_sparselt(a, x.b, x.c, n, alpha, beta);
  test::require_close(got, want, [&](std::size_t i) {
    const double old = beta == 0.0f ? 0.0 : std::fabs(double(beta) * x.c[i]);
    return std::ldexp(mag[i], -7) + std::ldexp(mag[i], -8) + double(a.cols + 4) * std::ldexp(mag[i] + old, -22) +
           1e-30;
  });
}

}  // namespace

TEST_CASE("baseline libraries report whether they were compiled and loaded, and why not") {
  const baseline::Libraries& libs = baseline::libraries();
  check_status(libs.cublas, kCublasCompiled, "cublas_v2.h");
  check_status(libs.cusparse, kCusparseCompiled, "cusparse.h");
  check_status(libs.cusparselt, kCusparseltCompiled, "cusparseLt.h");
  CHECK(&baseline::libraries() == &libs);  // loaded once
}

TEST_CASE("a baseline whose library is not usable throws E_DEVICE naming the library") {
  const baseline::Libraries& libs = baseline::libraries();
  if (!libs.cublas.loaded) {
    try {
      baseline::sgemm(false, false, 1, 1, 1, 1.0f, nullptr, 1, nullptr, 1, 0.0f, nullptr, 1, kStream);
      FAIL("sgemm without cuBLAS did not throw");
    } catch (const Error& e) {
      CHECK(e.code() == ErrorCode::Device);
      CHECK(std::string(e.what()).find("cuBLAS") != std::string::npos);
    }
  }
  if (!libs.cusparse.loaded) {
    try {
      baseline::Spmm spmm(baseline::SpmmAlg::CsrAlg2, 1, 1, 0, nullptr, nullptr, nullptr, 1, nullptr, nullptr, kStream);
      FAIL("Spmm without cuSPARSE did not throw");
    } catch (const Error& e) {
      CHECK(e.code() == ErrorCode::Device);
      CHECK(std::string(e.what()).find("cuSPARSE") != std::string::npos);
    }
  }
  if (!libs.cusparselt.loaded) {
    try {
      baseline::SparseLt24 lt(baseline::HalfType::F16, 16, 16, 16, nullptr, nullptr, nullptr, kStream);
      FAIL("SparseLt24 without cuSPARSELt did not throw");
    } catch (const Error& e) {
      CHECK(e.code() == ErrorCode::Device);
      CHECK(std::string(e.what()).find("cuSPARSELt") != std::string::npos);
    }
  }
  if (!libs.cusparselt.loaded) {
    try {
      baseline::spmm_24_sparselt(nullptr, nullptr, nullptr, 16, 16, nullptr, 16, 1.0f, 0.0f, kStream);
      FAIL("spmm_24_sparselt without cuSPARSELt did not throw");
    } catch (const Error& e) {
      CHECK(e.code() == ErrorCode::Device);
      CHECK(std::string(e.what()).find("cuSPARSELt") != std::string::npos);
    }
  }
  if (libs.cublas.loaded && libs.cusparse.loaded && libs.cusparselt.loaded) MESSAGE("all libraries loaded: nothing to check");
}

TEST_CASE("cuBLAS sgemm matches the CPU gemm for every transpose case") {
  if (!usable(baseline::libraries().cublas, "cuBLAS")) return;
  const std::int64_t m = 37, n = 29, k = 45;
  const std::vector<float> a = normal(m * k, 1), b = normal(k * n, 2), c0 = normal(m * n, 3);
  for (int t = 0; t < 4; ++t) {
    const bool ta = (t & 1) != 0, tb = (t & 2) != 0;
    CAPTURE(ta);
    CAPTURE(tb);
    std::vector<float> want = c0;
    cpu::gemm_builtin(ta, tb, m, n, k, 0.5f, a.data(), ta ? m : k, b.data(), tb ? k : n, 2.0f, want.data(), n);
    DeviceArray<float> da(a), db(b), dc(c0);
    baseline::sgemm(ta, tb, m, n, k, 0.5f, da.data(), ta ? m : k, db.data(), tb ? k : n, 2.0f, dc.data(), n, kStream);
    require_close(dc.to_host(), want, 1e-4);
  }
}

TEST_CASE("cuSPARSE SpMM (CSR_ALG2, CSR_ALG3) and SDDMM (opB = N and T) match the CPU backend") {
  if (!usable(baseline::libraries().cusparse, "cuSPARSE")) return;
  const std::int64_t rows = 41, cols = 53, n = 19, k = 23, per_row = 7;
  std::vector<std::int32_t> row_ptr(rows + 1), col_idx(rows * per_row);
  cpu::csr_random_rows(row_ptr.data(), col_idx.data(), rows, cols, per_row, 9);
  const std::vector<float> values = normal(rows * per_row, 10), b = normal(cols * n, 11);
  std::vector<float> dense(rows * cols);
  cpu::csr_to_dense(dense.data(), row_ptr.data(), col_idx.data(), values.data(), rows, cols);
  std::vector<float> want(rows * n);
  cpu::gemm_builtin(false, false, rows, n, cols, 1.0f, dense.data(), cols, b.data(), n, 0.0f, want.data(), n);
  DeviceArray<std::int32_t> drp(row_ptr), dci(col_idx);
  DeviceArray<float> dv(values), db(b);
  for (baseline::SpmmAlg alg : {baseline::SpmmAlg::CsrAlg2, baseline::SpmmAlg::CsrAlg3}) {
    CAPTURE(baseline::spmm_alg_name(alg));
    // Zeros, not the poison DeviceArray starts with: cuSPARSE does not promise
    // that beta = 0 skips reading C (want is not zero, so a no-op still fails).
    DeviceArray<float> dc(std::vector<float>(rows * n, 0.0f));
    baseline::Spmm spmm(alg, rows, cols, rows * per_row, drp.data(), dci.data(), dv.data(), n, db.data(), dc.data(),
                        workspace_stream());
    spmm.run();
    require_close(dc.to_host(), want, 1e-4);
  }
  // SDDMM: out[j] = (x @ y)[r, col_idx[j]] for the stored entries.
  const std::vector<float> x = normal(rows * k, 12), y = normal(k * cols, 13);
  std::vector<float> full(rows * cols), sd_want(rows * per_row);
  cpu::gemm_builtin(false, false, rows, cols, k, 1.0f, x.data(), k, y.data(), cols, 0.0f, full.data(), cols);
  for (std::int64_t r = 0; r < rows; ++r)
    for (std::int32_t j = row_ptr[r]; j < row_ptr[r + 1]; ++j) sd_want[j] = full[r * cols + col_idx[j]];
  std::vector<float> yt(y.size());  // y^T, cols x k: the layout of opB = TRANSPOSE
  for (std::int64_t t = 0; t < k; ++t)
    for (std::int64_t c = 0; c < cols; ++c) yt[c * k + t] = y[t * cols + c];
  DeviceArray<float> dx(x), dy(y), dyt(yt);
  for (const bool trans_b : {false, true}) {
    CAPTURE(trans_b);
    DeviceArray<float> out(std::vector<float>(rows * per_row, 0.0f));
    baseline::Sddmm sddmm(rows, cols, k, dx.data(), trans_b ? dyt.data() : dy.data(), rows * per_row, drp.data(),
                          dci.data(), out.data(), workspace_stream(), trans_b);
    sddmm.run();
    require_close(out.to_host(), sd_want, 1e-4);
  }
}

// What `spmm(a, b, { precision: 'bf16', impl: 'cusparselt' })` runs: exact on
// small integers (bf16 inputs, fp32 sums and the bf16 output are all exact
// there, so a padding or layout mistake shows), within the bf16 bound otherwise.
TEST_CASE("cuSPARSELt spmm_24_sparselt (our 2:4 storage, padded to its sizes) matches cpu::spmm_24") {
  if (!sparselt_usable()) return;
  check_exact(16, 32, 8, 1);     // k needs no padding; rows and n do
  check_exact(37, 100, 33, 2);   // every dimension padded
  check_exact(70, 36, 130, 3);
  check_exact(1, 4, 1, 4);
  check_close(test::random24(20, 68, 8), 5, 1.0f, 0.0f);
  check_close(test::random24(33, 132, 9), 64, -0.5f, 0.0f);
  check_close(test::random24(17, 36, 10), 33, 2.0f, 0.5f);
  check_close(test::random24(256, 512, 11), 96, 1.0f, 1.0f);
  check_close(test::random24(3, 0, 12), 4, 1.0f, 0.0f);  // k = 0: C = 0 (beta = 0)
}

TEST_CASE("cuSPARSELt spmm_24_sparselt refuses a stream other than cuda::stream() (its scratch is ordered there)") {
  if (!sparselt_usable()) return;  // E_DEVICE comes first there
  const Host24 a = test::random24(16, 32, 5);
  DeviceArray<float> d_va(a.values), d_b(std::vector<float>(32 * 8, 1.0f)), d_c(std::vector<float>(16 * 8, 0.0f));
  DeviceArray<std::int32_t> d_meta(a.meta);
  CHECK(test::code_of([&] {
          baseline::spmm_24_sparselt(d_c.data(), d_va.data(), d_meta.data(), 16, 32, d_b.data(), 8, 1.0f, 0.0f,
                                           nullptr);
        }) == ErrorCode::Arg);
}
