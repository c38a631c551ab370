/**
 * `npm run examples -- sparse-dqn`: DQN on CartPole-v1 with a dense and with
 * sparse Q-networks (Graesser, Evci, Elsen and Castro, "The State of Sparse
 * Training in Deep Reinforcement Learning", ICML 2022): dense, and at 90% ERK
 * sparsity Static, SET, RigL and gradual magnitude pruning, over several seeds.
 *
 * Prints one line per run and a table with, per method, the mean return over
 * the last 10% of episodes (mean over seeds, 95% confidence interval), the
 * parameters and the time per run, and writes to --out:
 *   returns.png     smoothed episode return vs environment step, mean over seeds
 *   results.json    every run's episodes, losses and the settings
 *
 * Run `npm run examples -- sparse-dqn --help` for the options.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

import { backends, defaultDevice, DynasparseError, setDefaultDevice, type Device } from 'dynasparse';

import { savePng } from '../common/plot';
import { layerSizes, METHOD_LABELS } from './agent';
import { configOf, OptionError, parseOptions, usage, type DqnOptions } from './options';
import { resultsTable, returnsChart, summarize, finalReturn } from './report';
import { gradientStepsOf, runDqn, type DqnConfig, type RunResult } from './train';

/** "cpu (2 threads, OpenBLAS GEMM)" or "cuda (NVIDIA H100 80GB HBM3, compute capability 9.0)". */
export function describeDevice(device: Device): string {
  const [cpu, cuda] = backends();
  if (device === 'cuda') return `cuda (${cuda.deviceName ?? 'unknown GPU'}${cuda.computeCapability ? `, compute capability ${cuda.computeCapability}` : ''})`;
  return `cpu (${cpu.threads} thread${cpu.threads === 1 ? '' : 's'}, ${cpu.blas === 'openblas' ? 'OpenBLAS' : 'built-in'} GEMM)`;
}

/**
 * Why `device` cannot run these methods, or null when it can: a short run of
 * each sparse method touches every kernel the example uses. A backend that
 * cannot run one (a library or an instruction this GPU or build lacks)
 * answers E_DEVICE.
 */
export async function missingKernel(device: Device, config: DqnConfig, options: Pick<DqnOptions, 'methods'>): Promise<string | null> {
  const tiny: DqnConfig = { ...config, device, hidden: [16, 16], steps: 40, learningStarts: 8, batchSize: 8, trainEvery: 1, updateEvery: 4, targetEvery: 4 };
  try {
    for (const method of options.methods) await runDqn(method, 0, tiny);
    return null;
  } catch (e) {
    if (e instanceof DynasparseError && e.code === 'E_DEVICE') return e.message;
    throw e;
  }
}

/**
 * Picks the device: the option when given, else the library's default. When
 * the default is CUDA but a kernel a chosen method needs cannot run there
 * (E_DEVICE), says so and runs on the CPU; `--device cuda` insists (and fails
 * with the library's error).
 */
async function chooseDevice(options: DqnOptions, config: DqnConfig): Promise<{ device: Device; note: string }> {
  let device = options.device ?? defaultDevice();
  let note = '';
  if (device === 'cuda') {
    const cuda = backends()[1];
    if (!cuda.available) throw new OptionError(`--device cuda: CUDA is not available here: ${cuda.reason ?? 'unknown reason'}`);
    const missing = options.device === undefined ? await missingKernel('cuda', config, options) : null;
    if (missing !== null) {
      note = ` (the default device, cuda, cannot run every method: ${missing})`;
      device = 'cpu';
    }
  }
  setDefaultDevice(device);
  return { device, note };
}

export async function main(argv: readonly string[]): Promise<number> {
  let options: DqnOptions;
  let device: Device;
  let note: string;
  try {
    options = parseOptions(argv);
    if (options.help) {
      process.stdout.write(usage());
      return 0;
    }
    ({ device, note } = await chooseDevice(options, configOf(options, 'cpu')));
  } catch (e) {
    if (e instanceof OptionError) {
      process.stderr.write(`error: ${e.message}\n\n${usage()}`);
      return 2;
    }
    throw e;
  }
  const config = configOf(options, device);
  const deviceText = describeDevice(device);
  const sizes = layerSizes(config.hidden).join('-');
  console.log(`dynasparse sparse DQN: CartPole-v1, ${sizes} Q-network, ${options.methods.map((m) => METHOD_LABELS[m]).join(', ')} ` +
    `(sparse methods at ${Number((options.sparsity * 100).toFixed(2))}% ERK sparsity), seeds 0-${options.seeds - 1}`);
  console.log(`Device: ${deviceText}${note}`);
  console.log(`${config.steps.toLocaleString('en-US')} environment steps per run, ${gradientStepsOf(config).toLocaleString('en-US')} gradient steps ` +
    `(batch ${config.batchSize}, Adam lr ${config.lr}, ${config.loss === 'mse' ? 'squared' : 'Huber'} TD loss, γ ${config.gamma}), ` +
    `target copied every ${config.targetEvery} gradient steps, ε ${config.epsilonStart} → ${config.epsilonEnd} over ${config.epsilonDecay * 100}% of the steps\n`);

  const started = performance.now();
  const runs: RunResult[] = [];
  const width = Math.max(...options.methods.map((m) => METHOD_LABELS[m].length));
  for (const method of options.methods) {
    for (let seed = 0; seed < options.seeds; seed++) {
      const r = await runDqn(method, seed, config);
      runs.push(r);
      console.log(`${METHOD_LABELS[method].padEnd(width)}  seed ${seed}  ${String(r.episodeReturns.length).padStart(4)} episodes, ` +
        `return over the last 10%: ${finalReturn(r).toFixed(1).padStart(5)}, ${r.parameters.toLocaleString('en-US')} parameters, ${r.seconds.toFixed(1)} s`);
    }
  }
  const totalSeconds = (performance.now() - started) / 1000;

  const summaries = summarize(runs);
  console.log(`\nResults on ${deviceText} (${options.seeds} seed${options.seeds === 1 ? '' : 's'}; return: mean over seeds of each seed's mean ` +
    `return over its last 10% of episodes, ± the 95% confidence half-width, Student t across seeds):\n`);
  console.log(resultsTable(summaries));
  console.log(`\nAll runs: ${(totalSeconds / 60).toFixed(1)} min.`);

  const out = path.resolve(options.out);
  const subtitle = `${sizes} MLP, sparse at ${Number((options.sparsity * 100).toFixed(2))}% ERK; mean of ${options.seeds} seed${options.seeds === 1 ? '' : 's'}, ${device}`;
  const png = savePng(returnsChart(runs, config.steps, subtitle), path.join(out, 'returns.png'));
  const json = path.join(out, 'results.json');
  fs.writeFileSync(json, JSON.stringify({ device: deviceText, options: { ...options, help: undefined }, config, totalSeconds, summaries, runs }, null, 1));
  console.log(`Wrote ${path.relative(process.cwd(), png)} and ${path.relative(process.cwd(), json)}`);
  return 0;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (e) => {
      // A GPU build may lack a kernel the example needs: say so plainly, with the way out.
      if (e instanceof DynasparseError && e.code === 'E_DEVICE') {
        process.stderr.write(`\nerror: ${e.message}\nRun on the CPU instead: npm run examples -- sparse-dqn --device cpu\n`);
        process.exitCode = 1;
      } else {
        throw e;
      }
    }
  );
}
