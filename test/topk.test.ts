// topkGrowth and bottomkMagnitude against plain TypeScript references.
//
// Tolerance: none. The kernel's contract is that (dy · xᵀ)[i, j] is summed in
// float32 in batch order, one rounding per multiply and per add (no FMA, no
// reassociation, whatever the tiling, threads or SIMD width). The reference
// does exactly that with Math.fround: a product of two float32 values is exact
// in float64, and float64 has more than 2 * 24 + 2 bits, so rounding the
// float64 sum to float32 is the correctly rounded float32 sum (double rounding
// is innocuous). Hence scores and selected index sets must be equal bit for
// bit, ties included. One further test checks the scores against the exact
// (float64) product within the float32 summation error bound.
import {
  backends,
  bottomkMagnitude,
  CsrMatrix,
  memory,
  randn,
  resetPeakMemory,
  tensor,
  Tensor,
  topkDense,
  topkGrowth,
} from '../lib';
import { nativeFunctions } from '../lib/native';
import { expectCode as expectError } from './helpers/devices';

interface Selected {
  rows: number[];
  cols: number[];
  scores: number[];
  nanCount: number;
}

function storedSet(rows: number, cols: number, rowPtr: Int32Array, colIdx: Int32Array): Set<number> {
  const s = new Set<number>();
  for (let i = 0; i < rows; i++) for (let p = rowPtr[i]; p < rowPtr[i + 1]; p++) s.add(i * cols + colIdx[p]);
  return s;
}

// A local binding: looking up Math.fround through jest's sandboxed global on
// every call is a hundred times slower than calling it.
const fround = Math.fround;
const abs = Math.abs;

/** Sequential float32 dot product, as the kernel's contract states. */
function dot32(dy: Float32Array, x: Float32Array, i: number, j: number, batch: number): number {
  let s = 0;
  for (let b = 0; b < batch; b++) s = fround(s + fround(dy[i * batch + b] * x[j * batch + b]));
  return s;
}

function refGrowth(dy: Float32Array, x: Float32Array, pattern: CsrMatrix, batch: number, k: number): Selected {
  const { rows, cols } = pattern;
  const stored = storedSet(rows, cols, pattern.rowPtr(), pattern.colIdx());
  const cands: [number, number][] = [];
  let nanCount = 0;
  for (let i = 0; i < rows; i++)
    for (let j = 0; j < cols; j++) {
      if (stored.has(i * cols + j)) continue;
      const a = abs(dot32(dy, x, i, j, batch));
      if (Number.isNaN(a)) nanCount++;
      else cands.push([a, i * cols + j]);
    }
  cands.sort((p, q) => q[0] - p[0] || p[1] - q[1]);
  const top = cands.slice(0, k);
  return { rows: top.map((c) => Math.floor(c[1] / cols)), cols: top.map((c) => c[1] % cols), scores: top.map((c) => c[0]), nanCount };
}

function refBottom(m: CsrMatrix, k: number): Selected & { indices: number[] } {
  const v = m.values.toArray();
  const rowPtr = m.rowPtr();
  const colIdx = m.colIdx();
  const rowOf: number[] = [];
  for (let i = 0; i < m.rows; i++) for (let p = rowPtr[i]; p < rowPtr[i + 1]; p++) rowOf.push(i);
  const cands: [number, number][] = [];
  let nanCount = 0;
  v.forEach((x, idx) => {
    if (Number.isNaN(x)) nanCount++;
    else cands.push([abs(x), idx]);
  });
  cands.sort((p, q) => p[0] - q[0] || p[1] - q[1]);
  const top = cands.slice(0, k);
  return {
    rows: top.map((c) => rowOf[c[1]]),
    cols: top.map((c) => colIdx[c[1]]),
    indices: top.map((c) => c[1]),
    scores: top.map((c) => c[0]),
    nanCount,
  };
}

function plain(sel: { rows: Int32Array; cols: Int32Array; scores: Float32Array; nanCount: number }): Selected {
  return { rows: Array.from(sel.rows), cols: Array.from(sel.cols), scores: Array.from(sel.scores), nanCount: sel.nanCount };
}

