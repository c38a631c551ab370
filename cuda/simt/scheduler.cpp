// The SIMT emulation's scheduler: blocks of a grid in a seeded shuffled order on
// the cpu::parallel_for pool, the threads of a block as fibers on one OS
// thread, barriers and warp operations resolved when no fiber can run on.
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstring>
#include <cstdlib>
#include <exception>
#include <memory>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "cpu/parallel.h"
#include "simt.h"

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define DS_SIMT_SANITIZED 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define DS_SIMT_SANITIZED 1
#endif
#if defined(DS_SIMT_SANITIZED)
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#endif

namespace dynasparse::simt {

namespace {

std::uint64_t splitmix64(std::uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

Config config_from_environment() {
  Config c;
  if (const char* seed = std::getenv("DYNASPARSE_SIMT_SEED")) c.seed = std::strtoull(seed, nullptr, 10);
  if (const char* check = std::getenv("DYNASPARSE_SIMT_CHECK")) c.check_shared = std::string(check) != "0";
  return c;
}

std::string xyz(uint3 v) {
  return "(" + std::to_string(v.x) + "," + std::to_string(v.y) + "," + std::to_string(v.z) + ")";
}

const char* op_name(detail::WarpOp op) {
  switch (op) {
    case detail::WarpOp::Sync: return "__syncwarp";
    case detail::WarpOp::Shfl: return "__shfl_sync";
    case detail::WarpOp::ShflUp: return "__shfl_up_sync";
    case detail::WarpOp::ShflDown: return "__shfl_down_sync";
    case detail::WarpOp::ShflXor: return "__shfl_xor_sync";
    case detail::WarpOp::Ballot: return "__ballot_sync";
    case detail::WarpOp::Any: return "__any_sync";
    case detail::WarpOp::All: return "__all_sync";
    case detail::WarpOp::ReduceAdd: return "__reduce_add_sync";
    case detail::WarpOp::ReduceMinU:
    case detail::WarpOp::ReduceMinS: return "__reduce_min_sync";
    case detail::WarpOp::ReduceMaxU:
    case detail::WarpOp::ReduceMaxS: return "__reduce_max_sync";
    case detail::WarpOp::ReduceAnd: return "__reduce_and_sync";
    case detail::WarpOp::ReduceOr: return "__reduce_or_sync";
    case detail::WarpOp::ReduceXor: return "__reduce_xor_sync";
    case detail::WarpOp::MatchAny: return "__match_any_sync";
    case detail::WarpOp::MatchAll: return "__match_all_sync";
  }
  return "warp operation";
}

std::string hex(unsigned v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%08x", v);
  return buf;
}

// A fiber stack with an inaccessible guard page below it, so an overflow faults
// instead of corrupting the neighbouring stack.
class Stack {
 public:
  explicit Stack(std::size_t bytes) {
    const std::size_t page = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
    bytes_ = (bytes + page - 1) / page * page + page;
    base_ = mmap(nullptr, bytes_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (base_ == MAP_FAILED) throw std::bad_alloc();
    mprotect(base_, page, PROT_NONE);
    page_ = page;
  }
  ~Stack() { munmap(base_, bytes_); }
  Stack(const Stack&) = delete;
  Stack& operator=(const Stack&) = delete;
  void* top_region() const { return static_cast<char*>(base_) + page_; }  // the usable region's start
  std::size_t usable() const { return bytes_ - page_; }

 private:
  void* base_ = nullptr;
  std::size_t bytes_ = 0;
  std::size_t page_ = 0;
};

// Switching between fibers. On x86-64 a few instructions save the callee-saved
// registers and the floating-point control words and swap stack pointers: no
// system call, unlike swapcontext (which saves the signal mask each time, and is
// ten to a hundred times slower). Elsewhere (or with DYNASPARSE_SIMT_UCONTEXT)
// ucontext is used. Under AddressSanitizer every switch is announced to it, so
// that an exception thrown on a fiber's stack is not mistaken for an overflow.
#if defined(__x86_64__) && !defined(DYNASPARSE_SIMT_UCONTEXT)
#define DS_SIMT_ASM_SWITCH 1
#endif

#if defined(DS_SIMT_ASM_SWITCH)
}  // namespace
}  // namespace dynasparse::simt

// void dynasparse_simt_switch(void** save_sp, void* load_sp): pushes rbp, rbx,
// r12-r15 and MXCSR / the x87 control word, stores rsp in *save_sp, loads rsp
// from load_sp and pops the same from there.
extern "C" void dynasparse_simt_switch(void** save_sp, void* load_sp);
asm(R"(
  .pushsection .text
  .globl dynasparse_simt_switch
  .hidden dynasparse_simt_switch
  .type dynasparse_simt_switch,@function
  .p2align 4
dynasparse_simt_switch:
  pushq %rbp
  pushq %rbx
  pushq %r12
  pushq %r13
  pushq %r14
  pushq %r15
  subq $8, %rsp
  stmxcsr (%rsp)
  fnstcw 4(%rsp)
  movq %rsp, (%rdi)
  movq %rsi, %rsp
  ldmxcsr (%rsp)
  fldcw 4(%rsp)
  addq $8, %rsp
  popq %r15
  popq %r14
  popq %r13
  popq %r12
  popq %rbx
  popq %rbp
  ret
  .size dynasparse_simt_switch, .-dynasparse_simt_switch
  .popsection
)");

namespace dynasparse::simt {
namespace {

struct Context {
  void* sp = nullptr;
  const void* stack_bottom = nullptr;  // for AddressSanitizer
  std::size_t stack_size = 0;
};

// A stack whose first switch "returns" into entry, with rsp aligned as after a call.
void make_context(Context& c, void* stack, std::size_t bytes, void (*entry)()) {
#if defined(DS_SIMT_SANITIZED)
  __asan_unpoison_memory_region(stack, bytes);  // frames a previous fiber left behind
#endif
  auto top = reinterpret_cast<std::uintptr_t>(static_cast<char*>(stack) + bytes) & ~std::uintptr_t{15};
  auto* sp = reinterpret_cast<std::uint64_t*>(top);
  *--sp = 0;                                          // entry's (never used) return address
  *--sp = reinterpret_cast<std::uint64_t>(entry);     // where the first switch returns to
  for (int i = 0; i < 6; ++i) *--sp = 0;              // rbp, rbx, r12-r15
  std::uint32_t mxcsr = 0;
  std::uint16_t fpcw = 0;
  asm volatile("stmxcsr %0" : "=m"(mxcsr));
  asm volatile("fnstcw %0" : "=m"(fpcw));
  *--sp = (static_cast<std::uint64_t>(fpcw) << 32) | mxcsr;
  c.sp = sp;
  c.stack_bottom = stack;
  c.stack_size = bytes;
}

void raw_switch(Context& from, Context& to) { dynasparse_simt_switch(&from.sp, to.sp); }

#else

struct Context {
  ucontext_t uc;
  const void* stack_bottom = nullptr;  // for AddressSanitizer
  std::size_t stack_size = 0;
};

void make_context(Context& c, void* stack, std::size_t bytes, void (*entry)()) {
#if defined(DS_SIMT_SANITIZED)
  __asan_unpoison_memory_region(stack, bytes);  // frames a previous fiber left behind
#endif
  getcontext(&c.uc);
  c.uc.uc_stack.ss_sp = stack;
  c.uc.uc_stack.ss_size = bytes;
  c.uc.uc_link = nullptr;
  makecontext(&c.uc, entry, 0);
  c.stack_bottom = stack;
  c.stack_size = bytes;
}

void raw_switch(Context& from, Context& to) { swapcontext(&from.uc, &to.uc); }

#endif

// Switches from the running context to `to`; returns when something switches
// back. A fiber that has exited passes `exiting` (it is never resumed).
void switch_context(Context& from, Context& to, bool exiting = false) {
#if defined(DS_SIMT_SANITIZED)
  void* fake_stack = nullptr;
  __sanitizer_start_switch_fiber(exiting ? nullptr : &fake_stack, to.stack_bottom, to.stack_size);
  raw_switch(from, to);
  __sanitizer_finish_switch_fiber(fake_stack, nullptr, nullptr);
#else
  static_cast<void>(exiting);
  raw_switch(from, to);
#endif
}

enum class State { Ready, AtBarrier, AtWarp, Exited };

struct Fiber {
  Context context;
  State state = State::Ready;
  uint3 tid{0, 0, 0};
  // What it waits at.
  const char* file = "";
  int line = 0;
  detail::WarpOp op = detail::WarpOp::Sync;
  unsigned mask = 0;
  std::uint64_t value = 0;
  int arg = 0;
  int width = 32;
  std::uint64_t result = 0;
  std::exception_ptr error;
};

struct Launch {
  const char* name;
  dim3 grid, block;
  std::size_t shared_bytes;
  void (*invoke)(void*);
  void* ctx;
  std::uint64_t config_seed;  // reported with violations, to reproduce the order
  std::uint64_t seed;         // this launch's
  bool shuffle;
  bool check_shared;
  std::size_t stack_bytes;
  std::atomic<bool> abort{false};
};

struct alignas(16) SharedChunk {
  unsigned char bytes[16];
};

class BlockRunner;
thread_local BlockRunner* tls_runner = nullptr;

// Runs blocks one at a time on the calling OS thread; its stacks and buffers are
// kept for the next block.
class BlockRunner {
 public:
  void run(const Launch& launch, uint3 block, std::uint64_t order_seed) {
    launch_ = &launch;
    block_ = block;
    blockIdx = block;
    blockDim = launch.block;
    gridDim = launch.grid;
    threads_ = static_cast<int>(launch.block.x * launch.block.y * launch.block.z);
    prepare_fibers(launch.stack_bytes);
    prepare_shared(launch.shared_bytes);
    order_.resize(static_cast<std::size_t>(threads_));
    std::iota(order_.begin(), order_.end(), 0);
    if (launch.shuffle) {
      std::mt19937_64 rng(order_seed);
      std::shuffle(order_.begin(), order_.end(), rng);
    }
    tls_runner = this;
    struct Reset {
      ~Reset() { tls_runner = nullptr; }
    } reset;
    for (;;) {
      for (int i : order_) {
        if (fibers_[i].state != State::Ready) continue;
        resume(i);
        if (fibers_[i].error) std::rethrow_exception(fibers_[i].error);
      }
      if (std::all_of(fibers_.begin(), fibers_.begin() + threads_,
                      [](const Fiber& f) { return f.state == State::Exited; }))
        return;
      if (release_warps()) continue;
      if (release_barrier()) continue;
      report_deadlock();
    }
  }

