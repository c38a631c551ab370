/**
 * sddmm against plain TypeScript references.
 *
 * Tolerance: none — bit-identical (NaN equal to NaN) to a reference that sums in
 * the kernels' documented order (both forms: 32 interleaved float32 lanes and a
 * fixed tree), with a float32 rounding after every multiply and add
 * (-ffp-contract=off: no FMA). Exactness follows from IEEE 754 correct rounding.
 * Both references are also checked against float64 within gamma_k * sum|a||b|.
 */
import { CsrMatrix, Device, DynasparseError, memory, randn, resetPeakMemory, sddmm, synchronize, tensor, zeros } from '../lib';
import { devices } from './helpers/devices';
import { Csr, firstDifference, gamma, laneDot, randomCsr, randomValues, sameBits, sameValues } from './helpers/sparse-reference';

/** out[e] for a [m, k], b [p, k] (transB) or [k, p]. */
function reference(a: Float32Array, b: Float32Array, p: Csr, k: number, transB: boolean): Float32Array {
  const out = new Float32Array(p.colIdx.length);
  for (let i = 0; i < p.rows; i++)
    for (let e = p.rowPtr[i]; e < p.rowPtr[i + 1]; e++) {
      const j = p.colIdx[e];
      out[e] = transB
        ? laneDot(k, (t) => a[i * k + t], (t) => b[j * k + t])
        : laneDot(k, (t) => a[i * k + t], (t) => b[t * p.cols + j]);
    }
  return out;
}

function runOn(a: Float32Array, b: Float32Array, p: Csr, k: number, transB: boolean, device: Device = 'cpu'): Float32Array {
  using at = tensor(a, [p.rows, k], { device });
  using bt = tensor(b, transB ? [p.cols, k] : [k, p.cols], { device });
  using pm = CsrMatrix.fromArrays(p, { device });
  using r = transB ? sddmm(at, bt, pm, { transB: true }) : sddmm(at, bt, pm);
  expect(r.shape).toEqual([p.colIdx.length]);
  return r.toArray();
}

function expectExact(got: Float32Array, want: Float32Array): void {
  if (!sameValues(got, want)) throw new Error(`first difference at ${firstDifference(got, want)}`);
}

const cases: [number, number, number, number][] = [
  // rows, cols, k, density
  [30, 40, 100, 0.2],
  [64, 64, 256, 0.1],
  [7, 300, 33, 0.5],
  [50, 20, 1, 0.5], // k = 1: batch 1
  [10, 10, 31, 1], // fully dense rows, k below one lane group
  [1, 1, 65, 1], // 1 x 1
];

// Every device: CUDA gives the CPU's bits (its lanes and tree are the CPU's).
const combinations = devices.flatMap((device) => [true, false].map((transB) => [transB, device] as const));

describe.each(combinations)('sddmm (transB %s) on %s', (transB, device) => {
  const run = (a: Float32Array, b: Float32Array, p: Csr, k: number, t: boolean): Float32Array => runOn(a, b, p, k, t, device);
  test.each(cases)('%i x %i pattern, k = %i, density %f: bit-exact to the same-order reference', (rows, cols, k, density) => {
    const p = randomCsr(rows, cols, density, rows * 3 + cols);
    const a = randomValues(rows * k, k + 1);
    const b = randomValues(cols * k, k + 2);
    expectExact(run(a, b, p, k, transB), reference(a, b, p, k, transB));
  });

  test('the reference is within gamma_k * sum|a||b| of float64', () => {
    const p = randomCsr(20, 30, 0.3, 9), k = 200;
    const a = randomValues(20 * k, 1), b = randomValues(30 * k, 2);
    const got = run(a, b, p, k, transB);
    for (let i = 0; i < p.rows; i++)
      for (let e = p.rowPtr[i]; e < p.rowPtr[i + 1]; e++) {
        let exact = 0, mag = 0;
        for (let t = 0; t < k; t++) {
          const x = a[i * k + t] * (transB ? b[p.colIdx[e] * k + t] : b[t * p.cols + p.colIdx[e]]);
          exact += x;
          mag += Math.abs(x);
        }
        expect(Math.abs(got[e] - exact)).toBeLessThanOrEqual(gamma(k) * mag);
      }
  });

  test('edge cases: zero rows, empty rows, a single entry, k = 0, no entries', () => {
    const empty: Csr = { rows: 0, cols: 4, rowPtr: new Int32Array([0]), colIdx: new Int32Array(0), values: new Float32Array(0) };
    expect(run(new Float32Array(0), randomValues(4 * 3, 1), empty, 3, transB).length).toBe(0);
    const single: Csr = { rows: 3, cols: 4, rowPtr: Int32Array.from([0, 0, 1, 1]), colIdx: Int32Array.from([3]), values: Float32Array.from([9]) };
    const a = randomValues(3 * 5, 2), b = randomValues(4 * 5, 3);
    expectExact(run(a, b, single, 5, transB), reference(a, b, single, 5, transB));
    // k = 0: every sampled product is an empty sum, +0.
    const full2: Csr = { rows: 2, cols: 2, rowPtr: Int32Array.from([0, 2, 4]), colIdx: Int32Array.from([0, 1, 0, 1]), values: new Float32Array(4) };
    expect(Array.from(run(new Float32Array(0), new Float32Array(0), full2, 0, transB))).toEqual([0, 0, 0, 0]);
    const none: Csr = { rows: 3, cols: 3, rowPtr: new Int32Array(4), colIdx: new Int32Array(0), values: new Float32Array(0) };
    expect(run(randomValues(9, 4), randomValues(9, 5), none, 3, transB).length).toBe(0);
  });

  test('NaN and infinities reach exactly the entries that read them', () => {
    const p: Csr = { rows: 3, cols: 3, rowPtr: Int32Array.from([0, 2, 3, 5]), colIdx: Int32Array.from([0, 2, 1, 0, 1]), values: new Float32Array(5) };
    const k = 4;
    const a = randomValues(3 * k, 6), b = randomValues(3 * k, 7);
    a[0 * k + 1] = NaN; // row 0 of a: entries (0, 0) and (0, 2)
    const bIndex = (j: number, t: number) => (transB ? j * k + t : t * 3 + j);
    b[bIndex(1, 2)] = Infinity; // column 1 of op(b): entries (1, 1) and (2, 1)
    const got = run(a, b, p, k, transB);
    expectExact(got, reference(a, b, p, k, transB));
    expect(Number.isNaN(got[0]) && Number.isNaN(got[1])).toBe(true);
    expect(Number.isFinite(got[3])).toBe(true);
    expect(Math.abs(got[2])).toBe(Infinity);
  });
});

