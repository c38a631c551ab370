// Device memory for the CUDA kernel tests, with the two implementations the same
// test source needs: cudaMalloc/cudaMemcpy on a GPU, plain host memory under the
// SIMT host emulation (whose kernels run on the CPU and take host pointers).
//
// Each array sits between two guard zones filled with a canary, and its own
// elements start poisoned (all bits set: NaN as a float), so to_host() catches
// writes out of bounds and a comparison with the CPU twin catches elements that
// were never written.
#pragma once

#include <doctest/doctest.h>

#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#if defined(DYNASPARSE_SIMT_EMULATION)
#include <new>
#else
#include <cuda_runtime.h>
#endif

namespace dynasparse::test {

template <typename T>
class DeviceArray {
 public:
  static constexpr std::size_t kGuardBytes = 256;
  static constexpr unsigned char kCanary = 0xA5;

  explicit DeviceArray(std::size_t n) : n_(n) {
    std::vector<unsigned char> init(total_bytes(), kCanary);
    std::memset(init.data() + kGuardBytes, 0xFF, n_ * sizeof(T));
    allocate();
    upload(init.data());
  }
  explicit DeviceArray(const std::vector<T>& values) : n_(values.size()) {
    std::vector<unsigned char> init(total_bytes(), kCanary);
    if (n_ > 0) std::memcpy(init.data() + kGuardBytes, values.data(), n_ * sizeof(T));
    allocate();
    upload(init.data());
  }
  ~DeviceArray() { release(); }
  DeviceArray(const DeviceArray&) = delete;
  DeviceArray& operator=(const DeviceArray&) = delete;

  T* data() { return reinterpret_cast<T*>(base_ + kGuardBytes); }
  std::size_t size() const { return n_; }

  // Waits for the device, copies the elements back and checks both guards.
  std::vector<T> to_host() const {
    std::vector<unsigned char> all(total_bytes());
    download(all.data());
    for (std::size_t i = 0; i < kGuardBytes; ++i) {
      INFO("a kernel wrote " << (kGuardBytes - i) << " bytes before the start of an array of " << n_ << " elements");
      REQUIRE(all[i] == kCanary);
    }
    for (std::size_t i = kGuardBytes + n_ * sizeof(T); i < all.size(); ++i) {
      INFO("a kernel wrote past the end of an array of " << n_ << " elements (byte " << (i - kGuardBytes) << ")");
      REQUIRE(all[i] == kCanary);
    }
    std::vector<T> values(n_);
    if (n_ > 0) std::memcpy(values.data(), all.data() + kGuardBytes, n_ * sizeof(T));
    return values;
  }

 private:
  std::size_t total_bytes() const { return 2 * kGuardBytes + n_ * sizeof(T); }

#if defined(DYNASPARSE_SIMT_EMULATION)
  void allocate() {
    base_ = static_cast<unsigned char*>(::operator new(total_bytes(), std::align_val_t{kGuardBytes}));
  }
  void release() { ::operator delete(base_, std::align_val_t{kGuardBytes}); }
  void upload(const unsigned char* src) { std::memcpy(base_, src, total_bytes()); }
  void download(unsigned char* dst) const { std::memcpy(dst, base_, total_bytes()); }
#else
  static void check(cudaError_t status, const char* what) {
    INFO(what << ": " << cudaGetErrorName(status) << " (" << cudaGetErrorString(status) << ")");
    REQUIRE(status == cudaSuccess);
  }
  void allocate() {
    void* p = nullptr;
    check(cudaMalloc(&p, total_bytes()), "cudaMalloc");
    base_ = static_cast<unsigned char*>(p);
  }
  void release() { cudaFree(base_); }
  void upload(const unsigned char* src) {
    check(cudaMemcpy(base_, src, total_bytes(), cudaMemcpyHostToDevice), "cudaMemcpy to the device");
  }
  void download(unsigned char* dst) const {
    check(cudaDeviceSynchronize(), "a kernel (cudaDeviceSynchronize)");
    check(cudaMemcpy(dst, base_, total_bytes(), cudaMemcpyDeviceToHost), "cudaMemcpy to the host");
  }
#endif

  std::size_t n_;
  unsigned char* base_ = nullptr;
};

}  // namespace dynasparse::test
