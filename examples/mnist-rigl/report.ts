/**
 * Turns the demo's finished runs into what a person reads: the results table
 * and the PNG charts. No training here, so it is tested on made-up results.
 */
import type { Canvas } from '@napi-rs/canvas';

import { heatmaps, lineChart, type Series } from '../common/plot';
import { markdownTable } from '../common/table';
import { SIDE } from './data';
import { relativeTrainingFlops, type LayerCount } from './flops';
import { formatPercent, METHOD_LABELS, runLabel, type RunSpec } from './options';

/** What one training run produced. */
export interface RunResult {
  spec: RunSpec;
  /** Per layer, input size, output size and stored weights. */
  layers: LayerCount[];
  /** Stored weights plus biases. */
  parameters: number;
  /** Test accuracy (fraction) after each epoch. */
  testAccuracy: number[];
  /** Training seconds of each epoch (evaluation excluded). */
  epochSeconds: number[];
  steps: number;
  batchSize: number;
  /** Steps at which the dense weight gradient was computed (RigL mask updates). */
  denseGradientSteps: number;
  /** Connections of each of the 784 input pixels to the first hidden layer, after training. */
  connectionsPerPixel: Float32Array;
}

/** Colour of each method in the charts (Okabe-Ito: colour-blind safe). */
export const METHOD_COLORS = { dense: '#000000', static: '#0072B2', set: '#E69F00', rigl: '#D55E00' } as const;
const DASHES: number[][] = [[], [8, 5], [2, 4], [12, 4, 2, 4]];

/** Mean of the training time per epoch. */
export function secondsPerEpoch(r: RunResult): number {
  return r.epochSeconds.length ? r.epochSeconds.reduce((a, b) => a + b, 0) / r.epochSeconds.length : 0;
}

/** The final test accuracy of a run (after its last epoch). */
export function finalAccuracy(r: RunResult): number {
  return r.testAccuracy.length ? r.testAccuracy[r.testAccuracy.length - 1] : NaN;
}

/** The results table: method, sparsity, parameters, test accuracy, time per epoch, training FLOPs vs dense. */
export function resultsTable(results: readonly RunResult[]): string {
  const rows = results.map((r) => [
    METHOD_LABELS[r.spec.method],
    formatPercent(r.spec.sparsity),
    r.parameters.toLocaleString('en-US'),
    `${(100 * finalAccuracy(r)).toFixed(2)}%`,
    formatSeconds(secondsPerEpoch(r)),
    `${relativeTrainingFlops({ layers: r.layers, steps: r.steps, batchSize: r.batchSize, denseGradientSteps: r.denseGradientSteps }).toFixed(3)}x`,
  ]);
  return markdownTable(
    ['method', 'sparsity', 'parameters', 'test accuracy', 'time / epoch', 'training FLOPs vs dense'],
    rows,
    ['left', 'right', 'right', 'right', 'right', 'right']
  );
}

function formatSeconds(s: number): string {
  return s >= 10 ? `${s.toFixed(1)} s` : s >= 1 ? `${s.toFixed(2)} s` : `${(s * 1000).toFixed(0)} ms`;
}

