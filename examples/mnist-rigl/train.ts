/**
 * One training run of the demo: LeNet-300-100 on MNIST with a given method
 * (dense, Static, SET or RigL) at a given sparsity, the way a user of the
 * library writes it.
 *
 * Setup, following the RigL reference MNIST trainer (google-research/rigl,
 * rigl/mnist/mnist_train_eval.py) where the demo's few-minute budget allows:
 * - every weight layer takes part in the sparsity budget, the first one
 *   included (that is what the connections-per-pixel picture shows), with
 *   ERK per-layer sparsities; a layer ERK makes dense becomes a dense Linear;
 * - SGD with Nesterov momentum 0.9 and L2 1e-4 (weight decay), batches drawn
 *   in the same seeded order for every method; the learning rate follows a
 *   cosine decay to 0 instead of the reference's step drops, because the demo
 *   runs 20 epochs rather than 200;
 * - training digits shifted by up to `shift` pixels (1 by default): with only
 *   8,000 of them, networks otherwise reach 100% training accuracy and the
 *   comparison is one of overfitting (measured at the defaults, test accuracy
 *   of dense 95.8-96.5% and RigL 90% 95.2-96.0% without shifts, seeds 0-2;
 *   96.6-97.1% and 96.7-97.1% with them, seeds 0-3; see examples/README.md);
 * - SET and RigL: drop fraction 0.3 annealed with a cosine to 0, a mask update
 *   every `updateEvery` steps from step `updateEvery` on, and none in the last
 *   quarter of training (RigL's end step at 75% of training); `updateEvery`
 *   may be at most a third of that end step (see examples/common/schedule.ts:
 *   a longer period would update nothing);
 * - Static keeps its random initial mask.
 */
import {
  accuracy,
  mlp,
  RigL,
  SET,
  SGD,
  softmaxCrossEntropy,
  SparseLinear,
  Static,
  synchronize,
  toFeatureMajor,
  type Device,
  type Sequential,
  type Updater,
} from 'dynasparse';

import { createRng } from '../common/random';
import { maskUpdateEnd, updatePeriodProblem } from '../common/schedule';
import { epochBatches, inOrder, PIXELS, randomShift, type MnistSplit } from './data';
import type { LayerCount } from './flops';
import { UPDATE_END, type RunSpec } from './options';
import type { RunResult } from './report';

/** Layer sizes of LeNet-300-100. */
export const ARCHITECTURE = [784, 300, 100, 10] as const;

/** Training settings shared by every run. */
export interface TrainConfig {
  epochs: number;
  batchSize: number;
  /** Initial learning rate (cosine-decayed to 0 over the run). */
  lr: number;
  /** Steps between SET/RigL mask updates. */
  updateEvery: number;
  /** Training images are shifted by up to this many pixels (0: no augmentation). */
  shift: number;
  seed: number;
  device: Device;
  /** Train on at most this many digits (tests use fewer). Default: all. */
  trainLimit?: number;
}

/** Called while a run trains, for progress display. */
export interface TrainHooks {
  /** After each training step (1-based count of steps done, out of total). */
  onStep?(step: number, totalSteps: number): void;
  /** After each epoch's evaluation (1-based epoch, test accuracy as a fraction). */
  onEpoch?(epoch: number, testAccuracy: number): void;
}

/** SGD settings of the reference MNIST trainer. */
const MOMENTUM = 0.9;
const WEIGHT_DECAY = 1e-4;
/** RigL/SET drop fraction (annealed with a cosine). */
const DROP_FRACTION = 0.3;
/** Test digits per forward pass when evaluating. */
const EVAL_BATCH = 1000;

function makeUpdater(method: RunSpec['method'], model: Sequential, optimizer: SGD, updateEvery: number, totalSteps: number, seed: number): Updater | null {
  if (method === 'dense') return null;
  if (method === 'static') return new Static({ layers: model, optimizer });
  // parseOptions rejects such a period; a direct caller gets the same reason.
  const problem = updatePeriodProblem(updateEvery, totalSteps, UPDATE_END, `${totalSteps} training steps`);
  if (problem !== null) throw new RangeError(`trainRun: updateEvery: ${problem}`);
  const endStep = maskUpdateEnd(totalSteps, UPDATE_END);
  const options = { layers: model, optimizer, dropFraction: DROP_FRACTION, schedule: 'cosine' as const, updateEvery, beginStep: updateEvery, endStep, seed };
  return method === 'rigl' ? new RigL(options) : new SET(options);
}

