// DS_CUDA(call): the CUDA branch of a dispatch. Without the CUDA backend the
// branch cannot be reached for real (devices are checked first) but still
// reports E_DEVICE rather than compiling a call to a missing function.
#pragma once

#include "dynasparse/cuda_runtime.h"

#if defined(DYNASPARSE_WITH_CUDA)
#define DS_CUDA(...) __VA_ARGS__
#else
#define DS_CUDA(...) ::dynasparse::cuda::require_available()
#endif
