# gpu_bench: the CUDA kernels against cudaMemcpy bandwidth and NVIDIA's
# libraries (cuBLAS, cuSPARSE, cuSPARSELt through cuda/libraries.cu). Built only
# with the CUDA backend; it prints one JSON line per measurement.
if(DYNASPARSE_WITH_CUDA)
  add_executable(gpu_bench ${CMAKE_CURRENT_LIST_DIR}/gpu_bench.cu ${CMAKE_CURRENT_LIST_DIR}/dense_sort.cu)
  target_link_libraries(gpu_bench PRIVATE dynasparse_native CUDA::cudart_static)
  target_include_directories(gpu_bench PRIVATE ${CMAKE_SOURCE_DIR} ${CMAKE_CURRENT_LIST_DIR})
  target_compile_options(gpu_bench PRIVATE
    $<$<COMPILE_LANGUAGE:CUDA>:-Werror=all-warnings --expt-relaxed-constexpr -Xcompiler=-Wall,-Wextra,-Werror,-Wno-unused-parameter>)
  # Kernels other branches are adding: measured once their CUDA declarations
  # (the CPU signature plus a trailing `Stream s`) are in the headers.
  file(READ ${CMAKE_SOURCE_DIR}/include/dynasparse/ops/dense.h dense_h)
  if("${dense_h}" MATCHES "void gemm\\([^;]*Stream s\\)")
    target_compile_definitions(gpu_bench PRIVATE DYNASPARSE_BENCH_CUDA_GEMM=1)
  endif()
  file(READ ${CMAKE_SOURCE_DIR}/include/dynasparse/ops/optim.h optim_h)
  if("${optim_h}" MATCHES "void sgd_step\\([^;]*Stream s\\)" AND "${optim_h}" MATCHES "void adam_step\\([^;]*Stream s\\)")
    target_compile_definitions(gpu_bench PRIVATE DYNASPARSE_BENCH_CUDA_OPTIM=1)
  endif()
endif()
