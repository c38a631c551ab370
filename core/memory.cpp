// Buffers and the per-device statistics behind memory().
#include "dynasparse/memory.h"

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>

#include "dynasparse/cuda_runtime.h"
#include "dynasparse/error.h"
#include "host_memory.h"

namespace dynasparse {
namespace {

struct Counters {
  std::atomic<std::int64_t> in_use{0};
  std::atomic<std::int64_t> peak{0};
  std::atomic<std::int64_t> live{0};
};

Counters& counters(Device device) {
  static Counters all[kDeviceCount];
  return all[static_cast<int>(device)];
}

}  // namespace

MemoryStats memory_stats(Device device) noexcept {
  Counters& c = counters(device);
  return MemoryStats{c.in_use.load(), c.peak.load(), c.live.load()};
}

void reset_peak_memory(Device device) noexcept {
  Counters& c = counters(device);
  c.peak.store(c.in_use.load());
}

void record_allocation(Device device, std::size_t bytes) noexcept {
  Counters& c = counters(device);
  const std::int64_t now = c.in_use.fetch_add(static_cast<std::int64_t>(bytes)) + static_cast<std::int64_t>(bytes);
  c.live.fetch_add(1);
  std::int64_t peak = c.peak.load();
  while (now > peak && !c.peak.compare_exchange_weak(peak, now)) {
  }
}

void record_release(Device device, std::size_t bytes) noexcept {
  Counters& c = counters(device);
  c.in_use.fetch_sub(static_cast<std::int64_t>(bytes));
  c.live.fetch_sub(1);
}

BufferPtr Buffer::allocate(Device device, std::size_t bytes) {
  if (device == Device::Cuda) cuda::require_available();
  void* data = nullptr;
  if (bytes > 0) {
    if (device == Device::Cpu) {
      data = host::allocate(bytes);
      if (data == nullptr) fail(ErrorCode::Oom, "cannot allocate " + std::to_string(bytes) + " bytes on cpu");
    } else {
      data = cuda::allocate(bytes);
    }
  }
  record_allocation(device, bytes);
  try {
    return BufferPtr(new Buffer(device, data, bytes));
  } catch (...) {
    record_release(device, bytes);
    if (device == Device::Cpu) host::release(data, bytes); else cuda::release(data);
    throw;
  }
}

Buffer::~Buffer() {
  if (data_ != nullptr) {
    if (device_ == Device::Cpu) host::release(data_, bytes_); else cuda::release(data_);
  }
  record_release(device_, bytes_);
}

void copy_bytes(void* dst, Device dst_device, const void* src, Device src_device, std::size_t bytes) {
  if (bytes == 0) return;
  if (dst_device == Device::Cpu && src_device == Device::Cpu) {
    std::memcpy(dst, src, bytes);
    return;
  }
  cuda::copy(dst, dst_device == Device::Cuda, src, src_device == Device::Cuda, bytes);
}

void synchronize(Device device) {
  if (device == Device::Cuda) cuda::synchronize();
}

}  // namespace dynasparse
