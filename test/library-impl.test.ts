/**
 * The `impl` option: spmm and sddmm through cuSPARSE, a 2:4 spmm through
 * cuSPARSELt, matmul through cuBLAS, the NVIDIA baselines our kernels are
 * measured against.
 *
 * Where the library is usable (a GPU machine with it installed: `backends()`
 * lists it) each is compared with our kernel within the float32 summation
 * bound of its product, gamma_k * sum |a b| (the orders differ, so bits may).
 * Where it is not (no GPU, the emulated CUDA device, a machine without the
 * library) the call must fail with E_DEVICE naming the library and change
 * nothing. On the CPU it is always E_DEVICE; unknown names are E_ARG.
 */
import { backends, CsrMatrix, matmul, randn, sddmm, Sparse24Matrix, spmm, tensor, zeros } from '../lib';
import { devices, expectCode } from './helpers/devices';
import { gamma, take } from './helpers/sparse-reference';

const cuda = devices.includes('cuda');
const libraries = backends()[1].libraries ?? { cusparse: false, cusparselt: false, cublas: false };

/** max over i of |x[i] - y[i]| / (gamma_k * magnitude[i]); at most 1 passes. */
function worstRatio(x: Float32Array, y: Float32Array, magnitude: Float64Array, k: number): number {
  let worst = 0;
  for (let i = 0; i < x.length; i++) worst = Math.max(worst, Math.abs(x[i] - y[i]) / (gamma(Math.max(k, 1)) * magnitude[i] + 1e-30));
  return worst;
}

describe('impl on the CPU', () => {
  test("'cusparse' and 'cublas' are E_DEVICE, unknown names E_ARG, 'dynasparse' is the default", () => {
    using a = CsrMatrix.random(6, 5, { density: 0.5, seed: 1, device: 'cpu' });
    using b = randn([5, 3], { seed: 2, device: 'cpu' });
    using bp = randn([5, 5], { seed: 3, device: 'cpu' });
    using x = randn([6, 5], { seed: 4, device: 'cpu' });
    expectCode(() => spmm(a, b, { impl: 'cusparse' }), 'E_DEVICE', /'cusparse' runs on cuda/);
    expectCode(() => sddmm(x, bp, a, { transB: true, impl: 'cusparse' }), 'E_DEVICE', /'cusparse' runs on cuda/);
    expectCode(() => matmul(x, b, { impl: 'cublas' }), 'E_DEVICE', /'cublas' runs on cuda/);
    expectCode(() => spmm(a, b, { impl: 'cublas' as 'cusparse' }), 'E_ARG', /impl: expected 'dynasparse', 'cusparse' or 'cusparselt'/);
    expectCode(() => sddmm(x, bp, a, { impl: 7 as never }), 'E_ARG', /impl/);
    expectCode(() => matmul(x, b, { impl: 'cusparse' as 'cublas' }), 'E_ARG', /impl: expected 'dynasparse' or 'cublas'/);
    using d = zeros([4, 8], { device: 'cpu' });
    using s24 = Sparse24Matrix.fromDense(d);
    using b8 = zeros([8, 2], { device: 'cpu' });
    expectCode(() => spmm(s24, b8, { impl: 'cusparse' }), 'E_ARG', /CsrMatrix/);
    expectCode(() => spmm(a, b, { impl: 'cusparselt', precision: 'bf16' }), 'E_ARG', /precision: 'bf16' needs a Sparse24Matrix/);
    expectCode(() => spmm(a, b, { impl: 'cusparselt' }), 'E_ARG', /'cusparselt' multiplies a Sparse24Matrix/);
    expectCode(() => spmm(s24, b8, { impl: 'cusparselt' }), 'E_ARG', /computes in bf16: pass precision: 'bf16'/);
    expectCode(() => spmm(s24, b8, { impl: 'cusparselt', precision: 'bf16' }), 'E_DEVICE', /'cusparselt' runs on cuda/);
    expect(Array.from(take(spmm(a, b, { impl: 'dynasparse' })))).toEqual(Array.from(take(spmm(a, b))));
  });
});

