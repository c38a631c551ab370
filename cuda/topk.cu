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
//
// Each pass of topk_growth costs a whole product, and the exact selection
// takes three (two histogram passes, then the emit pass). So where there are
// enough tiles, the growth selections first try one pass: the histogram
// passes run over a sample of the tiles (one in `stride`, every row block and
// column block alike), choosing a threshold a little below the score of the
// k-th best (k scaled to the sample, with a margin); a filter pass then
// emits every candidate at or above it, up to a capacity of k + k / 2 + 1024
// records. When it emitted at least k (or every candidate that is not NaN)
// and no more than the capacity, those hold the selection and the sort
// finishes it: 1 + 2 / stride products instead of 3. When the sample misled
// (or ties crowd the threshold), filter_check_kernel resets the state and the
// exact passes, already enqueued, run as before; the host never waits in
// between. Either way the result is the exact selection, bit for bit.
// Scratch memory is O(k): the state, a histogram, two buffers of at most
// k + k / 2 + 1024 records.
//
// Same results as the CPU, bit for bit: the scores are computed with the
// CPU's sequence of roundings (no FMA), the order (score, then flat index) is
// total, and NaN is counted, never selected, as on the CPU.
#include <algorithm>
#include <cmath>
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

// The record capacity of a selection that tries the filter pass: what the
// filter may emit (the exact passes' k + surplus_for(k) is below it).
std::int64_t filter_capacity(std::int64_t k) { return k + k / 2 + 1024; }

// The sampled threshold of the one-pass growth selection (see the file
// comment): stride 0 means the exact passes only.
struct SamplePlan {
  int stride = 0;
  std::int64_t k_sample = 0;  // the rank, among the sampled candidates, whose score is the threshold
  std::int64_t surplus = 0;   // choose_kernel's surplus for the sampled passes
};

// Sampling needs at least kMinStride tiles both ways (so the sample covers
// every row block and column block with several tiles); the stride grows to
// kMaxStride with the tiles, cutting the sampled passes' cost to 2 / stride of
// a product.
constexpr int kMinStride = 4, kMaxStride = 16;

SamplePlan sample_plan(std::int64_t rows, std::int64_t cols, std::int64_t nnz, std::int64_t k) {
  const std::int64_t tiles_m = (rows + select::kTileM - 1) / select::kTileM;
  const std::int64_t tiles_n = (cols + select::kTileN - 1) / select::kTileN;
  int stride = 1;
  while (stride < kMaxStride && 2 * stride <= std::min(tiles_m, tiles_n)) stride *= 2;
  if (stride < kMinStride) return {};
  // The positions in the sampled tiles (tile (tm, tn) with tn = tm mod stride,
  // as growth_pass_kernel walks them), as a fraction of all positions; the
  // stored entries are assumed to spread alike.
  std::int64_t sampled = 0;
  for (std::int64_t tm = 0; tm < tiles_m; ++tm) {
    const std::int64_t in_rows = std::min<std::int64_t>(select::kTileM, rows - tm * select::kTileM);
    for (std::int64_t tn = tm % stride; tn < tiles_n; tn += stride)
      sampled += in_rows * std::min<std::int64_t>(select::kTileN, cols - tn * select::kTileN);
  }
  const double fraction = static_cast<double>(sampled) / (static_cast<double>(rows) * static_cast<double>(cols));
  // The sample's expected share of the k best, raised by 10% and three
  // standard deviations, so that the threshold admits at least k candidates
  // overall unless the sample is unusual; the filter then emits about 1.1 k,
  // well inside filter_capacity(k).
  const double expected = static_cast<double>(k) * fraction;
  const auto k_sample = static_cast<std::int64_t>(std::ceil(1.1 * expected + 3.0 * std::sqrt(expected) + 4.0));
  // A threshold deep into the sample admits most candidates: not worth a try.
  if (static_cast<double>(k_sample) > 0.5 * fraction * static_cast<double>(rows * cols - nnz)) return {};
  return SamplePlan{stride, k_sample, k_sample / 8};
}

// The scratch of one selection of k > 0 entries: room for `capacity` records.
struct SelectionScratch {
  std::int64_t capacity;
  Scratch<State> state;
  Scratch<unsigned long long> hist;
  Scratch<Record> a, b;
  SelectionScratch(std::int64_t capacity_, Stream s, const char* op)
      : capacity(capacity_),
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
  result.one_pass = h.prefiltered != 0;
  return result;
}

}  // namespace

std::int64_t selection_scratch_bytes(std::int64_t k) {
  if (k <= 0) return 0;
  return static_cast<std::int64_t>(sizeof(State) + sizeof(unsigned long long) * select::kBins) +
         2 * filter_capacity(k) * static_cast<std::int64_t>(sizeof(Record));
}

