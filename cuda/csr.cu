// CUDA twins of cpu/csr.cpp's conversions: CSR -> dense, the two passes of
// dense -> CSR (row counts, a device exclusive scan, the fill), Kaiming
// values for a pattern, the stable transpose and the value gather through its
// permutation. Random patterns are built on the host (see
// binding/csr.cc): they are construction, not a hot path.
#include <algorithm>
#include <cmath>
#include <cstdint>

#include "dynasparse/ops/csr.h"
#include "dynasparse/philox.h"
#include "launch.cuh"
#include "scan.cuh"

namespace dynasparse::cuda {
namespace {

constexpr int kThreads = 256;
constexpr int kWarps = kThreads / 32;

__device__ __forceinline__ bool keep_entry(float v, const float* mask, std::int64_t flat, float threshold) {
  return mask != nullptr ? mask[flat] != 0.0f : !(fabsf(v) <= threshold);
}

// One warp per row (grid-stride over rows): zero the row, then scatter its
// stored values. __syncwarp orders the two passes between the warp's lanes.
__global__ void csr_to_dense_kernel(float* __restrict__ dense, const std::int32_t* __restrict__ row_ptr,
                                    const std::int32_t* __restrict__ col_idx, const float* __restrict__ values,
                                    std::int64_t rows, std::int64_t cols) {
  const int lane = static_cast<int>(threadIdx.x) % 32;
  const std::int64_t warp = static_cast<std::int64_t>(blockIdx.x) * kWarps + threadIdx.x / 32;
  const std::int64_t warps = static_cast<std::int64_t>(gridDim.x) * kWarps;
  for (std::int64_t r = warp; r < rows; r += warps) {
    float* row = dense + r * cols;
    for (std::int64_t c = lane; c < cols; c += 32) row[c] = 0.0f;
    __syncwarp();
    // 64-bit sums: a row starting within 31 of 2^31 - 1 would wrap in int.
    for (std::int64_t k = std::int64_t{row_ptr[r]} + lane; k < row_ptr[r + 1]; k += 32) row[col_idx[k]] = values[k];
    __syncwarp();
  }
}

// Pass 1: one warp per row (grid-stride over rows): row_ptr[r + 1] = the
// row's kept entries. A warp per row keeps narrow rows (a layer's few inputs)
// from idling a whole block, and needs no block barrier.
__global__ void count_rows_kernel(std::int32_t* __restrict__ row_ptr, const float* __restrict__ dense,
                                  const float* __restrict__ mask, std::int64_t rows, std::int64_t cols,
                                  float threshold) {
  const int lane = static_cast<int>(threadIdx.x) % 32;
  const std::int64_t warp = static_cast<std::int64_t>(blockIdx.x) * kWarps + threadIdx.x / 32;
  const std::int64_t warps = static_cast<std::int64_t>(gridDim.x) * kWarps;
  for (std::int64_t r = warp; r < rows; r += warps) {
    unsigned count = 0;
    for (std::int64_t c = lane; c < cols; c += 32)
      count += keep_entry(dense[r * cols + c], mask, r * cols + c, threshold) ? 1u : 0u;
    const unsigned total = __reduce_add_sync(0xffffffffu, count);  // at most cols < 2^31
    if (lane == 0) row_ptr[r + 1] = static_cast<std::int32_t>(total);
  }
}

// Between pass 1 and pass 2, scan::counts_to_row_ptr (scan.cuh) turns the
// counts into row_ptr.
__global__ void zero_row_ptr_kernel(std::int32_t* row_ptr, std::int64_t* nnz) {
  row_ptr[0] = 0;
  *nnz = 0;
}

// Pass 2: one warp per row (grid-stride). The row is walked 32 columns at a
// time; a ballot of the kept flags gives each kept entry its position (the
// kept lanes below it), so the entries land in column order as on the CPU.
__global__ void fill_rows_kernel(std::int32_t* __restrict__ col_idx, float* __restrict__ values,
                                 const std::int32_t* __restrict__ row_ptr, const float* __restrict__ dense,
                                 const float* __restrict__ mask, std::int64_t rows, std::int64_t cols,
                                 float threshold) {
  const int lane = static_cast<int>(threadIdx.x) % 32;
  const unsigned below = (1u << lane) - 1u;
  const std::int64_t warp = static_cast<std::int64_t>(blockIdx.x) * kWarps + threadIdx.x / 32;
  const std::int64_t warps = static_cast<std::int64_t>(gridDim.x) * kWarps;
  for (std::int64_t r = warp; r < rows; r += warps) {
    std::int64_t k = row_ptr[r];
    for (std::int64_t c0 = 0; c0 < cols; c0 += 32) {  // uniform over the warp
      const std::int64_t c = c0 + lane;
      float v = 0.0f;
      bool kept = false;
      if (c < cols) {
        v = dense[r * cols + c];
        kept = keep_entry(v, mask, r * cols + c, threshold);
      }
      const unsigned ballot = __ballot_sync(0xffffffffu, kept);
      if (kept) {
        const std::int64_t at = k + __popc(ballot & below);
        col_idx[at] = static_cast<std::int32_t>(c);
        values[at] = v;
      }
      k += __popc(ballot);
    }
  }
}

// One warp per row (grid-stride): the row's fan-in, then element k's value
// from (seed, kStreamTensor, k), exactly as on the CPU.
__global__ void kaiming_kernel(float* __restrict__ values, const std::int32_t* __restrict__ row_ptr, std::int64_t rows,
                               std::int64_t cols, bool sparse_fan_in, std::uint64_t seed) {
  const int lane = static_cast<int>(threadIdx.x) % 32;
  const std::int64_t warp = static_cast<std::int64_t>(blockIdx.x) * kWarps + threadIdx.x / 32;
  const std::int64_t warps = static_cast<std::int64_t>(gridDim.x) * kWarps;
  for (std::int64_t r = warp; r < rows; r += warps) {
    const std::int32_t begin = row_ptr[r], end = row_ptr[r + 1];
    const std::int64_t fan_in = sparse_fan_in ? end - begin : cols;
    if (fan_in == 0) continue;
    // Double division and square root are correctly rounded on both sides.
    const float std_dev = static_cast<float>(sqrt(2.0 / static_cast<double>(fan_in)));
    for (std::int64_t k = std::int64_t{begin} + lane; k < end; k += 32)
      values[k] = rng::normal_at(seed, rng::kStreamTensor, static_cast<std::uint64_t>(k), 0.0f, std_dev);
  }
}

// The stable transpose. The result is unique (entries of a transposed row in
// ascending original row), so it is bit-identical to the CPU's counting sort;
// the work is to get there in parallel without a sequential scan over rows.
// Rows are cut into `chunks` chunks of `span` consecutive rows, and
// slots[q * cols + c] counts chunk q's entries in column c:
//   transpose_count_kernel:   one warp per row, an atomic add per entry (the
//                             counts, unlike an atomic order, are deterministic);
//   transpose_columns_kernel: one thread per column walks the chunks in order,
//                             turning counts into the chunk's offset within the
//                             column, and writes the column's total to
//                             row_ptr_t[c + 1] (then scanned like row_ptr);
//   transpose_place_kernel:   one block per chunk walks its rows in order; the
//                             threads take a row's entries together (a row's
//                             columns are unique, so no two touch the same slot)
//                             and a barrier separates rows, so each column's
//                             entries land in ascending row order.
__global__ void zero_i32_kernel(std::int32_t* __restrict__ out, std::int64_t n) {
  const std::int64_t stride = static_cast<std::int64_t>(gridDim.x) * blockDim.x;
  for (std::int64_t i = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride) out[i] = 0;
}

__global__ void transpose_count_kernel(std::int32_t* __restrict__ slots, const std::int32_t* __restrict__ row_ptr,
                                       const std::int32_t* __restrict__ col_idx, std::int64_t rows, std::int64_t cols,
                                       std::int64_t span) {
  const int lane = static_cast<int>(threadIdx.x) % 32;
  const std::int64_t warp = static_cast<std::int64_t>(blockIdx.x) * kWarps + threadIdx.x / 32;
  const std::int64_t warps = static_cast<std::int64_t>(gridDim.x) * kWarps;
  for (std::int64_t r = warp; r < rows; r += warps) {
    std::int32_t* chunk = slots + (r / span) * cols;
    for (std::int64_t e = std::int64_t{row_ptr[r]} + lane; e < row_ptr[r + 1]; e += 32) atomicAdd(chunk + col_idx[e], 1);
  }
}

__global__ void transpose_columns_kernel(std::int32_t* __restrict__ slots, std::int32_t* __restrict__ row_ptr_t,
                                         std::int64_t cols, std::int64_t chunks) {
  const std::int64_t stride = static_cast<std::int64_t>(gridDim.x) * blockDim.x;
  for (std::int64_t c = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; c < cols; c += stride) {
    std::int32_t running = 0;  // a column holds at most nnz < 2^31 entries
    for (std::int64_t q = 0; q < chunks; ++q) {
      const std::int32_t count = slots[q * cols + c];
      slots[q * cols + c] = running;
      running += count;
    }
    row_ptr_t[c + 1] = running;
  }
}

__global__ void transpose_place_kernel(std::int32_t* __restrict__ row_idx, std::int32_t* __restrict__ perm,
                                       std::int32_t* __restrict__ slots, const std::int32_t* __restrict__ row_ptr_t,
                                       const std::int32_t* __restrict__ row_ptr, const std::int32_t* __restrict__ col_idx,
                                       std::int64_t rows, std::int64_t cols, std::int64_t span) {
  const std::int64_t q = blockIdx.x;
  std::int32_t* chunk = slots + q * cols;
  const std::int64_t end_row = q * span + span < rows ? q * span + span : rows;
  for (std::int64_t r = q * span; r < end_row; ++r) {  // uniform over the block
    for (std::int64_t e = row_ptr[r] + threadIdx.x; e < row_ptr[r + 1]; e += blockDim.x) {
      const std::int32_t c = col_idx[e];
      const std::int32_t pos = row_ptr_t[c] + chunk[c];
      chunk[c] += 1;
      row_idx[pos] = static_cast<std::int32_t>(r);
      perm[pos] = static_cast<std::int32_t>(e);
    }
    __syncthreads();
  }
}

// out[e] = src[perm[e]] (the indices were checked by the caller).
__global__ void gather_values_kernel(float* __restrict__ out, const float* __restrict__ src,
                                     const std::int32_t* __restrict__ perm, std::int64_t n) {
  const std::int64_t stride = static_cast<std::int64_t>(gridDim.x) * blockDim.x;
  for (std::int64_t e = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; e < n; e += stride) out[e] = src[perm[e]];
}

unsigned warp_rows_grid(std::int64_t rows) { return blocks_for(rows, kWarps); }

}  // namespace

void csr_to_dense(float* dense, const std::int32_t* row_ptr, const std::int32_t* col_idx, const float* values,
                  std::int64_t rows, std::int64_t cols, Stream s) {
  if (rows <= 0 || cols <= 0) return;
  launch("csr_to_dense_kernel", csr_to_dense_kernel, dim3(warp_rows_grid(rows)), dim3(kThreads), 0, s, dense, row_ptr,
         col_idx, values, rows, cols);
}

void csr_row_ptr_from_dense(std::int32_t* row_ptr, std::int64_t* nnz, const float* dense, const float* mask,
                            std::int64_t rows, std::int64_t cols, float threshold, Stream s) {
  if (rows <= 0) {
    launch("zero_row_ptr_kernel", zero_row_ptr_kernel, dim3(1), dim3(1), 0, s, row_ptr, nnz);
    return;
  }
  launch("count_rows_kernel", count_rows_kernel, dim3(warp_rows_grid(rows)), dim3(kThreads), 0, s, row_ptr, dense, mask,
         rows, cols, threshold);
  scan::counts_to_row_ptr(row_ptr, nnz, rows, s, "csr_row_ptr_from_dense");
}

void csr_fill_from_dense(std::int32_t* col_idx, float* values, const std::int32_t* row_ptr, const float* dense,
                         const float* mask, std::int64_t rows, std::int64_t cols, float threshold, Stream s) {
  if (rows <= 0 || cols <= 0) return;
  launch("fill_rows_kernel", fill_rows_kernel, dim3(warp_rows_grid(rows)), dim3(kThreads), 0, s, col_idx, values,
         row_ptr, dense, mask, rows, cols, threshold);
}

void csr_kaiming_values(float* values, const std::int32_t* row_ptr, std::int64_t rows, std::int64_t cols,
                        bool sparse_fan_in, std::uint64_t seed, Stream s) {
  if (rows <= 0) return;
  launch("kaiming_kernel", kaiming_kernel, dim3(warp_rows_grid(rows)), dim3(kThreads), 0, s, values, row_ptr, rows, cols,
         sparse_fan_in, seed);
}

void csr_transpose(std::int32_t* row_ptr_t, std::int32_t* row_idx, std::int32_t* perm, const std::int32_t* row_ptr,
                   const std::int32_t* col_idx, std::int64_t rows, std::int64_t cols, std::int64_t nnz, Stream s) {
  if (cols <= 0) {
    // row_ptr_t is the single 0.
    launch("zero_i32_kernel", zero_i32_kernel, dim3(1), dim3(kThreads), 0, s, row_ptr_t, std::int64_t{1});
    return;
  }
  // About nnz / cols chunks: the chunk slots then take about nnz ints, the
  // size of the output, however wide the matrix (never rows x cols).
  const std::int64_t wanted = std::min(std::max<std::int64_t>(nnz / cols, 1), std::max<std::int64_t>(rows, 1));
  const std::int64_t span = std::max<std::int64_t>((rows + wanted - 1) / wanted, 1);
  const std::int64_t chunks = std::max<std::int64_t>((rows + span - 1) / span, 1);
  Scratch<std::int32_t> slots = kernel_scratch<std::int32_t>(static_cast<std::size_t>(chunks * cols), s, "csr_transpose");
  launch("zero_i32_kernel", zero_i32_kernel, dim3(blocks_for(chunks * cols, kThreads)), dim3(kThreads), 0, s, slots.data(),
         chunks * cols);
  if (rows > 0)
    launch("transpose_count_kernel", transpose_count_kernel, dim3(warp_rows_grid(rows)), dim3(kThreads), 0, s, slots.data(),
           row_ptr, col_idx, rows, cols, span);
  launch("transpose_columns_kernel", transpose_columns_kernel, dim3(blocks_for(cols, kThreads)), dim3(kThreads), 0, s,
         slots.data(), row_ptr_t, cols, chunks);
  // row_ptr_t[1..cols] holds the column counts: the row_ptr scan turns them into
  // offsets (and writes row_ptr_t[0] = 0).
  Scratch<std::int64_t> total = kernel_scratch<std::int64_t>(1, s, "csr_transpose");
  scan::counts_to_row_ptr(row_ptr_t, total.data(), cols, s, "csr_transpose");
  if (rows > 0 && nnz > 0)
    launch("transpose_place_kernel", transpose_place_kernel, dim3(static_cast<unsigned>(chunks)), dim3(kThreads), 0, s, row_idx,
           perm, slots.data(), static_cast<const std::int32_t*>(row_ptr_t), row_ptr, col_idx, rows, cols, span);
}

void gather_values(float* out, const float* src, const std::int32_t* perm, std::int64_t n, Stream s) {
  if (n <= 0) return;
  launch("gather_values_kernel", gather_values_kernel, dim3(blocks_for(n, kThreads)), dim3(kThreads), 0, s, out, src, perm, n);
}

}  // namespace dynasparse::cuda
