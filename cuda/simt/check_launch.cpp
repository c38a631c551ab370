// The two host functions kernel files call, for the emulation build (the GPU
// build has them in cuda/runtime.cu, which the emulation does not compile).
#include <string>

#include "../common.cuh"

namespace dynasparse::cuda {

[[noreturn]] void throw_cuda_error(cudaError_t status, const char* what) {
  fail(ErrorCode::Cuda, std::string(what) + " failed: " + cudaGetErrorName(status));
}

// simt::run_grid has already run the kernel and thrown anything it found.
void check_launch(const char*) {}

}  // namespace dynasparse::cuda
