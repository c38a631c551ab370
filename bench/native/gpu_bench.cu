// GPU microbenchmarks: dynasparse's CUDA kernels against the bandwidth the
// device offers (cudaMemcpy device to device) and NVIDIA's libraries
// (include/dynasparse/cuda_baseline.h: cuBLAS, cuSPARSE, cuSPARSELt).
//
// Every measurement is timed with CUDA events on the backend's stream: a
// warm-up, then the median of `runs` timed repetitions. Each prints one JSON
// line on stdout (scripts/gpu-check.sh collects them into bench/results/):
//   {"bench":"gpu","op":..,"impl":..,"shape":..,"ms":..,"gbps"|"gflops":..,"runs":..}
// Baselines whose library is missing print {"op":..,"impl":..,"skipped":"why"};
// small correctness checks of the baselines against the CPU backend print
// {"op":"check",..,"max_abs_err":..,"ok":true|false} (the exit status is 1 when
// one fails). Human-readable notes go to stderr.
//
// Usage: gpu_bench [runs] [--quick] [--deadline S]
//   --quick: small shapes, for a smoke run; --deadline S: sections that would
//   start more than S seconds after the start are reported skipped, and the
//   sparsity sweep (run last) fits its time box into what is left.
//
// Failures stay local: a library call that fails is reported as a skip of
// that baseline and the section goes on with our kernels (guard); any other
// failure, a CUDA error included, ends its section only (section). Values
// JSON cannot spell (NaN, infinities) print as null.
//
// Hooks: the blocks marked HOOK(...) are where our own kernels joined their
// baseline (2:4: bench_ours_24); spmm and sddmm have joined, and topk growth
// has its own section (bench_topk, with topk_dense over the held product). The
// sparsity sweep (bench_sparse_sweep) prints {"op":"ratio",..,"speedup":..}
// lines: a baseline's median time over ours, both measured in this run. cuda::gemm and the CUDA
// optimizer steps are measured when their declarations are present (CMake
// greps the headers: DYNASPARSE_BENCH_CUDA_GEMM, DYNASPARSE_BENCH_CUDA_OPTIM).
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <initializer_list>
#include <stdexcept>
#include <string>
#include <unordered_set>
#include <utility>
#include <vector>

#include "cuda/launch.cuh"
#include "dense_sort.h"
#include "dynasparse/bf16.h"
#include "dynasparse/cpu_runtime.h"
#include "dynasparse/cuda_baseline.h"
#include "dynasparse/cuda_runtime.h"
#include "dynasparse/memory.h"
#include "dynasparse/ops/bf16_convert.h"
#include "dynasparse/ops/csr.h"
#include "dynasparse/ops/dense.h"
#include "dynasparse/ops/eig.h"
#include "dynasparse/ops/elementwise.h"
#include "dynasparse/ops/mma_sp_fragments.h"
#include "dynasparse/ops/optim.h"
#include "dynasparse/ops/rng.h"
#include "dynasparse/ops/sddmm.h"
#include "dynasparse/ops/sparse24.h"
#include "dynasparse/ops/spmm.h"
#include "dynasparse/ops/topk.h"
#include "dynasparse/ops/topology.h"
#include "dynasparse/philox.h"

using namespace dynasparse;
namespace baseline = dynasparse::cuda::baseline;

