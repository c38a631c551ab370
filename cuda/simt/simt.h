// SIMT host emulation: what a CUDA kernel source sees when it is compiled by the
// host C++ compiler (DYNASPARSE_SIMT_EMULATION defined, no __CUDACC__) so that
// the same .cu files run on the CPU in CI, where there is nvcc but no GPU.
//
// A launch runs every block of the grid (in parallel on the CPU's cores, in an
// order shuffled under a seed) and every thread of a block as a fiber on one OS
// thread. A fiber runs until it reaches __syncthreads, a warp shuffle or vote, or
// returns; the scheduler then runs the others, and releases a barrier when every
// thread of the block waits at it, a warp operation when every lane of its mask
// has reached it, exchanging the values between the lanes. Misuse (a barrier that
// only some threads reach, a shuffle from an inactive lane, a dynamic shared read
// before any write, a launch beyond the hardware limits) throws simt::Violation.
//
// __CUDA_ARCH__ is NOT defined here: code that only a real GPU can run (mma,
// cp.async, inline PTX) sits behind `#if defined(__CUDA_ARCH__)` and its portable
// `#else` twin is what the emulation runs (docs/testing-cuda.md).
#pragma once

#if defined(__CUDACC__)
#error "cuda/simt/simt.h is the host emulation; nvcc builds use <cuda_runtime.h>"
#endif

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>
#include <type_traits>

#include "dynasparse/device.h"

// --- qualifiers ---------------------------------------------------------------
#define __global__
#define __device__
#define __host__
#define __forceinline__ inline __attribute__((always_inline))
#define __noinline__ __attribute__((noinline))
#define __constant__
#define __align__(n) __attribute__((aligned(n)))
#define __launch_bounds__(...)
// One instance per block: every thread of a block runs on the same OS thread,
// and one OS thread runs one block at a time. Static shared memory keeps what the
// previous block on that OS thread left in it, as uninitialized memory would.
// `extern __shared__` does not compile here: use DS_DYNAMIC_SHARED (common.cuh).
#define __shared__ static thread_local
// GCC and Clang accept __restrict__ as a keyword already.

// --- vector types and built-in variables -------------------------------------
struct uint3 {
  unsigned int x, y, z;
};
struct dim3 {
  unsigned int x, y, z;
  constexpr dim3(unsigned int vx = 1, unsigned int vy = 1, unsigned int vz = 1) : x(vx), y(vy), z(vz) {}
  constexpr dim3(uint3 v) : x(v.x), y(v.y), z(v.z) {}
  constexpr operator uint3() const { return uint3{x, y, z}; }
};

struct alignas(8) float2 { float x, y; };
struct alignas(16) float4 { float x, y, z, w; };
struct alignas(8) int2 { int x, y; };
struct alignas(16) int4 { int x, y, z, w; };
struct alignas(8) uint2 { unsigned int x, y; };
struct alignas(16) uint4 { unsigned int x, y, z, w; };
struct alignas(16) double2 { double x, y; };
inline float2 make_float2(float x, float y) { return float2{x, y}; }
inline float4 make_float4(float x, float y, float z, float w) { return float4{x, y, z, w}; }
inline int2 make_int2(int x, int y) { return int2{x, y}; }
inline int4 make_int4(int x, int y, int z, int w) { return int4{x, y, z, w}; }
inline uint2 make_uint2(unsigned int x, unsigned int y) { return uint2{x, y}; }
inline uint4 make_uint4(unsigned int x, unsigned int y, unsigned int z, unsigned int w) { return uint4{x, y, z, w}; }
inline double2 make_double2(double x, double y) { return double2{x, y}; }

// Set by the scheduler before it switches to a fiber (blockIdx/blockDim/gridDim
// once per block): per OS thread, since each OS thread runs one block at a time.
// Defined here (inline, constant-initialized) rather than `extern`: an extern
// thread_local is read through a TLS wrapper that tests for a dynamic
// initializer, and GCC 12 with -fsanitize=null miscompiles that sequence (a
// null check reuses the flags of the initializer test after a barrier and
// reports a null threadIdx/blockIdx: found by scripts/sanitize-tests.sh).
inline thread_local uint3 threadIdx{0, 0, 0};
inline thread_local uint3 blockIdx{0, 0, 0};
inline thread_local dim3 blockDim{1, 1, 1};
inline thread_local dim3 gridDim{1, 1, 1};
constexpr int warpSize = 32;

