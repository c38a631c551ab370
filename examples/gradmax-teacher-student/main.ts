/**
 * The GradMax teacher-student experiment (see experiment.ts for the setting).
 *
 *   npm run examples -- gradmax-teacher-student [--seeds N] [--out DIR]
 *   (or, once built, node dist-examples/examples/gradmax-teacher-student/main.js ...;
 *   --help lists the options)
 *
 * Trains, for each seed, a student grown by gradmax, gradmax-opt, random and
 * zeros, and the fixed 10-unit ('big') and 5-unit ('small') students; prints
 * the final losses and the gradient-norm gain right after each growth (mean
 * over seeds, and per growth how many seeds had gradmax above random), and
 * writes to --out:
 *   loss.png        training loss (log10) per step, mean over seeds
 *   gradnorm.png    full gradient norm per step, mean over seeds
 *   gain.png        gain (‖∇θ‖ after / before growth) at each growth, mean over seeds
 *   gains.csv       every growth of every run
 *   results.json    every run's loss and gradient-norm curves and growths
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { lineChart, savePng, type Series } from '../common/plot';
import { markdownTable } from '../common/table';
import { GROW_METHODS, PAPER_CONFIG, RUNS, runStudent, teacherData, type RunName, type RunResult } from './experiment';
import { OptionError, parseOptions, usage, type TeacherStudentOptions } from './options';

const LABELS: Record<RunName, string> = {
  gradmax: 'GradMax',
  'gradmax-opt': 'GradMax-Opt',
  random: 'Random',
  zeros: 'Zeros',
  big: 'Baseline (10 units)',
  small: 'Baseline (5 units)',
};

function meanOf(values: number[]): number {
  return values.reduce((a, b) => a + b, 0) / values.length;
}

function stdOf(values: number[]): number {
  const m = meanOf(values);
  return Math.sqrt(values.reduce((a, b) => a + (b - m) ** 2, 0) / Math.max(1, values.length - 1));
}

/** Per-step mean over runs of one curve. */
function meanCurve(results: RunResult[], pick: (r: RunResult) => number[]): number[] {
  const curves = results.map(pick);
  return curves[0].map((_, i) => meanOf(curves.map((c) => c[i])));
}