(cuda ? describe : describe.skip)('impl on cuda', () => {
  const rows = 40, cols = 30, n = 9;
  const setup = () => {
    const a = CsrMatrix.random(rows, cols, { density: 0.3, seed: 5, device: 'cuda' });
    const b = randn([cols, n], { seed: 6, device: 'cuda' });
    const dy = randn([rows, n], { seed: 7, device: 'cuda' });
    return { a, b, dy, [Symbol.dispose]: () => (a.dispose(), b.dispose(), dy.dispose()) };
  };
  /** sum_k |a[i, k] b[k, j]| for every output of op(a) b, from dense host copies. */
  const magnitudes = (ad: Float32Array, bd: Float32Array, m: number, k: number, width: number, transA: boolean): Float64Array => {
    const out = new Float64Array(m * width);
    for (let i = 0; i < m; i++)
      for (let t = 0; t < k; t++) {
        const av = Math.abs(transA ? ad[t * m + i] : ad[i * k + t]);
        if (av !== 0) for (let j = 0; j < width; j++) out[i * width + j] += av * Math.abs(bd[t * width + j]);
      }
    return out;
  };

  (libraries.cusparse ? test : test.skip)('spmm through cuSPARSE agrees with ours within the summation bound, plain, transposed and with beta', () => {
    using s = setup();
    const ad = take(s.a.toDense());
    const mine = take(spmm(s.a, s.b, { alpha: 0.5 })), theirs = take(spmm(s.a, s.b, { alpha: 0.5, impl: 'cusparse' }));
    expect(worstRatio(theirs, mine, magnitudes(ad, take(s.b), rows, cols, n, false), cols)).toBeLessThanOrEqual(1);
    const mineT = take(spmm(s.a, s.dy, { transA: true })), theirsT = take(spmm(s.a, s.dy, { transA: true, impl: 'cusparse' }));
    expect(worstRatio(theirsT, mineT, magnitudes(ad, take(s.dy), cols, rows, n, true), rows)).toBeLessThanOrEqual(1);
    using out = tensor(new Float32Array(rows * n).fill(1), [rows, n], { device: 'cuda' });
    spmm(s.a, s.b, { beta: 2, out, impl: 'cusparse' });
    const want = Float32Array.from(mine, (v) => 2 * v + 2);
    expect(worstRatio(take(out), want, Float64Array.from(magnitudes(ad, take(s.b), rows, cols, n, false), (m) => 2 * m + 2), cols + 1)).toBeLessThanOrEqual(1);
  });

  (libraries.cusparse ? test : test.skip)('sddmm through cuSPARSE agrees with ours within the summation bound, plain and transB', () => {
    using s = setup();
    using x = randn([cols, n], { seed: 8, device: 'cuda' });
    using xt = x.transpose();
    for (const [b, transB] of [[x, true], [xt, false]] as const) {
      const mine = take(sddmm(s.dy, b, s.a, { transB })), theirs = take(sddmm(s.dy, b, s.a, { transB, impl: 'cusparse' }));
      const dyd = take(s.dy), xd = take(x), rp = s.a.rowPtr(), ci = s.a.colIdx();
      const mag = new Float64Array(s.a.nnz);
      for (let i = 0; i < rows; i++) for (let e = rp[i]; e < rp[i + 1]; e++) for (let t = 0; t < n; t++) mag[e] += Math.abs(dyd[i * n + t] * xd[ci[e] * n + t]);
      expect(worstRatio(theirs, mine, mag, n)).toBeLessThanOrEqual(1);
    }
  });

  (libraries.cublas ? test : test.skip)('matmul through cuBLAS agrees with ours within the summation bound', () => {
    using s = setup();
    using w = randn([rows, cols], { seed: 9, device: 'cuda' });
    const mine = take(matmul(w, s.b)), theirs = take(matmul(w, s.b, { impl: 'cublas' }));
    expect(worstRatio(theirs, mine, magnitudes(take(w), take(s.b), rows, cols, n, false), cols)).toBeLessThanOrEqual(1);
    const mineT = take(matmul(w, s.dy, { transA: true })), theirsT = take(matmul(w, s.dy, { transA: true, impl: 'cublas' }));
    expect(worstRatio(theirsT, mineT, magnitudes(take(w), take(s.dy), cols, rows, n, true), rows)).toBeLessThanOrEqual(1);
  });

  describe('2:4 through cuSPARSELt', () => {
    const m = 37, k = 68, width = 33; // every dimension padded to cuSPARSELt's multiples of 32
    const usable = libraries.cusparselt && Number(backends()[1].computeCapability ?? 0) >= 8;
    const setup24 = () => {
      using w = randn([m, k], { seed: 10, device: 'cuda' });
      const a = Sparse24Matrix.fromDense(w);
      const b = randn([k, width], { seed: 11, device: 'cuda' });
      return { a, b, [Symbol.dispose]: () => (a.dispose(), b.dispose()) };
    };

    (usable ? test : test.skip)('agrees with the fp32 product within the bf16 bound, with alpha and beta', () => {
      using s = setup24();
      const mag = magnitudes(take(s.a.toDense()), take(s.b), m, k, width, false);
      const exact = take(spmm(s.a, s.b));
      using out = tensor(new Float32Array(m * width).fill(1), [m, width], { device: 'cuda' });
      try {
        spmm(s.a, s.b, { alpha: 0.5, beta: 2, out, precision: 'bf16', impl: 'cusparselt' });
      } catch (e) {
        // A release without kernels for this GPU (before 0.6 for compute
        // capability 9.0) refuses with E_DEVICE: nothing to compare then.
        if ((e as { code?: string }).code === 'E_DEVICE' && /does not support this GPU/.test(String(e))) return;
        throw e;
      }
      const got = take(out);
      // bf16 inputs (2^-7 of sum |a b|, as our tensor-core product), the bf16
      // output (2^-8, rounding included) and the fp32 sums on both sides.
      for (let i = 0; i < got.length; i++) {
        const want = 0.5 * exact[i] + 2, bound = 0.5 * mag[i] * (2 ** -7 + 2 ** -8 + 2 * gamma(k)) + Math.abs(want) * 2 ** -23;
        expect(Math.abs(got[i] - want)).toBeLessThanOrEqual(bound);
      }
    });

    (usable ? test.skip : test)('where it cannot run, E_DEVICE naming it, and out keeps its values', () => {
      using s = setup24();
      using out = tensor(new Float32Array(m * width).fill(3), [m, width], { device: 'cuda' });
      expectCode(() => spmm(s.a, s.b, { out, precision: 'bf16', impl: 'cusparselt' }), 'E_DEVICE', /cuSPARSELt|compute capability/);
      expect(Array.from(take(out)).every((v) => v === 3)).toBe(true);
      expectCode(() => spmm(s.a, s.b, { transA: true, precision: 'bf16', impl: 'cusparselt' }), 'E_ARG', /transA/);
    });
  });

  (!libraries.cusparse || !libraries.cublas ? test : test.skip)('a missing library is E_DEVICE naming it, and nothing changes', () => {
    using s = setup();
    using out = tensor(new Float32Array(rows * n).fill(3), [rows, n], { device: 'cuda' });
    if (!libraries.cusparse) {
      expectCode(() => spmm(s.a, s.b, { impl: 'cusparse', out }), 'E_DEVICE', /cuSPARSE/);
      expectCode(() => spmm(s.a, s.dy, { impl: 'cusparse', transA: true }), 'E_DEVICE', /cuSPARSE/);
      using x = randn([cols, n], { seed: 8, device: 'cuda' });
      expectCode(() => sddmm(s.dy, x, s.a, { transB: true, impl: 'cusparse' }), 'E_DEVICE', /cuSPARSE/);
    }
    if (!libraries.cublas) expectCode(() => matmul(s.dy, s.dy, { transB: true, impl: 'cublas' }), 'E_DEVICE', /cuBLAS/);
    // Empty sums (no entries, k = 0) are answered without the library, but not where it is missing.
    if (!libraries.cusparse) {
      using empty = CsrMatrix.fromDense(zeros([rows, cols], { device: 'cuda' }));
      expectCode(() => spmm(empty, s.b, { impl: 'cusparse' }), 'E_DEVICE', /cuSPARSE/);
      using a0 = zeros([rows, 0], { device: 'cuda' });
      using b0 = zeros([cols, 0], { device: 'cuda' });
      expectCode(() => sddmm(a0, b0, s.a, { transB: true, impl: 'cusparse' }), 'E_DEVICE', /cuSPARSE/);
    }
    if (!libraries.cublas) {
      using a0 = zeros([rows, 0], { device: 'cuda' });
      using b0 = zeros([0, n], { device: 'cuda' });
      expectCode(() => matmul(a0, b0, { impl: 'cublas' }), 'E_DEVICE', /cuBLAS/);
    }
    // The library is asked only after everything else was checked; ours still works.
    expectCode(() => spmm(s.a, s.dy, { impl: 'cusparse' }), 'E_SHAPE');
    expect(Array.from(take(out)).every((v) => v === 3 || !libraries.cusparse)).toBe(true);
    expect(take(spmm(s.a, s.b)).length).toBe(rows * n);
  });
});