// --- the few runtime types common.cuh needs ----------------------------------
using cudaStream_t = CUstream_st*;
enum cudaError_t : int {
  cudaSuccess = 0,
  cudaErrorInvalidValue = 1,
  cudaErrorMemoryAllocation = 2,
  cudaErrorInvalidConfiguration = 9,
};
inline const char* cudaGetErrorName(cudaError_t e) {
  switch (e) {
    case cudaSuccess: return "cudaSuccess";
    case cudaErrorInvalidValue: return "cudaErrorInvalidValue";
    case cudaErrorMemoryAllocation: return "cudaErrorMemoryAllocation";
    case cudaErrorInvalidConfiguration: return "cudaErrorInvalidConfiguration";
  }
  return "cudaErrorUnknown";
}
inline const char* cudaGetErrorString(cudaError_t e) { return cudaGetErrorName(e); }
inline cudaError_t cudaGetLastError() { return cudaSuccess; }

namespace dynasparse::simt {

// Misuse of the programming model found by the emulation. The message names the
// kernel, the block, the thread(s) and the source line(s) involved.
class Violation : public std::logic_error {
 public:
  explicit Violation(const std::string& message) : std::logic_error(message) {}
};

// How launches run. One process-wide setting (tests change it with ScopedConfig
// between launches, never during one).
struct Config {
  std::uint64_t seed = 1;                    // DYNASPARSE_SIMT_SEED; shuffles block and thread order
  bool shuffle = true;                       // false: blocks and threads start in index order
  bool parallel = true;                      // blocks on the cpu::parallel_for pool; false: one after another
  std::size_t max_shared_bytes = 48 * 1024;  // dynamic shared memory limit of one block (the default without opt-in)
  bool check_shared = true;                  // DYNASPARSE_SIMT_CHECK=0: no uninitialized-read and race checks
  std::size_t stack_bytes = 64 * 1024;       // one fiber's stack (reused between blocks)
};
Config& config();

class ScopedConfig {
 public:
  ScopedConfig() : saved_(config()) {}
  ~ScopedConfig() { config() = saved_; }
  ScopedConfig(const ScopedConfig&) = delete;
  ScopedConfig& operator=(const ScopedConfig&) = delete;
  Config* operator->() { return &config(); }

 private:
  Config saved_;
};

// Runs invoke(ctx) once per thread of every block of the grid. Throws Violation
// (or the first exception a thread threw) after stopping the launch.
void run_grid(const char* kernel_name, dim3 grid, dim3 block, std::size_t shared_bytes, void (*invoke)(void*),
              void* ctx);

namespace detail {

enum class WarpOp : int {
  Sync, Shfl, ShflUp, ShflDown, ShflXor, Ballot, Any, All,
  ReduceAdd, ReduceMinU, ReduceMaxU, ReduceMinS, ReduceMaxS, ReduceAnd, ReduceOr, ReduceXor, MatchAny, MatchAll
};

// Suspends the calling fiber at a warp operation until every lane of `mask` has
// reached one; returns this lane's result (the shuffled value, or the vote).
std::uint64_t warp_op(WarpOp op, unsigned mask, std::uint64_t value, int arg, int width, const char* file, int line);
// Suspends the calling fiber until every thread of the block waits at the same
// __syncthreads; returns the number of threads whose predicate was non-zero.
int block_barrier(int predicate, const char* file, int line);

// Dynamic shared memory of the running block, and its per-byte "written" map.
unsigned char* dynamic_shared_base();
void shared_read(const void* p, std::size_t bytes);
void shared_write(const void* p, std::size_t bytes);
void shared_atomic(const void* p, std::size_t bytes);

template <typename T>
std::uint64_t to_bits(T v) {
  static_assert(std::is_trivially_copyable<T>::value && sizeof(T) <= 8, "warp shuffles move values of at most 8 bytes");
  std::uint64_t bits = 0;
  std::memcpy(&bits, &v, sizeof v);
  return bits;
}
template <typename T>
T from_bits(std::uint64_t bits) {
  T v;
  std::memcpy(&v, &bits, sizeof v);
  return v;
}

}  // namespace detail

template <typename T>
class shared_ptr;

// An element of dynamic shared memory: reads are checked against the written map.
template <typename T>
class shared_ref {
 public:
  explicit shared_ref(T* p) : p_(p) {}
  shared_ref(const shared_ref&) = default;
  operator T() const {
    detail::shared_read(p_, sizeof(T));
    return *p_;
  }
  shared_ref& operator=(const T& v) {
    detail::shared_write(p_, sizeof(T));
    *p_ = v;
    return *this;
  }
  shared_ref& operator=(const shared_ref& other) { return *this = static_cast<T>(other); }
  shared_ref& operator+=(const T& v) { return *this = static_cast<T>(*this) + v; }
  shared_ref& operator-=(const T& v) { return *this = static_cast<T>(*this) - v; }
  shared_ref& operator*=(const T& v) { return *this = static_cast<T>(*this) * v; }
  shared_ref& operator/=(const T& v) { return *this = static_cast<T>(*this) / v; }
  shared_ref& operator|=(const T& v) { return *this = static_cast<T>(*this) | v; }
  shared_ref& operator&=(const T& v) { return *this = static_cast<T>(*this) & v; }
  shared_ref& operator^=(const T& v) { return *this = static_cast<T>(*this) ^ v; }
  shared_ptr<T> operator&() const { return shared_ptr<T>(p_); }

