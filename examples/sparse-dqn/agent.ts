/**
 * The DQN agent (Mnih et al. 2015) with a dense or sparse Q-network, written
 * the way a user of the library writes it:
 *
 * - the online and the target network are `mlp([4, ...hidden, 2])` (ReLU);
 *   sparse methods build them at `sparsity` with ERK per-layer sparsities
 *   (layers ERK leaves dense become dense `Linear` layers), magnitude pruning
 *   builds every weight layer as a `SparseLinear` at density 1 and prunes it;
 * - the TD target is r + γ (1 − terminated) max_a' Q_target(s', a'), the loss
 *   Huber (δ = 1) or squared error on the Q-value of the action taken, mean over
 *   the batch. Its gradient dLoss/dQ is only 2 × batch numbers, so it is
 *   computed on the host; the forward and backward passes, Adam and the
 *   topology updates run in the library, on the model's device;
 * - the target network is a copy of the online one (weights, biases and the
 *   sparse patterns: `CsrMatrix.clone()`), refreshed every `targetEvery`
 *   gradient steps;
 * - Static, SET and RigL get the model's sparse layers; RigL grows where the
 *   dense gradient of the current TD loss is largest, read from the input x and
 *   output gradient dy each sparse layer keeps from the backward pass, so
 *   updates happen right after the optimizer step, before the next forward;
 * - MagnitudePruning prunes each sparse layer from dense to its ERK sparsity
 *   (one `MagnitudePruning` with a final sparsity per layer).
 */
import {
  Adam,
  erk,
  Linear,
  MagnitudePruning,
  mlp,
  RigL,
  SET,
  SparseLinear,
  Static,
  tensor,
  toFeatureMajor,
  type Device,
  type Sequential,
  type Tensor,
  type Updater,
  type UpdateReport,
} from 'dynasparse';

import type { Rng } from '../common/random';
import { maskUpdateEnd, updatePeriodProblem } from '../common/schedule';
import { ACTIONS, OBSERVATION_SIZE } from './cartpole';
import type { ReplayBatch } from './replay';

/** The training methods compared. */
export const METHODS = ['dense', 'static', 'set', 'rigl', 'pruning'] as const;
export type Method = (typeof METHODS)[number];

/** How each method is named in tables and charts. */
export const METHOD_LABELS: Record<Method, string> = { dense: 'Dense', static: 'Static', set: 'SET', rigl: 'RigL', pruning: 'MagnitudePruning' };

/** What an agent needs to know to build its networks and schedules. */
export interface AgentConfig {
  method: Method;
  /** Overall sparsity of the sparse methods (ERK across layers); ignored for dense. */
  sparsity: number;
  /** Hidden layer sizes, e.g. [512, 512]. */
  hidden: readonly number[];
  seed: number;
  device: Device;
  /** Adam learning rate. */
  lr: number;
  /** Discount. */
  gamma: number;
  /** 'huber' (δ = 1) or 'mse' (squared error). */
  loss: 'huber' | 'mse';
  /** Gradient steps between copies of the online network into the target network. */
  targetEvery: number;
  /** Total gradient steps of the run (the topology schedules are fractions of it). */
  gradientSteps: number;
  /** Gradient steps between SET/RigL mask updates and between pruning steps. */
  updateEvery: number;
  /** SET/RigL initial drop fraction, cosine-annealed to 0 at `updateEnd`. */
  dropFraction: number;
  /** SET/RigL: no mask update after this fraction of the gradient steps. */
  updateEnd: number;
  /** MagnitudePruning: prune from this fraction of the gradient steps ... */
  pruneBegin: number;
  /** ... to this one, where the final sparsity is reached. */
  pruneEnd: number;
}

/** What one gradient step measured. */
export interface LearnResult {
  /** The mean TD loss of the batch, before the step. */
  loss: number;
  /** The mean Q-value of the actions taken. */
  meanQ: number;
  /** The updaters' reports when the step updated topologies. */
  updates: UpdateReport[];
}

/** The network sizes: observation, hidden..., actions. */
export function layerSizes(hidden: readonly number[]): number[] {
  return [OBSERVATION_SIZE, ...hidden, ACTIONS];
}

/** Builds the Q-network of a method: dense, sparse with ERK, or all-SparseLinear at density 1 for pruning. */
export function buildQNetwork(config: Pick<AgentConfig, 'method' | 'sparsity' | 'hidden' | 'seed' | 'device'>): Sequential {
  const sizes = layerSizes(config.hidden);
  const { seed, device } = config;
  switch (config.method) {
    case 'dense':
      return mlp(sizes, { seed, device });
    case 'pruning':
      return mlp(sizes, { sparseLayers: true, seed, device });
    default:
      return mlp(sizes, { sparsity: config.sparsity, distribution: 'erk', seed, device });
  }
}

