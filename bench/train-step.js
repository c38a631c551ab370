#!/usr/bin/env node
// One training step (forward, softmax cross-entropy, backward, optimizer step)
// of a sparse MLP against the same MLP dense, on every available device, and
// the cost of a RigL topology update relative to `updateEvery` training steps.
//
//   npm run build:ts && node bench/train-step.js [options]
//     --sizes 4096,4096,4096,1000   layer sizes (input first)
//     --batch 256
//     --sparsity 0.9                 sparsity of the sparse model (uniform over layers)
//     --distribution uniform         or erk / erdos-renyi
//     --steps 5                      timed steps per model (after one warm-up step),
//                                    dense and sparse alternating
//     --update-every 100             RigL's period, for the overhead figure
//     --devices cpu,cuda             default: every available device
//
// Targets (issue 6): sparse >= 3x faster than dense on the CPU and on a GPU; a
// RigL update every 100 steps costs < 5% of the training time, i.e.
// update / (updateEvery x step + update) < 0.05.
// Each figure is the median of the timed runs. Results are printed, not
// written: the lead commits benchmark runs under bench/results/.
'use strict';

const ds = require('../dist');

function arg(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
}
const sizes = arg('sizes', '4096,4096,4096,1000').split(',').map(Number);
const batch = Number(arg('batch', '256'));
const sparsity = Number(arg('sparsity', '0.9'));
const distribution = arg('distribution', 'uniform');
const steps = Number(arg('steps', '5'));
const updateEvery = Number(arg('update-every', '100'));
const available = ds.backends().filter((b) => b.available).map((b) => b.name);
const devices = arg('devices', available.join(',')).split(',');

function median(xs) {
  const s = xs.slice().sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/**
 * Median ms of each function over `runs` rounds after one warm-up round; the
 * functions alternate within a round, so the dense and the sparse step see the
 * same machine load (this host's load moves single timings by 2x).
 */
function timeInterleaved(device, fns, runs) {
  const times = fns.map(() => []);
  for (let r = -1; r < runs; r++) {
    fns.forEach((fn, i) => {
      const t0 = process.hrtime.bigint();
      fn();
      ds.synchronize(device);
      if (r >= 0) times[i].push(Number(process.hrtime.bigint() - t0) / 1e6);
    });
  }
  return times.map(median);
}

function setup(device, sparse) {
  const model = ds.mlp(sizes, { sparsity: sparse ? sparsity : 0, distribution, seed: 1, device });
  const optimizer = new ds.SGD({ lr: 0.01, momentum: 0.9 });
  const trainer = new ds.Trainer({ model, optimizer });
  const dispose = () => {
    trainer.dispose();
    optimizer.dispose();
    model.dispose();
  };
  return { model, optimizer, trainer, dispose };
}

function run(device) {
  const dense = setup(device, false);
  const sparse = setup(device, true);
  const x = ds.randn([sizes[0], batch], { seed: 2, device });
  const labels = Int32Array.from({ length: batch }, (_, i) => i % sizes[sizes.length - 1]);
  const [denseMs, sparseMs] = timeInterleaved(device, [() => dense.trainer.step(x, labels), () => sparse.trainer.step(x, labels)], steps);
  // update() uses the dy and x captured by the last training step.
  const rigl = new ds.RigL({ layers: sparse.model, optimizer: sparse.optimizer, dropFraction: 0.3, schedule: 'constant', updateEvery: 1, endStep: 1e9 });
  const [updateMs] = timeInterleaved(device, [() => rigl.update(0)], Math.max(1, Math.min(steps, 3)));
  dense.dispose();
  sparse.dispose();
  x.dispose();
  return { denseMs, sparseMs, updateMs };
}

console.log(`MLP ${sizes.join('-')}, batch ${batch}, sparse: ${sparsity * 100}% (${distribution}); median of ${steps} steps`);
for (const device of devices) {
  try {
    const { denseMs, sparseMs, updateMs } = run(device);
    const speedup = denseMs / sparseMs;
    const overhead = updateMs / (updateEvery * sparseMs + updateMs);
    console.log(
      `${device}: dense ${denseMs.toFixed(1)} ms/step, sparse ${sparseMs.toFixed(1)} ms/step, speedup ${speedup.toFixed(2)}x ` +
        `(target >= 3x: ${speedup >= 3 ? 'met' : 'NOT met'}); RigL update ${updateMs.toFixed(1)} ms = ` +
        `${(overhead * 100).toFixed(2)}% of training at one update per ${updateEvery} steps (target < 5%: ${overhead < 0.05 ? 'met' : 'NOT met'})`
    );
  } catch (e) {
    console.log(`${device}: ${e.code ?? ''} ${e.message}`);
  }
}
