import { CsrMatrix, DynasparseError, growNeurons, MagnitudePruning, mlp, randn, ReLU, RigL, Sequential, SET, SGD, SNFS, SparseLinear, Static, Tensor, tensor, Trainer, memory } from '../lib';
import { expectCode } from './helpers/devices';

/**
 * Independent references of each updater on dense host arrays: the drop and
 * grow sets are computed by sorting, then compared with what the updaters did.
 */

interface Snapshot {
  rows: number;
  cols: number;
  /** flat position -> value index */
  index: Map<number, number>;
  values: Float32Array;
  momentum: Float32Array;
}

function snapshot(layer: SparseLinear, opt: SGD): Snapshot {
  const w = layer.weight;
  const rowPtr = w.rowPtr();
  const colIdx = w.colIdx();
  const index = new Map<number, number>();
  for (let r = 0; r < w.rows; r++) for (let k = rowPtr[r]; k < rowPtr[r + 1]; k++) index.set(r * w.cols + colIdx[k], k);
  const st = opt.state(layer) as { momentumBuffer: Tensor };
  return { rows: w.rows, cols: w.cols, index, values: w.values.toArray() as Float32Array, momentum: st.momentumBuffer.toArray() as Float32Array };
}

/** The n stored entries of smallest |w| (ties: lower flat index), as flat positions. */
function refDrop(s: Snapshot, n: number): Set<number> {
  const entries = [...s.index.entries()].map(([flat, k]) => ({ flat, score: Math.abs(s.values[k]) }));
  entries.sort((a, b) => a.score - b.score || a.flat - b.flat);
  return new Set(entries.slice(0, n).map((e) => e.flat));
}

/** The k positions not kept with the largest score (ties: lower flat index). */
function refGrow(s: Snapshot, kept: Set<number>, score: (flat: number) => number, k: number): number[] {
  const cands: { flat: number; score: number }[] = [];
  for (let f = 0; f < s.rows * s.cols; f++) if (!kept.has(f)) cands.push({ flat: f, score: score(f) });
  cands.sort((a, b) => b.score - a.score || a.flat - b.flat);
  return cands.slice(0, k).map((c) => c.flat);
}

/** The dense gradient dy·xᵀ summed in float32 in batch order (as the growth kernel does). */
function denseGrad(dy: Float32Array, x: Float32Array, rows: number, cols: number, batch: number): Float32Array {
  const g = new Float32Array(rows * cols);
  for (let i = 0; i < rows; i++)
    for (let j = 0; j < cols; j++) {
      let s = 0;
      for (let b = 0; b < batch; b++) s = Math.fround(s + Math.fround(dy[i * batch + b] * x[j * batch + b]));
      g[i * cols + j] = s;
    }
  return g;
}

/** Checks the layer after an update against the reference kept and grown sets. */
function checkAgainst(before: Snapshot, layer: SparseLinear, opt: SGD, kept: Set<number>, grown: number[]): void {
  const after = snapshot(layer, opt);
  const expected = new Set([...kept, ...grown]);
  // nnz conserved, grown and kept disjoint, pattern = kept ∪ grown
  expect(after.index.size).toBe(before.index.size);
  for (const g of grown) expect(kept.has(g)).toBe(false);
  expect([...after.index.keys()].sort((a, b) => a - b)).toEqual([...expected].sort((a, b) => a - b));
  for (const [flat, k] of after.index) {
    const old = before.index.get(flat);
    if (old === undefined) {
      // newly activated: zero weight, zero optimizer state
      expect(after.values[k]).toBe(0);
      expect(after.momentum[k]).toBe(0);
    } else {
      // kept or regrown: weight and state carried over bit for bit
      expect(after.values[k]).toBe(before.values[old]);
      expect(after.momentum[k]).toBe(before.momentum[old]);
    }
  }
}

function setup(seed: number, rows = 10, cols = 12, batch = 6) {
  const layer = new SparseLinear(cols, rows, { density: 0.3, seed, bias: false });
  const opt = new SGD({ lr: 0.1, momentum: 0.9 });
  const x = randn([cols, batch], { seed: seed + 100 });
  const dy = randn([rows, batch], { seed: seed + 200 });
  const y = layer.forward(x);
  y.dispose();
  layer.backward(dy, false);
  opt.step(layer.parameters().map((p) => ({ value: p.value, grad: p.grad as Tensor, key: p.key })));
  const dispose = () => {
    layer.dispose();
    opt.dispose();
    x.dispose();
    dy.dispose();
  };
  return { layer, opt, x, dy, dispose, batch };
}