namespace {

int g_runs = 20;
bool g_quick = false;
int g_failed_checks = 0;

// The end of the time gpu-check gives this program (--deadline S: S seconds
// after the start): a section that would start later is reported skipped,
// and the sparsity sweep fits its time box inside it.
std::chrono::steady_clock::time_point g_deadline = std::chrono::steady_clock::time_point::max();

double seconds_left() {
  if (g_deadline == std::chrono::steady_clock::time_point::max()) return 1e9;
  return std::chrono::duration<double>(g_deadline - std::chrono::steady_clock::now()).count();
}

// A CUDA error fails the section it happens in (section() reports it and the
// next section runs), not the whole program: what a later section measures
// is still worth having.
#define BENCH_CHECK(call)                                                                           \
  do {                                                                                              \
    const cudaError_t status_ = (call);                                                             \
    if (status_ != cudaSuccess)                                                                     \
      throw std::runtime_error(std::string(#call) + " failed: " + cudaGetErrorString(status_));     \
  } while (0)

cudaStream_t bench_stream() { return reinterpret_cast<cudaStream_t>(cuda::stream()); }

// Median milliseconds of `runs` timed calls of fn after one warm-up call.
double median_ms(const std::function<void()>& fn) {
  cudaStream_t s = bench_stream();
  fn();
  BENCH_CHECK(cudaStreamSynchronize(s));
  // Destroyed however fn ends (a failing baseline throws out of here).
  struct Event {
    cudaEvent_t e = nullptr;
    Event() { BENCH_CHECK(cudaEventCreate(&e)); }
    ~Event() { cudaEventDestroy(e); }
  } start, stop;
  std::vector<double> times;
  for (int r = 0; r < g_runs; ++r) {
    BENCH_CHECK(cudaEventRecord(start.e, s));
    fn();
    BENCH_CHECK(cudaEventRecord(stop.e, s));
    BENCH_CHECK(cudaEventSynchronize(stop.e));
    float ms = 0;
    BENCH_CHECK(cudaEventElapsedTime(&ms, start.e, stop.e));
    times.push_back(ms);
  }
  std::sort(times.begin(), times.end());
  return times[times.size() / 2];
}

std::string shape_of(std::initializer_list<std::pair<const char*, std::int64_t>> dims) {
  std::string s;
  for (const auto& d : dims) s += (s.empty() ? "" : " ") + std::string(d.first) + "=" + std::to_string(d.second);
  return s;
}

// A number for JSON: printf's format, or null where the value is NaN or
// infinite (which JSON has no spelling for: the report would drop the line).
std::string json_number(double v, const char* format) {
  if (!std::isfinite(v)) return "null";
  char text[64];
  std::snprintf(text, sizeof text, format, v);
  return text;
}

// rate_kind is "gbps" (bytes moved / time) or "gflops" (flops / time).
void report(const char* op, const char* impl, const std::string& shape, double ms, const char* rate_kind,
            double amount) {
  const double rate = amount / (ms * 1e-3) * 1e-9;
  std::printf("{\"bench\":\"gpu\",\"op\":\"%s\",\"impl\":\"%s\",\"shape\":\"%s\",\"ms\":%s,\"%s\":%s,\"runs\":%d}\n",
              op, impl, shape.c_str(), json_number(ms, "%.4f").c_str(), rate_kind, json_number(rate, "%.2f").c_str(),
              g_runs);
  std::fflush(stdout);
}

// A JSON string's contents: quotes and backslashes escaped, control characters dropped.
std::string json_text(const std::string& text) {
  std::string out;
  for (const char c : text) {
    if (c == '"' || c == '\\') out += '\\';
    if (static_cast<unsigned char>(c) >= 0x20) out += c;
  }
  return out;
}

void report_skip(const char* op, const char* impl, const std::string& why) {
  std::printf("{\"bench\":\"gpu\",\"op\":\"%s\",\"impl\":\"%s\",\"skipped\":\"%s\"}\n", op, impl,
              json_text(why).c_str());
  std::fflush(stdout);
}

void report_check(const char* what, double max_abs_err, double tolerance) {
  const bool ok = max_abs_err <= tolerance;
  if (!ok) ++g_failed_checks;
  std::printf("{\"bench\":\"gpu\",\"op\":\"check\",\"impl\":\"%s\",\"max_abs_err\":%s,\"tolerance\":%s,\"ok\":%s}\n",
              what, json_number(max_abs_err, "%.3g").c_str(), json_number(tolerance, "%.3g").c_str(),
              ok ? "true" : "false");
  std::fflush(stdout);
}

// Device memory through the library's allocator (counted like the kernels' own).
struct DeviceBuffer {
  BufferPtr buffer;
  explicit DeviceBuffer(std::size_t bytes) : buffer(Buffer::allocate(Device::Cuda, bytes)) {}
  template <typename T>
  T* as() const { return buffer->as<T>(); }
};

template <typename T>
DeviceBuffer upload(const std::vector<T>& host) {
  DeviceBuffer d(host.size() * sizeof(T));
  copy_bytes(d.buffer->data(), Device::Cuda, host.data(), Device::Cpu, host.size() * sizeof(T));
  return d;
}

template <typename T>
std::vector<T> download(const DeviceBuffer& d, std::size_t count) {
  std::vector<T> host(count);
  copy_bytes(host.data(), Device::Cpu, d.buffer->data(), Device::Cuda, count * sizeof(T));
  return host;
}

std::vector<float> normal_host(std::int64_t n, std::uint64_t seed) {
  std::vector<float> v(static_cast<std::size_t>(n));
  cpu::fill_normal(v.data(), n, seed, rng::kStreamTensor, 0.0f, 1.0f);
  return v;
}

// The largest |a - b|; infinite where one side is NaN and the other is not
// (std::max would skip a NaN and let an all-NaN result pass its check).
double max_abs_diff(const std::vector<float>& a, const std::vector<float>& b) {
  double m = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::isnan(a[i]) || std::isnan(b[i])) {
      if (std::isnan(a[i]) != std::isnan(b[i])) return INFINITY;
      continue;
    }
    m = std::max(m, std::fabs(double(a[i]) - double(b[i])));
  }
  return m;
}

// Runs fn; a failure is reported as a skip of (op, impl) and counted, and the
// caller goes on. Around a library baseline's part of a section (a library
// that loads but refuses the call, an unsupported configuration), the section
// goes on with our kernels; around a whole section (section()), the next one runs.
bool guard(const char* op, const char* impl, const std::function<void()>& fn) {
  try {
    fn();
    return true;
  } catch (const std::exception& e) {
    ++g_failed_checks;
    cudaGetLastError();  // a non-sticky launch error must not fail the next call
    report_skip(op, impl, std::string("failed: ") + e.what());
    return false;
  }
}

// --- bandwidth: copies and our elementwise / rng / transpose kernels ----------

void bench_bandwidth() {
  const std::int64_t n = g_quick ? (1LL << 20) : (1LL << 28);  // 1 GiB of float32 per array
  const double bytes = 4.0 * double(n);
  DeviceBuffer a(n * 4), b(n * 4);
  const Stream s = cuda::stream();
  const std::string shape = shape_of({{"n", n}});
  report("copy", "cudaMemcpy_d2d", shape,
         median_ms([&] { BENCH_CHECK(cudaMemcpyAsync(b.as<float>(), a.as<float>(), n * 4, cudaMemcpyDeviceToDevice, bench_stream())); }),
         "gbps", 2 * bytes);
  report("fill", "dynasparse", shape, median_ms([&] { cuda::fill(a.as<float>(), n, 1.5f, s); }), "gbps", bytes);
  report("fill", "cudaMemsetAsync", shape,
         median_ms([&] { BENCH_CHECK(cudaMemsetAsync(a.as<float>(), 0, n * 4, bench_stream())); }), "gbps", bytes);
  report("fill_uniform", "dynasparse", shape,
         median_ms([&] { cuda::fill_uniform(a.as<float>(), n, 7, rng::kStreamTensor, -1.0f, 1.0f, s); }), "gbps", bytes);
  report("fill_normal", "dynasparse", shape,
         median_ms([&] { cuda::fill_normal(a.as<float>(), n, 7, rng::kStreamTensor, 0.0f, 1.0f, s); }), "gbps", bytes);

  const std::int64_t rows = g_quick ? 1024 : 16384, cols = g_quick ? 1024 : 16384;
  report("transpose", "dynasparse", shape_of({{"rows", rows}, {"cols", cols}}),
         median_ms([&] { cuda::transpose(b.as<float>(), a.as<float>(), rows, cols, cols, s); }), "gbps",
         2 * 4.0 * double(rows) * double(cols));

  // The elementwise and loss kernels of a training step ([features, batch]
  // activations, 1000 classes) and the per-entry gathers of a topology update:
  // memory-bound, so their GB/s (bytes each must move) against the copy above.
  const std::int64_t f = g_quick ? 256 : 4096, bt = g_quick ? 64 : 4096, fb = f * bt, classes = 1000;
  const std::string act = shape_of({{"features", f}, {"batch", bt}});
  // c also takes softmax_cross_entropy's gradient (classes x batch).
  DeviceBuffer c(std::max(fb, classes * bt) * 4), bias(f * 4), loss(8), result(8);
  cuda::fill_normal(a.as<float>(), fb, 1, rng::kStreamTensor, 0.0f, 1.0f, s);
  cuda::fill_normal(b.as<float>(), fb, 2, rng::kStreamTensor, 0.0f, 1.0f, s);
  cuda::fill(bias.as<float>(), f, 0.1f, s);
  const auto bw = [&](const char* op, const std::string& sh, double moved, const std::function<void()>& fn) {
    report(op, "dynasparse", sh, median_ms(fn), "gbps", moved);
  };
  bw("relu", act, 2 * 4.0 * fb, [&] { cuda::relu(c.as<float>(), a.as<float>(), fb, s); });
  bw("relu_backward", act, 3 * 4.0 * fb, [&] { cuda::relu_backward(c.as<float>(), b.as<float>(), a.as<float>(), fb, s); });
  bw("add", act, 3 * 4.0 * fb, [&] { cuda::add(c.as<float>(), a.as<float>(), b.as<float>(), fb, s); });
  bw("axpy", act, 3 * 4.0 * fb, [&] { cuda::axpy(c.as<float>(), 0.5f, a.as<float>(), fb, s); });
  bw("add_bias", act, 2 * 4.0 * fb, [&] { cuda::add_bias(c.as<float>(), a.as<float>(), bias.as<float>(), f, bt, s); });
  bw("bias_grad", act, 4.0 * fb, [&] { cuda::bias_grad(bias.as<float>(), a.as<float>(), f, bt, s); });
  std::vector<std::int32_t> host_labels(static_cast<std::size_t>(bt));
  for (std::int64_t i = 0; i < bt; ++i) host_labels[static_cast<std::size_t>(i)] = static_cast<std::int32_t>((i * 7) % classes);
  DeviceBuffer labels = upload(host_labels);
  const std::string logits = shape_of({{"classes", classes}, {"batch", bt}});
  bw("softmax_cross_entropy", logits, 2 * 4.0 * classes * bt, [&] {
    cuda::softmax_cross_entropy(c.as<float>(), loss.as<double>(), a.as<float>(), labels.as<std::int32_t>(), classes, bt, s);
  });
  bw("count_correct", logits, 4.0 * classes * bt, [&] {
    cuda::count_correct(result.as<std::int64_t>(), a.as<float>(), labels.as<std::int32_t>(), classes, bt, s);
  });
  bw("first_index_outside", shape_of({{"n", bt}}), 4.0 * bt, [&] {
    cuda::first_index_outside(result.as<std::int64_t>(), labels.as<std::int32_t>(), bt, 0, classes, s);
  });
  // A permutation of fb entries (every 7th to the front): gathers read at random.
  std::vector<std::int32_t> host_perm(static_cast<std::size_t>(fb));
  for (std::int64_t i = 0; i < fb; ++i) host_perm[static_cast<std::size_t>(i)] = static_cast<std::int32_t>((i * 7919) % fb);
  DeviceBuffer perm = upload(host_perm);
  const std::string entries = shape_of({{"n", fb}});
  bw("gather_values", entries, 3 * 4.0 * fb,
     [&] { cuda::gather_values(c.as<float>(), a.as<float>(), perm.as<std::int32_t>(), fb, s); });
  bw("gather_by_map", entries, 3 * 4.0 * fb,
     [&] { cuda::gather_by_map(c.as<float>(), a.as<float>(), fb, perm.as<std::int32_t>(), fb, s); });
  // CSR construction from a dense [features, batch] matrix (|x| > 1.5 keeps
  // about 13%): the counting pass with its scan, the filling pass, and the
  // Kaiming values of the result: one read of the dense matrix per pass.
  DeviceBuffer row_ptr((f + 1) * 4), col_idx(fb * 4), nnz_out(8);
  bw("csr_row_ptr_from_dense", act, 4.0 * fb, [&] {
    cuda::csr_row_ptr_from_dense(row_ptr.as<std::int32_t>(), nnz_out.as<std::int64_t>(), a.as<float>(), nullptr, f, bt,
                                 1.5f, s);
  });
  bw("csr_fill_from_dense", act, 4.0 * fb, [&] {
    cuda::csr_fill_from_dense(col_idx.as<std::int32_t>(), c.as<float>(), row_ptr.as<std::int32_t>(), a.as<float>(),
                              nullptr, f, bt, 1.5f, s);
  });
  const std::int64_t kept = download<std::int64_t>(nnz_out, 1)[0];
  bw("csr_kaiming_values", shape_of({{"rows", f}, {"cols", bt}, {"nnz", kept}}), 4.0 * double(kept), [&] {
    cuda::csr_kaiming_values(c.as<float>(), row_ptr.as<std::int32_t>(), f, bt, true, 7, s);
  });
#if defined(DYNASPARSE_BENCH_CUDA_OPTIM)
  bw("remap_state", entries, 3 * 4.0 * fb,
     [&] { cuda::remap_state(c.as<float>(), a.as<float>(), perm.as<std::int32_t>(), fb, s); });
#endif

#if defined(DYNASPARSE_BENCH_CUDA_OPTIM)
  // Optimizer steps, fused: SGD with momentum reads w, grad, buf and writes w,
  // buf (5 arrays); Adam reads w, grad, m, v and writes w, m, v (7 arrays).
  const std::int64_t p = n / 4;
  DeviceBuffer w(p * 4), g(p * 4), m(p * 4), v(p * 4);
  cuda::fill(w.as<float>(), p, 0.5f, s);
  cuda::fill(g.as<float>(), p, 0.01f, s);
  cuda::fill(m.as<float>(), p, 0.0f, s);
  cuda::fill(v.as<float>(), p, 0.0f, s);
  SgdConfig sgd;
  sgd.lr = 0.01f;
  sgd.momentum = 0.9f;
  report("sgd_step", "dynasparse", shape_of({{"n", p}}),
         median_ms([&] { cuda::sgd_step(w.as<float>(), g.as<float>(), m.as<float>(), nullptr, p, sgd, s); }), "gbps",
         5 * 4.0 * double(p));
  AdamConfig adam;
  adam.lr = 1e-3f;
  report("adam_step", "dynasparse", shape_of({{"n", p}}),
         median_ms([&] {
           cuda::adam_step(w.as<float>(), g.as<float>(), m.as<float>(), v.as<float>(), nullptr, p, adam, s);
         }),
         "gbps", 7 * 4.0 * double(p));
#else
  report_skip("sgd_step", "dynasparse", "no CUDA optimizer kernels in this build (cuda::sgd_step not declared)");
  report_skip("adam_step", "dynasparse", "no CUDA optimizer kernels in this build (cuda::adam_step not declared)");
#endif
}

// --- dense GEMM: cuBLAS (and cuda::gemm when it exists) -----------------------

void check_sgemm() {
  const std::int64_t m = 96, n = 80, k = 112;
  const std::vector<float> a = normal_host(m * k, 1), b = normal_host(k * n, 2);
  for (int t = 0; t < 4; ++t) {
    const bool ta = (t & 1) != 0, tb = (t & 2) != 0;
    std::vector<float> want(static_cast<std::size_t>(m * n));
    cpu::gemm_builtin(ta, tb, m, n, k, 1.0f, a.data(), ta ? m : k, b.data(), tb ? k : n, 0.0f, want.data(), n);
    DeviceBuffer da = upload(a), db = upload(b), dc(m * n * 4);
    baseline::sgemm(ta, tb, m, n, k, 1.0f, da.as<float>(), ta ? m : k, db.as<float>(), tb ? k : n, 0.0f,
                    dc.as<float>(), n, cuda::stream());
    const std::string what = std::string("cublas_sgemm") + (ta ? "_tA" : "") + (tb ? "_tB" : "");
    report_check(what.c_str(), max_abs_diff(download<float>(dc, m * n), want), 1e-3);
  }
}

void bench_gemm() {
  const baseline::LibraryStatus& cublas = baseline::libraries().cublas;
  if (cublas.loaded) guard("check", "cublas_sgemm", check_sgemm);
  const std::int64_t shapes[][3] = {{4096, 4096, 4096}, {4096, 256, 4096}, {8192, 8192, 8192}};
  for (const auto& sh : shapes) {
    const std::int64_t m = g_quick ? sh[0] / 16 : sh[0], n = g_quick ? sh[1] / 16 : sh[1],
                       k = g_quick ? sh[2] / 16 : sh[2];
    const std::string shape = shape_of({{"m", m}, {"n", n}, {"k", k}});
    const double flops = 2.0 * double(m) * double(n) * double(k);
    DeviceBuffer a(m * k * 4), b(k * n * 4), c(m * n * 4);
    cuda::fill_normal(a.as<float>(), m * k, 1, rng::kStreamTensor, 0.0f, 1.0f, cuda::stream());
    cuda::fill_normal(b.as<float>(), k * n, 2, rng::kStreamTensor, 0.0f, 1.0f, cuda::stream());
    if (cublas.loaded) {
      guard("sgemm", "cublas", [&] {
        report("sgemm", "cublas", shape, median_ms([&] {
                 baseline::sgemm(false, false, m, n, k, 1.0f, a.as<float>(), k, b.as<float>(), n, 0.0f, c.as<float>(), n,
                                 cuda::stream());
               }),
               "gflops", flops);
      });
    } else {
      report_skip("sgemm", "cublas", cublas.reason);
    }
#if defined(DYNASPARSE_BENCH_CUDA_GEMM)
    report("sgemm", "dynasparse", shape, median_ms([&] {
             cuda::gemm(false, false, m, n, k, 1.0f, a.as<float>(), k, b.as<float>(), n, 0.0f, c.as<float>(), n,
                        cuda::stream());
           }),
           "gflops", flops);
#else
    report_skip("sgemm", "dynasparse", "no cuda::gemm in this build");
#endif
  }
}

// --- sparse x dense: cuSPARSE SpMM / SDDMM (and ours, once they exist) --------

// A linear layer's shapes: weight out x in at `density`, activations in x batch.
struct SparseCase {
  std::int64_t rows, cols, batch;
  double density;
};

struct HostCsr {
  std::vector<std::int32_t> row_ptr, col_idx;
  std::vector<float> values;
};

HostCsr random_csr(std::int64_t rows, std::int64_t cols, double density, std::uint64_t seed) {
  HostCsr c;
  const std::int64_t per_row = std::max<std::int64_t>(1, static_cast<std::int64_t>(std::llround(density * double(cols))));
  c.row_ptr.resize(static_cast<std::size_t>(rows + 1));
  c.col_idx.resize(static_cast<std::size_t>(rows * per_row));
  cpu::csr_random_rows(c.row_ptr.data(), c.col_idx.data(), rows, cols, per_row, seed);
  c.values = normal_host(rows * per_row, seed + 1);
  return c;
}

void check_cusparse() {
  const std::int64_t rows = 70, cols = 90, n = 33, k = 40;
  const HostCsr a = random_csr(rows, cols, 0.2, 5);
  const std::int64_t nnz = static_cast<std::int64_t>(a.values.size());
  std::vector<float> dense(static_cast<std::size_t>(rows * cols));
  cpu::csr_to_dense(dense.data(), a.row_ptr.data(), a.col_idx.data(), a.values.data(), rows, cols);
  const std::vector<float> b = normal_host(cols * n, 6);
  std::vector<float> want(static_cast<std::size_t>(rows * n));
  cpu::gemm_builtin(false, false, rows, n, cols, 1.0f, dense.data(), cols, b.data(), n, 0.0f, want.data(), n);
  DeviceBuffer rp = upload(a.row_ptr), ci = upload(a.col_idx), va = upload(a.values), db = upload(b), dc(rows * n * 4);
  for (baseline::SpmmAlg alg : {baseline::SpmmAlg::CsrAlg2, baseline::SpmmAlg::CsrAlg3}) {
    baseline::Spmm spmm(alg, rows, cols, nnz, rp.as<std::int32_t>(), ci.as<std::int32_t>(), va.as<float>(), n,
                        db.as<float>(), dc.as<float>(), cuda::stream());
    // Zeros first, for each algorithm: cuSPARSE does not promise that beta = 0
    // skips reading C, and ALG3 must not pass on ALG2's leftover result.
    cuda::fill(dc.as<float>(), rows * n, 0.0f, cuda::stream());
    spmm.run();
    const std::string what = std::string("cusparse_spmm_") + baseline::spmm_alg_name(alg);
    report_check(what.c_str(), max_abs_diff(download<float>(dc, rows * n), want), 1e-3);
  }
  // SDDMM: values[j] = (X @ Y)[r, c] at the stored (r, c), X rows x k, Y k x cols.
  const std::vector<float> x = normal_host(rows * k, 7), y = normal_host(k * cols, 8);
  std::vector<float> full(static_cast<std::size_t>(rows * cols));
  cpu::gemm_builtin(false, false, rows, cols, k, 1.0f, x.data(), k, y.data(), cols, 0.0f, full.data(), cols);
  std::vector<float> sd_want(static_cast<std::size_t>(nnz));
  for (std::int64_t r = 0; r < rows; ++r)
    for (std::int32_t j = a.row_ptr[r]; j < a.row_ptr[r + 1]; ++j) sd_want[j] = full[r * cols + a.col_idx[j]];
  std::vector<float> yt(y.size());  // Y^T, cols x k: the opB = TRANSPOSE layout
  for (std::int64_t t = 0; t < k; ++t)
    for (std::int64_t c = 0; c < cols; ++c) yt[c * k + t] = y[t * cols + c];
  DeviceBuffer dx = upload(x), dy = upload(y), dyt = upload(yt), out(nnz * 4);
  for (const bool trans_b : {false, true}) {
    baseline::Sddmm sddmm(rows, cols, k, dx.as<float>(), trans_b ? dyt.as<float>() : dy.as<float>(), nnz,
                          rp.as<std::int32_t>(), ci.as<std::int32_t>(), out.as<float>(), cuda::stream(), trans_b);
    cuda::fill(out.as<float>(), nnz, 0.0f, cuda::stream());
    sddmm.run();
    report_check(trans_b ? "cusparse_sddmm_op_b_t" : "cusparse_sddmm", max_abs_diff(download<float>(out, nnz), sd_want),
                 1e-3);
  }
}

// Our kernels against the CPU backend on small shapes: bit-identical by design
// (same summation order, no FMA), so the tolerance is 0.
void check_dynasparse_sparse() {
  const std::int64_t rows = 70, cols = 90, n = 33, k = 40;
  const HostCsr a = random_csr(rows, cols, 0.2, 5);
  const std::int64_t nnz = static_cast<std::int64_t>(a.values.size());
  const std::vector<float> b = normal_host(cols * n, 6);
  std::vector<float> want(static_cast<std::size_t>(rows * n));
  cpu::spmm_csr(want.data(), n, a.row_ptr.data(), a.col_idx.data(), a.values.data(), nullptr, rows, cols, b.data(), n, n, 1.0f,
                0.0f);
  DeviceBuffer rp = upload(a.row_ptr), ci = upload(a.col_idx), va = upload(a.values), db = upload(b), dc(rows * n * 4);
  cuda::spmm_csr(dc.as<float>(), n, rp.as<std::int32_t>(), ci.as<std::int32_t>(), va.as<float>(), nullptr, rows, cols,
                 db.as<float>(), n, n, 1.0f, 0.0f, cuda::stream());
  report_check("dynasparse_spmm_csr", max_abs_diff(download<float>(dc, rows * n), want), 0.0);
  const std::vector<float> dy = normal_host(rows * k, 7), x = normal_host(cols * k, 8);
  std::vector<float> sd_want(static_cast<std::size_t>(nnz));
  cpu::sddmm_trans_b(sd_want.data(), a.row_ptr.data(), a.col_idx.data(), rows, dy.data(), k, x.data(), k, k);
  DeviceBuffer ddy = upload(dy), dx = upload(x), out(nnz * 4);
  cuda::sddmm_trans_b(out.as<float>(), rp.as<std::int32_t>(), ci.as<std::int32_t>(), rows, ddy.as<float>(), k, dx.as<float>(),
                      k, k, nnz, cuda::stream());
  report_check("dynasparse_sddmm_trans_b", max_abs_diff(download<float>(out, nnz), sd_want), 0.0);
}

void bench_sparse() {
  const baseline::LibraryStatus& cusparse = baseline::libraries().cusparse;
  if (cusparse.loaded) guard("check", "cusparse", check_cusparse);
  check_dynasparse_sparse();
  const SparseCase cases[] = {{4096, 4096, 256, 0.1}, {4096, 4096, 256, 0.02}, {16384, 4096, 512, 0.05}};
  for (const SparseCase& c0 : cases) {
    SparseCase c = c0;
    if (g_quick) c = {c0.rows / 16, c0.cols / 16, c0.batch / 16, c0.density};
    const HostCsr a = random_csr(c.rows, c.cols, c.density, 11);
    const std::int64_t nnz = static_cast<std::int64_t>(a.values.size());
    const std::string shape = shape_of({{"rows", c.rows}, {"cols", c.cols}, {"batch", c.batch}, {"nnz", nnz}});
    const double flops = 2.0 * double(nnz) * double(c.batch);
    DeviceBuffer rp = upload(a.row_ptr), ci = upload(a.col_idx), va = upload(a.values);
    DeviceBuffer x(c.cols * c.batch * 4), y(c.rows * c.batch * 4), dy(c.rows * c.batch * 4), grad(nnz * 4);
    cuda::fill_normal(x.as<float>(), c.cols * c.batch, 3, rng::kStreamTensor, 0.0f, 1.0f, cuda::stream());
    cuda::fill_normal(dy.as<float>(), c.rows * c.batch, 4, rng::kStreamTensor, 0.0f, 1.0f, cuda::stream());
    // Forward: y (rows x batch) = W (rows x cols, CSR) @ x (cols x batch).
    for (baseline::SpmmAlg alg : {baseline::SpmmAlg::CsrAlg2, baseline::SpmmAlg::CsrAlg3}) {
      const std::string impl = std::string("cusparse_") + baseline::spmm_alg_name(alg);
      if (!cusparse.loaded) {
        report_skip("spmm", impl.c_str(), cusparse.reason);
        continue;
      }
      guard("spmm", impl.c_str(), [&] {
        baseline::Spmm spmm(alg, c.rows, c.cols, nnz, rp.as<std::int32_t>(), ci.as<std::int32_t>(), va.as<float>(),
                            c.batch, x.as<float>(), y.as<float>(), cuda::stream());
        report("spmm", impl.c_str(), shape, median_ms([&] { spmm.run(); }), "gflops", flops);
      });
    }
    report("spmm", "dynasparse", shape, median_ms([&] {
             cuda::spmm_csr(y.as<float>(), c.batch, rp.as<std::int32_t>(), ci.as<std::int32_t>(), va.as<float>(), nullptr,
                            c.rows, c.cols, x.as<float>(), c.batch, c.batch, 1.0f, 0.0f, cuda::stream());
           }),
           "gflops", flops);
    // Weight gradient at the pattern: grad[j] = (dy @ x^T)[r, col_idx[j]].
    // cuSPARSE takes x as it is with opB = TRANSPOSE ("cusparse", the layout its
    // documentation names fast for a row-major B) or a transposed copy, x^T
    // (batch x cols) with opB = N ("cusparse_b_copy", the copy not timed).
    if (cusparse.loaded) {
      guard("sddmm", "cusparse", [&] {
        baseline::Sddmm sddmm(c.rows, c.cols, c.batch, dy.as<float>(), x.as<float>(), nnz, rp.as<std::int32_t>(),
                              ci.as<std::int32_t>(), grad.as<float>(), cuda::stream(), true);
        report("sddmm", "cusparse", shape, median_ms([&] { sddmm.run(); }), "gflops", flops);
      });
      guard("sddmm", "cusparse_b_copy", [&] {
        DeviceBuffer xt(c.cols * c.batch * 4);
        cuda::transpose(xt.as<float>(), x.as<float>(), c.cols, c.batch, c.batch, cuda::stream());
        baseline::Sddmm sddmm(c.rows, c.cols, c.batch, dy.as<float>(), xt.as<float>(), nnz, rp.as<std::int32_t>(),
                              ci.as<std::int32_t>(), grad.as<float>(), cuda::stream());
        report("sddmm", "cusparse_b_copy", shape, median_ms([&] { sddmm.run(); }), "gflops", flops);
      });
    } else {
      report_skip("sddmm", "cusparse", cusparse.reason);
    }
    // Ours reads dy and x feature-major as they are (no transposed copy).
    report("sddmm", "dynasparse", shape, median_ms([&] {
             cuda::sddmm_trans_b(grad.as<float>(), rp.as<std::int32_t>(), ci.as<std::int32_t>(), c.rows, dy.as<float>(),
                                 c.batch, x.as<float>(), c.batch, c.batch, nnz, cuda::stream());
           }),
           "gflops", flops);
    // Topk growth (best |dy @ x^T| outside the pattern): see bench_topk.
  }
}

// --- sparsity sweep: our spmm / sddmm against cuSPARSE and dense cuBLAS -------

// {"op":"ratio","kernel":..,"versus":..,"shape":..,"speedup": their_ms / our_ms}
void report_ratio(const char* kernel, const char* versus, const std::string& shape, double our_ms, double their_ms) {
  std::printf("{\"bench\":\"gpu\",\"op\":\"ratio\",\"kernel\":\"%s\",\"versus\":\"%s\",\"shape\":\"%s\","
              "\"speedup\":%s}\n",
              kernel, versus, shape.c_str(), json_number(their_ms / our_ms, "%.3f").c_str());
  std::fflush(stdout);
}

// Linear layers out x in at 50..99% sparsity, batch 256..4096: Y = W X (our
// spmm_csr with the row order computed per call, and with it precomputed; cuSPARSE
// SpMM CSR_ALG2 and CSR_ALG3; dense cuBLAS SGEMM on the same X) and the weight
// gradient dW = dY X^T at W's pattern (our sddmm_trans_b on the feature-major dY
// and X; cuSPARSE SDDMM in both layouts: X as it is with opB = TRANSPOSE, and a
// transposed copy, not timed, with opB = N; the ratio is against the faster).
// Medians of at most 5 runs; the configurations left when the section's time box
// (100 s or what --deadline leaves, checked before each sparsity) is spent are
// reported skipped, so the whole gpu_bench stays within its stage.
void bench_sparse_sweep() {
  const baseline::Libraries& libs = baseline::libraries();
  struct RestoreRuns {
    int saved;
    ~RestoreRuns() { g_runs = saved; }
  } restore{g_runs};
  g_runs = std::min(g_runs, 5);
  const auto start = std::chrono::steady_clock::now();
  // 100 s, or what the deadline leaves (the sweep runs last).
  const double box_s = std::min(100.0, seconds_left() - 5.0);
  auto elapsed_s = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(); };
  const std::int64_t layers[][2] = {{4096, 4096}, {4096, 16384}};  // out x in
  // Sparsest first: if the time box runs out, what is skipped is the
  // densest (slowest, least sparse-training-like) configurations.
  const double sparsities[] = {0.99, 0.98, 0.95, 0.9, 0.8, 0.7, 0.5};
  const std::int64_t batches[] = {256, 1024, 4096};
  const int scale = g_quick ? 16 : 1;
  for (const auto& layer : layers) {
    const std::int64_t out = layer[0] / scale, in = layer[1] / scale, max_batch = batches[2] / scale;
    DeviceBuffer x(in * max_batch * 4), xt(in * max_batch * 4), y(out * max_batch * 4), dy(out * max_batch * 4),
        w(out * in * 4);
    cuda::fill_normal(x.as<float>(), in * max_batch, 3, rng::kStreamTensor, 0.0f, 1.0f, cuda::stream());
    cuda::fill_normal(dy.as<float>(), out * max_batch, 4, rng::kStreamTensor, 0.0f, 1.0f, cuda::stream());
    cuda::fill_normal(w.as<float>(), out * in, 5, rng::kStreamTensor, 0.0f, 1.0f, cuda::stream());
    double dense_ms[3] = {0, 0, 0};
    for (int bi = 0; bi < 3; ++bi) {
      const std::int64_t batch = batches[bi] / scale;
      const std::string shape = shape_of({{"out", out}, {"in", in}, {"batch", batch}});
      if (!libs.cublas.loaded) {
        report_skip("spmm_sweep", "cublas_sgemm", libs.cublas.reason);
        continue;
      }
      guard("spmm_sweep", "cublas_sgemm", [&] {
        dense_ms[bi] = median_ms([&] {
          baseline::sgemm(false, false, out, batch, in, 1.0f, w.as<float>(), in, x.as<float>(), batch, 0.0f, y.as<float>(),
                          batch, cuda::stream());
        });
        report("spmm_sweep", "cublas_sgemm", shape, dense_ms[bi], "gflops", 2.0 * double(out) * double(in) * double(batch));
      });
    }
    for (const double sparsity : sparsities) {
      if (elapsed_s() > box_s) {
        report_skip("spmm_sweep", "rest", "the sweep's time box of " + std::to_string(static_cast<int>(box_s)) + " s is spent");
        return;
      }
      const HostCsr a = random_csr(out, in, 1.0 - sparsity, 21);
      const std::int64_t nnz = static_cast<std::int64_t>(a.values.size());
      DeviceBuffer rp = upload(a.row_ptr), ci = upload(a.col_idx), va = upload(a.values), grad(nnz * 4), order(out * 4);
      cuda::spmm_csr_row_order(order.as<std::int32_t>(), rp.as<std::int32_t>(), out, cuda::stream());
      for (int bi = 0; bi < 3; ++bi) {
        const std::int64_t batch = batches[bi] / scale;
        const std::string shape = shape_of({{"out", out}, {"in", in}, {"batch", batch}, {"nnz", nnz}}) + " sparsity=" +
                                  std::to_string(static_cast<int>(std::lround(sparsity * 100))) + "%";
        const double flops = 2.0 * double(nnz) * double(batch);
        const double ours = median_ms([&] {
          cuda::spmm_csr(y.as<float>(), batch, rp.as<std::int32_t>(), ci.as<std::int32_t>(), va.as<float>(), nullptr, out, in,
                         x.as<float>(), batch, batch, 1.0f, 0.0f, cuda::stream());
        });
        report("spmm_sweep", "dynasparse", shape, ours, "gflops", flops);
        const double ours_ordered = median_ms([&] {
          cuda::spmm_csr_ordered(y.as<float>(), batch, rp.as<std::int32_t>(), ci.as<std::int32_t>(), va.as<float>(), nullptr,
                                 order.as<std::int32_t>(), out, in, x.as<float>(), batch, batch, 1.0f, 0.0f, cuda::stream());
        });
        report("spmm_sweep", "dynasparse_cached_order", shape, ours_ordered, "gflops", flops);
        if (dense_ms[bi] > 0) report_ratio("spmm", "cublas_sgemm", shape, ours, dense_ms[bi]);
        for (baseline::SpmmAlg alg : {baseline::SpmmAlg::CsrAlg2, baseline::SpmmAlg::CsrAlg3}) {
          const std::string impl = std::string("cusparse_") + baseline::spmm_alg_name(alg);
          if (!libs.cusparse.loaded) {
            report_skip("spmm_sweep", impl.c_str(), libs.cusparse.reason);
            continue;
          }
          guard("spmm_sweep", impl.c_str(), [&] {
            baseline::Spmm spmm(alg, out, in, nnz, rp.as<std::int32_t>(), ci.as<std::int32_t>(), va.as<float>(), batch,
                                x.as<float>(), y.as<float>(), cuda::stream());
            const double theirs = median_ms([&] { spmm.run(); });
            report("spmm_sweep", impl.c_str(), shape, theirs, "gflops", flops);
            report_ratio("spmm", impl.c_str(), shape, ours, theirs);
          });
        }
        const double ours_sd = median_ms([&] {
          cuda::sddmm_trans_b(grad.as<float>(), rp.as<std::int32_t>(), ci.as<std::int32_t>(), out, dy.as<float>(), batch,
                              x.as<float>(), batch, batch, nnz, cuda::stream());
        });
        report("sddmm_sweep", "dynasparse", shape, ours_sd, "gflops", flops);
        if (libs.cusparse.loaded) {
          // Both of cuSPARSE's layouts (as in bench_sparse); the ratio is
          // against the faster, the fairest reading of the baseline.
          double best = 0;
          guard("sddmm_sweep", "cusparse", [&] {
            baseline::Sddmm sddmm(out, in, batch, dy.as<float>(), x.as<float>(), nnz, rp.as<std::int32_t>(),
                                  ci.as<std::int32_t>(), grad.as<float>(), cuda::stream(), true);
            best = median_ms([&] { sddmm.run(); });
            report("sddmm_sweep", "cusparse", shape, best, "gflops", flops);
          });
          guard("sddmm_sweep", "cusparse_b_copy", [&] {
            cuda::transpose(xt.as<float>(), x.as<float>(), in, batch, batch, cuda::stream());
            baseline::Sddmm sddmm(out, in, batch, dy.as<float>(), xt.as<float>(), nnz, rp.as<std::int32_t>(),
                                  ci.as<std::int32_t>(), grad.as<float>(), cuda::stream());
            const double theirs = median_ms([&] { sddmm.run(); });
            report("sddmm_sweep", "cusparse_b_copy", shape, theirs, "gflops", flops);
            if (best <= 0 || theirs < best) best = theirs;
          });
          if (best > 0) report_ratio("sddmm", "cusparse", shape, ours_sd, best);
        } else {
          report_skip("sddmm_sweep", "cusparse", libs.cusparse.reason);
        }
      }
    }
  }
}