/** A pattern with exactly the positions where stored(i, j) holds. */
function patternOf(rows: number, cols: number, stored: (i: number, j: number) => boolean, value = (i: number, j: number) => i - j + 0.5): CsrMatrix {
  const rowPtr = [0];
  const colIdx: number[] = [];
  const values: number[] = [];
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++)
      if (stored(i, j)) {
        colIdx.push(j);
        values.push(value(i, j));
      }
    rowPtr.push(colIdx.length);
  }
  return CsrMatrix.fromArrays({ rows, cols, rowPtr, colIdx, values });
}

/**
 * Exact equality of two selections. Reports the first difference (jest's
 * toEqual is slow on arrays of many thousands of numbers).
 */
function expectSame(got: Selected, want: Selected): void {
  expect(got.nanCount).toBe(want.nanCount);
  expect(got.rows.length).toBe(want.rows.length);
  const at = got.rows.findIndex((r, n) => r !== want.rows[n] || got.cols[n] !== want.cols[n] || !Object.is(got.scores[n], want.scores[n]));
  if (at >= 0) {
    const show = (s: Selected) => `(${s.rows[at]}, ${s.cols[at]}) score ${s.scores[at]}`;
    expect(`entry ${at}: ${show(got)}`).toBe(`entry ${at}: ${show(want)}`);
  }
}

function check(dy: Tensor, x: Tensor, pattern: CsrMatrix, k: number): Selected {
  const got = plain(topkGrowth(dy, x, pattern, k));
  expectSame(got, refGrowth(Float32Array.from(dy.toArray()), Float32Array.from(x.toArray()), pattern, dy.shape[1], k));
  return got;
}


