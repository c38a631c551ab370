import { gradmaxOutgoing, memory, randn, resetPeakMemory, synchronize, Tensor, tensor } from '../lib';
import { devices, expectCode } from './helpers/devices';

/**
 * Reference: the full eigendecomposition of A = M Mᵀ (float64) by the
 * classical cyclic Jacobi method, written here independently of the library.
 * Returns eigenvalues descending and eigenvectors as columns of an n x n matrix.
 */
function jacobiReference(a: Float64Array, n: number): { values: number[]; vectors: Float64Array } {
  const A = Float64Array.from(a);
  const V = new Float64Array(n * n);
  for (let i = 0; i < n; i++) V[i * n + i] = 1;
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    let all = 0;
    for (let i = 0; i < n; i++)
      for (let j = 0; j < n; j++) {
        all += A[i * n + j] ** 2;
        if (i !== j) off += A[i * n + j] ** 2;
      }
    if (off <= 1e-30 * all) break;
    for (let p = 0; p < n; p++)
      for (let q = p + 1; q < n; q++) {
        if (A[p * n + q] === 0) continue;
        // Angle that zeroes A[p][q]: tan(2θ) = 2 A_pq / (A_qq − A_pp).
        const theta = 0.5 * Math.atan2(2 * A[p * n + q], A[q * n + q] - A[p * n + p]);
        const c = Math.cos(theta);
        const s = Math.sin(theta);
        for (let r = 0; r < n; r++) {
          const x = A[r * n + p];
          const y = A[r * n + q];
          A[r * n + p] = c * x - s * y;
          A[r * n + q] = s * x + c * y;
        }
        for (let r = 0; r < n; r++) {
          const x = A[p * n + r];
          const y = A[q * n + r];
          A[p * n + r] = c * x - s * y;
          A[q * n + r] = s * x + c * y;
        }
        for (let r = 0; r < n; r++) {
          const x = V[r * n + p];
          const y = V[r * n + q];
          V[r * n + p] = c * x - s * y;
          V[r * n + q] = s * x + c * y;
        }
      }
  }
  const order = Array.from({ length: n }, (_, i) => i).sort((x, y) => A[y * n + y] - A[x * n + x]);
  const vectors = new Float64Array(n * n);
  order.forEach((src, j) => {
    for (let r = 0; r < n; r++) vectors[r * n + j] = V[r * n + src];
  });
  return { values: order.map((i) => A[i * n + i]), vectors };
}

/** M = (1/B) g aᵀ and A = M Mᵀ in float64 from the float32 inputs. */
function gram(g: Float32Array, a: Float32Array, nOut: number, nIn: number, batch: number): Float64Array {
  const m = new Float64Array(nOut * nIn);
  for (let i = 0; i < nOut; i++)
    for (let j = 0; j < nIn; j++) {
      let s = 0;
      for (let b = 0; b < batch; b++) s += g[i * batch + b] * a[j * batch + b];
      m[i * nIn + j] = s / batch;
    }
  const A = new Float64Array(nOut * nOut);
  for (let i = 0; i < nOut; i++)
    for (let j = 0; j < nOut; j++) {
      let s = 0;
      for (let l = 0; l < nIn; l++) s += m[i * nIn + l] * m[j * nIn + l];
      A[i * nOut + j] = s;
    }
  return A;
}

/** ||(I − U_c U_cᵀ) V||_F for unit columns V (n x k, from a float tensor) and the first c columns of U (n x n). */
function outside(v: Float32Array, n: number, k: number, u: Float64Array, c: number): number {
  let total = 0;
  for (let j = 0; j < k; j++) {
    const col = Array.from({ length: n }, (_, r) => v[r * k + j]);
    const norm = Math.hypot(...col);
    for (let r = 0; r < n; r++) col[r] /= norm;
    for (let l = 0; l < c; l++) {
      let d = 0;
      for (let r = 0; r < n; r++) d += u[r * n + l] * col[r];
      for (let r = 0; r < n; r++) col[r] -= d * u[r * n + l];
    }
    total += col.reduce((s, x) => s + x * x, 0);
  }
  return Math.sqrt(total);
}

