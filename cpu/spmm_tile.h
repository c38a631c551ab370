// The column-tile kernels both sparse products on the CPU share (cpu/spmm.cpp
// for CSR, cpu/spmm24.cpp for 2:4): a row's sums over a tile of kTile output
// columns kept in vector registers, the alpha/beta store, and B packed tile by
// tile. Internal linkage: each file gets its own vector-width clones (simd.h).
#pragma once

#include <algorithm>
#include <climits>
#include <cstdint>
#include <memory>

#include "dynasparse/memory.h"

#include "parallel.h"
#include "simd.h"

namespace dynasparse::cpu {
namespace {

// Width of one accumulator tile of output columns (64 floats = 8 AVX2 registers).
constexpr std::int64_t kTile = 64;

// Eight floats as one GCC vector: elementwise multiplies and adds, each
// rounded like the scalar operation; unaligned loads through a may_alias type.
typedef float v8 __attribute__((vector_size(32)));
typedef float v8u __attribute__((vector_size(32), aligned(4), may_alias));

// Macros, not functions: a function passing a 32-byte vector by value would
// have a different ABI in the baseline and the AVX2 clone (-Wpsabi).
#define DS_LOAD8(p) (*reinterpret_cast<const v8u*>(p))
#define DS_STORE8(p, v) (*reinterpret_cast<v8u*>(p) = (v))

// acc[0, w) += sum over entries e of v(e) * b[col[e] * ldb + t], in ascending
// e from e = 0 while e < count and col[e] < limit, where v(e) = vals[perm[e]]
// with a perm, vals[e] without; returns the number of entries added. The limit
// lets a caller stop at a panel boundary without a separate pass to find it (a
// caller with nothing to stop at passes INT32_MAX). A full tile keeps its 64
// sums in eight vector registers for the whole run.
// (Always inlined: into each vector-width clone of its callers, which are the
// clones.)
__attribute__((always_inline)) inline std::int64_t accumulate_tile(float* __restrict acc, std::int64_t w,
                                                                   const float* __restrict b, std::int64_t ldb,
                                                                   const std::int32_t* __restrict col,
                                                                   const float* __restrict vals,
                                                                   const std::int32_t* __restrict perm, std::int64_t count,
                                                                   std::int32_t limit) {
  std::int64_t e = 0;
  if (w == kTile) {
    v8 a0 = DS_LOAD8(acc), a1 = DS_LOAD8(acc + 8), a2 = DS_LOAD8(acc + 16), a3 = DS_LOAD8(acc + 24);
    v8 a4 = DS_LOAD8(acc + 32), a5 = DS_LOAD8(acc + 40), a6 = DS_LOAD8(acc + 48), a7 = DS_LOAD8(acc + 56);
    for (; e < count && col[e] < limit; ++e) {
      const float v = perm ? vals[perm[e]] : vals[e];
      const float* __restrict r = b + col[e] * ldb;
      a0 = a0 + v * DS_LOAD8(r);
      a1 = a1 + v * DS_LOAD8(r + 8);
      a2 = a2 + v * DS_LOAD8(r + 16);
      a3 = a3 + v * DS_LOAD8(r + 24);
      a4 = a4 + v * DS_LOAD8(r + 32);
      a5 = a5 + v * DS_LOAD8(r + 40);
      a6 = a6 + v * DS_LOAD8(r + 48);
      a7 = a7 + v * DS_LOAD8(r + 56);
    }
    DS_STORE8(acc, a0), DS_STORE8(acc + 8, a1), DS_STORE8(acc + 16, a2), DS_STORE8(acc + 24, a3);
    DS_STORE8(acc + 32, a4), DS_STORE8(acc + 40, a5), DS_STORE8(acc + 48, a6), DS_STORE8(acc + 56, a7);
    return e;
  }
  for (; e < count && col[e] < limit; ++e) {
    const float v = perm ? vals[perm[e]] : vals[e];
    const float* __restrict r = b + col[e] * ldb;
    for (std::int64_t t = 0; t < w; ++t) acc[t] = acc[t] + v * r[t];
  }
  return e;
}

DS_SIMD_CLONES void store_tile(float* __restrict c, const float* __restrict acc, std::int64_t w, float alpha, float beta) {
  if (beta == 0.0f) {
    for (std::int64_t t = 0; t < w; ++t) c[t] = alpha * acc[t];
  } else {
    for (std::int64_t t = 0; t < w; ++t) c[t] = alpha * acc[t] + beta * c[t];
  }
}

// B [k, n] (row stride ldb) as the products read it: one tile of kTile columns
// at a time, k rows of that tile's width each.
//
// With more than one tile, B is copied once into tile-major panels (tile t holds
// B[0, k) x [t * kTile, t * kTile + w) as k rows of kTile floats; the last
// tile's unused columns are left unwritten and never read). Why: a row block
// walks each tile's column slice of B row by row; in B itself those 256-byte
// pieces lie ldb floats apart, so a panel of them touches one page per row (for
// a 1024 wide B, 256 pages a panel: more than the first-level TLB holds) and
// defeats the prefetchers. Packed, a panel is one contiguous run of memory. One
// pass over B, scratch the size of B; copying does not change any value.
class TiledB {
 public:
  TiledB(const float* b, std::int64_t ldb, std::int64_t k, std::int64_t n) : b_(b), ldb_(ldb), k_(k) {
    const std::int64_t tiles = (n + kTile - 1) / kTile;
    if (tiles <= 1 || k == 0) return;
    packed_ = std::make_unique<Scratch<float>>(Device::Cpu, static_cast<std::size_t>(tiles * k * kTile));
    float* packed = packed_->data();
    parallel_for(0, tiles * k, 1024, [&](std::int64_t lo, std::int64_t hi) {
      for (std::int64_t q = lo; q < hi; ++q) {
        const std::int64_t t = q / k, r = q % k, j0 = t * kTile, w = std::min(kTile, n - j0);
        std::copy(b + r * ldb + j0, b + r * ldb + j0 + w, packed + q * kTile);
      }
    });
  }
  // The tile starting at column j0 (a multiple of kTile): row r at tile(j0) + r * ld().
  const float* tile(std::int64_t j0) const { return packed_ ? packed_->data() + (j0 / kTile) * k_ * kTile : b_ + j0; }
  std::int64_t ld() const { return packed_ ? kTile : ldb_; }
  bool packed() const { return packed_ != nullptr; }

 private:
  const float* b_;
  std::int64_t ldb_, k_;
  std::unique_ptr<Scratch<float>> packed_;
};

}  // namespace
}  // namespace dynasparse::cpu