  Fiber& current() { return fibers_[static_cast<std::size_t>(current_)]; }

  void suspend() { switch_context(current().context, scheduler_); }

  [[noreturn]] void violation(const std::string& what) const {
    throw Violation("simt: kernel " + std::string(launch_->name) + ", block " + xyz(block_) + ": " + what +
                    " [DYNASPARSE_SIMT_SEED=" + std::to_string(launch_->config_seed) + "]");
  }

  std::string thread_name(int linear) const { return "thread " + xyz(fibers_[static_cast<std::size_t>(linear)].tid); }
  std::string current_thread() const { return thread_name(current_); }

  unsigned char* shared_base() { return shared_.empty() ? nullptr : shared_.front().bytes; }

  enum class Access { Read, Write, Atomic };

  // Checks an access to dynamic shared memory: within the launch's shared_bytes,
  // and in checking mode not a read of bytes no thread has written, and no race
  // with another thread's access since the last barrier that orders the two.
  void check_shared(const void* p, std::size_t bytes, Access kind) {
    const std::ptrdiff_t offset = static_cast<const unsigned char*>(p) - shared_base();
    const std::size_t size = launch_->shared_bytes;
    if (shared_base() == nullptr || offset < 0 || static_cast<std::size_t>(offset) + bytes > size) {
      violation(current_thread() + (kind == Access::Read ? " reads" : " writes") +
                " dynamic shared memory at byte offset " + std::to_string(offset) + ", outside the " +
                std::to_string(size) + " bytes the launch requested");
    }
    if (!launch_->check_shared) return;
    const std::string range = "dynamic shared memory bytes [" + std::to_string(offset) + ", " +
                              std::to_string(offset + static_cast<std::ptrdiff_t>(bytes)) + ")";
    const int t = current_;
    const std::uint32_t warp_epoch = warp_epoch_[static_cast<std::size_t>(t / 32)];
    for (std::size_t k = 0; k < bytes; ++k) {
      ByteAccess& a = accesses_[static_cast<std::size_t>(offset) + k];
      if (kind != Access::Write && a.writer < 0)
        violation(current_thread() + " reads " + range + " before any thread of the block wrote them");
      if (kind == Access::Atomic) continue;  // atomics do not race with each other
      if (a.writer >= 0 && !ordered(a.writer, a.write_epoch, a.write_warp_epoch))
        race(range, kind == Access::Read ? " reads what " : " overwrites what ", a.writer, " wrote");
      if (kind == Access::Write && a.reader >= 0 && !ordered(a.reader, a.read_epoch, a.read_warp_epoch))
        race(range, " overwrites what ", a.reader, " read");
      if (kind == Access::Write) {
        a.writer = t;
        a.write_epoch = block_epoch_;
        a.write_warp_epoch = warp_epoch;
      } else if (a.reader < 0 || ordered(a.reader, a.read_epoch, a.read_warp_epoch)) {
        a.reader = t;  // keeps the first of several unordered readers
        a.read_epoch = block_epoch_;
        a.read_warp_epoch = warp_epoch;
      }
    }
  }

