// The host allocator behind CPU buffers: large buffers on their own pages,
// reused by exact size from a bounded cache (see core/host_memory.h).
#include <doctest/doctest.h>

#include <cstdint>
#include <cstring>
#include <vector>

#include "core/host_memory.h"

using namespace dynasparse;

namespace {

bool aligned64(const void* p) { return reinterpret_cast<std::uintptr_t>(p) % 64 == 0; }

}  // namespace

TEST_CASE("small and large host buffers are aligned and writable up to their size") {
  for (std::size_t bytes : {std::size_t{1}, std::size_t{63}, std::size_t{4096}, host::kLargeBuffer - 1, host::kLargeBuffer,
                            host::kLargeBuffer + 1, std::size_t{3} << 20}) {
    CAPTURE(bytes);
    void* p = host::allocate(bytes);
    REQUIRE(p != nullptr);
    CHECK(aligned64(p));
    std::memset(p, 0xab, bytes);
    CHECK(static_cast<unsigned char*>(p)[bytes - 1] == 0xab);
    host::release(p, bytes);
  }
}

#if !defined(__SANITIZE_ADDRESS__)
TEST_CASE("a freed large buffer is reused for the same size, within the cache limit") {
  host::release_cached();
  const std::size_t bytes = 200'000;
  void* first = host::allocate(bytes);
  REQUIRE(first != nullptr);
  host::release(first, bytes);
  CHECK(host::cached_bytes() >= bytes);
  void* again = host::allocate(bytes);
  CHECK(again == first);  // the same pages: no new mapping, no page faults
  CHECK(host::cached_bytes() == 0);
  host::release(again, bytes);

  // Past the limit, freed buffers go back to the system.
  std::vector<void*> many;
  const std::size_t chunk = 8u << 20;
  for (std::size_t total = 0; total <= host::kCacheLimit + chunk; total += chunk) many.push_back(host::allocate(chunk));
  for (void* p : many) host::release(p, chunk);
  CHECK(host::cached_bytes() <= host::kCacheLimit);
  host::release_cached();
  CHECK(host::cached_bytes() == 0);
}
#endif

TEST_CASE("an impossible host allocation returns nullptr and the allocator keeps working") {
  CHECK(host::allocate(std::size_t{1} << 62) == nullptr);
  CHECK(host::allocate(~std::size_t{0}) == nullptr);  // rounding up must not wrap around
  void* p = host::allocate(host::kLargeBuffer);
  CHECK(p != nullptr);
  host::release(p, host::kLargeBuffer);
}
