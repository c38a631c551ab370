import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import {
  Adam, CsrMatrix, Linear, load, memory, mlp, randn, readCheckpointFile, RigL, save, SET, SGD, SNFS, SparseLinear, Tensor, tensor, Trainer, Updater, writeCheckpointFile,
} from '../lib';
import { expectCode } from './helpers/devices';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dynasparse-train-ckpt-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

type Kind = 'rigl' | 'set' | 'snfs';

/** A fresh run: the same construction every time (the "same code, new process" of a resume). */
function build(kind: Kind, adam: boolean) {
  const model = mlp([12, 16, 10, 3], { sparsity: 0.6, distribution: 'uniform', seed: 5 });
  const optimizer = adam ? new Adam({ lr: 0.01 }) : new SGD({ lr: 0.05, momentum: 0.9, nesterov: true });
  const common = { layers: model, optimizer, dropFraction: 0.3, updateEvery: 3, endStep: 20, seed: 42 } as const;
  const updater: Updater = kind === 'rigl' ? new RigL(common) : kind === 'set' ? new SET(common) : new SNFS(common);
  const trainer = new Trainer({ model, optimizer, updater });
  const dispose = () => {
    trainer.dispose();
    updater.dispose();
    optimizer.dispose();
    model.dispose();
  };
  return { model, optimizer, updater, trainer, dispose };
}

/** Batch i of a fixed synthetic data stream. */
function batch(i: number): { x: Tensor; labels: Int32Array } {
  return { x: randn([12, 8], { seed: 1000 + i }), labels: Int32Array.from({ length: 8 }, (_, j) => (i * 7 + j * 3) % 3) };
}

function train(t: Trainer, from: number, to: number): number[] {
  const losses: number[] = [];
  for (let i = from; i < to; i++) {
    const { x, labels } = batch(i);
    losses.push(t.step(x, labels).loss);
    x.dispose();
  }
  return losses;
}

function weightsOf(run: ReturnType<typeof build>): number[][] {
  return run.model.weightLayers().flatMap((l) => {
    const out: number[][] = [];
    const w = l.weight;
    if (w instanceof CsrMatrix) out.push(Array.from(w.rowPtr()), Array.from(w.colIdx()), Array.from(new Uint32Array(w.values.toArray().buffer)));
    else out.push(Array.from(new Uint32Array(w.toArray().buffer)));
    if (l.bias) out.push(Array.from(new Uint32Array(l.bias.toArray().buffer)));
    return out;
  });
}

/** A copy of checkpoint `from` at `to` whose metadata `change` has edited (the CRC is recomputed: only the content is wrong). */
function rewrite(from: string, to: string, change: (meta: any) => void): string {
  const { meta, arrays } = readCheckpointFile(from);
  const copy = JSON.parse(JSON.stringify(meta));
  change(copy);
  writeCheckpointFile(to, { meta: copy, arrays });
  return to;
}

/**
 * Asserts that loading `file` into `run` throws `code` and changes nothing: the
 * same weights (read back, so none was freed), counters and live allocations
 * (nothing leaked or freed twice), and the model still runs forward and, with
 * a live optimizer, trains.
 */
function expectLoadRefused(file: string, run: ReturnType<typeof build>, code: string, fragment?: RegExp): void {
  const weights = weightsOf(run);
  const alive = !run.optimizer.disposed;
  const counters = alive ? [run.optimizer.lr, run.optimizer.stepCount, run.trainer.stepNumber] : [];
  const allocations = memory().allocations;
  expectCode(() => load(file, run.trainer), code, fragment);
  expect(memory().allocations).toBe(allocations);
  expect(weightsOf(run)).toEqual(weights);
  for (const l of run.model.weightLayers()) expect(l.weight.disposed || (l.bias?.disposed ?? false)).toBe(false);
  const { x, labels } = batch(99);
  run.model.forward(x).dispose();
  if (alive) {
    expect([run.optimizer.lr, run.optimizer.stepCount, run.trainer.stepNumber]).toEqual(counters);
    expect(Number.isFinite(run.trainer.step(x, labels).loss)).toBe(true);
  }
  x.dispose();
}