 private:
  // A fiber's first frame. It never returns: an exited fiber is not resumed.
  static void entry() {
    BlockRunner& r = *tls_runner;
#if defined(DS_SIMT_SANITIZED)
    // Learn the scheduler's stack (the OS thread's), to announce switches back to it.
    __sanitizer_finish_switch_fiber(nullptr, &r.scheduler_.stack_bottom, &r.scheduler_.stack_size);
#endif
    Fiber& f = r.current();
    try {
      r.launch_->invoke(r.launch_->ctx);
    } catch (...) {
      f.error = std::current_exception();
    }
    f.state = State::Exited;
    switch_context(f.context, r.scheduler_, true);
    std::abort();
  }

  void prepare_fibers(std::size_t stack_bytes) {
    if (stack_bytes != stack_bytes_) {
      stacks_.clear();
      stack_bytes_ = stack_bytes;
    }
    if (fibers_.size() < static_cast<std::size_t>(threads_)) fibers_.resize(static_cast<std::size_t>(threads_));
    while (stacks_.size() < static_cast<std::size_t>(threads_)) stacks_.emplace_back(new Stack(stack_bytes));
    const dim3 b = launch_->block;
    for (int i = 0; i < threads_; ++i) {
      Fiber& f = fibers_[static_cast<std::size_t>(i)];
      f.state = State::Ready;
      f.error = nullptr;
      f.tid = uint3{static_cast<unsigned>(i) % b.x, static_cast<unsigned>(i) / b.x % b.y,
                    static_cast<unsigned>(i) / (b.x * b.y)};
      const Stack& stack = *stacks_[static_cast<std::size_t>(i)];
      make_context(f.context, stack.top_region(), stack.usable(), &BlockRunner::entry);
    }
  }

