// The CUDA runtime face (include/dynasparse/cuda_runtime.h) of an addon built
// with DYNASPARSE_CUDA_EMULATION=ON: its 'cuda' device runs the kernel sources
// through the SIMT host emulation, so the whole stack (TypeScript, binding,
// dispatch, kernels) is tested on the CUDA path where there is no GPU
// (cmake/SimtEmulation.cmake, scripts/test-emulated-cuda.js). It replaces
// cuda/runtime.cu, which talks to the real driver.
//
// "Device" memory is host memory, counted as cuda by memory(), made to behave
// like a device's where it matters to the code above it:
//   - the host cannot touch it: it lives in one reserved region that is
//     PROT_NONE except while a kernel runs or a copy moves bytes (DeviceAccess,
//     device_access.h), so a binding that dereferences a device pointer stops
//     with SIGSEGV and a message naming the address, as it would crash on a GPU
//     instead of quietly working here;
//   - it starts poisoned (all bits set: NaN as a float, -1 as an int), since
//     cudaMalloc's contents are undefined, so a result read from memory that no
//     kernel wrote shows up;
//   - it is 256-byte aligned (cudaMallocAsync's), so the kernels take the same
//     vector-load paths as on a GPU;
//   - it is finite (kCapacityBytes), so E_OOM paths are reachable.
// Launches run to completion before they return, so the stream is a token and
// synchronizing does nothing.
#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "dynasparse/cuda_runtime.h"
#include "dynasparse/error.h"
#include "simt/device_access.h"

namespace dynasparse::cuda {
namespace {

constexpr std::size_t kAlignment = 256;
// What the emulated device holds (bytes in use, padded).
constexpr std::size_t kCapacityBytes = std::size_t{4} << 30;
// Address space reserved for it (less where ulimit -v allows less): freed
// blocks are reused by exact size only, so the region grows past what is in
// use; only touched pages cost memory.
constexpr std::size_t kReserveBytes = std::size_t{64} << 30;
// Blocks this large are page-aligned and their pages are returned when freed.
constexpr std::size_t kLargeBytes = 64 * 1024;

std::size_t round_up(std::size_t n, std::size_t to) { return (n + to - 1) / to * to; }

// One reserved region, a bump pointer, free lists by exact padded size. Every
// member is guarded by mutex_.
class Arena {
 public:
  static Arena& get() {
    static Arena* arena = new Arena();  // never destroyed: buffers may be freed during exit
    return *arena;
  }

  void* allocate(std::size_t bytes) {
    const std::size_t size = padded(bytes);
    std::lock_guard<std::mutex> lock(mutex_);
    if (in_use_ + size > kCapacityBytes)
      fail(ErrorCode::Oom, "cannot allocate " + std::to_string(bytes) +
                               " bytes on cuda (device memory exhausted: the emulated device holds " +
                               std::to_string(kCapacityBytes) + " bytes, " + std::to_string(in_use_) + " in use)");
    char* p = nullptr;
    auto free_list = free_.find(size);
    if (free_list != free_.end() && !free_list->second.empty()) {
      p = free_list->second.back();
      free_list->second.pop_back();
    } else {
      std::size_t offset = size >= kLargeBytes ? round_up(bump_, page_) : bump_;
      if (offset + size > reserve_)
        fail(ErrorCode::Oom, "cannot allocate " + std::to_string(bytes) +
                                 " bytes on cuda (the emulated device's address space is exhausted)");
      p = base_ + offset;
      bump_ = offset + size;
      const std::size_t touched = round_up(bump_, page_);
      if (touched > touched_) {
        if (open_ > 0) protect(base_ + touched_, touched - touched_, PROT_READ | PROT_WRITE);
        touched_ = touched;
      }
    }
    live_[p] = size;
    in_use_ += size;
    // Poison: through a window of its own pages when the region is closed.
    if (open_ == 0) protect(page_floor(p), page_span(p, size), PROT_READ | PROT_WRITE);
    std::memset(p, 0xFF, size);
    if (open_ == 0) protect(page_floor(p), page_span(p, size), PROT_NONE);
    return p;
  }

  void release(void* ptr) noexcept {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = live_.find(static_cast<char*>(ptr));
    if (it == live_.end()) return;  // not ours: nothing a caller could do about it here
    const std::size_t size = it->second;
    live_.erase(it);
    in_use_ -= size;
    if (size >= kLargeBytes) madvise(ptr, size, MADV_DONTNEED);
    free_[size].push_back(static_cast<char*>(ptr));
  }

  void open() {
    std::lock_guard<std::mutex> lock(mutex_);
    if (open_++ == 0 && touched_ > 0) protect(base_, touched_, PROT_READ | PROT_WRITE);
  }

  void close() noexcept {
    std::lock_guard<std::mutex> lock(mutex_);
    if (--open_ == 0 && touched_ > 0) protect(base_, touched_, PROT_NONE);
  }

