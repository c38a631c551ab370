// The function tables of the dlopened NVIDIA libraries (cuda/libraries.cu
// fills them; cuda/baseline.cu calls through them). Each member has the type of
// the function as the found header declares it (decltype), so a call through
// the table is checked exactly like a direct call. A table exists only where
// CMake found its library's headers (DYNASPARSE_HAVE_<LIB>_HEADERS).
#pragma once

#include <cuda_runtime.h>

#if defined(DYNASPARSE_HAVE_CUBLAS_HEADERS)
#include <cublas_v2.h>
#endif
#if defined(DYNASPARSE_HAVE_CUSPARSE_HEADERS) || defined(DYNASPARSE_HAVE_CUSPARSELT_HEADERS)
#include <cusparse.h>
#endif
#if defined(DYNASPARSE_HAVE_CUSPARSELT_HEADERS)
#include <cusparseLt.h>
#endif

namespace dynasparse::cuda::baseline {

#define DS_API_MEMBER(name) decltype(&::name) name = nullptr;

#if defined(DYNASPARSE_HAVE_CUBLAS_HEADERS)
// cublas_v2.h maps cublasCreate etc. to their _v2 symbols; we name those.
#define DS_CUBLAS_FUNCTIONS(X) \
  X(cublasCreate_v2)           \
  X(cublasDestroy_v2)          \
  X(cublasSetStream_v2)        \
  X(cublasSgemm_v2)            \
  X(cublasGetStatusString)
// cublasGemmEx is overloaded in C++: cublas_api.h adds an inline wrapper that
// takes the old cudaDataType compute type, so decltype(&::cublasGemmEx) is
// ambiguous and would not compile. Its member has the exported C function's
// type, spelled out; libraries.cu checks the spelling against the header.
using CublasGemmExFn = cublasStatus_t (*)(cublasHandle_t, cublasOperation_t, cublasOperation_t, int, int, int,
                                          const void*, const void*, cudaDataType, int, const void*, cudaDataType, int,
                                          const void*, void*, cudaDataType, int, cublasComputeType_t, cublasGemmAlgo_t);
struct CublasApi {
  DS_CUBLAS_FUNCTIONS(DS_API_MEMBER)
  CublasGemmExFn cublasGemmEx = nullptr;
};
const CublasApi& cublas_api();  // throws E_DEVICE when the library is not usable
#endif

#if defined(DYNASPARSE_HAVE_CUSPARSE_HEADERS)
#define DS_CUSPARSE_FUNCTIONS(X) \
  X(cusparseCreate)              \
  X(cusparseDestroy)             \
  X(cusparseSetStream)           \
  X(cusparseGetErrorString)      \
  X(cusparseCreateCsr)           \
  X(cusparseCreateDnMat)         \
  X(cusparseDestroySpMat)        \
  X(cusparseDestroyDnMat)        \
  X(cusparseSpMM_bufferSize)     \
  X(cusparseSpMM_preprocess)     \
  X(cusparseSpMM)                \
  X(cusparseSDDMM_bufferSize)    \
  X(cusparseSDDMM_preprocess)    \
  X(cusparseSDDMM)
struct CusparseApi {
  DS_CUSPARSE_FUNCTIONS(DS_API_MEMBER)
};
const CusparseApi& cusparse_api();
#endif

#if defined(DYNASPARSE_HAVE_CUSPARSELT_HEADERS)
#define DS_CUSPARSELT_FUNCTIONS(X)       \
  X(cusparseLtInit)                      \
  X(cusparseLtDestroy)                   \
  X(cusparseLtDenseDescriptorInit)       \
  X(cusparseLtStructuredDescriptorInit)  \
  X(cusparseLtMatDescriptorDestroy)      \
  X(cusparseLtMatmulDescriptorInit)      \
  X(cusparseLtMatmulAlgSelectionInit)    \
  X(cusparseLtMatmulPlanInit)            \
  X(cusparseLtMatmulPlanDestroy)         \
  X(cusparseLtMatmulGetWorkspace)        \
  X(cusparseLtSpMMAPrune)                \
  X(cusparseLtSpMMACompressedSize)       \
  X(cusparseLtSpMMACompress)             \
  X(cusparseLtMatmul)                    \
  X(cusparseLtGetProperty)
// From 0.8 an algorithm selection holds resources and must be destroyed.
#if CUSPARSELT_VERSION >= 800
#define DS_CUSPARSELT_FUNCTIONS_FROM_0_8(X) X(cusparseLtMatmulAlgSelectionDestroy)
#else
#define DS_CUSPARSELT_FUNCTIONS_FROM_0_8(X)
#endif
struct CusparseLtApi {
  DS_CUSPARSELT_FUNCTIONS(DS_API_MEMBER)
  DS_CUSPARSELT_FUNCTIONS_FROM_0_8(DS_API_MEMBER)
};
const CusparseLtApi& cusparselt_api();
#endif

#undef DS_API_MEMBER

}  // namespace dynasparse::cuda::baseline