describe('RigL', () => {
  test.each([1, 2, 3])('matches the sorting reference (seed %i): drop smallest |w|, grow largest |dy·xᵀ| among the not kept', (seed) => {
    const s = setup(seed);
    try {
      const rigl = new RigL({ layers: [s.layer], optimizer: s.opt, dropFraction: 0.5, schedule: 'constant', updateEvery: 1, endStep: 10, gradientNorms: true });
      const before = snapshot(s.layer, s.opt);
      const nDrop = Math.floor(before.index.size * 0.5);
      const dropped = refDrop(before, nDrop);
      const kept = new Set([...before.index.keys()].filter((f) => !dropped.has(f)));
      const G = denseGrad(s.dy.toArray() as Float32Array, s.x.toArray() as Float32Array, 10, 12, s.batch);
      const grown = refGrow(before, kept, (f) => Math.abs(G[f]), nDrop);
      const report = rigl.update(3);
      checkAgainst(before, s.layer, s.opt, kept, grown);
      const regrown = grown.filter((f) => before.index.has(f)).length;
      expect(report.layers[0]).toMatchObject({ layer: 0, dropped: nDrop, grown: nDrop, regrown, nnz: before.index.size, dropFraction: 0.5 });
      // masked gradient norms: over the old and the new stored positions
      const norm = (set: Iterable<number>) => Math.sqrt([...set].reduce((a, f) => a + G[f] * G[f], 0));
      expect(report.layers[0].gradNormBefore).toBeCloseTo(norm(before.index.keys()), 4);
      expect(report.layers[0].gradNormAfter).toBeCloseTo(norm([...kept, ...grown]), 4);
      expect(report.layers[0].gradNormAfter as number).toBeGreaterThanOrEqual((report.layers[0].gradNormBefore as number) * 0.999 - norm(dropped));
    } finally {
      s.dispose();
    }
  });

  test('a dropped position with a large gradient is regrown and keeps its weight and momentum', () => {
    // 2 x 3, stored (0,0)=0.01 (smallest), (0,1)=1, (1,2)=2; the gradient is largest at (0,0).
    const layer = new SparseLinear(3, 2, { density: 0.5, bias: false });
    layer.setWeight(CsrMatrix.fromArrays({ rows: 2, cols: 3, rowPtr: [0, 2, 3], colIdx: [0, 1, 2], values: [0.01, 1, 2] }));
    using opt = new SGD({ lr: 1e-3, momentum: 0.9 });
    using x = tensor([[10], [0.1], [0.2]]);
    using dy = tensor([[10], [0.1]]);
    layer.forward(x).dispose();
    layer.backward(dy, false);
    opt.step(layer.parameters().map((p) => ({ value: p.value, grad: p.grad as Tensor, key: p.key })));
    const before = snapshot(layer, opt);
    const rigl = new RigL({ layers: [layer], optimizer: opt, dropFraction: 0.34, schedule: 'constant', updateEvery: 1, endStep: 5 });
    const report = rigl.update(0);
    expect(report.layers[0]).toMatchObject({ dropped: 1, grown: 1, regrown: 1, nnz: 3 });
    checkAgainst(before, layer, opt, new Set([1, 5]), [0]);
    layer.dispose();
  });

  test('the drop fraction follows the cosine schedule and updates happen every updateEvery steps in [beginStep, endStep]', () => {
    const s = setup(4);
    try {
      const rigl = new RigL({ layers: [s.layer], optimizer: s.opt, dropFraction: 0.3, updateEvery: 100, beginStep: 200, endStep: 1200 });
      for (const step of [0, 200, 700, 1200, 5000]) {
        const t = Math.min(step, 1000); // the reference's raw step, clamped at endStep - beginStep
        expect(rigl.dropFraction(step)).toBeCloseTo((0.3 * (1 + Math.cos((Math.PI * t) / 1000))) / 2, 12);
      }
      expect([100, 200, 250, 300, 1200, 1300].map((st) => rigl.isUpdateStep(st))).toEqual([false, true, false, true, true, false]);
      const nnz = s.layer.weight.nnz;
      const report = rigl.update(250); // not an update step: nothing changes
      expect(report.layers[0]).toMatchObject({ dropped: 0, grown: 0, nnz });
    } finally {
      s.dispose();
    }
  });

  test('rejects bad options and missing captures', () => {
    const s = setup(5);
    try {
      expectCode(() => new RigL({ layers: [s.layer], optimizer: s.opt, endStep: 10, dropFraction: 1.5 }), 'E_ARG');
      expectCode(() => new RigL({ layers: [s.layer], optimizer: {} as SGD, endStep: 10 }), 'E_ARG');
      expectCode(() => new RigL({ layers: [s.layer], optimizer: s.opt, endStep: 10, bogus: 1 } as never), 'E_ARG');
      using fresh = new SparseLinear(4, 4, { density: 0.5 });
      const rigl = new RigL({ layers: [fresh], optimizer: s.opt, endStep: 10, updateEvery: 1 });
      expectCode(() => rigl.update(0), 'E_ARG', /captured gradient/);
    } finally {
      s.dispose();
    }
  });
});

