#include "host_memory.h"

#include <sys/mman.h>

#include <cstdlib>
#include <mutex>
#include <unordered_map>
#include <vector>

namespace dynasparse::host {
namespace {

constexpr std::size_t kAlignment = 64;  // a cache line; enough for any vector load the kernels use
constexpr std::size_t kPage = 4096;

// Under AddressSanitizer every buffer stays on the C heap, so that overflows
// of large buffers are still caught (mapped pages have no redzones).
#if defined(__SANITIZE_ADDRESS__)
constexpr bool kMapLarge = false;
#else
constexpr bool kMapLarge = true;
#endif

bool is_large(std::size_t bytes) { return kMapLarge && bytes >= kLargeBuffer; }
std::size_t page_rounded(std::size_t bytes) { return (bytes + kPage - 1) / kPage * kPage; }

struct Cache {
  std::mutex mutex;
  std::unordered_map<std::size_t, std::vector<void*>> free_by_size;  // page-rounded size -> mappings
  std::size_t bytes = 0;
};

Cache& cache() {
  // Never destroyed: buffers may be released by finalizers during process exit.
  static Cache* c = new Cache();
  return *c;
}

void* take_cached(std::size_t size) {
  Cache& c = cache();
  std::lock_guard<std::mutex> lock(c.mutex);
  auto it = c.free_by_size.find(size);
  if (it == c.free_by_size.end() || it->second.empty()) return nullptr;
  void* data = it->second.back();
  it->second.pop_back();
  c.bytes -= size;
  return data;
}

void* map_pages(std::size_t size) {
  void* data = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  return data == MAP_FAILED ? nullptr : data;
}

}  // namespace

void* allocate(std::size_t bytes) noexcept {
  if (!is_large(bytes)) {
    const std::size_t rounded = (bytes + kAlignment - 1) / kAlignment * kAlignment;
    if (rounded < bytes) return nullptr;
    return std::aligned_alloc(kAlignment, rounded);
  }
  const std::size_t size = page_rounded(bytes);
  if (size < bytes) return nullptr;
  if (void* data = take_cached(size)) return data;
  if (void* data = map_pages(size)) return data;
  release_cached();
  return map_pages(size);
}

void release(void* data, std::size_t bytes) noexcept {
  if (data == nullptr) return;
  if (!is_large(bytes)) {
    std::free(data);
    return;
  }
  const std::size_t size = page_rounded(bytes);
  {
    Cache& c = cache();
    std::lock_guard<std::mutex> lock(c.mutex);
    if (c.bytes + size <= kCacheLimit) {
      try {
        c.free_by_size[size].push_back(data);
        c.bytes += size;
        return;
      } catch (...) {
        // No memory for the bookkeeping: unmap instead.
      }
    }
  }
  munmap(data, size);
}

std::size_t cached_bytes() noexcept {
  Cache& c = cache();
  std::lock_guard<std::mutex> lock(c.mutex);
  return c.bytes;
}

void release_cached() noexcept {
  std::unordered_map<std::size_t, std::vector<void*>> taken;
  {
    Cache& c = cache();
    std::lock_guard<std::mutex> lock(c.mutex);
    taken.swap(c.free_by_size);
    c.bytes = 0;
  }
  for (auto& [size, list] : taken)
    for (void* data : list) munmap(data, size);
}

}  // namespace dynasparse::host
