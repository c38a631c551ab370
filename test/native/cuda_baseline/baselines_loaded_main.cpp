// Loads the NVIDIA library baselines the way the addon does (cuda/libraries.cu:
// dlopen, then every function the baselines call resolved by name) and says
// what it found. Needs no GPU: loading and resolving do not touch the device,
// so a machine without one can check our function tables against the real
// libraries (scripts/check-baselines.sh does, with NVIDIA's pip wheels).
//
// Exit status: 0 when cuBLAS, cuSPARSE and cuSPARSELt were all compiled in and
// all loaded; 1 otherwise (each line says why).
#include <cstdio>

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

int main() {
  const dynasparse::cuda::baseline::Libraries& libs = dynasparse::cuda::baseline::libraries();
  bool ok = report("cuBLAS", libs.cublas);
  ok = report("cuSPARSE", libs.cusparse) && ok;
  ok = report("cuSPARSELt", libs.cusparselt) && ok;
  return ok ? 0 : 1;
}
