/**
 * spmm against plain TypeScript references.
 *
 * Tolerance: none — results must be bit-identical (NaN equal to NaN) to spmmRef,
 * which sums in the order the kernel documents (stored order, from +0, one float32
 * rounding per multiply and add). That is exact by IEEE 754: every step is a
 * correctly rounded float32 operation in the same order, the native build uses
 * -ffp-contract=off (no FMA), and the vectorized inner loop runs across output
 * columns, never inside one sum. Separately, spmmRef itself is checked against a
 * float64 product within the classic bound |err| <= gamma_k * sum|a||b| (k = the
 * row's stored entries), so a reference that matched a wrong kernel bit for bit
 * would still be caught.
 *
 * Order independence: the same expectations hold for every thread count (checked
 * with DYNASPARSE_NUM_THREADS=1 and =7 as well as the default), since every
 * output element is one thread's sum in a fixed order.
 */
import { CsrMatrix, Device, DynasparseError, memory, spmm, tensor, zeros, full, Sparse24Matrix } from '../lib';
import {
  Csr,
  csrTranspose,
  firstDifference,
  gamma,
  randomCsr,
  randomValues,
  sameBits,
  sameValues,
  spmmF64,
  spmmRef,
  take,
} from './helpers/sparse-reference';
import { devices, expectCode } from './helpers/devices';

function matrix(a: Csr, device: Device = 'cpu'): CsrMatrix {
  return CsrMatrix.fromArrays(a, { device });
}

type RunOptions = { transA?: boolean; alpha?: number; beta?: number; out?: Float32Array };

/** op(a) b (+ out) on `device`, read back. */
function runOn(device: Device, a: Csr, b: Float32Array, n: number, opts: RunOptions = {}): Float32Array {
  using m = matrix(a, device);
  const k = opts.transA ? a.rows : a.cols;
  using bt = tensor(b, [k, n], { device });
  const rowsOut = opts.transA ? a.cols : a.rows;
  if (opts.out) {
    using out = tensor(opts.out, [rowsOut, n], { device });
    const r = spmm(m, bt, { transA: opts.transA, alpha: opts.alpha, beta: opts.beta, out });
    expect(r).toBe(out);
    return r.toArray();
  }
  using r = spmm(m, bt, { transA: opts.transA, alpha: opts.alpha });
  expect(r.shape).toEqual([rowsOut, n]);
  return r.toArray();
}

function expectExact(got: Float32Array, want: Float32Array): void {
  if (!sameValues(got, want)) throw new Error(`first difference at ${firstDifference(got, want)}`);
}