  // The last write and read of one byte of dynamic shared memory: which thread,
  // after how many barriers of the block and warp operations of its warp.
  struct ByteAccess {
    std::int32_t writer = -1, reader = -1;
    std::uint32_t write_epoch = 0, read_epoch = 0;
    std::uint32_t write_warp_epoch = 0, read_warp_epoch = 0;
  };

  // Whether thread u's access (after `epoch` barriers and `warp_epoch` operations of
  // u's warp) is ordered before the running thread's access now.
  bool ordered(int u, std::uint32_t epoch, std::uint32_t warp_epoch) const {
    if (u == current_ || epoch != block_epoch_) return true;
    return u / 32 == current_ / 32 && warp_epoch != warp_epoch_[static_cast<std::size_t>(u / 32)];
  }

  [[noreturn]] void race(const std::string& range, const char* verb, int other, const char* what) const {
    const bool same_warp = other / 32 == current_ / 32;
    violation("race on " + range + ": " + current_thread() + verb + thread_name(other) + what + " with no " +
              (same_warp ? "__syncthreads or __syncwarp" : "__syncthreads") + " between them");
  }

  void prepare_shared(std::size_t bytes) {
    shared_.resize((bytes + sizeof(SharedChunk) - 1) / sizeof(SharedChunk));
    // Poison (NaN as float, -1 as int) so an unchecked read of unwritten memory
    // shows in the results.
    if (!shared_.empty()) std::memset(shared_.data(), 0xFF, shared_.size() * sizeof(SharedChunk));
    accesses_.assign(launch_->check_shared ? bytes : 0, ByteAccess{});
    block_epoch_ = 0;
    warp_epoch_.assign(static_cast<std::size_t>((threads_ + 31) / 32), 0);
  }