// --- topk growth: streamed radix selection against the dense route -------------
//
// RigL's growth step on a 4096 x 4096 layer (batch 256, 90% sparse, k = 1% of
// the candidates): cuda::topk_growth, which recomputes the product tile by
// tile in each of its passes (1 + 2 / 16 here when the filter pass behind a
// sampled threshold serves, else 3 more: two histogram passes and the emit
// pass, see cuda/topk.cu; a row says which) and keeps O(k) memory, against the dense
// route: cuBLAS SGEMM into a rows x cols
// buffer, one 64-bit key per position (stored positions and NaN sort last),
// and a full cub radix sort of the keys, whose first k are the selection;
// and against that SGEMM alone (the issue's target: within 1.3x of it).
// Each route's time (median of the runs) and its peak device memory beyond
// the operands; the ratio of the medians; and how many positions the two
// selections share (cuBLAS sums with FMAs in its own order, so scores can
// differ in the last bits and move the selection's boundary, nothing else).

// key = (~bits(|c|) << 32) | flat index: ascending = score descending, ties by
// index (the index fits 32 bits on these shapes); not a candidate = all ones.
__global__ void dense_keys_kernel(unsigned long long* keys, const float* c, const std::int32_t* row_ptr,
                                  const std::int32_t* col_idx, std::int64_t rows, std::int64_t cols) {
  const std::int64_t i = blockIdx.y;
  for (std::int64_t j = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; j < cols;
       j += static_cast<std::int64_t>(gridDim.x) * blockDim.x) {
    const std::int64_t lo = cuda::lower_bound(col_idx, row_ptr[i], row_ptr[i + 1], j);
    const bool stored = lo < row_ptr[i + 1] && col_idx[lo] == j;
    const unsigned int key = __float_as_uint(fabsf(c[i * cols + j]));
    keys[i * cols + j] = stored || key > 0x7f800000u
                             ? ~0ull
                             : (static_cast<unsigned long long>(~key) << 32) | static_cast<unsigned long long>(i * cols + j);
  }
}

