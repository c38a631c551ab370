// The dense route's sort for gpu_bench's topk comparison: a full cub radix
// sort of 64-bit keys. In its own file because cub brings libcu++'s
// ::cuda namespace, which gpu_bench.cu's `using namespace dynasparse` would
// make ambiguous with dynasparse::cuda. Baseline only: the library's own
// selection sorts with its own kernels (cuda/select/sort.cuh).
#include "dense_sort.h"

#include <cub/device/device_radix_sort.cuh>

namespace dynasparse_bench {

cudaError_t sort_keys_temp_bytes(std::size_t* bytes, std::int64_t n) {
  return cub::DeviceRadixSort::SortKeys(nullptr, *bytes, static_cast<const unsigned long long*>(nullptr),
                                        static_cast<unsigned long long*>(nullptr), n);
}

cudaError_t sort_keys(void* temp, std::size_t temp_bytes, const unsigned long long* in, unsigned long long* out,
                      std::int64_t n, cudaStream_t stream) {
  return cub::DeviceRadixSort::SortKeys(temp, temp_bytes, in, out, n, 0, 64, stream);
}

}  // namespace dynasparse_bench