 private:
  T* p_;
};

// A pointer into dynamic shared memory (what DS_DYNAMIC_SHARED declares under the
// emulation): indexing and arithmetic as for T*, element access checked.
template <typename T>
class shared_ptr {
 public:
  explicit shared_ptr(T* p) : p_(p) {}
  shared_ref<T> operator[](std::ptrdiff_t i) const { return shared_ref<T>(p_ + i); }
  shared_ref<T> operator*() const { return shared_ref<T>(p_); }
  shared_ptr operator+(std::ptrdiff_t i) const { return shared_ptr(p_ + i); }
  shared_ptr operator-(std::ptrdiff_t i) const { return shared_ptr(p_ - i); }
  std::ptrdiff_t operator-(const shared_ptr& o) const { return p_ - o.p_; }
  shared_ptr& operator+=(std::ptrdiff_t i) { p_ += i; return *this; }
  shared_ptr& operator-=(std::ptrdiff_t i) { p_ -= i; return *this; }
  shared_ptr& operator++() { ++p_; return *this; }
  shared_ptr& operator--() { --p_; return *this; }
  bool operator==(const shared_ptr& o) const { return p_ == o.p_; }
  bool operator!=(const shared_ptr& o) const { return p_ != o.p_; }
  T* raw() const { return p_; }  // unchecked

 private:
  T* p_;
};

template <typename T>
shared_ptr<T> dynamic_shared() {
  return shared_ptr<T>(reinterpret_cast<T*>(detail::dynamic_shared_base()));
}

}  // namespace dynasparse::simt

// --- synchronization ----------------------------------------------------------
// The default arguments record the call site for the reports (GCC and Clang).
inline void __syncthreads(const char* file = __builtin_FILE(), int line = __builtin_LINE()) {
  ::dynasparse::simt::detail::block_barrier(0, file, line);
}
inline int __syncthreads_count(int predicate, const char* file = __builtin_FILE(), int line = __builtin_LINE()) {
  return ::dynasparse::simt::detail::block_barrier(predicate, file, line);
}
inline int __syncthreads_or(int predicate, const char* file = __builtin_FILE(), int line = __builtin_LINE()) {
  return ::dynasparse::simt::detail::block_barrier(predicate, file, line) > 0;
}
inline int __syncthreads_and(int predicate, const char* file = __builtin_FILE(), int line = __builtin_LINE()) {
  return ::dynasparse::simt::detail::block_barrier(predicate != 0, file, line) ==
         static_cast<int>(blockDim.x * blockDim.y * blockDim.z);
}
inline void __syncwarp(unsigned mask = 0xffffffffu, const char* file = __builtin_FILE(), int line = __builtin_LINE()) {
  ::dynasparse::simt::detail::warp_op(::dynasparse::simt::detail::WarpOp::Sync, mask, 0, 0, warpSize, file, line);
}
inline void __threadfence() { __atomic_thread_fence(__ATOMIC_SEQ_CST); }
inline void __threadfence_block() { __atomic_thread_fence(__ATOMIC_SEQ_CST); }

