// The CPU backend's one thread pool. Every threaded kernel goes through
// parallel_for, so the process never runs more compute threads than cores
// (the BLAS is called from the caller's thread while the pool is idle).
#pragma once

#include <cstdint>
#include <functional>

#include "dynasparse/cpu_runtime.h"

namespace dynasparse::cpu {

// Calls body(lo, hi) on disjoint chunks covering [begin, end), each at least
// `grain` long (but the last), on the pool's threads and the caller's. A call
// made while the pool is busy (from a pool thread, or from a second JavaScript
// thread) runs serially on the caller, so nesting cannot deadlock. The first
// exception thrown by a chunk is rethrown to the caller once all chunks stop.
void parallel_for(std::int64_t begin, std::int64_t end, std::int64_t grain,
                  const std::function<void(std::int64_t, std::int64_t)>& body);

}  // namespace dynasparse::cpu
