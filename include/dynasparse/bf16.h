// bfloat16 as its 16 bits (the upper half of a float32), converted the same way
// on the host, in the SIMT emulation and on the GPU, so a bf16 copy made by a
// kernel is bit-identical to the one a test makes on the host. (cuda_bf16.h's
// __nv_bfloat16 is not available to the host compiler's emulation build.)
#pragma once

#include <cstdint>
#include <cstring>

#include "dynasparse/hostdevice.h"

namespace dynasparse {

// float32 -> bf16 bits, rounded to nearest, ties to even (what cvt.rn.bf16.f32
// does); a NaN stays a (quiet) NaN with its sign, overflow rounds to infinity.
DS_HOST_DEVICE std::uint16_t bf16_bits(float x) {
  std::uint32_t u;
  std::memcpy(&u, &x, sizeof u);
  if ((u & 0x7fffffffu) > 0x7f800000u) return static_cast<std::uint16_t>((u >> 16) | 0x0040u);
  return static_cast<std::uint16_t>((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
}

// bf16 bits -> float32 (exact).
DS_HOST_DEVICE float bf16_float(std::uint16_t b) {
  const std::uint32_t u = static_cast<std::uint32_t>(b) << 16;
  float x;
  std::memcpy(&x, &u, sizeof x);
  return x;
}

// x rounded to bf16 and back: the value a bf16 tensor-core product sees.
DS_HOST_DEVICE float bf16_round(float x) { return bf16_float(bf16_bits(x)); }

// Two bf16 in one 32-bit word, `lo` in the low half (the lower k of an mma fragment pair).
DS_HOST_DEVICE std::uint32_t bf16_pair(float lo, float hi) {
  return static_cast<std::uint32_t>(bf16_bits(lo)) | (static_cast<std::uint32_t>(bf16_bits(hi)) << 16);
}

}  // namespace dynasparse