// The exact comparisons run on every device: CUDA gives the CPU's bits (NaN payloads aside).
describe.each(devices)('spmm with a CSR matrix on %s', (device) => {
  const run = (a: Csr, b: Float32Array, n: number, opts: RunOptions = {}): Float32Array => runOn(device, a, b, n, opts);
  const shapes: [number, number, number, number][] = [
    // rows, cols, n, density
    [37, 53, 70, 0.1],
    [64, 64, 64, 0.3],
    [128, 96, 130, 0.05],
    [5, 300, 1, 0.5], // batch 1
    [200, 7, 3, 0.9],
  ];
  test.each(shapes)('random %i x %i times %i columns (density %f) is bit-exact to the reference', (rows, cols, n, density) => {
    const a = randomCsr(rows, cols, density, rows * 7 + cols);
    const b = randomValues(cols * n, n + 11);
    expectExact(run(a, b, n), spmmRef(a, b, n));
  });

  test('the same-order reference is within gamma_k * sum|a||b| of the float64 product', () => {
    const a = randomCsr(64, 200, 0.3, 5);
    const b = randomValues(200 * 33, 6);
    const got = run(a, b, 33);
    const { value, magnitude } = spmmF64(a, b, 33);
    let maxNnz = 0;
    for (let i = 0; i < a.rows; i++) maxNnz = Math.max(maxNnz, a.rowPtr[i + 1] - a.rowPtr[i]);
    for (let i = 0; i < got.length; i++) expect(Math.abs(got[i] - value[i])).toBeLessThanOrEqual(gamma(maxNnz) * magnitude[i] + 1e-45);
  });

  test.each(shapes)('transA on %i x %i, %i columns (density %f) is bit-exact to the transposed reference', (rows, cols, n, density) => {
    const a = randomCsr(rows, cols, density, rows + cols * 3);
    const b = randomValues(rows * n, n + 3);
    // (A^T B)[j, :] sums A[i, j] B[i, :] over ascending i: the transposed CSR's stored order.
    expectExact(run(a, b, n, { transA: true }), spmmRef(csrTranspose(a).t, b, n));
  });

  test('alpha and beta with out: C = alpha A B + beta C', () => {
    const a = randomCsr(40, 30, 0.2, 1);
    const b = randomValues(30 * 17, 2);
    const c0 = randomValues(40 * 17, 3);
    expectExact(run(a, b, 17, { alpha: -1.5, beta: 0.25, out: c0 }), spmmRef(a, b, 17, -1.5, 0.25, c0));
    const c1 = randomValues(30 * 17, 4);
    const bt = randomValues(40 * 17, 5);
    expectExact(run(a, bt, 17, { transA: true, alpha: 0.5, beta: -2, out: c1 }), spmmRef(csrTranspose(a).t, bt, 17, 0.5, -2, c1));
  });

  test('alpha that is not a float32 is rounded to float32 first', () => {
    const a = randomCsr(9, 9, 0.5, 8);
    const b = randomValues(81, 9);
    expectExact(run(a, b, 9, { alpha: 0.1 }), spmmRef(a, b, 9, 0.1));
  });

  test('beta = 0 never reads out: NaN and infinities there are overwritten', () => {
    const a = randomCsr(6, 5, 0.5, 10);
    const b = randomValues(5 * 4, 11);
    const garbage = new Float32Array(24).fill(NaN);
    garbage[3] = Infinity;
    expectExact(run(a, b, 4, { out: garbage, beta: 0 }), spmmRef(a, b, 4));
  });

  describe('edge cases', () => {
    const cases: [string, Csr, number][] = [
      ['zero rows', { rows: 0, cols: 5, rowPtr: new Int32Array([0]), colIdx: new Int32Array(0), values: new Float32Array(0) }, 3],
      ['zero columns (k = 0)', { rows: 3, cols: 0, rowPtr: new Int32Array(4), colIdx: new Int32Array(0), values: new Float32Array(0) }, 4],
      ['no stored entries', { rows: 4, cols: 6, rowPtr: new Int32Array(5), colIdx: new Int32Array(0), values: new Float32Array(0) }, 5],
      ['empty rows between full ones', { rows: 4, cols: 3, rowPtr: Int32Array.from([0, 3, 3, 6, 6]), colIdx: Int32Array.from([0, 1, 2, 0, 1, 2]), values: Float32Array.from([1, -2, 3, 4, 5, -6]) }, 7],
      ['a single nonzero', { rows: 3, cols: 4, rowPtr: Int32Array.from([0, 0, 1, 1]), colIdx: Int32Array.from([2]), values: Float32Array.from([2.5]) }, 3],
      ['1 x 1', { rows: 1, cols: 1, rowPtr: Int32Array.from([0, 1]), colIdx: Int32Array.from([0]), values: Float32Array.from([-3]) }, 1],
      ['n = 0 (empty batch)', randomCsr(4, 4, 0.5, 3), 0],
      ['fully dense rows, wide (two accumulator tiles and a remainder)', randomCsr(3, 50, 1, 4), 150],
      ['1 x k times k x 1 (a dot product)', randomCsr(1, 333, 1, 12), 1],
    ];
    test.each(cases)('%s', (_name, a, n) => {
      const b = randomValues(a.cols * n, 13);
      const got = run(a, b, n);
      expect(got.length).toBe(a.rows * n);
      expectExact(got, spmmRef(a, b, n));
      const bt = randomValues(a.rows * n, 14);
      expectExact(run(a, bt, n, { transA: true }), spmmRef(csrTranspose(a).t, bt, n));
    });

    test('NaN and infinities in A or B propagate through stored entries only', () => {
      const a: Csr = { rows: 3, cols: 3, rowPtr: Int32Array.from([0, 1, 3, 4]), colIdx: Int32Array.from([0, 1, 2, 1]), values: Float32Array.from([NaN, 1, Infinity, 2]) };
      // B row 0 holds an infinity (only row 0 of A reads it); B row 2 a NaN (read by row 1 via the infinity entry).
      const b = Float32Array.from([Infinity, 1, 2, 3, -Infinity, 4, NaN, 0, 5]);
      const got = run(a, b, 3);
      expectExact(got, spmmRef(a, b, 3));
      // Row 0: NaN * anything = NaN. Row 1: 1 * B[1] + inf * B[2] = [3 + inf*NaN, -inf + inf*0, 4 + inf*5] = [NaN, NaN, inf]. Row 2: 2 * B[1].
      expect(Array.from(got.slice(0, 3)).every(Number.isNaN)).toBe(true);
      expect(Array.from(got.slice(3, 6))).toEqual([NaN, NaN, Infinity]);
      expect(Array.from(got.slice(6, 9))).toEqual([6, -Infinity, 8]);
      const bt = Float32Array.from([1, NaN, Infinity, 2, 3, 4, 5, 6, -1]);
      expectExact(run(a, bt, 3, { transA: true }), spmmRef(csrTranspose(a).t, bt, 3));
    });
  });

  test('deterministic: the same bits on repeated runs of a multi-threaded size', () => {
    const a = randomCsr(512, 256, 0.2, 21);
    const b = randomValues(256 * 96, 22);
    const first = run(a, b, 96);
    for (let r = 0; r < 3; r++) expect(sameBits(run(a, b, 96), first)).toBe(true);
    const bt = randomValues(512 * 96, 23);
    const firstT = run(a, bt, 96, { transA: true });
    expect(sameBits(run(a, bt, 96, { transA: true }), firstT)).toBe(true);
    // ... and equal to the serial same-order reference, whatever the thread count.
    expect(sameBits(first, spmmRef(a, b, 96))).toBe(true);
  });
});

