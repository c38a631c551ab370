// NVIDIA's libraries as baselines for the benchmarks (and, later, tests):
// cuBLAS SGEMM / GemmEx, cuSPARSE SpMM and SDDMM, cuSPARSELt 2:4 matmul.
//
// The libraries are dlopened at run time (cuda/libraries.cu), never linked, so
// the addon and the tests load on machines without them; each baseline is
// compiled only where CMake found the library's headers
// (DYNASPARSE_HAVE_<LIB>_HEADERS). Calling a baseline whose library is not
// usable throws E_DEVICE naming the library and the reason.
//
// All matrices are row-major and live on the CUDA device; every call is
// enqueued on the stream it is given (nothing synchronizes). Scratch memory
// comes from Buffer::allocate, so memory statistics count it; it is ordered on
// cuda::stream(), so a baseline that takes workspace (Spmm, Sddmm, SparseLt24)
// must be given that stream (E_ARG otherwise).
#pragma once

#if defined(DYNASPARSE_WITH_CUDA)

#include <cstdint>
#include <memory>
#include <string>

#include "dynasparse/device.h"
#include "dynasparse/error.h"

namespace dynasparse::cuda::baseline {

struct LibraryStatus {
  bool compiled = false;  // the headers were found at build time
  bool loaded = false;    // the shared library and every function we use were found now
  std::string path;       // what was loaded (the name dlopen accepted)
  std::string reason;     // why not, when !loaded
};

struct Libraries {
  LibraryStatus cublas;
  LibraryStatus cusparse;
  LibraryStatus cusparselt;
};

// Loads the libraries once (thread-safe) and keeps them loaded.
const Libraries& libraries();

// E_DEVICE naming `library` and why, unless it is loaded: every baseline's
// answer where its library is missing.
inline void require_loaded(const LibraryStatus& status, const char* library) {
  if (!status.loaded) fail(ErrorCode::Device, std::string(library) + " is not available: " + status.reason);
}

// C = alpha * op(A) @ op(B) + beta * C through cublasSgemm, with cpu::gemm's
// conventions (row-major, C is m x n, op(A) m x k, op(B) k x n, leading
// dimensions are row strides). Default math mode: no TF32.
void sgemm(bool transA, bool transB, std::int64_t m, std::int64_t n, std::int64_t k, float alpha, const float* A,
           std::int64_t lda, const float* B, std::int64_t ldb, float beta, float* C, std::int64_t ldc, Stream s);

// 16-bit floating-point element types of the tensor-core comparisons.
enum class HalfType { F16, BF16 };

// C = alpha * A @ B + beta * C through cublasGemmEx: A (m x k), B (k x n) and
// C (m x n) dense, row-major, all of `type`, accumulated in float32. The dense
// tensor-core reference for the 2:4 comparison.
void gemm_half(HalfType type, std::int64_t m, std::int64_t n, std::int64_t k, float alpha, const void* A,
               const void* B, float beta, void* C, Stream s);

// cuSPARSE SpMM algorithms for CSR with row-major dense operands.
enum class SpmmAlg { CsrAlg2, CsrAlg3 };
const char* spmm_alg_name(SpmmAlg alg) noexcept;

// C (rows x n) = alpha * A @ B + beta * C with A a CSR matrix (rows x cols;
// int32 row_ptr / col_idx, float32 values) and B (cols x n) dense. The
// descriptors, workspace and (for ALG3) cusparseSpMM_preprocess are set up once
// by the constructor, so run() times the multiplication alone. The pointers
// must stay valid while the object lives. Whether beta = 0 reads C is not
// documented (cuSPARSE may scale C first): give C defined values.
class Spmm {
 public:
  Spmm(SpmmAlg alg, std::int64_t rows, std::int64_t cols, std::int64_t nnz, const std::int32_t* row_ptr,
       const std::int32_t* col_idx, const float* values, std::int64_t n, const float* B, float* C, Stream s);
  ~Spmm();
  Spmm(const Spmm&) = delete;
  Spmm& operator=(const Spmm&) = delete;
  void run(float alpha = 1.0f, float beta = 0.0f);

  struct State;

 private:
  std::unique_ptr<State> state_;
};

// values[j] = alpha * (A @ op(B))[r, col_idx[j]] + beta * values[j] for every
// stored entry j of row r of a CSR pattern (rows x cols): A is rows x k, op(B)
// k x cols, both dense row-major; with trans_b, B is cols x k (cuSPARSE's
// opB = TRANSPOSE, which its documentation names the fast layout for a
// row-major B: a feature-major activation as it is). cusparseSDDMM
// (CUSPARSE_SDDMM_ALG_DEFAULT), set up once. Whether beta = 0 reads the old
// values is not documented: give them defined values.
class Sddmm {
 public:
  Sddmm(std::int64_t rows, std::int64_t cols, std::int64_t k, const float* A, const float* B, std::int64_t nnz,
        const std::int32_t* row_ptr, const std::int32_t* col_idx, float* values, Stream s, bool trans_b = false);
  ~Sddmm();
  Sddmm(const Sddmm&) = delete;
  Sddmm& operator=(const Sddmm&) = delete;
  void run(float alpha = 1.0f, float beta = 0.0f);

  struct State;

 private:
  std::unique_ptr<State> state_;
};

// D (m x n) = A @ B through cuSPARSELt with A (m x k) 2:4 structured sparse.
// The constructor compresses A_dense into cuSPARSELt's layout; with
// Prune::Strip it first prunes a copy to 2:4 (cusparseLtSpMMAPrune, STRIP: the
// two largest magnitudes of each group of four along k), with Prune::None A_dense
// must already be 2:4 along k. run() is cusparseLtMatmul alone. A, B and D are
// row-major of `type`, accumulated in float32. m, n, k must meet cuSPARSELt's
// size rules (multiples of 32 are always accepted for 16-bit types).
class SparseLt24 {
 public:
  enum class Prune { Strip, None };
  SparseLt24(HalfType type, std::int64_t m, std::int64_t n, std::int64_t k, const void* A_dense, const void* B,
             void* D, Stream s, Prune prune = Prune::Strip);
  ~SparseLt24();
  SparseLt24(const SparseLt24&) = delete;
  SparseLt24& operator=(const SparseLt24&) = delete;
  void run();

  struct State;

 private:
  std::unique_ptr<State> state_;
};

// c [rows, n] = alpha * A @ b + beta * c through cuSPARSELt in bf16, for our 2:4
// storage A [rows, cols] (cpu::sparse24_from_dense's values and metadata, groups
// along cols) and b [cols, n] float32 (leading dimensions n). A and b are
// expanded, rounded to bf16 and padded with zeros to multiples of 32; the
// product accumulates in float32 and is written in bf16 (the output type of
// cuSPARSELt's bf16 product), then scaled into c in float32. beta == 0 does not
// read c. Every call sets up, compresses and frees its plan: a comparison, not
// a fast path. Needs compute capability 8.0 or later; on cuda::stream() only
// (its scratch is ordered there; E_ARG otherwise). c is untouched when the
// library is missing (E_DEVICE) or refuses the call (E_CUDA).
void spmm_24_sparselt(float* c, const float* values, const std::int32_t* meta, std::int64_t rows, std::int64_t cols,
                      const float* b, std::int64_t n, float alpha, float beta, Stream s);

}  // namespace dynasparse::cuda::baseline

#endif  // DYNASPARSE_WITH_CUDA