describe('topkGrowth', () => {
  test('matches the reference on random inputs (square, non-square, batch 1, tile residues)', () => {
    // Sizes straddle the kernel's tiles (192 rows, 256 cols, 16-col panels, 6-row groups, batch blocks of 128).
    const cases: [number, number, number, number][] = [
      [1, 1, 1, 1],
      [7, 5, 3, 10],
      [5, 40, 1, 30],
      [193, 33, 4, 200],
      [50, 260, 129, 500],
      [13, 300, 130, 3000],
    ];
    cases.forEach(([rows, cols, batch, k], n) => {
      const dy = randn([rows, batch], { seed: 10 + n });
      const x = randn([cols, batch], { seed: 20 + n });
      const pattern = CsrMatrix.random(rows, cols, { density: 0.3, seed: 30 + n, init: 'zeros' });
      const kk = Math.min(k, rows * cols - pattern.nnz);
      const got = check(dy, x, pattern, kk);
      expect(got.rows.length).toBe(kk);
    });
  });

  test('scores agree with the exact product within the float32 summation bound', () => {
    // |fl(sum) - sum| <= gamma_B * sum |a_b x_b| with gamma_B = B u / (1 - B u), u = 2^-24 (Higham, Thm 3.1/Eq. 3.5).
    const rows = 30, cols = 40, batch = 300;
    const dy = randn([rows, batch], { seed: 1 });
    const x = randn([cols, batch], { seed: 2 });
    const pattern = CsrMatrix.random(rows, cols, { density: 0.5, seed: 3, init: 'zeros' });
    const got = topkGrowth(dy, x, pattern, 100);
    const d = dy.toArray(), xa = x.toArray();
    const u = 2 ** -24, gamma = (batch * u) / (1 - batch * u);
    for (let n = 0; n < 100; n++) {
      let exact = 0, absSum = 0;
      for (let b = 0; b < batch; b++) {
        exact += d[got.rows[n] * batch + b] * xa[got.cols[n] * batch + b];
        absSum += Math.abs(d[got.rows[n] * batch + b] * xa[got.cols[n] * batch + b]);
      }
      expect(Math.abs(got.scores[n] - Math.abs(exact))).toBeLessThanOrEqual(gamma * absSum);
    }
  });

  test('ties go to the lower flat index', () => {
    // Every row of dy equal and x rows in two groups: products take 2 values, many ties.
    const rows = 60, cols = 300, batch = 3;
    const dy = tensor(new Float32Array(rows * batch).fill(1), [rows, batch]);
    const xv = new Float32Array(cols * batch);
    for (let j = 0; j < cols; j++) xv.fill(j % 3 === 0 ? 2 : -1, j * batch, (j + 1) * batch);
    const x = tensor(xv, [cols, batch]);
    const pattern = patternOf(rows, cols, (i, j) => (i * 7 + j) % 11 === 0);
    const got = check(dy, x, pattern, 2500);
    // The first selections: score 6 at the lowest flat indices with j % 3 == 0, skipping stored positions.
    expect(got.scores[0]).toBe(6);
    const expected: number[] = [];
    for (let f = 0; expected.length < 5; f++) {
      const i = Math.floor(f / cols), j = f % cols;
      if (j % 3 === 0 && (i * 7 + j) % 11 !== 0) expected.push(f);
    }
    expect(got.rows.slice(0, 5).map((r, n) => r * cols + got.cols[n])).toEqual(expected);
  });

  test('k = 0 gives empty arrays', () => {
    const got = topkGrowth(randn([4, 2]), randn([3, 2]), patternOf(4, 3, () => false), 0);
    expect(got.rows).toHaveLength(0);
    expect(got.cols).toHaveLength(0);
    expect(got.scores).toHaveLength(0);
    expect(got.nanCount).toBe(0);
  });

  test('zero rows or zero cols: no candidates', () => {
    const p0 = patternOf(0, 5, () => false);
    expect(topkGrowth(randn([0, 3]), randn([5, 3]), p0, 0).rows).toHaveLength(0);
    expectError(() => topkGrowth(randn([0, 3]), randn([5, 3]), p0, 1), 'E_ARG', /at most rows \* cols - nnz = 0 candidate positions, got 1/);
    const p1 = patternOf(4, 0, () => false);
    expect(topkGrowth(randn([4, 3]), randn([0, 3]), p1, 0).rows).toHaveLength(0);
  });

  test('empty rows, fully dense rows and a single nonzero', () => {
    // Rows 0 and 3 fully stored (never selected), rows 1 and 4 empty, row 2 holds one entry.
    const stored = (i: number, j: number) => i === 0 || i === 3 || (i === 2 && j === 5);
    const pattern = patternOf(6, 20, stored);
    const dy = randn([6, 4], { seed: 5 });
    const x = randn([20, 4], { seed: 6 });
    const all = 6 * 20 - pattern.nnz;
    const got = check(dy, x, pattern, all);
    got.rows.forEach((r, n) => expect(stored(r, got.cols[n])).toBe(false));
    const single = patternOf(6, 20, (i, j) => i === 2 && j === 5);
    expect(single.nnz).toBe(1);
    check(dy, x, single, 119);
  });

  test('k = all candidates selects every candidate once, in order', () => {
    const pattern = CsrMatrix.random(9, 70, { density: 0.2, seed: 9, init: 'zeros' });
    const all = 9 * 70 - pattern.nnz;
    const got = check(randn([9, 5], { seed: 7 }), randn([70, 5], { seed: 8 }), pattern, all);
    expect(new Set(got.rows.map((r, n) => r * 70 + got.cols[n])).size).toBe(all);
  });

  test('k above the candidates is E_ARG naming both numbers', () => {
    const pattern = patternOf(3, 4, (i, j) => i === j);
    expectError(() => topkGrowth(randn([3, 2]), randn([4, 2]), pattern, 10), 'E_ARG', /= 9 candidate positions, got 10/);
  });

  test('1 x 1: one candidate or none', () => {
    const got = check(tensor([[-3]]), tensor([[2]]), patternOf(1, 1, () => false), 1);
    expect(got).toEqual({ rows: [0], cols: [0], scores: [6], nanCount: 0 });
    expectError(() => topkGrowth(tensor([[-3]]), tensor([[2]]), patternOf(1, 1, () => true), 1), 'E_ARG');
  });

  test('batch 0: every product is 0, ties by flat index', () => {
    const pattern = patternOf(3, 4, (i, j) => j === 1);
    const got = check(tensor(new Float32Array(0), [3, 0]), tensor(new Float32Array(0), [4, 0]), pattern, 5);
    expect(got.rows.map((r, n) => r * 4 + got.cols[n])).toEqual([0, 2, 3, 4, 6]);
  });

  test('NaN products are never selected and are counted; infinities are selectable', () => {
    const rows = 8, cols = 30, batch = 4;
    const d = randn([rows, batch], { seed: 11 }).toArray();
    const xv = randn([cols, batch], { seed: 12 }).toArray();
    d[1 * batch + 2] = NaN; // row 1: all NaN
    xv[3 * batch + 0] = Infinity; // column 3: +-Inf (NaN where row 1)
    xv[7 * batch + 1] = -Infinity;
    d[5 * batch + 1] = 0; // (5, 7): 0 * -Inf = NaN
    // Copies: arrays made by the addon belong to Node's realm, not to jest's sandbox.
    const dy = tensor(Float32Array.from(d), [rows, batch]);
    const x = tensor(Float32Array.from(xv), [cols, batch]);
    const pattern = patternOf(rows, cols, (i, j) => (i + j) % 5 === 0);
    const all = rows * cols - pattern.nnz;
    const ref = refGrowth(d, xv, pattern, batch, all);
    expect(ref.nanCount).toBeGreaterThan(cols / 2);
    const got = check(dy, x, pattern, all);
    expect(got.rows.length).toBe(all - ref.nanCount); // fewer than k: the NaN candidates are not selectable
    expect(got.scores[0]).toBe(Infinity);
    expect(got.rows).not.toContain(1);
    check(dy, x, pattern, 10);
  });

  test('results are identical across runs (many ties, several threads)', () => {
    const rows = 200, cols = 600, batch = 2;
    const dv = new Float32Array(rows * batch).map((_, n) => (n * 7919) % 5);
    const xv = new Float32Array(cols * batch).map((_, n) => ((n * 104729) % 7) - 3);
    const dy = tensor(dv, [rows, batch]);
    const x = tensor(xv, [cols, batch]);
    const pattern = CsrMatrix.random(rows, cols, { density: 0.1, seed: 4, init: 'zeros' });
    const first = plain(topkGrowth(dy, x, pattern, 20000));
    for (let r = 0; r < 3; r++) expectSame(plain(topkGrowth(dy, x, pattern, 20000)), first);
    expectSame(first, refGrowth(dv, xv, pattern, batch, 20000));
  });

  test('extra memory is O(threads x (tile + k)), independent of rows x cols', () => {
    // Scratch per worker thread (cpu/topk.cpp): a 192 x 256 output tile plus a 256-column x 128-batch
    // packed block of x (327680 bytes), a candidate buffer of 1.5k entries of 12 bytes, 16 bytes of counts.
    const threads = backends()[0].threads;
    const k = 1000;
    const perThread = (192 * 256 + 256 * 128) * 4 + 1.5 * k * 12 + 16;
    const extraFor = (n: number): number => {
      // The CPU's scratch (the formula above), wherever the default device is.
      const dy = randn([n, 8], { seed: 1, device: 'cpu' });
      const x = randn([n, 8], { seed: 2, device: 'cpu' });
      const pattern = CsrMatrix.random(n, n, { density: 0.1, seed: 3, init: 'zeros', device: 'cpu' });
      const before = memory('cpu').bytesInUse;
      resetPeakMemory('cpu');
      const got = topkGrowth(dy, x, pattern, k);
      const extra = memory('cpu').peakBytes - before;
      expect(got.rows).toHaveLength(k);
      expect(memory('cpu').bytesInUse).toBe(before); // scratch is released
      [dy, x, pattern].forEach((t) => t.dispose());
      return extra;
    };
    const big = extraFor(2048); // 4M candidates: a dense product would be 16 MiB
    const small = extraFor(1536);
    expect(big).toBe(small);
    expect(big).toBeGreaterThan(0);
    expect(big).toBeLessThanOrEqual(threads * perThread);
    expect(big).toBeLessThan(2048 * 2048 * 4);
  });

  describe('errors', () => {
    const pattern = () => patternOf(3, 4, (i, j) => i === j);
    test('dy not a tensor', () => expectError(() => topkGrowth([1] as never, randn([4, 2]), pattern(), 1), 'E_ARG', /dy: expected a Tensor/));
    test('x of dtype int32', () =>
      expectError(() => topkGrowth(randn([3, 2]), tensor(new Int32Array(8), [4, 2]) as never, pattern(), 1), 'E_ARG', /x: expected a float32/));
    test('dy not 2-D', () => expectError(() => topkGrowth(randn([6]), randn([4, 2]), pattern(), 1), 'E_SHAPE', /dy: expected a 2-D/));
    test('dy rows differ from pattern rows', () =>
      expectError(() => topkGrowth(randn([2, 2]), randn([4, 2]), pattern(), 1), 'E_SHAPE', /dy: expected 3 rows/));
    test('x rows differ from pattern cols', () =>
      expectError(() => topkGrowth(randn([3, 2]), randn([5, 2]), pattern(), 1), 'E_SHAPE', /x: expected 4 rows/));
    test('batch mismatch', () => expectError(() => topkGrowth(randn([3, 2]), randn([4, 3]), pattern(), 1), 'E_SHAPE', /x: expected batch 2/));
    test('pattern not a CsrMatrix', () =>
      expectError(() => topkGrowth(randn([3, 2]), randn([4, 2]), {} as never, 1), 'E_ARG', /pattern: expected a CsrMatrix/));
    test('k not an integer', () => expectError(() => topkGrowth(randn([3, 2]), randn([4, 2]), pattern(), 1.5), 'E_ARG', /k: expected/));
    test('k negative', () => expectError(() => topkGrowth(randn([3, 2]), randn([4, 2]), pattern(), -1), 'E_ARG', /k: expected/));
    test('disposed dy', () => {
      const dy = randn([3, 2]);
      dy.dispose();
      expectError(() => topkGrowth(dy, randn([4, 2]), pattern(), 1), 'E_DISPOSED');
    });
    test('disposed pattern', () => {
      const p = pattern();
      p.dispose();
      expectError(() => topkGrowth(randn([3, 2]), randn([4, 2]), p, 1), 'E_DISPOSED');
    });
    const cuda = backends()[1].available;
    (cuda ? test : test.skip)('inputs on different devices (needs cuda)', () =>
      expectError(() => topkGrowth(randn([3, 2], { device: 'cuda' }), randn([4, 2], { device: 'cpu' }), pattern(), 1), 'E_DEVICE'));
    (cuda ? test : test.skip)('cuda inputs: the cpu selection, bit for bit (needs cuda)', () => {
      const dy = randn([70, 33], { seed: 1 });
      const x = randn([90, 33], { seed: 2 });
      const p = CsrMatrix.random(70, 90, { density: 0.3, seed: 3 });
      const onCuda = CsrMatrix.fromArrays({ rows: 70, cols: 90, rowPtr: p.rowPtr(), colIdx: p.colIdx(), values: p.values.toArray() }, { device: 'cuda' });
      const dyCuda = dy.to('cuda');
      const xCuda = x.to('cuda');
      for (const k of [0, 1, 500, 70 * 90 - p.nnz]) expect(plain(topkGrowth(dyCuda, xCuda, onCuda, k))).toEqual(plain(topkGrowth(dy, x, p, k)));
      expectError(() => topkGrowth(dyCuda, xCuda, onCuda, 70 * 90 - p.nnz + 1), 'E_ARG');
    });
    test('the binding checks again without the TypeScript layer', () => {
      const addon = nativeFunctions<{ topkGrowth(dy: unknown, x: unknown, p: unknown, k: number): unknown }>();
      const p = pattern();
      expectError(() => addon.topkGrowth(randn([3, 2])._native, randn([4, 2])._native, p._native(), 10), 'E_ARG', /= 9 candidate positions, got 10/);
      expectError(() => addon.topkGrowth(randn([3, 2])._native, randn([4, 3])._native, p._native(), 1), 'E_SHAPE');
      expectError(() => addon.topkGrowth(randn([3, 2])._native, randn([5, 2])._native, p._native(), 1), 'E_SHAPE');
      expectError(() => addon.topkGrowth(randn([2, 2])._native, randn([4, 2])._native, p._native(), 1), 'E_SHAPE');
    });
  });
});

