// The host-side face of the CPU backend that the binding may ask about.
#pragma once

namespace dynasparse::cpu {

// Number of threads the CPU backend computes with, the caller's included
// (DYNASPARSE_NUM_THREADS overrides the hardware concurrency).
int thread_count() noexcept;

}  // namespace dynasparse::cpu
