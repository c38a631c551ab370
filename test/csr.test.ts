/**
 * CsrMatrix: construction and validation, conversion, random patterns, transpose and gatherValues.
 * Construction, conversion and random patterns run on every device in `devices` (CUDA where available).
 */
import { axpy, CsrMatrix, DynasparseError, gatherValues, memory, spmm, tensor, zeros } from '../lib';
import { devices } from './helpers/devices';
import { csrToDense, csrTranspose, randomCsr, randomValues, take } from './helpers/sparse-reference';

function error(f: () => unknown): DynasparseError {
  try {
    f();
  } catch (e) {
    if (e instanceof DynasparseError) return e;
    throw e;
  }
  throw new Error('expected a DynasparseError');
}

describe.each(devices)('CsrMatrix.fromArrays on %s', (device) => {
  test('round-trips a valid matrix', () => {
    const arrays = { rows: 3, cols: 4, rowPtr: [0, 2, 2, 3], colIdx: [1, 3, 0], values: [1.5, -2, 3] };
    using m = CsrMatrix.fromArrays(arrays, { device });
    expect([m.rows, m.cols, m.nnz, m.device]).toEqual([3, 4, 3, device]);
    expect(Array.from(m.rowPtr())).toEqual(arrays.rowPtr);
    expect(Array.from(m.colIdx())).toEqual(arrays.colIdx);
    expect(Array.from(m.values.toArray())).toEqual(arrays.values);
    expect(Array.from(take(m.toDense()))).toEqual([0, 1.5, 0, -2, 0, 0, 0, 0, 3, 0, 0, 0]);
  });

  // One case per E_FORMAT rule; each message names the offending row or entry.
  const bad: [string, number[], number[], string][] = [
    ['rowPtr of the wrong length', [0, 1], [0], 'rowPtr: expected length rows + 1 = 3'],
    ['rowPtr[0] != 0', [1, 1, 1], [0], 'rowPtr[0]: expected 0, got 1'],
    ['a decreasing rowPtr', [0, 1, 0], [0], 'row 1: rowPtr decreases'],
    ['rowPtr past nnz', [0, 2, 1], [0], 'row 0: rowPtr[1] = 2 exceeds nnz = 1'],
    ['rowPtr[rows] != nnz', [0, 1, 1], [0, 1], 'rowPtr[rows]: expected nnz = 2, got 1'],
    ['a column out of range', [0, 1, 2], [0, 4], 'row 1: column index 4 at position 1 is outside [0, 4)'],
    ['a negative column', [0, 1, 2], [-1, 0], 'row 0: column index -1'],
    ['unsorted columns', [0, 2, 2], [2, 1], 'row 0: column indices must be sorted and unique, got 2 then 1'],
    ['duplicate columns', [0, 0, 2], [3, 3], 'row 1: column indices must be sorted and unique, got 3 then 3'],
  ];
  test.each(bad)('%s is E_FORMAT', (_name, rowPtr, colIdx, message) => {
    const e = error(() => CsrMatrix.fromArrays({ rows: 2, cols: 4, rowPtr, colIdx, values: colIdx.map(() => 1) }, { device }));
    expect(e.code).toBe('E_FORMAT');
    expect(e.message).toContain(message);
  });

  test('other bad arguments are E_ARG / E_SHAPE', () => {
    expect(error(() => CsrMatrix.fromArrays({ rows: 1, cols: 2, rowPtr: [0, 1], colIdx: [0], values: [1, 2] }, { device })).code).toBe('E_SHAPE');
    expect(error(() => CsrMatrix.fromArrays({ rows: 1, cols: 2, rowPtr: [0, 1], colIdx: [0.5], values: [1] })).code).toBe('E_ARG');
    expect(error(() => CsrMatrix.fromArrays({ rows: -1, cols: 2, rowPtr: [0], colIdx: [], values: [] })).code).toBe('E_ARG');
    expect(error(() => CsrMatrix.fromArrays({ rows: 1, cols: 2, rowPtr: [0, 1], colIdx: [0], values: ['x' as unknown as number] })).code).toBe('E_ARG');
    expect(error(() => CsrMatrix.fromArrays(null as never)).code).toBe('E_ARG');
    expect(error(() => CsrMatrix.fromArrays({ rows: 1, cols: 1, rowPtr: [0, 0], colIdx: [], values: [] }, { devise: 'cpu' } as never)).code).toBe('E_ARG');
    expect(error(() => new (CsrMatrix as unknown as new (k: symbol) => CsrMatrix)(Symbol('x'))).code).toBe('E_ARG');
  });
});

