import {
  Adam,
  CsrMatrix,
  Device,
  DynasparseError,
  memory,
  mlp,
  RigL,
  Trainer,
  gradmaxOutgoing,
  growNeurons,
  GrowableLayer,
  GrowMethod,
  Linear,
  randn,
  ReLU,
  reluBackward,
  Sequential,
  SGD,
  SparseLinear,
  tensor,
  Tensor,
} from '../lib';
import { devices, expectCode } from './helpers/devices';

const METHODS: GrowMethod[] = ['gradmax', 'gradmax-opt', 'random', 'zeros'];

function rows(values: Float32Array, cols: number): number[][] {
  return Array.from({ length: values.length / cols }, (_, r) => Array.from(values.subarray(r * cols, (r + 1) * cols)));
}
function norm(values: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < values.length; i++) s += values[i] * values[i];
  return Math.sqrt(s);
}
/** Column j of a row-major [rows, cols] array. */
function column(values: ArrayLike<number>, cols: number, j: number): number[] {
  return Array.from({ length: values.length / cols }, (_, r) => values[r * cols + j]);
}
/** A dense weight of either layer kind as a row-major array. */
function denseWeight(layer: GrowableLayer): Float32Array {
  if (layer instanceof Linear) return layer.weight.toArray() as Float32Array;
  using d = layer.weight.toDense();
  return d.toArray() as Float32Array;
}

/** prev -> ReLU(gradAtZero 1) -> next, and a batch with its output gradient. */
/** A two-layer model and a batch, on `device` (default: the default device). */
function setup(sparse: boolean, sizes = { nIn: 7, hidden: 4, nOut: 5, batch: 12 }, device?: Device) {
  const { nIn, hidden, nOut, batch } = sizes;
  const prev = sparse ? new SparseLinear(nIn, hidden, { density: 0.5, seed: 1, device }) : new Linear(nIn, hidden, { seed: 1, device });
  const next = sparse ? new SparseLinear(hidden, nOut, { density: 0.6, seed: 2, device }) : new Linear(hidden, nOut, { seed: 2, device });
  using b = randn([hidden], { seed: 7, std: 0.1, device });
  prev.setBias(b.clone());
  const model = new Sequential([prev, new ReLU({ gradAtZero: 1 }), next]);
  const x = randn([nIn, batch], { seed: 3, device });
  const g = randn([nOut, batch], { seed: 4, std: 1 / batch, device });
  return { prev, next, model, x, g, ...sizes, [Symbol.dispose]: () => (model.dispose(), x.dispose(), g.dispose()) };
}

describe('ReLU with derivative 1 at 0', () => {
  test('reluBackward({ gradAtZero: 1 }) passes dy where x >= 0 (-0 included), the default only where x > 0', () => {
    using x = tensor([-2, -0, 0, 3, -1e-30, 1e-30]);
    using dy = tensor([1, 2, 3, 4, 5, 6]);
    using d0 = reluBackward(dy, x);
    using d1 = reluBackward(dy, x, { gradAtZero: 1 });
    expect(Array.from(d0.toArray())).toEqual([0, 0, 0, 4, 0, 6]);
    expect(Array.from(d1.toArray())).toEqual([0, 2, 3, 4, 0, 6]);
    expectCode(() => reluBackward(dy, x, { gradAtZero: 2 as 1 }), 'E_ARG', /gradAtZero/);
    expectCode(() => reluBackward(dy, x, { atZero: 1 } as never), 'E_ARG');
  });

  test('ReLU({ gradAtZero: 1 }) layer: same forward, gradient at 0 is dy; bad option is E_ARG', () => {
    const layer = new ReLU({ gradAtZero: 1 });
    using x = tensor([[-1, 0], [0, 2]]);
    using y = layer.forward(x);
    expect(Array.from(y.toArray())).toEqual([0, 0, 0, 2]);
    using dy = tensor([[5, 6], [7, 8]]);
    using dx = layer.backward(dy)!;
    expect(Array.from(dx.toArray())).toEqual([0, 6, 7, 8]);
    expect(layer.backward(dy, false)).toBeNull();
    expect(String(layer)).toBe('ReLU(gradAtZero 1)');
    expect(new ReLU().gradAtZero).toBe(0);
    expectCode(() => new ReLU({ gradAtZero: 0.5 as 0 }), 'E_ARG', /gradAtZero/);
    expectCode(() => new ReLU({ slope: 1 } as never), 'E_ARG');
  });
});

