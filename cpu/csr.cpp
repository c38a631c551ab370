#include "dynasparse/ops/csr.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "dynasparse/floyd_sample.h"
#include "dynasparse/philox.h"
#include "parallel.h"

namespace dynasparse::cpu {
namespace {

inline bool keep(float v, const float* mask, std::int64_t flat, float threshold) {
  return mask != nullptr ? mask[flat] != 0.0f : !(std::fabs(v) <= threshold);
}

// A uniform integer in [0, bound] from 64 counter-based bits (bias < bound / 2^64).
inline std::int64_t uniform_index(std::uint64_t seed, std::uint64_t stream, std::uint64_t counter, std::int64_t bound) {
  const rng::Bits128 r = rng::philox4x32_10(seed, counter, stream);
  const std::uint64_t bits = (static_cast<std::uint64_t>(r.v[0]) << 32) | r.v[1];
  return static_cast<std::int64_t>(bits % static_cast<std::uint64_t>(bound + 1));
}

// Floyd's sampling (floyd_sample.h) of k distinct values in [0, n), ascending,
// drawing from (seed, stream) at counters counter_base + i.
void floyd_sample(std::vector<std::int64_t>& out, std::int64_t n, std::int64_t k, std::uint64_t seed, std::uint64_t stream,
                  std::uint64_t counter_base) {
  dynasparse::floyd_sample(out, n, k, [&](std::int64_t i, std::int64_t bound) {
    return uniform_index(seed, stream, counter_base + static_cast<std::uint64_t>(i), bound);
  });
}

}  // namespace

std::string csr_validate(std::int64_t rows, std::int64_t cols, const std::int32_t* row_ptr, std::int64_t row_ptr_len,
                         const std::int32_t* col_idx, std::int64_t nnz) {
  if (row_ptr_len != rows + 1)
    return "rowPtr: expected length rows + 1 = " + std::to_string(rows + 1) + ", got " + std::to_string(row_ptr_len);
  if (row_ptr[0] != 0) return "rowPtr[0]: expected 0, got " + std::to_string(row_ptr[0]);
  for (std::int64_t r = 0; r < rows; ++r) {
    if (row_ptr[r + 1] < row_ptr[r])
      return "row " + std::to_string(r) + ": rowPtr decreases (rowPtr[" + std::to_string(r) + "] = " + std::to_string(row_ptr[r]) +
             ", rowPtr[" + std::to_string(r + 1) + "] = " + std::to_string(row_ptr[r + 1]) + ")";
    if (row_ptr[r + 1] > nnz)
      return "row " + std::to_string(r) + ": rowPtr[" + std::to_string(r + 1) + "] = " + std::to_string(row_ptr[r + 1]) +
             " exceeds nnz = " + std::to_string(nnz);
  }
  if (row_ptr[rows] != nnz)
    return "rowPtr[rows]: expected nnz = " + std::to_string(nnz) + ", got " + std::to_string(row_ptr[rows]);
  for (std::int64_t r = 0; r < rows; ++r) {
    for (std::int32_t k = row_ptr[r]; k < row_ptr[r + 1]; ++k) {
      const std::int32_t c = col_idx[k];
      if (c < 0 || c >= cols)
        return "row " + std::to_string(r) + ": column index " + std::to_string(c) + " at position " + std::to_string(k) +
               " is outside [0, " + std::to_string(cols) + ")";
      if (k > row_ptr[r] && c <= col_idx[k - 1])
        return "row " + std::to_string(r) + ": column indices must be sorted and unique, got " + std::to_string(col_idx[k - 1]) +
               " then " + std::to_string(c) + " at position " + std::to_string(k);
    }
  }
  return {};
}

std::int64_t csr_row_ptr_from_dense(std::int32_t* row_ptr, const float* dense, const float* mask, std::int64_t rows,
                                    std::int64_t cols, float threshold) {
  parallel_for(0, rows, std::max<std::int64_t>(1, 16384 / std::max<std::int64_t>(1, cols)), [&](std::int64_t lo, std::int64_t hi) {
    for (std::int64_t r = lo; r < hi; ++r) {
      std::int32_t count = 0;
      for (std::int64_t c = 0; c < cols; ++c) count += keep(dense[r * cols + c], mask, r * cols + c, threshold) ? 1 : 0;
      row_ptr[r + 1] = count;
    }
  });
  row_ptr[0] = 0;
  std::int64_t total = 0;
  for (std::int64_t r = 1; r <= rows; ++r) {
    total += row_ptr[r];
    row_ptr[r] = static_cast<std::int32_t>(std::min<std::int64_t>(total, INT32_MAX));
  }
  return total;
}

void csr_fill_from_dense(std::int32_t* col_idx, float* values, const std::int32_t* row_ptr, const float* dense,
                         const float* mask, std::int64_t rows, std::int64_t cols, float threshold) {
  parallel_for(0, rows, std::max<std::int64_t>(1, 16384 / std::max<std::int64_t>(1, cols)), [&](std::int64_t lo, std::int64_t hi) {
    for (std::int64_t r = lo; r < hi; ++r) {
      std::int64_t k = row_ptr[r];
      for (std::int64_t c = 0; c < cols; ++c) {
        const float v = dense[r * cols + c];
        if (keep(v, mask, r * cols + c, threshold)) {
          col_idx[k] = static_cast<std::int32_t>(c);
          values[k] = v;
          ++k;
        }
      }
    }
  });
}

void csr_to_dense(float* dense, const std::int32_t* row_ptr, const std::int32_t* col_idx, const float* values,
                  std::int64_t rows, std::int64_t cols) {
  parallel_for(0, rows, std::max<std::int64_t>(1, 16384 / std::max<std::int64_t>(1, cols)), [&](std::int64_t lo, std::int64_t hi) {
    for (std::int64_t r = lo; r < hi; ++r) {
      float* row = dense + r * cols;
      std::fill(row, row + cols, 0.0f);
      for (std::int32_t k = row_ptr[r]; k < row_ptr[r + 1]; ++k) row[col_idx[k]] = values[k];
    }
  });
}

void csr_random_rows(std::int32_t* row_ptr, std::int32_t* col_idx, std::int64_t rows, std::int64_t cols,
                     std::int64_t nnz_per_row, std::uint64_t seed) {
  for (std::int64_t r = 0; r <= rows; ++r) row_ptr[r] = static_cast<std::int32_t>(r * nnz_per_row);
  parallel_for(0, rows, 16, [&](std::int64_t lo, std::int64_t hi) {
    std::vector<std::int64_t> picks;
    for (std::int64_t r = lo; r < hi; ++r) {
      floyd_sample(picks, cols, nnz_per_row, seed, rng::kStreamPattern, static_cast<std::uint64_t>(r * nnz_per_row));
      for (std::int64_t j = 0; j < nnz_per_row; ++j) col_idx[r * nnz_per_row + j] = static_cast<std::int32_t>(picks[j]);
    }
  });
}

void csr_random_total(std::int32_t* row_ptr, std::int32_t* col_idx, std::int64_t rows, std::int64_t cols, std::int64_t nnz,
                      std::uint64_t seed) {
  std::vector<std::int64_t> picks;
  floyd_sample(picks, rows * cols, nnz, seed, rng::kStreamPattern, 0);
  std::fill(row_ptr, row_ptr + rows + 1, 0);
  for (std::int64_t k = 0; k < nnz; ++k) {
    row_ptr[picks[k] / cols + 1]++;
    col_idx[k] = static_cast<std::int32_t>(picks[k] % cols);  // sorted flat order is row-major order
  }
  for (std::int64_t r = 0; r < rows; ++r) row_ptr[r + 1] += row_ptr[r];
}

void csr_kaiming_values(float* values, const std::int32_t* row_ptr, std::int64_t rows, std::int64_t cols, bool sparse_fan_in,
                        std::uint64_t seed) {
  parallel_for(0, rows, 64, [&](std::int64_t lo, std::int64_t hi) {
    for (std::int64_t r = lo; r < hi; ++r) {
      const std::int64_t fan_in = sparse_fan_in ? row_ptr[r + 1] - row_ptr[r] : cols;
      if (fan_in == 0) continue;
      const float std_dev = static_cast<float>(std::sqrt(2.0 / static_cast<double>(fan_in)));
      for (std::int32_t k = row_ptr[r]; k < row_ptr[r + 1]; ++k)
        values[k] = rng::normal_at(seed, rng::kStreamTensor, static_cast<std::uint64_t>(k), 0.0f, std_dev);
    }
  });
}

}  // namespace dynasparse::cpu

