# The benchmarks whose baseline is the CBLAS the library was configured with:
# topk_bench (topkGrowth against cblas_sgemm + nth_element) and spmm_bench (CSR
# spmm against cblas_sgemm of the same dense shape). Without a CBLAS the
# generic rule builds them, and they say they cannot run.
if(DYNASPARSE_HAVE_CBLAS)
  foreach(name topk_bench spmm_bench)
    add_executable(${name} ${CMAKE_CURRENT_LIST_DIR}/${name}.cpp)
    target_link_libraries(${name} PRIVATE dynasparse_native)
    target_include_directories(${name} PRIVATE ${CMAKE_SOURCE_DIR})
    target_include_directories(${name} SYSTEM PRIVATE ${DYNASPARSE_CBLAS_INCLUDE})
    target_compile_options(${name} PRIVATE ${DYNASPARSE_CXX_WARNINGS} -ffp-contract=off)
  endforeach()
endif()