  bool contains(const void* p) const noexcept {
    const auto a = reinterpret_cast<std::uintptr_t>(p), b = reinterpret_cast<std::uintptr_t>(base_);
    return a >= b && a < b + reserve_;
  }

 private:
  Arena() : page_(static_cast<std::size_t>(sysconf(_SC_PAGESIZE))) {
    // Less where the address space is limited (ulimit -v), down to the capacity.
    for (std::size_t bytes = kReserveBytes; bytes >= kCapacityBytes && base_ == nullptr; bytes /= 4) {
      void* region = mmap(nullptr, bytes, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
      if (region != MAP_FAILED) base_ = static_cast<char*>(region), reserve_ = bytes;
    }
    if (base_ == nullptr) fail(ErrorCode::Oom, "the emulated cuda device could not reserve its address space");
    install_fault_message();
  }

  static std::size_t padded(std::size_t bytes) {
    const std::size_t n = bytes == 0 ? 1 : bytes;
    return round_up(n, n >= kLargeBytes ? 4096 : kAlignment);
  }
  char* page_floor(char* p) const { return base_ + (static_cast<std::size_t>(p - base_) / page_) * page_; }
  std::size_t page_span(char* p, std::size_t size) const {
    return round_up(static_cast<std::size_t>(p - base_) + size, page_) - static_cast<std::size_t>(page_floor(p) - base_);
  }
  static void protect(void* p, std::size_t bytes, int prot) noexcept {
    if (mprotect(p, bytes, prot) != 0) {
      static const char msg[] = "dynasparse: mprotect of the emulated cuda device's memory failed\n";
      (void)!write(2, msg, sizeof msg - 1);
      std::abort();
    }
  }
  static void install_fault_message();

  const std::size_t page_;
  char* base_ = nullptr;
  std::size_t reserve_ = 0;
  std::size_t bump_ = 0, touched_ = 0, in_use_ = 0;
  int open_ = 0;
  std::unordered_map<char*, std::size_t> live_;
  std::unordered_map<std::size_t, std::vector<char*>> free_;
  std::mutex mutex_;
};

struct sigaction g_previous_segv;

// A fault inside the region is host code touching device memory: say so, then
// let the fault happen again with the default action (the process stops, as it
// would on a GPU). Any other fault goes to the handler installed before ours
// (V8's WebAssembly trap handler, for one).
void on_segv(int sig, siginfo_t* info, void* context) {
  if (Arena::get().contains(info->si_addr)) {
    static const char msg[] =
        "\ndynasparse: host code read or wrote emulated CUDA device memory outside a kernel or a copy "
        "(a device pointer dereferenced on the host: on a GPU that is an illegal access). "
        "Run the process under gdb to see where.\n";
    (void)!write(2, msg, sizeof msg - 1);
    signal(SIGSEGV, SIG_DFL);
    return;
  }
  if (g_previous_segv.sa_flags & SA_SIGINFO) {
    g_previous_segv.sa_sigaction(sig, info, context);
  } else if (g_previous_segv.sa_handler == SIG_DFL || g_previous_segv.sa_handler == SIG_IGN) {
    signal(SIGSEGV, SIG_DFL);
  } else {
    g_previous_segv.sa_handler(sig);
  }
}

void Arena::install_fault_message() {
  struct sigaction action {};
  action.sa_sigaction = on_segv;
  action.sa_flags = SA_SIGINFO | SA_ONSTACK;
  sigemptyset(&action.sa_mask);
  sigaction(SIGSEGV, &action, &g_previous_segv);
}

int g_stream_token = 0;

}  // namespace

const DeviceInfo& device_info() {
  static const DeviceInfo info = [] {
    DeviceInfo i;
    i.compiled = true;
    i.available = true;
    i.device_name = "SIMT host emulation (CPU)";
    // 8.0: the tensor-core paths are allowed; under the emulation they run
    // their portable twins (mma_sp.cuh).
    i.compute_capability = 80;
    i.total_memory = kCapacityBytes;
    return i;
  }();
  return info;
}

void require_available() {}

Stream stream() { return reinterpret_cast<Stream>(&g_stream_token); }

void* allocate(std::size_t bytes) { return Arena::get().allocate(bytes); }

const char* allocator_name() { return "simt emulation arena"; }

void release(void* ptr) noexcept {
  if (ptr != nullptr) Arena::get().release(ptr);
}

void copy(void* dst, bool, const void* src, bool, std::size_t bytes) {
  if (bytes == 0) return;
  const simt::DeviceAccess open;
  std::memmove(dst, src, bytes);
}

void synchronize() {}

}  // namespace dynasparse::cuda

namespace dynasparse::simt {

bool is_device_memory(const void* p) noexcept { return cuda::Arena::get().contains(p); }
DeviceAccess::DeviceAccess() { cuda::Arena::get().open(); }
DeviceAccess::~DeviceAccess() { cuda::Arena::get().close(); }

}  // namespace dynasparse::simt
