// The library baselines (include/dynasparse/cuda_baseline.h) in an addon built
// with DYNASPARSE_CUDA_EMULATION: the emulated device has no NVIDIA libraries,
// so every baseline reports E_DEVICE, as on a GPU machine where the library is
// missing (cuda/baseline.cu, which calls the real ones, is not compiled here).
#include <string>

#include "dynasparse/cuda_baseline.h"
#include "dynasparse/error.h"

namespace dynasparse::cuda::baseline {
namespace {

[[noreturn]] void unavailable(const char* library) {
  fail(ErrorCode::Device, std::string(library) + " is not available: the emulated cuda device (SIMT host emulation) "
                                                 "has no NVIDIA libraries");
}

}  // namespace

const Libraries& libraries() {
  static const Libraries none = [] {
    Libraries l;
    for (LibraryStatus* s : {&l.cublas, &l.cusparse, &l.cusparselt}) s->reason = "the SIMT host emulation has none";
    return l;
  }();
  return none;
}

const char* spmm_alg_name(SpmmAlg alg) noexcept { return alg == SpmmAlg::CsrAlg2 ? "CSR_ALG2" : "CSR_ALG3"; }

void sgemm(bool, bool, std::int64_t, std::int64_t, std::int64_t, float, const float*, std::int64_t, const float*,
           std::int64_t, float, float*, std::int64_t, Stream) {
  unavailable("cuBLAS");
}
void gemm_half(HalfType, std::int64_t, std::int64_t, std::int64_t, float, const void*, const void*, float, void*, Stream) {
  unavailable("cuBLAS");
}

struct Spmm::State {};
Spmm::Spmm(SpmmAlg, std::int64_t, std::int64_t, std::int64_t, const std::int32_t*, const std::int32_t*, const float*,
           std::int64_t, const float*, float*, Stream) {
  unavailable("cuSPARSE");
}
Spmm::~Spmm() = default;
void Spmm::run(float, float) { unavailable("cuSPARSE"); }

struct Sddmm::State {};
Sddmm::Sddmm(std::int64_t, std::int64_t, std::int64_t, const float*, const float*, std::int64_t, const std::int32_t*,
             const std::int32_t*, float*, Stream, bool) {
  unavailable("cuSPARSE");
}
Sddmm::~Sddmm() = default;
void Sddmm::run(float, float) { unavailable("cuSPARSE"); }

struct SparseLt24::State {};
SparseLt24::SparseLt24(HalfType, std::int64_t, std::int64_t, std::int64_t, const void*, const void*, void*, Stream,
                       Prune) {
  unavailable("cuSPARSELt");
}
SparseLt24::~SparseLt24() = default;
void SparseLt24::run() { unavailable("cuSPARSELt"); }
void spmm_24_sparselt(float*, const float*, const std::int32_t*, std::int64_t, std::int64_t, const float*,
                      std::int64_t, float, float, Stream) {
  unavailable("cuSPARSELt");
}

}  // namespace dynasparse::cuda::baseline
