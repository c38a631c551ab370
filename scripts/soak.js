#!/usr/bin/env node
// Soak test at the full sizes (on demand; CI runs test/leaks.test.ts at
// smaller sizes): 1M create/use/dispose cycles of small tensors, 1M of small
// sparse matrices, and 10k training steps with RigL updates. After each phase
// memory().bytesInUse must be back at its baseline exactly, and the resident set
// (after GC) within SOAK_RSS_SLACK_MB (default 64) of the value after a warm-up.
//
// The loops yield to the event loop every YIELD_EVERY cycles, as a real program
// does: a disposed tensor's buffer is freed at once, but its small JS wrapper
// is finalized by the garbage collector only on a later turn of the event loop
// (Node-API finalizers are deferred), so a synchronous loop of a million
// iterations piles up a million wrappers first; the RSS they grow to is kept by
// the allocator afterwards even though it is free.
// Usage: npm run build:ts && node --expose-gc scripts/soak.js [--cycles N] [--csr N] [--steps N]
'use strict';
const path = require('node:path');

const ds = require(path.resolve(__dirname, '..')); // dist/ (npm run build:ts)

const argv = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? Number(argv[i + 1]) : dflt;
};
const CYCLES = opt('cycles', 1_000_000);
const CSR_CYCLES = opt('csr', 1_000_000);
const STEPS = opt('steps', 10_000);
const YIELD_EVERY = opt('yield-every', 10_000);
const tick = () => new Promise((r) => setImmediate(r));
const SLACK = Number(process.env.SOAK_RSS_SLACK_MB || 64) * 1024 * 1024;

if (typeof global.gc !== 'function') {
  console.error('soak: run with node --expose-gc');
  process.exit(2);
}

async function settle() {
  for (let i = 0; i < 6; i++) {
    global.gc();
    await new Promise((r) => setImmediate(r));
  }
}
const mb = (b) => `${(b / 1048576).toFixed(1)} MiB`;

async function phase(name, warmup, run) {
  await warmup();
  await settle();
  const base = ds.memory('cpu').bytesInUse;
  const rss0 = process.memoryUsage().rss;
  const t0 = Date.now();
  await run();
  await settle();
  const inUse = ds.memory('cpu').bytesInUse;
  const rss = process.memoryUsage().rss;
  const ok = inUse === base && rss - rss0 < SLACK;
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${name}: ${Date.now() - t0} ms; bytesInUse ${base} -> ${inUse}; rss ${mb(rss0)} -> ${mb(rss)} (slack ${mb(SLACK)})`);
  return ok;
}

async function tensorCycles(n) {
  const data = Float32Array.from([1, -2, 3, -4]);
  for (let i = 0; i < n; i++) {
    const t = ds.tensor(data, [2, 2]);
    const r = ds.relu(t);
    if (i % 65536 === 0 && r.toArray()[2] !== 3) throw new Error('relu gave a wrong value');
    r.dispose();
    t.dispose();
    if (i % YIELD_EVERY === YIELD_EVERY - 1) await tick();
  }
}

async function csrCycles(n) {
  const b = ds.randn([4, 3], { seed: 1 });
  for (let i = 0; i < n; i++) {
    const m = ds.CsrMatrix.fromArrays({ rows: 3, cols: 4, rowPtr: [0, 2, 2, 3], colIdx: [0, 3, 1], values: [1, 2, 3] });
    const y = ds.spmm(m, b);
    const { matrix, perm } = m.transpose();
    matrix.dispose();
    perm.dispose();
    y.dispose();
    m.dispose();
    if (i % YIELD_EVERY === YIELD_EVERY - 1) await tick();
  }
  b.dispose();
}

async function training(steps) {
  const model = ds.mlp([16, 32, 4], { sparsity: 0.8, seed: 2 });
  const optimizer = new ds.SGD({ lr: 0.1, momentum: 0.9 });
  const updater = new ds.RigL({ layers: model, optimizer, endStep: steps, updateEvery: 50, seed: 3 });
  const trainer = new ds.Trainer({ model, optimizer, updater });
  const x = ds.randn([16, 8], { seed: 4 });
  const labels = Int32Array.from([0, 1, 2, 3, 0, 1, 2, 3]);
  let updates = 0;
  for (let s = 0; s < steps; s++) {
    if (trainer.step(x, labels).update) updates++;
    if (s % 100 === 99) await tick();
  }
  trainer.dispose();
  updater.dispose();
  optimizer.dispose();
  model.dispose();
  x.dispose();
  return updates;
}

(async () => {
  const results = [
    await phase(`${CYCLES} tensor cycles`, () => tensorCycles(Math.min(CYCLES, 100_000)), () => tensorCycles(CYCLES)),
    await phase(`${CSR_CYCLES} CSR cycles`, () => csrCycles(Math.min(CSR_CYCLES, 20_000)), () => csrCycles(CSR_CYCLES)),
    await phase(`${STEPS} training steps (RigL every 50)`, () => training(200), () => training(STEPS)),
  ];
  process.exit(results.every(Boolean) ? 0 : 1);
})();