describe('spmm with a CSR matrix: kept structures and errors', () => {
  test('transA caches the transposed structure in the matrix, reads current values, frees it on dispose', () => {
    const a = randomCsr(30, 20, 0.3, 31);
    const m = matrix(a);
    using b = tensor(randomValues(30 * 8, 32), [30, 8], { device: 'cpu' });
    const before = memory('cpu').bytesInUse;
    spmm(m, b, { transA: true }).dispose();
    const cached = memory('cpu').bytesInUse - before;
    expect(cached).toBe(4 * (21 + 2 * a.colIdx.length));
    spmm(m, b, { transA: true }).dispose();
    expect(memory('cpu').bytesInUse - before).toBe(cached); // built once
    m.dispose();
    expect(memory('cpu').bytesInUse).toBe(before - 4 * (31 + 2 * a.colIdx.length)); // the matrix's own buffers and the cache
  });

  // Exact bytes of memory('cuda'): the products' row orders are the only state a CUDA matrix adds.
  (devices.includes('cuda') ? test : test.skip)('on cuda the row orders are built by the first products, reused, freed on dispose', () => {
    const a = randomCsr(30, 20, 0.3, 41);
    const nnz = a.colIdx.length;
    const m = CsrMatrix.fromArrays(a, { device: 'cuda' });
    const bv = randomValues(20 * 8, 42), dyv = randomValues(30 * 8, 43);
    using b = tensor(bv, [20, 8], { device: 'cuda' });
    using dy = tensor(dyv, [30, 8], { device: 'cuda' });
    const before = memory('cuda').bytesInUse;
    for (let i = 0; i < 2; i++) {
      using y = spmm(m, b);
      expectExact(y.toArray(), spmmRef(a, bv, 8));
      expect(memory('cuda').bytesInUse - before).toBe(4 * 30 * 8 + 4 * 30); // y and the row order, once
    }
    for (let i = 0; i < 2; i++) {
      using dx = spmm(m, dy, { transA: true });
      expectExact(dx.toArray(), spmmRef(csrTranspose(a).t, dyv, 8));
      // dx, the transposed structure (rowPtr, rows, perm) and its row order, besides the first order
      expect(memory('cuda').bytesInUse - before).toBe(4 * 20 * 8 + 4 * 30 + 4 * (21 + 2 * nnz) + 4 * 20);
    }
    m.dispose();
    expect(memory('cuda').bytesInUse).toBe(before - 4 * (31 + 2 * nnz));
  });

  test('errors name the problem', () => {
    using m = matrix(randomCsr(4, 6, 0.5, 1));
    using b = zeros([5, 3], { device: 'cpu' });
    const call = (f: () => unknown): DynasparseError => {
      try {
        f();
      } catch (e) {
        return e as DynasparseError;
      }
      throw new Error('expected an error');
    };
    let e = call(() => spmm(m, b));
    expect(e.code).toBe('E_SHAPE');
    expect(e.message).toContain('[4, 6]');
    expect(e.message).toContain('[5, 3]');
    e = call(() => spmm(m, b, { transA: true }));
    expect(e.code).toBe('E_SHAPE');
    expect(e.message).toContain('[6, 4]');
    using b2 = zeros([6, 3], { device: 'cpu' });
    using wrongOut = zeros([4, 4], { device: 'cpu' });
    expect(call(() => spmm(m, b2, { out: wrongOut })).code).toBe('E_SHAPE');
    expect(call(() => spmm(m, b2, { beta: 1 })).code).toBe('E_ARG');
    expect(call(() => spmm(m, b2, { alpha: NaN })).code).toBe('E_ARG');
    expect(call(() => spmm(m, b2, { beta: Infinity })).code).toBe('E_ARG');
    expect(call(() => spmm(m, b2, { transA: 1 as unknown as boolean })).code).toBe('E_ARG');
    expect(call(() => spmm(m, b2, { tansA: true } as never)).code).toBe('E_ARG');
    expect(call(() => spmm({} as CsrMatrix, b2)).code).toBe('E_ARG');
    using ints = tensor(new Int32Array(18), [6, 3], { device: 'cpu' });
    expect(call(() => spmm(m, ints as never)).code).toBe('E_ARG');
    using flat = zeros([18], { device: 'cpu' });
    expect(call(() => spmm(m, flat)).code).toBe('E_SHAPE');
    // out sharing memory with b (b is [6, 3], op(a)^T b is [6, 3] too with a square matrix)
    using sq = matrix(randomCsr(6, 6, 0.5, 2));
    using bb = full([6, 3], 1, { device: 'cpu' });
    expect(call(() => spmm(sq, bb, { out: bb })).code).toBe('E_ARG');
    using view = bb.reshape([6, 3]);
    expect(call(() => spmm(sq, bb, { out: view })).code).toBe('E_ARG');
    const gone = matrix(randomCsr(6, 6, 0.5, 3));
    gone.dispose();
    expect(call(() => spmm(gone, b2)).code).toBe('E_DISPOSED');
    const bGone = zeros([6, 3], { device: 'cpu' });
    bGone.dispose();
    expect(call(() => spmm(sq, bGone)).code).toBe('E_DISPOSED');
  });
});