/** The ERK sparsity of each weight layer at `sparsity` (the targets of magnitude pruning). */
export function erkSparsities(hidden: readonly number[], sparsity: number): number[] {
  const sizes = layerSizes(hidden);
  const specs = sizes.slice(1).map((out, i) => ({ name: `fc${i + 1}`, shape: [out, sizes[i]] }));
  return erk(specs, sparsity).map((s) => 1 - s.nnz / s.size);
}

/**
 * Magnitude pruning's first and last pruning steps: from `pruneBegin` of the
 * gradient steps to about `pruneEnd`, rounded so the span is a whole number of
 * update periods (pruning steps fall on beginStep + k * updateEvery, so the
 * last one is endStep and reaches the final sparsity).
 */
export function pruningSteps(config: Pick<AgentConfig, 'gradientSteps' | 'updateEvery' | 'pruneBegin' | 'pruneEnd'>): { beginStep: number; endStep: number } {
  const { gradientSteps, updateEvery } = config;
  const beginStep = Math.floor(config.pruneBegin * gradientSteps);
  const endStep = beginStep + Math.max(1, Math.round(((config.pruneEnd - config.pruneBegin) * gradientSteps) / updateEvery)) * updateEvery;
  return { beginStep, endStep };
}

/**
 * Why `updateEvery` is too long for this run's schedules, or null when it is
 * not: SET and RigL need a period of at most a third of their update window
 * (examples/common/schedule.ts), and pruning must end within the run.
 * `counted` describes the gradient steps, e.g. "7000 gradient steps".
 */
export function updatePeriodProblemOf(config: Pick<AgentConfig, 'method' | 'gradientSteps' | 'updateEvery' | 'updateEnd' | 'pruneBegin' | 'pruneEnd'>, counted: string): string | null {
  const { method, gradientSteps, updateEvery } = config;
  if (method === 'set' || method === 'rigl') return updatePeriodProblem(updateEvery, gradientSteps, config.updateEnd, counted);
  if (method === 'pruning') {
    const { endStep } = pruningSteps(config);
    if (endStep >= gradientSteps) {
      let limit = updateEvery - 1;
      while (limit > 0 && pruningSteps({ ...config, updateEvery: limit }).endStep >= gradientSteps) limit--;
      const expected = limit > 0 ? `expected at most ${limit}` : 'no period fits';
      return `${expected} with ${counted}, got ${updateEvery}: magnitude pruning would reach its final sparsity at gradient step ${endStep}, after the run`;
    }
  }
  return null;
}

/** The updaters of a method (none for dense). */
export function makeUpdaters(config: AgentConfig, model: Sequential, optimizer: Adam): Updater[] {
  const { method, gradientSteps, updateEvery, seed } = config;
  if (method === 'dense') return [];
  if (method === 'static') return [new Static({ layers: model, optimizer })];
  // The options reject such a period; a direct caller gets the same reason.
  const problem = updatePeriodProblemOf(config, `${gradientSteps} gradient steps`);
  if (problem !== null) throw new RangeError(`DqnAgent: updateEvery: ${problem}`);
  if (method === 'set' || method === 'rigl') {
    const endStep = maskUpdateEnd(gradientSteps, config.updateEnd);
    const options = { layers: model, optimizer, dropFraction: config.dropFraction, schedule: 'cosine' as const, updateEvery, beginStep: updateEvery, endStep, seed };
    return [method === 'rigl' ? new RigL(options) : new SET(options)];
  }
  // Magnitude pruning: every weight layer is a SparseLinear, pruned to its own ERK sparsity
  // (0 for a layer ERK keeps dense: never pruned) on the same schedule.
  const { beginStep, endStep } = pruningSteps(config);
  const finalSparsity = erkSparsities(config.hidden, config.sparsity);
  return [new MagnitudePruning({ layers: model.sparseLayers(), optimizer, finalSparsity, beginStep, endStep, updateEvery })];
}

/** Copies every weight and bias of `source` into `target` (same architecture; sparse patterns included). */
export function copyNetwork(source: Sequential, target: Sequential): void {
  const from = source.weightLayers();
  const to = target.weightLayers();
  if (from.length !== to.length) throw new RangeError(`copyNetwork: ${from.length} weight layers into ${to.length}`);
  from.forEach((src, i) => {
    const dst = to[i];
    if (src instanceof SparseLinear && dst instanceof SparseLinear) dst.setWeight(src.weight.clone());
    else if (src instanceof Linear && dst instanceof Linear) dst.setWeight(src.weight.clone());
    else throw new TypeError(`copyNetwork: layer ${i} is ${src} in the source and ${dst} in the target`);
    if (src.bias && dst.bias) dst.setBias(src.bias.clone());
  });
}

/** Stored weights plus biases of a network. */
export function parameterCount(model: Sequential): number {
  return model.weightLayers().reduce((sum, l) => sum + (l instanceof SparseLinear ? l.weight.nnz : l.inFeatures * l.outFeatures) + (l.bias ? l.outFeatures : 0), 0);
}