describe('training checkpoints', () => {
  test.each([
    ['rigl', false],
    ['set', true],
    ['snfs', false],
  ] as const)('resuming %s (adam: %s) from a checkpoint continues bit-identically', (kind, adam) => {
    const N = 14;
    const k = 7; // between two topology updates (3, 6, 9, 12)
    const straight = build(kind, adam);
    const lossesStraight = train(straight.trainer, 0, N);
    const expected = weightsOf(straight);
    straight.dispose();
    const untrained = build(kind, adam);
    expect(weightsOf(untrained)[1]).not.toEqual(expected[1]); // the topology did change during the run
    untrained.dispose();

    const first = build(kind, adam);
    train(first.trainer, 0, k);
    const file = path.join(dir, `${kind}.ckpt`);
    save(file, first.trainer);
    first.dispose();

    const resumed = build(kind, adam);
    expect(load(file, resumed.trainer)).toBe(k);
    expect(resumed.trainer.stepNumber).toBe(k);
    const lossesResumed = train(resumed.trainer, k, N);
    expect(lossesResumed).toEqual(lossesStraight.slice(k));
    expect(weightsOf(resumed)).toEqual(expected);
    resumed.dispose();
  });

  test('a damaged or mismatched checkpoint loads nothing', () => {
    const run = build('rigl', false);
    train(run.trainer, 0, 4);
    const file = path.join(dir, 'good.ckpt');
    save(file, run.trainer);
    const bytes = fs.readFileSync(file);

    const other = build('rigl', false);
    const before = weightsOf(other);
    const bad = path.join(dir, 'bad.ckpt');
    fs.writeFileSync(bad, bytes.subarray(0, bytes.length - 10));
    expectCode(() => load(bad, other.trainer), 'E_FORMAT');
    const flipped = Buffer.from(bytes);
    flipped[Math.floor(bytes.length / 2)] ^= 1;
    fs.writeFileSync(bad, flipped);
    expectCode(() => load(bad, other.trainer), 'E_FORMAT');
    expectCode(() => load(path.join(dir, 'missing.ckpt'), other.trainer), 'E_IO');
    expect(weightsOf(other)).toEqual(before);
    expect(other.trainer.stepNumber).toBe(0);

    // a different architecture or updater is refused before anything changes
    const wrongModel = mlp([12, 16, 10, 4], { sparsity: 0.6, distribution: 'uniform', seed: 5 });
    const opt = new SGD({ lr: 0.1 });
    const t = new Trainer({ model: wrongModel, optimizer: opt, updater: new RigL({ layers: wrongModel, optimizer: opt, endStep: 20 }) });
    expectCode(() => load(file, t), 'E_FORMAT', /layer 4/);
    const noUpdater = new Trainer({ model: other.model, optimizer: other.optimizer });
    expectCode(() => load(file, noUpdater), 'E_FORMAT', /updater/);
    expect(weightsOf(other)).toEqual(before);
    wrongModel.dispose();
    opt.dispose();
    run.dispose();
    other.dispose();
  });

  test('a trainer with its own loss saves and resumes too (the loss is code: the resuming trainer is given it again)', () => {
    const mse = (output: Tensor, target: Float32Array) => {
      const o = output.toArray() as Float32Array;
      const grad = tensor(Float32Array.from(o, (v, i) => (2 * (v - target[i])) / o.length), output.shape, { device: output.device });
      return { loss: o.reduce((sum, v, i) => sum + (v - target[i]) ** 2, 0) / o.length, grad };
    };
    const make = () => {
      const model = mlp([6, 8, 2], { sparsity: 0.5, seed: 3 });
      const optimizer = new SGD({ lr: 0.05 });
      const trainer = new Trainer<Float32Array>({ model, optimizer, loss: mse });
      return { model, optimizer, trainer };
    };
    const x = randn([6, 5], { seed: 1 });
    const target = Float32Array.from({ length: 10 }, (_, i) => Math.cos(i));
    const a = make();
    for (let i = 0; i < 3; i++) a.trainer.step(x, target);
    const file = path.join(dir, 'mse.ckpt');
    save(file, a.trainer);
    const next = a.trainer.step(x, target).loss;
    const b = make();
    expect(load(file, b.trainer)).toBe(3);
    expect(b.trainer.step(x, target).loss).toBe(next);
    for (const r of [a, b]) (r.trainer.dispose(), r.optimizer.dispose(), r.model.dispose());
    x.dispose();
  });

  test('loading into a trainer whose optimizer is disposed is E_DISPOSED and frees none of the model\'s tensors', () => {
    const run = build('rigl', false);
    train(run.trainer, 0, 2);
    const file = path.join(dir, 'disposed-opt.ckpt');
    save(file, run.trainer);
    run.optimizer.dispose();
    expectLoadRefused(file, run, 'E_DISPOSED', /optimizer/);
    run.dispose();
  });

  test.each([
    ['1e39 (not a finite float32)', 1e39],
    ['the string "0.1"', '0.1'],
    ['0', 0],
    ['null', null],
  ])('a checkpoint whose lr is %s is E_FORMAT, and the trainer keeps its tensors and trains on', (_, lr) => {
    const run = build('snfs', true);
    train(run.trainer, 0, 2);
    const good = path.join(dir, 'lr-good.ckpt');
    save(good, run.trainer);
    const bad = rewrite(good, path.join(dir, 'lr-bad.ckpt'), (m) => (m.optimizer.lr = lr));
    expectLoadRefused(bad, run, 'E_FORMAT', /optimizer\.lr/);
    run.dispose();
  });

  test.each<[string, (m: any) => void, RegExp]>([
    ['layers[0] is null', (m) => (m.layers[0] = null), /layers\[0\]/],
    ['a sparse layer has no nnz', (m) => delete m.layers[0].nnz, /layers\[0\]\.nnz/],
    ['the optimizer is null', (m) => (m.optimizer = null), /optimizer: expected/],
    ['optimizer.params is not an array', (m) => (m.optimizer.params = 5), /optimizer\.params: expected an array/],
    ['optimizer.params[0] is null', (m) => (m.optimizer.params[0] = null), /optimizer\.params\[0\]: expected/],
    ['optimizer.params[0].tensors is missing', (m) => delete m.optimizer.params[0].tensors, /params\[0\]\.tensors/],
    ['optimizer.params[0].tensors repeats a name', (m) => m.optimizer.params[0].tensors.push(m.optimizer.params[0].tensors[0]), /params\[0\]\.tensors/],
    ['optimizer.params[0].layer is a string', (m) => (m.optimizer.params[0].layer = '0'), /params\[0\]\.layer/],
    ['optimizer.params[0].step is negative', (m) => (m.optimizer.params[0].step = -1), /params\[0\]\.step/],
    ['a parameter has two states', (m) => m.optimizer.params.push(m.optimizer.params[0]), /second state/],
    ['optimizer.stepCount is negative', (m) => (m.optimizer.stepCount = -5), /optimizer\.stepCount/],
    ['the updater has no meta', (m) => (m.updater = { kind: m.updater.kind }), /updater/],
  ])('malformed metadata (%s) is E_FORMAT naming the field, and changes nothing', (_, change, fragment) => {
    const run = build('snfs', false);
    train(run.trainer, 0, 2);
    const good = path.join(dir, 'meta-good.ckpt');
    save(good, run.trainer);
    const bad = rewrite(good, path.join(dir, 'meta-bad.ckpt'), change);
    expectLoadRefused(bad, run, 'E_FORMAT', fragment);
    run.dispose();
  });

  test('optimizer state that the resuming optimizer does not keep (other SGD momentum, a missing Adam moment) is E_FORMAT', () => {
    const make = (optimizer: SGD | Adam) => {
      const model = mlp([12, 16, 10, 3], { sparsity: 0.6, distribution: 'uniform', seed: 5 });
      const trainer = new Trainer({ model, optimizer });
      return { model, optimizer, trainer, updater: null as unknown as Updater, dispose: () => (trainer.dispose(), optimizer.dispose(), model.dispose()) };
    };
    const saveAfterSteps = (optimizer: SGD | Adam, name: string) => {
      const run = make(optimizer);
      train(run.trainer, 0, 2);
      const file = path.join(dir, name);
      save(file, run.trainer);
      run.dispose();
      return file;
    };
    const plain = saveAfterSteps(new SGD({ lr: 0.1 }), 'sgd-plain.ckpt');
    const heavy = saveAfterSteps(new SGD({ lr: 0.1, momentum: 0.9 }), 'sgd-momentum.ckpt');
    const adam = saveAfterSteps(new Adam({ lr: 0.01 }), 'adam.ckpt');

    const withMomentum = make(new SGD({ lr: 0.1, momentum: 0.9 }));
    train(withMomentum.trainer, 0, 1);
    expectLoadRefused(plain, withMomentum, 'E_FORMAT', /holds \[\], this SGD \(momentum 0\.9\) keeps \[momentumBuffer\]/);
    const without = make(new SGD({ lr: 0.1 }));
    expectLoadRefused(heavy, without, 'E_FORMAT', /momentum 0\)/);
    const a = make(new Adam({ lr: 0.01 }));
    expectLoadRefused(rewrite(adam, path.join(dir, 'adam-bad.ckpt'), (m) => m.optimizer.params[0].tensors.pop()), a, 'E_FORMAT', /keeps \[expAvg, expAvgSq\]/);
    // the matching configurations still load
    expect(load(heavy, withMomentum.trainer)).toBe(2);
    expect(load(plain, without.trainer)).toBe(2);
    expect(load(adam, a.trainer)).toBe(2);
    train(withMomentum.trainer, 2, 4);
    for (const r of [withMomentum, without, a]) r.dispose();
  });
});

test('load into a model whose layer was disposed is E_DISPOSED, and nothing else changes', () => {
  const saved = build('rigl', false);
  train(saved.trainer, 0, 2);
  const file = path.join(dir, 'disposed-layer.ckpt');
  save(file, saved.trainer);
  saved.dispose();
  const target = build('rigl', false);
  const second = target.model.layers[2] as SparseLinear | Linear;
  const firstWeight = (target.model.layers[0] as SparseLinear | Linear).weight;
  second.dispose();
  expectCode(() => load(file, target.trainer), 'E_DISPOSED', /layer 2 .* has been disposed/);
  expect(second.disposed).toBe(true);
  expect((target.model.layers[0] as SparseLinear | Linear).weight).toBe(firstWeight);
  target.dispose();
});
