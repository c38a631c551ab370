# The CUDA backend is optional. With DYNASPARSE_CUDA=AUTO it is built when
# check_language(CUDA) finds nvcc; ON makes a missing toolkit an error; OFF skips it.
# The CUDA runtime is linked statically, so the addon loads on machines with no
# NVIDIA driver (the backend then reports itself unavailable, with the reason).
# cuSPARSE, cuSPARSELt and cuBLAS are looked for here (headers), including the
# pip-installed nvidia-* packages, and are loaded at run time with dlopen, so a
# machine without them still loads the addon.

set(DYNASPARSE_WITH_CUDA OFF)
if(NOT DYNASPARSE_CUDA STREQUAL "OFF")
  include(CheckLanguage)
  check_language(CUDA)
  if(CMAKE_CUDA_COMPILER)
    if(NOT DEFINED CMAKE_CUDA_ARCHITECTURES OR CMAKE_CUDA_ARCHITECTURES STREQUAL "")
      set(CMAKE_CUDA_ARCHITECTURES "80;90" CACHE STRING "CUDA compute capabilities to build for")
    endif()
    enable_language(CUDA)
    find_package(CUDAToolkit REQUIRED)
    set(DYNASPARSE_WITH_CUDA ON)
  elseif(DYNASPARSE_CUDA STREQUAL "ON")
    message(FATAL_ERROR "DYNASPARSE_CUDA=ON but no CUDA compiler (nvcc) was found")
  endif()
endif()

