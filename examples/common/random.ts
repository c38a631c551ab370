/**
 * A small seeded random number generator for the examples' data handling
 * (shuffling, splits). Model weights use the library's own counter-based
 * generator; this one only orders data, so plain JavaScript is enough.
 */

/** A deterministic stream of random numbers. */
export interface Rng {
  /** A float in [0, 1). */
  next(): number;
  /** An integer in [0, n). */
  int(n: number): number;
}

/**
 * Creates a generator from a seed (any safe integer). The same seed always
 * gives the same stream. Algorithm: SplitMix32-style mixing of a Weyl
 * sequence, good enough for shuffling and cheap.
 */
export function createRng(seed: number): Rng {
  if (!Number.isSafeInteger(seed)) {
    throw new TypeError(`createRng: seed must be a safe integer, got ${String(seed)}`);
  }
  // Fold the (possibly > 32-bit) seed into 32 bits without losing the high part.
  let state = (seed ^ Math.floor(seed / 0x100000000)) >>> 0;
  const next32 = (): number => {
    state = (state + 0x9e3779b9) >>> 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
  return {
    next: () => next32() / 0x100000000,
    int: (n: number) => {
      if (!Number.isInteger(n) || n <= 0) throw new RangeError(`int: n must be a positive integer, got ${n}`);
      return Math.floor((next32() / 0x100000000) * n);
    },
  };
}

/** Shuffles `values` in place (Fisher-Yates) and returns it. */
export function shuffleInPlace<T extends { length: number; [i: number]: unknown }>(values: T, rng: Rng): T {
  for (let i = values.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const tmp = values[i];
    values[i] = values[j];
    values[j] = tmp;
  }
  return values;
}

/** A random permutation of 0..n-1 as an Int32Array. */
export function permutation(n: number, rng: Rng): Int32Array {
  const p = new Int32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  return shuffleInPlace(p, rng);
}