  void resume(int i) {
    current_ = i;
    threadIdx = fibers_[static_cast<std::size_t>(i)].tid;
    switch_context(scheduler_, fibers_[static_cast<std::size_t>(i)].context);
  }

  static bool in_mask(unsigned mask, int lane) { return ((mask >> lane) & 1u) != 0; }

  // Completes every warp operation whose mask lanes have all reached a matching one.
  bool release_warps() {
    bool released = false;
    for (int base = 0; base < threads_; base += 32) {
      const int lanes = std::min(32, threads_ - base);
      for (int lane = 0; lane < lanes; ++lane) {
        const Fiber& f = fibers_[static_cast<std::size_t>(base + lane)];
        if (f.state != State::AtWarp) continue;
        const std::string where = std::string(op_name(f.op)) + " at " + f.file + ":" + std::to_string(f.line);
        if (!in_mask(f.mask, lane))
          violation(thread_name(base + lane) + " calls " + where + " with mask " + hex(f.mask) +
                    ", which does not include its own lane " + std::to_string(lane));
        if (lanes < 32 && (f.mask >> lanes) != 0)
          violation(thread_name(base + lane) + " calls " + where + " with mask " + hex(f.mask) +
                    ", which names lanes that do not exist (this warp has " + std::to_string(lanes) + " threads)");
        bool complete = true;
        for (int j = 0; j < lanes && complete; ++j) {
          if (!in_mask(f.mask, j)) continue;
          const Fiber& g = fibers_[static_cast<std::size_t>(base + j)];
          complete = g.state == State::AtWarp && g.mask == f.mask && g.op == f.op && g.width == f.width;
        }
        if (!complete) continue;
        execute_warp_op(base, f.mask);
        released = true;
      }
    }
    return released;
  }

  void execute_warp_op(int base, unsigned mask) {
    const Fiber& first = fibers_[static_cast<std::size_t>(base + __builtin_ctz(mask))];
    const detail::WarpOp op = first.op;
    std::uint64_t vote = 0;
    bool all = true, any = false;
    for (int j = 0; j < 32; ++j) {
      if (!in_mask(mask, j)) continue;
      const bool p = fibers_[static_cast<std::size_t>(base + j)].value != 0;
      if (p) vote |= 1ull << j;
      all = all && p;
      any = any || p;
    }
    const std::uint64_t reduced = reduce(base, mask, op);
    for (int lane = 0; lane < 32; ++lane) {
      if (!in_mask(mask, lane)) continue;
      Fiber& f = fibers_[static_cast<std::size_t>(base + lane)];
      const int width = f.width;
      const int segment = lane & ~(width - 1);
      int src = lane;
      switch (op) {
        case detail::WarpOp::Sync: f.result = 0; break;
        case detail::WarpOp::Ballot: f.result = vote; break;
        case detail::WarpOp::Any: f.result = any; break;
        case detail::WarpOp::All: f.result = all; break;
        case detail::WarpOp::MatchAny: {
          unsigned same = 0;
          for (int j = 0; j < 32; ++j)
            if (in_mask(mask, j) && fibers_[static_cast<std::size_t>(base + j)].value == f.value) same |= 1u << j;
          f.result = same;
          break;
        }
        default: f.result = reduced; break;  // the reductions and __match_all_sync
        case detail::WarpOp::Shfl: src = segment + (f.arg & (width - 1)); break;
        case detail::WarpOp::ShflUp: src = (lane - segment) >= f.arg ? lane - f.arg : lane; break;
        case detail::WarpOp::ShflDown: src = (lane - segment) + f.arg < width ? lane + f.arg : lane; break;
        case detail::WarpOp::ShflXor: {
          const int x = lane ^ f.arg;
          src = (x >= segment && x < segment + width) ? x : lane;
          break;
        }
      }
      if (op == detail::WarpOp::Shfl || op == detail::WarpOp::ShflUp || op == detail::WarpOp::ShflDown ||
          op == detail::WarpOp::ShflXor) {
        if (!in_mask(mask, src))
          violation(thread_name(base + lane) + " (lane " + std::to_string(lane) + ") reads lane " +
                    std::to_string(src) + " in " + op_name(op) + " at " + f.file + ":" + std::to_string(f.line) +
                    ", but lane " + std::to_string(src) + " is inactive (not in mask " + hex(mask) + ")");
        f.result = fibers_[static_cast<std::size_t>(base + src)].value;
      }
    }
    for (int lane = 0; lane < 32; ++lane)
      if (in_mask(mask, lane)) fibers_[static_cast<std::size_t>(base + lane)].state = State::Ready;
    ++warp_epoch_[static_cast<std::size_t>(base / 32)];
  }

