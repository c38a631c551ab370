import { backends, full, matmul, memory, randn, Tensor, tensor, zeros } from '../lib';
import { devices, expectCode } from './helpers/devices';

/** op(x) of a row-major [rows, cols] matrix, materialized as float64. */
function op(x: Float32Array, rows: number, cols: number, trans: boolean): Float64Array {
  if (!trans) return Float64Array.from(x);
  const t = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) t[c * rows + r] = x[r * cols + c];
  return t;
}

/**
 * The plain triple loop in double precision, and the rigorous error bound of
 * any float32 summation order (Higham, Accuracy and Stability, 3.5):
 * |fl(c) - c| <= gamma_{k+4} (|alpha| sum_l |a_il b_lj| + |beta c0_ij|), u = 2^-24;
 * the +4 covers the alpha/beta products and adding partial sums into C.
 */
function reference(
  a: Float32Array, aShape: number[], b: Float32Array, bShape: number[],
  transA: boolean, transB: boolean, alpha: number, beta: number, c0?: Float32Array
): { value: Float64Array; bound: Float64Array; m: number; n: number } {
  const [m, k] = transA ? [aShape[1], aShape[0]] : aShape;
  const n = transB ? bShape[0] : bShape[1];
  const A = op(a, aShape[0], aShape[1], transA);
  const B = op(b, bShape[0], bShape[1], transB);
  const u = 2 ** -24;
  const gamma = ((k + 4) * u) / (1 - (k + 4) * u);
  const value = new Float64Array(m * n);
  const bound = new Float64Array(m * n);
  for (let i = 0; i < m; i++)
    for (let j = 0; j < n; j++) {
      let s = 0;
      let abs = 0;
      for (let l = 0; l < k; l++) {
        const p = A[i * k + l] * B[l * n + j];
        s += p;
        abs += Math.abs(p);
      }
      const old = c0 && beta !== 0 ? beta * c0[i * n + j] : 0;
      value[i * n + j] = alpha * s + old;
      bound[i * n + j] = gamma * (Math.abs(alpha) * abs + Math.abs(old)) + 1e-30;
    }
  return { value, bound, m, n };
}

function expectWithin(got: Float32Array, ref: { value: Float64Array; bound: Float64Array }): void {
  expect(got.length).toBe(ref.value.length);
  let bad = 0;
  for (let i = 0; i < got.length; i++) if (!(Math.abs(got[i] - ref.value[i]) <= ref.bound[i])) bad++;
  expect(bad).toBe(0);
}

