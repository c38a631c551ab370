/**
 * Command-line options of the sparse DQN example. Parsing is separate from
 * main.ts so it can be tested without training anything.
 */
import { deviceOption, finiteNumber, OptionError, parseArgv, positiveInteger, subsetOf } from '../common/options';
import { longestUpdatePeriod } from '../common/schedule';

import { METHODS, updatePeriodProblemOf, type Method } from './agent';
import { gradientStepsOf, type DqnConfig } from './train';

export { OptionError };

/** Parsed, validated options. */
export interface DqnOptions {
  steps: number;
  seeds: number;
  methods: Method[];
  sparsity: number;
  /** 'cpu', 'cuda', or undefined for the library's default device. */
  device: 'cpu' | 'cuda' | undefined;
  out: string;
  lr: number;
  batchSize: number;
  trainEvery: number;
  targetEvery: number;
  updateEvery: number;
  dropFraction: number;
  help: boolean;
}

/**
 * Defaults: chosen so that the 15 runs (5 methods x 3 seeds) finish in about
 * six minutes on 2 CPU cores, while dense DQN still learns CartPole (see README).
 */
export const DEFAULTS = {
  steps: 15000,
  seeds: 3,
  methods: [...METHODS] as Method[],
  sparsity: 0.9,
  out: 'examples/sparse-dqn/out',
  lr: 5e-4,
  batchSize: 64,
  trainEvery: 2,
  targetEvery: 250,
  updateEvery: 250,
  dropFraction: 0.3,
};

/** The settings not on the command line. */
export const FIXED = {
  hidden: [512, 512],
  gamma: 0.99,
  loss: 'mse' as const,
  learningStarts: 1000,
  epsilonStart: 1,
  epsilonEnd: 0.02,
  epsilonDecay: 0.1,
  updateEnd: 0.75,
  pruneBegin: 0.2,
  pruneEnd: 0.75,
};

/** The options of the run closer to the paper's classic-control runs that --help and the README suggest. */
export const PAPER_LIKE = { steps: 100000, trainEvery: 1, updateEvery: 1000, seeds: 5 };

/** The text `--help` prints. */
export function usage(): string {
  // Most of a run's time is its gradient steps (a batch forward and backward each, against
  // one single-observation forward per environment step).
  const gradientSteps = (o: { steps: number; trainEvery: number }) => gradientStepsOf({ ...o, learningStarts: FIXED.learningStarts });
  const perRun = gradientSteps(PAPER_LIKE) / gradientSteps(DEFAULTS);
  const total = (perRun * PAPER_LIKE.seeds) / DEFAULTS.seeds;
  const n = (x: number) => x.toLocaleString('en-US');
  return `Usage: npm run examples -- sparse-dqn [options]

DQN on CartPole-v1 with a 4-512-512-2 Q-network: dense, and sparse at ERK
sparsity kept sparse by Static, SET and RigL or reached by magnitude pruning.
Prints the mean return over the last 10% of episodes per method (95% CI across
seeds) and writes a PNG of return curves and results.json.

Options:
  --steps N           environment steps per run (default ${DEFAULTS.steps})
  --seeds N           seeds 0..N-1 per method (default ${DEFAULTS.seeds})
  --methods LIST      comma-separated subset of ${METHODS.join(',')}
                      (default ${DEFAULTS.methods.join(',')})
  --sparsity X        sparsity of the sparse methods, in (0, 1) (default ${DEFAULTS.sparsity})
  --device NAME       cpu or cuda (default: the library's default device, cuda when available)
  --out DIR           folder for returns.png and results.json (default ${DEFAULTS.out})
  --lr X              Adam learning rate (default ${DEFAULTS.lr})
  --batch-size N      minibatch size (default ${DEFAULTS.batchSize})
  --train-every N     environment steps per gradient step (default ${DEFAULTS.trainEvery})
  --target-every N    gradient steps between target-network copies (default ${DEFAULTS.targetEvery})
  --update-every N    gradient steps between SET/RigL mask updates and pruning steps
                      (default ${DEFAULTS.updateEvery}). SET and RigL update from step N to 75% of
                      the gradient steps (step E) with a drop fraction annealed to 0
                      at step E - N, so N may be at most E / 3 (with the defaults
                      ${n(longestUpdatePeriod(gradientSteps(DEFAULTS), FIXED.updateEnd))} of ${n(gradientSteps(DEFAULTS))}); pruning's last step must fall within the run
  --drop-fraction X   initial SET/RigL drop fraction, cosine-annealed (default ${DEFAULTS.dropFraction})
  -h, --help          show this help

Closer to the paper's classic-control runs (${n(PAPER_LIKE.steps)} steps, one gradient step
per environment step: ${n(gradientSteps(PAPER_LIKE))} gradient steps per run against ${n(gradientSteps(DEFAULTS))}, so
about ${Math.round(perRun)} times as long per run, and with ${PAPER_LIKE.seeds} seeds instead of ${DEFAULTS.seeds} about
${Math.round(total)} times the default command's time):
  npm run examples -- sparse-dqn --steps ${PAPER_LIKE.steps} --train-every ${PAPER_LIKE.trainEvery} --update-every ${PAPER_LIKE.updateEvery} --seeds ${PAPER_LIKE.seeds}
`;
}