describe('SET', () => {
  test('drops the smallest, grows distinct random positions among the not kept, reproducibly', () => {
    const patterns: string[] = [];
    for (const seed of [7, 7, 8]) {
      const s = setup(6);
      try {
        const set = new SET({ layers: [s.layer], optimizer: s.opt, dropFraction: 0.4, schedule: 'constant', updateEvery: 1, endStep: 10, seed });
        const before = snapshot(s.layer, s.opt);
        const nDrop = Math.floor(before.index.size * 0.4);
        const dropped = refDrop(before, nDrop);
        const kept = new Set([...before.index.keys()].filter((f) => !dropped.has(f)));
        const report = set.update(2);
        const after = snapshot(s.layer, s.opt);
        const grown = [...after.index.keys()].filter((f) => !kept.has(f));
        expect(grown.length).toBe(nDrop);
        expect(report.layers[0]).toMatchObject({ dropped: nDrop, grown: nDrop, nnz: before.index.size });
        checkAgainst(before, s.layer, s.opt, kept, grown);
        patterns.push(grown.join(','));
      } finally {
        s.dispose();
      }
    }
    expect(patterns[0]).toBe(patterns[1]);
    expect(patterns[0]).not.toBe(patterns[2]);
  });
});

describe('SNFS', () => {
  test('accumulates the momentum of the dense gradient and grows by its magnitude', () => {
    const s = setup(9);
    try {
      const snfs = new SNFS({ layers: [s.layer], optimizer: s.opt, dropFraction: 0.5, schedule: 'constant', updateEvery: 2, endStep: 10, momentum: 0.8 });
      const G = denseGrad(s.dy.toArray() as Float32Array, s.x.toArray() as Float32Array, 10, 12, s.batch);
      snfs.observe(0);
      snfs.observe(1);
      const M = snfs.momentumOf(0)!.toArray();
      // M = 0.8 (0.2 G) + 0.2 G after two observations of the same gradient
      for (let f = 0; f < 120; f++) expect(M[f]).toBeCloseTo(0.8 * 0.2 * G[f] + 0.2 * G[f], 4);
      const before = snapshot(s.layer, s.opt);
      const nDrop = Math.floor(before.index.size * 0.5);
      const dropped = refDrop(before, nDrop);
      const kept = new Set([...before.index.keys()].filter((f) => !dropped.has(f)));
      const grown = refGrow(before, kept, (f) => Math.abs(M[f]), nDrop);
      const report = snfs.update(2);
      expect(report.layers[0]).toMatchObject({ dropped: nDrop, grown: nDrop });
      checkAgainst(before, s.layer, s.opt, kept, grown);
      snfs.dispose();
    } finally {
      s.dispose();
    }
  });
});

