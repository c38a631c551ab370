/**
 * Sparse24Matrix against a plain TypeScript reference of the selection rule
 * (exact: selection and copying involve no arithmetic, so results must be equal).
 */
import { Device, DynasparseError, Sparse24Matrix, memory, tensor, zeros } from '../lib';
import { devices } from './helpers/devices';
import { randomValues, take } from './helpers/sparse-reference';

/** Reference: the kept positions of each group of 4 (NaN ranks highest, then |w|, ties to the lower column). */
function keptPositions(w: Float32Array, rows: number, cols: number): boolean[] {
  const rank = (x: number) => (Number.isNaN(x) ? Infinity : Math.abs(x));
  const keep = new Array<boolean>(rows * cols).fill(false);
  for (let i = 0; i < rows; i++)
    for (let g = 0; g < cols / 4; g++) {
      const base = i * cols + 4 * g;
      const order = [0, 1, 2, 3].sort((p, q) => {
        const x = w[base + p], y = w[base + q];
        if (Number.isNaN(x) !== Number.isNaN(y)) return Number.isNaN(x) ? -1 : 1;
        return rank(y) - rank(x) || p - q;
      });
      keep[base + order[0]] = true;
      keep[base + order[1]] = true;
    }
  return keep;
}

function check(w: Float32Array, rows: number, cols: number, device: Device): void {
  using d = tensor(w, [rows, cols], { device });
  using m = Sparse24Matrix.fromDense(d);
  expect(m.values.shape).toEqual([rows, cols / 2]);
  expect(m.nnz).toBe((rows * cols) / 2);
  const keep = keptPositions(w, rows, cols);
  const dense = take(m.toDense()), mask = take(m.mask()), values = m.values.toArray();
  let v = 0;
  const wrong: number[] = [];
  for (let f = 0; f < rows * cols; f++) {
    if (mask[f] !== (keep[f] ? 1 : 0) || !Object.is(dense[f], keep[f] ? w[f] : 0)) wrong.push(f);
    if (keep[f] && !Object.is(values[v++], w[f])) wrong.push(f); // values in row-major order of kept positions
  }
  expect(wrong).toEqual([]);
}

// Every device: selection and copying involve no arithmetic, so CUDA must agree exactly.
describe.each(devices)('Sparse24Matrix on %s', (device) => {
  test.each([
    [8, 16],
    [33, 64],
    [1, 4],
    [5, 36],
  ])('fromDense on random %i x %i keeps the 2 largest |w| of every group', (rows, cols) => {
    check(randomValues(rows * cols, rows * cols), rows, cols, device);
  });

  test('ties keep the lower column; +0 and -0 tie', () => {
    check(Float32Array.from([1, 1, 1, 1, 0, -0, 0, -0, 2, -2, 2, -2, 0, 0, 0, 5]), 1, 16, device);
    using d = tensor([[3, -3, 3, 1]], undefined, { device });
    using m = Sparse24Matrix.fromDense(d);
    expect(Array.from(take(m.mask()))).toEqual([1, 1, 0, 0]);
    expect(Array.from(m.values.toArray())).toEqual([3, -3]);
  });

  test('NaN ranks above everything (kept, never silently pruned); infinities above finite values', () => {
    check(Float32Array.from([1, NaN, 5, 2, Infinity, 3, -Infinity, 4, NaN, NaN, NaN, 1, 0, NaN, -Infinity, 7]), 1, 16, device);
    using d = tensor([[1, NaN, 5, 2]], undefined, { device });
    using m = Sparse24Matrix.fromDense(d);
    expect(Array.from(take(m.mask()))).toEqual([0, 1, 1, 0]);
  });

  test('groups with fewer than 2 non-zeros store zeros (exactly 2 entries per group)', () => {
    check(Float32Array.from([0, 0, 0, 0, 0, 0, 4, 0]), 1, 8, device);
  });

  test('metadata layout: nibble p0 | p1 << 2 at bits 4 (g % 8) of word g / 8', () => {
    // 9 groups: needs 2 words per row. Group g keeps positions (g % 3, 3).
    const cols = 36;
    const w = new Float32Array(cols);
    for (let g = 0; g < 9; g++) {
      w[4 * g + (g % 3)] = 10 + g;
      w[4 * g + 3] = -(20 + g);
    }
    using d = tensor(w, [1, cols], { device });
    using m = Sparse24Matrix.fromDense(d);
    const meta = m.metadata();
    expect(meta.length).toBe(2);
    let word0 = 0;
    for (let g = 0; g < 8; g++) word0 |= ((g % 3) | (3 << 2)) << (4 * g);
    expect(meta[0]).toBe(word0 | 0);
    expect(meta[1]).toBe((8 % 3) | (3 << 2));
  });

  test('cols % 4 != 0 is E_SHAPE; other bad inputs are E_ARG / E_SHAPE', () => {
    using d = zeros([2, 6], { device });
    expect(() => Sparse24Matrix.fromDense(d)).toThrow(expect.objectContaining({ code: 'E_SHAPE', message: expect.stringContaining('[2, 6]') }));
    using v = zeros([8], { device });
    expect(() => Sparse24Matrix.fromDense(v)).toThrow(expect.objectContaining({ code: 'E_SHAPE' }));
    using ints = tensor(new Int32Array(8), [2, 4], { device });
    expect(() => Sparse24Matrix.fromDense(ints as never)).toThrow(expect.objectContaining({ code: 'E_ARG' }));
    expect(() => Sparse24Matrix.fromDense({} as never)).toThrow(DynasparseError);
  });

  test('empty shapes: 0 rows, 0 columns', () => {
    using a = zeros([0, 8], { device });
    using m = Sparse24Matrix.fromDense(a);
    using dense = m.toDense();
    expect(dense.shape).toEqual([0, 8]);
    using b = zeros([3, 0], { device });
    using n = Sparse24Matrix.fromDense(b);
    expect(n.values.shape).toEqual([3, 0]);
    using mask = n.mask();
    expect(mask.size).toBe(0);
  });

  test('dispose frees both buffers; use after dispose is E_DISPOSED; toString', () => {
    using d = tensor(randomValues(4 * 8, 1), [4, 8], { device });
    const before = memory(device).bytesInUse;
    const m = Sparse24Matrix.fromDense(d);
    expect(memory(device).bytesInUse - before).toBe(4 * 16 + 4 * 4);
    expect(m.toString()).toBe(`Sparse24Matrix([4, 8], ${device})`);
    m.dispose();
    m.dispose();
    expect(memory(device).bytesInUse).toBe(before);
    expect(m.disposed).toBe(true);
    expect(m.toString()).toBe(`Sparse24Matrix([4, 8], ${device}, disposed)`);
    expect(() => m.toDense()).toThrow(expect.objectContaining({ code: 'E_DISPOSED' }));
    expect(() => m.mask()).toThrow(expect.objectContaining({ code: 'E_DISPOSED' }));
  });
});