namespace {

// The selection over every position not stored in the pattern, scored by the
// product dy · xᵀ (kDense = false) or by |a| of a dense [rows, cols] matrix
// (kDense = true; b and batch unused): the histogram passes, the emit pass,
// the sort and the outputs. k > 0, checked by the caller.
template <bool kDense>
Selection growth_selection(std::int32_t* out_rows, std::int32_t* out_cols, float* out_scores, const float* a,
                           const float* b, const std::int32_t* row_ptr, const std::int32_t* col_idx, std::int64_t rows,
                           std::int64_t cols, std::int64_t nnz, std::int64_t batch, std::int64_t k,
                           bool allow_one_pass, Stream s, const char* op) {
  using select::Pass;
  const SamplePlan plan = allow_one_pass ? sample_plan(rows, cols, nnz, k) : SamplePlan{};
  SelectionScratch scratch(plan.stride != 0 ? filter_capacity(k) : k + surplus_for(k), s, op);
  State* st = scratch.state.data();
  unsigned long long* hist = scratch.hist.data();
  launch("select_init_kernel", select::init_kernel, dim3(1), dim3(kThreads), 0, s, st, hist);

  const std::int64_t tiles_m = (rows + select::kTileM - 1) / select::kTileM;
  const std::int64_t tiles_n = (cols + select::kTileN - 1) / select::kTileN;
  const auto grid_for = [&](std::int64_t stride) {
    const std::int64_t across = (tiles_n + stride - 1) / stride;
    return dim3(static_cast<unsigned>(across < 65535 ? across : 65535),
                static_cast<unsigned>(tiles_m < 65535 ? tiles_m : 65535));
  };
  const dim3 grid = grid_for(1);
  const dim3 block(select::kGrowthThreads);
  const std::size_t choose_shared = sizeof(unsigned long long) * select::kChooseWarps;
  const char* histogram_name = kDense ? "dense_histogram_kernel" : "growth_histogram_kernel";
  const std::vector<Digit> digits = select::digit_plan(select::bits_for(static_cast<std::uint64_t>(rows * cols - 1)));
  const auto no_records = static_cast<Record*>(nullptr);
  if (plan.stride != 0) {
    // The threshold from the sampled tiles (the first two digits of rk: 22
    // bits), then the filter pass and its check.
    for (std::size_t p = 0; p < 2; ++p) {
      launch(histogram_name, select::growth_pass_kernel<Pass::Histogram, kDense>, grid_for(plan.stride), block,
             select::kGrowthShared, s, a, b, row_ptr, col_idx, rows, cols, batch, st, hist, no_records, digits[p],
             plan.stride, 0LL);
      launch("select_choose_kernel", select::choose_kernel, dim3(1), dim3(select::kChooseThreads), choose_shared, s,
             st, hist, digits[p], static_cast<long long>(plan.k_sample), static_cast<long long>(plan.surplus));
    }
    launch(kDense ? "dense_filter_kernel" : "growth_filter_kernel", select::growth_pass_kernel<Pass::Filter, kDense>,
           grid, block, select::kGrowthShared, s, a, b, row_ptr, col_idx, rows, cols, batch, st, hist,
           scratch.a.data(), Digit{0, 0, 0, 0}, 1, static_cast<long long>(scratch.capacity));
    launch("filter_check_kernel", select::filter_check_kernel, dim3(1), dim3(1), 0, s, st, static_cast<long long>(k),
           static_cast<long long>(scratch.capacity));
  }
  // The exact passes: each does nothing once the selection is known.
  for (const Digit& d : digits) {
    launch(histogram_name, select::growth_pass_kernel<Pass::Histogram, kDense>, grid, block, select::kGrowthShared, s,
           a, b, row_ptr, col_idx, rows, cols, batch, st, hist, no_records, d, 1, 0LL);
    launch("select_choose_kernel", select::choose_kernel, dim3(1), dim3(select::kChooseThreads), choose_shared, s, st,
           hist, d, static_cast<long long>(k), static_cast<long long>(surplus_for(k)));
  }
  launch(kDense ? "dense_emit_kernel" : "growth_emit_kernel", select::growth_pass_kernel<Pass::Emit, kDense>, grid,
         block, select::kGrowthShared, s, a, b, row_ptr, col_idx, rows, cols, batch, st, hist, scratch.a.data(),
         Digit{0, 0, 0, 0}, 1, 0LL);
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
                      std::int64_t nnz, std::int64_t batch, std::int64_t k, Stream s, bool allow_one_pass) {
  expect_k_candidates(rows, cols, nnz, k);
  if (k == 0) return Selection{};  // nothing to select: the product is not computed, as on the CPU
  return growth_selection<false>(out_rows, out_cols, out_scores, dy, x, row_ptr, col_idx, rows, cols, nnz, batch, k,
                                 allow_one_pass, s, "topk_growth");
}

Selection topk_dense(std::int32_t* out_rows, std::int32_t* out_cols, float* out_scores, const float* dense,
                     const std::int32_t* row_ptr, const std::int32_t* col_idx, std::int64_t rows, std::int64_t cols,
                     std::int64_t nnz, std::int64_t k, Stream s, bool allow_one_pass) {
  expect_k_candidates(rows, cols, nnz, k);
  if (k == 0) return Selection{};
  return growth_selection<true>(out_rows, out_cols, out_scores, dense, static_cast<const float*>(nullptr), row_ptr,
                                col_idx, rows, cols, nnz, std::int64_t{0}, k, allow_one_pass, s, "topk_dense");
}

Selection bottomk_magnitude(std::int32_t* out_rows, std::int32_t* out_cols, std::int32_t* out_indices, float* out_scores,
                            const std::int32_t* row_ptr, const std::int32_t* col_idx, const float* values,
                            std::int64_t rows, std::int64_t cols, std::int64_t nnz, std::int64_t k, Stream s) {
  static_cast<void>(cols);
  if (k < 0 || k > nnz)
    fail(ErrorCode::Arg, "k: expected at most nnz = " + std::to_string(nnz) + " stored entries, got " + std::to_string(k));
  if (k == 0) return Selection{};

  SelectionScratch scratch(k + surplus_for(k), s, "bottomk_magnitude");
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