describe('layer growth methods', () => {
  test('Linear.growOutputs / growInputs keep old values, place new ones and return remap maps', () => {
    using l = new Linear(3, 2, { seed: 5 });
    using b = tensor([1, 2]);
    l.setBias(b.clone());
    const w0 = l.weight.toArray() as Float32Array;
    const m1 = l.growOutputs(1, new Float32Array([7, 8, 9]));
    expect([l.outFeatures, l.inFeatures]).toEqual([3, 3]);
    expect(l.weight.shape).toEqual([3, 3]);
    expect(Array.from(l.weight.toArray())).toEqual([...Array.from(w0), 7, 8, 9]);
    expect(Array.from(l.bias!.toArray())).toEqual([1, 2, 0]);
    expect(Array.from(m1.weight)).toEqual([0, 1, 2, 3, 4, 5, -1, -1, -1]);
    expect(Array.from(m1.bias!)).toEqual([0, 1, -1]);
    const w1 = l.weight.toArray() as Float32Array;
    const m2 = l.growInputs(2, new Float32Array([1, 2, 3, 4, 5, 6]));
    expect(l.weight.shape).toEqual([3, 5]);
    expect(rows(l.weight.toArray() as Float32Array, 5)).toEqual([
      [w1[0], w1[1], w1[2], 1, 2],
      [w1[3], w1[4], w1[5], 3, 4],
      [7, 8, 9, 5, 6],
    ]);
    expect(Array.from(m2.weight)).toEqual([0, 1, 2, -1, -1, 3, 4, 5, -1, -1, 6, 7, 8, -1, -1]);
    expect(Array.from(m2.bias!)).toEqual([0, 1, 2]);
    l.growOutputs(2); // zeros by default
    expect(Array.from(l.weight.toArray()).slice(15)).toEqual(new Array(10).fill(0));
    expectCode(() => l.growOutputs(0), 'E_ARG', /k/);
    expectCode(() => l.growInputs(1.5), 'E_ARG', /k/);
    expectCode(() => l.growOutputs(1, new Float32Array(3)), 'E_SHAPE', /weights: expected 5 values/);
    expectCode(() => l.growInputs(1, [1, 2, 3, 4, 5] as never), 'E_ARG', /Float32Array/);
    expect(l.weight.shape).toEqual([5, 5]);
  });

  test('SparseLinear.growOutputs appends CSR rows; growInputs stores new columns densely', () => {
    using l = new SparseLinear(4, 2, { nnz: 3, seed: 1 });
    const [ptr0, col0, val0] = [l.weight.rowPtr(), l.weight.colIdx(), l.weight.values.toArray()];
    using add = CsrMatrix.fromArrays({ rows: 1, cols: 4, rowPtr: [0, 2], colIdx: [1, 3], values: [5, 6] });
    const m1 = l.growOutputs(add);
    expect([l.outFeatures, l.inFeatures, l.weight.nnz]).toEqual([3, 4, 5]);
    expect(Array.from(l.weight.rowPtr())).toEqual([...Array.from(ptr0), 5]);
    expect(Array.from(l.weight.colIdx())).toEqual([...Array.from(col0), 1, 3]);
    expect(Array.from(l.weight.values.toArray())).toEqual([...Array.from(val0), 5, 6]);
    expect(Array.from(m1.weight)).toEqual([0, 1, 2, -1, -1]);
    expect(Array.from(m1.bias!)).toEqual([0, 1, -1]);
    const dense0 = denseWeight(l);
    const m2 = l.growInputs(1, new Float32Array([1, 0, 3]));
    expect([l.inFeatures, l.weight.nnz]).toEqual([5, 8]);
    const dense1 = denseWeight(l);
    for (let r = 0; r < 3; r++) expect(Array.from(dense1.subarray(r * 5, r * 5 + 4))).toEqual(Array.from(dense0.subarray(r * 4, r * 4 + 4)));
    expect(column(dense1, 5, 4)).toEqual([1, 0, 3]);
    // The new entries end each row; the stored zero counts.
    const ptr = l.weight.rowPtr();
    expect(Array.from(l.weight.colIdx()).filter((c) => c === 4).length).toBe(3);
    for (let r = 0; r < 3; r++) expect(l.weight.colIdx()[ptr[r + 1] - 1]).toBe(4);
    expect(Array.from(m2.weight).filter((v) => v === -1).length).toBe(3);
    expect(Array.from(m2.weight).filter((v) => v >= 0)).toEqual([0, 1, 2, 3, 4]);
    using wrongCols = CsrMatrix.fromArrays({ rows: 1, cols: 3, rowPtr: [0, 0], colIdx: [], values: [] });
    expectCode(() => l.growOutputs(wrongCols), 'E_SHAPE', /5 columns/);
    expectCode(() => l.growOutputs(new Float32Array(5) as never), 'E_ARG', /CsrMatrix/);
    expectCode(() => l.growInputs(0), 'E_ARG');
    expectCode(() => l.growInputs(1, new Float32Array(2)), 'E_SHAPE');
  });
});

