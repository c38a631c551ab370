/**
 * `npm run demo`: LeNet-300-100 on MNIST, dense against sparse networks kept
 * sparse by Static, SET and RigL, at 90% and 98% sparsity (ERK per layer).
 *
 * Prints the device it runs on, a progress bar per run, a results table and
 * whether the demo's two targets were met, and writes to --out:
 *   accuracy.png              test accuracy after each epoch, every run
 *   connections-<s>.png       first-layer connections per input pixel, Static beside RigL
 *   results.json              everything measured, for further plotting
 *
 * Run `npm run demo -- --help` for the options.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

import { Presets, SingleBar } from 'cli-progress';
import { backends, defaultDevice, DynasparseError, setDefaultDevice, type Device } from 'dynasparse';

import { savePng } from '../common/plot';
import { loadMnist, type MnistSplit } from './data';
import { OptionError, parseOptions, plannedRuns, runLabel, usage, type DemoOptions } from './options';
import { accuracyChart, checkTargets, connectionsChart, finalAccuracy, resultsTable, secondsPerEpoch, staticRiglPairs, type RunResult } from './report';
import { ARCHITECTURE, trainRun, type TrainConfig } from './train';

/** "cpu (2 threads, OpenBLAS GEMM)" or "cuda (NVIDIA H100 80GB HBM3, compute capability 9.0)". */
export function describeDevice(device: Device): string {
  const [cpu, cuda] = backends();
  if (device === 'cuda') {
    return `cuda (${cuda.deviceName ?? 'unknown GPU'}${cuda.computeCapability ? `, compute capability ${cuda.computeCapability}` : ''})`;
  }
  return `cpu (${cpu.threads} thread${cpu.threads === 1 ? '' : 's'}, ${cpu.blas === 'openblas' ? 'OpenBLAS' : 'built-in'} GEMM)`;
}

/**
 * Why `device` cannot run the demo, or null when it can: a six-step RigL and
 * SET run on a few digits touches every kernel the demo uses. A backend that
 * cannot run one (a library or an instruction this GPU or build lacks)
 * answers E_DEVICE.
 */
export function missingKernel(device: Device, data: MnistSplit): string | null {
  try {
    for (const method of ['rigl', 'set'] as const) {
      // 6 steps: mask updates at steps 1 to 4 (75% of 6), the first with a drop fraction of 0.225.
      trainRun({ method, sparsity: 0.9 }, data, { epochs: 1, batchSize: 16, lr: 0.1, updateEvery: 1, shift: 1, seed: 0, device, trainLimit: 96 });
    }
    return null;
  } catch (e) {
    if (e instanceof DynasparseError && e.code === 'E_DEVICE') return e.message;
    throw e;
  }
}

/**
 * Picks the device: the option when given (checked), else the library's
 * default. When the default is CUDA but a kernel the demo needs cannot run
 * there (E_DEVICE), the demo says so and runs on the CPU; `--device cuda`
 * insists (and fails with the library's error).
 */
function chooseDevice(options: DemoOptions, data: MnistSplit): { device: Device; note: string } {
  let device = options.device ?? defaultDevice();
  let note = '';
  if (device === 'cuda') {
    const cuda = backends()[1];
    if (!cuda.available) throw new OptionError(`--device cuda: CUDA is not available here: ${cuda.reason ?? 'unknown reason'}`);
    const missing = options.device === undefined ? missingKernel('cuda', data) : null;
    if (missing !== null) {
      note = ` (the default device, cuda, cannot run this demo: ${missing})`;
      device = 'cpu';
    }
  }
  setDefaultDevice(device);
  return { device, note };
}

