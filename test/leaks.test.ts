/**
 * Leaks and exhaustion, at CI sizes (scripts/soak.js runs the full
 * sizes on demand; see docs/hardening.md):
 * - 100k create/use/dispose cycles of small tensors, 12k of small CSR matrices
 *   (with a sparse product each), and 1,000 training steps with RigL updates
 *   every 50: memory().bytesInUse returns exactly to its baseline and the
 *   process's resident memory stays within a stated slack after GC;
 * - an allocation beyond available memory gives E_OOM, nothing is counted as
 *   allocated, and the library keeps working.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';

import { CsrMatrix, DynasparseError, memory, mlp, randn, relu, RigL, SGD, spmm, tensor, Trainer, zeros } from '../lib';
import { collectUntil, settle } from './helpers/gc';

/**
 * Resident memory may grow this much over a measured run, after a warm-up run of
 * the same loop has grown the V8 heap and the allocator's caches to their
 * working size (V8 keeps heap pages it has grown into, so the first run's
 * growth is not a leak; a leak grows with every run).
 */
const RSS_SLACK = 32 * 1024 * 1024;

/**
 * The loops yield now and then, as programs do: a disposed handle's buffer is
 * freed at once, but its small JS wrapper is finalized only on a later turn of
 * the event loop (Node-API finalizers are deferred), so a long synchronous loop
 * piles up wrappers and grows RSS to a high-water mark the allocator keeps.
 */
const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Under AddressSanitizer (scripts/sanitize-jest.sh) freed memory is quarantined, so RSS says nothing about leaks. */
const UNDER_ASAN = /libasan/.test(process.env.LD_PRELOAD ?? '');

function expectRssWithinSlack(grown: number): void {
  if (!UNDER_ASAN) expect(grown).toBeLessThan(RSS_SLACK);
}

async function rssAfterGc(): Promise<number> {
  await settle();
  return process.memoryUsage().rss;
}

