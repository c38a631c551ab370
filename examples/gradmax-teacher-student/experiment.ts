/**
 * The teacher-student experiment of the GradMax paper (Evci et al., ICLR 2022,
 * Section 5.1; the authors' Student_Teacher colab): a fixed random teacher MLP
 * labels Gaussian inputs, and a student that starts narrow is grown one hidden
 * unit at a time while it trains with full-batch SGD on the MSE.
 *
 * Setting (the colab's defaults):
 * - teacher 10 -> 10 -> 10, weights U[-1, 1], no biases, ReLU with f'(0) = 1;
 * - 1000 inputs from N(0, I), the same for every run (data seed 0);
 * - student 10 -> 5 -> 10, no biases, the same ReLU, dense Kaiming init (the
 *   colab uses Keras' Glorot uniform); one unit added after the SGD steps
 *   200, 400, 600, 800 and 1000, so it reaches 10 units; 1500 steps at lr 0.1;
 * - growth scale 1 with 'mean_norm' (the reference's default): the new units'
 *   non-zero weights get the mean norm of the existing units' weights;
 * - baselines: the 10-unit student trained from the start ('big') and the
 *   5-unit student never grown ('small').
 *
 * Per step it records the loss and the norm of the full gradient (every
 * parameter) before the update. At each growth it records the gradient norm
 * just before growing (on the weights after that step's update) and just after
 * (same weights plus the new units, same data): their ratio is the "gain".
 */
import { axpy, growNeurons, Linear, rand, randn, ReLU, Sequential, SGD, zeros, type GrowMethod, type GrowNeuronsOptions, type Tensor } from 'dynasparse';

/** The runs compared: the four growth methods and the two fixed-width baselines. */
export const RUNS = ['gradmax', 'gradmax-opt', 'random', 'zeros', 'big', 'small'] as const;
export type RunName = (typeof RUNS)[number];

/** The experiment's sizes and schedule. */
export interface ExperimentConfig {
  inputs: number;
  teacherHidden: number;
  outputs: number;
  samples: number;
  studentStart: number;
  /** Grow after these steps (0-based step numbers), one unit each. */
  growAfter: number[];
  steps: number;
  lr: number;
  scale: number;
}

/** The colab's setting (see the module comment). */
export const PAPER_CONFIG: ExperimentConfig = {
  inputs: 10,
  teacherHidden: 10,
  outputs: 10,
  samples: 1000,
  studentStart: 5,
  growAfter: [200, 400, 600, 800, 1000],
  steps: 1500,
  lr: 0.1,
  scale: 1,
};

/** What one growth did. */
export interface GrowthRecord {
  step: number;
  /** ‖∇θ‖ on the same weights and data just before and just after growing. */
  before: number;
  after: number;
  /** after / before. */
  gain: number;
  /** growNeurons' prediction of the new weights' gradient norm (sqrt(after² - before²) in exact arithmetic). */
  predicted: number | null;
  /**
   * From this same state (weights and gradient just before this growth), the
   * new weights' gradient norm each growth method would give, computed on
   * copies of the two layers: compares the methods without the differences
   * their own earlier growths made to the network.
   */
  sameState: Record<GrowMethod, number>;
}

/** The growth methods. */
export const GROW_METHODS: GrowMethod[] = ['gradmax', 'gradmax-opt', 'random', 'zeros'];

/** One run's record. */
export interface RunResult {
  run: RunName;
  seed: number;
  loss: number[];
  gradNorm: number[];
  growths: GrowthRecord[];
  hiddenAtEnd: number;
}

/** The teacher's inputs [inputs, samples] and targets [outputs, samples] (fixed by data seed 0, as in the colab). */
export function teacherData(config: ExperimentConfig): { x: Tensor; y: Tensor } {
  const teacher = new Sequential([
    new Linear(config.inputs, config.teacherHidden, { bias: false }),
    new ReLU({ gradAtZero: 1 }),
    new Linear(config.teacherHidden, config.outputs, { bias: false }),
  ]);
  try {
    const [l1, l2] = teacher.weightLayers() as Linear[];
    l1.setWeight(rand([config.teacherHidden, config.inputs], { low: -1, high: 1, seed: 101 }));
    l2.setWeight(rand([config.outputs, config.teacherHidden], { low: -1, high: 1, seed: 102 }));
    const x = randn([config.inputs, config.samples], { seed: 103 });
    const y = teacher.forward(x).clone();
    return { x, y };
  } finally {
    teacher.dispose();
  }
}