  // The value of a reduction or __match_all_sync over the lanes of `mask`.
  std::uint64_t reduce(int base, unsigned mask, detail::WarpOp op) const {
    bool first = true, all_equal = true;
    std::uint32_t acc = 0;
    std::uint64_t first_value = 0;
    for (int j = 0; j < 32; ++j) {
      if (!in_mask(mask, j)) continue;
      const std::uint64_t value = fibers_[static_cast<std::size_t>(base + j)].value;
      const auto v = static_cast<std::uint32_t>(value);
      const auto sv = static_cast<std::int32_t>(v), sacc = static_cast<std::int32_t>(acc);
      if (first) {
        acc = v;
        first_value = value;
        first = false;
        continue;
      }
      all_equal = all_equal && value == first_value;
      switch (op) {
        case detail::WarpOp::ReduceAdd: acc += v; break;
        case detail::WarpOp::ReduceMinU: acc = std::min(acc, v); break;
        case detail::WarpOp::ReduceMaxU: acc = std::max(acc, v); break;
        case detail::WarpOp::ReduceMinS: acc = static_cast<std::uint32_t>(std::min(sacc, sv)); break;
        case detail::WarpOp::ReduceMaxS: acc = static_cast<std::uint32_t>(std::max(sacc, sv)); break;
        case detail::WarpOp::ReduceAnd: acc &= v; break;
        case detail::WarpOp::ReduceOr: acc |= v; break;
        case detail::WarpOp::ReduceXor: acc ^= v; break;
        default: break;
      }
    }
    if (op == detail::WarpOp::MatchAll) return all_equal ? mask : 0;
    return acc;
  }

  // Releases the barrier when every thread of the block waits at the same one.
  bool release_barrier() {
    for (int i = 0; i < threads_; ++i)
      if (fibers_[static_cast<std::size_t>(i)].state != State::AtBarrier) return false;
    const Fiber& first = fibers_[0];
    int count = 0;
    for (int i = 0; i < threads_; ++i) {
      const Fiber& f = fibers_[static_cast<std::size_t>(i)];
      if (f.line != first.line || std::strcmp(f.file, first.file) != 0)
        violation("__syncthreads is not the same for all threads: " + thread_name(0) + " waits at " + first.file +
                  ":" + std::to_string(first.line) + ", " + thread_name(i) + " at " + f.file + ":" +
                  std::to_string(f.line));
      count += f.value != 0;
    }
    for (int i = 0; i < threads_; ++i) {
      Fiber& f = fibers_[static_cast<std::size_t>(i)];
      f.result = static_cast<std::uint64_t>(count);
      f.state = State::Ready;
    }
    ++block_epoch_;
    return true;
  }