/** Test accuracy over training: one line per run, colour by method, dash by sparsity. */
export function accuracyChart(results: readonly RunResult[], subtitle: string): Canvas {
  const sparsities = [...new Set(results.filter((r) => r.spec.method !== 'dense').map((r) => r.spec.sparsity))];
  const series: Series[] = results.map((r) => ({
    name: runLabel(r.spec),
    x: r.testAccuracy.map((_, e) => e + 1),
    y: r.testAccuracy.map((a) => 100 * a),
    color: METHOD_COLORS[r.spec.method],
    dash: r.spec.method === 'dense' ? [] : DASHES[sparsities.indexOf(r.spec.sparsity) % DASHES.length],
  }));
  // Early epochs of very sparse runs can sit far below the rest; keep the
  // y axis on the interesting part (the last half of training for all runs).
  const late = results.flatMap((r) => r.testAccuracy.slice(Math.floor(r.testAccuracy.length / 2)).map((a) => 100 * a));
  const all = results.flatMap((r) => r.testAccuracy.map((a) => 100 * a));
  const lo = Math.max(Math.min(...all), Math.min(...late) - 4);
  const yLo = Math.max(0, Math.floor(lo));
  const yHi = Math.min(100, Math.ceil(Math.max(...all) + 0.25));
  const epochs = Math.max(...results.map((r) => r.testAccuracy.length));
  return lineChart(series, {
    title: 'MNIST test accuracy during training',
    subtitle,
    xLabel: 'epoch',
    xInteger: true,
    yLabel: 'test accuracy (%)',
    // Half an epoch of room on both sides so the first and last points are not cut.
    xRange: [0.5, epochs + 0.5],
    yRange: [yLo, yHi > yLo ? yHi : yLo + 1],
  });
}

/**
 * The first layer's connections per input pixel as 28 x 28 heatmaps, one
 * panel per run given (Static beside RigL at the same sparsity), on one scale.
 */
export function connectionsChart(runs: readonly RunResult[], subtitle: string): Canvas {
  const sparsity = runs[0]?.spec.sparsity ?? 0;
  const hidden = runs[0]?.layers[0]?.outFeatures ?? 0;
  return heatmaps(
    runs.map((r) => ({ title: runLabel(r.spec), values: r.connectionsPerPixel, rows: SIDE, cols: SIDE })),
    {
      title: `First-layer connections per input pixel at ${formatPercent(sparsity)} sparsity`,
      subtitle,
      colorbarLabel: `connections to the ${hidden} hidden units`,
    }
  );
}

/** Pairs for {@link connectionsChart}: for each sparsity with both a Static and a RigL run, [Static, RigL]. */
export function staticRiglPairs(results: readonly RunResult[]): RunResult[][] {
  const pairs: RunResult[][] = [];
  for (const s of new Set(results.map((r) => r.spec.sparsity))) {
    const st = results.find((r) => r.spec.method === 'static' && r.spec.sparsity === s);
    const rl = results.find((r) => r.spec.method === 'rigl' && r.spec.sparsity === s);
    if (st && rl) pairs.push([st, rl]);
  }
  return pairs;
}

/** The two targets of the demo, checked on the results (undefined when a run is missing). */
export interface TargetCheck {
  name: string;
  met: boolean | undefined;
  detail: string;
}

/** RigL at 90% within 1 point of dense; RigL above Static at 98%. */
export function checkTargets(results: readonly RunResult[]): TargetCheck[] {
  const find = (m: RunSpec['method'], s: number) => results.find((r) => r.spec.method === m && Math.abs(r.spec.sparsity - s) < 1e-9);
  const pct = (r: RunResult) => `${(100 * finalAccuracy(r)).toFixed(2)}%`;
  const dense = find('dense', 0);
  const rigl90 = find('rigl', 0.9);
  const rigl98 = find('rigl', 0.98);
  const static98 = find('static', 0.98);
  return [
    {
      name: 'RigL at 90% within 1 point of dense',
      met: dense && rigl90 ? finalAccuracy(rigl90) >= finalAccuracy(dense) - 0.01 : undefined,
      detail: dense && rigl90 ? `RigL 90% ${pct(rigl90)} vs dense ${pct(dense)}` : 'needs the dense and RigL 90% runs',
    },
    {
      name: 'RigL above Static at 98%',
      met: rigl98 && static98 ? finalAccuracy(rigl98) > finalAccuracy(static98) : undefined,
      detail: rigl98 && static98 ? `RigL 98% ${pct(rigl98)} vs Static 98% ${pct(static98)}` : 'needs the Static and RigL 98% runs',
    },
  ];
}