/** MSE over every output and sample: the loss and its gradient (2 (pred - y) / size) as a new tensor. */
function mse(pred: Tensor, y: Tensor): { loss: number; grad: Tensor } {
  const diff = pred.clone();
  axpy(-1, y, diff);
  const d = diff.toArray() as Float32Array;
  let s = 0;
  for (const v of d) s += v * v;
  const grad = zeros(pred.shape, { device: pred.device });
  axpy(2 / d.length, diff, grad);
  diff.dispose();
  return { loss: s / d.length, grad };
}

function gradientNorm(model: Sequential): number {
  let s = 0;
  for (const p of model.parameters()) {
    if (!p.grad) continue;
    for (const v of p.grad.toArray() as Float32Array) s += v * v;
  }
  return Math.sqrt(s);
}

/** Forward, loss and backward on the full batch; the returned gradient belongs to the caller (keep it until the next forward). */
function evaluate(model: Sequential, x: Tensor, y: Tensor): { loss: number; grad: Tensor; norm: number } {
  const pred = model.forward(x);
  const { loss, grad } = mse(pred, y);
  model.backward(grad);
  return { loss, grad, norm: gradientNorm(model) };
}

/** The new weights' gradient norm `method` would give, grown on copies of the two layers (the originals are untouched). */
function predictOnCopies(prev: Linear, next: Linear, method: GrowMethod, options: Omit<GrowNeuronsOptions, 'method'>): number {
  const p = new Linear(prev.inFeatures, prev.outFeatures, { bias: false, init: 'zeros' });
  const n = new Linear(next.inFeatures, next.outFeatures, { bias: false, init: 'zeros' });
  try {
    p.setWeight(prev.weight.clone());
    n.setWeight(next.weight.clone());
    return growNeurons(p, n, 1, { ...options, method }).gradNorm as number;
  } finally {
    p.dispose();
    n.dispose();
  }
}

/** Trains one student. `seed` sets its initial weights and the growth's random draws. */
export function runStudent(run: RunName, seed: number, data: { x: Tensor; y: Tensor }, config: ExperimentConfig): RunResult {
  const hidden = run === 'big' ? config.studentStart + config.growAfter.length : config.studentStart;
  const prev = new Linear(config.inputs, hidden, { bias: false, seed: 2 * seed });
  const next = new Linear(hidden, config.outputs, { bias: false, seed: 2 * seed + 1 });
  const model = new Sequential([prev, new ReLU({ gradAtZero: 1 }), next]);
  const optimizer = new SGD({ lr: config.lr });
  const result: RunResult = { run, seed, loss: [], gradNorm: [], growths: [], hiddenAtEnd: hidden };
  const growing = run !== 'big' && run !== 'small';
  let grad: Tensor | null = null;
  try {
    for (let step = 0; step < config.steps; step++) {
      grad?.dispose();
      const e = evaluate(model, data.x, data.y);
      grad = e.grad;
      result.loss.push(e.loss);
      result.gradNorm.push(e.norm);
      optimizer.step(model.parameters().map((p) => ({ value: p.value, grad: p.grad as Tensor, key: p.key })));
      if (growing && config.growAfter.includes(step)) {
        // The current gradient at the output (the next layer's pre-activation) on the updated weights.
        grad.dispose();
        const before = evaluate(model, data.x, data.y);
        grad = before.grad;
        const options = { scale: config.scale, scaleMethod: 'mean_norm' as const, gradNext: before.grad, actPrev: data.x, seed: 1000 * seed + step };
        const sameState = {} as Record<GrowMethod, number>;
        for (const method of GROW_METHODS) sameState[method] = predictOnCopies(prev, next, method, options);
        const report = growNeurons(prev, next, 1, { ...options, method: run as GrowMethod, optimizer });
        grad.dispose();
        const after = evaluate(model, data.x, data.y);
        grad = after.grad;
        result.growths.push({ step, before: before.norm, after: after.norm, gain: after.norm / before.norm, predicted: report.gradNorm, sameState });
      }
    }
    result.hiddenAtEnd = prev.outFeatures;
    return result;
  } finally {
    grad?.dispose();
    optimizer.dispose();
    model.dispose();
  }
}