void report_memory(const char* op, const char* impl, const std::string& shape, std::int64_t peak_bytes) {
  std::printf("{\"bench\":\"gpu\",\"op\":\"%s\",\"impl\":\"%s\",\"shape\":\"%s\",\"peak_extra_bytes\":%lld}\n", op,
              impl, shape.c_str(), static_cast<long long>(peak_bytes));
  std::fflush(stdout);
}

// Peak device bytes fn allocates beyond what is in use before it.
std::int64_t peak_extra(const std::function<void()>& fn) {
  synchronize(Device::Cuda);
  reset_peak_memory(Device::Cuda);
  const std::int64_t before = memory_stats(Device::Cuda).bytes_in_use;
  fn();
  synchronize(Device::Cuda);
  return memory_stats(Device::Cuda).peak_bytes - before;
}

void bench_topk() {
  const std::int64_t rows = g_quick ? 256 : 4096, cols = g_quick ? 256 : 4096, batch = g_quick ? 16 : 256;
  const HostCsr p = random_csr(rows, cols, 0.1, 21);
  const std::int64_t nnz = static_cast<std::int64_t>(p.col_idx.size());
  const std::int64_t candidates = rows * cols - nnz;
  const std::int64_t k = std::max<std::int64_t>(1, candidates / 100);
  const std::string shape =
      shape_of({{"rows", rows}, {"cols", cols}, {"batch", batch}, {"nnz", nnz}, {"k", k}});
  const double flops = 2.0 * double(rows) * double(cols) * double(batch);  // one dense product
  const Stream s = cuda::stream();
  DeviceBuffer rp = upload(p.row_ptr), ci = upload(p.col_idx);
  DeviceBuffer dy(rows * batch * 4), x(cols * batch * 4);
  cuda::fill_normal(dy.as<float>(), rows * batch, 5, rng::kStreamTensor, 0.0f, 1.0f, s);
  cuda::fill_normal(x.as<float>(), cols * batch, 6, rng::kStreamTensor, 0.0f, 1.0f, s);
  DeviceBuffer out_rows(k * 4), out_cols(k * 4), out_scores(k * 4);

  bool one_pass = false;
  const auto ours = [&] {
    one_pass = cuda::topk_growth(out_rows.as<std::int32_t>(), out_cols.as<std::int32_t>(), out_scores.as<float>(),
                                 dy.as<float>(), x.as<float>(), rp.as<std::int32_t>(), ci.as<std::int32_t>(), rows, cols,
                                 nnz, batch, k, s)
                   .one_pass;
  };
  const double ours_ms = median_ms(ours);
  report("topk_growth", "dynasparse", shape, ours_ms, "gflops", flops);
  std::printf("{\"bench\":\"gpu\",\"op\":\"topk_growth_path\",\"impl\":\"dynasparse\",\"shape\":\"%s\","
              "\"one_pass\":%s}\n",
              shape.c_str(), one_pass ? "true" : "false");
  // The same selection by the exact radix passes alone (what every call ran
  // before the one-pass try): the try's gain, measured in this run.
  const double exact_ms = median_ms([&] {
    cuda::topk_growth(out_rows.as<std::int32_t>(), out_cols.as<std::int32_t>(), out_scores.as<float>(), dy.as<float>(),
                      x.as<float>(), rp.as<std::int32_t>(), ci.as<std::int32_t>(), rows, cols, nnz, batch, k, s,
                      /*allow_one_pass=*/false);
  });
  report("topk_growth", "dynasparse_exact_passes", shape, exact_ms, "gflops", flops);
  report_ratio("topk_growth", "dynasparse_exact_passes", shape, ours_ms, exact_ms);
  report_memory("topk_growth", "dynasparse", shape, peak_extra(ours));
  std::vector<std::int32_t> got_rows = download<std::int32_t>(out_rows, k), got_cols = download<std::int32_t>(out_cols, k);

  const baseline::LibraryStatus& cublas = baseline::libraries().cublas;
  if (!cublas.loaded) {
    report_skip("topk_growth", "cublas_sgemm+cub_sort", cublas.reason);
    return;
  }
  // The dense product dy x^T [rows, cols] into c: what topk_growth streams.
  const auto dense_product = [&](float* c) {
    baseline::sgemm(false, true, rows, cols, batch, 1.0f, dy.as<float>(), batch, x.as<float>(), batch, 0.0f, c, cols, s);
  };
  // The issue's target for the growth step: within 1.3x of the GEMM it stands
  // in for, the product alone into a buffer allocated once (no selection).
  guard("topk_growth", "cublas_sgemm", [&] {
    DeviceBuffer c(static_cast<std::size_t>(rows * cols) * 4);
    const double gemm_ms = median_ms([&] { dense_product(c.as<float>()); });
    report("topk_growth", "cublas_sgemm", shape, gemm_ms, "gflops", flops);
    report_ratio("topk_growth", "cublas_sgemm", shape, ours_ms, gemm_ms);
  });
  // The dense route is all library calls (cuBLAS, cub): a failure there is
  // reported, not the end of the program.
  guard("topk_growth", "cublas_sgemm+cub_sort", [&] {
    std::size_t sort_temp_bytes = 0;
    BENCH_CHECK(dynasparse_bench::sort_keys_temp_bytes(&sort_temp_bytes, rows * cols));
    DeviceBuffer sorted_keys(static_cast<std::size_t>(rows * cols) * 8);
    // The dense route's selection over a product c: one key per position, a full
    // cub sort, the first k keys into sorted_keys. Its buffers are allocated per
    // call, as a library call would.
    const auto sort_select = [&](const float* c) {
      DeviceBuffer keys(static_cast<std::size_t>(rows * cols) * 8), sorted(static_cast<std::size_t>(rows * cols) * 8),
          temp(std::max<std::size_t>(sort_temp_bytes, 1));
      cuda::launch("dense_keys_kernel", dense_keys_kernel, dim3(cuda::blocks_for(cols, 256), static_cast<unsigned>(rows)),
                   dim3(256), 0, s, keys.as<unsigned long long>(), c, static_cast<const std::int32_t*>(rp.as<std::int32_t>()),
                   static_cast<const std::int32_t*>(ci.as<std::int32_t>()), rows, cols);
      const std::size_t temp_bytes = sort_temp_bytes;
      BENCH_CHECK(dynasparse_bench::sort_keys(temp.buffer->data(), temp_bytes, keys.as<unsigned long long>(),
                                              sorted.as<unsigned long long>(), rows * cols, bench_stream()));
      BENCH_CHECK(cudaMemcpyAsync(sorted_keys.buffer->data(), sorted.buffer->data(), static_cast<std::size_t>(k) * 8,
                                  cudaMemcpyDeviceToDevice, bench_stream()));
    };
    const auto dense = [&] {
      DeviceBuffer c(static_cast<std::size_t>(rows * cols) * 4);
      dense_product(c.as<float>());
      sort_select(c.as<float>());
    };
    const double dense_ms = median_ms(dense);
    report("topk_growth", "cublas_sgemm+cub_sort", shape, dense_ms, "gflops", flops);
    report_memory("topk_growth", "cublas_sgemm+cub_sort", shape, peak_extra(dense));
    report_ratio("topk_growth", "cublas_sgemm+cub_sort", shape, ours_ms, dense_ms);

    // The two selections agree except where rounding moves the boundary.
    const std::vector<unsigned long long> keys = download<unsigned long long>(sorted_keys, k);
    std::unordered_set<std::int64_t> dense_set;
    for (unsigned long long key : keys) dense_set.insert(static_cast<std::int64_t>(key & 0xffffffffull));
    std::int64_t shared = 0;
    for (std::int64_t n = 0; n < k; ++n) shared += dense_set.count(std::int64_t{got_rows[n]} * cols + got_cols[n]);
    std::printf("{\"bench\":\"gpu\",\"op\":\"check\",\"impl\":\"topk_growth_vs_dense_route\",\"shared\":%lld,"
                "\"k\":%lld,\"ok\":%s}\n",
                static_cast<long long>(shared), static_cast<long long>(k), shared >= k - k / 100 ? "true" : "false");
    if (shared < k - k / 100) ++g_failed_checks;
    std::fflush(stdout);

    // topk_dense (SNFS's selection over a held dense score) on the same cuBLAS
    // product, against that route's own selection (keys + full cub sort); both
    // read the same scores, so the positions must agree exactly.
    DeviceBuffer c(static_cast<std::size_t>(rows * cols) * 4);
    dense_product(c.as<float>());
    const auto held_ours = [&] {
      cuda::topk_dense(out_rows.as<std::int32_t>(), out_cols.as<std::int32_t>(), out_scores.as<float>(), c.as<float>(),
                       rp.as<std::int32_t>(), ci.as<std::int32_t>(), rows, cols, nnz, k, s);
    };
    const auto held_sort = [&] { sort_select(c.as<float>()); };
    const double held_ours_ms = median_ms(held_ours), held_sort_ms = median_ms(held_sort);
    report("topk_dense", "dynasparse", shape, held_ours_ms, "gitems", double(rows) * double(cols));
    report("topk_dense", "cub_sort", shape, held_sort_ms, "gitems", double(rows) * double(cols));
    report_ratio("topk_dense", "cub_sort", shape, held_ours_ms, held_sort_ms);
    const std::vector<std::int32_t> dense_rows = download<std::int32_t>(out_rows, k), dense_cols = download<std::int32_t>(out_cols, k);
    const std::vector<unsigned long long> held_keys = download<unsigned long long>(sorted_keys, k);
    bool same = true;
    for (std::int64_t n = 0; n < k && same; ++n)
      same = static_cast<std::int64_t>(held_keys[n] & 0xffffffffull) == std::int64_t{dense_rows[n]} * cols + dense_cols[n];
    std::printf("{\"bench\":\"gpu\",\"op\":\"check\",\"impl\":\"topk_dense_vs_sort\",\"ok\":%s}\n", same ? "true" : "false");
    if (!same) ++g_failed_checks;
    std::fflush(stdout);
  });
}

