// The kernel tests on a real GPU. Without a usable device the run reports
// itself skipped (exit 77, CTest's SKIP_RETURN_CODE) rather than passed.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <cstdio>

#include "dynasparse/cuda_runtime.h"

int main(int argc, char** argv) {
  const dynasparse::cuda::DeviceInfo& info = dynasparse::cuda::device_info();
  if (!info.available) {
    std::printf("skipped: %s\n", info.reason.c_str());
    return 77;
  }
  std::printf("running on %s (compute capability %d)\n", info.device_name.c_str(), info.compute_capability);
  doctest::Context context(argc, argv);
  return context.run();
}