// The reference: the 2:4 matrix as CSR arrays of its stored entries, in group
// order with the lower position first (the kernel's documented order). Zero-valued
// stored entries stay in, as the kernel multiplies them too (0 * inf = NaN).
function storedAsCsr(m: Sparse24Matrix): Csr {
  const mask = take(m.mask()), dense = take(m.toDense());
  const rowPtr = new Int32Array(m.rows + 1), colIdx: number[] = [], values: number[] = [];
  for (let i = 0; i < m.rows; i++) {
    for (let j = 0; j < m.cols; j++) if (mask[i * m.cols + j] === 1) (colIdx.push(j), values.push(dense[i * m.cols + j]));
    rowPtr[i + 1] = colIdx.length;
  }
  return { rows: m.rows, cols: m.cols, rowPtr, colIdx: Int32Array.from(colIdx), values: Float32Array.from(values) };
}

describe.each(devices)('spmm with a 2:4 matrix on %s', (device) => {
  test.each([
    [16, 32, 24],
    [33, 64, 70],
    [1, 4, 1],
    [7, 12, 130],
    [0, 8, 3],
  ])('%i x %i times %i columns, plain and transposed, bit-exact', (rows, cols, n) => {
    const w = randomValues(rows * cols, rows + cols);
    using d = tensor(w, [rows, cols], { device });
    using m = Sparse24Matrix.fromDense(d);
    const ref = storedAsCsr(m);
    const b = randomValues(cols * n, 5);
    using bt = tensor(b, [cols, n], { device });
    using r = spmm(m, bt);
    expectExact(r.toArray(), spmmRef(ref, b, n));
    const b2 = randomValues(rows * n, 6);
    using bt2 = tensor(b2, [rows, n], { device });
    using rt = spmm(m, bt2, { transA: true, alpha: 2 });
    expectExact(rt.toArray(), spmmRef(csrTranspose(ref).t, b2, n, 2));
    const c0 = randomValues(cols * n, 7);
    using out = tensor(c0, [cols, n], { device });
    spmm(m, bt2, { transA: true, alpha: -1, beta: 0.5, out });
    expectExact(out.toArray(), spmmRef(csrTranspose(ref).t, b2, n, -1, 0.5, c0));
    const c1 = randomValues(rows * n, 8);
    using out1 = tensor(c1, [rows, n], { device });
    spmm(m, bt, { beta: 3, out: out1 });
    expectExact(out1.toArray(), spmmRef(ref, b, n, 1, 3, c1));
  });

  test('deterministic across runs', () => {
    using d = tensor(randomValues(256 * 128, 1), [256, 128], { device });
    using m = Sparse24Matrix.fromDense(d);
    using b = tensor(randomValues(128 * 200, 2), [128, 200], { device });
    using bt = tensor(randomValues(256 * 200, 3), [256, 200], { device });
    const x = take(spmm(m, b)), y = take(spmm(m, b));
    expect(sameBits(x, y)).toBe(true);
    const xt = take(spmm(m, bt, { transA: true })), yt = take(spmm(m, bt, { transA: true }));
    expect(sameBits(xt, yt)).toBe(true);
  });
});

