/**
 * Plain TypeScript references for the sparse kernels, written independently of
 * the native code: they compute in float32 with the summation orders the kernels
 * document (Math.fround after every multiply and add), and in float64 for error
 * bounds. Also a small seeded generator for test data.
 */

/** A seeded uniform generator in [0, 1) (mulberry32), so test data is reproducible. */
export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Values uniform in [-1, 1), float32. */
export function randomValues(n: number, seed: number): Float32Array {
  const r = rng(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = r() * 2 - 1;
  return out;
}

/** CSR arrays of a random pattern with the given density (each position kept with probability density). */
export interface Csr {
  rows: number;
  cols: number;
  rowPtr: Int32Array;
  colIdx: Int32Array;
  values: Float32Array;
}

export function randomCsr(rows: number, cols: number, density: number, seed: number): Csr {
  const r = rng(seed);
  const rowPtr = new Int32Array(rows + 1);
  const colIdx: number[] = [];
  const values: number[] = [];
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) {
      if (r() < density) {
        colIdx.push(j);
        values.push(r() * 2 - 1);
      }
    }
    rowPtr[i + 1] = colIdx.length;
  }
  return { rows, cols, rowPtr, colIdx: Int32Array.from(colIdx), values: Float32Array.from(values) };
}

/** The dense [rows, cols] form of CSR arrays. */
export function csrToDense(a: Csr): Float32Array {
  const out = new Float32Array(a.rows * a.cols);
  for (let i = 0; i < a.rows; i++) for (let e = a.rowPtr[i]; e < a.rowPtr[i + 1]; e++) out[i * a.cols + a.colIdx[e]] = a.values[e];
  return out;
}

/** The transpose of CSR arrays (rows ascending within each transposed row) and its permutation. */
export function csrTranspose(a: Csr): { t: Csr; perm: Int32Array } {
  const entries: { r: number; c: number; e: number }[] = [];
  for (let i = 0; i < a.rows; i++) for (let e = a.rowPtr[i]; e < a.rowPtr[i + 1]; e++) entries.push({ r: i, c: a.colIdx[e], e });
  entries.sort((x, y) => x.c - y.c || x.r - y.r);
  const rowPtr = new Int32Array(a.cols + 1);
  for (const x of entries) rowPtr[x.c + 1]++;
  for (let c = 0; c < a.cols; c++) rowPtr[c + 1] += rowPtr[c];
  return {
    t: {
      rows: a.cols,
      cols: a.rows,
      rowPtr,
      colIdx: Int32Array.from(entries.map((x) => x.r)),
      values: Float32Array.from(entries.map((x) => a.values[x.e])),
    },
    perm: Int32Array.from(entries.map((x) => x.e)),
  };
}

const f = Math.fround;

/**
 * C = alpha * A B + beta * C0 in float32, each output element summed over the
 * row's stored entries in stored order from +0, rounding after every multiply
 * and add: the order the native kernel documents, so results must agree bit for bit.
 * B is [a.cols, n] row-major. beta = 0 ignores C0.
 */
export function spmmRef(a: Csr, b: Float32Array, n: number, alpha = 1, beta = 0, c0?: Float32Array): Float32Array {
  const out = new Float32Array(a.rows * n);
  const al = f(alpha), be = f(beta);
  for (let i = 0; i < a.rows; i++) {
    for (let j = 0; j < n; j++) {
      let acc = 0;
      for (let e = a.rowPtr[i]; e < a.rowPtr[i + 1]; e++) acc = f(acc + f(a.values[e] * b[a.colIdx[e] * n + j]));
      out[i * n + j] = be === 0 ? f(al * acc) : f(f(al * acc) + f(be * c0![i * n + j]));
    }
  }
  return out;
}

/** The exact product in float64 and the bound sum |a||b| per element (for error bounds). */
export function spmmF64(a: Csr, b: Float32Array, n: number): { value: Float64Array; magnitude: Float64Array } {
  const value = new Float64Array(a.rows * n), magnitude = new Float64Array(a.rows * n);
  for (let i = 0; i < a.rows; i++)
    for (let e = a.rowPtr[i]; e < a.rowPtr[i + 1]; e++)
      for (let j = 0; j < n; j++) {
        const p = a.values[e] * b[a.colIdx[e] * n + j];
        value[i * n + j] += p;
        magnitude[i * n + j] += Math.abs(p);
      }
  return { value, magnitude };
}

/**
 * Summation in float32 with 32 interleaved lanes and a tree combine: the
 * documented order of the sddmm kernels. x(t) gives the t-th product's factors.
 */
export function laneDot(k: number, x: (t: number) => number, y: (t: number) => number): number {
  const lane = new Float32Array(32);
  for (let t = 0; t < k; t++) lane[t % 32] = f(lane[t % 32] + f(x(t) * y(t)));
  for (let w = 16; w >= 1; w /= 2) for (let l = 0; l < w; l++) lane[l] = f(lane[l] + lane[l + w]);
  return lane[0];
}

/** unit roundoff of float32 */
export const U32 = 2 ** -24;
/** gamma_n = n u / (1 - n u): the classic bound on the relative error of an n-term float32 sum of products. */
export function gamma(n: number): number {
  return (n * U32) / (1 - n * U32);
}

/** Whether two float32 arrays hold the same values (NaN equal to NaN, +0 different from -0). */
export function sameValues(x: Float32Array, y: Float32Array): boolean {
  if (x.length !== y.length) return false;
  for (let i = 0; i < x.length; i++) if (!Object.is(x[i], y[i])) return false;
  return true;
}

/** The first index where two float32 arrays differ, for readable failures (-1 if none). */
export function firstDifference(x: Float32Array, y: Float32Array): string {
  for (let i = 0; i < Math.max(x.length, y.length); i++) if (!Object.is(x[i], y[i])) return `index ${i}: ${x[i]} vs ${y[i]}`;
  return 'none';
}

/** Same bits (NaN payloads included). */
export function sameBits(x: Float32Array, y: Float32Array): boolean {
  const a = new Uint32Array(x.buffer, x.byteOffset, x.length), b = new Uint32Array(y.buffer, y.byteOffset, y.length);
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

/** Reads a temporary tensor and disposes it (test files share the process's native memory statistics). */
export function take(t: { toArray(): Float32Array; dispose(): void }): Float32Array {
  try {
    return t.toArray();
  } finally {
    t.dispose();
  }
}