test('deterministic: the same bits on repeated multi-threaded runs', () => {
  const p = randomCsr(300, 200, 0.2, 1), k = 96;
  const a = randomValues(300 * k, 2), b = randomValues(200 * k, 3);
  const x = runOn(a, b, p, k, true);
  expect(sameBits(runOn(a, b, p, k, true), x)).toBe(true);
  expect(sameBits(x, reference(a, b, p, k, true))).toBe(true);
});

describe.each(devices)('sddmm on %s: b as [k, p] and b as [p, k] with transB', (device) => {
  test('give the same bits (b is transposed into scratch the size of b, then the same kernel runs)', () => {
    const p = randomCsr(90, 130, 0.15, 7), k = 70;
    const a = randomValues(90 * k, 8), b = randomValues(k * 130, 9);
    const bt = new Float32Array(130 * k);
    for (let t = 0; t < k; t++) for (let j = 0; j < 130; j++) bt[j * k + t] = b[t * 130 + j];
    expect(sameBits(runOn(a, b, p, k, false, device), runOn(a, bt, p, k, true, device))).toBe(true);
  });

  test('the scratch copy is all it allocates beyond its output, and it is released', () => {
    const rows = 64, cols = 96, k = 40;
    using at = randn([rows, k], { seed: 1, device });
    using bt = randn([k, cols], { seed: 2, device });
    using pm = CsrMatrix.random(rows, cols, { density: 0.2, seed: 3, device });
    synchronize(device);
    const before = memory(device).bytesInUse;
    resetPeakMemory(device);
    using out = sddmm(at, bt, pm);
    synchronize(device);
    const after = memory(device);
    expect(after.bytesInUse - before).toBe(4 * pm.nnz); // the output alone
    expect(after.peakBytes - before).toBe(4 * (pm.nnz + k * cols)); // and, while it ran, bᵀ
    expect(out.shape).toEqual([pm.nnz]);
  });
});

test('the weight gradient of a sparse layer: sddmm(dY, X, W, { transB: true }) = (dY Xᵀ) at W`s positions', () => {
  // W [out 6, in 5], X [in 5, batch 4] feature-major, dY [out 6, batch 4].
  const w = randomCsr(6, 5, 0.5, 4);
  const x = randomValues(5 * 4, 5), dy = randomValues(6 * 4, 6);
  const got = runOn(dy, x, w, 4, true);
  for (let i = 0; i < 6; i++)
    for (let e = w.rowPtr[i]; e < w.rowPtr[i + 1]; e++) {
      let s = 0;
      for (let t = 0; t < 4; t++) s += dy[i * 4 + t] * x[w.colIdx[e] * 4 + t];
      expect(got[e]).toBeCloseTo(s, 5);
    }
});

test('errors name the shapes', () => {
  using p = CsrMatrix.random(4, 6, { density: 0.5, device: 'cpu' });
  using a = zeros([4, 3], { device: 'cpu' });
  using b = zeros([6, 3], { device: 'cpu' });
  const err = (f: () => unknown): DynasparseError => {
    try {
      f();
    } catch (e) {
      return e as DynasparseError;
    }
    throw new Error('expected an error');
  };
  let e = err(() => sddmm(a, b, p)); // b [6, 3] not [3, 6]
  expect(e.code).toBe('E_SHAPE');
  expect(e.message).toContain('[4, 3]');
  expect(e.message).toContain('[6, 3]');
  using ok = sddmm(a, b, p, { transB: true });
  expect(ok.shape).toEqual([p.nnz]);
  using b5 = zeros([5, 3], { device: 'cpu' });
  e = err(() => sddmm(a, b5, p, { transB: true }));
  expect(e.code).toBe('E_SHAPE');
  expect(e.message).toContain('[4, 6]');
  expect(err(() => sddmm(a, b, p, { transb: true } as never)).code).toBe('E_ARG');
  expect(err(() => sddmm(a, b, {} as CsrMatrix, { transB: true })).code).toBe('E_ARG');
  using flat = zeros([12], { device: 'cpu' });
  expect(err(() => sddmm(flat, b, p, { transB: true })).code).toBe('E_SHAPE');
  const gone = CsrMatrix.random(4, 6, { density: 0.5, device: 'cpu' });
  gone.dispose();
  expect(err(() => sddmm(a, b, gone, { transB: true })).code).toBe('E_DISPOSED');
});