describe.each([false, true])('growNeurons (sparse %s)', (sparse) => {
  test.each(METHODS)('%s: the output is unchanged right after growth', (method) => {
    using s = setup(sparse);
    const y0 = s.model.forward(s.x).toArray() as Float32Array;
    const r = growNeurons(s.prev, s.next, 2, { method, gradNext: s.g, actPrev: s.x, seed: 3, optSteps: 5 });
    expect([r.k, r.method, r.hiddenBefore, r.hiddenAfter]).toEqual([2, method, s.hidden, s.hidden + 2]);
    expect([s.prev.outFeatures, s.next.inFeatures]).toEqual([s.hidden + 2, s.hidden + 2]);
    const y1 = s.model.forward(s.x).toArray() as Float32Array;
    if (sparse) {
      // spmm adds the new entries' +0 products at the end of each row: same bits.
      expect(Array.from(y1)).toEqual(Array.from(y0));
    } else {
      // The GEMM's inner dimension changed (4 -> 6): allow its summation order to differ.
      for (let i = 0; i < y0.length; i++) expect(Math.abs(y1[i] - y0[i])).toBeLessThanOrEqual(1e-6 * (1 + Math.abs(y0[i])));
    }
  });

  test('new incoming weights and biases are zero; outgoing by method', () => {
    const k = 2;
    for (const method of METHODS) {
      using s = setup(sparse);
      const prevW = denseWeight(s.prev);
      const nextW = denseWeight(s.next);
      const prevNnz = s.prev instanceof SparseLinear ? s.prev.weight.nnz : 0;
      const nextNnz = s.next instanceof SparseLinear ? s.next.weight.nnz : 0;
      const r = growNeurons(s.prev, s.next, k, { method, gradNext: s.g, actPrev: s.x, seed: 3, scale: 1.5, optSteps: 10 });
      const w1 = denseWeight(s.prev);
      const w2 = denseWeight(s.next);
      const hidden = s.hidden + k;
      expect(Array.from(w1.subarray(0, prevW.length))).toEqual(Array.from(prevW)); // old rows untouched
      expect(Array.from(s.prev.bias!.toArray()).slice(s.hidden)).toEqual([0, 0]);
      for (let r2 = 0; r2 < s.nOut; r2++) expect(Array.from(w2.subarray(r2 * hidden, r2 * hidden + s.hidden))).toEqual(Array.from(nextW.subarray(r2 * s.hidden, (r2 + 1) * s.hidden)));
      const incoming = w1.subarray(prevW.length);
      const outgoing = [column(w2, hidden, s.hidden), column(w2, hidden, s.hidden + 1)];
      if (method === 'gradmax-opt') {
        expect(outgoing.flat().every((v) => v === 0)).toBe(true);
        for (let j = 0; j < k; j++) expect(norm(incoming.subarray(j * s.nIn, (j + 1) * s.nIn))).toBeCloseTo(1.5, 5);
        expect(r.norm).toBe(1.5);
      } else {
        expect(Array.from(incoming).every((v) => v === 0)).toBe(true);
        if (method === 'zeros') expect(outgoing.flat().every((v) => v === 0)).toBe(true);
        else for (const col of outgoing) expect(norm(col)).toBeCloseTo(1.5, 5);
      }
      if (method === 'gradmax') {
        const ref = gradmaxOutgoing(s.g, s.x, k, { scale: 1.5, seed: 3 });
        using v = ref.vectors;
        const vv = v.toArray() as Float32Array;
        for (let j = 0; j < k; j++) expect(outgoing[j]).toEqual(column(vv, k, j));
        expect(Array.from(r.singularValues!)).toEqual(Array.from(ref.singularValues));
      }
      if (sparse) {
        // The outgoing columns are stored densely; the incoming rows hold round(nnz / rows) connections each.
        expect(r.addedOutgoing).toBe(s.nOut * k);
        expect(r.addedIncoming).toBe(k * Math.round(prevNnz / s.hidden));
        expect((s.prev.weight as CsrMatrix).nnz).toBe(prevNnz + r.addedIncoming);
        expect((s.next.weight as CsrMatrix).nnz).toBe(nextNnz + r.addedOutgoing);
      } else {
        expect([r.addedIncoming, r.addedOutgoing]).toEqual([k * s.nIn, k * s.nOut]);
      }
    }
  });

  test('gradNorm equals the new weights\' gradient of the next backward pass; gradmax >= random; zeros is 0', () => {
    const measured: Record<string, number> = {};
    for (const method of METHODS) {
      using s = setup(sparse);
      s.model.forward(s.x);
      const r = growNeurons(s.prev, s.next, 1, { method, gradNext: s.g, actPrev: s.x, seed: 11, optSteps: 20 });
      s.model.forward(s.x);
      s.model.backward(s.g);
      // The new weights' gradient: prev's new row (incoming) or next's new column (outgoing).
      let grad: number[];
      if (method === 'gradmax-opt') {
        const dW = s.next instanceof Linear ? (s.next.parameters()[0].grad as Tensor).toArray() : sparseGradDense(s.next as SparseLinear);
        grad = column(dW, s.hidden + 1, s.hidden);
      } else {
        const dW = s.prev instanceof Linear ? (s.prev.parameters()[0].grad as Tensor).toArray() : sparseGradDense(s.prev as SparseLinear);
        grad = Array.from(dW.subarray(s.hidden * s.nIn));
      }
      expect(r.gradNorm).not.toBeNull();
      expect(Math.abs(norm(grad) - (r.gradNorm as number))).toBeLessThanOrEqual(1e-5 * (1 + norm(grad)));
      measured[method] = r.gradNorm as number;
    }
    expect(measured.zeros).toBe(0);
    if (!sparse) expect(measured.gradmax).toBeGreaterThanOrEqual(measured.random); // sparse: masked, no guarantee
    expect(measured['gradmax-opt']).toBeGreaterThan(0);
  });

  test('gradmax-opt ascends: the objective after the iterations is at least the start', () => {
    using s = setup(sparse);
    const r = growNeurons(s.prev, s.next, 2, { method: 'gradmax-opt', gradNext: s.g, actPrev: s.x, seed: 5, optSteps: 30, optLr: 0.05 });
    const obj = r.objective!;
    expect(obj.length).toBe(31);
    expect(obj[obj.length - 1]).toBeGreaterThan(obj[0]);
    expect(r.gradNorm).toBe(obj[obj.length - 1]);
    if (sparse) {
      // Only the new rows' stored positions carry weights.
      const w = denseWeight(s.prev);
      const nz = Array.from(w.subarray(s.hidden * s.nIn)).filter((v) => v !== 0).length;
      expect(nz).toBeLessThanOrEqual(r.addedIncoming);
    }
  });

  test("scaleMethod 'mean_norm' scales to scale x the existing units' mean norm", () => {
    {
      using s = setup(sparse);
      const w2 = denseWeight(s.next);
      const meanCol = Array.from({ length: s.hidden }, (_, j) => norm(column(w2, s.hidden, j))).reduce((a, b) => a + b) / s.hidden;
      const r = growNeurons(s.prev, s.next, 1, { method: 'gradmax', gradNext: s.g, actPrev: s.x, scale: 0.5, scaleMethod: 'mean_norm' });
      expect(r.norm).toBeCloseTo(0.5 * meanCol, 6);
      expect(norm(column(denseWeight(s.next), s.hidden + 1, s.hidden))).toBeCloseTo(0.5 * meanCol, 5);
    }
    {
      using s = setup(sparse);
      const w1 = denseWeight(s.prev);
      const meanRow = Array.from({ length: s.hidden }, (_, i) => norm(w1.subarray(i * s.nIn, (i + 1) * s.nIn))).reduce((a, b) => a + b) / s.hidden;
      const r = growNeurons(s.prev, s.next, 1, { method: 'gradmax-opt', gradNext: s.g, actPrev: s.x, scale: 2, scaleMethod: 'mean_norm', optSteps: 3 });
      expect(r.norm).toBeCloseTo(2 * meanRow, 6);
      expect(norm(denseWeight(s.prev).subarray(s.hidden * s.nIn))).toBeCloseTo(2 * meanRow, 5);
    }
  });

  test("'mean_norm' over all-zero existing columns grows zero columns (no error)", () => {
    using s = setup(sparse);
    using zero = tensor(new Float32Array(s.nOut * s.hidden), [s.nOut, s.hidden]);
    using all = tensor(new Float32Array(s.nOut * s.hidden).fill(1), [s.nOut, s.hidden]);
    if (s.next instanceof Linear) s.next.setWeight(zero.clone());
    else s.next.setWeight(CsrMatrix.fromDense(zero, { mask: all }));
    const r = growNeurons(s.prev, s.next, 1, { method: 'gradmax', gradNext: s.g, actPrev: s.x, scaleMethod: 'mean_norm' });
    expect([r.norm, r.gradNorm]).toEqual([0, 0]);
    expect(Array.from(denseWeight(s.next)).every((v) => v === 0)).toBe(true);
  });

  test('optimizer state: old entries kept, new entries zero, step count unchanged, training continues', () => {
    for (const opt of [new SGD({ lr: 0.1, momentum: 0.9 }), new Adam({ lr: 0.01 })]) {
      using s = setup(sparse);
      const step = () => {
        s.model.forward(s.x);
        s.model.backward(s.g);
        opt.step(s.model.parameters().map((p) => ({ value: p.value, grad: p.grad as Tensor, key: p.key })));
      };
      step();
      step();
      const keyOf = (l: GrowableLayer) => (l instanceof Linear ? l.weightKey : l);
      const names = opt instanceof SGD ? ['momentumBuffer'] : ['expAvg', 'expAvgSq'];
      const stateOf = (key: object) => {
        const st = opt.state(key) as unknown as Record<string, Tensor | number>;
        return { step: st.step as number, tensors: names.map((n) => (st[n] as Tensor).toArray() as Float32Array) };
      };
      const before = { p: stateOf(keyOf(s.prev)), b: stateOf(s.prev.biasKey), n: stateOf(keyOf(s.next)) };
      const r = growNeurons(s.prev, s.next, 2, { method: 'gradmax', gradNext: s.g, actPrev: s.x, optimizer: opt });
      const after = { p: stateOf(keyOf(s.prev)), b: stateOf(s.prev.biasKey), n: stateOf(keyOf(s.next)) };
      expect([after.p.step, after.b.step, after.n.step]).toEqual([2, 2, 2]);
      for (let t = 0; t < names.length; t++) {
        // prev's weight and bias: old entries first, then zeros.
        expect(Array.from(after.p.tensors[t])).toEqual([...Array.from(before.p.tensors[t]), ...new Array(r.addedIncoming).fill(0)]);
        expect(Array.from(after.b.tensors[t])).toEqual([...Array.from(before.b.tensors[t]), 0, 0]);
        // next's weight: each row's old entries, then its two new ones (zero).
        const ptr = s.next instanceof SparseLinear ? Array.from(s.next.weight.rowPtr()) : Array.from({ length: s.nOut + 1 }, (_, i) => i * (s.hidden + 2));
        const expected: number[] = [];
        let at = 0;
        for (let row = 0; row < s.nOut; row++) {
          const oldCount = ptr[row + 1] - ptr[row] - 2;
          expected.push(...Array.from(before.n.tensors[t].subarray(at, at + oldCount)), 0, 0);
          at += oldCount;
        }
        expect(Array.from(after.n.tensors[t])).toEqual(expected);
      }
      step(); // the grown parameters and their state fit together
      expect(opt.stepCount).toBe(3);
      opt.dispose();
    }
  });
});

