// Emulated CUDA device memory is inaccessible to the host except while a kernel
// runs or a copy moves it (cuda/simt/runtime.cpp), so host code that reads or
// writes device memory directly, which crashes or reads garbage on a GPU, stops
// with SIGSEGV and a message under the emulation too. Holding a DeviceAccess
// opens it; the emulated launch (launch.cuh) holds one around the grid.
// Only in an addon built with DYNASPARSE_CUDA_EMULATION (DYNASPARSE_SIMT_RUNTIME).
#pragma once

namespace dynasparse::simt {

// Whether p points into the emulated device's memory (launch.cuh checks that
// kernels get no host pointers).
bool is_device_memory(const void* p) noexcept;

class DeviceAccess {
 public:
  DeviceAccess();
  ~DeviceAccess();
  DeviceAccess(const DeviceAccess&) = delete;
  DeviceAccess& operator=(const DeviceAccess&) = delete;
};

}  // namespace dynasparse::simt