describe.each(devices)('CsrMatrix.fromDense on %s', (device) => {
  const values = [
    [0, 1, -0.5, 0],
    [NaN, 0, 0, 2],
    [0, 0, 0, 0],
  ];

  test('keeps the non-zeros by default (NaN kept, zeros and -0 dropped), in row-major order', () => {
    using d = tensor([[0, 1, -0.5, -0], [NaN, 0, 0, 2], [0, 0, 0, 0]], undefined, { device });
    using m = CsrMatrix.fromDense(d);
    expect(Array.from(m.rowPtr())).toEqual([0, 2, 4, 4]);
    expect(Array.from(m.colIdx())).toEqual([1, 2, 0, 3]);
    expect(Array.from(m.values.toArray())).toEqual([1, -0.5, NaN, 2]);
  });

  test('threshold keeps |v| > threshold (NaN always kept)', () => {
    using d = tensor(values, undefined, { device });
    using m = CsrMatrix.fromDense(d, { threshold: 0.5 });
    expect(Array.from(m.colIdx())).toEqual([1, 0, 3]);
    expect(Array.from(m.rowPtr())).toEqual([0, 1, 3, 3]);
    expect(error(() => CsrMatrix.fromDense(d, { threshold: -1 })).code).toBe('E_ARG');
    expect(error(() => CsrMatrix.fromDense(d, { threshold: NaN })).code).toBe('E_ARG');
  });

  test('a mask keeps exactly its non-zero positions, stored zeros included', () => {
    using d = tensor(values, undefined, { device });
    using mask = tensor([[1, 0, 0, 1], [0, 1, 0, 0], [0, 0, 0, 3]], undefined, { device });
    using m = CsrMatrix.fromDense(d, { mask });
    expect(Array.from(m.rowPtr())).toEqual([0, 2, 3, 4]);
    expect(Array.from(m.colIdx())).toEqual([0, 3, 1, 3]);
    expect(Array.from(m.values.toArray())).toEqual([0, 0, 0, 0]);
    using wrong = zeros([3, 3], { device });
    expect(error(() => CsrMatrix.fromDense(d, { mask: wrong })).code).toBe('E_SHAPE');
    expect(error(() => CsrMatrix.fromDense(d, { mask, threshold: 1 })).code).toBe('E_ARG');
  });

  test('a non-2-D tensor is E_SHAPE; empty shapes work', () => {
    using v = zeros([4], { device });
    expect(error(() => CsrMatrix.fromDense(v)).code).toBe('E_SHAPE');
    using e = zeros([0, 5], { device });
    using m = CsrMatrix.fromDense(e);
    expect([m.rows, m.cols, m.nnz]).toEqual([0, 5, 0]);
  });

  test('toDense inverts fromDense on random data', () => {
    const a = randomCsr(17, 23, 0.3, 1);
    const dense = csrToDense(a);
    using d = tensor(dense, [17, 23], { device });
    using m = CsrMatrix.fromDense(d);
    expect(take(m.toDense())).toEqual(dense);
    expect(Array.from(m.colIdx())).toEqual(Array.from(a.colIdx));
  });
});

