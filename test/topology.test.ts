import { CsrMatrix, gatherByMap, randomGrowth, rebuildTopology, tensor } from '../lib';
import { expectCode } from './helpers/devices';

describe('rebuildTopology (cpu)', () => {
  test('keeps, regrows and activates entries with a source map', () => {
    // 3 x 5: row 0 {0, 2, 4}, row 1 {1}, row 2 {}
    using m = CsrMatrix.fromArrays({ rows: 3, cols: 5, rowPtr: [0, 3, 4, 4], colIdx: [0, 2, 4, 1], values: [1, 2, 3, 4] });
    const change = rebuildTopology(m, new Int32Array([1, 3]), new Int32Array([0, 2, 0]), new Int32Array([2, 3, 1]));
    using next = change.matrix;
    using map = change.map;
    expect(change.regrown).toBe(1);
    expect(next.nnz).toBe(5);
    expect(Array.from(next.rowPtr())).toEqual([0, 4, 4, 5]);
    expect(Array.from(next.colIdx())).toEqual([0, 1, 2, 4, 3]);
    expect(Array.from(map.toArray())).toEqual([0, -1, 1, 2, -1]);
    // a regrown entry keeps its old value; a new one starts at zero
    expect(Array.from(next.values.toArray())).toEqual([1, 0, 2, 3, 0]);
    // the old matrix is untouched
    expect(Array.from(m.values.toArray())).toEqual([1, 2, 3, 4]);
  });

  test('matches a dense reference on a random pattern', () => {
    using m = CsrMatrix.random(30, 40, { density: 0.2, seed: 5 });
    const dense = m.toDense().toArray();
    const rowPtr = m.rowPtr();
    const colIdx = m.colIdx();
    const drop = Int32Array.from({ length: m.nnz }, (_, k) => k).filter((k) => k % 3 === 1);
    const dropped = new Set(drop);
    const stored = new Map<number, number>();
    for (let r = 0; r < 30; r++) for (let k = rowPtr[r]; k < rowPtr[r + 1]; k++) stored.set(r * 40 + colIdx[k], k);
    const grow: number[] = [];
    for (let f = 30 * 40 - 1; f >= 0; f -= 7) {
      const k = stored.get(f);
      if (k === undefined || dropped.has(k)) grow.push(f);
    }
    const change = rebuildTopology(m, drop, Int32Array.from(grow, (f) => Math.floor(f / 40)), Int32Array.from(grow, (f) => f % 40));
    using next = change.matrix;
    change.map.dispose();
    const expected = new Float32Array(30 * 40);
    for (const [f, k] of stored) if (!dropped.has(k)) expected[f] = dense[f];
    for (const f of grow) expected[f] = stored.has(f) ? dense[f] : 0;
    expect(next.nnz).toBe(m.nnz - drop.length + grow.length);
    expect(Array.from(next.toDense().toArray())).toEqual(Array.from(expected));
  });

  test('rejects invalid drop and grow lists', () => {
    using m = CsrMatrix.fromArrays({ rows: 2, cols: 4, rowPtr: [0, 2, 3], colIdx: [1, 3, 0], values: [1, 2, 3] });
    const none = new Int32Array(0);
    expectCode(() => rebuildTopology(m, new Int32Array([3]), none, none), 'E_ARG', /drop\[0\]/);
    expectCode(() => rebuildTopology(m, new Int32Array([1, 1]), none, none), 'E_ARG', /more than once/);
    const unordered = rebuildTopology(m, new Int32Array([2, 0]), none, none);
    expect(Array.from(unordered.map.toArray())).toEqual([1]);
    unordered.matrix.dispose();
    unordered.map.dispose();
    expectCode(() => rebuildTopology(m, none, new Int32Array([0, 0]), new Int32Array([2, 2])), 'E_ARG', /more than once/);
    expectCode(() => rebuildTopology(m, none, new Int32Array([0]), new Int32Array([3])), 'E_ARG', /not dropped/);
    expectCode(() => rebuildTopology(m, none, new Int32Array([5]), new Int32Array([0])), 'E_ARG', /grow\[0\]/);
    expectCode(() => rebuildTopology(m, none, new Int32Array([0]), none), 'E_SHAPE');
    expectCode(() => rebuildTopology(m, [0] as unknown as Int32Array, none, none), 'E_ARG');
  });

  test('gatherByMap carries values and zeroes new entries; rejects bad maps', () => {
    using src = tensor([1.5, -2, 3]);
    using map = tensor(new Int32Array([2, -1, 0]));
    using out = gatherByMap(src, map);
    expect(Array.from(out.toArray())).toEqual([3, 0, 1.5]);
    using bad = tensor(new Int32Array([3]));
    expectCode(() => gatherByMap(src, bad), 'E_ARG', /map\[0\]/);
  });

  test('randomGrowth draws distinct free positions in flat order, reproducibly per (seed, nonce)', () => {
    using m = CsrMatrix.random(20, 30, { density: 0.5, seed: 2 });
    const dense = m.toDense().toArray();
    const a = randomGrowth(m, 100, 7, 3);
    const b = randomGrowth(m, 100, 7, 3);
    const c = randomGrowth(m, 100, 7, 4);
    expect(Array.from(a.rows)).toEqual(Array.from(b.rows));
    expect(Array.from(a.cols)).toEqual(Array.from(b.cols));
    expect(Array.from(a.cols)).not.toEqual(Array.from(c.cols));
    const flats = Array.from(a.rows, (r, i) => r * 30 + a.cols[i]);
    for (let i = 1; i < flats.length; i++) expect(flats[i]).toBeGreaterThan(flats[i - 1]);
    // never a stored position (stored random values are non-zero)
    for (const f of flats) expect(dense[f]).toBe(0);
    const all = randomGrowth(m, 600 - m.nnz, 1, 1);
    expect(all.rows.length).toBe(600 - m.nnz);
    expectCode(() => randomGrowth(m, 601 - m.nnz, 1, 1), 'E_ARG', /free positions/);
  });
});
