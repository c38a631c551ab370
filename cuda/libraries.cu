// Loads cuBLAS, cuSPARSE and cuSPARSELt with dlopen and resolves the functions
// (a loader for cuda/baseline.cu, not a kernel family: no cpu/ twin)
// the baselines use (cuda/libraries.cuh), so nothing links against them and
// the addon loads where they are missing. Each library is looked for first in
// the folder beside the headers CMake compiled against (generated
// dynasparse_library_dirs.h: same version as the headers), then by its soname
// through the loader's search path (LD_LIBRARY_PATH, ld.so.cache).
#include <dlfcn.h>

#include <initializer_list>
#include <string>
#include <type_traits>
#include <vector>

#include "dynasparse/cuda_baseline.h"
#include "dynasparse/error.h"
#include "dynasparse_library_dirs.h"
#include "libraries.cuh"

namespace dynasparse::cuda::baseline {
namespace {

// The shared-object name of a library whose headers declare major version
// `major` (cuBLAS 12 -> libcublas.so.12; cuSPARSE of CUDA 13.0 is 12.x; cuSPARSELt 0.x -> .so.0).
[[maybe_unused]] std::string soname(const char* stem, int major) {
  return std::string("lib") + stem + ".so." + std::to_string(major);
}

// dlopen `name` from `dir` first (when given), then through the loader's path.
// Returns the handle (never closed: the functions stay in use until exit).
[[maybe_unused]] void* open_library(const char* dir, const std::string& name, LibraryStatus& status) {
  std::vector<std::string> candidates;
  if (dir != nullptr && dir[0] != '\0') candidates.push_back(std::string(dir) + "/" + name);
  candidates.push_back(name);
  std::string errors;
  for (const std::string& candidate : candidates) {
    if (void* handle = dlopen(candidate.c_str(), RTLD_NOW | RTLD_LOCAL)) {
      status.path = candidate;
      return handle;
    }
    const char* error = dlerror();
    errors += (errors.empty() ? "" : "; ") + std::string(error != nullptr ? error : candidate + ": not found");
  }
  status.reason = "cannot load " + name + " (" + errors + ")";
  return nullptr;
}

// Loads, from `dir`, the libraries a baseline library needs (cuBLAS needs
// cuBLASLt, cuSPARSE nvJitLink) before the library itself. Opening a library
// by path does not make the loader look beside it for its dependencies, so
// without this the loader's path decides, and an older toolkit's copy there
// fails the load ("undefined symbol ... version libnvJitLink.so.12"). The
// loader then reuses what is loaded under the soname it needs. A dependency
// not found here is left to the loader, as before; the handles stay open.
[[maybe_unused]] void preload_dependencies(const char* dir, std::initializer_list<const char*> relative_paths) {
  if (dir == nullptr || dir[0] == '\0') return;
  for (const char* path : relative_paths) dlopen((std::string(dir) + "/" + path).c_str(), RTLD_NOW | RTLD_LOCAL);
  dlerror();  // a dependency not found there is no error of ours
}

// Resolves one function into `slot`; records the first missing one.
template <typename Fn>
void resolve(void* handle, const char* name, Fn& slot, LibraryStatus& status) {
  slot = reinterpret_cast<Fn>(dlsym(handle, name));
  if (slot == nullptr && status.reason.empty()) status.reason = status.path + " has no function " + name;
}

#define DS_RESOLVE(name) resolve(handle, #name, api.name, status);

#if defined(DYNASPARSE_HAVE_CUBLAS_HEADERS)
// The overload of cublasGemmEx that CublasGemmExFn names must exist in the
// header found (decltype: checked without referencing the symbol, which is not linked).
static_assert(std::is_same_v<decltype(static_cast<CublasGemmExFn>(&::cublasGemmEx)), CublasGemmExFn>);

CublasApi load_cublas(LibraryStatus& status) {
  CublasApi api;
#if !defined(DYNASPARSE_CUBLAS_LIBDIR)
#define DYNASPARSE_CUBLAS_LIBDIR ""
#endif
  const std::string cublas_lt = soname("cublasLt", CUBLAS_VER_MAJOR);
  preload_dependencies(DYNASPARSE_CUBLAS_LIBDIR, {cublas_lt.c_str()});
  if (void* handle = open_library(DYNASPARSE_CUBLAS_LIBDIR, soname("cublas", CUBLAS_VER_MAJOR), status)) {
    DS_CUBLAS_FUNCTIONS(DS_RESOLVE)
    DS_RESOLVE(cublasGemmEx)
    status.loaded = status.reason.empty();
  }
  return api;
}
#endif

#if defined(DYNASPARSE_HAVE_CUSPARSE_HEADERS)
CusparseApi load_cusparse(LibraryStatus& status) {
  CusparseApi api;
#if !defined(DYNASPARSE_CUSPARSE_LIBDIR)
#define DYNASPARSE_CUSPARSE_LIBDIR ""
#endif
  // nvJitLink's major is the toolkit's, not cuSPARSE's (CUDA 13.0 ships
  // cuSPARSE 12 with nvJitLink 13): both are tried, beside cuSPARSE (toolkit,
  // nvidia/cu13) and in the CUDA 12 wheels' own nvidia/nvjitlink folder.
  preload_dependencies(DYNASPARSE_CUSPARSE_LIBDIR,
                       {"libnvJitLink.so.13", "libnvJitLink.so.12", "../../nvjitlink/lib/libnvJitLink.so.12"});
  if (void* handle = open_library(DYNASPARSE_CUSPARSE_LIBDIR, soname("cusparse", CUSPARSE_VER_MAJOR), status)) {
    DS_CUSPARSE_FUNCTIONS(DS_RESOLVE)
    status.loaded = status.reason.empty();
  }
  return api;
}
#endif

#if defined(DYNASPARSE_HAVE_CUSPARSELT_HEADERS)
CusparseLtApi load_cusparselt(LibraryStatus& status) {
  CusparseLtApi api;
#if !defined(DYNASPARSE_CUSPARSELT_LIBDIR)
#define DYNASPARSE_CUSPARSELT_LIBDIR ""
#endif
  if (void* handle = open_library(DYNASPARSE_CUSPARSELT_LIBDIR, soname("cusparseLt", CUSPARSELT_VER_MAJOR), status)) {
    DS_CUSPARSELT_FUNCTIONS(DS_RESOLVE)
    DS_CUSPARSELT_FUNCTIONS_FROM_0_8(DS_RESOLVE)
    status.loaded = status.reason.empty();
  }
  // Every 0.x release is libcusparseLt.so.0, but the ABI is not stable across
  // them: the opaque structures (fixed-size arrays we allocate) and the compute
  // type values change. A library of another minor version than the header's
  // could write past our structures, so it is refused.
  if (status.loaded) {
    int major = -1, minor = -1;
    api.cusparseLtGetProperty(MAJOR_VERSION, &major);
    api.cusparseLtGetProperty(MINOR_VERSION, &minor);
    if (major != CUSPARSELT_VER_MAJOR || minor != CUSPARSELT_VER_MINOR) {
      status.loaded = false;
      status.reason = status.path + " is cuSPARSELt " + std::to_string(major) + "." + std::to_string(minor) +
                      ", but this build was compiled against the headers of " + std::to_string(CUSPARSELT_VER_MAJOR) +
                      "." + std::to_string(CUSPARSELT_VER_MINOR) + " (their structures differ between versions)";
    }
  }
  return api;
}
#endif

#undef DS_RESOLVE

// Everything loaded once, on first use (function-local static: thread-safe).
struct Loaded {
  Libraries status;
#if defined(DYNASPARSE_HAVE_CUBLAS_HEADERS)
  CublasApi cublas;
#endif
#if defined(DYNASPARSE_HAVE_CUSPARSE_HEADERS)
  CusparseApi cusparse;
#endif
#if defined(DYNASPARSE_HAVE_CUSPARSELT_HEADERS)
  CusparseLtApi cusparselt;
#endif

