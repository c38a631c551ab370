// The library baselines (include/dynasparse/cuda_baseline.h) through the
// dlopened function tables of cuda/libraries.cu. Each is compiled only where
// CMake found its library's headers; elsewhere its entry points throw E_DEVICE
// saying so, and the rest of the build does not notice. Not a kernel family,
// so it has no cpu/ twin: these are the vendor baselines our kernels are
// benchmarked against (the CPU benchmarks' baseline is the CBLAS); their
// tests (test/native/cuda_baseline) compare them with the CPU backend. An addon
// built on the SIMT emulation has cuda/simt/baseline.cpp instead, whose
// baselines all report the libraries missing.
#include <climits>
#include <string>

#include "common.cuh"
#include "dynasparse/cuda_baseline.h"
#include "dynasparse/memory.h"
#include "dynasparse/ops/bf16_convert.h"
#include "dynasparse/ops/sparse24.h"
#include "libraries.cuh"

namespace dynasparse::cuda::baseline {
namespace {

[[maybe_unused]] int to_int(std::int64_t v, const char* what) {
  if (v < 0 || v > INT_MAX) fail(ErrorCode::Arg, std::string(what) + ": expected a size in [0, 2^31), got " + std::to_string(v));
  return static_cast<int>(v);
}

// A library call's workspace. Buffer::allocate orders the allocation, and
// the free when the baseline object is destroyed, on cuda::stream(); on any
// other stream the library could still be using the memory when the pool hands
// it out again. So a baseline that takes workspace runs on cuda::stream() only
// (E_ARG otherwise), as the kernels that take scratch do.
[[maybe_unused]] BufferPtr workspace(std::size_t bytes, Stream s, const char* what) {
  // The stream first: whether a call is refused must not depend on the size
  // the library happens to ask for.
  if (s != stream())
    fail(ErrorCode::Arg, std::string(what) + ": expected the backend's stream cuda::stream() (its workspace is "
                                             "ordered on it), got another stream");
  if (bytes == 0) return nullptr;
  return Buffer::allocate(Device::Cuda, bytes);
}

[[maybe_unused]] void* data_of(const BufferPtr& buffer) { return buffer ? buffer->data() : nullptr; }

[[noreturn, maybe_unused]] void not_compiled(const char* library, const char* header) {
  fail(ErrorCode::Device, std::string(library) + " baseline is not compiled: " + header +
                              " was not found when this build was configured");
}

}  // namespace

const char* spmm_alg_name(SpmmAlg alg) noexcept { return alg == SpmmAlg::CsrAlg2 ? "CSR_ALG2" : "CSR_ALG3"; }

// --- cuBLAS -------------------------------------------------------------------
#if defined(DYNASPARSE_HAVE_CUBLAS_HEADERS)
namespace {

void check(cublasStatus_t status, const char* what) {
  if (status != CUBLAS_STATUS_SUCCESS)
    fail(ErrorCode::Cuda, std::string(what) + " failed: " + cublas_api().cublasGetStatusString(status));
}

// One handle for the process (never destroyed: the driver reclaims it at exit),
// bound to the caller's stream on every call.
cublasHandle_t cublas_handle(Stream s) {
  static cublasHandle_t handle = [] {
    cublasHandle_t created = nullptr;
    check(cublas_api().cublasCreate_v2(&created), "cublasCreate");
    return created;
  }();
  check(cublas_api().cublasSetStream_v2(handle, native(s)), "cublasSetStream");
  return handle;
}

}  // namespace

// cuBLAS is column-major: a row-major matrix is its transpose there, so
// C = op(A) op(B) (row-major) is computed as C^T = op(B)^T op(A)^T, i.e. the
// operands swap places and keep their transpose flags.
void sgemm(bool transA, bool transB, std::int64_t m, std::int64_t n, std::int64_t k, float alpha, const float* A,
           std::int64_t lda, const float* B, std::int64_t ldb, float beta, float* C, std::int64_t ldc, Stream s) {
  cublasHandle_t handle = cublas_handle(s);
  check(cublas_api().cublasSgemm_v2(handle, transB ? CUBLAS_OP_T : CUBLAS_OP_N, transA ? CUBLAS_OP_T : CUBLAS_OP_N,
                                    to_int(n, "sgemm n"), to_int(m, "sgemm m"), to_int(k, "sgemm k"), &alpha, B,
                                    to_int(ldb, "sgemm ldb"), A, to_int(lda, "sgemm lda"), &beta, C,
                                    to_int(ldc, "sgemm ldc")),
        "cublasSgemm");
}

void gemm_half(HalfType type, std::int64_t m, std::int64_t n, std::int64_t k, float alpha, const void* A,
               const void* B, float beta, void* C, Stream s) {
  const cudaDataType t = type == HalfType::F16 ? CUDA_R_16F : CUDA_R_16BF;
  cublasHandle_t handle = cublas_handle(s);
  const int mi = to_int(m, "gemm_half m"), ni = to_int(n, "gemm_half n"), ki = to_int(k, "gemm_half k");
  check(cublas_api().cublasGemmEx(handle, CUBLAS_OP_N, CUBLAS_OP_N, ni, mi, ki, &alpha, B, t, ni, A, t, ki, &beta, C, t,
                                  ni, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT),
        "cublasGemmEx");
}
#else
void sgemm(bool, bool, std::int64_t, std::int64_t, std::int64_t, float, const float*, std::int64_t, const float*,
           std::int64_t, float, float*, std::int64_t, Stream) {
  not_compiled("cuBLAS", "cublas_v2.h");
}
void gemm_half(HalfType, std::int64_t, std::int64_t, std::int64_t, float, const void*, const void*, float, void*, Stream) {
  not_compiled("cuBLAS", "cublas_v2.h");
}
#endif

// --- cuSPARSE -----------------------------------------------------------------
#if defined(DYNASPARSE_HAVE_CUSPARSE_HEADERS)
namespace {

void check(cusparseStatus_t status, const char* what) {
  if (status != CUSPARSE_STATUS_SUCCESS)
    fail(ErrorCode::Cuda, std::string(what) + " failed: " + cusparse_api().cusparseGetErrorString(status));
}

cusparseHandle_t cusparse_handle(Stream s) {
  static cusparseHandle_t handle = [] {
    cusparseHandle_t created = nullptr;
    check(cusparse_api().cusparseCreate(&created), "cusparseCreate");
    return created;
  }();
  check(cusparse_api().cusparseSetStream(handle, native(s)), "cusparseSetStream");
  return handle;
}

cusparseSpMatDescr_t make_csr(std::int64_t rows, std::int64_t cols, std::int64_t nnz, const std::int32_t* row_ptr,
                              const std::int32_t* col_idx, const float* values) {
  // An empty matrix's arrays may be null (a zero-byte allocation), which newer
  // cuSPARSE releases refuse; they are never read, so any valid address will do.
  if (nnz == 0) {
    if (col_idx == nullptr) col_idx = row_ptr;
    if (values == nullptr) values = reinterpret_cast<const float*>(row_ptr);
  }
  cusparseSpMatDescr_t d = nullptr;
  check(cusparse_api().cusparseCreateCsr(&d, rows, cols, nnz, const_cast<std::int32_t*>(row_ptr),
                                         const_cast<std::int32_t*>(col_idx), const_cast<float*>(values),
                                         CUSPARSE_INDEX_32I, CUSPARSE_INDEX_32I, CUSPARSE_INDEX_BASE_ZERO, CUDA_R_32F),
        "cusparseCreateCsr");
  return d;
}

cusparseDnMatDescr_t make_dense(std::int64_t rows, std::int64_t cols, const float* values) {
  cusparseDnMatDescr_t d = nullptr;
  check(cusparse_api().cusparseCreateDnMat(&d, rows, cols, cols, const_cast<float*>(values), CUDA_R_32F,
                                           CUSPARSE_ORDER_ROW),
        "cusparseCreateDnMat");
  return d;
}

}  // namespace

struct Spmm::State {
  Stream stream = nullptr;
  cusparseSpMMAlg_t alg = CUSPARSE_SPMM_CSR_ALG2;
  cusparseSpMatDescr_t a = nullptr;
  cusparseDnMatDescr_t b = nullptr;
  cusparseDnMatDescr_t c = nullptr;
  BufferPtr buffer;
  ~State() {
    // Destroying descriptors only frees host memory; errors are not actionable here.
    if (a) cusparse_api().cusparseDestroySpMat(a);
    if (b) cusparse_api().cusparseDestroyDnMat(b);
    if (c) cusparse_api().cusparseDestroyDnMat(c);
  }
};

Spmm::Spmm(SpmmAlg alg, std::int64_t rows, std::int64_t cols, std::int64_t nnz, const std::int32_t* row_ptr,
           const std::int32_t* col_idx, const float* values, std::int64_t n, const float* B, float* C, Stream s)
    : state_(std::make_unique<State>()) {
  const CusparseApi& api = cusparse_api();
  State& st = *state_;
  st.stream = s;
  st.alg = alg == SpmmAlg::CsrAlg2 ? CUSPARSE_SPMM_CSR_ALG2 : CUSPARSE_SPMM_CSR_ALG3;
  st.a = make_csr(rows, cols, nnz, row_ptr, col_idx, values);
  st.b = make_dense(cols, n, B);
  st.c = make_dense(rows, n, C);
  const float alpha = 1.0f, beta = 0.0f;
  cusparseHandle_t handle = cusparse_handle(s);
  std::size_t bytes = 0;
  check(api.cusparseSpMM_bufferSize(handle, CUSPARSE_OPERATION_NON_TRANSPOSE, CUSPARSE_OPERATION_NON_TRANSPOSE, &alpha,
                                    st.a, st.b, &beta, st.c, CUDA_R_32F, st.alg, &bytes),
        "cusparseSpMM_bufferSize");
  st.buffer = workspace(bytes, s, "cuSPARSE SpMM");
  // Optional; it speeds up repeated products with one pattern (ALG1 and ALG3).
  if (st.alg == CUSPARSE_SPMM_CSR_ALG3) {
    check(api.cusparseSpMM_preprocess(handle, CUSPARSE_OPERATION_NON_TRANSPOSE, CUSPARSE_OPERATION_NON_TRANSPOSE,
                                      &alpha, st.a, st.b, &beta, st.c, CUDA_R_32F, st.alg, data_of(st.buffer)),
          "cusparseSpMM_preprocess");
  }
}

Spmm::~Spmm() = default;

void Spmm::run(float alpha, float beta) {
  State& st = *state_;
  check(cusparse_api().cusparseSpMM(cusparse_handle(st.stream), CUSPARSE_OPERATION_NON_TRANSPOSE,
                                    CUSPARSE_OPERATION_NON_TRANSPOSE, &alpha, st.a, st.b, &beta, st.c, CUDA_R_32F,
                                    st.alg, data_of(st.buffer)),
        "cusparseSpMM");
}

struct Sddmm::State {
  Stream stream = nullptr;
  cusparseOperation_t op_b = CUSPARSE_OPERATION_NON_TRANSPOSE;
  cusparseDnMatDescr_t a = nullptr;
  cusparseDnMatDescr_t b = nullptr;
  cusparseSpMatDescr_t c = nullptr;
  BufferPtr buffer;
  ~State() {
    if (a) cusparse_api().cusparseDestroyDnMat(a);
    if (b) cusparse_api().cusparseDestroyDnMat(b);
    if (c) cusparse_api().cusparseDestroySpMat(c);
  }
};

Sddmm::Sddmm(std::int64_t rows, std::int64_t cols, std::int64_t k, const float* A, const float* B, std::int64_t nnz,
             const std::int32_t* row_ptr, const std::int32_t* col_idx, float* values, Stream s, bool trans_b)
    : state_(std::make_unique<State>()) {
  const CusparseApi& api = cusparse_api();
  State& st = *state_;
  st.stream = s;
  st.op_b = trans_b ? CUSPARSE_OPERATION_TRANSPOSE : CUSPARSE_OPERATION_NON_TRANSPOSE;
  st.a = make_dense(rows, k, A);
  st.b = trans_b ? make_dense(cols, k, B) : make_dense(k, cols, B);
  st.c = make_csr(rows, cols, nnz, row_ptr, col_idx, values);
  const float alpha = 1.0f, beta = 0.0f;
  cusparseHandle_t handle = cusparse_handle(s);
  std::size_t bytes = 0;
  check(api.cusparseSDDMM_bufferSize(handle, CUSPARSE_OPERATION_NON_TRANSPOSE, st.op_b, &alpha, st.a, st.b, &beta,
                                     st.c, CUDA_R_32F, CUSPARSE_SDDMM_ALG_DEFAULT, &bytes),
        "cusparseSDDMM_bufferSize");
  st.buffer = workspace(bytes, s, "cuSPARSE SDDMM");
  check(api.cusparseSDDMM_preprocess(handle, CUSPARSE_OPERATION_NON_TRANSPOSE, st.op_b, &alpha, st.a, st.b, &beta,
                                     st.c, CUDA_R_32F, CUSPARSE_SDDMM_ALG_DEFAULT, data_of(st.buffer)),
        "cusparseSDDMM_preprocess");
}

Sddmm::~Sddmm() = default;

void Sddmm::run(float alpha, float beta) {
  State& st = *state_;
  check(cusparse_api().cusparseSDDMM(cusparse_handle(st.stream), CUSPARSE_OPERATION_NON_TRANSPOSE, st.op_b, &alpha,
                                     st.a, st.b, &beta, st.c, CUDA_R_32F, CUSPARSE_SDDMM_ALG_DEFAULT,
                                     data_of(st.buffer)),
        "cusparseSDDMM");
}
#else
struct Spmm::State {};
Spmm::Spmm(SpmmAlg, std::int64_t, std::int64_t, std::int64_t, const std::int32_t*, const std::int32_t*, const float*,
           std::int64_t, const float*, float*, Stream) {
  not_compiled("cuSPARSE", "cusparse.h");
}
Spmm::~Spmm() = default;
void Spmm::run(float, float) { not_compiled("cuSPARSE", "cusparse.h"); }

struct Sddmm::State {};
Sddmm::Sddmm(std::int64_t, std::int64_t, std::int64_t, const float*, const float*, std::int64_t, const std::int32_t*,
             const std::int32_t*, float*, Stream, bool) {
  not_compiled("cuSPARSE", "cusparse.h");
}
Sddmm::~Sddmm() = default;
void Sddmm::run(float, float) { not_compiled("cuSPARSE", "cusparse.h"); }
#endif

// --- cuSPARSELt ---------------------------------------------------------------
#if defined(DYNASPARSE_HAVE_CUSPARSELT_HEADERS)
namespace {

// A status the library gives for a GPU it has no kernels for (cuSPARSELt
// before 0.6 has none for compute capability 9.0) is E_DEVICE, as a missing
// library is: the baseline cannot run here. Anything else is E_CUDA.
void check_lt(cusparseStatus_t status, const char* what) {
  if (status == CUSPARSE_STATUS_SUCCESS) return;
  const std::string message = std::string(what) + " failed: cusparseStatus_t " + std::to_string(static_cast<int>(status));
  if (status == CUSPARSE_STATUS_ARCH_MISMATCH || status == CUSPARSE_STATUS_NOT_SUPPORTED)
    fail(ErrorCode::Device, message + " (cuSPARSELt " + std::to_string(CUSPARSELT_VER_MAJOR) + "." +
                                std::to_string(CUSPARSELT_VER_MINOR) + " does not support this GPU, compute capability " +
                                device_info().compute_capability_name() + ", or this call)");
  fail(ErrorCode::Cuda, message);
}

// The process's cuSPARSELt handle (a struct cuSPARSELt fills in place). A
// failed initialization is retried by the next call (the static is not set).
const cusparseLtHandle_t* lt_handle() {
  static cusparseLtHandle_t handle;
  static const bool ready = [] {
    check_lt(cusparselt_api().cusparseLtInit(&handle), "cusparseLtInit");
    return true;
  }();
  static_cast<void>(ready);
  return &handle;
}

// cuSPARSELt 0.5.2 renamed the compute types: COMPUTE_32F (fp32 accumulation
// of 16-bit inputs) was COMPUTE_16F before.
#if CUSPARSELT_VERSION >= 502
constexpr cusparseComputeType kCompute32F = CUSPARSE_COMPUTE_32F;
#else
constexpr cusparseComputeType kCompute32F = CUSPARSE_COMPUTE_16F;
#endif

constexpr unsigned kAlignment = 16;  // bytes; the pool's allocations are at least 256-byte aligned

}  // namespace

struct SparseLt24::State {
  cudaStream_t stream = nullptr;
  cusparseLtMatDescriptor_t a{}, b{}, d{};
  bool a_init = false, b_init = false, d_init = false, selection_init = false, plan_init = false;
  cusparseLtMatmulDescriptor_t matmul{};
  cusparseLtMatmulAlgSelection_t selection{};
  cusparseLtMatmulPlan_t plan{};
  const void* B = nullptr;
  void* D = nullptr;
  BufferPtr pruned, compressed, compress_buffer, work;
  ~State() {
    // Nothing was initialized when the constructor failed before the first
    // descriptor, possibly because the library is missing: then cusparselt_api()
    // would throw, and a destructor running during that unwinding must not.
    if (!(a_init || b_init || d_init || selection_init || plan_init)) return;
    const CusparseLtApi& api = cusparselt_api();
    // In reverse order of creation. Destroying them while the product they
    // planned is still on the stream is what NVIDIA's own sample does.
    if (plan_init) api.cusparseLtMatmulPlanDestroy(&plan);
#if CUSPARSELT_VERSION >= 800
    if (selection_init) api.cusparseLtMatmulAlgSelectionDestroy(&selection);
#endif
    if (a_init) api.cusparseLtMatDescriptorDestroy(&a);
    if (b_init) api.cusparseLtMatDescriptorDestroy(&b);
    if (d_init) api.cusparseLtMatDescriptorDestroy(&d);
  }
};

SparseLt24::SparseLt24(HalfType type, std::int64_t m, std::int64_t n, std::int64_t k, const void* A_dense,
                       const void* B, void* D, Stream s, Prune prune)
    : state_(std::make_unique<State>()) {
  const CusparseLtApi& api = cusparselt_api();
  const cusparseLtHandle_t* h = lt_handle();
  State& st = *state_;
  st.stream = native(s);
  st.B = B;
  st.D = D;
  const cudaDataType t = type == HalfType::F16 ? CUDA_R_16F : CUDA_R_16BF;
  check_lt(api.cusparseLtStructuredDescriptorInit(h, &st.a, m, k, k, kAlignment, t, CUSPARSE_ORDER_ROW,
                                                  CUSPARSELT_SPARSITY_50_PERCENT),
           "cusparseLtStructuredDescriptorInit");
  st.a_init = true;
  check_lt(api.cusparseLtDenseDescriptorInit(h, &st.b, k, n, n, kAlignment, t, CUSPARSE_ORDER_ROW),
           "cusparseLtDenseDescriptorInit(B)");
  st.b_init = true;
  check_lt(api.cusparseLtDenseDescriptorInit(h, &st.d, m, n, n, kAlignment, t, CUSPARSE_ORDER_ROW),
           "cusparseLtDenseDescriptorInit(D)");
  st.d_init = true;
  check_lt(api.cusparseLtMatmulDescriptorInit(h, &st.matmul, CUSPARSE_OPERATION_NON_TRANSPOSE,
                                              CUSPARSE_OPERATION_NON_TRANSPOSE, &st.a, &st.b, &st.d, &st.d,
                                              kCompute32F),
           "cusparseLtMatmulDescriptorInit");
  check_lt(api.cusparseLtMatmulAlgSelectionInit(h, &st.selection, &st.matmul, CUSPARSELT_MATMUL_ALG_DEFAULT),
           "cusparseLtMatmulAlgSelectionInit");
  st.selection_init = true;
  check_lt(api.cusparseLtMatmulPlanInit(h, &st.plan, &st.matmul, &st.selection), "cusparseLtMatmulPlanInit");
  st.plan_init = true;

  // Prune a copy of A to 2:4 (unless it is 2:4 already), then compress it into
  // cuSPARSELt's layout.
  const void* sparse_a = A_dense;
  if (prune == Prune::Strip) {
    st.pruned = workspace(static_cast<std::size_t>(m * k) * 2, s, "cuSPARSELt");
    check_lt(api.cusparseLtSpMMAPrune(h, &st.matmul, A_dense, data_of(st.pruned), CUSPARSELT_PRUNE_SPMMA_STRIP,
                                      st.stream),
             "cusparseLtSpMMAPrune");
    sparse_a = data_of(st.pruned);
  }
  std::size_t compressed_bytes = 0, compress_buffer_bytes = 0;
  check_lt(api.cusparseLtSpMMACompressedSize(h, &st.plan, &compressed_bytes, &compress_buffer_bytes),
           "cusparseLtSpMMACompressedSize");
  st.compressed = workspace(compressed_bytes, s, "cuSPARSELt");
  st.compress_buffer = workspace(compress_buffer_bytes, s, "cuSPARSELt");
  check_lt(api.cusparseLtSpMMACompress(h, &st.plan, sparse_a, data_of(st.compressed),
                                       data_of(st.compress_buffer), st.stream),
           "cusparseLtSpMMACompress");
  std::size_t work_bytes = 0;
  check_lt(api.cusparseLtMatmulGetWorkspace(h, &st.plan, &work_bytes), "cusparseLtMatmulGetWorkspace");
  st.work = workspace(work_bytes, s, "cuSPARSELt");
}

SparseLt24::~SparseLt24() = default;

void SparseLt24::run() {
  State& st = *state_;
  const float alpha = 1.0f, beta = 0.0f;
  check_lt(cusparselt_api().cusparseLtMatmul(lt_handle(), &st.plan, &alpha, data_of(st.compressed), st.B, &beta, st.D,
                                             st.D, data_of(st.work), &st.stream, 1),
           "cusparseLtMatmul");
}

namespace {
std::int64_t round_up_32(std::int64_t v) { return (v + 31) / 32 * 32; }
}  // namespace

void spmm_24_sparselt(float* c, const float* values, const std::int32_t* meta, std::int64_t rows, std::int64_t cols,
                      const float* b, std::int64_t n, float alpha, float beta, Stream s) {
  cusparselt_api();  // E_DEVICE here, before any work, where the library is missing
  if (rows < 0 || cols < 0 || n < 0 || cols % 4 != 0)
    fail(ErrorCode::Arg,
         "spmm_24_sparselt: expected a [rows, cols] 2:4 matrix with cols a multiple of 4 and n >= 0, got [" +
             std::to_string(rows) + ", " + std::to_string(cols) + "] and n = " + std::to_string(n));
  if (s != stream())
    fail(ErrorCode::Arg, "spmm_24_sparselt: expected the backend's stream cuda::stream() (its scratch is ordered on "
                         "it), got another stream");
  if (device_info().compute_capability < 80)
    fail(ErrorCode::Device,
         "cuSPARSELt needs compute capability 8.0 or later; this GPU has " + device_info().compute_capability_name());
  if (rows == 0 || n == 0) return;
  // Zero padding to multiples of 32 keeps A 2:4 (its new groups are all zero)
  // and adds nothing to the product; 32 meets cuSPARSELt's size rules for
  // 16-bit operands. The padded rows and columns of D are not read back.
  const std::int64_t M = round_up_32(rows), K = round_up_32(cols), N = round_up_32(n);
  const auto halves = [](std::int64_t count) { return static_cast<std::size_t>(count) * sizeof(std::uint16_t); };
  BufferPtr a16 = Buffer::allocate(Device::Cuda, halves(M * K));
  BufferPtr b16 = Buffer::allocate(Device::Cuda, halves(K * N));
  BufferPtr d16 = Buffer::allocate(Device::Cuda, halves(M * N));
  {
    BufferPtr dense = Buffer::allocate(Device::Cuda, static_cast<std::size_t>(rows * cols) * sizeof(float));
    sparse24_to_dense(dense->as<float>(), values, meta, rows, cols, s);
    to_bf16_padded(a16->as<std::uint16_t>(), M, K, dense->as<float>(), rows, cols, cols, s);
  }
  to_bf16_padded(b16->as<std::uint16_t>(), K, N, b, cols, n, n, s);
  // D starts as zeros: it is also the product's C, which beta = 0 should not
  // read (the documentation does not say), and k = 0 leaves it as the empty sum.
  DS_CUDA_CHECK(cudaMemsetAsync(d16->data(), 0, halves(M * N), native(s)));
  if (K > 0) {
    SparseLt24 product(HalfType::BF16, M, N, K, a16->data(), b16->data(), d16->data(), s, SparseLt24::Prune::None);
    product.run();
  }
  bf16_to_f32_axpby(c, n, d16->as<std::uint16_t>(), N, rows, n, alpha, beta, s);
}
#else
struct SparseLt24::State {};
SparseLt24::SparseLt24(HalfType, std::int64_t, std::int64_t, std::int64_t, const void*, const void*, void*, Stream,
                       Prune) {
  not_compiled("cuSPARSELt", "cusparseLt.h");
}
SparseLt24::~SparseLt24() = default;
void SparseLt24::run() { not_compiled("cuSPARSELt", "cusparseLt.h"); }
void spmm_24_sparselt(float*, const float*, const std::int32_t*, std::int64_t, std::int64_t, const float*,
                      std::int64_t, float, float, Stream) {
  not_compiled("cuSPARSELt", "cusparseLt.h");
}
#endif

}  // namespace dynasparse::cuda::baseline
