#include "parallel.h"

#include <algorithm>
#include <atomic>
#include <cctype>
#include <condition_variable>
#include <cstdlib>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace dynasparse::cpu {
namespace {

// The value of s if it is a whole number with optional surrounding blanks
// (strtol saturates a huge one), else 0.
long whole_number(const char* s) {
  while (std::isspace(static_cast<unsigned char>(*s))) ++s;
  if (!std::isdigit(static_cast<unsigned char>(*s))) return 0;
  char* end = nullptr;
  const long n = std::strtol(s, &end, 10);
  while (std::isspace(static_cast<unsigned char>(*end))) ++end;
  return *end == '\0' ? n : 0;
}

int configured_threads() {
  // A whole number >= 1, at most 256 used; anything else is ignored (the
  // TypeScript layer warns about it: lib/device.ts, warnAboutEnvironment).
  if (const char* env = std::getenv("DYNASPARSE_NUM_THREADS")) {
    const long n = whole_number(env);
    if (n >= 1) return static_cast<int>(std::min(n, 256L));
  }
  const unsigned hw = std::thread::hardware_concurrency();
  return hw == 0 ? 1 : static_cast<int>(std::min(hw, 256u));
}

class ThreadPool {
 public:
  explicit ThreadPool(int threads) : threads_(threads) {
    for (int i = 1; i < threads_; ++i) workers_.emplace_back([this] { work(); });
  }

  int threads() const noexcept { return threads_; }

  // Returns false (and does nothing) when the pool is already running a job.
  bool try_run(std::int64_t begin, std::int64_t end, std::int64_t grain,
               const std::function<void(std::int64_t, std::int64_t)>& body) {
    std::unique_lock<std::mutex> owner(owner_, std::try_to_lock);
    if (!owner.owns_lock()) return false;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      body_ = &body;
      next_.store(begin);
      end_ = end;
      grain_ = grain;
      error_ = nullptr;
      busy_workers_ = static_cast<int>(workers_.size());
      ++generation_;
    }
    wake_.notify_all();
    run_chunks();
    std::unique_lock<std::mutex> lock(mutex_);
    done_.wait(lock, [this] { return busy_workers_ == 0; });
    body_ = nullptr;
    if (error_) std::rethrow_exception(error_);
    return true;
  }

 private:
  void work() {
    std::uint64_t seen = 0;
    for (;;) {
      {
        std::unique_lock<std::mutex> lock(mutex_);
        wake_.wait(lock, [&] { return generation_ != seen; });
        seen = generation_;
      }
      run_chunks();
      std::lock_guard<std::mutex> lock(mutex_);
      if (--busy_workers_ == 0) done_.notify_all();
    }
  }

  void run_chunks() {
    for (;;) {
      const std::int64_t lo = next_.fetch_add(grain_);
      if (lo >= end_) return;
      const std::int64_t hi = std::min(end_, lo + grain_);
      try {
        (*body_)(lo, hi);
      } catch (...) {
        std::lock_guard<std::mutex> lock(mutex_);
        if (!error_) error_ = std::current_exception();
        next_.store(end_);
      }
    }
  }

  const int threads_;
  std::vector<std::thread> workers_;
  std::mutex owner_;  // one job at a time
  std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable done_;
  std::uint64_t generation_ = 0;
  int busy_workers_ = 0;
  const std::function<void(std::int64_t, std::int64_t)>* body_ = nullptr;
  std::atomic<std::int64_t> next_{0};
  std::int64_t end_ = 0;
  std::int64_t grain_ = 1;
  std::exception_ptr error_;
};

// Deliberately never destroyed: its threads wait on a condition variable for
// the life of the process, and joining them during static destruction (after
// Node's worker threads or the CUDA runtime are gone) gains nothing.
ThreadPool& pool() {
  static ThreadPool* instance = new ThreadPool(configured_threads());
  return *instance;
}

thread_local bool in_parallel_region = false;

}  // namespace

int thread_count() noexcept { return pool().threads(); }

void parallel_for(std::int64_t begin, std::int64_t end, std::int64_t grain,
                  const std::function<void(std::int64_t, std::int64_t)>& body) {
  if (end <= begin) return;
  grain = std::max<std::int64_t>(1, grain);
  ThreadPool& p = pool();
  if (end - begin <= grain || p.threads() == 1 || in_parallel_region) {
    body(begin, end);
    return;
  }
  // Chunks about 4 per thread balance uneven rows without too much contention.
  const std::int64_t balanced = (end - begin + 4 * p.threads() - 1) / (4 * p.threads());
  const std::int64_t chunk = std::max(grain, balanced);
  in_parallel_region = true;
  struct Reset {
    ~Reset() { in_parallel_region = false; }
  } reset;
  const std::function<void(std::int64_t, std::int64_t)> marked = [&](std::int64_t lo, std::int64_t hi) {
    const bool was = in_parallel_region;
    in_parallel_region = true;
    body(lo, hi);
    in_parallel_region = was;
  };
  if (!p.try_run(begin, end, chunk, marked)) body(begin, end);
}

}  // namespace dynasparse::cpu