describe('leaks', () => {
  it('100k create/use/dispose cycles of small tensors return memory() and RSS to baseline', async () => {
    const data = Float32Array.from([1, -2, 3, -4]);
    const cycles = async (n: number): Promise<number> => {
      let check = 0;
      for (let i = 0; i < n; i++) {
        const t = tensor(data, [2, 2]);
        const r = relu(t);
        if ((i & 1023) === 0) check += r.toArray()[2];
        r.dispose();
        t.dispose();
        if (i % 10_000 === 9_999) await tick();
      }
      return check;
    };
    await cycles(50_000); // warm-up
    await settle(); // garbage of earlier test files in this worker is freed now, not during the measured run
    const base = memory('cpu').bytesInUse;
    const rss0 = await rssAfterGc();
    expect(await cycles(100_000)).toBe(3 * Math.ceil(100_000 / 1024));
    expect(memory('cpu').bytesInUse).toBe(base);
    expectRssWithinSlack((await rssAfterGc()) - rss0);
  });

  it('12k create/use/dispose cycles of small CSR matrices return memory() to baseline', async () => {
    const b = randn([4, 3], { seed: 1 });
    const expected = spmm(CsrMatrix.fromArrays({ rows: 3, cols: 4, rowPtr: [0, 2, 2, 3], colIdx: [0, 3, 1], values: [1, 2, 3] }), b).toArray();
    const cycles = async (n: number): Promise<void> => {
    for (let i = 0; i < n; i++) {
      const m = CsrMatrix.fromArrays({ rows: 3, cols: 4, rowPtr: [0, 2, 2, 3], colIdx: [0, 3, 1], values: [1, 2, 3] });
      const y = spmm(m, b);
      if (i % 4096 === 0) expect(y.toArray()).toEqual(expected);
      const { matrix, perm } = m.transpose();
      matrix.dispose();
      perm.dispose();
      y.dispose();
      m.dispose();
      if (i % 2_000 === 1_999) await tick();
    }
    };
    await cycles(3_000); // warm-up
    await collectUntil(() => false, 4);
    const base = memory('cpu').bytesInUse;
    const rss0 = await rssAfterGc();
    await cycles(12_000);
    await collectUntil(() => memory('cpu').bytesInUse === base);
    expect(memory('cpu').bytesInUse).toBe(base);
    expectRssWithinSlack((await rssAfterGc()) - rss0);
  });

  it('1,000 training steps with RigL updates every 50 return memory() to baseline', async () => {
    await settle();
    const base = memory('cpu').bytesInUse;
    const rss0 = await rssAfterGc();
    const model = mlp([16, 32, 4], { sparsity: 0.8, seed: 2 });
    const optimizer = new SGD({ lr: 0.1, momentum: 0.9 });
    const updater = new RigL({ layers: model, optimizer, endStep: 1000, updateEvery: 50, seed: 3 });
    const trainer = new Trainer({ model, optimizer, updater });
    const x = randn([16, 8], { seed: 4 });
    const labels = Int32Array.from([0, 1, 2, 3, 0, 1, 2, 3]);
    const nnz = model.sparseLayers().map((l) => l.weight.nnz);
    let updates = 0;
    // The working set is steady: in use after the first steps equals in use at the end.
    let steady = 0;
    for (let s = 0; s < 1000; s++) {
      const r = trainer.step(x, labels);
      if (r.update) updates++;
      if (s === 60) steady = memory('cpu').bytesInUse;
    }
    expect(updates).toBeGreaterThanOrEqual(19);
    expect(model.sparseLayers().map((l) => l.weight.nnz)).toEqual(nnz);
    expect(memory('cpu').bytesInUse).toBe(steady);
    trainer.dispose();
    updater.dispose();
    optimizer.dispose();
    model.dispose();
    x.dispose();
    await collectUntil(() => memory('cpu').bytesInUse === base);
    expect(memory('cpu').bytesInUse).toBe(base);
    expectRssWithinSlack((await rssAfterGc()) - rss0);
  });

  it('a synchronous training loop (no await) keeps resident memory bounded', () => {
    // Programs train in plain for loops. Each step frees and re-allocates the same
    // activation and gradient buffers while the wrappers of disposed handles wait
    // for finalizers that only run when the loop yields; before large buffers got
    // pages of their own (core/host_memory.h) this loop grew by about 1 MB per step.
    const model = mlp([4, 512, 512, 2], { sparsity: 0.9, distribution: 'erk', seed: 5 });
    const optimizer = new SGD({ lr: 0.01, momentum: 0.9 });
    const trainer = new Trainer({ model, optimizer });
    const x = randn([4, 64], { seed: 6 });
    const labels = Int32Array.from({ length: 64 }, (_, i) => i % 2);
    for (let s = 0; s < 100; s++) trainer.step(x, labels); // warm-up: caches and heaps at working size
    const rss0 = process.memoryUsage().rss;
    const steps = 1000;
    for (let s = 0; s < steps; s++) trainer.step(x, labels);
    const grownPerStep = (process.memoryUsage().rss - rss0) / steps;
    if (!UNDER_ASAN) expect(grownPerStep).toBeLessThan(64 * 1024);
    trainer.dispose();
    optimizer.dispose();
    model.dispose();
    x.dispose();
  });
});

describe('exhaustion', () => {
  function expectOom(fn: () => unknown): void {
    let error: unknown;
    try {
      fn();
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(DynasparseError);
    expect((error as DynasparseError).code).toBe('E_OOM');
  }

  it('an allocation beyond any address space gives E_OOM and the library keeps working', () => {
    const before = memory('cpu');
    // 2^46 float32 elements (the most a shape may have; more is E_ARG): 256 TiB,
    // more than a 47-bit user address space holds, so the allocator refuses it
    // under every overcommit policy.
    expectOom(() => zeros([2 ** 23, 2 ** 23]));
    expectOom(() => randn([2 ** 46]));
    expect(memory('cpu').bytesInUse).toBe(before.bytesInUse);
    expect(memory('cpu').allocations).toBe(before.allocations);
    const t = tensor([1, -1]);
    expect(Array.from(relu(t).toArray())).toEqual([1, 0]);
    t.dispose();
  });

  it('an allocation beyond the machine\'s memory gives E_OOM where the kernel refuses overcommitting it', () => {
    // With overcommit_memory = 1 ('always') such a request would be granted and the
    // zero fill would bring in the OOM killer; only the heuristic (0) and strict (2)
    // policies refuse a request larger than RAM + swap up front.
    let policy = '1';
    try {
      policy = fs.readFileSync('/proc/sys/vm/overcommit_memory', 'utf8').trim();
    } catch {
      /* not Linux: skip */
    }
    if (policy === '1') return;
    const elements = Math.ceil((4 * os.totalmem()) / 4);
    const before = memory('cpu').bytesInUse;
    expectOom(() => zeros([elements]));
    expect(memory('cpu').bytesInUse).toBe(before);
    const t = zeros([3]);
    expect(Array.from(t.toArray())).toEqual([0, 0, 0]);
    t.dispose();
  });
});