/**
 * Davis–Kahan: ||P − P_ref||_F = √2 ||sin Θ||_F <= √2 ||R||_F / gap, with
 * ||R||_F <= √k · tol · λmax from the per-vector residual test. The inputs,
 * M and the products are float32, which moves A by a few 1e-7 λmax (1e-5
 * covers it widely); the Ritz gap can be smaller than the exact one by the
 * same amounts, hence the factor 2.
 */
function subspaceBound(k: number, tol: number, lambdaMax: number, gap: number): number {
  return 2 * Math.SQRT2 * (Math.sqrt(k) * tol + 1e-5) * (lambdaMax / gap);
}

/** n x cols with orthonormal columns (Gaussian, Gram–Schmidt twice), as a row-major float64 array. */
function orthonormal(n: number, cols: number, seed: number): Float64Array {
  using r = randn([n, cols], { seed, device: 'cpu' });
  const q = Float64Array.from(r.toArray());
  for (let j = 0; j < cols; j++) {
    for (let pass = 0; pass < 2; pass++)
      for (let i = 0; i < j; i++) {
        let d = 0;
        for (let x = 0; x < n; x++) d += q[x * cols + i] * q[x * cols + j];
        for (let x = 0; x < n; x++) q[x * cols + j] -= d * q[x * cols + i];
      }
    let s = 0;
    for (let x = 0; x < n; x++) s += q[x * cols + j] ** 2;
    for (let x = 0; x < n; x++) q[x * cols + j] /= Math.sqrt(s);
  }
  return q;
}

/** Largest-magnitude entry of every column is positive (first index on ties). */
function expectSigns(v: Float32Array, n: number, k: number): void {
  for (let j = 0; j < k; j++) {
    let arg = 0;
    for (let r = 1; r < n; r++) if (Math.abs(v[r * k + j]) > Math.abs(v[arg * k + j])) arg = r;
    expect(v[arg * k + j]).toBeGreaterThan(0);
  }
}

function columnNorms(v: Float32Array, n: number, k: number): number[] {
  return Array.from({ length: k }, (_, j) => Math.sqrt(Array.from({ length: n }, (_, r) => v[r * k + j] ** 2).reduce((s, x) => s + x, 0)));
}