function main(argv: readonly string[]): number {
  let options: DemoOptions;
  let device: Device;
  let note: string;
  let data: MnistSplit;
  try {
    options = parseOptions(argv);
    if (options.help) {
      process.stdout.write(usage());
      return 0;
    }
    data = loadMnist();
    ({ device, note } = chooseDevice(options, data));
  } catch (e) {
    if (e instanceof OptionError) {
      process.stderr.write(`error: ${e.message}\n\n${usage()}`);
      return 2;
    }
    throw e;
  }

  const deviceText = describeDevice(device);
  console.log(`dynasparse demo: ${ARCHITECTURE.join('-')} MLP on MNIST (${data.train.count.toLocaleString('en-US')} train / ` +
    `${data.test.count.toLocaleString('en-US')} test digits from the mnist package)`);
  console.log(`Device: ${deviceText}${note}`);
  console.log(`${options.epochs} epochs per run, batch ${options.batchSize}, SGD lr ${options.lr} (Nesterov momentum 0.9, cosine decay), ` +
    `digits shifted by up to ${options.shift} px, seed ${options.seed}\n`);

  const config: TrainConfig = {
    epochs: options.epochs,
    batchSize: options.batchSize,
    lr: options.lr,
    updateEvery: options.updateEvery,
    shift: options.shift,
    seed: options.seed,
    device,
  };
  const runs = plannedRuns(options);
  const width = Math.max(...runs.map((r) => runLabel(r).length));
  const tty = process.stdout.isTTY === true;
  const results: RunResult[] = [];
  for (const spec of runs) {
    const label = runLabel(spec).padEnd(width);
    const bar = new SingleBar(
      {
        format: `${label} |{bar}| epoch {epoch}/{epochs} | test acc {acc} | {rate}`,
        hideCursor: true,
        barsize: 30,
        stopOnComplete: false,
      },
      Presets.shades_classic
    );
    const started = Date.now();
    let shown = { epoch: 0, epochs: options.epochs, acc: '  -   ', rate: '' };
    bar.start(1, 0, shown);
    let result: RunResult;
    try {
      result = trainRun(spec, data, config, {
        onStep: (step, total) => {
          bar.setTotal(total);
          const elapsed = (Date.now() - started) / 1000;
          shown = { ...shown, rate: `${(step / Math.max(elapsed, 1e-3)).toFixed(0)} steps/s` };
          bar.update(step, shown);
        },
        onEpoch: (epoch, accuracy) => {
          shown = { ...shown, epoch, acc: `${(100 * accuracy).toFixed(2)}%` };
          bar.update(shown);
        },
      });
    } finally {
      bar.stop(); // also on an error: restores the cursor
    }
    if (!tty) {
      // Progress bars draw only on a terminal; say what each run did in a log too.
      console.log(`${label}  ${options.epochs} epochs, test accuracy ${(100 * finalAccuracy(result)).toFixed(2)}%, ` +
        `${secondsPerEpoch(result).toFixed(2)} s/epoch`);
    }
    results.push(result);
  }

  console.log(`\nResults on ${deviceText}:\n`);
  console.log(resultsTable(results));
  console.log('\nTraining FLOPs are counted analytically (3 x 2 x stored weights per sample and step,\n' +
    "plus RigL's dense gradient at each mask update), relative to dense training for the same steps.");
  const targets = checkTargets(results).filter((t) => t.met !== undefined);
  if (targets.length > 0) console.log('');
  for (const t of targets) console.log(`${t.met ? 'met   ' : 'MISSED'}  ${t.name}: ${t.detail}`);

  const out = path.resolve(options.out);
  const subtitle = `${ARCHITECTURE.join('-')}, ${data.train.count.toLocaleString('en-US')} training digits, ` +
    `${options.epochs} epochs, seed ${options.seed}, ${device}`;
  const written = [savePng(accuracyChart(results, subtitle), path.join(out, 'accuracy.png'))];
  for (const pair of staticRiglPairs(results)) {
    const name = `connections-${Number((pair[0].spec.sparsity * 100).toFixed(2))}.png`;
    written.push(savePng(connectionsChart(pair, `after ${options.epochs} epochs; brighter = more connections`), path.join(out, name)));
  }
  const json = path.join(out, 'results.json');
  fs.writeFileSync(json, JSON.stringify({
    device: deviceText,
    options: { ...options, help: undefined },
    split: { train: data.train.count, test: data.test.count },
    runs: results.map((r) => ({
      method: r.spec.method,
      sparsity: r.spec.sparsity,
      parameters: r.parameters,
      layers: r.layers,
      testAccuracy: r.testAccuracy,
      epochSeconds: r.epochSeconds,
      steps: r.steps,
      denseGradientSteps: r.denseGradientSteps,
      connectionsPerPixel: Array.from(r.connectionsPerPixel),
    })),
    table: resultsTable(results),
  }, null, 1) + '\n');
  written.push(json);
  const shown = (f: string) => {
    const rel = path.relative(process.cwd(), f);
    return rel.startsWith('..') || path.isAbsolute(rel) ? f : rel;
  };
  console.log(`\nWrote ${written.map(shown).join(', ')}`);
  return 0;
}

if (require.main === module) {
  try {
    process.exitCode = main(process.argv.slice(2));
  } catch (e) {
    // A GPU build may lack a kernel the demo needs: say so plainly, with the way out.
    if (e instanceof DynasparseError && e.code === 'E_DEVICE') {
      process.stderr.write(`\nerror: ${e.message}\nRun on the CPU instead: npm run demo -- --device cpu\n`);
      process.exitCode = 1;
    } else {
      throw e;
    }
  }
}

export { main };