/** Test accuracy of the model on the whole test set. */
export function evaluate(model: Sequential, data: MnistSplit, device: Device): number {
  let correct = 0;
  for (const batch of inOrder(data.test, EVAL_BATCH)) {
    const x = toFeatureMajor(batch.images, batch.size, PIXELS, { device });
    try {
      correct += Math.round(accuracy(model.forward(x), batch.labels) * batch.size);
    } finally {
      x.dispose();
    }
  }
  return correct / data.test.count;
}

/** How many first-layer connections each input pixel has (a column count of the weight). */
function connectionsPerPixel(model: Sequential): Float32Array {
  const first = model.weightLayers()[0];
  const counts = new Float32Array(PIXELS);
  if (first instanceof SparseLinear) {
    for (const col of first.weight.colIdx()) counts[col] += 1;
  } else {
    counts.fill(first.outFeatures);
  }
  return counts;
}

/** Trains one run and measures it. The model and optimizer are freed before returning. */
export function trainRun(spec: RunSpec, data: MnistSplit, config: TrainConfig, hooks: TrainHooks = {}): RunResult {
  const { device, batchSize } = config;
  const train = config.trainLimit === undefined ? data.train : { ...data.train, count: Math.min(config.trainLimit, data.train.count) };
  const stepsPerEpoch = Math.floor(train.count / batchSize);
  const totalSteps = stepsPerEpoch * config.epochs;

  const model = mlp([...ARCHITECTURE], { sparsity: spec.sparsity, distribution: 'erk', seed: config.seed, device });
  const optimizer = new SGD({ lr: config.lr, momentum: MOMENTUM, nesterov: true, weightDecay: WEIGHT_DECAY });
  const updater = makeUpdater(spec.method, model, optimizer, config.updateEvery, totalSteps, config.seed);
  // The same batch order for every method: differences come from the method, not the data.
  const rng = createRng(config.seed);

  const testAccuracy: number[] = [];
  const epochSeconds: number[] = [];
  let step = 0;
  let denseGradientSteps = 0;
  try {
    for (let epoch = 1; epoch <= config.epochs; epoch++) {
      const started = performance.now();
      for (const batch of epochBatches(train, batchSize, rng)) {
        randomShift(batch, config.shift, rng);
        optimizer.lr = Math.max(config.lr * 0.5 * (1 + Math.cos((Math.PI * step) / totalSteps)), 1e-12);
        const x = toFeatureMajor(batch.images, batch.size, PIXELS, { device });
        const logits = model.forward(x);
        const { grad } = softmaxCrossEntropy(logits, batch.labels);
        model.backward(grad);
        optimizer.step(model.parameters().map((p) => ({ value: p.value, grad: p.grad!, key: p.key })));
        if (updater && updater.isUpdateStep(step)) {
          if (spec.method === 'rigl') denseGradientSteps++;
          // After the optimizer step, from the x and dy each layer captured in this backward pass.
          updater.update(step);
        }
        // Layers hold x and dy until the next forward; nothing reads them after the update.
        grad.dispose();
        x.dispose();
        step++;
        hooks.onStep?.(step, totalSteps);
      }
      synchronize(device); // so the time covers the work queued on a GPU
      epochSeconds.push((performance.now() - started) / 1000);
      const acc = evaluate(model, data, device);
      testAccuracy.push(acc);
      hooks.onEpoch?.(epoch, acc);
    }
    const layers: LayerCount[] = model.weightLayers().map((l) => ({
      inFeatures: l.inFeatures,
      outFeatures: l.outFeatures,
      nnz: l instanceof SparseLinear ? l.weight.nnz : l.inFeatures * l.outFeatures,
    }));
    return {
      spec,
      layers,
      parameters: layers.reduce((sum, l) => sum + l.nnz + l.outFeatures, 0),
      testAccuracy,
      epochSeconds,
      steps: totalSteps,
      batchSize,
      denseGradientSteps,
      connectionsPerPixel: connectionsPerPixel(model),
    };
  } finally {
    updater?.dispose();
    optimizer.dispose();
    model.dispose();
  }
}
