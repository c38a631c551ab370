import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { loadMnist, PIXELS } from '../../examples/mnist-rigl/data';
import { main, missingKernel } from '../../examples/mnist-rigl/main';
import { ARCHITECTURE, trainRun, type TrainConfig } from '../../examples/mnist-rigl/train';
import { capture } from '../helpers/capture';

// A few hundred digits and a couple of epochs: this checks the loop, not the accuracy
// (the demo's accuracy is measured by running it; see examples/README.md).
const data = loadMnist();
const config: TrainConfig = { epochs: 2, batchSize: 32, lr: 0.1, updateEvery: 3, shift: 1, seed: 1, device: 'cpu', trainLimit: 320 };

describe('examples: demo training runs', () => {
  it('trains a dense LeNet-300-100 and learns something', () => {
    const steps: number[] = [];
    const epochs: number[] = [];
    const r = trainRun({ method: 'dense', sparsity: 0 }, data, config, { onStep: (s) => steps.push(s), onEpoch: (e) => epochs.push(e) });
    expect(r.layers.map((l) => [l.inFeatures, l.outFeatures])).toEqual([[784, 300], [300, 100], [100, 10]]);
    expect(r.parameters).toBe(266200 + 410);
    expect(r.steps).toBe(20); // 320 / 32 per epoch, 2 epochs
    expect(steps).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(epochs).toEqual([1, 2]);
    expect(r.testAccuracy.length).toBe(2);
    expect(r.testAccuracy[1]).toBeGreaterThan(0.5); // chance is 0.1
    expect(r.denseGradientSteps).toBe(0);
    expect(Array.from(new Set(r.connectionsPerPixel))).toEqual([300]);
  });

  it('keeps RigL at its ERK nnz while it moves connections, and counts its dense-gradient steps', () => {
    const r = trainRun({ method: 'rigl', sparsity: 0.9 }, data, config);
    const stored = r.layers.reduce((a, l) => a + l.nnz, 0);
    expect(Math.abs(stored - 0.1 * 266200)).toBeLessThan(2); // ERK keeps the global budget
    // Updates at steps 3, 6, ..., up to 75% of 20 steps: 3, 6, 9, 12, 15.
    expect(r.denseGradientSteps).toBe(5);
    const perPixel = r.connectionsPerPixel.reduce((a, b) => a + b, 0);
    expect(perPixel).toBe(r.layers[0].nnz);
    expect(r.connectionsPerPixel.length).toBe(PIXELS);
  });

  it('gives the same result for the same seed (deterministic on the CPU)', () => {
    // 10 steps: updates at 2 and 4 (at most a third of 75% of 10 steps, floor(7 / 3) = 2).
    const a = trainRun({ method: 'set', sparsity: 0.98 }, data, { ...config, epochs: 1, updateEvery: 2 });
    const b = trainRun({ method: 'set', sparsity: 0.98 }, data, { ...config, epochs: 1, updateEvery: 2 });
    expect(b.testAccuracy).toEqual(a.testAccuracy);
    expect(b.connectionsPerPixel).toEqual(a.connectionsPerPixel);
  });

  it('refuses an update period that would leave SET and RigL without a mask change', () => {
    // 10 steps: updates may run to step 7, and the drop fraction reaches 0 at step 7 - N.
    for (const method of ['set', 'rigl'] as const) {
      expect(() => trainRun({ method, sparsity: 0.9 }, data, { ...config, epochs: 1, updateEvery: 3 })).toThrow(RangeError);
      expect(() => trainRun({ method, sparsity: 0.9 }, data, { ...config, epochs: 1, updateEvery: 20 })).toThrow(/updateEvery: expected at most 2 with 10 training steps, got 20/);
    }
    // Static and dense do not update masks: any period is fine.
    expect(trainRun({ method: 'static', sparsity: 0.9 }, data, { ...config, epochs: 1, updateEvery: 20 }).steps).toBe(10);
  });
});

describe('examples: demo command line', () => {
  it('finds every kernel the demo needs on the CPU', () => {
    expect(missingKernel('cpu', data)).toBeNull();
  });

  it('prints the options for --help and a usage error with status 2', () => {
    const help = capture(() => main(['--help']));
    expect(help.code).toBe(0);
    expect(help.out).toContain('--sparsity');
    const bad = capture(() => main(['--methods', 'snip']));
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/^error: --methods/);
    // The period and the training length, named in one clean line before the usage.
    const long = capture(() => main(['--update-every', '500', '--epochs', '2']));
    expect(long.code).toBe(2);
    expect(long.err).toMatch(/^error: --update-every: expected at most 62 with 250 training steps \(2 epochs of 125 batches of 64\), got 500: /);
    expect(long.err).toContain('Usage:');
    const batch = capture(() => main(['--batch-size', '9000']));
    expect(batch.code).toBe(2);
    expect(batch.err).toMatch(/^error: --batch-size: expected at most 8000/);
  });

  it('runs end to end: device line, table, targets, PNGs and results.json', () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'demo-'));
    const run = capture(() => main(['--epochs', '1', '--methods', 'static,rigl', '--sparsity', '0.98', '--device', 'cpu', '--out', out, '--batch-size', '100',
      '--update-every', '20']));
    expect(run.code).toBe(0);
    expect(run.out).toMatch(/Device: cpu \(\d+ threads?, (OpenBLAS|built-in) GEMM\)/);
    expect(run.out).toMatch(/\| Static +\| +98% \|/);
    expect(run.out).toMatch(/RigL above Static at 98%/);
    expect(fs.readdirSync(out).sort()).toEqual(['accuracy.png', 'connections-98.png', 'results.json']);
    const json = JSON.parse(fs.readFileSync(path.join(out, 'results.json'), 'utf8'));
    expect(json.runs.map((r: { method: string }) => r.method)).toEqual(['static', 'rigl']);
    expect(json.runs[0].layers[0]).toMatchObject({ inFeatures: ARCHITECTURE[0], outFeatures: ARCHITECTURE[1] });
  });
});
