import { memory, mlp, randn, resetPeakMemory, RigL, SGD, SparseLinear, Tensor, Trainer } from '../lib';
import { collectUntil } from './helpers/gc';

/** Lets finalizers of garbage from earlier test files in this worker run, so the baseline is stable. */
async function settle(): Promise<void> {
  let last = -1;
  await collectUntil(() => {
    const now = memory('cpu').allocations;
    const stable = now === last;
    last = now;
    return stable;
  });
}

describe('memory of training', () => {
  test('training steps and topology updates release everything they allocate', async () => {
    using model = mlp([32, 64, 10], { sparsity: 0.8, distribution: 'uniform', seed: 3 });
    using opt = new SGD({ lr: 0.05, momentum: 0.9 });
    using rigl = new RigL({ layers: model, optimizer: opt, dropFraction: 0.3, updateEvery: 2, endStep: 100 });
    using trainer = new Trainer({ model, optimizer: opt, updater: rigl });
    using x = randn([32, 16], { seed: 1 });
    const labels = Int32Array.from({ length: 16 }, (_, i) => i % 10);
    for (let i = 0; i < 4; i++) trainer.step(x, labels);
    await settle();
    const settled = memory('cpu');
    for (let i = 0; i < 6; i++) trainer.step(x, labels); // three of them update topologies
    const after = memory('cpu');
    expect(after.allocations).toBe(settled.allocations);
    expect(after.bytesInUse).toBe(settled.bytesInUse);
  });

  test('a RigL update never allocates a dense out x in buffer', async () => {
    const [out, inp, batch] = [2000, 2000, 8];
    using layer = new SparseLinear(inp, out, { density: 0.01, seed: 2, bias: false });
    using opt = new SGD({ lr: 0.1, momentum: 0.9 });
    using x = randn([inp, batch], { seed: 3 });
    using dy = randn([out, batch], { seed: 4 });
    layer.forward(x).dispose();
    layer.backward(dy, false);
    opt.step(layer.parameters().map((p) => ({ value: p.value, grad: p.grad as Tensor, key: p.key })));
    using rigl = new RigL({ layers: [layer], optimizer: opt, dropFraction: 0.3, updateEvery: 1, endStep: 10 });
    await settle();
    const base = memory('cpu').bytesInUse;
    resetPeakMemory('cpu');
    const report = rigl.update(0);
    expect(report.layers[0].grown).toBe(Math.floor(0.3 * 40000));
    const extra = memory('cpu').peakBytes - base;
    expect(extra).toBeLessThan((out * inp * 4) / 4); // a dense gradient would take out * in * 4 bytes
  });
});