  [[noreturn]] void report_deadlock() {
    int barrier = -1, exited = -1, warp = -1, arrived = 0;
    for (int i = 0; i < threads_; ++i) {
      const State s = fibers_[static_cast<std::size_t>(i)].state;
      if (s == State::AtBarrier) {
        ++arrived;
        if (barrier < 0) barrier = i;
      }
      if (s == State::Exited && exited < 0) exited = i;
      if (s == State::AtWarp && warp < 0) warp = i;
    }
    auto site = [this](int i) {
      const Fiber& f = fibers_[static_cast<std::size_t>(i)];
      return std::string(f.state == State::AtBarrier ? "__syncthreads" : op_name(f.op)) + " at " + f.file + ":" +
             std::to_string(f.line);
    };
    if (barrier >= 0 && exited >= 0)
      violation("divergent __syncthreads: " + thread_name(barrier) + " waits at " + site(barrier) + ", but " +
                thread_name(exited) + " returned without reaching it (" + std::to_string(arrived) + " of " +
                std::to_string(threads_) + " threads arrived)");
    if (barrier >= 0 && warp >= 0)
      violation("deadlock: " + thread_name(barrier) + " waits at " + site(barrier) + " while " + thread_name(warp) +
                " waits at " + site(warp) + ", which cannot complete");
    if (warp < 0) violation("the block cannot make progress");  // unreachable: kept as a guard
    // Only warp operations wait: name a lane of the first one's mask that cannot join.
    const Fiber& f = fibers_[static_cast<std::size_t>(warp)];
    const int base = warp / 32 * 32;
    for (int j = 0; j < 32; ++j) {
      if (!in_mask(f.mask, j)) continue;
      const Fiber& g = fibers_[static_cast<std::size_t>(base + j)];
      if (g.state == State::Exited)
        violation(thread_name(warp) + " waits at " + site(warp) + " with mask " + hex(f.mask) + ", but lane " +
                  std::to_string(j) + " (" + thread_name(base + j) + ") has exited: the operation never completes");
      if (g.state == State::AtWarp && (g.mask != f.mask || g.op != f.op || g.width != f.width))
        violation(thread_name(warp) + " waits at " + site(warp) + " with mask " + hex(f.mask) + ", but lane " +
                  std::to_string(j) + " waits at " + site(base + j) + " with mask " + hex(g.mask));
    }
    violation(thread_name(warp) + " waits at " + site(warp) + ", which can never complete");
  }

