/**
 * The replay buffer of DQN: a fixed-size ring of transitions (s, a, r, s',
 * terminated) in flat typed arrays. When it is full, each new transition
 * overwrites the oldest. Minibatches are drawn uniformly, with replacement,
 * from the transitions it holds, by a seeded generator (so a run is
 * reproducible), and come out batch-major (sample after sample), the layout
 * `toFeatureMajor` converts for the network.
 */
import type { Rng } from '../common/random';

/** A minibatch of transitions, batch-major. */
export interface ReplayBatch {
  size: number;
  /** [size, observationSize] batch-major. */
  observations: Float32Array;
  actions: Int32Array;
  rewards: Float32Array;
  /** [size, observationSize] batch-major. */
  nextObservations: Float32Array;
  /** 1 where the episode terminated at this transition (no bootstrapping), else 0. */
  terminated: Float32Array;
}

/** A fixed-capacity ring buffer of transitions. */
export class ReplayBuffer {
  readonly capacity: number;
  readonly observationSize: number;
  private readonly obs: Float32Array;
  private readonly nextObs: Float32Array;
  private readonly actions: Int32Array;
  private readonly rewards: Float32Array;
  private readonly terminated: Float32Array;
  /** Where the next transition goes. */
  private cursor = 0;
  private count = 0;

  constructor(capacity: number, observationSize: number) {
    if (!Number.isSafeInteger(capacity) || capacity < 1) throw new RangeError(`ReplayBuffer: capacity must be a positive integer, got ${capacity}`);
    if (!Number.isSafeInteger(observationSize) || observationSize < 1) throw new RangeError(`ReplayBuffer: observationSize must be a positive integer, got ${observationSize}`);
    this.capacity = capacity;
    this.observationSize = observationSize;
    this.obs = new Float32Array(capacity * observationSize);
    this.nextObs = new Float32Array(capacity * observationSize);
    this.actions = new Int32Array(capacity);
    this.rewards = new Float32Array(capacity);
    this.terminated = new Float32Array(capacity);
  }

  /** Transitions held (at most capacity). */
  get size(): number {
    return this.count;
  }

  /** Stores a transition, overwriting the oldest one when the buffer is full. */
  add(observation: ArrayLike<number>, action: number, reward: number, nextObservation: ArrayLike<number>, terminated: boolean): void {
    const n = this.observationSize;
    if (observation.length !== n || nextObservation.length !== n)
      throw new RangeError(`ReplayBuffer.add: observations must have ${n} values, got ${observation.length} and ${nextObservation.length}`);
    const i = this.cursor;
    this.obs.set(observation, i * n);
    this.nextObs.set(nextObservation, i * n);
    this.actions[i] = action;
    this.rewards[i] = reward;
    this.terminated[i] = terminated ? 1 : 0;
    this.cursor = (i + 1) % this.capacity;
    this.count = Math.min(this.count + 1, this.capacity);
  }

  /** The slot indices of a uniform draw, with replacement, of `size` transitions held. */
  sampleIndices(size: number, rng: Rng): Int32Array {
    if (this.count === 0) throw new RangeError('ReplayBuffer.sample: the buffer is empty');
    if (!Number.isSafeInteger(size) || size < 1) throw new RangeError(`ReplayBuffer.sample: size must be a positive integer, got ${size}`);
    const idx = new Int32Array(size);
    for (let b = 0; b < size; b++) idx[b] = rng.int(this.count);
    return idx;
  }

  /** A minibatch of `size` transitions drawn uniformly with replacement. */
  sample(size: number, rng: Rng): ReplayBatch {
    return this.gather(this.sampleIndices(size, rng));
  }

  /** The transitions in the given slots, batch-major. */
  gather(indices: Int32Array): ReplayBatch {
    const n = this.observationSize;
    const size = indices.length;
    const batch: ReplayBatch = {
      size,
      observations: new Float32Array(size * n),
      actions: new Int32Array(size),
      rewards: new Float32Array(size),
      nextObservations: new Float32Array(size * n),
      terminated: new Float32Array(size),
    };
    for (let b = 0; b < size; b++) {
      const i = indices[b];
      if (!(i >= 0 && i < this.count)) throw new RangeError(`ReplayBuffer.gather: slot ${i} holds no transition`);
      batch.observations.set(this.obs.subarray(i * n, (i + 1) * n), b * n);
      batch.nextObservations.set(this.nextObs.subarray(i * n, (i + 1) * n), b * n);
      batch.actions[b] = this.actions[i];
      batch.rewards[b] = this.rewards[i];
      batch.terminated[b] = this.terminated[i];
    }
    return batch;
  }
}