describe('spmm with a 2:4 matrix: errors and precision', () => {
  // The sparse tensor cores on cuda (under the emulation, the portable twin of mma.sp).
  (devices.includes('cuda') ? test : test.skip)("precision 'bf16' on cuda: exact on small integers, within its documented bound otherwise", () => {
    const rows = 37, cols = 72, n = 21;
    // Integers in [-3, 3] are exact in bfloat16, and so are their sums in float32: the same bits as fp32.
    const ints = (count: number, seed: number): Float32Array => Float32Array.from(randomValues(count, seed), (v) => Math.max(-3, Math.min(3, Math.round(v * 3))));
    using di = tensor(ints(rows * cols, 1), [rows, cols], { device: 'cuda' });
    using mi = Sparse24Matrix.fromDense(di);
    using bi = tensor(ints(cols * n, 2), [cols, n], { device: 'cuda' });
    expectExact(take(spmm(mi, bi, { precision: 'bf16' })), take(spmm(mi, bi)));
    // Otherwise within 2^-7 S + (cols + 4) 2^-22 S of fp32, S = sum over k of |alpha a b| (spmm's doc comment).
    const alpha = 1.5;
    using d = tensor(randomValues(rows * cols, 3), [rows, cols], { device: 'cuda' });
    using m = Sparse24Matrix.fromDense(d);
    const bv = randomValues(cols * n, 4);
    using b = tensor(bv, [cols, n], { device: 'cuda' });
    const fp32 = take(spmm(m, b, { alpha })), bf16 = take(spmm(m, b, { alpha, precision: 'bf16' }));
    const a = take(m.toDense());
    let worst = 0;
    for (let i = 0; i < rows; i++) {
      for (let j = 0; j < n; j++) {
        let sum = 0;
        for (let k = 0; k < cols; k++) sum += Math.abs(alpha * a[i * cols + k] * bv[k * n + j]);
        const bound = 2 ** -7 * sum + (cols + 4) * 2 ** -22 * sum;
        worst = Math.max(worst, Math.abs(bf16[i * n + j] - fp32[i * n + j]) / bound);
      }
    }
    expect(worst).toBeLessThanOrEqual(1);
    expect(worst).toBeGreaterThan(0); // bfloat16 rounding did happen: the comparison is not vacuous
  });

  test('inner dimension mismatch is E_SHAPE naming both shapes', () => {
    using d = zeros([4, 8], { device: 'cpu' });
    using m = Sparse24Matrix.fromDense(d);
    using b = zeros([4, 2], { device: 'cpu' });
    expect(() => spmm(m, b)).toThrow(expect.objectContaining({ code: 'E_SHAPE', message: expect.stringContaining('[4, 8]') }));
    using b8 = zeros([8, 2], { device: 'cpu' });
    expect(() => spmm(m, b8, { transA: true })).toThrow(expect.objectContaining({ code: 'E_SHAPE', message: expect.stringContaining('[8, 2]') }));
  });

  test("precision 'bf16' is for a 2:4 matrix on cuda without transA; anything else is refused", () => {
    using d = zeros([4, 8], { device: 'cpu' });
    using m = Sparse24Matrix.fromDense(d);
    using b = zeros([8, 2], { device: 'cpu' });
    expect(() => spmm(m, b, { precision: 'bf16' })).toThrow(expect.objectContaining({ code: 'E_DEVICE', message: expect.stringContaining('cuda only') }));
    expect(() => spmm(m, b, { precision: 'fp16' as 'bf16' })).toThrow(expect.objectContaining({ code: 'E_ARG', message: expect.stringContaining('precision') }));
    using b4 = zeros([4, 2], { device: 'cpu' });
    expect(() => spmm(m, b4, { precision: 'bf16', transA: true })).toThrow(expect.objectContaining({ code: 'E_ARG', message: expect.stringContaining('transA') }));
    using c = CsrMatrix.fromDense(d);
    expect(() => spmm(c, b, { precision: 'bf16' })).toThrow(expect.objectContaining({ code: 'E_ARG', message: expect.stringContaining('Sparse24Matrix') }));
    expectExact(take(spmm(m, b, { precision: 'fp32' })), take(spmm(m, b)));
  });
});

