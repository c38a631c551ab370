# spmm_bench: CSR spmm against cblas_sgemm of the same dense shape; needs the
# CBLAS headers the library was configured with (else the generic rule builds
# it, and it says it cannot run).
if(DYNASPARSE_HAVE_CBLAS)
  add_executable(spmm_bench ${CMAKE_CURRENT_LIST_DIR}/spmm_bench.cpp)
  target_link_libraries(spmm_bench PRIVATE dynasparse_native)
  target_include_directories(spmm_bench PRIVATE ${CMAKE_SOURCE_DIR})
  target_include_directories(spmm_bench SYSTEM PRIVATE ${DYNASPARSE_CBLAS_INCLUDE})
  target_compile_options(spmm_bench PRIVATE ${DYNASPARSE_CXX_WARNINGS} -ffp-contract=off)
endif()