describe.each(devices)('matmul on %s', (device) => {
  // The same specs on every device: on CUDA they run the hand-written tiled
  // SGEMM (FMA accumulation), within the same rigorous bound.
  const cases: Array<[number, number, number]> = [[1, 1, 1], [3, 5, 7], [13, 1, 9], [40, 33, 150], [7, 70, 2]];
  for (const [m, n, k] of cases)
    for (const transA of [false, true])
      for (const transB of [false, true])
        test(`[${m}, ${k}] x [${k}, ${n}], transA=${transA}, transB=${transB} matches the triple loop`, () => {
          const aShape = transA ? [k, m] : [m, k];
          const bShape = transB ? [n, k] : [k, n];
          using a = randn(aShape, { seed: m * 7 + k, device });
          using b = randn(bShape, { seed: n * 11 + k + 1, device });
          using c = matmul(a, b, { transA, transB });
          expect(c.shape).toEqual([m, n]);
          expectWithin(c.toArray(), reference(a.toArray(), aShape, b.toArray(), bShape, transA, transB, 1, 0));
          // alpha and beta into `out`, which is returned.
          using out = randn([m, n], { seed: 99, device });
          const c0 = out.toArray();
          const r = matmul(a, b, { transA, transB, alpha: -0.75, beta: 1.5, out });
          expect(r).toBe(out);
          expectWithin(out.toArray(), reference(a.toArray(), aShape, b.toArray(), bShape, transA, transB, -0.75, 1.5, c0));
        });

  test('1 x 1 products are exact', () => {
    using a = tensor([[3]], undefined, { device });
    using b = tensor([[-2.5]], undefined, { device });
    using c = matmul(a, b);
    expect(Array.from(c.toArray())).toEqual([-7.5]);
    using out = tensor([[4]], undefined, { device });
    matmul(a, b, { alpha: 2, beta: 0.5, out });
    expect(Array.from(out.toArray())).toEqual([-13]);
  });

  test('k = 0 gives zeros, or beta * out', () => {
    using a = zeros([3, 0], { device });
    using b = zeros([0, 4], { device });
    using c = matmul(a, b);
    expect(c.shape).toEqual([3, 4]);
    expect(Array.from(c.toArray())).toEqual(new Array(12).fill(0));
    using out = full([3, 4], 2, { device });
    matmul(a, b, { beta: -3, out });
    expect(Array.from(out.toArray())).toEqual(new Array(12).fill(-6));
    // Empty results are fine too.
    using e = matmul(zeros([0, 5], { device }), zeros([5, 2], { device }));
    expect(e.shape).toEqual([0, 2]);
  });

  test('NaN in a reaches exactly the row it feeds; beta = 0 ignores NaN in out', () => {
    const av = new Float32Array(4 * 6).map((_, i) => (i % 5) - 2);
    av[2 * 6 + 3] = NaN;
    using a = tensor(av, [4, 6], { device });
    using b = randn([6, 5], { seed: 3, device }); // no zeros: every product touches the NaN
    using c = matmul(a, b);
    const cv = c.toArray();
    for (let i = 0; i < 4; i++) for (let j = 0; j < 5; j++) expect(Number.isNaN(cv[i * 5 + j])).toBe(i === 2);
    using out = full([5, 5], NaN, { device });
    using bt = randn([5, 6], { seed: 4, device });
    matmul(bt, b, { out, beta: 0 });
    expect(out.toArray().every((x) => Number.isFinite(x))).toBe(true);
  });

  test('matmul(dy, x, { transB }) is a weight gradient of the right shape', () => {
    using dy = randn([10, 32], { seed: 1, device });
    using x = randn([20, 32], { seed: 2, device });
    using g = matmul(dy, x, { transB: true, alpha: 1 / 32 });
    expect(g.shape).toEqual([10, 20]);
    expectWithin(g.toArray(), reference(dy.toArray(), [10, 32], x.toArray(), [20, 32], false, true, 1 / 32, 0));
  });

  test('validates shapes, dtypes, options and handles', () => {
    using a = randn([2, 3], { device });
    using b = randn([4, 5], { device });
    // The message names both shapes.
    expectCode(() => matmul(a, b), 'E_SHAPE', /\[2, 3\].*\[4, 5\]/);
    expectCode(() => matmul(a, b, { transA: true }), 'E_SHAPE', /transposed/);
    using v = randn([3], { device });
    expectCode(() => matmul(a, v), 'E_SHAPE', /2-D/);
    using ok = randn([3, 4], { device });
    using wrongOut = zeros([4, 2], { device });
    expectCode(() => matmul(a, ok, { out: wrongOut }), 'E_SHAPE', /out: expected shape \[2, 4\]/);
    expectCode(() => matmul(a, ok, { beta: 1 }), 'E_ARG', /beta/);
    expectCode(() => matmul(a, ok, { alpha: NaN }), 'E_ARG', /alpha/);
    expectCode(() => matmul(a, ok, { transA: 1 as unknown as boolean }), 'E_ARG', /transA/);
    expectCode(() => matmul(a, ok, { tranB: true } as never), 'E_ARG', /unknown option 'tranB'/);
    expectCode(() => matmul(a, 5 as unknown as Tensor), 'E_ARG', /b: expected a Tensor/);
    using idx = tensor(new Int32Array(12), [3, 4], { device });
    expectCode(() => matmul(a, idx as unknown as Tensor), 'E_ARG', /float32/);
    // out may not alias an input (a view shares the buffer).
    using sq = randn([3, 3], { device });
    using view = sq.reshape([3, 3]);
    expectCode(() => matmul(sq, sq, { out: view }), 'E_ARG', /share memory/);
    const gone = randn([3, 4], { device });
    gone.dispose();
    expectCode(() => matmul(a, gone), 'E_DISPOSED');
  });

  test('allocates exactly the result', () => {
    using a = randn([50, 40], { device });
    using b = randn([40, 30], { device });
    const before = memory(device).bytesInUse;
    const c = matmul(a, b);
    expect(memory(device).bytesInUse - before).toBe(50 * 30 * 4);
    c.dispose();
    expect(memory(device).bytesInUse).toBe(before);
  });
});

// Mixing devices needs a second device: runs where CUDA is available.
(backends()[1].available ? test : test.skip)('matmul refuses tensors on different devices', () => {
  using a = randn([2, 2], { device: 'cpu' });
  using b = randn([2, 2], { device: 'cuda' });
  expectCode(() => matmul(a, b), 'E_DEVICE', /like a/);
  using out = zeros([2, 2], { device: 'cuda' });
  expectCode(() => matmul(a, a, { out }), 'E_DEVICE', /out/);
});

test('backends() names the GEMM the CPU backend uses', () => {
  expect(['openblas', 'builtin']).toContain(backends()[0].blas);
});

test('matmul: alpha or beta outside the float32 range is E_ARG (it would become an infinity)', () => {
  using a = tensor([[0, 1e-30]]);
  using b = tensor([[1], [1]]);
  using out = zeros([1, 1]);
  expectCode(() => matmul(a, b, { alpha: 1e39 }), 'E_ARG', /alpha: expected a number within the float32 range, got 1e\+39/);
  expectCode(() => matmul(a, b, { beta: 1e39, out }), 'E_ARG', /beta: expected a number within the float32 range/);
});
