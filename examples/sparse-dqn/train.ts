/**
 * One DQN run: an agent of one method learns CartPole for a number of
 * environment steps, and the return of every episode is recorded.
 *
 * The loop (Mnih et al. 2015, as in Dopamine, TF-Agents and Stable-Baselines3):
 * each environment step picks an ε-greedy action (ε decays linearly from
 * `epsilonStart` to `epsilonEnd` over the first `epsilonDecay` fraction of the
 * steps; the first `learningStarts` steps act uniformly at random to fill the
 * replay buffer), stores the transition, and, from `learningStarts` on, every
 * `trainEvery` environment steps takes one gradient step on a minibatch drawn
 * uniformly from the buffer. A truncated episode (500 steps) is stored as not
 * terminated, so its last state is still bootstrapped.
 */
import { synchronize } from 'dynasparse';

import { createRng } from '../common/random';
import { CartPole, OBSERVATION_SIZE } from './cartpole';
import { DqnAgent, type AgentConfig, type Method } from './agent';
import { ReplayBuffer } from './replay';

/** Every setting of a run but the method and the seed. */
export interface DqnConfig extends Omit<AgentConfig, 'method' | 'seed' | 'gradientSteps'> {
  /** Environment steps. */
  steps: number;
  batchSize: number;
  /** Replay capacity in transitions. */
  bufferSize: number;
  /** Random actions and no learning for this many environment steps. */
  learningStarts: number;
  /** Environment steps per gradient step. */
  trainEvery: number;
  epsilonStart: number;
  epsilonEnd: number;
  /** ε reaches epsilonEnd after this fraction of the environment steps. */
  epsilonDecay: number;
}

/** What one run produced. */
export interface RunResult {
  method: Method;
  seed: number;
  /** Sparsity asked for (0 for dense). */
  sparsity: number;
  /** Stored weights plus biases at the end of the run. */
  parameters: number;
  /** Stored weights per weight layer at the end of the run. */
  layerNnz: number[];
  /** Return of each finished episode, in order. */
  episodeReturns: number[];
  /** The environment step (1-based count) at which each episode finished. */
  episodeEnds: number[];
  gradientSteps: number;
  /** Topology updates that changed something (SET/RigL mask updates, pruning steps; per updater). */
  topologyUpdates: number;
  /** Mean TD loss over each block of 1% of the gradient steps. */
  loss: number[];
  /** Wall-clock seconds of the run. */
  seconds: number;
}

/** Called while a run trains, for progress display. */
export interface RunHooks {
  /** After each finished episode. */
  onEpisode?(step: number, totalSteps: number, episodeReturn: number): void;
}

/** Gradient steps a run of `config` takes: one every trainEvery environment steps from learningStarts on. */
export function gradientStepsOf(config: Pick<DqnConfig, 'steps' | 'learningStarts' | 'trainEvery'>): number {
  // The t in (learningStarts, steps] that are multiples of trainEvery (see isTrainStep).
  const { steps, learningStarts, trainEvery } = config;
  return Math.max(0, Math.floor(steps / trainEvery) - Math.floor(Math.min(steps, learningStarts) / trainEvery));
}

function isTrainStep(t: number, config: Pick<DqnConfig, 'learningStarts' | 'trainEvery'>): boolean {
  return t > config.learningStarts && t % config.trainEvery === 0;
}

/** ε at environment step t (0-based). */
export function epsilonAt(t: number, config: Pick<DqnConfig, 'steps' | 'learningStarts' | 'epsilonStart' | 'epsilonEnd' | 'epsilonDecay'>): number {
  if (t < config.learningStarts) return 1;
  const span = Math.max(1, Math.floor(config.epsilonDecay * config.steps));
  const f = Math.min(1, t / span);
  return config.epsilonStart + f * (config.epsilonEnd - config.epsilonStart);
}

/**
 * Environment steps between turns of the event loop. The library frees a
 * disposed tensor's buffer at once, but the small native wrapper of each tensor
 * is only freed by its finalizer, which Node.js runs when the event loop turns;
 * yielding now and then keeps those wrappers (about 10 KB per gradient step of
 * this network) from piling up over a long run. See the README.
 */
const YIELD_EVERY = 100;

/** Trains one agent and records its episodes. The agent is freed before returning. */
export async function runDqn(method: Method, seed: number, config: DqnConfig, hooks: RunHooks = {}): Promise<RunResult> {
  const gradientSteps = gradientStepsOf(config);
  if (gradientSteps < 1) throw new RangeError(`runDqn: no gradient step (steps ${config.steps}, learningStarts ${config.learningStarts})`);
  const started = performance.now();
  const agent = new DqnAgent({ ...config, method, seed, gradientSteps });
  // Separate seeded streams for the environment, exploration and replay sampling;
  // the same seed gives every method the same initial states and random actions at first.
  const env = new CartPole(seed);
  const actionRng = createRng(seed * 3 + 1);
  const replayRng = createRng(seed * 3 + 2);
  const buffer = new ReplayBuffer(config.bufferSize, OBSERVATION_SIZE);
  const episodeReturns: number[] = [];
  const episodeEnds: number[] = [];
  const lossBlock = Math.max(1, Math.floor(gradientSteps / 100));
  const loss: number[] = [];
  let lossSum = 0;
  let topologyUpdates = 0;
  try {
    let obs = env.reset();
    let episodeReturn = 0;
    for (let t = 0; t < config.steps; t++) {
      if (t % YIELD_EVERY === YIELD_EVERY - 1) await new Promise((resolve) => setImmediate(resolve));
      const action = agent.act(obs, epsilonAt(t, config), actionRng);
      const { observation, reward, terminated, truncated } = env.step(action);
      buffer.add(obs, action, reward, observation, terminated);
      episodeReturn += reward;
      obs = observation;
      if (terminated || truncated) {
        episodeReturns.push(episodeReturn);
        episodeEnds.push(t + 1);
        hooks.onEpisode?.(t + 1, config.steps, episodeReturn);
        episodeReturn = 0;
        obs = env.reset();
      }
      if (isTrainStep(t + 1, config)) {
        const result = agent.learn(buffer.sample(config.batchSize, replayRng));
        if (!Number.isFinite(result.loss)) throw new Error(`runDqn: ${method} seed ${seed}: the TD loss is ${result.loss} at gradient step ${agent.gradientSteps}`);
        topologyUpdates += result.updates.filter((u) => u.layers.some((l) => l.dropped > 0 || l.grown > 0)).length;
        lossSum += result.loss;
        if (agent.gradientSteps % lossBlock === 0) {
          loss.push(lossSum / lossBlock);
          lossSum = 0;
        }
      }
    }
    synchronize(config.device); // so the time covers the work queued on a GPU
    return {
      method,
      seed,
      sparsity: method === 'dense' ? 0 : config.sparsity,
      parameters: agent.parameterCount(),
      layerNnz: agent.layerNnz(),
      episodeReturns,
      episodeEnds,
      gradientSteps: agent.gradientSteps,
      topologyUpdates,
      loss,
      seconds: (performance.now() - started) / 1000,
    };
  } finally {
    agent.dispose();
  }
}