// --- the kernels of a topology update, GradMax and 2:4 construction -------------
//
// They have no vendor baseline: each is measured against its CPU twin in the
// same run (median of the GPU runs; median of up to 5 CPU runs on all cores),
// as {"op":"ratio","versus":"cpu_twin"} lines. A RigL update on a 4096 x 4096
// layer at 90% sparsity: the transpose its backward pass caches, bottom-k of
// 30% of the weights, SET's random growth of as many, and the rebuild of the
// pattern from those lists; GradMax's eigensolver on a 1024 x 1024 M for k = 8;
// 2:4 compression of a 4096 x 4096 weight, and the bf16 copies to and from
// cuSPARSELt's operands at that size; the mma.sp layout probe's kernel, one
// instruction per warp, on the tensor cores and as its portable twin.

double host_median_ms(const std::function<void()>& fn) {
  std::vector<double> times;
  for (int r = 0; r < std::min(g_runs, 5); ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    fn();
    times.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }
  std::sort(times.begin(), times.end());
  return times[times.size() / 2];
}

void report_vs_cpu(const char* op, const std::string& shape, double gpu_ms, double cpu_ms, double amount) {
  report(op, "dynasparse", shape, gpu_ms, "gitems", amount);
  report(op, "cpu_twin", shape, cpu_ms, "gitems", amount);
  report_ratio(op, "cpu_twin", shape, gpu_ms, cpu_ms);
}

