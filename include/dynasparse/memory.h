// Device memory: reference-counted buffers and exact per-device statistics.
// Every byte a kernel touches comes from Buffer::allocate, so memory() in
// JavaScript is the truth (tests rely on it to prove streaming kernels never
// allocate a dense rows x cols buffer).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "dynasparse/device.h"

namespace dynasparse {

struct MemoryStats {
  std::int64_t bytes_in_use = 0;
  std::int64_t peak_bytes = 0;
  std::int64_t allocations = 0;  // live allocations
};

MemoryStats memory_stats(Device device) noexcept;
void reset_peak_memory(Device device) noexcept;

// Called by the backends' allocators only.
void record_allocation(Device device, std::size_t bytes) noexcept;
void record_release(Device device, std::size_t bytes) noexcept;

// A block of device memory. Freed when the last shared_ptr to it goes away.
// Allocation failure throws E_OOM naming the requested size.
class Buffer {
 public:
  static std::shared_ptr<Buffer> allocate(Device device, std::size_t bytes);

  ~Buffer();
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;

  void* data() const noexcept { return data_; }
  template <typename T>
  T* as() const noexcept { return static_cast<T*>(data_); }
  std::size_t bytes() const noexcept { return bytes_; }
  Device device() const noexcept { return device_; }

 private:
  Buffer(Device device, void* data, std::size_t bytes) : device_(device), data_(data), bytes_(bytes) {}
  Device device_;
  void* data_;
  std::size_t bytes_;
};

using BufferPtr = std::shared_ptr<Buffer>;

// Scratch memory for one operation, counted like any other allocation.
template <typename T>
class Scratch {
 public:
  Scratch(Device device, std::size_t count) : buffer_(Buffer::allocate(device, count * sizeof(T))) {}
  T* data() const noexcept { return buffer_->as<T>(); }

 private:
  BufferPtr buffer_;
};

// Copies between any two devices; CUDA copies are enqueued on the device's
// stream, and a copy to the host synchronizes before it returns.
void copy_bytes(void* dst, Device dst_device, const void* src, Device src_device, std::size_t bytes);

// Waits for all work enqueued on the device.
void synchronize(Device device);

}  // namespace dynasparse
