// cub's radix sort of 64-bit keys, for gpu_bench's dense topk route (see dense_sort.cu).
#pragma once

#include <cuda_runtime.h>

#include <cstddef>
#include <cstdint>

namespace dynasparse_bench {

// The temporary bytes sort_keys needs for n keys.
cudaError_t sort_keys_temp_bytes(std::size_t* bytes, std::int64_t n);
// out = in sorted ascending (all 64 bits), enqueued on `stream`.
cudaError_t sort_keys(void* temp, std::size_t temp_bytes, const unsigned long long* in, unsigned long long* out,
                      std::int64_t n, cudaStream_t stream);

}  // namespace dynasparse_bench