// --- warp shuffles and votes ----------------------------------------------------
template <typename T>
T __shfl_sync(unsigned mask, T var, int src_lane, int width = warpSize, const char* file = __builtin_FILE(),
              int line = __builtin_LINE()) {
  namespace d = ::dynasparse::simt::detail;
  return d::from_bits<T>(d::warp_op(d::WarpOp::Shfl, mask, d::to_bits(var), src_lane, width, file, line));
}
template <typename T>
T __shfl_up_sync(unsigned mask, T var, unsigned delta, int width = warpSize, const char* file = __builtin_FILE(),
                 int line = __builtin_LINE()) {
  namespace d = ::dynasparse::simt::detail;
  return d::from_bits<T>(
      d::warp_op(d::WarpOp::ShflUp, mask, d::to_bits(var), static_cast<int>(delta), width, file, line));
}
template <typename T>
T __shfl_down_sync(unsigned mask, T var, unsigned delta, int width = warpSize, const char* file = __builtin_FILE(),
                   int line = __builtin_LINE()) {
  namespace d = ::dynasparse::simt::detail;
  return d::from_bits<T>(
      d::warp_op(d::WarpOp::ShflDown, mask, d::to_bits(var), static_cast<int>(delta), width, file, line));
}
template <typename T>
T __shfl_xor_sync(unsigned mask, T var, int lane_mask, int width = warpSize, const char* file = __builtin_FILE(),
                  int line = __builtin_LINE()) {
  namespace d = ::dynasparse::simt::detail;
  return d::from_bits<T>(d::warp_op(d::WarpOp::ShflXor, mask, d::to_bits(var), lane_mask, width, file, line));
}
inline unsigned __ballot_sync(unsigned mask, int predicate, const char* file = __builtin_FILE(),
                              int line = __builtin_LINE()) {
  namespace d = ::dynasparse::simt::detail;
  return static_cast<unsigned>(d::warp_op(d::WarpOp::Ballot, mask, predicate != 0, 0, warpSize, file, line));
}
inline int __any_sync(unsigned mask, int predicate, const char* file = __builtin_FILE(), int line = __builtin_LINE()) {
  namespace d = ::dynasparse::simt::detail;
  return static_cast<int>(d::warp_op(d::WarpOp::Any, mask, predicate != 0, 0, warpSize, file, line));
}
inline int __all_sync(unsigned mask, int predicate, const char* file = __builtin_FILE(), int line = __builtin_LINE()) {
  namespace d = ::dynasparse::simt::detail;
  return static_cast<int>(d::warp_op(d::WarpOp::All, mask, predicate != 0, 0, warpSize, file, line));
}

// Warp reductions and matches (compute capability 8.0 and 7.0).
#define DS_SIMT_WARP_REDUCE(name, T, op)                                                                       \
  inline T name(unsigned mask, T value, const char* file = __builtin_FILE(), int line = __builtin_LINE()) {   \
    namespace d = ::dynasparse::simt::detail;                                                                \
    return static_cast<T>(d::warp_op(d::WarpOp::op, mask, static_cast<std::uint32_t>(value), 0, warpSize, file, \
                                     line));                                                                 \
  }
DS_SIMT_WARP_REDUCE(__reduce_add_sync, unsigned, ReduceAdd)
DS_SIMT_WARP_REDUCE(__reduce_add_sync, int, ReduceAdd)
DS_SIMT_WARP_REDUCE(__reduce_min_sync, unsigned, ReduceMinU)
DS_SIMT_WARP_REDUCE(__reduce_min_sync, int, ReduceMinS)
DS_SIMT_WARP_REDUCE(__reduce_max_sync, unsigned, ReduceMaxU)
DS_SIMT_WARP_REDUCE(__reduce_max_sync, int, ReduceMaxS)
DS_SIMT_WARP_REDUCE(__reduce_and_sync, unsigned, ReduceAnd)
DS_SIMT_WARP_REDUCE(__reduce_or_sync, unsigned, ReduceOr)
DS_SIMT_WARP_REDUCE(__reduce_xor_sync, unsigned, ReduceXor)
#undef DS_SIMT_WARP_REDUCE
template <typename T>
unsigned __match_any_sync(unsigned mask, T value, const char* file = __builtin_FILE(), int line = __builtin_LINE()) {
  namespace d = ::dynasparse::simt::detail;
  return static_cast<unsigned>(d::warp_op(d::WarpOp::MatchAny, mask, d::to_bits(value), 0, warpSize, file, line));
}
template <typename T>
unsigned __match_all_sync(unsigned mask, T value, int* pred, const char* file = __builtin_FILE(),
                          int line = __builtin_LINE()) {
  namespace d = ::dynasparse::simt::detail;
  const unsigned result =
      static_cast<unsigned>(d::warp_op(d::WarpOp::MatchAll, mask, d::to_bits(value), 0, warpSize, file, line));
  *pred = result != 0;
  return result;
}