namespace dynasparse::cpu {

void csr_transpose(std::int32_t* row_ptr_t, std::int32_t* row_idx, std::int32_t* perm, std::int32_t* cursor,
                   const std::int32_t* row_ptr, const std::int32_t* col_idx, std::int64_t rows, std::int64_t cols) {
  // A stable counting sort by column: scanning rows in ascending order keeps the
  // original rows ascending within each transposed row (sorted, unique columns).
  std::fill(row_ptr_t, row_ptr_t + cols + 1, 0);
  const std::int64_t nnz = row_ptr[rows];
  for (std::int64_t e = 0; e < nnz; ++e) row_ptr_t[col_idx[e] + 1]++;
  for (std::int64_t c = 0; c < cols; ++c) row_ptr_t[c + 1] += row_ptr_t[c];
  std::copy(row_ptr_t, row_ptr_t + cols, cursor);
  for (std::int64_t r = 0; r < rows; ++r) {
    for (std::int32_t e = row_ptr[r]; e < row_ptr[r + 1]; ++e) {
      const std::int32_t pos = cursor[col_idx[e]]++;
      row_idx[pos] = static_cast<std::int32_t>(r);
      perm[pos] = e;
    }
  }
}

void gather_values(float* out, const float* src, const std::int32_t* perm, std::int64_t n) {
  parallel_for(0, n, 16384, [&](std::int64_t lo, std::int64_t hi) {
    for (std::int64_t e = lo; e < hi; ++e) out[e] = src[perm[e]];
  });
}

}  // namespace dynasparse::cpu