describe('MagnitudePruning and Static', () => {
  test('prunes from dense to the cubic schedule, keeping the largest |w| and their state', () => {
    using layer = new SparseLinear(8, 6, { density: 1, seed: 3, bias: false });
    using opt = new SGD({ lr: 0.1, momentum: 0.9 });
    using x = randn([8, 4], { seed: 1 });
    using dy = randn([6, 4], { seed: 2 });
    layer.forward(x).dispose();
    layer.backward(dy, false);
    opt.step(layer.parameters().map((p) => ({ value: p.value, grad: p.grad as Tensor, key: p.key })));
    const pruning = new MagnitudePruning({ layers: [layer], optimizer: opt, finalSparsity: 0.75, beginStep: 0, endStep: 10, updateEvery: 5 });
    expect(pruning.targetSparsity(5)).toBeCloseTo(0.75 - 0.75 * 0.125, 12);
    const before = snapshot(layer, opt);
    const keep = Math.round(48 * (1 - pruning.targetSparsity(5)));
    const dropped = refDrop(before, 48 - keep);
    const kept = new Set([...before.index.keys()].filter((f) => !dropped.has(f)));
    const report = pruning.update(5);
    expect(report.layers[0]).toMatchObject({ dropped: 48 - keep, grown: 0, nnz: keep });
    const after = snapshot(layer, opt);
    expect([...after.index.keys()].sort((a, b) => a - b)).toEqual([...kept].sort((a, b) => a - b));
    for (const [flat, k] of after.index) {
      expect(after.values[k]).toBe(before.values[before.index.get(flat) as number]);
      expect(after.momentum[k]).toBe(before.momentum[before.index.get(flat) as number]);
    }
    expect(pruning.update(10).layers[0].nnz).toBe(12);
    expect(pruning.isUpdateStep(7)).toBe(false);
  });

  test('one final sparsity per layer: each layer follows the schedule to its own target (an ERK split, say)', () => {
    using a = new SparseLinear(8, 6, { density: 1, seed: 3, bias: false });
    using b = new SparseLinear(6, 4, { density: 1, seed: 4, bias: false });
    using opt = new SGD({ lr: 0.1 });
    const pruning = new MagnitudePruning({ layers: [a, b], optimizer: opt, finalSparsity: [0.75, 0], beginStep: 0, endStep: 10, updateEvery: 5 });
    expect(pruning.targetSparsity(5, 0)).toBeCloseTo(0.75 - 0.75 * 0.125, 12);
    expect(pruning.targetSparsity(5, 1)).toBe(0);
    const mid = pruning.update(5);
    expect(mid.layers.map((l) => l.nnz)).toEqual([Math.round(48 * (1 - pruning.targetSparsity(5, 0))), 24]);
    expect(pruning.update(10).layers.map((l) => l.nnz)).toEqual([12, 24]); // b is kept dense throughout
    expectCode(() => pruning.targetSparsity(5, 2), 'E_ARG', /layer/);
    expectCode(() => new MagnitudePruning({ layers: [a, b], optimizer: opt, finalSparsity: [0.5], beginStep: 0, endStep: 10 }), 'E_ARG', /one sparsity per layer \(2\), got 1/);
    expectCode(() => new MagnitudePruning({ layers: [a, b], optimizer: opt, finalSparsity: [0.5, 1], beginStep: 0, endStep: 10 }), 'E_ARG', /finalSparsity\[1\]: expected a number in \[0, 1\)/);
    expectCode(() => new MagnitudePruning({ layers: [a, b], optimizer: opt, finalSparsity: [0.5, NaN], beginStep: 0, endStep: 10 }), 'E_ARG', /finalSparsity\[1\]/);
  });

  test('Static never changes anything', () => {
    const s = setup(10);
    try {
      const st = new Static({ layers: [s.layer], optimizer: s.opt });
      expect(st.isUpdateStep(0)).toBe(false);
      const before = s.layer.weight;
      expect(st.update(0).layers[0]).toMatchObject({ dropped: 0, grown: 0, nnz: before.nnz });
      expect(s.layer.weight).toBe(before);
    } finally {
      s.dispose();
    }
  });
});

describe('updaters inside the Trainer', () => {
  test('the step result carries the update report at update steps only, and nnz never changes', () => {
    using model = mlp([16, 24, 5], { sparsity: 0.7, distribution: 'uniform', seed: 2 });
    using opt = new SGD({ lr: 0.05, momentum: 0.9 });
    using rigl = new RigL({ layers: model, optimizer: opt, dropFraction: 0.3, updateEvery: 4, beginStep: 2, endStep: 12 });
    using trainer = new Trainer({ model, optimizer: opt, updater: rigl });
    using x = randn([16, 8], { seed: 3 });
    const labels = Int32Array.from({ length: 8 }, (_, i) => i % 5);
    const nnz = model.sparseLayers().map((l) => l.weight.nnz);
    const updated: number[] = [];
    for (let i = 0; i < 15; i++) {
      const r = trainer.step(x, labels);
      expect(r.step).toBe(i);
      if (r.update) {
        updated.push(i);
        expect(r.update.layers.map((l) => l.nnz)).toEqual(nnz);
        expect(r.update.layers.every((l) => l.grown === l.dropped && l.dropFraction === rigl.dropFraction(i))).toBe(true);
      }
    }
    expect(updated).toEqual([2, 6, 10]);
    expect(model.sparseLayers().map((l) => l.weight.nnz)).toEqual(nnz);
  });
});