// --- atomics (real atomics: blocks run on several OS threads) ----------------
namespace dynasparse::simt::detail {
template <typename T>
T atomic_update(T* address, T (*op)(T, T), T value) {
  T old = __atomic_load_n(address, __ATOMIC_RELAXED);
  while (!__atomic_compare_exchange_n(address, &old, op(old, value), true, __ATOMIC_SEQ_CST, __ATOMIC_RELAXED)) {
  }
  return old;
}
template <typename F, typename Bits>
F atomic_update_float(F* address, F (*op)(F, F), F value) {
  static_assert(sizeof(F) == sizeof(Bits), "float and bits differ in size");
  Bits* bits = reinterpret_cast<Bits*>(address);
  Bits old = __atomic_load_n(bits, __ATOMIC_RELAXED);
  for (;;) {
    const F next = op(from_bits<F>(old), value);
    Bits next_bits;
    std::memcpy(&next_bits, &next, sizeof next);
    if (__atomic_compare_exchange_n(bits, &old, next_bits, true, __ATOMIC_SEQ_CST, __ATOMIC_RELAXED))
      return from_bits<F>(old);
  }
}
}  // namespace dynasparse::simt::detail

#define DS_SIMT_INTEGER_ATOMICS(T)                                                                       \
  inline T atomicAdd(T* a, T v) { return __atomic_fetch_add(a, v, __ATOMIC_SEQ_CST); }                  \
  inline T atomicSub(T* a, T v) { return __atomic_fetch_sub(a, v, __ATOMIC_SEQ_CST); }                  \
  inline T atomicExch(T* a, T v) { return __atomic_exchange_n(a, v, __ATOMIC_SEQ_CST); }                \
  inline T atomicAnd(T* a, T v) { return __atomic_fetch_and(a, v, __ATOMIC_SEQ_CST); }                  \
  inline T atomicOr(T* a, T v) { return __atomic_fetch_or(a, v, __ATOMIC_SEQ_CST); }                    \
  inline T atomicXor(T* a, T v) { return __atomic_fetch_xor(a, v, __ATOMIC_SEQ_CST); }                  \
  inline T atomicMax(T* a, T v) {                                                                      \
    return ::dynasparse::simt::detail::atomic_update<T>(a, [](T x, T y) { return x > y ? x : y; }, v); \
  }                                                                                                    \
  inline T atomicMin(T* a, T v) {                                                                      \
    return ::dynasparse::simt::detail::atomic_update<T>(a, [](T x, T y) { return x < y ? x : y; }, v); \
  }                                                                                                    \
  inline T atomicCAS(T* a, T compare, T v) {                                                           \
    __atomic_compare_exchange_n(a, &compare, v, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);            \
    return compare;                                                                                    \
  }
DS_SIMT_INTEGER_ATOMICS(int)
DS_SIMT_INTEGER_ATOMICS(unsigned int)
DS_SIMT_INTEGER_ATOMICS(long long)
DS_SIMT_INTEGER_ATOMICS(unsigned long long)
#undef DS_SIMT_INTEGER_ATOMICS