/** Parses argv (without the node and script names). Throws {@link OptionError}. */
export function parseOptions(argv: readonly string[]): DqnOptions {
  const v = parseArgv(argv, {
    steps: { type: 'string' },
    seeds: { type: 'string' },
    methods: { type: 'string' },
    sparsity: { type: 'string' },
    device: { type: 'string' },
    out: { type: 'string' },
    lr: { type: 'string' },
    'batch-size': { type: 'string' },
    'train-every': { type: 'string' },
    'target-every': { type: 'string' },
    'update-every': { type: 'string' },
    'drop-fraction': { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },).values;

  const methods = subsetOf('methods', v.methods, METHODS, DEFAULTS.methods);

  const device = deviceOption(v.device);
  if (v.out !== undefined && v.out.trim() === '') throw new OptionError('--out: expected a folder, got an empty string');

  const options: DqnOptions = {
    steps: positiveInteger('steps', v.steps, DEFAULTS.steps),
    seeds: positiveInteger('seeds', v.seeds, DEFAULTS.seeds),
    methods,
    sparsity: finiteNumber('sparsity', v.sparsity, DEFAULTS.sparsity, (x) => x > 0 && x < 1, 'a number in (0, 1)'),
    device,
    out: v.out ?? DEFAULTS.out,
    lr: finiteNumber('lr', v.lr, DEFAULTS.lr, (x) => x > 0, 'a positive number'),
    batchSize: positiveInteger('batch-size', v['batch-size'], DEFAULTS.batchSize),
    trainEvery: positiveInteger('train-every', v['train-every'], DEFAULTS.trainEvery),
    targetEvery: positiveInteger('target-every', v['target-every'], DEFAULTS.targetEvery),
    updateEvery: positiveInteger('update-every', v['update-every'], DEFAULTS.updateEvery),
    dropFraction: finiteNumber('drop-fraction', v['drop-fraction'], DEFAULTS.dropFraction, (x) => x >= 0 && x <= 1, 'a number in [0, 1]'),
    help: v.help ?? false,
  };
  if (options.steps <= FIXED.learningStarts + options.trainEvery)
    throw new OptionError(`--steps: expected more than ${FIXED.learningStarts + options.trainEvery} (the first ${FIXED.learningStarts} steps only fill the replay buffer), got ${options.steps}`);
  // SET, RigL and pruning update topologies every --update-every gradient steps; a period
  // too long for the run would silently leave them Static (or unpruned).
  const gradientSteps = gradientStepsOf({ ...FIXED, ...options });
  const counted = `${gradientSteps} gradient steps (one every ${options.trainEvery} of the ${options.steps} environment steps after the first ${FIXED.learningStarts})`;
  for (const method of methods) {
    const problem = updatePeriodProblemOf({ ...FIXED, method, gradientSteps, updateEvery: options.updateEvery }, counted);
    if (problem !== null) throw new OptionError(`--update-every: ${problem}`);
  }
  return options;
}

/** The full run configuration of the options on `device`. */
export function configOf(options: DqnOptions, device: 'cpu' | 'cuda'): DqnConfig {
  return {
    ...FIXED,
    hidden: [...FIXED.hidden],
    steps: options.steps,
    sparsity: options.sparsity,
    device,
    lr: options.lr,
    batchSize: options.batchSize,
    // Large enough that no transition is ever overwritten at the defaults (the paper's 100k).
    bufferSize: 100000,
    trainEvery: options.trainEvery,
    targetEvery: options.targetEvery,
    updateEvery: options.updateEvery,
    dropFraction: options.dropFraction,
  };
}