describe('constructor and accessor arguments (found by the fuzz test)', () => {
  it('missing options are E_ARG, not a TypeError', () => {
    for (const bad of [undefined, null, 'x', 5]) {
      expectCode(() => new Static(bad as never), 'E_ARG');
      expectCode(() => new RigL(bad as never), 'E_ARG');
      expectCode(() => new MagnitudePruning(bad as never), 'E_ARG');
    }
  });

  it('SNFS.momentumOf checks the layer index', () => {
    const model = mlp([4, 6, 3], { sparsity: 0.5, seed: 1 });
    const u = new SNFS({ layers: model, optimizer: new SGD({ lr: 0.1 }), endStep: 10 });
    expect(u.momentumOf(0)).toBeNull();
    for (const bad of [-1, 2, 0.5, 'x', NaN]) expectCode(() => u.momentumOf(bad as number), 'E_ARG', /i: expected an integer/);
    u.dispose();
    model.dispose();
  });
});

describe('SNFS after growNeurons', () => {
  test("the momentum grows with the layers (new rows and columns zero) and training steps keep working", () => {
    const fc1 = new SparseLinear(4, 6, { density: 0.5, seed: 1 });
    const fc2 = new SparseLinear(6, 3, { density: 0.5, seed: 2 });
    using model = new Sequential([fc1, new ReLU({ gradAtZero: 1 }), fc2]);
    using opt = new SGD({ lr: 0.1, momentum: 0.9 });
    using snfs = new SNFS({ layers: model, optimizer: opt, updateEvery: 2, endStep: 100, momentum: 0.8 });
    using trainer = new Trainer({ model, optimizer: opt, updater: snfs });
    using x = randn([4, 8], { seed: 5 });
    const labels = Int32Array.from({ length: 8 }, (_, i) => i % 3);
    trainer.step(x, labels);
    trainer.step(x, labels);
    const m1 = snfs.momentumOf(0)!.toArray() as Float32Array; // [6, 4]
    const m2 = snfs.momentumOf(1)!.toArray() as Float32Array; // [3, 6]
    growNeurons(fc1, fc2, 2, { method: 'random', optimizer: opt });
    // fc1 gained two output rows (appended), fc2 two input columns (appended to each row).
    const g1 = snfs.momentumOf(0)!;
    const g2 = snfs.momentumOf(1)!;
    expect([g1.shape, g2.shape]).toEqual([[8, 4], [3, 8]]);
    expect(Array.from(g1.toArray())).toEqual([...Array.from(m1), ...new Array(8).fill(0)]);
    const padded2 = Array.from({ length: 3 }, (_, r) => [...Array.from(m2.subarray(r * 6, r * 6 + 6)), 0, 0]).flat();
    expect(Array.from(g2.toArray())).toEqual(padded2);
    // The next step observes into the grown momentum: M = 0.8 M_padded + 0.2 dy·xᵀ.
    const steps = opt.stepCount;
    trainer.step(x, labels);
    const dy = fc1.lastOutputGrad!.toArray() as Float32Array;
    const xin = fc1.lastInput!.toArray() as Float32Array;
    const G = denseGrad(dy, xin, 8, 4, 8);
    const M = snfs.momentumOf(0)!.toArray();
    const old = [...Array.from(m1), ...new Array(8).fill(0)];
    for (let f = 0; f < 32; f++) expect(M[f]).toBeCloseTo(0.8 * old[f] + 0.2 * G[f], 5);
    for (let i = 0; i < 3; i++) trainer.step(x, labels); // steps 3..5, with SNFS updates at 4
    expect([trainer.stepNumber, opt.stepCount]).toEqual([6, steps + 4]);
    expect([fc1.outFeatures, fc2.inFeatures]).toEqual([8, 8]);
  });

  test('observe checks every layer before changing any momentum', () => {
    using a = new SparseLinear(5, 4, { density: 0.5, seed: 1 });
    using b = new SparseLinear(4, 3, { density: 0.5, seed: 2 });
    using opt = new SGD({ lr: 0.1 });
    using snfs = new SNFS({ layers: [a, b], optimizer: opt, endStep: 10 });
    using x = randn([5, 2], { seed: 3 });
    using dy = randn([4, 2], { seed: 4 });
    a.forward(x).dispose();
    a.backward(dy, false); // b never ran: it has no captured gradient
    expectCode(() => snfs.observe(0), 'E_ARG', /SNFS.observe: layer 1 has no captured gradient/);
    expect(snfs.momentumOf(0)).toBeNull();
  });
});