describe.each(devices)('CsrMatrix.random on %s', (device) => {
  test('nnzPerRow: exactly that many distinct sorted columns in every row', () => {
    using m = CsrMatrix.random(50, 40, { nnzPerRow: 7, seed: 3, device });
    const rowPtr = m.rowPtr(), colIdx = m.colIdx();
    expect(m.nnz).toBe(350);
    for (let i = 0; i < 50; i++) {
      expect(rowPtr[i + 1] - rowPtr[i]).toBe(7);
      for (let e = rowPtr[i] + 1; e < rowPtr[i + 1]; e++) expect(colIdx[e]).toBeGreaterThan(colIdx[e - 1]);
      expect(colIdx[rowPtr[i]]).toBeGreaterThanOrEqual(0);
      expect(colIdx[rowPtr[i + 1] - 1]).toBeLessThan(40);
    }
  });

  test('density: exactly round(density * rows * cols) entries in total, valid structure', () => {
    using m = CsrMatrix.random(30, 20, { density: 0.123, seed: 9, device });
    expect(m.nnz).toBe(Math.round(0.123 * 600));
    const rowPtr = m.rowPtr(), colIdx = m.colIdx();
    expect(rowPtr[30]).toBe(m.nnz);
    // Re-validating through fromArrays checks monotone rowPtr and sorted, unique, in-range columns.
    using again = CsrMatrix.fromArrays({ rows: 30, cols: 20, rowPtr, colIdx, values: m.values.toArray() }, { device });
    expect(again.nnz).toBe(m.nnz);
  });

  test('same seed, same matrix; another seed, another pattern', () => {
    using a = CsrMatrix.random(20, 30, { density: 0.2, seed: 5, device });
    using b = CsrMatrix.random(20, 30, { density: 0.2, seed: 5, device });
    using c = CsrMatrix.random(20, 30, { density: 0.2, seed: 6, device });
    expect(b.colIdx()).toEqual(a.colIdx());
    expect(b.values.toArray()).toEqual(a.values.toArray());
    expect(c.colIdx()).not.toEqual(a.colIdx());
  });

  test('edge cases: density 0 and 1, nnzPerRow 0 and cols', () => {
    using none = CsrMatrix.random(3, 4, { density: 0, device });
    expect(none.nnz).toBe(0);
    using all = CsrMatrix.random(3, 4, { density: 1, device });
    expect(Array.from(all.colIdx())).toEqual([0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3]);
    using full = CsrMatrix.random(2, 5, { nnzPerRow: 5, device });
    expect(full.nnz).toBe(10);
    using empty = CsrMatrix.random(2, 5, { nnzPerRow: 0, device });
    expect(empty.nnz).toBe(0);
  });

  // The sample variance of N normal draws has relative standard error sqrt(2 / (N - 1));
  // with N = 16384 that is 1.1%, so a 6% tolerance is more than 5 standard errors:
  // a correct generator fails it with probability below 1e-6, a wrong fan-in (a factor >= 2) always does.
  test('sparse-kaiming values have variance 2 / (row nnz); dense-kaiming 2 / cols; zeros are zeros', () => {
    const variance = (v: Float32Array) => {
      const mean = v.reduce((s, x) => s + x, 0) / v.length;
      return v.reduce((s, x) => s + (x - mean) ** 2, 0) / (v.length - 1);
    };
    using s = CsrMatrix.random(256, 1024, { nnzPerRow: 64, seed: 1, device });
    expect(Math.abs(variance(s.values.toArray()) / (2 / 64) - 1)).toBeLessThan(0.06);
    using d = CsrMatrix.random(256, 1024, { nnzPerRow: 64, seed: 1, init: 'dense-kaiming', device });
    expect(Math.abs(variance(d.values.toArray()) / (2 / 1024) - 1)).toBeLessThan(0.06);
    using z = CsrMatrix.random(4, 8, { nnzPerRow: 3, init: 'zeros', device });
    expect(Array.from(z.values.toArray())).toEqual(new Array(12).fill(0));
  });

  test('bad options are E_ARG', () => {
    expect(error(() => CsrMatrix.random(3, 4, {})).code).toBe('E_ARG');
    expect(error(() => CsrMatrix.random(3, 4, { density: 0.5, nnzPerRow: 1 })).code).toBe('E_ARG');
    expect(error(() => CsrMatrix.random(3, 4, { density: 1.5 })).code).toBe('E_ARG');
    expect(error(() => CsrMatrix.random(3, 4, { nnzPerRow: 5 })).code).toBe('E_ARG');
    expect(error(() => CsrMatrix.random(3, 4, { nnzPerRow: 1, init: 'xavier' as never })).code).toBe('E_ARG');
    expect(error(() => CsrMatrix.random(3, 4, { nnzPerRow: 1, seed: -1 })).code).toBe('E_ARG');
  });
});

