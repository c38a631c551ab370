// Loads the NVIDIA library baselines the way the addon does (cuda/libraries.cu:
// dlopen, then every function the baselines call resolved by name) and says
// what it found. Needs no GPU: loading and resolving do not touch the device,
// so a machine without one can check our function tables against the real
// libraries (scripts/check-baselines.sh does, with NVIDIA's pip wheels).
//
// Usage: dynasparse_baselines_loaded [--require-all]
// Exit status: 0, or with --require-all 1 unless cuBLAS, cuSPARSE and
// cuSPARSELt were all compiled in and all loaded (each line says why not).
// The libraries are optional, so a report (gpu-check's stage) exits 0;
// scripts/check-baselines.sh, which has all three, requires them.
#include <cstdio>
#include <cstring>

#include "dynasparse/cuda_baseline.h"

namespace {

bool report(const char* library, const dynasparse::cuda::baseline::LibraryStatus& status) {
  if (status.loaded) {
    std::printf("%-10s loaded from %s\n", library, status.path.c_str());
  } else {
    std::printf("%-10s NOT %s: %s\n", library, status.compiled ? "loaded" : "compiled", status.reason.c_str());
  }
  return status.loaded;
}

}  // namespace

int main(int argc, char** argv) {
  const bool require_all = argc > 1 && std::strcmp(argv[1], "--require-all") == 0;
  if (argc > 2 || (argc == 2 && !require_all)) {
    std::fprintf(stderr, "usage: %s [--require-all]\n", argv[0]);
    return 2;
  }
  const dynasparse::cuda::baseline::Libraries& libs = dynasparse::cuda::baseline::libraries();
  bool ok = report("cuBLAS", libs.cublas);
  ok = report("cuSPARSE", libs.cusparse) && ok;
  ok = report("cuSPARSELt", libs.cusparselt) && ok;
  return ok || !require_all ? 0 : 1;
}