/** The reference of topkDense: every non-stored position's |dense| sorted, ties by flat index. */
function refDense(dense: Float32Array, pattern: CsrMatrix, k: number): Selected {
  const { rows, cols } = pattern;
  const stored = storedSet(rows, cols, pattern.rowPtr(), pattern.colIdx());
  const cands: [number, number][] = [];
  let nanCount = 0;
  for (let f = 0; f < rows * cols; f++) {
    if (stored.has(f)) continue;
    if (Number.isNaN(dense[f])) nanCount++;
    else cands.push([abs(dense[f]), f]);
  }
  cands.sort((p, q) => q[0] - p[0] || p[1] - q[1]);
  const top = cands.slice(0, k);
  return { rows: top.map((c) => Math.floor(c[1] / cols)), cols: top.map((c) => c[1] % cols), scores: top.map((c) => c[0]), nanCount };
}

describe('topkDense', () => {
  test('matches the reference: tile residues, exact ties, NaN counted and never selected, Inf selectable, k from 0 to all', () => {
    for (const [rows, cols, n] of [[1, 1, 0], [7, 300, 1], [193, 257, 2], [130, 129, 3]]) {
      const pattern = CsrMatrix.random(rows, cols, { density: 0.3, seed: 40 + n, init: 'zeros' });
      using d = randn([rows, cols], { seed: 50 + n });
      const values = Float32Array.from(d.toArray(), (v, f) => (f % 7 === 0 ? 0.5 : f === 5 ? NaN : f === 11 ? -Infinity : v));
      using dense = tensor(values, [rows, cols], { device: pattern.device });
      const all = rows * cols - pattern.nnz;
      for (const k of [0, 1, Math.floor(all / 3), all]) {
        const got = plain(topkDense(dense, pattern, k));
        // k = 0 reads nothing, so counts no NaN (as topkGrowth computes nothing).
        expectSame(got, k === 0 ? { rows: [], cols: [], scores: [], nanCount: 0 } : refDense(values, pattern, k));
      }
      pattern.dispose();
    }
  });

  test('errors: the pattern shape, k above the candidates, devices', () => {
    using pattern = CsrMatrix.random(4, 5, { density: 0.5, seed: 1 });
    using dense = randn([4, 5], { seed: 2, device: pattern.device });
    using wrong = randn([5, 4], { seed: 3, device: pattern.device });
    expectError(() => topkDense(wrong, pattern, 1), 'E_SHAPE', /dense: expected shape \[4, 5\]/);
    expectError(() => topkDense(dense, pattern, 20 - pattern.nnz + 1), 'E_ARG', /at most rows \* cols - nnz/);
    expectError(() => topkDense(dense, pattern, -1), 'E_ARG');
    if (backends()[1].available) {
      using other = dense.to(pattern.device === 'cpu' ? 'cuda' : 'cpu');
      expectError(() => topkDense(other, pattern, 1), 'E_DEVICE');
    }
  });
});