/** Runs the experiment for the command line `argv`; returns the exit status (2: a usage error). */
export function main(argv: readonly string[]): number {
  let options: TeacherStudentOptions;
  try {
    options = parseOptions(argv);
  } catch (e) {
    if (e instanceof OptionError) {
      process.stderr.write(`error: ${e.message}\n\n${usage()}`);
      return 2;
    }
    throw e;
  }
  if (options.help) {
    process.stdout.write(usage());
    return 0;
  }
  const seeds = options.seeds;
  const out = path.resolve(options.out);
  const config = PAPER_CONFIG;
  const data = teacherData(config);
  const results: Record<RunName, RunResult[]> = Object.fromEntries(RUNS.map((r) => [r, []])) as unknown as Record<RunName, RunResult[]>;
  const started = Date.now();
  try {
    for (let seed = 0; seed < seeds; seed++) {
      for (const run of RUNS) results[run].push(runStudent(run, seed, data, config));
      process.stdout.write(`seed ${seed} done (${((Date.now() - started) / 1000).toFixed(1)} s)\n`);
    }
  } finally {
    data.x.dispose();
    data.y.dispose();
  }

  // Final loss per run.
  const lossRows = RUNS.map((run) => {
    const finals = results[run].map((r) => r.loss[r.loss.length - 1]);
    return [LABELS[run], String(results[run][0].hiddenAtEnd), meanOf(finals).toExponential(3), stdOf(finals).toExponential(2)];
  });
  console.log(`\nTeacher-student (${seeds} seeds, ${config.steps} full-batch SGD steps at lr ${config.lr}, MSE)\n`);
  console.log(markdownTable(['run', 'hidden at end', 'final loss (mean)', 'std'], lossRows, ['left', 'right', 'right', 'right']));

  // Gain at each growth.
  const growing = GROW_METHODS;
  const gainRows = config.growAfter.map((step, g) => {
    const gain = (run: RunName) => results[run].map((r) => r.growths[g].gain);
    const wins = results.gradmax.filter((r, s) => r.growths[g].gain > results.random[s].growths[g].gain).length;
    return [String(step), ...growing.map((run) => meanOf(gain(run)).toFixed(4)), `${wins}/${seeds}`];
  });
  console.log('\nGradient-norm gain right after each growth (‖∇θ‖ after / before, mean over seeds)\n');
  console.log(markdownTable(['after step', ...growing.map((r) => LABELS[r]), 'seeds with GradMax > Random'], gainRows, ['right', 'right', 'right', 'right', 'right', 'right']));
  const everyGrowth = results.gradmax.filter((r, s) => r.growths.every((gr, g) => gr.gain > results.random[s].growths[g].gain)).length;
  console.log(`\nGradMax's gain above Random's at every growth: ${everyGrowth} of ${seeds} seeds.`);
  // Along each method's own trajectory the networks differ after the first growth; compare from the same states too.
  let sameWins = 0;
  let sameTotal = 0;
  for (const run of growing)
    for (const r of results[run])
      for (const gr of r.growths) {
        sameTotal += 1;
        if (gr.sameState.gradmax >= gr.sameState.random) sameWins += 1;
      }
  const sameRows = config.growAfter.map((step, g) => [
    String(step),
    ...growing.map((m) => meanOf(results.gradmax.map((r) => Math.hypot(r.growths[g].before, r.growths[g].sameState[m]) / r.growths[g].before)).toFixed(4)),
  ]);
  console.log("\nSame-state gain: from the GradMax run's state just before each growth, the gain each method would give (mean over seeds)\n");
  console.log(markdownTable(['after step', ...growing.map((r) => LABELS[r])], sameRows, ['right', 'right', 'right', 'right', 'right']));
  console.log(`From the same state, GradMax's new-weight gradient norm >= Random's in ${sameWins} of ${sameTotal} growths (all runs, all seeds).`);
  // The prediction of growNeurons against the measurement: after² = before² + predicted².
  let worst = 0;
  for (const run of growing)
    for (const r of results[run])
      for (const gr of r.growths) {
        const measured = Math.sqrt(Math.max(0, gr.after ** 2 - gr.before ** 2));
        worst = Math.max(worst, Math.abs(measured - (gr.predicted ?? 0)) / Math.max(1e-12, gr.after));
      }
  console.log(`growNeurons' predicted gradient norm of the new weights vs sqrt(after² - before²): largest difference ${worst.toExponential(2)} of ‖∇θ‖.`);

  // Files.
  fs.mkdirSync(out, { recursive: true });
  const steps = Array.from({ length: config.steps }, (_, i) => i);
  const curves = (pick: (r: RunResult) => number[], transform: (v: number) => number): Series[] =>
    RUNS.map((run) => ({ name: LABELS[run], x: steps, y: meanCurve(results[run], pick).map(transform), markers: false, ...(run === 'big' || run === 'small' ? { dash: [6, 4] } : {}) }));
  const subtitle = `student 10-5-10 grown by one unit after steps ${config.growAfter.join(', ')}; mean of ${seeds} seeds`;
  savePng(lineChart(curves((r) => r.loss, Math.log10), { title: 'Teacher-student: training loss', subtitle, xLabel: 'step', yLabel: 'log10 MSE', xInteger: true }), path.join(out, 'loss.png'));
  savePng(lineChart(curves((r) => r.gradNorm, (v) => v), { title: 'Teacher-student: gradient norm', subtitle, xLabel: 'step', yLabel: '‖∇θ‖', xInteger: true }), path.join(out, 'gradnorm.png'));
  const gainSeries: Series[] = growing.map((run) => ({ name: LABELS[run], x: config.growAfter, y: config.growAfter.map((_, g) => meanOf(results[run].map((r) => r.growths[g].gain))) }));
  savePng(lineChart(gainSeries, { title: 'Gradient-norm gain right after growth', subtitle: `‖∇θ‖ after / before growing, mean of ${seeds} seeds`, xLabel: 'growth after step', yLabel: 'gain', xInteger: true }), path.join(out, 'gain.png'));
  const csv = ['run,seed,step,grad_norm_before,grad_norm_after,gain,predicted_new_grad_norm'];
  for (const run of growing) for (const r of results[run]) for (const g of r.growths) csv.push([run, r.seed, g.step, g.before, g.after, g.gain, g.predicted ?? ''].join(','));
  fs.writeFileSync(path.join(out, 'gains.csv'), csv.join('\n') + '\n');
  fs.writeFileSync(path.join(out, 'results.json'), JSON.stringify({ config, seeds, results }, null, 1));
  console.log(`\nWrote loss.png, gradnorm.png, gain.png, gains.csv and results.json to ${out}`);
  return 0;
}

if (require.main === module) process.exitCode = main(process.argv.slice(2));