function sparseGradDense(layer: SparseLinear): Float32Array {
  const grad = layer.weightGrad!.toArray() as Float32Array;
  const ptr = layer.weight.rowPtr();
  const col = layer.weight.colIdx();
  const dense = new Float32Array(layer.outFeatures * layer.inFeatures);
  for (let r = 0; r < layer.outFeatures; r++) for (let i = ptr[r]; i < ptr[r + 1]; i++) dense[r * layer.inFeatures + col[i]] = grad[i];
  return dense;
}

describe('growNeurons in training', () => {
  test('a sparse MLP trained with RigL grows mid-training from the captured x and dy, then keeps training and updating', () => {
    using model = mlp([12, 6, 4], { sparsity: 0.5, distribution: 'uniform', sparseLayers: true, seed: 2 });
    using opt = new SGD({ lr: 0.1, momentum: 0.9 });
    using rigl = new RigL({ layers: model, optimizer: opt, dropFraction: 0.3, updateEvery: 2, endStep: 100 });
    using trainer = new Trainer({ model, optimizer: opt, updater: rigl });
    using x = randn([12, 16], { seed: 1 });
    const labels = Int32Array.from({ length: 16 }, (_, i) => i % 4);
    for (let i = 0; i < 3; i++) trainer.step(x, labels);
    const [fc1, fc2] = model.sparseLayers();
    using logits0 = model.forward(x).clone();
    trainer.step(x, labels); // fc1 captures its input, fc2 its output gradient (the loss gradient)
    using gradNext = fc2.lastOutputGrad!.clone(); // kept: the next forward releases the captures
    using actPrev = fc1.lastInput!.clone();
    using logits1 = model.forward(x).clone();
    const nnz = [fc1.weight.nnz, fc2.weight.nnz];
    const r = growNeurons(fc1, fc2, 2, { method: 'gradmax', gradNext, actPrev, optimizer: opt, seed: 4 });
    expect([fc1.weight.nnz, fc2.weight.nnz]).toEqual([nnz[0] + r.addedIncoming, nnz[1] + r.addedOutgoing]);
    using logits2 = model.forward(x);
    expect(Array.from(logits2.toArray())).toEqual(Array.from(logits1.toArray())); // sparse: bit for bit
    expect(Array.from(logits1.toArray())).not.toEqual(Array.from(logits0.toArray())); // training did move
    for (let i = 0; i < 4; i++) {
      const step = trainer.step(x, labels);
      expect(Number.isFinite(step.loss)).toBe(true);
    }
    expect([fc1.outFeatures, fc2.inFeatures]).toEqual([8, 8]);
    // RigL keeps the grown layers' nnz.
    expect([fc1.weight.nnz, fc2.weight.nnz]).toEqual([nnz[0] + r.addedIncoming, nnz[1] + r.addedOutgoing]);
  });

  test('growth releases every temporary it allocates', () => {
    for (const method of METHODS) {
      using s = setup(true);
      const before = memory();
      const sizes = [s.prev.weight, s.next.weight].map((w) => (w as CsrMatrix).nnz);
      growNeurons(s.prev, s.next, 1, { method, gradNext: s.g, actPrev: s.x, seed: 1, optSteps: 3 });
      const after = memory();
      // Same number of buffers: each layer's three CSR buffers and prev's bias were replaced one for one.
      expect(after.allocations).toBe(before.allocations);
      const grown = [s.prev.weight, s.next.weight].map((w) => (w as CsrMatrix).nnz);
      const bytes = 8 * (grown[0] - sizes[0] + grown[1] - sizes[1]) + 4 * (1 /* prev rowPtr */ + 1 /* prev bias */);
      expect(after.bytesInUse - before.bytesInUse).toBe(bytes);
    }
  });
});

