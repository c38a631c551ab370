// The host-side face of the CUDA backend: availability, the device's stream
// and its allocator. Implemented in cuda/runtime.cu when the backend is built
// and in core/cuda_absent.cpp when it is not, so callers never need #ifdefs.
#pragma once

#include <cstddef>
#include <string>

#include "dynasparse/device.h"

namespace dynasparse::cuda {

struct DeviceInfo {
  bool compiled = false;      // the addon was built with the CUDA backend
  bool available = false;     // a usable device and driver were found at run time
  std::string reason;         // why not, when !available
  std::string device_name;
  int compute_capability = 0; // major * 10 + minor
  std::string compute_capability_name() const {  // "9.0", as messages and backends() spell it
    return std::to_string(compute_capability / 10) + "." + std::to_string(compute_capability % 10);
  }
  std::size_t total_memory = 0;
  bool cusparse = false;      // headers found at build time and the library loads now
  bool cusparselt = false;
  bool cublas = false;
};

// Probes once (thread-safe) and caches the answer.
const DeviceInfo& device_info();

// Throws E_DEVICE with the reason when CUDA cannot be used.
void require_available();

// The stream every dynasparse CUDA operation is ordered on.
Stream stream();

void* allocate(std::size_t bytes);  // stream-ordered; E_OOM on failure
// What allocate() uses: "cudaMallocAsync" (the device's stream-ordered pool),
// or "cudaMalloc" where the device has no memory pools (some virtual GPUs).
const char* allocator_name();
void release(void* ptr) noexcept;
void copy(void* dst, bool dst_on_device, const void* src, bool src_on_device, std::size_t bytes);
void synchronize();

}  // namespace dynasparse::cuda