# Package roots (folders holding include/ and lib/) of NVIDIA's pip wheels, as
# they lay them out under site-packages:
#   CUDA 12 wheels (nvidia-cublas-cu12, nvidia-cusparse-cu12): nvidia/cublas,
#     nvidia/cusparse (libcublas.so.12, libcusparse.so.12);
#   CUDA 13 wheels (nvidia-cublas, nvidia-cusparse, nvidia-nvjitlink ...): one
#     shared root nvidia/cu13 (libcublas.so.13, libcusparse.so.12 — cuSPARSE
#     of CUDA 13.0 is version 12.6 — and libnvJitLink.so.13);
#   nvidia-cusparselt-cu12 >= 0.6.3 and nvidia-cusparselt-cu13: nvidia/cusparselt;
#   nvidia-cusparselt-cu12 0.6.2 and older: a top-level cusparselt folder.
# Looked for in the site-packages of DYNASPARSE_PYTHON, the python3 on PATH and
# the one CMake finds (they differ where PyTorch lives in a venv), and in the
# folders of DYNASPARSE_NVIDIA_ROOT (colon-separated package roots or
# site-packages folders).
function(dynasparse_nvidia_pip_dirs out_var)
  set(site_dirs "")
  set(roots "")
  if(DEFINED ENV{DYNASPARSE_NVIDIA_ROOT})
    string(REPLACE ":" ";" extra "$ENV{DYNASPARSE_NVIDIA_ROOT}")
    foreach(d ${extra})
      list(APPEND roots ${d})
      list(APPEND site_dirs ${d})
    endforeach()
  endif()
  set(pythons "")
  if(DEFINED ENV{DYNASPARSE_PYTHON})
    list(APPEND pythons $ENV{DYNASPARSE_PYTHON})
  endif()
  find_program(DYNASPARSE_PATH_PYTHON3 python3)
  if(DYNASPARSE_PATH_PYTHON3)
    list(APPEND pythons ${DYNASPARSE_PATH_PYTHON3})
  endif()
  find_package(Python3 COMPONENTS Interpreter QUIET)
  if(Python3_Interpreter_FOUND)
    list(APPEND pythons ${Python3_EXECUTABLE})
  endif()
  list(REMOVE_DUPLICATES pythons)
  foreach(py ${pythons})
    execute_process(COMMAND ${py} -c "import site; print(';'.join(site.getsitepackages()+[site.getusersitepackages()]))"
      OUTPUT_VARIABLE sp OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
    list(APPEND site_dirs ${sp})
  endforeach()
  list(REMOVE_DUPLICATES site_dirs)
  # The wheels of the compiler's CUDA major first: find_path takes the first
  # match, and a CUDA 13 cuBLAS (libcublas.so.13) needs a driver that a CUDA 12
  # build may not have.
  set(pkgs nvidia/cu12 nvidia/cusparse nvidia/cublas nvidia/cusparselt nvidia/nvjitlink cusparselt nvidia/cu13)
  if(CMAKE_CUDA_COMPILER_VERSION AND NOT CMAKE_CUDA_COMPILER_VERSION VERSION_LESS 13)
    set(pkgs nvidia/cu13 nvidia/cusparselt nvidia/cu12 nvidia/cusparse nvidia/cublas nvidia/nvjitlink cusparselt)
  endif()
  foreach(d ${site_dirs})
    foreach(pkg ${pkgs})
      if(EXISTS ${d}/${pkg}/include OR EXISTS ${d}/${pkg}/lib)
        list(APPEND roots ${d}/${pkg})
      endif()
    endforeach()
  endforeach()
  list(REMOVE_DUPLICATES roots)
  set(${out_var} ${roots} PARENT_SCOPE)
endfunction()

function(dynasparse_configure_cuda target)
  if(NOT DYNASPARSE_WITH_CUDA)
    message(STATUS "dynasparse: CUDA backend not built")
    return()
  endif()
  file(GLOB cuda_sources CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/cuda/*.cu)
  target_sources(${target} PRIVATE ${cuda_sources})
  target_compile_definitions(${target} PUBLIC DYNASPARSE_WITH_CUDA=1)
  set_target_properties(${target} PROPERTIES CUDA_RUNTIME_LIBRARY Static CUDA_SEPARABLE_COMPILATION OFF)
  # Warnings are errors in device and host code of our .cu files.
  target_compile_options(${target} PRIVATE
    $<$<COMPILE_LANGUAGE:CUDA>:-Werror=all-warnings --expt-relaxed-constexpr -Xcompiler=-Wall,-Wextra,-Werror,-Wno-unused-parameter,-fvisibility=hidden,-ffp-contract=off>)
  target_link_libraries(${target} PUBLIC CUDA::cudart_static)

  # cuSPARSE, cuSPARSELt and cuBLAS: headers at build time only (the baselines
  # in cuda/libraries.cu and cuda/baseline.cu are compiled where they are
  # found); the shared libraries are dlopened at run time, first from the lib
  # folder beside the headers (so header and library versions match), then
  # from the loader's search path.
  # DYNASPARSE_LIBRARY_BASELINES=OFF: look for no library headers, so every
  # baseline is the stub that reports E_DEVICE (scripts/gpu-check.sh builds so
  # when the baselines do not compile against the headers a machine has, which
  # must not keep our kernels' tests from running).
  if(NOT DYNASPARSE_LIBRARY_BASELINES)
    message(STATUS "dynasparse: library baselines (cuSPARSE, cuSPARSELt, cuBLAS) left out: DYNASPARSE_LIBRARY_BASELINES=OFF")
    file(CONFIGURE OUTPUT ${CMAKE_BINARY_DIR}/generated/dynasparse_library_dirs.h
      CONTENT "// Generated by cmake/Cuda.cmake: no library baselines in this build.\n#pragma once\n")
    target_include_directories(${target} PRIVATE ${CMAKE_BINARY_DIR}/generated)
    message(STATUS "dynasparse: CUDA backend built for compute capabilities ${CMAKE_CUDA_ARCHITECTURES}")
    return()
  endif()
  dynasparse_nvidia_pip_dirs(pip_roots)
  set(pip_lib_dirs "")
  foreach(root ${pip_roots})
    if(EXISTS ${root}/lib)
      list(APPEND pip_lib_dirs ${root}/lib)
    endif()
  endforeach()
  set(DYNASPARSE_NVIDIA_PIP_LIB_DIRS ${pip_lib_dirs} CACHE INTERNAL "lib folders of NVIDIA's pip wheels")
  set(libdir_lines "// Generated by cmake/Cuda.cmake: where cuda/libraries.cu looks first.\n#pragma once\n")
  foreach(lib cusparse cusparseLt cublas_v2)
    string(TOUPPER ${lib} LIB)
    string(REPLACE "_V2" "" LIB ${LIB})
    find_path(DYNASPARSE_${LIB}_INCLUDE ${lib}.h
      HINTS ${CUDAToolkit_INCLUDE_DIRS} ${pip_roots} PATH_SUFFIXES include)
    if(DYNASPARSE_${LIB}_INCLUDE)
      # The library folder beside the headers: lib (pip wheels, cuSPARSELt
      # archives), lib64 (toolkit), or the toolkit's library folder.
      set(libdir "")
      get_filename_component(prefix ${DYNASPARSE_${LIB}_INCLUDE} DIRECTORY)
      foreach(candidate ${prefix}/lib ${prefix}/lib64)
        if(NOT libdir AND EXISTS ${candidate})
          set(libdir ${candidate})
        endif()
      endforeach()
      if(NOT libdir OR DYNASPARSE_${LIB}_INCLUDE IN_LIST CUDAToolkit_INCLUDE_DIRS)
        set(libdir ${CUDAToolkit_LIBRARY_DIR})
      endif()
      message(STATUS "dynasparse: ${lib} headers found in ${DYNASPARSE_${LIB}_INCLUDE} (library looked for first in ${libdir})")
      target_include_directories(${target} SYSTEM PRIVATE ${DYNASPARSE_${LIB}_INCLUDE})
      target_compile_definitions(${target} PUBLIC DYNASPARSE_HAVE_${LIB}_HEADERS=1)
      string(APPEND libdir_lines "#define DYNASPARSE_${LIB}_LIBDIR \"${libdir}\"\n")
    else()
      message(STATUS "dynasparse: ${lib}.h not found; the ${LIB} baselines are not built")
    endif()
  endforeach()
  file(CONFIGURE OUTPUT ${CMAKE_BINARY_DIR}/generated/dynasparse_library_dirs.h CONTENT "${libdir_lines}")
  target_include_directories(${target} PRIVATE ${CMAKE_BINARY_DIR}/generated)
  message(STATUS "dynasparse: CUDA backend built for compute capabilities ${CMAKE_CUDA_ARCHITECTURES}")
endfunction()