describe('spmm result sizes and scalars the kernels cannot represent', () => {
  test('a result of more than 2^46 elements is E_ARG, also when b holds no elements (k = 0)', () => {
    // b is [0, 2^44 + 1]: empty, but m x n overflows a 64-bit byte count.
    using a = CsrMatrix.fromArrays({ rows: 2 ** 20, cols: 0, rowPtr: new Int32Array(2 ** 20 + 1), colIdx: [], values: [] });
    using b = zeros([0, 2 ** 44 + 1]);
    expectCode(() => spmm(a, b), 'E_ARG', /the result \[1048576, 17592186044417\] has more than 2\^46 elements/);
    using a24 = Sparse24Matrix.fromDense(zeros([2 ** 20, 0]));
    expectCode(() => spmm(a24, b), 'E_ARG', /more than 2\^46 elements/);
  });

  test('alpha or beta outside the float32 range is E_ARG (it would become an infinity)', () => {
    using a = CsrMatrix.fromArrays({ rows: 2, cols: 2, rowPtr: [0, 1, 1], colIdx: [0], values: [1e-30] });
    using b = tensor([[1, 1], [1, 1]]);
    using out = zeros([2, 2]);
    expectCode(() => spmm(a, b, { alpha: 1e39 }), 'E_ARG', /alpha: expected a number within the float32 range, got 1e\+39/);
    expectCode(() => spmm(a, b, { beta: -1e39, out }), 'E_ARG', /beta: expected a number within the float32 range/);
    using y = spmm(a, b, { alpha: 3.4e38 });
    expect(Array.from(y.toArray())).toEqual([Math.fround(1e-30 * Math.fround(3.4e38)), Math.fround(1e-30 * Math.fround(3.4e38)), 0, 0]);
  });
});