describe('lifetime', () => {
  test('dispose frees the buffers once; use after dispose is E_DISPOSED; toString', () => {
    const before = memory('cpu').bytesInUse;
    const m = CsrMatrix.random(10, 10, { nnzPerRow: 3, device: 'cpu' });
    expect(memory('cpu').bytesInUse - before).toBe(4 * (11 + 30 + 30));
    expect(m.toString()).toBe('CsrMatrix([10, 10], nnz 30, cpu)');
    m.dispose();
    m.dispose();
    expect(memory('cpu').bytesInUse).toBe(before);
    expect(m.disposed).toBe(true);
    expect(m.toString()).toBe('CsrMatrix([10, 10], nnz 30, cpu, disposed)');
    for (const f of [() => m.toDense(), () => m.rowPtr(), () => m.colIdx(), () => m.transpose()]) expect(error(f).code).toBe('E_DISPOSED');
  });
});

describe.each(devices)('CsrMatrix#clone on %s', (device) => {
  test('copies structure and values into new buffers that live on their own', () => {
    const before = memory(device).bytesInUse;
    const m = CsrMatrix.fromArrays({ rows: 3, cols: 4, rowPtr: [0, 2, 2, 3], colIdx: [1, 3, 0], values: [1.5, -2, 3] }, { device });
    const c = m.clone();
    expect(c).not.toBe(m);
    expect([c.rows, c.cols, c.nnz, c.device]).toEqual([3, 4, 3, device]);
    expect(Array.from(c.rowPtr())).toEqual([0, 2, 2, 3]);
    expect(Array.from(c.colIdx())).toEqual([1, 3, 0]);
    expect(Array.from(c.values.toArray())).toEqual([1.5, -2, 3]);
    // Twice the bytes: the copy has buffers of its own.
    expect(memory(device).bytesInUse - before).toBe(2 * 4 * (4 + 3 + 3));
    // Writing the original's values (as an optimizer does, in place) leaves the copy alone.
    {
      using ten = tensor([10, 10, 10], [3], { device });
      axpy(1, ten, m.values);
    }
    expect(Array.from(m.values.toArray())).toEqual([11.5, 8, 13]);
    expect(Array.from(c.values.toArray())).toEqual([1.5, -2, 3]);
    m.dispose();
    expect(Array.from(take(c.toDense()))).toEqual([0, 1.5, 0, -2, 0, 0, 0, 0, 3, 0, 0, 0]);
    c.dispose();
    expect(memory(device).bytesInUse).toBe(before);
    expect(error(() => c.clone()).code).toBe('E_DISPOSED');
  });

  test('copies an empty matrix and one with empty rows', () => {
    using empty = CsrMatrix.fromArrays({ rows: 2, cols: 5, rowPtr: [0, 0, 0], colIdx: [], values: [] }, { device });
    using c = empty.clone();
    expect([c.rows, c.cols, c.nnz]).toEqual([2, 5, 0]);
    expect(Array.from(c.rowPtr())).toEqual([0, 0, 0]);
  });
});