  Loaded() {
    [[maybe_unused]] const char* const missing = " was not found when this build was configured, so its baseline is not compiled";
#if defined(DYNASPARSE_HAVE_CUBLAS_HEADERS)
    status.cublas.compiled = true;
    cublas = load_cublas(status.cublas);
#else
    status.cublas.reason = std::string("cublas_v2.h") + missing;
#endif
#if defined(DYNASPARSE_HAVE_CUSPARSE_HEADERS)
    status.cusparse.compiled = true;
    cusparse = load_cusparse(status.cusparse);
#else
    status.cusparse.reason = std::string("cusparse.h") + missing;
#endif
#if defined(DYNASPARSE_HAVE_CUSPARSELT_HEADERS)
    status.cusparselt.compiled = true;
    cusparselt = load_cusparselt(status.cusparselt);
#else
    status.cusparselt.reason = std::string("cusparseLt.h") + missing;
#endif
  }
};

const Loaded& loaded() {
  static const Loaded instance;
  return instance;
}

}  // namespace

const Libraries& libraries() { return loaded().status; }

#if defined(DYNASPARSE_HAVE_CUBLAS_HEADERS)
const CublasApi& cublas_api() {
  require_loaded(loaded().status.cublas, "cuBLAS");
  return loaded().cublas;
}
#endif

#if defined(DYNASPARSE_HAVE_CUSPARSE_HEADERS)
const CusparseApi& cusparse_api() {
  require_loaded(loaded().status.cusparse, "cuSPARSE");
  return loaded().cusparse;
}
#endif

#if defined(DYNASPARSE_HAVE_CUSPARSELT_HEADERS)
const CusparseLtApi& cusparselt_api() {
  require_loaded(loaded().status.cusparselt, "cuSPARSELt");
  return loaded().cusparselt;
}
#endif

}  // namespace dynasparse::cuda::baseline