describe('the Trainer and its updater', () => {
  test('an updater built with another optimizer, over layers outside the model, or not an updater is E_ARG', () => {
    using model = mlp([5, 8, 3], { sparsity: 0.5, seed: 1 });
    using other = mlp([5, 8, 3], { sparsity: 0.5, seed: 1 });
    using opt = new SGD({ lr: 0.1, momentum: 0.9 });
    using opt2 = new SGD({ lr: 0.1, momentum: 0.9 });
    using foreignOpt = new RigL({ layers: model, optimizer: opt2, endStep: 10 });
    expectCode(() => new Trainer({ model, optimizer: opt, updater: foreignOpt }), 'E_ARG', /updater: expected an updater built with the trainer's optimizer, got a 'rigl' updater/);
    using foreignLayers = new SNFS({ layers: other, optimizer: opt, endStep: 10 });
    expectCode(() => new Trainer({ model, optimizer: opt, updater: foreignLayers }), 'E_ARG', /updater: its layers\[0\] \(SparseLinear\(5 -> 8.*is not a layer of the trainer's model/);
    for (const bad of [{}, 3, null, opt]) expectCode(() => new Trainer({ model, optimizer: opt, updater: bad as never }), 'E_ARG', /updater: expected an updater/);
    // A subset of the model's sparse layers is fine.
    using some = new RigL({ layers: [model.sparseLayers()[1]], optimizer: opt, endStep: 10 });
    expect(new Trainer({ model, optimizer: opt, updater: some }).updater).toBe(some);
  });

  test("a failing observe stops the step before the optimizer changes any parameter", () => {
    using model = mlp([5, 8, 3], { sparsity: 0.5, seed: 1 });
    using opt = new SGD({ lr: 0.1, momentum: 0.9 });
    using snfs = new SNFS({ layers: model, optimizer: opt, updateEvery: 2, endStep: 10 });
    using trainer = new Trainer({ model, optimizer: opt, updater: snfs });
    using x = randn([5, 4], { seed: 2 });
    const labels = new Int32Array([0, 1, 2, 0]);
    trainer.step(x, labels);
    const values = () => model.parameters().map((p) => Array.from(p.value.toArray()));
    const before = values();
    const observe = jest.spyOn(snfs, 'observe').mockImplementationOnce(() => {
      throw new DynasparseError('E_SHAPE', 'observe refused');
    });
    expectCode(() => trainer.step(x, labels), 'E_SHAPE', /observe refused/);
    expect(values()).toEqual(before);
    expect([trainer.stepNumber, opt.stepCount]).toEqual([1, 1]);
    observe.mockRestore();
    trainer.step(x, labels);
    expect([trainer.stepNumber, opt.stepCount]).toEqual([2, 2]);
  });
});

describe('an update changes every layer or none', () => {
  function setup() {
    const a = new SparseLinear(4, 6, { density: 0.5, seed: 1 });
    const b = new SparseLinear(6, 3, { density: 0.5, seed: 2 });
    const opt = new SGD({ lr: 0.1, momentum: 0.9 });
    const rigl = new RigL({ layers: [a, b], optimizer: opt, updateEvery: 1, endStep: 10, dropFraction: 0.5 });
    const x = randn([4, 5], { seed: 3 });
    const h = a.forward(x);
    const y = b.forward(h);
    const dy = randn([3, 5], { seed: 4 });
    const dh = b.backward(dy) as Tensor;
    a.backward(dh, false);
    opt.step([...a.parameters(), ...b.parameters()].map((p) => ({ value: p.value, grad: p.grad as Tensor, key: p.key })));
    const snapshot = () => [a, b].map((l) => ({ weight: l.weight, cols: Array.from(l.weight.colIdx()), momentum: Array.from((opt.state(l) as { momentumBuffer: Tensor }).momentumBuffer.toArray()) }));
    const dispose = () => [a, b, opt, x, h, y, dy, dh].forEach((t) => t.dispose());
    return { a, b, opt, rigl, snapshot, dispose };
  }

  test('a layer without a captured gradient refuses the update before any layer changes', () => {
    const { a, b, rigl, snapshot, dispose } = setup();
    b.forward(randn([6, 5], { seed: 5 })).dispose(); // a new forward drops b's captured dy
    const before = snapshot();
    expectCode(() => rigl.update(0), 'E_ARG', /layer 1/);
    expect(snapshot()).toEqual(before);
    expect(a.weight.disposed || b.weight.disposed).toBe(false);
    dispose();
  });

  test('a failure while building the second layer\'s change frees what was built and leaves both layers as they were', () => {
    const { a, b, opt, rigl, snapshot, dispose } = setup();
    const before = snapshot();
    const allocations = memory('cpu').allocations;
    const real = opt._prepareRemap.bind(opt);
    const spy = jest.spyOn(opt, '_prepareRemap').mockImplementation((key, map) => {
      if (key === b) throw new DynasparseError('E_OOM', 'simulated: out of memory');
      return real(key, map);
    });
    expectCode(() => rigl.update(0), 'E_OOM');
    spy.mockRestore();
    expect(snapshot()).toEqual(before);
    expect(memory('cpu').allocations).toBe(allocations);
    const report = rigl.update(0);
    expect(report.layers.map((l) => l.dropped)).toEqual([Math.floor(a.weight.nnz * 0.5), Math.floor(b.weight.nnz * 0.5)]);
    expect(a.weight).not.toBe(before[0].weight);
    dispose();
  });
});

test('MagnitudePruning reaches finalSparsity at endStep also when the span is not a whole number of periods', () => {
  using layer = new SparseLinear(20, 10, { density: 1, seed: 3, bias: false });
  using opt = new SGD({ lr: 0.1 });
  const pruning = new MagnitudePruning({ layers: [layer], optimizer: opt, finalSparsity: 0.9, beginStep: 0, endStep: 1000, updateEvery: 600 });
  const steps = Array.from({ length: 1201 }, (_, s) => s).filter((s) => pruning.isUpdateStep(s));
  expect(steps).toEqual([0, 600, 1000]);
  for (const s of steps) pruning.update(s);
  expect(layer.weight.nnz).toBe(20);
  expect(pruning.isUpdateStep(1200)).toBe(false);
});

describe('updater lifecycle and schedules that would do nothing', () => {
  test('a disposed updater refuses update, observe, momentumOf and checkpointing with E_DISPOSED', () => {
    using layer = new SparseLinear(4, 3, { density: 0.5, seed: 1 });
    using opt = new SGD({ lr: 0.1 });
    for (const u of [new SNFS({ layers: [layer], optimizer: opt, endStep: 10 }), new RigL({ layers: [layer], optimizer: opt, endStep: 10 }), new Static({ layers: [layer], optimizer: opt }), new MagnitudePruning({ layers: [layer], optimizer: opt, finalSparsity: 0.5, beginStep: 0, endStep: 10 })]) {
      expect(u.disposed).toBe(false);
      u.dispose();
      expect(u.disposed).toBe(true);
      expectCode(() => u.update(0), 'E_DISPOSED', /the updater has been disposed/);
      expectCode(() => u.observe(0), 'E_DISPOSED');
      expectCode(() => u._saveState(), 'E_DISPOSED');
      if (u instanceof SNFS) expectCode(() => u.momentumOf(0), 'E_DISPOSED');
      u.dispose(); // again: nothing
    }
  });

  test('a cosine schedule whose beginStep is past its annealing span is E_ARG (every update would drop nothing)', () => {
    using layer = new SparseLinear(4, 3, { density: 0.5, seed: 1 });
    using opt = new SGD({ lr: 0.1 });
    expectCode(() => new RigL({ layers: [layer], optimizer: opt, beginStep: 600, endStep: 1000 }), 'E_ARG', /reaches 0 at step endStep - beginStep = 400.*beginStep 600/);
    new RigL({ layers: [layer], optimizer: opt, beginStep: 600, endStep: 1000, schedule: 'constant' }).dispose();
    new RigL({ layers: [layer], optimizer: opt, beginStep: 100, endStep: 1000 }).dispose();
    new RigL({ layers: [layer], optimizer: opt, beginStep: 600, endStep: 1000, dropFraction: 0 }).dispose();
  });
});