void bench_pattern() {
  const std::int64_t rows = g_quick ? 512 : 4096, cols = rows;
  const HostCsr a = random_csr(rows, cols, 0.1, 31);
  const auto nnz = static_cast<std::int64_t>(a.col_idx.size());
  const std::int64_t k = nnz * 3 / 10;
  const std::string shape = shape_of({{"rows", rows}, {"cols", cols}, {"nnz", nnz}, {"k", k}});
  const Stream s = cuda::stream();
  DeviceBuffer rp = upload(a.row_ptr), ci = upload(a.col_idx), va = upload(a.values);

  {  // the transpose
    DeviceBuffer rp_t((cols + 1) * 4), ri(nnz * 4), perm(nnz * 4);
    std::vector<std::int32_t> h_rp(cols + 1), h_ri(nnz), h_perm(nnz), cursor(cols);
    report_vs_cpu("csr_transpose", shape, median_ms([&] {
                    cuda::csr_transpose(rp_t.as<std::int32_t>(), ri.as<std::int32_t>(), perm.as<std::int32_t>(),
                                        rp.as<std::int32_t>(), ci.as<std::int32_t>(), rows, cols, nnz, s);
                  }),
                  host_median_ms([&] {
                    cpu::csr_transpose(h_rp.data(), h_ri.data(), h_perm.data(), cursor.data(), a.row_ptr.data(),
                                       a.col_idx.data(), rows, cols);
                  }),
                  double(nnz));
  }

  // Drop and grow lists, the same for both backends (the CPU's selections).
  std::vector<std::int32_t> drop_rows(k), drop_cols(k), drop(k), grow_rows(k), grow_cols(k);
  std::vector<float> drop_scores(k);
  {
    DeviceBuffer o_rows(k * 4), o_cols(k * 4), o_idx(k * 4), o_scores(k * 4);
    report_vs_cpu("bottomk_magnitude", shape, median_ms([&] {
                    cuda::bottomk_magnitude(o_rows.as<std::int32_t>(), o_cols.as<std::int32_t>(), o_idx.as<std::int32_t>(),
                                            o_scores.as<float>(), rp.as<std::int32_t>(), ci.as<std::int32_t>(),
                                            va.as<float>(), rows, cols, nnz, k, s);
                  }),
                  host_median_ms([&] {
                    cpu::bottomk_magnitude(drop_rows.data(), drop_cols.data(), drop.data(), drop_scores.data(),
                                           a.row_ptr.data(), a.col_idx.data(), a.values.data(), rows, cols, k);
                  }),
                  double(nnz));
    report_vs_cpu("random_growth", shape, median_ms([&] {
                    cuda::random_growth(o_rows.as<std::int32_t>(), o_cols.as<std::int32_t>(), rp.as<std::int32_t>(),
                                        ci.as<std::int32_t>(), rows, cols, nnz, k, 7, 1, s);
                  }),
                  host_median_ms([&] {
                    cpu::random_growth(grow_rows.data(), grow_cols.data(), a.row_ptr.data(), a.col_idx.data(), rows, cols, k,
                                       7, 1);
                  }),
                  double(k));
  }
  report_vs_cpu("topology_rebuild", shape, median_ms([&] {
                  cuda::topology_rebuild(rp.as<std::int32_t>(), ci.as<std::int32_t>(), rows, cols, nnz, drop.data(), k,
                                         grow_rows.data(), grow_cols.data(), k, s);
                }),
                host_median_ms([&] {
                  cpu::topology_rebuild(a.row_ptr.data(), a.col_idx.data(), rows, cols, nnz, drop.data(), k, grow_rows.data(),
                                        grow_cols.data(), k);
                }),
                double(nnz));

  {  // GradMax's eigensolver
    const std::int64_t n = g_quick ? 128 : 1024, p = n, kv = 8;
    const std::vector<float> m = normal_host(n * p, 41);
    DeviceBuffer d_m = upload(m), d_vec(n * kv * 4);
    std::vector<float> vec(n * kv), ev(kv), res(kv);
    cpu::TopEigenOptions options;
    const std::string eshape = shape_of({{"n", n}, {"p", p}, {"k", kv}});
    report_vs_cpu("top_gram_eigenvectors", eshape, median_ms([&] {
                    cuda::top_gram_eigenvectors(d_m.as<float>(), n, p, kv, options, d_vec.as<float>(), ev.data(), res.data(),
                                                s);
                  }),
                  host_median_ms([&] {
                    cpu::top_gram_eigenvectors(m.data(), n, p, kv, options, vec.data(), ev.data(), res.data());
                  }),
                  double(n * p));
    // The same solver with M = (1/B) G Fᵀ never formed (GradMax at batch B).
    const std::int64_t batch = 64;
    const std::vector<float> g = normal_host(n * batch, 45), f = normal_host(p * batch, 47);
    DeviceBuffer d_g = upload(g), d_f = upload(f);
    cpu::GramFactors host_factors, device_factors;
    host_factors.g = g.data();
    host_factors.f = f.data();
    device_factors.g = d_g.as<float>();
    device_factors.f = d_f.as<float>();
    host_factors.r = device_factors.r = batch;
    host_factors.alpha = device_factors.alpha = 1.0f / batch;
    report_vs_cpu("top_gram_eigenvectors_factored", shape_of({{"n", n}, {"p", p}, {"r", batch}, {"k", kv}}),
                  median_ms([&] {
                    cuda::top_gram_eigenvectors(device_factors, n, p, kv, options, d_vec.as<float>(), ev.data(),
                                                res.data(), s);
                  }),
                  host_median_ms([&] {
                    cpu::top_gram_eigenvectors(host_factors, n, p, kv, options, vec.data(), ev.data(), res.data());
                  }),
                  double(n * batch));
  }

  {  // 2:4 compression
    const std::vector<float> w = normal_host(rows * cols, 43);
    DeviceBuffer d_w = upload(w), d_v(rows * cols / 2 * 4), d_meta(rows * cpu::sparse24_meta_words(cols) * 4);
    std::vector<float> h_v(rows * cols / 2);
    std::vector<std::int32_t> h_meta(rows * cpu::sparse24_meta_words(cols));
    const std::string wshape = shape_of({{"rows", rows}, {"cols", cols}});
    report_vs_cpu("sparse24_from_dense", wshape, median_ms([&] {
                    cuda::sparse24_from_dense(d_v.as<float>(), d_meta.as<std::int32_t>(), d_w.as<float>(), rows, cols, s);
                  }),
                  host_median_ms([&] { cpu::sparse24_from_dense(h_v.data(), h_meta.data(), w.data(), rows, cols); }),
                  double(rows * cols));

    // The bf16 copies of the cuSPARSELt baseline (impl: 'cusparselt'): w padded
    // by one 32-wide block each way into bf16, and back with alpha / beta.
    const std::int64_t prow = rows + 32, pcol = cols + 32;
    DeviceBuffer d_h(prow * pcol * 2), d_c(rows * cols * 4);
    std::vector<std::uint16_t> h_h(prow * pcol);
    std::vector<float> h_c(rows * cols, 1.0f);
    report_vs_cpu("to_bf16_padded", wshape, median_ms([&] {
                    cuda::to_bf16_padded(d_h.as<std::uint16_t>(), prow, pcol, d_w.as<float>(), rows, cols, cols, s);
                  }),
                  host_median_ms([&] { cpu::to_bf16_padded(h_h.data(), prow, pcol, w.data(), rows, cols, cols); }),
                  double(prow * pcol));
    report_vs_cpu("bf16_to_f32_axpby", wshape, median_ms([&] {
                    cuda::bf16_to_f32_axpby(d_c.as<float>(), cols, d_h.as<std::uint16_t>(), pcol, rows, cols, 2.0f,
                                            0.5f, s);
                  }),
                  host_median_ms([&] {
                    cpu::bf16_to_f32_axpby(h_c.data(), cols, h_h.data(), pcol, rows, cols, 2.0f, 0.5f);
                  }),
                  double(rows * cols));
  }
  {
    // The mma.sp layout probe's kernel (ops/mma_sp_fragments.h): one instruction
    // per warp on registers read from memory, against its portable twin and
    // its CPU twin (items: warps, each one 16 x 8 x 32 product). Small integers
    // and ordered metadata (positions 0, 1), accumulating run after run.
    const std::int64_t warps = g_quick ? 256 : 16384;
    std::vector<std::uint32_t> h_a(static_cast<std::size_t>(warps * 128)), h_b(h_a.size()),
        h_e(static_cast<std::size_t>(warps * 32), 0x44444444u);
    for (std::size_t i = 0; i < h_a.size(); ++i) {
      h_a[i] = bf16_pair(float(i % 7) - 3.0f, float(i % 5) - 2.0f);
      h_b[i] = bf16_pair(float(i % 3) - 1.0f, float(i % 11) - 5.0f);
    }
    std::vector<float> h_d(h_a.size(), 0.0f);
    DeviceBuffer m_a = upload(h_a), m_b = upload(h_b), m_e = upload(h_e), m_d = upload(h_d);
    const auto on_device = [&](cuda::MmaPath path) {
      return median_ms([&] {
        cuda::mma_sp_fragments(m_d.as<float>(), m_a.as<std::uint32_t>(), m_b.as<std::uint32_t>(),
                               m_e.as<std::uint32_t>(), 0, warps, s, path);
      });
    };
    const std::string mshape = shape_of({{"warps", warps}});
    const double tensor_ms = on_device(cuda::MmaPath::TensorCores), twin_ms = on_device(cuda::MmaPath::Portable);
    report_vs_cpu("mma_sp_fragments", mshape, tensor_ms, host_median_ms([&] {
                    cpu::mma_sp_fragments(h_d.data(), h_a.data(), h_b.data(), h_e.data(), 0, warps);
                  }),
                  double(warps));
    report("mma_sp_fragments", "portable_twin", mshape, twin_ms, "gitems", double(warps));
    report_ratio("mma_sp_fragments", "portable_twin", mshape, tensor_ms, twin_ms);
  }
}

