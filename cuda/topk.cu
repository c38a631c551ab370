// CUDA twins of cpu/topk.cpp and cpu/bottomk.cpp: topk_growth (the k largest
// |dy · xᵀ| outside a pattern), topk_dense (the k largest |dense| outside a
// pattern) and bottomk_magnitude (the k smallest stored |value|).
//
// Both are a radix selection over candidates that are regenerated rather than
// stored (select/radix.cuh): a few histogram passes find the selection's
// boundary exactly (score, then flat index among ties), one pass emits the
// selected candidates (a few more when a small group is taken whole), a
// device merge sort orders them (select/sort.cuh), and a last kernel writes
// the first count as the outputs. For topk_growth each pass recomputes the
// product tile by tile in shared memory and registers (select/growth_pass.cuh):
// compute is cheap next to storing rows x cols floats, which never happens.
// Scratch memory is O(k): the state, a histogram, two buffers of k + k / 4
// records.
//
// Same results as the CPU, bit for bit: the scores are computed with the
// CPU's sequence of roundings (no FMA), the order (score, then flat index) is
// total, and NaN is counted, never selected, as on the CPU.
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "dynasparse/ops/topk.h"
#include "launch.cuh"
#include "select/growth_pass.cuh"
#include "select/magnitude_pass.cuh"
#include "select/radix.cuh"
#include "select/sort.cuh"

