/**
 * Turns finished runs into what a person reads: per method the mean return over
 * the last 10% of episodes with a 95% confidence interval across seeds, the
 * results table, and the chart of return curves. No training here, so it is
 * tested on made-up runs.
 */
import type { Canvas } from '@napi-rs/canvas';

import { lineChart, type Series } from '../common/plot';
import { markdownTable } from '../common/table';
import { METHOD_LABELS, type Method } from './agent';
import type { RunResult } from './train';

/** Colour of each method in the chart (Okabe-Ito: colour-blind safe). */
export const METHOD_COLORS: Record<Method, string> = { dense: '#000000', static: '#0072B2', set: '#E69F00', rigl: '#D55E00', pruning: '#009E73' };

/** Two-sided 95% quantiles t(0.975, df) of Student's t for df = 1..30. */
const T975 = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145, 2.131, 2.12, 2.11, 2.101, 2.093, 2.086, 2.08, 2.074, 2.069, 2.064, 2.06, 2.056, 2.052, 2.048, 2.045, 2.042];

/** t(0.975, df): the table up to 30, then the Cornish-Fisher expansion around the normal quantile (error < 1e-3). */
export function tQuantile975(df: number): number {
  if (!Number.isInteger(df) || df < 1) throw new RangeError(`tQuantile975: df must be a positive integer, got ${df}`);
  if (df <= T975.length) return T975[df - 1];
  const z = 1.959964;
  return z + (z ** 3 + z) / (4 * df) + (5 * z ** 5 + 16 * z ** 3 + 3 * z) / (96 * df * df);
}

/** Mean and the half-width of its 95% confidence interval (Student t, n − 1 degrees of freedom; NaN for one value). */
export function meanCi(values: readonly number[]): { mean: number; halfWidth: number; n: number } {
  const n = values.length;
  if (n === 0) return { mean: NaN, halfWidth: NaN, n };
  const mean = values.reduce((a, b) => a + b, 0) / n;
  if (n === 1) return { mean, halfWidth: NaN, n };
  const variance = values.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1);
  return { mean, halfWidth: (tQuantile975(n - 1) * Math.sqrt(variance)) / Math.sqrt(n), n };
}

/** The mean return over the last `fraction` of a run's episodes (at least one episode). */
export function finalReturn(run: Pick<RunResult, 'episodeReturns'>, fraction = 0.1): number {
  const r = run.episodeReturns;
  if (r.length === 0) return NaN;
  const k = Math.max(1, Math.ceil(fraction * r.length));
  return r.slice(r.length - k).reduce((a, b) => a + b, 0) / k;
}

/** The runs grouped by method, in the order the methods first appear. */
export function byMethod(runs: readonly RunResult[]): Map<Method, RunResult[]> {
  const groups = new Map<Method, RunResult[]>();
  for (const r of runs) groups.set(r.method, [...(groups.get(r.method) ?? []), r]);
  return groups;
}

/** One method's summary over its seeds. */
export interface MethodSummary {
  method: Method;
  sparsity: number;
  seeds: number;
  /** Mean over seeds of each seed's mean return over its last 10% of episodes. */
  finalReturn: number;
  /** Half-width of the 95% confidence interval of finalReturn across seeds. */
  ci: number;
  /** Each seed's final return. */
  perSeed: number[];
  /** Stored weights plus biases at the end (mean over seeds; the same for every seed). */
  parameters: number;
  /** Mean seconds per run. */
  seconds: number;
}

/** The summary of every method. */
export function summarize(runs: readonly RunResult[]): MethodSummary[] {
  return [...byMethod(runs)].map(([method, group]) => {
    const perSeed = group.map((r) => finalReturn(r));
    const { mean, halfWidth } = meanCi(perSeed);
    return {
      method,
      sparsity: group[0].sparsity,
      seeds: group.length,
      finalReturn: mean,
      ci: halfWidth,
      perSeed,
      parameters: Math.round(group.reduce((a, r) => a + r.parameters, 0) / group.length),
      seconds: group.reduce((a, r) => a + r.seconds, 0) / group.length,
    };
  });
}

function formatSeconds(s: number): string {
  return s >= 10 ? `${s.toFixed(0)} s` : `${s.toFixed(1)} s`;
}

/** The results table: method, sparsity, parameters, final return ± CI, per-seed returns, time per run. */
export function resultsTable(summaries: readonly MethodSummary[]): string {
  const rows = summaries.map((s) => [
    METHOD_LABELS[s.method],
    `${Number((s.sparsity * 100).toFixed(2))}%`,
    s.parameters.toLocaleString('en-US'),
    Number.isNaN(s.ci) ? s.finalReturn.toFixed(1) : `${s.finalReturn.toFixed(1)} ± ${s.ci.toFixed(1)}`,
    s.perSeed.map((v) => v.toFixed(0)).join(', '),
    formatSeconds(s.seconds),
  ]);
  return markdownTable(
    ['method', 'sparsity', 'parameters', 'return, last 10% of episodes (95% CI)', 'per seed', 'time / run'],
    rows,
    ['left', 'right', 'right', 'right', 'right', 'right']
  );
}

/**
 * A run's smoothed return at each step of `grid`: the mean return of the last
 * `window` episodes finished by that environment step (NaN before the first).
 */
export function smoothedReturns(run: Pick<RunResult, 'episodeReturns' | 'episodeEnds'>, grid: readonly number[], window = 10): number[] {
  const out: number[] = [];
  let done = 0;
  for (const step of grid) {
    while (done < run.episodeEnds.length && run.episodeEnds[done] <= step) done++;
    if (done === 0) {
      out.push(NaN);
      continue;
    }
    const from = Math.max(0, done - window);
    let sum = 0;
    for (let i = from; i < done; i++) sum += run.episodeReturns[i];
    out.push(sum / (done - from));
  }
  return out;
}

/** Return curves: per method, the smoothed episode return vs environment step, mean over seeds. */
export function returnsChart(runs: readonly RunResult[], steps: number, subtitle: string): Canvas {
  const points = 100;
  const grid = Array.from({ length: points }, (_, i) => Math.round(((i + 1) * steps) / points));
  const series: Series[] = [...byMethod(runs)].map(([method, group]) => {
    const curves = group.map((r) => smoothedReturns(r, grid));
    const mean = grid.map((_, i) => curves.reduce((a, c) => a + c[i], 0) / curves.length);
    const keep = mean.map((m, i) => (Number.isNaN(m) ? -1 : i)).filter((i) => i >= 0);
    return { name: METHOD_LABELS[method], x: keep.map((i) => grid[i]), y: keep.map((i) => mean[i]), color: METHOD_COLORS[method], markers: false };
  });
  return lineChart(series, {
    title: 'DQN on CartPole-v1: episode return during training',
    subtitle,
    xLabel: 'environment step',
    xInteger: true,
    yLabel: 'return (mean of the last 10 episodes)',
    xRange: [0, steps],
    yRange: [0, 510],
  });
}