// --- 2:4 structured sparsity: cuSPARSELt against dense cuBLAS GemmEx ----------

__global__ void to_half_kernel(void* out, const float* in, std::int64_t n, bool bf16) {
  const std::int64_t i = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= n) return;
  if (bf16)
    static_cast<__nv_bfloat16*>(out)[i] = __float2bfloat16(in[i]);
  else
    static_cast<__half*>(out)[i] = __float2half(in[i]);
}

void fill_half(void* out, std::int64_t n, bool bf16, std::uint64_t seed) {
  DeviceBuffer tmp(n * 4);
  cuda::fill_normal(tmp.as<float>(), n, seed, rng::kStreamTensor, 0.0f, 1.0f, cuda::stream());
  cuda::launch("to_half_kernel", to_half_kernel, dim3(cuda::blocks_for(n, 256, (1LL << 31) - 1)), dim3(256), 0,
               cuda::stream(), out, tmp.as<float>(), n, bf16);
  BENCH_CHECK(cudaStreamSynchronize(bench_stream()));
}

// Our 2:4 products on the shape's A [m, k] (2:4 by magnitude) and B [k, n], in
// the API's fp32 tensors: the portable fp32 kernel and the tensor-core bf16
// kernel, the latter alone and with the per-call refresh of its bf16 values
// that spmm(a, b, { precision: 'bf16' }) does. Returns the mma kernel's median.
struct Ours24 {
  double fp32_ms = 0, mma_ms = 0, mma_refresh_ms = 0;
};

Ours24 bench_ours_24(std::int64_t m, std::int64_t n, std::int64_t k, const std::string& shape, double flops,
                     bool check) {
  const Stream s = cuda::stream();
  DeviceBuffer dense(m * k * 4), values(m * (k / 2) * 4), meta(m * cpu::sparse24_meta_words(k) * 4);
  DeviceBuffer b(k * n * 4), c(m * n * 4), c_mma(m * n * 4);
  cuda::fill_normal(dense.as<float>(), m * k, 3, rng::kStreamTensor, 0.0f, 1.0f, s);
  cuda::fill_normal(b.as<float>(), k * n, 4, rng::kStreamTensor, 0.0f, 1.0f, s);
  cuda::sparse24_from_dense(values.as<float>(), meta.as<std::int32_t>(), dense.as<float>(), m, k, s);
  const Sparse24MmaShape ms = sparse24_mma_shape(m, k);
  DeviceBuffer mma_values(ms.value_words() * 4), mma_meta(ms.meta_words() * 4);
  cuda::sparse24_mma_meta(mma_meta.as<std::uint32_t>(), meta.as<std::int32_t>(), m, k, s);
  cuda::sparse24_mma_values(mma_values.as<std::uint32_t>(), values.as<float>(), m, k, s);
  Ours24 r;
  r.fp32_ms = median_ms([&] {
    cuda::spmm_24(c.as<float>(), n, values.as<float>(), meta.as<std::int32_t>(), m, k, b.as<float>(), n, n, 1.0f, 0.0f,
                  s);
  });
  report("gemm_24", "ours_fp32", shape, r.fp32_ms, "gflops", flops);
  auto mma = [&] {
    cuda::spmm_24_bf16(c_mma.as<float>(), n, mma_values.as<std::uint32_t>(), mma_meta.as<std::uint32_t>(), m, k,
                       b.as<float>(), n, n, 1.0f, 0.0f, s);
  };
  r.mma_ms = median_ms(mma);
  report("gemm_24", "ours_mma_bf16", shape, r.mma_ms, "gflops", flops);
  r.mma_refresh_ms = median_ms([&] {
    cuda::sparse24_mma_values(mma_values.as<std::uint32_t>(), values.as<float>(), m, k, s);
    mma();
  });
  report("gemm_24", "ours_mma_bf16_with_refresh", shape, r.mma_refresh_ms, "gflops", flops);
  if (check) {
    // At the first (smaller) shape only: the transposed product (a 2:4 layer's
    // input gradient; each output row scans A's rows, so its cost grows with
    // m k n / 2, too slow to time at 8192^3) and the expansions of A.
    DeviceBuffer bt(m * n * 4), ct(k * n * 4), expanded(m * k * 4);
    cuda::fill_normal(bt.as<float>(), m * n, 5, rng::kStreamTensor, 0.0f, 1.0f, s);
    report("gemm_24_trans", "ours_fp32", shape, median_ms([&] {
             cuda::spmm_24_trans(ct.as<float>(), n, values.as<float>(), meta.as<std::int32_t>(), m, k, bt.as<float>(), n, n,
                                 1.0f, 0.0f, s);
           }),
           "gflops", flops);
    report("sparse24_to_dense", "ours", shape, median_ms([&] {
             cuda::sparse24_to_dense(expanded.as<float>(), values.as<float>(), meta.as<std::int32_t>(), m, k, s);
           }),
           "gbps", 4.0 * double(m) * double(k) * 1.5);
    report("sparse24_mask", "ours", shape,
           median_ms([&] { cuda::sparse24_mask(expanded.as<float>(), meta.as<std::int32_t>(), m, k, s); }), "gbps",
           4.0 * double(m) * double(k));

    // What spmm(a, b, { precision: 'bf16', impl: 'cusparselt' }) costs per call
    // on our storage: expansion, bf16 copies, plan, compression, product.
    if (baseline::libraries().cusparselt.loaded) {
      guard("gemm_24", "cusparselt_per_call", [&] {
        DeviceBuffer c_lt(m * n * 4);
        report("gemm_24", "cusparselt_per_call", shape, median_ms([&] {
                 baseline::spmm_24_sparselt(c_lt.as<float>(), values.as<float>(), meta.as<std::int32_t>(), m, k,
                                            b.as<float>(), n, 1.0f, 0.0f, s);
               }),
               "gflops", flops);
      });
    }

    // bf16 inputs: |C_mma - C_fp32| within ~2^-7 of sum |a b| ~ sqrt(k/2) for N(0,1) data.
    std::vector<float> x(static_cast<std::size_t>(m * n)), y(x.size());
    copy_bytes(x.data(), Device::Cpu, c.as<float>(), Device::Cuda, x.size() * 4);
    copy_bytes(y.data(), Device::Cpu, c_mma.as<float>(), Device::Cuda, y.size() * 4);
    report_check("spmm_24_bf16_vs_fp32", max_abs_diff(x, y), std::ldexp(double(k) / 2, -7));
  }
  return r;
}

