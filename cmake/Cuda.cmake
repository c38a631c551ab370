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

# Directories where NVIDIA's pip wheels keep headers and libraries.
function(dynasparse_nvidia_pip_dirs out_var)
  set(dirs "")
  if(DEFINED ENV{DYNASPARSE_NVIDIA_ROOT})
    list(APPEND dirs $ENV{DYNASPARSE_NVIDIA_ROOT})
  endif()
  find_package(Python3 COMPONENTS Interpreter QUIET)
  if(Python3_Interpreter_FOUND)
    execute_process(COMMAND ${Python3_EXECUTABLE} -c "import site,sys; print(';'.join(site.getsitepackages()+[site.getusersitepackages()]))"
      OUTPUT_VARIABLE sp OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
    foreach(d ${sp})
      foreach(pkg cusparse cusparselt cublas cu13 cu12)
        if(EXISTS ${d}/nvidia/${pkg})
          list(APPEND dirs ${d}/nvidia/${pkg})
        endif()
      endforeach()
      if(EXISTS ${d}/cusparselt)
        list(APPEND dirs ${d}/cusparselt)
      endif()
    endforeach()
  endif()
  set(${out_var} ${dirs} PARENT_SCOPE)
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

  dynasparse_nvidia_pip_dirs(pip_dirs)
  foreach(lib cusparse cusparseLt cublas)
    string(TOUPPER ${lib} LIB)
    find_path(DYNASPARSE_${LIB}_INCLUDE ${lib}.h
      HINTS ${CUDAToolkit_INCLUDE_DIRS} ${pip_dirs} PATH_SUFFIXES include)
    if(DYNASPARSE_${LIB}_INCLUDE)
      message(STATUS "dynasparse: ${lib} headers found in ${DYNASPARSE_${LIB}_INCLUDE}")
      target_include_directories(${target} SYSTEM PRIVATE ${DYNASPARSE_${LIB}_INCLUDE})
      target_compile_definitions(${target} PUBLIC DYNASPARSE_HAVE_${LIB}_HEADERS=1)
    else()
      message(STATUS "dynasparse: ${lib} headers not found; that baseline is not built")
    endif()
  endforeach()
  message(STATUS "dynasparse: CUDA backend built for compute capabilities ${CMAKE_CUDA_ARCHITECTURES}")
endfunction()
