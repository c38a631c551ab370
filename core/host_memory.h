// Host memory behind CPU buffers.
//
// Why not plain malloc for everything: a training step frees and re-allocates
// the same large buffers (activations, gradients, scratch) every step, while
// the small native wrappers of JavaScript handles are freed only when Node runs
// their finalizers, on a later turn of the event loop. In glibc's heap those
// small objects land in the holes the large buffers left, so the next step's
// buffers no longer fit there and the heap grows: a synchronous training loop
// grew by about 1 MB of resident memory per step with memory() flat. Large
// buffers therefore get their own pages (mmap), which no small object can
// split, and freed ones are kept in a bounded cache by exact size, because a
// training loop asks for the same sizes again at once (no page faults, no
// system calls in the steady state).
#pragma once

#include <cstddef>

namespace dynasparse::host {

// Buffers of at least this many bytes are mapped pages; smaller ones come from
// the C heap.
constexpr std::size_t kLargeBuffer = 64 * 1024;
// At most this many bytes of freed large buffers are kept for reuse.
constexpr std::size_t kCacheLimit = 256u * 1024 * 1024;

// `bytes` (> 0) of memory aligned to at least 64 bytes, or nullptr when the
// system refuses (the cache is returned to the system and the request retried
// first). Thread-safe.
void* allocate(std::size_t bytes) noexcept;

// Frees what allocate(bytes) returned, with the same `bytes`. Thread-safe.
void release(void* data, std::size_t bytes) noexcept;

// Bytes of freed large buffers held for reuse.
std::size_t cached_bytes() noexcept;

// Returns every cached buffer to the system.
void release_cached() noexcept;

}  // namespace dynasparse::host
