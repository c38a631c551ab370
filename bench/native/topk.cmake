# topk_bench: topkGrowth against cblas_sgemm into a dense buffer + nth_element.
# Its baseline needs the CBLAS headers the library was configured with (without
# a CBLAS the generic rule builds it, and it says it cannot run).
if(DYNASPARSE_HAVE_CBLAS)
  add_executable(topk_bench ${CMAKE_CURRENT_LIST_DIR}/topk_bench.cpp)
  target_link_libraries(topk_bench PRIVATE dynasparse_native)
  target_include_directories(topk_bench PRIVATE ${CMAKE_SOURCE_DIR})
  target_include_directories(topk_bench SYSTEM PRIVATE ${DYNASPARSE_CBLAS_INCLUDE})
  target_compile_options(topk_bench PRIVATE ${DYNASPARSE_CXX_WARNINGS} -ffp-contract=off)
endif()