inline float atomicAdd(float* a, float v) {
  return ::dynasparse::simt::detail::atomic_update_float<float, std::uint32_t>(
      a, [](float x, float y) { return x + y; }, v);
}
inline double atomicAdd(double* a, double v) {
  return ::dynasparse::simt::detail::atomic_update_float<double, std::uint64_t>(
      a, [](double x, double y) { return x + y; }, v);
}
inline float atomicExch(float* a, float v) {
  return ::dynasparse::simt::detail::atomic_update_float<float, std::uint32_t>(
      a, [](float, float y) { return y; }, v);
}
inline unsigned int atomicInc(unsigned int* a, unsigned int limit) {
  return ::dynasparse::simt::detail::atomic_update<unsigned int>(
      a, [](unsigned int x, unsigned int y) { return x >= y ? 0u : x + 1; }, limit);
}
inline unsigned int atomicDec(unsigned int* a, unsigned int limit) {
  return ::dynasparse::simt::detail::atomic_update<unsigned int>(
      a, [](unsigned int x, unsigned int y) { return (x == 0 || x > y) ? y : x - 1; }, limit);
}
// Atomics on dynamic shared memory (DS_DYNAMIC_SHARED): checked (in bounds,
// initialized; atomics do not race with each other), then plain, since every
// thread of a block runs on one OS thread.
template <typename T, typename U>
T atomicAdd(::dynasparse::simt::shared_ptr<T> p, U v) {
  ::dynasparse::simt::detail::shared_atomic(p.raw(), sizeof(T));
  const T old = *p.raw();
  *p.raw() = static_cast<T>(old + static_cast<T>(v));
  return old;
}
template <typename T, typename U>
T atomicMax(::dynasparse::simt::shared_ptr<T> p, U v) {
  ::dynasparse::simt::detail::shared_atomic(p.raw(), sizeof(T));
  const T old = *p.raw();
  if (static_cast<T>(v) > old) *p.raw() = static_cast<T>(v);
  return old;
}
template <typename T, typename U>
T atomicMin(::dynasparse::simt::shared_ptr<T> p, U v) {
  ::dynasparse::simt::detail::shared_atomic(p.raw(), sizeof(T));
  const T old = *p.raw();
  if (static_cast<T>(v) < old) *p.raw() = static_cast<T>(v);
  return old;
}
template <typename T, typename U>
T atomicExch(::dynasparse::simt::shared_ptr<T> p, U v) {
  ::dynasparse::simt::detail::shared_atomic(p.raw(), sizeof(T));
  const T old = *p.raw();
  *p.raw() = static_cast<T>(v);
  return old;
}
template <typename T, typename U>
T atomicCAS(::dynasparse::simt::shared_ptr<T> p, U compare, U v) {
  ::dynasparse::simt::detail::shared_atomic(p.raw(), sizeof(T));
  const T old = *p.raw();
  if (old == static_cast<T>(compare)) *p.raw() = static_cast<T>(v);
  return old;
}

// --- loads and math intrinsics -------------------------------------------------
template <typename T>
T __ldg(const T* p) {
  return *p;
}

inline int __float_as_int(float x) { return ::dynasparse::simt::detail::from_bits<int>(::dynasparse::simt::detail::to_bits(x)); }
inline unsigned int __float_as_uint(float x) { return ::dynasparse::simt::detail::from_bits<unsigned int>(::dynasparse::simt::detail::to_bits(x)); }
inline float __int_as_float(int x) { return ::dynasparse::simt::detail::from_bits<float>(::dynasparse::simt::detail::to_bits(x)); }
inline float __uint_as_float(unsigned int x) { return ::dynasparse::simt::detail::from_bits<float>(::dynasparse::simt::detail::to_bits(x)); }
inline long long __double_as_longlong(double x) { return ::dynasparse::simt::detail::from_bits<long long>(::dynasparse::simt::detail::to_bits(x)); }
inline double __longlong_as_double(long long x) { return ::dynasparse::simt::detail::from_bits<double>(::dynasparse::simt::detail::to_bits(x)); }