// cuBLAS GemmEx (the dense reference of the 2:4 comparison) against the CPU on
// a small shape: the operand order and leading dimensions of its row-major
// swap. Small integers make every input, sum and 16-bit result exact (sums
// stay within 256), so the tolerance is 0.
void check_gemm_half() {
  const std::int64_t m = 40, n = 24, k = 56;
  std::vector<float> a = normal_host(m * k, 21), b = normal_host(k * n, 22);
  for (float& v : a) v = std::trunc(std::fmax(-2.0f, std::fmin(2.0f, v * 1.5f)));
  for (float& v : b) v = std::trunc(std::fmax(-2.0f, std::fmin(2.0f, v * 1.5f)));
  std::vector<float> want(static_cast<std::size_t>(m * n));
  cpu::gemm_builtin(false, false, m, n, k, 1.0f, a.data(), k, b.data(), n, 0.0f, want.data(), n);
  for (const bool bf16 : {false, true}) {
    const auto to16 = [&](const std::vector<float>& v) {
      std::vector<std::uint16_t> h(v.size());
      for (std::size_t i = 0; i < v.size(); ++i) {
        if (bf16) {
          h[i] = bf16_bits(v[i]);
        } else {
          const __half_raw x = __float2half_rn(v[i]);
          h[i] = x.x;
        }
      }
      return h;
    };
    DeviceBuffer da = upload(to16(a)), db = upload(to16(b)), dd(m * n * 2);
    baseline::gemm_half(bf16 ? baseline::HalfType::BF16 : baseline::HalfType::F16, m, n, k, 1.0f, da.buffer->data(),
                        db.buffer->data(), 0.0f, dd.buffer->data(), cuda::stream());
    const std::vector<std::uint16_t> d = download<std::uint16_t>(dd, static_cast<std::size_t>(m * n));
    std::vector<float> got(d.size());
    for (std::size_t i = 0; i < d.size(); ++i) {
      if (bf16) {
        got[i] = bf16_float(d[i]);
      } else {
        __half_raw x;
        x.x = d[i];
        got[i] = __half2float(__half(x));
      }
    }
    report_check(bf16 ? "cublas_gemmex_bf16" : "cublas_gemmex_fp16", max_abs_diff(got, want), 0.0);
  }
}

void bench_24() {
  const baseline::Libraries& libs = baseline::libraries();
  if (libs.cublas.loaded) guard("check", "cublas_gemmex", check_gemm_half);
  const std::int64_t shapes[][3] = {{4096, 256, 4096}, {8192, 8192, 8192}};
  bool first = true;
  for (const auto& sh : shapes) {
    const std::int64_t m = g_quick ? sh[0] / 16 : sh[0], n = g_quick ? sh[1] / 16 : sh[1],
                       k = g_quick ? sh[2] / 16 : sh[2];
    const std::string dims = shape_of({{"m", m}, {"n", n}, {"k", k}});
    const double flops = 2.0 * double(m) * double(n) * double(k);  // dense-equivalent
    double dense_ms[2] = {0, 0}, lt_ms[2] = {0, 0};                // fp16, bf16 (0: not measured)
    for (const bool bf16 : {false, true}) {
      const std::string shape = dims + " " + (bf16 ? "bf16" : "fp16");
      const baseline::HalfType t = bf16 ? baseline::HalfType::BF16 : baseline::HalfType::F16;
      DeviceBuffer a(m * k * 2), b(k * n * 2), d(m * n * 2);
      fill_half(a.buffer->data(), m * k, bf16, 1);
      fill_half(b.buffer->data(), k * n, bf16, 2);
      if (libs.cublas.loaded) {
        guard("gemm_dense", "cublas_gemmex", [&] {
          dense_ms[bf16] = median_ms([&] {
            baseline::gemm_half(t, m, n, k, 1.0f, a.buffer->data(), b.buffer->data(), 0.0f, d.buffer->data(),
                                cuda::stream());
          });
          report("gemm_dense", "cublas_gemmex", shape, dense_ms[bf16], "gflops", flops);
        });
      } else {
        report_skip("gemm_dense", "cublas_gemmex", libs.cublas.reason);
      }
      if (libs.cusparselt.loaded) {
        guard("gemm_24", "cusparselt", [&] {
          baseline::SparseLt24 lt(t, m, n, k, a.buffer->data(), b.buffer->data(), d.buffer->data(), cuda::stream());
          lt_ms[bf16] = median_ms([&] { lt.run(); });
          report("gemm_24", "cusparselt", shape, lt_ms[bf16], "gflops", flops);
        });
      } else {
        report_skip("gemm_24", "cusparselt", libs.cusparselt.reason);
      }
    }
    // HOOK(2:4), filled: ours at the same shape (fp32 tensors in and out), and
    // the ratios against the baselines measured just above in this run.
    const std::string shape = dims + " fp32 io";
    const Ours24 ours = bench_ours_24(m, n, k, shape, flops, first);
    first = false;
    const char* names[2] = {"cublas_gemmex_fp16", "cublas_gemmex_bf16"};
    const char* lt_names[2] = {"cusparselt_fp16", "cusparselt_bf16"};
    for (int h = 0; h < 2; ++h) {
      if (dense_ms[h] > 0) {
        report_ratio("spmm_24_mma_bf16", names[h], shape, ours.mma_ms, dense_ms[h]);
        report_ratio("spmm_24_mma_bf16_with_refresh", names[h], shape, ours.mma_refresh_ms, dense_ms[h]);
        report_ratio("spmm_24_fp32", names[h], shape, ours.fp32_ms, dense_ms[h]);
      }
      if (lt_ms[h] > 0) report_ratio("spmm_24_mma_bf16", lt_names[h], shape, ours.mma_ms, lt_ms[h]);
    }
  }
}

// Runs one section; a failure is reported (guard) and the next section still runs.
void section(const char* name, void (*fn)()) {
  if (seconds_left() < 5.0) {
    report_skip(name, "section", "the deadline (--deadline) is reached");
    return;
  }
  guard(name, "section", fn);
}

}  // namespace

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--quick") == 0)
      g_quick = true;
    else if (std::strcmp(argv[i], "--deadline") == 0 && i + 1 < argc)
      g_deadline = std::chrono::steady_clock::now() + std::chrono::seconds(std::max(1, std::atoi(argv[++i])));
    else
      g_runs = std::max(1, std::atoi(argv[i]));
  }
  const cuda::DeviceInfo& info = cuda::device_info();
  if (!info.available) {
    std::fprintf(stderr, "gpu_bench: skipped: %s\n", info.reason.c_str());
    return 77;
  }
  const baseline::Libraries& libs = baseline::libraries();
  std::printf("{\"bench\":\"gpu\",\"op\":\"device\",\"name\":\"%s\",\"compute_capability\":%d,\"memory_bytes\":%zu,"
              "\"allocator\":\"%s\",\"cublas\":\"%s\",\"cusparse\":\"%s\",\"cusparselt\":\"%s\"}\n",
              json_text(info.device_name).c_str(), info.compute_capability, info.total_memory, cuda::allocator_name(),
              json_text(libs.cublas.loaded ? libs.cublas.path : "missing: " + libs.cublas.reason).c_str(),
              json_text(libs.cusparse.loaded ? libs.cusparse.path : "missing: " + libs.cusparse.reason).c_str(),
              json_text(libs.cusparselt.loaded ? libs.cusparselt.path : "missing: " + libs.cusparselt.reason).c_str());
  std::fflush(stdout);
  section("bandwidth", bench_bandwidth);
  section("gemm", bench_gemm);
  section("sparse", bench_sparse);
  section("topk", bench_topk);
  section("pattern", bench_pattern);
  section("2:4", bench_24);
  // Last: it is the longest, and it fits its time box into what is left.
  section("sparse_sweep", bench_sparse_sweep);
  try {
    synchronize(Device::Cuda);
  } catch (const std::exception& e) {
    ++g_failed_checks;
    std::fprintf(stderr, "gpu_bench: %s\n", e.what());
  }
  if (g_failed_checks > 0) std::fprintf(stderr, "gpu_bench: %d check(s) or section(s) failed\n", g_failed_checks);
  return g_failed_checks > 0 ? 1 : 0;
}
