// The NVIDIA library baselines (include/dynasparse/cuda_baseline.h): what the
// loader reports, the error a missing library gives, and, on a GPU with the
// libraries, cuBLAS / cuSPARSE results against the CPU backend.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "device_array.h"
#include "dynasparse/cuda_baseline.h"
#include "dynasparse/cuda_runtime.h"
#include "dynasparse/error.h"
#include "dynasparse/ops/csr.h"
#include "dynasparse/ops/dense.h"
#include "dynasparse/ops/rng.h"
#include "dynasparse/philox.h"

using namespace dynasparse;
namespace baseline = dynasparse::cuda::baseline;
using test::DeviceArray;

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

TEST_CASE("cuSPARSE SpMM (CSR_ALG2, CSR_ALG3) and SDDMM match the CPU backend") {
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
    DeviceArray<float> dc(rows * n);
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
  DeviceArray<float> dx(x), dy(y), out(rows * per_row);
  baseline::Sddmm sddmm(rows, cols, k, dx.data(), dy.data(), rows * per_row, drp.data(), dci.data(), out.data(),
                        workspace_stream());
  sddmm.run();
  require_close(out.to_host(), sd_want, 1e-4);
}