// Correctly rounded operations: the host's IEEE arithmetic (built with
// -ffp-contract=off) rounds exactly as these do on the GPU.
inline float __fadd_rn(float a, float b) { return a + b; }
inline float __fsub_rn(float a, float b) { return a - b; }
inline float __fmul_rn(float a, float b) { return a * b; }
inline float __fdiv_rn(float a, float b) { return a / b; }
inline float __frcp_rn(float a) { return 1.0f / a; }
inline float __fsqrt_rn(float a) { return std::sqrt(a); }
inline float __fmaf_rn(float a, float b, float c) { return std::fma(a, b, c); }
inline double __dadd_rn(double a, double b) { return a + b; }
inline double __dsub_rn(double a, double b) { return a - b; }
inline double __dmul_rn(double a, double b) { return a * b; }
inline double __ddiv_rn(double a, double b) { return a / b; }
inline double __dsqrt_rn(double a) { return std::sqrt(a); }
inline double __fma_rn(double a, double b, double c) { return std::fma(a, b, c); }
// Fast approximations: on the GPU these differ from libm in the last bits, so a
// kernel that uses them is compared against its CPU twin with a tolerance.
inline float __expf(float x) { return std::exp(x); }
inline float __logf(float x) { return std::log(x); }
inline float __sinf(float x) { return std::sin(x); }
inline float __cosf(float x) { return std::cos(x); }
inline float __powf(float x, float y) { return std::pow(x, y); }
inline float __fdividef(float a, float b) { return a / b; }
inline float rsqrtf(float x) { return 1.0f / std::sqrt(x); }
inline float __saturatef(float x) { return x < 0.0f ? 0.0f : (x > 1.0f ? 1.0f : (x == x ? x : 0.0f)); }
inline int __float2int_rz(float x) { return static_cast<int>(x); }
inline int __float2int_rn(float x) { return static_cast<int>(std::nearbyint(x)); }
inline float __int2float_rn(int x) { return static_cast<float>(x); }

inline int __popc(unsigned int x) { return __builtin_popcount(x); }
inline int __popcll(unsigned long long x) { return __builtin_popcountll(x); }
inline int __clz(int x) { return x == 0 ? 32 : __builtin_clz(static_cast<unsigned int>(x)); }
inline int __clzll(long long x) { return x == 0 ? 64 : __builtin_clzll(static_cast<unsigned long long>(x)); }
inline int __ffs(int x) { return __builtin_ffs(x); }
inline int __ffsll(long long x) { return __builtin_ffsll(x); }
inline unsigned int __brev(unsigned int x) {
  x = ((x >> 1) & 0x55555555u) | ((x & 0x55555555u) << 1);
  x = ((x >> 2) & 0x33333333u) | ((x & 0x33333333u) << 2);
  x = ((x >> 4) & 0x0F0F0F0Fu) | ((x & 0x0F0F0F0Fu) << 4);
  x = ((x >> 8) & 0x00FF00FFu) | ((x & 0x00FF00FFu) << 8);
  return (x >> 16) | (x << 16);
}
inline unsigned int __umulhi(unsigned int a, unsigned int b) {
  return static_cast<unsigned int>((static_cast<unsigned long long>(a) * b) >> 32);
}
inline int __mulhi(int a, int b) { return static_cast<int>((static_cast<long long>(a) * b) >> 32); }
inline unsigned long long __umul64hi(unsigned long long a, unsigned long long b) {
  const unsigned long long a_lo = a & 0xffffffffull, a_hi = a >> 32, b_lo = b & 0xffffffffull, b_hi = b >> 32;
  const unsigned long long mid1 = a_hi * b_lo, mid2 = a_lo * b_hi, lo = a_lo * b_lo;
  const unsigned long long carry = ((lo >> 32) + (mid1 & 0xffffffffull) + (mid2 & 0xffffffffull)) >> 32;
  return a_hi * b_hi + (mid1 >> 32) + (mid2 >> 32) + carry;
}

// CUDA's device min/max overloads.
inline int min(int a, int b) { return a < b ? a : b; }
inline int max(int a, int b) { return a > b ? a : b; }
inline unsigned int min(unsigned int a, unsigned int b) { return a < b ? a : b; }
inline unsigned int max(unsigned int a, unsigned int b) { return a > b ? a : b; }
inline long long min(long long a, long long b) { return a < b ? a : b; }
inline long long max(long long a, long long b) { return a > b ? a : b; }
inline unsigned long long min(unsigned long long a, unsigned long long b) { return a < b ? a : b; }
inline unsigned long long max(unsigned long long a, unsigned long long b) { return a > b ? a : b; }
inline float min(float a, float b) { return std::fmin(a, b); }
inline float max(float a, float b) { return std::fmax(a, b); }
inline double min(double a, double b) { return std::fmin(a, b); }
inline double max(double a, double b) { return std::fmax(a, b); }
