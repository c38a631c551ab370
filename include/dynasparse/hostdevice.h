// Marks functions that both backends compile: the CPU backend with the host
// compiler, the CUDA backend with nvcc (and, in CI, the SIMT host emulation).
#pragma once

#if defined(__CUDACC__)
#define DS_HOST_DEVICE __host__ __device__ __forceinline__
#else
#define DS_HOST_DEVICE inline
#endif