describe('transpose and gatherValues', () => {
  test.each([
    [13, 29, 0.2],
    [40, 7, 0.5],
    [1, 1, 1],
    [0, 3, 0],
    [3, 0, 0],
    [5, 5, 0],
  ])('transpose of %i x %i (density %f) matches the reference, with its permutation', (rows, cols, density) => {
    const a = randomCsr(rows, cols, density, rows + cols);
    using m = CsrMatrix.fromArrays(a, { device: 'cpu' });
    const { matrix: t, perm } = m.transpose();
    using _t = t;
    using _p = perm;
    const ref = csrTranspose(a);
    expect([t.rows, t.cols, t.nnz]).toEqual([cols, rows, a.colIdx.length]);
    expect(t.rowPtr()).toEqual(ref.t.rowPtr);
    expect(t.colIdx()).toEqual(ref.t.colIdx);
    expect(t.values.toArray()).toEqual(ref.t.values);
    expect(perm.toArray()).toEqual(ref.perm);
    expect(perm.dtype).toBe('int32');
  });

  test('gatherValues refreshes the transposed values in O(nnz) after the original values change', () => {
    const a = randomCsr(20, 30, 0.3, 2);
    using m = CsrMatrix.fromArrays(a, { device: 'cpu' });
    const { matrix: t, perm } = m.transpose();
    using _t = t;
    using _p = perm;
    const changed = randomValues(a.colIdx.length, 3);
    using src = tensor(changed, [changed.length], { device: 'cpu' });
    const out = gatherValues(src, perm, { out: t.values });
    expect(out).toBe(t.values);
    const ref = csrTranspose({ ...a, values: changed }).t;
    expect(t.values.toArray()).toEqual(ref.values);
    using fresh = gatherValues(src, perm);
    expect(fresh.toArray()).toEqual(ref.values);
  });

  test('gatherValues checks every index and shape', () => {
    using src = tensor([1, 2, 3], [3], { device: 'cpu' });
    using bad = tensor(Int32Array.from([0, 3]), [2], { device: 'cpu' });
    const e = error(() => gatherValues(src, bad));
    expect(e.code).toBe('E_ARG');
    expect(e.message).toContain('perm[1]');
    using neg = tensor(Int32Array.from([-1]), [1], { device: 'cpu' });
    expect(error(() => gatherValues(src, neg)).code).toBe('E_ARG');
    using ok = tensor(Int32Array.from([2, 0]), [2], { device: 'cpu' });
    using wrong = zeros([3], { device: 'cpu' });
    expect(error(() => gatherValues(src, ok, { out: wrong })).code).toBe('E_SHAPE');
    expect(error(() => gatherValues(src, src as never)).code).toBe('E_ARG');
    using self = zeros([2], { device: 'cpu' });
    expect(error(() => gatherValues(self, ok, { out: self })).code).toBe('E_ARG');
  });
});

describe('fromArrays with absurd array-likes (found by the fuzz test)', () => {
  it('rejects an array-like whose length is not an array length with E_ARG, not a RangeError', () => {
    for (const length of [2 ** 32, -1, NaN, 1.5]) {
      let error: unknown;
      try {
        CsrMatrix.fromArrays({ rows: 1, cols: 1, rowPtr: { length } as ArrayLike<number>, colIdx: [], values: [] });
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(DynasparseError);
      expect((error as DynasparseError).code).toBe('E_ARG');
      expect((error as DynasparseError).message).toMatch(/rowPtr\.length/);
    }
  });
});

describe('a CsrMatrix cannot be made to lie about its parts', () => {
  test('rows, cols, nnz, values and the structure cannot be reassigned (native code trusts them)', () => {
    using m = CsrMatrix.fromArrays({ rows: 1, cols: 1000, rowPtr: [0, 1], colIdx: [999], values: [2] });
    using other = zeros([1]);
    const writable = m as unknown as Record<string, unknown>;
    for (const [key, value] of [['cols', 1], ['rows', 5], ['nnz', 0], ['values', other], ['_colIdx', other], ['_rowPtr', other]] as const)
      expect(() => {
        writable[key] = value;
      }).toThrow(TypeError);
    expect([m.rows, m.cols, m.nnz]).toEqual([1, 1000, 1]);
    using dense = m.toDense();
    expect(dense.toArray()[999]).toBe(2);
  });
});

test('a CsrMatrix disposed by a getter while spmm reads its parts: the product still reads live memory', () => {
  // Tampering a user can do: an own _native whose cols getter disposes the
  // matrix after the binding has fetched and checked its parts.
  // On the CPU (on CUDA the matrix's cached row order, a later argument, is found disposed: E_DISPOSED, also fine).
  using m = CsrMatrix.fromArrays({ rows: 2, cols: 3, rowPtr: [0, 2, 3], colIdx: [0, 2, 1], values: [1, 2, 3] }, { device: 'cpu' });
  using b = tensor([1, 0, 0, 1, 1, 1], [3, 2], { device: 'cpu' });
  const real = CsrMatrix.prototype._native;
  Object.defineProperty(m, '_native', {
    value(this: CsrMatrix, name?: string) {
      const n = real.call(this, name);
      return { rowPtr: n.rowPtr, colIdx: n.colIdx, values: n.values, rows: n.rows, get cols() { m.dispose(); return 3; } };
    },
  });
  using y = spmm(m, b);
  expect(Array.from(y.toArray())).toEqual([3, 2, 0, 3]);
  expect(m.disposed).toBe(true);
});