namespace dynasparse::cuda {
namespace {

using select::Digit;
using select::Record;
using select::State;

constexpr int kThreads = 256;

__global__ void growth_output_kernel(std::int32_t* __restrict__ out_rows, std::int32_t* __restrict__ out_cols,
                                     float* __restrict__ out_scores, const Record* __restrict__ rec, const State* st) {
  const long long n = st->count;
  const long long stride = static_cast<long long>(gridDim.x) * blockDim.x;
  for (long long i = static_cast<long long>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride) {
    const Record r = rec[i];
    out_rows[i] = r.hi;
    out_cols[i] = r.lo;
    out_scores[i] = __uint_as_float(~r.rk);
  }
}

__global__ void magnitude_output_kernel(std::int32_t* __restrict__ out_rows, std::int32_t* __restrict__ out_cols,
                                        std::int32_t* __restrict__ out_indices, float* __restrict__ out_scores,
                                        const Record* __restrict__ rec, const State* st,
                                        const std::int32_t* __restrict__ row_ptr, const std::int32_t* __restrict__ col_idx,
                                        std::int64_t rows) {
  const long long n = st->count;
  const long long stride = static_cast<long long>(gridDim.x) * blockDim.x;
  for (long long i = static_cast<long long>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride) {
    const Record r = rec[i];
    const std::int32_t v = r.lo;
    // The row holding value v: the last row with row_ptr[row] <= v (empty rows skipped), as on the CPU.
    out_rows[i] = static_cast<std::int32_t>(upper_bound(row_ptr, 0, rows + 1, v) - 1);
    out_cols[i] = col_idx[v];
    out_indices[i] = v;
    out_scores[i] = __uint_as_float(r.rk);
  }
}

// How many candidates beyond k a group taken whole may bring (radix.cuh).
std::int64_t surplus_for(std::int64_t k) { return k / 4; }

// The scratch of one selection of k > 0 entries: room for k + surplus records.
struct SelectionScratch {
  std::int64_t capacity;
  Scratch<State> state;
  Scratch<unsigned long long> hist;
  Scratch<Record> a, b;
  SelectionScratch(std::int64_t k, Stream s, const char* op)
      : capacity(k + surplus_for(k)),
        state(kernel_scratch<State>(1, s, op)),
        hist(kernel_scratch<unsigned long long>(select::kBins, s, op)),
        a(kernel_scratch<Record>(static_cast<std::size_t>(capacity), s, op)),
        b(kernel_scratch<Record>(static_cast<std::size_t>(capacity), s, op)) {}
};

// The selection's counts on the host, after checking that the emit pass wrote
// exactly what the histograms promised (anything else is a bug, reported
// rather than returned).
Selection finish(const State* st, const char* op) {
  const State h = read_back(st);
  if (h.emitted != static_cast<unsigned long long>(h.emit_count) || h.emit_count < h.count)
    fail(ErrorCode::Cuda, std::string(op) + ": internal error: the selection emitted " + std::to_string(h.emitted) +
                              " candidates for " + std::to_string(h.emit_count) + " (count " + std::to_string(h.count) + ")");
  Selection result;
  result.count = h.count;
  result.nan_count = static_cast<std::int64_t>(h.nan_count);
  return result;
}

}  // namespace

std::int64_t selection_scratch_bytes(std::int64_t k) {
  if (k <= 0) return 0;
  return static_cast<std::int64_t>(sizeof(State) + sizeof(unsigned long long) * select::kBins) +
         2 * (k + surplus_for(k)) * static_cast<std::int64_t>(sizeof(Record));
}

namespace {

// The selection over every position not stored in the pattern, scored by the
// product dy · xᵀ (kDense = false) or by |a| of a dense [rows, cols] matrix
// (kDense = true; b and batch unused): the histogram passes, the emit pass,
// the sort and the outputs. k > 0, checked by the caller.
template <bool kDense>
Selection growth_selection(std::int32_t* out_rows, std::int32_t* out_cols, float* out_scores, const float* a,
                           const float* b, const std::int32_t* row_ptr, const std::int32_t* col_idx, std::int64_t rows,
                           std::int64_t cols, std::int64_t batch, std::int64_t k, Stream s, const char* op) {
  SelectionScratch scratch(k, s, op);
  State* st = scratch.state.data();
  unsigned long long* hist = scratch.hist.data();
  launch("select_init_kernel", select::init_kernel, dim3(1), dim3(kThreads), 0, s, st, hist);

  const std::int64_t tiles_m = (rows + select::kTileM - 1) / select::kTileM;
  const std::int64_t tiles_n = (cols + select::kTileN - 1) / select::kTileN;
  const dim3 grid(static_cast<unsigned>(tiles_n < 65535 ? tiles_n : 65535),
                  static_cast<unsigned>(tiles_m < 65535 ? tiles_m : 65535));
  const dim3 block(select::kGrowthThreads);
  const std::size_t choose_shared = sizeof(unsigned long long) * select::kChooseWarps;
  const char* histogram_name = kDense ? "dense_histogram_kernel" : "growth_histogram_kernel";
  for (const Digit& d : select::digit_plan(select::bits_for(static_cast<std::uint64_t>(rows * cols - 1)))) {
    launch(histogram_name, select::growth_pass_kernel<false, kDense>, grid, block, select::kGrowthShared, s, a, b, row_ptr,
           col_idx, rows, cols, batch, st, hist, static_cast<Record*>(nullptr), d);
    launch("select_choose_kernel", select::choose_kernel, dim3(1), dim3(select::kChooseThreads), choose_shared, s, st,
           hist, d, static_cast<long long>(k), static_cast<long long>(surplus_for(k)));
  }
  launch(kDense ? "dense_emit_kernel" : "growth_emit_kernel", select::growth_pass_kernel<true, kDense>, grid, block,
         select::kGrowthShared, s, a, b, row_ptr, col_idx, rows, cols, batch, st, hist, scratch.a.data(),
         Digit{0, 0, 0, 0});
  const Record* sorted = select::sort_records(scratch.a.data(), scratch.b.data(), st, scratch.capacity, s);
  launch("growth_output_kernel", growth_output_kernel, dim3(blocks_for(k, kThreads)), dim3(kThreads), 0, s, out_rows,
         out_cols, out_scores, sorted, static_cast<const State*>(st));
  return finish(st, op);
}

// E_ARG unless 0 <= k <= rows * cols - nnz.
void expect_k_candidates(std::int64_t rows, std::int64_t cols, std::int64_t nnz, std::int64_t k) {
  const std::int64_t candidates = rows * cols - nnz;
  if (k < 0 || k > candidates)
    fail(ErrorCode::Arg, "k: expected at most rows * cols - nnz = " + std::to_string(candidates) +
                             " candidate positions, got " + std::to_string(k));
}

}  // namespace

Selection topk_growth(std::int32_t* out_rows, std::int32_t* out_cols, float* out_scores, const float* dy, const float* x,
                      const std::int32_t* row_ptr, const std::int32_t* col_idx, std::int64_t rows, std::int64_t cols,
                      std::int64_t nnz, std::int64_t batch, std::int64_t k, Stream s) {
  expect_k_candidates(rows, cols, nnz, k);
  if (k == 0) return Selection{};  // nothing to select: the product is not computed, as on the CPU
  return growth_selection<false>(out_rows, out_cols, out_scores, dy, x, row_ptr, col_idx, rows, cols, batch, k, s,
                                 "topk_growth");
}

Selection topk_dense(std::int32_t* out_rows, std::int32_t* out_cols, float* out_scores, const float* dense,
                     const std::int32_t* row_ptr, const std::int32_t* col_idx, std::int64_t rows, std::int64_t cols,
                     std::int64_t nnz, std::int64_t k, Stream s) {
  expect_k_candidates(rows, cols, nnz, k);
  if (k == 0) return Selection{};
  return growth_selection<true>(out_rows, out_cols, out_scores, dense, static_cast<const float*>(nullptr), row_ptr,
                                col_idx, rows, cols, std::int64_t{0}, k, s, "topk_dense");
}

Selection bottomk_magnitude(std::int32_t* out_rows, std::int32_t* out_cols, std::int32_t* out_indices, float* out_scores,
                            const std::int32_t* row_ptr, const std::int32_t* col_idx, const float* values,
                            std::int64_t rows, std::int64_t cols, std::int64_t nnz, std::int64_t k, Stream s) {
  static_cast<void>(cols);
  if (k < 0 || k > nnz)
    fail(ErrorCode::Arg, "k: expected at most nnz = " + std::to_string(nnz) + " stored entries, got " + std::to_string(k));
  if (k == 0) return Selection{};

  SelectionScratch scratch(k, s, "bottomk_magnitude");
  State* st = scratch.state.data();
  unsigned long long* hist = scratch.hist.data();
  launch("select_init_kernel", select::init_kernel, dim3(1), dim3(kThreads), 0, s, st, hist);

  const dim3 grid(select::magnitude_blocks(nnz)), block(select::kMagnitudeThreads);
  const std::size_t choose_shared = sizeof(unsigned long long) * select::kChooseWarps;
  for (const Digit& d : select::digit_plan(select::bits_for(static_cast<std::uint64_t>(nnz - 1)))) {
    launch("magnitude_histogram_kernel", select::magnitude_pass_kernel<false>, grid, block, select::kMagnitudeShared, s,
           values, nnz, st, hist, static_cast<Record*>(nullptr), d);
    launch("select_choose_kernel", select::choose_kernel, dim3(1), dim3(select::kChooseThreads), choose_shared, s, st,
           hist, d, static_cast<long long>(k), static_cast<long long>(surplus_for(k)));
  }
  launch("magnitude_emit_kernel", select::magnitude_pass_kernel<true>, grid, block, select::kMagnitudeShared, s, values,
         nnz, st, hist, scratch.a.data(), Digit{0, 0, 0, 0});
  const Record* sorted = select::sort_records(scratch.a.data(), scratch.b.data(), st, scratch.capacity, s);
  launch("magnitude_output_kernel", magnitude_output_kernel, dim3(blocks_for(k, kThreads)), dim3(kThreads), 0, s,
         out_rows, out_cols, out_indices, out_scores, sorted, static_cast<const State*>(st), row_ptr, col_idx, rows);
  return finish(st, "bottomk_magnitude");
}

}  // namespace dynasparse::cuda