  const Launch* launch_ = nullptr;
  uint3 block_{0, 0, 0};
  int threads_ = 0;
  int current_ = 0;
  Context scheduler_;
  std::vector<Fiber> fibers_;
  std::vector<std::unique_ptr<Stack>> stacks_;
  std::size_t stack_bytes_ = 0;
  std::vector<int> order_;
  std::vector<SharedChunk> shared_;
  std::vector<ByteAccess> accesses_;
  std::uint32_t block_epoch_ = 0;         // barriers the block has completed
  std::vector<std::uint32_t> warp_epoch_;  // warp operations each warp has completed
};

BlockRunner& running_block(const char* what) {
  if (tls_runner == nullptr)
    throw Violation(std::string("simt: ") + what + " called outside a kernel launched through launch()");
  return *tls_runner;
}

void validate_launch(const char* name, dim3 grid, dim3 block, std::size_t shared_bytes, const Config& cfg) {
  const std::string kernel = std::string("simt: kernel ") + name + ": ";
  const unsigned long long threads = 1ull * block.x * block.y * block.z;
  if (threads == 0) throw Violation(kernel + "block " + xyz(block) + " has no threads");
  if (threads > 1024)
    throw Violation(kernel + "block " + xyz(block) + " has " + std::to_string(threads) +
                    " threads; a block has at most 1024");
  if (block.x > 1024 || block.y > 1024 || block.z > 64)
    throw Violation(kernel + "block " + xyz(block) + " exceeds the per-dimension limits (1024, 1024, 64)");
  if (grid.x > 2147483647u || grid.y > 65535u || grid.z > 65535u)
    throw Violation(kernel + "grid " + xyz(grid) + " exceeds the limits (2^31-1, 65535, 65535)");
  if (shared_bytes > cfg.max_shared_bytes)
    throw Violation(kernel + "requests " + std::to_string(shared_bytes) + " bytes of dynamic shared memory; the limit is " +
                    std::to_string(cfg.max_shared_bytes));
}

std::atomic<std::uint64_t> launch_counter{0};

}  // namespace

Config& config() {
  static Config c = config_from_environment();
  return c;
}

void run_grid(const char* kernel_name, dim3 grid, dim3 block, std::size_t shared_bytes, void (*invoke)(void*),
              void* ctx) {
  const Config cfg = config();
  validate_launch(kernel_name, grid, block, shared_bytes, cfg);
  if (tls_runner != nullptr) throw Violation(std::string("simt: kernel ") + kernel_name + " launched from a kernel");
  Launch launch;
  launch.name = kernel_name;
  launch.grid = grid;
  launch.block = block;
  launch.shared_bytes = shared_bytes;
  launch.invoke = invoke;
  launch.ctx = ctx;
  launch.config_seed = cfg.seed;
  launch.seed = splitmix64(cfg.seed ^ splitmix64(launch_counter.fetch_add(1)));
  launch.shuffle = cfg.shuffle;
  launch.check_shared = cfg.check_shared;
  launch.stack_bytes = cfg.stack_bytes;

  const std::int64_t blocks = static_cast<std::int64_t>(grid.x) * grid.y * grid.z;
  std::vector<std::int64_t> order(static_cast<std::size_t>(blocks));
  std::iota(order.begin(), order.end(), 0);
  if (cfg.shuffle) {
    std::mt19937_64 rng(launch.seed);
    std::shuffle(order.begin(), order.end(), rng);
  }
  auto run_blocks = [&](std::int64_t lo, std::int64_t hi) {
    static thread_local BlockRunner runner;
    for (std::int64_t k = lo; k < hi && !launch.abort.load(std::memory_order_relaxed); ++k) {
      const std::int64_t b = order[static_cast<std::size_t>(k)];
      const uint3 idx{static_cast<unsigned>(b % grid.x), static_cast<unsigned>(b / grid.x % grid.y),
                      static_cast<unsigned>(b / (static_cast<std::int64_t>(grid.x) * grid.y))};
      try {
        runner.run(launch, idx, splitmix64(launch.seed + static_cast<std::uint64_t>(b)));
      } catch (...) {
        launch.abort = true;
        throw;
      }
    }
  };
  if (cfg.parallel)
    cpu::parallel_for(0, blocks, 1, run_blocks);
  else
    run_blocks(0, blocks);
}

namespace detail {

std::uint64_t warp_op(WarpOp op, unsigned mask, std::uint64_t value, int arg, int width, const char* file, int line) {
  BlockRunner& r = running_block(op_name(op));
  if (width < 1 || width > 32 || (width & (width - 1)) != 0)
    r.violation(r.current_thread() + " calls " + op_name(op) + " at " + file + ":" + std::to_string(line) +
                " with width " + std::to_string(width) + "; it must be a power of two from 1 to 32");
  Fiber& f = r.current();
  f.state = State::AtWarp;
  f.op = op;
  f.mask = mask;
  f.value = value;
  f.arg = arg;
  f.width = width;
  f.file = file;
  f.line = line;
  r.suspend();
  return f.result;
}

int block_barrier(int predicate, const char* file, int line) {
  BlockRunner& r = running_block("__syncthreads");
  Fiber& f = r.current();
  f.state = State::AtBarrier;
  f.value = predicate != 0;
  f.file = file;
  f.line = line;
  r.suspend();
  return static_cast<int>(f.result);
}

unsigned char* dynamic_shared_base() { return running_block("DS_DYNAMIC_SHARED").shared_base(); }

void shared_read(const void* p, std::size_t bytes) {
  running_block("a dynamic shared read").check_shared(p, bytes, BlockRunner::Access::Read);
}

void shared_write(const void* p, std::size_t bytes) {
  running_block("a dynamic shared write").check_shared(p, bytes, BlockRunner::Access::Write);
}

void shared_atomic(const void* p, std::size_t bytes) {
  running_block("a dynamic shared atomic").check_shared(p, bytes, BlockRunner::Access::Atomic);
}

}  // namespace detail

}  // namespace dynasparse::simt
