import { accuracyChart, checkTargets, connectionsChart, resultsTable, secondsPerEpoch, staticRiglPairs, type RunResult } from '../../examples/mnist-rigl/report';
import type { Method } from '../../examples/mnist-rigl/options';

const DENSE_LAYERS = [
  { inFeatures: 784, outFeatures: 300, nnz: 784 * 300 },
  { inFeatures: 300, outFeatures: 100, nnz: 300 * 100 },
  { inFeatures: 100, outFeatures: 10, nnz: 100 * 10 },
];

function fake(method: Method, sparsity: number, accuracy: number[], extra: Partial<RunResult> = {}): RunResult {
  const layers = DENSE_LAYERS.map((l) => ({ ...l, nnz: Math.round(l.nnz * (1 - sparsity)) }));
  return {
    spec: { method, sparsity },
    layers,
    parameters: layers.reduce((a, l) => a + l.nnz + l.outFeatures, 0),
    testAccuracy: accuracy,
    epochSeconds: accuracy.map(() => 0.5),
    steps: 100 * accuracy.length,
    batchSize: 64,
    denseGradientSteps: 0,
    connectionsPerPixel: new Float32Array(784).fill(300 * (1 - sparsity)),
    ...extra,
  };
}

describe('examples: demo report', () => {
  const results = [
    fake('dense', 0, [0.95, 0.975, 0.98]),
    fake('static', 0.9, [0.94, 0.96, 0.97]),
    fake('rigl', 0.9, [0.945, 0.965, 0.9725], { denseGradientSteps: 3 }),
    fake('static', 0.98, [0.88, 0.91, 0.93]),
    fake('rigl', 0.98, [0.9, 0.93, 0.94], { denseGradientSteps: 3 }),
  ];

  it('tabulates method, sparsity, parameters, final accuracy, time per epoch and FLOPs vs dense', () => {
    const lines = resultsTable(results).split('\n');
    expect(lines[0]).toMatch(/method .*sparsity .*parameters .*test accuracy .*time \/ epoch .*training FLOPs vs dense/);
    expect(lines[2]).toMatch(/^\| Dense +\| +0% \| +266,610 \| +98\.00% \| +500 ms \| +1\.000x \|$/);
    expect(lines[3]).toMatch(/^\| Static +\| +90% \| .* \| +97\.00% \| .* \| +0\.100x \|$/);
    // RigL pays for 3 dense gradients over 300 steps: more than Static at the same sparsity.
    const rigl = Number(/([\d.]+)x \|$/.exec(lines[4])![1]);
    expect(rigl).toBeGreaterThan(0.1);
    expect(rigl).toBeLessThan(0.12);
    expect(secondsPerEpoch(results[0])).toBe(0.5);
  });

  it('checks the two targets and says which runs it needs', () => {
    const [near, above] = checkTargets(results);
    expect(near.met).toBe(true); // 97.25% vs 98%: within 1 point
    expect(near.detail).toBe('RigL 90% 97.25% vs dense 98.00%');
    expect(above.met).toBe(true); // 94% vs 93%
    const worse = [results[0], fake('rigl', 0.9, [0.9, 0.969]), fake('static', 0.98, [0.94]), fake('rigl', 0.98, [0.94])];
    expect(checkTargets(worse).map((t) => t.met)).toEqual([false, false]); // 1.1 points behind; equal is not above
    const missing = checkTargets(results.slice(0, 2));
    expect(missing.map((t) => t.met)).toEqual([undefined, undefined]);
  });

  it('pairs Static with RigL per sparsity and draws the charts', () => {
    const pairs = staticRiglPairs(results);
    expect(pairs.map((p) => p.map((r) => `${r.spec.method}${r.spec.sparsity}`))).toEqual([['static0.9', 'rigl0.9'], ['static0.98', 'rigl0.98']]);
    const acc = accuracyChart(results, 'test');
    expect(acc.width).toBe(1800);
    const heat = connectionsChart(pairs[1], 'test');
    expect(heat.width).toBeGreaterThan(heat.height);
  });
});