describe('bottomkMagnitude', () => {
  const checkBottom = (m: CsrMatrix, k: number, full?: ReturnType<typeof refBottom>) => {
    const got = bottomkMagnitude(m, k);
    const want = full
      ? { rows: full.rows.slice(0, k), cols: full.cols.slice(0, k), indices: full.indices.slice(0, k), scores: full.scores.slice(0, k), nanCount: full.nanCount }
      : refBottom(m, k);
    expectSame(plain(got), want);
    expect(Array.from(got.indices).findIndex((v, n) => v !== want.indices[n])).toBe(-1);
    return got;
  };

  test('matches the reference on a random matrix (several chunks and threads)', () => {
    const m = CsrMatrix.random(300, 500, { density: 0.4, seed: 21 }); // 60000 stored entries
    const full = refBottom(m, m.nnz);
    checkBottom(m, 1, full);
    checkBottom(m, 777, full);
    checkBottom(m, 20000, full);
  });

  test('ties go to the lower flat index (= lower value index), +v and -v tie', () => {
    const m = patternOf(20, 30, (i, j) => (i * 3 + j) % 4 !== 0, (i, j) => (((i + j) % 3) - 1) * 0.5); // |v| in {0, 0.5}
    const got = checkBottom(m, 200);
    const idx = Array.from(got.indices);
    expect(idx.slice(0, 20)).toEqual([...idx.slice(0, 20)].sort((a, b) => a - b));
    expect(got.scores[0]).toBe(0);
  });

  test('k = 0, k = nnz, k > nnz (E_ARG), empty matrix', () => {
    const m = patternOf(5, 6, (i, j) => (i + j) % 2 === 0, (i, j) => i * 6 + j - 10);
    expect(bottomkMagnitude(m, 0).indices).toHaveLength(0);
    const all = checkBottom(m, m.nnz);
    expect(new Set(all.indices).size).toBe(m.nnz);
    expectError(() => bottomkMagnitude(m, m.nnz + 1), 'E_ARG', new RegExp(`nnz = ${m.nnz} stored entries, got ${m.nnz + 1}`));
    const empty = patternOf(0, 0, () => false);
    expect(bottomkMagnitude(empty, 0).rows).toHaveLength(0);
    expectError(() => bottomkMagnitude(empty, 1), 'E_ARG');
  });

  test('rows are right across empty rows; a single nonzero; 1 x 1', () => {
    const m = patternOf(7, 4, (i, j) => (i === 2 || i === 5) && j !== 1, (i, j) => (i === 5 ? -0.25 : 3) + j);
    const got = checkBottom(m, 6);
    expect(new Set(got.rows)).toEqual(new Set([2, 5]));
    const single = patternOf(3, 3, (i, j) => i === 1 && j === 2, () => -7);
    expect(plain(checkBottom(single, 1))).toEqual({ rows: [1], cols: [2], scores: [7], nanCount: 0 });
    checkBottom(patternOf(1, 1, () => true, () => 2), 1);
  });

  (backends()[1].available ? test : test.skip)('cuda matrices: the cpu selection, bit for bit (needs cuda)', () => {
    const m = patternOf(40, 50, (i, j) => (i * 7 + j) % 3 !== 0, (i, j) => (((i * 5 + j) % 7) - 3) * 0.5); // ties, +v and -v
    const onCuda = CsrMatrix.fromArrays({ rows: 40, cols: 50, rowPtr: m.rowPtr(), colIdx: m.colIdx(), values: m.values.toArray() }, { device: 'cuda' });
    for (const k of [0, 1, 300, m.nnz]) {
      const got = bottomkMagnitude(onCuda, k);
      const want = bottomkMagnitude(m, k);
      expect(plain(got)).toEqual(plain(want));
      expect(Array.from(got.indices)).toEqual(Array.from(want.indices));
    }
  });

  test('NaN values are never selected and are counted; infinities are selectable', () => {
    const vals = [1, NaN, -Infinity, 0.5, NaN, Infinity, -2];
    const m = CsrMatrix.fromArrays({ rows: 2, cols: 4, rowPtr: [0, 4, 7], colIdx: [0, 1, 2, 3, 0, 1, 3], values: vals });
    const got = checkBottom(m, 7);
    expect(got.nanCount).toBe(2);
    expect(Array.from(got.indices)).toEqual([3, 0, 6, 2, 5]);
    expect(got.scores[4]).toBe(Infinity);
  });

  test('results are identical across runs', () => {
    const m = CsrMatrix.random(400, 400, { density: 0.5, seed: 5, init: 'zeros' }); // all ties
    const a = bottomkMagnitude(m, 5000);
    expect(Array.from(a.indices)).toEqual(Array.from({ length: 5000 }, (_, n) => n));
    expect(Array.from(bottomkMagnitude(m, 5000).indices)).toEqual(Array.from(a.indices));
  });

  test('errors: not a matrix, k not an integer, disposed', () => {
    expectError(() => bottomkMagnitude(randn([2, 2]) as never, 1), 'E_ARG', /matrix: expected a CsrMatrix/);
    const m = patternOf(2, 2, () => true);
    expectError(() => bottomkMagnitude(m, 0.5), 'E_ARG', /k: expected/);
    m.dispose();
    expectError(() => bottomkMagnitude(m, 1), 'E_DISPOSED');
  });

  test('the binding checks k again', () => {
    const addon = nativeFunctions<{ bottomkMagnitude(m: unknown, k: number): unknown }>();
    const m = patternOf(2, 2, () => true);
    expectError(() => addon.bottomkMagnitude(m._native(), 5), 'E_ARG', /= 4 stored entries, got 5/);
  });
});
