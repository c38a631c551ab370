// Vector-width clones of hot loops. The library is built for the baseline
// x86-64 (SSE2) so one binary runs everywhere; GCC's target_clones adds an AVX2
// copy of a function chosen once at load time (ifunc). The loops are plain
// multiplies and adds (the build uses -ffp-contract=off, so no FMA is formed):
// every clone rounds exactly like the baseline, only wider, so results do not
// depend on which clone runs.
#pragma once

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__) && \
    !defined(DYNASPARSE_NO_TARGET_CLONES)
#define DS_SIMD_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define DS_SIMD_CLONES
#endif
