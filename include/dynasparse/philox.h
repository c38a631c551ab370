// The counter-based random number generator shared by both backends.
//
// Every random value is a pure function of (seed, stream, element index):
// Philox4x32-10 (Salmon et al., SC11) turns the counter (index, stream) under
// the key (seed) into 128 random bits. No state is carried between elements, so
// any partition of the work (threads, CUDA blocks) gives the same tensor, and the
// CPU and CUDA backends agree bit for bit.
//
// Bit-exactness across devices also needs identical floating-point math: the
// normal transform below uses only +, *, / and sqrt in double precision (all
// correctly rounded by IEEE 754 on both the host and the GPU), with explicit
// round-to-nearest intrinsics on the device so nvcc cannot contract them into
// FMAs; the host build uses -ffp-contract=off for the same reason. log and cos
// are evaluated with our own series instead of libm, whose results differ
// between the host's libm and CUDA's.
#pragma once

#include <cstdint>
#include <cstring>

#include "dynasparse/hostdevice.h"

namespace dynasparse::rng {

// Streams keep unrelated uses of one seed independent.
enum : std::uint64_t {
  kStreamTensor = 0,     // randn / rand / random CSR values
  kStreamPattern = 1,    // random sparsity patterns
  kStreamGrowth = 2,     // random growth (SET)
  kStreamNeurons = 3,    // random outgoing weights of grown neurons
  kStreamEigen = 4,      // start blocks of the iterative eigensolver (GradMax)
};

struct Bits128 {
  std::uint32_t v[4];
};

DS_HOST_DEVICE Bits128 philox4x32_10(std::uint64_t seed, std::uint64_t index, std::uint64_t stream) {
  std::uint32_t c0 = static_cast<std::uint32_t>(index), c1 = static_cast<std::uint32_t>(index >> 32);
  std::uint32_t c2 = static_cast<std::uint32_t>(stream), c3 = static_cast<std::uint32_t>(stream >> 32);
  std::uint32_t k0 = static_cast<std::uint32_t>(seed), k1 = static_cast<std::uint32_t>(seed >> 32);
  for (int round = 0; round < 10; ++round) {
    const std::uint64_t p0 = static_cast<std::uint64_t>(0xD2511F53u) * c0;
    const std::uint64_t p1 = static_cast<std::uint64_t>(0xCD9E8D57u) * c2;
    const std::uint32_t hi0 = static_cast<std::uint32_t>(p0 >> 32), lo0 = static_cast<std::uint32_t>(p0);
    const std::uint32_t hi1 = static_cast<std::uint32_t>(p1 >> 32), lo1 = static_cast<std::uint32_t>(p1);
    c0 = hi1 ^ c1 ^ k0;
    c1 = lo1;
    c2 = hi0 ^ c3 ^ k1;
    c3 = lo0;
    k0 += 0x9E3779B9u;
    k1 += 0xBB67AE85u;
  }
  return Bits128{{c0, c1, c2, c3}};
}

// Correctly rounded double arithmetic that no compiler may fuse.
DS_HOST_DEVICE double exact_add(double a, double b) {
#if defined(__CUDA_ARCH__)
  return __dadd_rn(a, b);
#else
  return a + b;
#endif
}
DS_HOST_DEVICE double exact_mul(double a, double b) {
#if defined(__CUDA_ARCH__)
  return __dmul_rn(a, b);
#else
  return a * b;
#endif
}
DS_HOST_DEVICE double exact_div(double a, double b) {
#if defined(__CUDA_ARCH__)
  return __ddiv_rn(a, b);
#else
  return a / b;
#endif
}
DS_HOST_DEVICE double exact_sqrt(double a);

DS_HOST_DEVICE std::uint64_t double_bits(double x) {
#if defined(__CUDA_ARCH__)
  return static_cast<std::uint64_t>(__double_as_longlong(x));
#else
  std::uint64_t bits;
  std::memcpy(&bits, &x, sizeof bits);
  return bits;
#endif
}
DS_HOST_DEVICE double bits_double(std::uint64_t bits) {
#if defined(__CUDA_ARCH__)
  return __longlong_as_double(static_cast<long long>(bits));
#else
  double x;
  std::memcpy(&x, &bits, sizeof x);
  return x;
#endif
}

DS_HOST_DEVICE std::uint32_t float_bits(float x) {
#if defined(__CUDA_ARCH__)
  return __float_as_uint(x);
#else
  std::uint32_t bits;
  std::memcpy(&bits, &x, sizeof bits);
  return bits;
#endif
}
DS_HOST_DEVICE float bits_float(std::uint32_t bits) {
#if defined(__CUDA_ARCH__)
  return __uint_as_float(bits);
#else
  float x;
  std::memcpy(&x, &bits, sizeof x);
  return x;
#endif
}

// The largest float below x (x finite and above the lowest float).
DS_HOST_DEVICE float float_below(float x) {
  if (x == 0.0f) return bits_float(0x80000001u);  // -denorm_min, below +0 and -0
  const std::uint32_t bits = float_bits(x);
  return bits_float(x > 0.0f ? bits - 1u : bits + 1u);
}

// 24 random bits as a double in [0, 1) (exact).
DS_HOST_DEVICE double unit_closed_open(std::uint32_t bits) {
  return static_cast<double>(bits >> 8) * (1.0 / 16777216.0);
}
// 24 random bits as a double in (0, 1) (exact), safe for log.
DS_HOST_DEVICE double unit_open_open(std::uint32_t bits) {
  return (static_cast<double>(bits >> 8) + 0.5) * (1.0 / 16777216.0);
}

// Natural log of x > 0 (normal doubles): x = m * 2^e with m in [sqrt(1/2), sqrt(2)),
// log(m) = 2 atanh(s), s = (m - 1) / (m + 1), |s| <= 0.1716; the series to s^23 is
// below double rounding.
DS_HOST_DEVICE double portable_log(double x) {
  std::uint64_t bits = double_bits(x);
  int e = static_cast<int>((bits >> 52) & 0x7ff) - 1022;
  bits = (bits & 0x800FFFFFFFFFFFFFull) | 0x3FE0000000000000ull;  // m in [0.5, 1)
  double m = bits_double(bits);
  if (m < 0.70710678118654752440) {
    m = exact_mul(m, 2.0);
    e -= 1;
  }
  const double s = exact_div(exact_add(m, -1.0), exact_add(m, 1.0));
  const double s2 = exact_mul(s, s);
  double series = 1.0 / 23.0;
  for (int k = 21; k >= 1; k -= 2) series = exact_add(exact_div(1.0, static_cast<double>(k)), exact_mul(series, s2));
  const double log_m = exact_mul(2.0, exact_mul(s, series));
  return exact_add(exact_mul(static_cast<double>(e), 0.69314718055994530942), log_m);
}

// cos(2 pi u) for u in [0, 1) with 24-bit u: reduce to |theta| <= pi/4 exactly,
// then Taylor series of sin or cos to order 18.
DS_HOST_DEVICE double portable_cos_2pi(double u) {
  const double q = static_cast<double>(static_cast<int>(exact_add(exact_mul(u, 4.0), 0.5)));  // 0..4
  const double theta = exact_mul(exact_add(u, exact_mul(q, -0.25)), 6.28318530717958647692);
  const double t2 = exact_mul(theta, theta);
  const int quadrant = static_cast<int>(q) & 3;
  if (quadrant == 0 || quadrant == 2) {
    // cos: sum (-1)^k t^(2k) / (2k)!, k = 0..9
    double c = 0.0;
    double fact = 1.0;
    double coeffs[10];
    for (int k = 0; k < 10; ++k) {
      coeffs[k] = exact_div((k & 1) ? -1.0 : 1.0, fact);
      fact = exact_mul(fact, static_cast<double>((2 * k + 1) * (2 * k + 2)));
    }
    for (int k = 9; k >= 0; --k) c = exact_add(coeffs[k], exact_mul(c, t2));
    return quadrant == 0 ? c : -c;
  }
  // sin: sum (-1)^k t^(2k+1) / (2k+1)!, k = 0..8
  double s = 0.0;
  double fact = 1.0;
  double coeffs[9];
  for (int k = 0; k < 9; ++k) {
    coeffs[k] = exact_div((k & 1) ? -1.0 : 1.0, fact);
    fact = exact_mul(fact, static_cast<double>((2 * k + 2) * (2 * k + 3)));
  }
  for (int k = 8; k >= 0; --k) s = exact_add(coeffs[k], exact_mul(s, t2));
  s = exact_mul(s, theta);
  // cos(theta + pi/2) = -sin(theta); cos(theta + 3pi/2) = sin(theta)
  return quadrant == 1 ? -s : s;
}

DS_HOST_DEVICE double exact_sqrt(double a) {
#if defined(__CUDA_ARCH__)
  return __dsqrt_rn(a);
#else
  return __builtin_sqrt(a);
#endif
}

// The value of element `index` of a uniform tensor on [low, high).
DS_HOST_DEVICE float uniform_at(std::uint64_t seed, std::uint64_t stream, std::uint64_t index, float low, float high) {
  const Bits128 r = philox4x32_10(seed, index, stream);
  const double u = unit_closed_open(r.v[0]);
  const double span = exact_add(static_cast<double>(high), -static_cast<double>(low));
  const auto value = static_cast<float>(exact_add(static_cast<double>(low), exact_mul(span, u)));
  // u < 1, but rounding to float can still land on high: keep [low, high) half-open.
  return value < high ? value : float_below(high);
}

// The value of element `index` of a normal tensor (Box-Muller on two 24-bit uniforms).
DS_HOST_DEVICE float normal_at(std::uint64_t seed, std::uint64_t stream, std::uint64_t index, float mean, float std_dev) {
  const Bits128 r = philox4x32_10(seed, index, stream);
  const double u1 = unit_open_open(r.v[0]);
  const double u2 = unit_closed_open(r.v[1]);
  const double radius = exact_sqrt(exact_mul(-2.0, portable_log(u1)));
  const double z = exact_mul(radius, portable_cos_2pi(u2));
  return static_cast<float>(exact_add(static_cast<double>(mean), exact_mul(static_cast<double>(std_dev), z)));
}

// 32 uniformly random bits for element `index` (selection, shuffles).
DS_HOST_DEVICE std::uint32_t bits_at(std::uint64_t seed, std::uint64_t stream, std::uint64_t index) {
  return philox4x32_10(seed, index, stream).v[0];
}

}  // namespace dynasparse::rng
