import type { Device } from '../lib';
import { backends, CsrMatrix, gatherByMap, MagnitudePruning, mlp, randn, randomGrowth, rebuildTopology, RigL, SET, SGD, SparseLinear, Tensor, tensor, Trainer } from '../lib';
import { devices, expectCode } from './helpers/devices';

// Every spec runs on each device in `devices` (CUDA where available): the
// results and the error messages are the same on both backends.
describe.each(devices)('rebuildTopology, gatherByMap, randomGrowth on %s', (device) => {
  test('keeps, regrows and activates entries with a source map', () => {
    // 3 x 5: row 0 {0, 2, 4}, row 1 {1}, row 2 {}
    using m = CsrMatrix.fromArrays({ rows: 3, cols: 5, rowPtr: [0, 3, 4, 4], colIdx: [0, 2, 4, 1], values: [1, 2, 3, 4] }, { device });
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
    using m = CsrMatrix.random(30, 40, { density: 0.2, seed: 5, device });
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
    using m = CsrMatrix.fromArrays({ rows: 2, cols: 4, rowPtr: [0, 2, 3], colIdx: [1, 3, 0], values: [1, 2, 3] }, { device });
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
    using src = tensor([1.5, -2, 3], undefined, { device });
    using map = tensor(new Int32Array([2, -1, 0]), undefined, { device });
    using out = gatherByMap(src, map);
    expect(Array.from(out.toArray())).toEqual([3, 0, 1.5]);
    using bad = tensor(new Int32Array([3]), undefined, { device });
    expectCode(() => gatherByMap(src, bad), 'E_ARG', /map\[0\]/);
  });

  test('randomGrowth draws distinct free positions in flat order, reproducibly per (seed, nonce)', () => {
    using m = CsrMatrix.random(20, 30, { density: 0.5, seed: 2, device });
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

// CUDA against the CPU on the same inputs (the devices draw the same random
// patterns and values): the rebuild, the growth and whole updater steps give
// the same patterns, values and optimizer state. Skipped where CUDA is absent.
const cuda = devices.includes('cuda');
(cuda ? describe : describe.skip)('topology updates on cuda equal the cpu', () => {
  test('rebuildTopology with lists in random order and regrown positions', () => {
    const parts = (d: Device) => {
      using m = CsrMatrix.random(50, 70, { density: 0.3, seed: 11, device: d });
      const rowPtr = m.rowPtr();
      const colIdx = m.colIdx();
      const drop = Int32Array.from({ length: m.nnz }, (_, k) => (k * 7919) % m.nnz).filter((k) => k % 4 === 1);
      const dropped = new Set(drop);
      const stored = new Map<number, number>();
      for (let r = 0; r < 50; r++) for (let k = rowPtr[r]; k < rowPtr[r + 1]; k++) stored.set(r * 70 + colIdx[k], k);
      const grow: number[] = [];
      for (let f = 0; f < 50 * 70; f += 5) {
        const k = stored.get(f);
        if (k === undefined || dropped.has(k)) grow.push((f * 31) % 3500); // scrambled order, then filtered below
      }
      const unique = [...new Set(grow)].filter((f) => !stored.has(f) || dropped.has(stored.get(f) as number));
      const change = rebuildTopology(m, drop, Int32Array.from(unique, (f) => Math.floor(f / 70)), Int32Array.from(unique, (f) => f % 70));
      using next = change.matrix;
      using map = change.map;
      return { rowPtr: next.rowPtr(), colIdx: next.colIdx(), values: next.values.toArray(), map: map.toArray(), regrown: change.regrown };
    };
    expect(parts('cuda')).toEqual(parts('cpu'));
  });

  test('randomGrowth draws the same positions', () => {
    const draw = (d: Device) => {
      using m = CsrMatrix.random(40, 33, { density: 0.4, seed: 3, device: d });
      return [randomGrowth(m, 0, 1, 2), randomGrowth(m, 17, 1, 2), randomGrowth(m, 40 * 33 - m.nnz, 9, 2 ** 40)];
    };
    expect(draw('cuda')).toEqual(draw('cpu'));
  });

  test('gatherByMap on cuda names the first bad index and leaves nothing behind', () => {
    using src = tensor([1, 2, 3], undefined, { device: 'cuda' });
    using bad = tensor(new Int32Array([0, -1, 5, -2]), undefined, { device: 'cuda' });
    expectCode(() => gatherByMap(src, bad), 'E_ARG', /map\[2\]: expected -1 or an index in \[0, 3\), got 5/);
  });

  test.each(['rigl', 'set', 'pruning'] as const)('one %s update: the same pattern, weights and momentum', (kind) => {
    const run = (d: Device) => {
      using layer = new SparseLinear(24, 16, { density: kind === 'pruning' ? 1 : 0.3, seed: 5, bias: false, device: d });
      using opt = new SGD({ lr: 0.1, momentum: 0.9 });
      using x = randn([24, 6], { seed: 1, device: d });
      using dy = randn([16, 6], { seed: 2, device: d });
      layer.forward(x).dispose();
      layer.backward(dy, false);
      opt.step(layer.parameters().map((p) => ({ value: p.value, grad: p.grad as Tensor, key: p.key })));
      const common = { layers: [layer], optimizer: opt };
      const updater =
        kind === 'rigl'
          ? new RigL({ ...common, dropFraction: 0.4, schedule: 'constant', updateEvery: 1, endStep: 5 })
          : kind === 'set'
            ? new SET({ ...common, dropFraction: 0.4, schedule: 'constant', updateEvery: 1, endStep: 5, seed: 4 })
            : new MagnitudePruning({ ...common, finalSparsity: 0.8, beginStep: 0, endStep: 4, updateEvery: 2 });
      const report = updater.update(2);
      const w = layer.weight;
      const momentum = (opt.state(layer) as { momentumBuffer: Tensor }).momentumBuffer.toArray();
      return { report, rowPtr: w.rowPtr(), colIdx: w.colIdx(), values: w.values.toArray(), momentum };
    };
    const onCuda = run('cuda');
    expect(onCuda.report.layers[0].dropped).toBeGreaterThan(0);
    expect(onCuda).toEqual(run('cpu'));
  });

  // Whole training runs: forward, loss, backward, SGD with momentum and topology
  // updates, twelve steps. On the emulated device (CI) every kernel on this path
  // gives the CPU's bits (the loss too: the emulation's expf and log are the
  // host's), so the two runs must end with the same model bit for bit. On a GPU,
  // CUDA's expf moves the loss gradient by a few ulps, so only the first loss and
  // the layers' nnz are compared there.
  const emulated = cuda && /emulation/i.test(backends()[1].deviceName ?? '');
  test.each(['rigl', 'set', 'pruning'] as const)('%s: twelve training steps with updates give the CPU\'s model on cuda', (kind) => {
    const run = (d: Device) => {
      using model = mlp([20, 32, 16, 6], kind === 'pruning' ? { sparseLayers: true, seed: 7, device: d } : { sparsity: 0.7, distribution: 'erk', seed: 7, device: d });
      using opt = new SGD({ lr: 0.05, momentum: 0.9 });
      const common = { layers: model, optimizer: opt };
      using updater =
        kind === 'rigl'
          ? new RigL({ ...common, dropFraction: 0.3, updateEvery: 3, endStep: 12, seed: 5 })
          : kind === 'set'
            ? new SET({ ...common, dropFraction: 0.3, updateEvery: 3, endStep: 12, seed: 5 })
            : new MagnitudePruning({ ...common, finalSparsity: 0.8, beginStep: 0, endStep: 9, updateEvery: 3 });
      using trainer = new Trainer({ model, optimizer: opt, updater });
      using x = randn([20, 10], { seed: 3, device: d });
      const labels = Int32Array.from({ length: 10 }, (_, i) => (i * 7) % 6);
      const losses: number[] = [];
      let updates = 0;  // update steps that changed a pattern
      for (let i = 0; i < 12; i++) {
        const r = trainer.step(x, labels);
        losses.push(r.loss);
        if (r.update?.layers.some((l) => l.dropped > 0)) updates++;
      }
      const layers = model.sparseLayers().map((l) => ({
        rowPtr: Array.from(l.weight.rowPtr()),
        colIdx: Array.from(l.weight.colIdx()),
        values: Array.from(l.weight.values.toArray()),
        momentum: Array.from((opt.state(l) as { momentumBuffer: Tensor }).momentumBuffer.toArray()),
      }));
      return { losses, updates, layers };
    };
    const onCpu = run('cpu'), onCuda = run('cuda');
    expect(onCpu.updates).toBeGreaterThanOrEqual(2);
    if (emulated) expect(onCuda).toEqual(onCpu);
    else {
      expect(Math.abs(onCuda.losses[0] - onCpu.losses[0])).toBeLessThanOrEqual(1e-5 * Math.abs(onCpu.losses[0]));
      expect(onCuda.layers.map((l) => l.colIdx.length)).toEqual(onCpu.layers.map((l) => l.colIdx.length));
    }
  });

  test('a Trainer with RigL runs its updates on cuda and keeps nnz', () => {
    using model = mlp([16, 24, 5], { sparsity: 0.7, distribution: 'uniform', seed: 2, device: 'cuda' });
    using opt = new SGD({ lr: 0.05, momentum: 0.9 });
    using rigl = new RigL({ layers: model, optimizer: opt, dropFraction: 0.3, updateEvery: 2, endStep: 8 });
    using trainer = new Trainer({ model, optimizer: opt, updater: rigl });
    using x = randn([16, 8], { seed: 3, device: 'cuda' });
    const labels = Int32Array.from({ length: 8 }, (_, i) => i % 5);
    const nnz = model.sparseLayers().map((l) => l.weight.nnz);
    let updates = 0;
    for (let i = 0; i < 9; i++) {
      const r = trainer.step(x, labels);
      if (r.update) {
        updates++;
        expect(r.update.layers.map((l) => l.nnz)).toEqual(nnz);
      }
    }
    expect(updates).toBe(5);
    expect(model.sparseLayers().every((l) => l.weight.device === 'cuda')).toBe(true);
  });
});
