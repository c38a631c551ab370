# The SIMT host emulation (cuda/simt/): the kernel files cuda/*.cu compiled by
# the host C++ compiler, so the same sources run on the CPU (docs/testing-cuda.md).
# Two builds use it: the native kernel tests (test/native/cuda), and, with
# DYNASPARSE_CUDA_EMULATION=ON, an addon whose 'cuda' device runs on it, so the
# TypeScript suite's CUDA half runs where there is no GPU (scripts/test-emulated-cuda.js).

# cuda/*.cu files that hold host runtime code (CUDA runtime and library calls),
# not kernels (libraries.cu, baseline.cu: the dlopened NVIDIA libraries): the
# emulation does not compile them.
set(DYNASPARSE_SIMT_HOST_ONLY runtime.cu libraries.cu baseline.cu)

# out_var: the emulation's own sources plus one generated wrapper .cpp per
# kernel file (`#include "<abs path>/x.cu"`, so the host compiler builds the
# very same source as C++ without copying it), written under wrapper_dir.
function(dynasparse_simt_sources out_var wrapper_dir)
  file(GLOB kernel_sources CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/cuda/*.cu)
  set(sources ${CMAKE_SOURCE_DIR}/cuda/simt/scheduler.cpp ${CMAKE_SOURCE_DIR}/cuda/simt/check_launch.cpp)
  foreach(src ${kernel_sources})
    get_filename_component(name ${src} NAME)
    if(name IN_LIST DYNASPARSE_SIMT_HOST_ONLY)
      continue()
    endif()
    set(wrapper ${wrapper_dir}/${name}.cpp)
    file(CONFIGURE OUTPUT ${wrapper} CONTENT "// Generated: ${name} built for the SIMT host emulation.\n#include \"${src}\"\n")
    list(APPEND sources ${wrapper})
  endforeach()
  set(${out_var} ${sources} PARENT_SCOPE)
endfunction()

# DYNASPARSE_CUDA_EMULATION=ON: the addon's CUDA backend is the emulated
# kernels plus an emulated runtime (cuda/simt/runtime.cpp: "device" memory is
# host memory counted as cuda, copies are memcpy, everything is synchronous)
# and no NVIDIA libraries (cuda/simt/baseline.cpp: the baselines say so).
# For testing only: it is slow, and it needs DYNASPARSE_CUDA=OFF (the real and
# the emulated kernels share their names).
function(dynasparse_configure_cuda_emulation target)
  if(DYNASPARSE_WITH_CUDA)
    message(FATAL_ERROR "DYNASPARSE_CUDA_EMULATION=ON needs DYNASPARSE_CUDA=OFF (the emulated kernels replace the real ones)")
  endif()
  if(DYNASPARSE_BUILD_TESTS)
    message(FATAL_ERROR "DYNASPARSE_CUDA_EMULATION=ON builds the addon only: configure the native tests in another build folder")
  endif()
  dynasparse_simt_sources(sources ${CMAKE_BINARY_DIR}/emulated)
  list(APPEND sources ${CMAKE_SOURCE_DIR}/cuda/simt/runtime.cpp ${CMAKE_SOURCE_DIR}/cuda/simt/baseline.cpp)
  target_sources(${target} PRIVATE ${sources})
  # DYNASPARSE_WITH_CUDA everywhere (the binding dispatches to cuda::), the
  # emulation's definition on its own sources only.
  target_compile_definitions(${target} PUBLIC DYNASPARSE_WITH_CUDA=1)
  # DYNASPARSE_SIMT_RUNTIME: kernel memory (scratch, results) is the emulated
  # cuda device's, as on a GPU, not the CPU device's as in the native tests.
  set_source_files_properties(${sources} PROPERTIES COMPILE_DEFINITIONS "DYNASPARSE_SIMT_EMULATION=1;DYNASPARSE_SIMT_RUNTIME=1")
  target_include_directories(${target} PRIVATE ${CMAKE_SOURCE_DIR} ${CMAKE_SOURCE_DIR}/cuda)
  message(STATUS "dynasparse: CUDA backend EMULATED on the CPU (SIMT host emulation; for tests, not speed)")
endfunction()