describe('growNeurons errors (nothing changes when it throws)', () => {
  test('arguments, sizes and options', () => {
    using s = setup(false);
    const grow = (k: unknown, opts: unknown, prev: unknown = s.prev, next: unknown = s.next) => () => growNeurons(prev as Linear, next as Linear, k as number, opts as never);
    const ok = { method: 'gradmax', gradNext: s.g, actPrev: s.x };
    expectCode(grow(0, ok), 'E_ARG', /k: expected an integer in \[1, /);
    expectCode(grow(-1, { method: 'zeros' }), 'E_ARG', /k/);
    expectCode(grow(1.5, { method: 'random' }), 'E_ARG', /k/);
    expectCode(grow(6, ok), 'E_ARG', /k: 'gradmax' grows at most min\(nOut, nIn\) = 5 units/);
    expectCode(grow(2 ** 31, { method: 'zeros' }), 'E_ARG', /k: expected an integer/);
    expectCode(grow(1, { method: 'bogus' }), 'E_ARG', /method: expected one of 'gradmax'/);
    expectCode(grow(1, undefined), 'E_ARG', /options/);
    expectCode(grow(1, { method: 'zeros', lr: 1 }), 'E_ARG', /lr/);
    expectCode(grow(1, { method: 'gradmax' }), 'E_ARG', /method 'gradmax' needs/);
    expectCode(grow(1, { method: 'gradmax-opt' }), 'E_ARG', /method 'gradmax-opt' needs/);
    expectCode(grow(1, { method: 'gradmax', gradNext: s.g }), 'E_ARG', /actPrev: gradNext and actPrev go together/);
    expectCode(grow(1, { method: 'random', actPrev: s.x }), 'E_ARG', /gradNext: gradNext and actPrev go together/);
    expectCode(grow(1, { method: 'gradmax', gradNext: s.x, actPrev: s.x }), 'E_SHAPE', /gradNext: expected a feature-major \[5/);
    expectCode(grow(1, { method: 'gradmax', gradNext: s.g, actPrev: s.g }), 'E_SHAPE', /actPrev: expected a feature-major \[7/);
    using x5 = randn([7, 5]);
    expectCode(grow(1, { method: 'gradmax', gradNext: s.g, actPrev: x5 }), 'E_SHAPE', /actPrev: expected batch 12/);
    expectCode(grow(1, { method: 'gradmax', gradNext: 3, actPrev: s.x }), 'E_ARG', /gradNext: expected a Tensor/);
    expectCode(grow(1, { method: 'random', scale: 0 }), 'E_ARG', /scale/);
    expectCode(grow(1, { method: 'random', scale: NaN }), 'E_ARG', /scale/);
    expectCode(grow(1, { method: 'random', scaleMethod: 'max' }), 'E_ARG', /scaleMethod/);
    expectCode(grow(1, { method: 'random', optimizer: {} }), 'E_ARG', /optimizer/);
    const disposed = new SGD({ lr: 1 });
    disposed.dispose();
    expectCode(grow(1, { method: 'random', optimizer: disposed }), 'E_DISPOSED', /optimizer/);
    expectCode(grow(1, { method: 'random', fanIn: 2 }), 'E_ARG', /fanIn: only a sparse prev/);
    expectCode(grow(1, { method: 'gradmax-opt', gradNext: s.g, actPrev: s.x, optLr: 0 }), 'E_ARG', /optLr/);
    expectCode(grow(1, { method: 'gradmax-opt', gradNext: s.g, actPrev: s.x, optSteps: -1 }), 'E_ARG', /optSteps/);
    expectCode(grow(1, { method: 'random', seed: -1 }), 'E_ARG', /seed/);
    expectCode(grow(1, { method: 'random' }, new ReLU()), 'E_ARG', /prev: expected a Linear or SparseLinear/);
    expectCode(grow(1, { method: 'random' }, s.prev, {}), 'E_ARG', /next: expected a Linear or SparseLinear/);
    expectCode(grow(1, { method: 'random' }, s.prev, s.prev), 'E_ARG', /next: expected a layer other than prev/);
    using mismatched = new Linear(5, 3);
    expectCode(grow(1, { method: 'random' }, s.prev, mismatched), 'E_SHAPE', /next: expected inFeatures 4/);
    using sparsePrev = new SparseLinear(7, 4, { density: 0.5 });
    expectCode(grow(1, { method: 'random', fanIn: 8 }, sparsePrev, s.next), 'E_ARG', /fanIn/);
    // Too many stored values for int32 indices: refused before either layer grows.
    using sparseNext = new SparseLinear(4, 5, { density: 0.5 });
    expectCode(grow(2 ** 29, { method: 'zeros' }, sparsePrev, sparseNext), 'E_ARG', /int32/);
    expect([sparsePrev.outFeatures, sparseNext.inFeatures, sparsePrev.weight.nnz]).toEqual([4, 4, 14]);
    // Nothing changed.
    expect([s.prev.outFeatures, s.next.inFeatures, (s.prev as Linear).weight.shape[0], (s.next as Linear).weight.shape[1]]).toEqual([4, 4, 4, 4]);
  });

  // Mixing devices needs a second one: this runs where CUDA is available and is skipped elsewhere.
  (devices.includes('cuda') ? test : test.skip)('devices: mixed layers, tensors on another device, batch tensors on cuda', () => {
    using s = setup(false, undefined, 'cpu');
    using prevCuda = new Linear(7, 4, { device: 'cuda' });
    using nextCuda = new Linear(4, 5, { device: 'cuda' });
    expectCode(() => growNeurons(s.prev, nextCuda, 1, { method: 'random' }), 'E_DEVICE', /next: expected a layer on 'cpu'/);
    using gCuda = s.g.to('cuda');
    using xCuda = s.x.to('cuda');
    expectCode(() => growNeurons(s.prev, s.next, 1, { method: 'gradmax', gradNext: gCuda, actPrev: s.x }), 'E_DEVICE', /gradNext: expected a tensor on 'cpu'/);
    expectCode(() => growNeurons(prevCuda, nextCuda, 1, { method: 'gradmax', gradNext: gCuda, actPrev: s.x }), 'E_DEVICE', /actPrev: expected a tensor on 'cuda'/);
    expect(prevCuda.outFeatures).toBe(4);
    // Every method grows CUDA layers (the weights are rebuilt through the host) and matches the CPU.
    for (const method of METHODS) {
      using c = setup(false);
      using cp = new Linear(7, 4, { device: 'cuda' });
      using cn = new Linear(4, 5, { device: 'cuda' });
      cp.setWeight((c.prev as Linear).weight.to('cuda'));
      cp.setBias((c.prev.bias as Tensor).to('cuda'));
      cn.setWeight((c.next as Linear).weight.to('cuda'));
      const opts = { method, gradNext: c.g, actPrev: c.x, seed: 2, optSteps: 10 };
      const rCpu = growNeurons(c.prev, c.next, 2, opts);
      const rCuda = growNeurons(cp, cn, 2, { ...opts, gradNext: gCuda, actPrev: xCuda });
      expect([cp.weight.device, cp.outFeatures, cn.inFeatures]).toEqual(['cuda', 6, 6]);
      expect(Math.abs((rCuda.gradNorm as number) - (rCpu.gradNorm as number))).toBeLessThanOrEqual(1e-4 * (1 + (rCpu.gradNorm as number)));
      const [a, b] = [denseWeight(cn), denseWeight(c.next as Linear)];
      if (method !== 'gradmax') {
        for (let i = 0; i < a.length; i++) expect(Math.abs(a[i] - b[i])).toBeLessThanOrEqual(1e-4);
        continue;
      }
      // 'gradmax': the device eigensolver agrees with the CPU's within its
      // tolerance (default 1e-4), not bit for bit: singular values² within
      // 2 (tol + 1e-5) λmax, each new column within 4√2 (tol + 1e-5) λmax / gap
      // (Davis–Kahan; the gap from a CPU solve with one value more); the old
      // columns are copied.
      const ref = gradmaxOutgoing(c.g, c.x, 3, { seed: 2 });
      ref.vectors.dispose();
      const lambda = Array.from(ref.singularValues, (v) => v * v);
      for (let j = 0; j < 2; j++) expect(Math.abs(rCuda.singularValues![j] ** 2 - lambda[j])).toBeLessThanOrEqual(2 * 1.1e-4 * lambda[0]);
      for (let row = 0; row < 5; row++)
        for (let col = 0; col < 6; col++) {
          const j = col - 4;
          const bound = j < 0 ? 1e-6 : (4 * Math.SQRT2 * 1.1e-4 * lambda[0]) / Math.min(j > 0 ? lambda[j - 1] - lambda[j] : Infinity, lambda[j] - lambda[j + 1]);
          expect(Math.abs(a[row * 6 + col] - b[row * 6 + col])).toBeLessThanOrEqual(bound);
        }
    }
  });
});

describe('growNeurons checks everything before either layer grows', () => {
  /** What a failed growth must leave as it was: both layers' sizes, weights and biases. */
  function layersOf(s: { prev: GrowableLayer; next: GrowableLayer }) {
    return [s.prev, s.next].map((l) => ({ in: l.inFeatures, out: l.outFeatures, w: Array.from(denseWeight(l)), b: l.bias ? Array.from(l.bias.toArray()) : null }));
  }

  test('a stale optimizer state of any weight or bias is E_SHAPE naming it, and neither layer (nor any state) changes', () => {
    for (const sparse of [false, true]) {
      using s = setup(sparse);
      using opt = new Adam({ lr: 0.01 });
      s.model.forward(s.x);
      s.model.backward(s.g);
      opt.step(s.model.parameters().map((p) => ({ value: p.value, grad: p.grad as Tensor, key: p.key })));
      const keyOf = (l: GrowableLayer) => (l instanceof Linear ? l.weightKey : l);
      const params = [
        { key: keyOf(s.prev), name: "prev's weight" },
        { key: s.prev.biasKey, name: "prev's bias" },
        { key: keyOf(s.next), name: "next's weight" },
        { key: s.next.biasKey, name: "next's bias" },
      ];
      const sizeOf = (key: object) => (opt.state(key) as unknown as { expAvg: Tensor } | undefined)?.expAvg.size ?? null;
      for (const stale of params) {
        // Made stale the way a user can: a remap that does not match the parameter.
        const size = sizeOf(stale.key) as number;
        opt.remapState(stale.key, Int32Array.from({ length: size - 1 }, (_, i) => i));
        const before = layersOf(s);
        const sizes = params.map((p) => sizeOf(p.key));
        const name = stale.name.replace(/[()]/g, '\\$&');
        expectCode(() => growNeurons(s.prev, s.next, 2, { method: 'random', optimizer: opt }), 'E_SHAPE', new RegExp(`optimizer: its state \\(expAvg\\) of ${name} has ${size - 1} entries, the \\w+ ${size}`));
        expect(layersOf(s)).toEqual(before);
        expect(params.map((p) => sizeOf(p.key))).toEqual(sizes);
        opt.disposeState(stale.key); // the fix the message suggests: a fresh state fits any size
      }
      growNeurons(s.prev, s.next, 2, { method: 'random', optimizer: opt });
      expect([s.prev.outFeatures, s.next.inFeatures]).toEqual([6, 6]);
    }
  });

  test('dense layers: a grown weight past int32 indices is refused before prev grows (sizes chosen so nothing large is allocated)', () => {
    // next [46341, 1] grown by 46340 inputs would hold 46341² > 2^31 - 1 entries;
    // prev [1, 1] grown by as many outputs would fit (46341 entries).
    using prev = new Linear(1, 1, { bias: false });
    using next = new Linear(1, 46341, { bias: false });
    const before = memory().bytesInUse;
    expectCode(() => growNeurons(prev, next, 46340, { method: 'zeros' }), 'E_ARG', /k: growing by 46340 units would give next's weight 2147488281 entries, more than int32/);
    expect([prev.outFeatures, prev.weight.shape[0], next.inFeatures, next.weight.shape[1]]).toEqual([1, 1, 1, 1]);
    expect(memory().bytesInUse).toBe(before);
    // The same for prev: [46341, 1] -> 46341 + 46340 rows of 46341 inputs.
    using wide = new Linear(46341, 1, { bias: false });
    using out = new Linear(1, 1, { bias: false });
    expectCode(() => growNeurons(wide, out, 46340, { method: 'zeros' }), 'E_ARG', /would give prev's weight \d+ entries/);
    expect([wide.outFeatures, out.inFeatures]).toEqual([1, 1]);
  });
});

describe('growNeurons grows both layers and the optimizer state, or nothing', () => {
  /** Both layers' sizes, weights, biases, and the optimizer's state sizes. */
  function stateOf(s: { prev: GrowableLayer; next: GrowableLayer }, opt: Adam) {
    const keyOf = (l: GrowableLayer) => (l instanceof Linear ? l.weightKey : l);
    const sizes = [keyOf(s.prev), s.prev.biasKey, keyOf(s.next), s.next.biasKey].map((k) => (opt.state(k) as unknown as { expAvg: Tensor } | undefined)?.expAvg.size ?? null);
    const layers = [s.prev, s.next].map((l) => ({ in: l.inFeatures, out: l.outFeatures, w: Array.from(denseWeight(l)), b: l.bias ? Array.from(l.bias.toArray()) : null }));
    return { layers, sizes };
  }

  test.each([false, true])('a failure while building (out of memory) leaves both layers and the state as they were, and frees what was built (sparse %s)', (sparse) => {
    using s = setup(sparse);
    using opt = new Adam({ lr: 0.01 });
    s.model.forward(s.x);
    s.model.backward(s.g);
    opt.step(s.model.parameters().map((p) => ({ value: p.value, grad: p.grad as Tensor, key: p.key })));
    const oom = () => {
      throw new DynasparseError('E_OOM', 'simulated: out of memory');
    };
    // The last things built: next's grown weight, and then the optimizer state of next's bias.
    const failures: (() => { mockRestore(): void })[] = [() => jest.spyOn(s.next, '_prepareGrowInputs').mockImplementation(oom)];
    const real = opt._prepareRemap.bind(opt);
    failures.push(() => jest.spyOn(opt, '_prepareRemap').mockImplementation((key, map) => (key === s.next.biasKey ? oom() : real(key, map))));
    for (const fail of failures) {
      const before = stateOf(s, opt);
      const allocations = memory().allocations;
      const spy = fail();
      expectCode(() => growNeurons(s.prev, s.next, 2, { method: 'random', optimizer: opt }), 'E_OOM');
      spy.mockRestore();
      expect(stateOf(s, opt)).toEqual(before);
      expect(memory().allocations).toBe(allocations);
    }
    growNeurons(s.prev, s.next, 2, { method: 'random', optimizer: opt });
    expect([s.prev.outFeatures, s.next.inFeatures]).toEqual([6, 6]);
    expect(stateOf(s, opt).sizes).toEqual(sparse ? [(s.prev.weight as CsrMatrix).nnz, 6, (s.next.weight as CsrMatrix).nnz, 5] : [42, 6, 30, 5]);
  });
});