describe.each(devices)('gradmaxOutgoing on %s', (device) => {
  // The CUDA solver is the CPU's method with other rounding (its GEMMs and
  // reductions); both stop on the same residual test, so they agree within
  // what tol allows: singular values² within 2 (tol + 1e-5) λmax (each is within
  // its residual plus float effects of the exact one), and each separated
  // vector within 4√2 (tol + 1e-5) λmax / gap (Davis–Kahan for each, the gap
  // halved at worst by the Ritz value's own error).
  // Batch 24 forms M (24 (2·40 + 24) >= 2·40·30); batch 6 applies it through its factors.
  (device === 'cuda' ? test.each : test.skip.each)([24, 6])('agrees with the CPU backend within the tolerance (batch %i)', (batch) => {
    const [nOut, nIn, k, tol] = [40, 30, 3, 1e-5];
    using g = randn([nOut, batch], { seed: 1, device });
    using a = randn([nIn, batch], { seed: 2, device });
    using gc = g.to('cpu');
    using ac = a.to('cpu');
    const r = gradmaxOutgoing(g, a, k, { tol, seed: 5 });
    const c = gradmaxOutgoing(gc, ac, k + 1, { tol, seed: 5 });
    using v = r.vectors;
    using vc = c.vectors;
    expect(v.device).toBe('cuda');
    expect(r.converged).toBe(true);
    const lambda = Array.from(c.singularValues, (s) => s * s);
    for (let j = 0; j < k; j++) {
      expect(Math.abs(r.singularValues[j] ** 2 - lambda[j])).toBeLessThanOrEqual(2 * (tol + 1e-5) * lambda[0]);
      expect(r.residuals[j]).toBeLessThanOrEqual(tol);
    }
    const x = v.toArray() as Float32Array;
    const y = vc.toArray() as Float32Array;
    for (let j = 0; j < k; j++) {
      // k + 1 CPU values give the gap below the last wanted one.
      const gap = Math.min(j > 0 ? lambda[j - 1] - lambda[j] : Infinity, lambda[j] - lambda[j + 1]);
      let d = 0;
      for (let row = 0; row < nOut; row++) d += (x[row * k + j] - y[row * (k + 1) + j]) ** 2;
      expect(Math.sqrt(d)).toBeLessThanOrEqual((4 * Math.SQRT2 * (tol + 1e-5) * lambda[0]) / gap);
    }
    expectSigns(x, nOut, k);
  });

  // [14, 11, 16] forms M; [24, 20, 6] applies it through its factors (6 (2·24 + 6) < 2·24·20).
  test.each([
    [14, 11, 16],
    [24, 20, 6],
  ])('random inputs (%i x %i, batch %i): singular values and subspace match a full Jacobi eigendecomposition of M Mᵀ', (nOut, nIn, batch) => {
    const [k, tol] = [3, 1e-5];
    using g = randn([nOut, batch], { seed: 1, device });
    using a = randn([nIn, batch], { seed: 2, device });
    const r = gradmaxOutgoing(g, a, k, { tol, seed: 5 });
    using v = r.vectors;
    expect(v.shape).toEqual([nOut, k]);
    expect(r.converged).toBe(true);
    expect(r.iterations).toBeGreaterThanOrEqual(1);
    const ref = jacobiReference(gram(g.toArray(), a.toArray(), nOut, nIn, batch), nOut);
    const lmax = ref.values[0];
    for (let j = 0; j < k; j++) {
      // |σ² − λ| <= residual (Weyl) + float effects, both relative to λmax.
      expect(Math.abs(r.singularValues[j] ** 2 - ref.values[j])).toBeLessThanOrEqual(2 * (tol + 1e-5) * lmax);
      expect(r.residuals[j]).toBeLessThanOrEqual(tol);
    }
    for (let j = 0; j + 1 < k; j++) expect(r.singularValues[j]).toBeGreaterThanOrEqual(r.singularValues[j + 1]);
    const gap = ref.values[k - 1] - ref.values[k];
    expect(gap).toBeGreaterThan(0.01 * lmax); // this seed has a real gap, so the subspace is well defined
    expect(Math.SQRT2 * outside(v.toArray(), nOut, k, ref.vectors, k)).toBeLessThanOrEqual(subspaceBound(k, tol, lmax, gap));
    expectSigns(v.toArray(), nOut, k);
    for (const norm of columnNorms(v.toArray(), nOut, k)) expect(Math.abs(norm - 1)).toBeLessThanOrEqual(1e-6);
  });

  /**
   * gradNext = B · U diag(σ) Wᵀ and actPrev = I_B (with `zeroRows` zero rows
   * below it), so M = U diag(σ) Wᵀ (padded with zero columns) exactly, up to
   * float32 rounding. With zero rows nIn > B, and M is applied through its factors.
   */
  function known(nOut: number, batch: number, sigma: number[], seed: number, zeroRows = 0): { g: Tensor; a: Tensor; u: Float64Array } {
    const r = sigma.length;
    const U = orthonormal(nOut, nOut, seed);
    const W = orthonormal(batch, r, seed + 1);
    const gv = new Float32Array(nOut * batch);
    for (let i = 0; i < nOut; i++)
      for (let b = 0; b < batch; b++) {
        let s = 0;
        for (let l = 0; l < r; l++) s += U[i * nOut + l] * sigma[l] * W[b * r + l];
        gv[i * batch + b] = batch * s;
      }
    const eye = new Float32Array((batch + zeroRows) * batch);
    for (let i = 0; i < batch; i++) eye[i * batch + i] = 1;
    return { g: tensor(gv, [nOut, batch], { device }), a: tensor(eye, [batch + zeroRows, batch], { device }), u: U };
  }

  // zeroRows 0: M formed; 24: M applied through its factors (12 (2·20 + 12) < 2·20·36).
  test.each([0, 24])('an exactly repeated singular value: the cluster subspace, and vectors inside it for k within the cluster (zero rows %i)', (zeroRows) => {
    const sigma = [3, 3, 3, 1, 0.5, 0.25];
    const { g, a, u } = known(20, 12, sigma, 11, zeroRows);
    using _g = g;
    using _a = a;
    const tol = 1e-5;
    const r3 = gradmaxOutgoing(g, a, 3, { tol });
    using v3 = r3.vectors;
    for (const s of r3.singularValues) expect(Math.abs(s * s - 9)).toBeLessThanOrEqual(2e-5 * 9);
    expect(Math.SQRT2 * outside(v3.toArray(), 20, 3, u, 3)).toBeLessThanOrEqual(subspaceBound(3, tol, 9, 8));
    // The Jacobi reference agrees on the subspace (not on single vectors, which are arbitrary in the cluster).
    const ref = jacobiReference(gram(g.toArray(), a.toArray(), 20, 12 + zeroRows, 12), 20);
    expect(Math.SQRT2 * outside(v3.toArray(), 20, 3, ref.vectors, 3)).toBeLessThanOrEqual(subspaceBound(3, tol, 9, 8));
    const r2 = gradmaxOutgoing(g, a, 2, { tol });
    using v2 = r2.vectors;
    expect(outside(v2.toArray(), 20, 2, u, 3)).toBeLessThanOrEqual(subspaceBound(2, tol, 9, 8));
    expectSigns(v2.toArray(), 20, 2);
  });

  test.each([0, 20])('nearly repeated singular values: the subspace is right (zero rows %i)', (zeroRows) => {
    const sigma = [2, 2 * (1 - 1e-4), 2 * (1 - 2e-4), 1, 0.9, 0.5];
    const { g, a, u } = known(18, 10, sigma, 21, zeroRows);
    using _g = g;
    using _a = a;
    const tol = 1e-5;
    const r = gradmaxOutgoing(g, a, 3, { tol, scale: 0.1 });
    using v = r.vectors;
    const gap = sigma[2] ** 2 - sigma[3] ** 2;
    expect(Math.SQRT2 * outside(v.toArray(), 18, 3, u, 3)).toBeLessThanOrEqual(subspaceBound(3, tol, 4, gap));
    for (let j = 0; j < 3; j++) expect(Math.abs(r.singularValues[j] ** 2 - sigma[j] ** 2)).toBeLessThanOrEqual(2e-5 * 4);
    for (const norm of columnNorms(v.toArray(), 18, 3)) expect(Math.abs(norm - 0.1)).toBeLessThanOrEqual(1e-7);
  });

  test('k larger than the batch: the extra columns are orthonormal with singular value 0', () => {
    using g = randn([9, 2], { seed: 3, device });
    using a = randn([8, 2], { seed: 4, device });
    const r = gradmaxOutgoing(g, a, 4);
    using v = r.vectors;
    expect(r.singularValues[2]).toBeLessThanOrEqual(1e-3 * r.singularValues[0]);
    expect(r.singularValues[3]).toBeLessThanOrEqual(1e-3 * r.singularValues[0]);
    const x = v.toArray();
    for (let i = 0; i < 4; i++)
      for (let j = 0; j < 4; j++) {
        let d = 0;
        for (let row = 0; row < 9; row++) d += x[row * 4 + i] * x[row * 4 + j];
        expect(Math.abs(d - (i === j ? 1 : 0))).toBeLessThanOrEqual(1e-5);
      }
  });

  test('deterministic: same seed, same bits; another seed, the same subspace', () => {
    using g = randn([12, 20], { seed: 7, device });
    using a = randn([9, 20], { seed: 8, device });
    const r1 = gradmaxOutgoing(g, a, 2, { seed: 3, tol: 1e-5 });
    const r2 = gradmaxOutgoing(g, a, 2, { seed: 3, tol: 1e-5 });
    const r3 = gradmaxOutgoing(g, a, 2, { seed: 4n, tol: 1e-5 });
    using v1 = r1.vectors;
    using v2 = r2.vectors;
    using v3 = r3.vectors;
    expect(Buffer.from(v1.toArray().buffer).equals(Buffer.from(v2.toArray().buffer))).toBe(true);
    expect(Array.from(r1.singularValues)).toEqual(Array.from(r2.singularValues));
    expect(r1.iterations).toBe(r2.iterations);
    const ref = jacobiReference(gram(g.toArray(), a.toArray(), 12, 9, 20), 12);
    const gap = ref.values[1] - ref.values[2];
    expect(Math.SQRT2 * outside(v3.toArray(), 12, 2, ref.vectors, 2)).toBeLessThanOrEqual(subspaceBound(2, 1e-5, ref.values[0], gap));
  });

  test('the iteration cap is reported, not hidden', () => {
    using g = randn([30, 40], { seed: 9, device });
    using a = randn([30, 40], { seed: 10, device });
    const r = gradmaxOutgoing(g, a, 5, { tol: 1e-9, maxIter: 1 });
    r.vectors.dispose();
    expect(r.converged).toBe(false);
    expect(r.iterations).toBe(1);
    expect(Math.max(...r.residuals)).toBeGreaterThan(1e-9);
  });

  // Batch 16 applies M through its factors, batch 64 forms it (64 (2·40 + 64) >= 2·40·30).
  test.each([16, 64])('only the returned vectors stay allocated (batch %i)', (batch) => {
    using g = randn([40, batch], { seed: 1, device });
    using a = randn([30, batch], { seed: 2, device });
    const before = memory(device).bytesInUse;
    const r = gradmaxOutgoing(g, a, 3);
    expect(memory(device).bytesInUse - before).toBe(40 * 3 * 4);
    r.vectors.dispose();
    expect(memory(device).bytesInUse).toBe(before);
  });

  test('a small batch never forms the nOut x nIn matrix M', () => {
    const [nOut, nIn, batch] = [400, 300, 8];
    using g = randn([nOut, batch], { seed: 1, device });
    using a = randn([nIn, batch], { seed: 2, device });
    synchronize(device);
    const before = memory(device).bytesInUse;
    resetPeakMemory(device);
    const r = gradmaxOutgoing(g, a, 3);
    r.vectors.dispose();
    // The solver's own blocks (four of n x 11 doubles here) are well under M's n·p floats.
    expect(memory(device).peakBytes - before).toBeLessThan(nOut * nIn * 4);
    expect(r.converged).toBe(true);
  });

  test('validates every argument', () => {
    using g = randn([6, 8], { device });
    using a = randn([5, 8], { device });
    using a7 = randn([5, 7], { device });
    expectCode(() => gradmaxOutgoing(g, a7, 1), 'E_SHAPE', /batch.*\[6, 8\].*\[5, 7\]/);
    using v = randn([8], { device });
    expectCode(() => gradmaxOutgoing(g, v, 1), 'E_SHAPE', /2-D/);
    using e1 = randn([6, 0], { device });
    using e2 = randn([5, 0], { device });
    expectCode(() => gradmaxOutgoing(e1, e2, 1), 'E_SHAPE', /non-empty/);
    for (const k of [0, 6, 1.5, NaN, '2', undefined]) expectCode(() => gradmaxOutgoing(g, a, k as number), 'E_ARG', /k: expected an integer in \[1, 5\]/);
    for (const scale of [0, -1, NaN, Infinity, '1']) expectCode(() => gradmaxOutgoing(g, a, 1, { scale: scale as number }), 'E_ARG', /scale/);
    for (const tol of [0, 1, -1e-3, NaN]) expectCode(() => gradmaxOutgoing(g, a, 1, { tol }), 'E_ARG', /tol/);
    for (const maxIter of [0, 2.5, -1]) expectCode(() => gradmaxOutgoing(g, a, 1, { maxIter }), 'E_ARG', /maxIter/);
    expectCode(() => gradmaxOutgoing(g, a, 1, { seed: -1 }), 'E_ARG', /seed/);
    expectCode(() => gradmaxOutgoing(g, a, 1, { scal: 1 } as never), 'E_ARG', /unknown option 'scal'/);
    expectCode(() => gradmaxOutgoing(g, 'x' as unknown as Tensor, 1), 'E_ARG', /actPrev: expected a Tensor/);
    using ints = tensor(new Int32Array(40), [5, 8], { device });
    expectCode(() => gradmaxOutgoing(g, ints as unknown as Tensor, 1), 'E_ARG', /float32/);
    const nanData = new Float32Array(40).fill(1);
    nanData[7] = NaN;
    using bad = tensor(nanData, [5, 8], { device });
    expectCode(() => gradmaxOutgoing(g, bad, 1), 'E_ARG', /non-finite/);
    const gone = randn([5, 8], { device });
    gone.dispose();
    expectCode(() => gradmaxOutgoing(g, gone, 1), 'E_DISPOSED');
  });
});