/** Index of the largest of `values[offset + k * stride]`, k < count (ties: the lower index). */
function argmax(values: Float32Array, offset: number, stride: number, count: number): number {
  let best = 0;
  for (let k = 1; k < count; k++) if (values[offset + k * stride] > values[offset + best * stride]) best = k;
  return best;
}

/** A DQN agent: online and target Q-networks, Adam, and the method's topology updaters. */
export class DqnAgent {
  readonly config: AgentConfig;
  readonly online: Sequential;
  readonly target: Sequential;
  readonly optimizer: Adam;
  readonly updaters: readonly Updater[];
  private steps = 0;

  constructor(config: AgentConfig) {
    this.config = config;
    this.online = buildQNetwork(config);
    // The same build (and seed) gives the same layer types; the copy makes the weights equal.
    this.target = buildQNetwork(config);
    this.optimizer = new Adam({ lr: config.lr });
    this.updaters = makeUpdaters(config, this.online, this.optimizer);
    copyNetwork(this.online, this.target);
  }

  /** Gradient steps taken so far. */
  get gradientSteps(): number {
    return this.steps;
  }

  /** The greedy action for one observation. */
  greedyAction(observation: Float32Array): number {
    const x = tensor(observation, [OBSERVATION_SIZE, 1], { device: this.config.device });
    try {
      const q = this.online.forward(x).toArray() as Float32Array;
      return argmax(q, 0, 1, ACTIONS);
    } finally {
      x.dispose();
    }
  }

  /** ε-greedy: a uniformly random action with probability ε, else the greedy one. */
  act(observation: Float32Array, epsilon: number, rng: Rng): number {
    return rng.next() < epsilon ? rng.int(ACTIONS) : this.greedyAction(observation);
  }

  /**
   * One gradient step on a minibatch: the TD loss, backward, Adam, then the
   * topology updaters at their update steps; the target network is refreshed
   * every `targetEvery` steps.
   */
  learn(batch: ReplayBatch): LearnResult {
    const { device, gamma } = this.config;
    const B = batch.size;
    const step = this.steps;

    // max_a' Q_target(s', a'), feature-major [actions, B]: Q(s'_b, a) at a * B + b.
    const xNext = toFeatureMajor(batch.nextObservations, B, OBSERVATION_SIZE, { device });
    let qNext: Float32Array;
    try {
      qNext = this.target.forward(xNext).toArray() as Float32Array;
    } finally {
      xNext.dispose();
    }

    const x = toFeatureMajor(batch.observations, B, OBSERVATION_SIZE, { device });
    let grad: Tensor | null = null;
    try {
      const q = this.online.forward(x).toArray() as Float32Array;
      // dLoss/dQ: nonzero only at the action taken.
      const dq = new Float32Array(ACTIONS * B);
      let loss = 0;
      let meanQ = 0;
      for (let b = 0; b < B; b++) {
        const a = batch.actions[b];
        let next = qNext[b];
        for (let k = 1; k < ACTIONS; k++) next = Math.max(next, qNext[k * B + b]);
        const y = batch.rewards[b] + gamma * (1 - batch.terminated[b]) * next;
        const qa = q[a * B + b];
        const delta = qa - y;
        meanQ += qa / B;
        if (this.config.loss === 'huber') {
          const abs = Math.abs(delta);
          loss += (abs <= 1 ? 0.5 * delta * delta : abs - 0.5) / B;
          dq[a * B + b] = Math.max(-1, Math.min(1, delta)) / B;
        } else {
          loss += (delta * delta) / B;
          dq[a * B + b] = (2 * delta) / B;
        }
      }
      grad = tensor(dq, [ACTIONS, B], { device });
      this.online.backward(grad);
      this.optimizer.step(
        this.online.parameters().map((p) => {
          if (p.grad === null) throw new Error(`DqnAgent.learn: parameter '${p.name}' has no gradient`);
          return { value: p.value, grad: p.grad, key: p.key };
        })
      );
      // After the optimizer step, from the x and dy each sparse layer captured in this backward pass.
      const updates: UpdateReport[] = [];
      for (const updater of this.updaters) {
        updater.observe(step);
        if (updater.isUpdateStep(step)) updates.push(updater.update(step));
      }
      this.steps = step + 1;
      if (this.steps % this.config.targetEvery === 0) copyNetwork(this.online, this.target);
      return { loss, meanQ, updates };
    } finally {
      // The layers keep x and dy until the next forward; nothing reads them after the update.
      grad?.dispose();
      x.dispose();
    }
  }

  /** Stored weights plus biases of the online network. */
  parameterCount(): number {
    return parameterCount(this.online);
  }

  /** Stored weights of each weight layer of the online network. */
  layerNnz(): number[] {
    return this.online.weightLayers().map((l) => (l instanceof SparseLinear ? l.weight.nnz : l.inFeatures * l.outFeatures));
  }

  /** Frees both networks, the optimizer state and the updaters. */
  dispose(): void {
    this.updaters.forEach((u) => u.dispose());
    this.optimizer.dispose();
    this.online.dispose();
    this.target.dispose();
  }
}
