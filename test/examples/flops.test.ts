import { denseForwardFlops, forwardFlops, relativeTrainingFlops, trainingFlops } from '../../examples/mnist-rigl/flops';

const dense = [
  { inFeatures: 784, outFeatures: 300, nnz: 784 * 300 },
  { inFeatures: 300, outFeatures: 100, nnz: 300 * 100 },
  { inFeatures: 100, outFeatures: 10, nnz: 100 * 10 },
];

describe('examples: training FLOPs', () => {
  it('counts 2 FLOPs per stored weight forward and 3x that per training step', () => {
    expect(forwardFlops(dense)).toBe(2 * 266200);
    expect(denseForwardFlops(dense)).toBe(2 * 266200);
    expect(trainingFlops({ layers: dense, steps: 10, batchSize: 4 })).toBe(4 * 10 * 3 * 2 * 266200);
    expect(relativeTrainingFlops({ layers: dense, steps: 10, batchSize: 4 })).toBe(1);
  });

  it('scales with the stored fraction for static sparse training', () => {
    const sparse = dense.map((l) => ({ ...l, nnz: Math.round(l.nnz / 10) }));
    expect(relativeTrainingFlops({ layers: sparse, steps: 100, batchSize: 32 })).toBeCloseTo(0.1, 3);
  });

  it("adds RigL's dense gradient at update steps as the paper does: (3 fS dT + 2 fS + fD) / (3 fD (dT + 1))", () => {
    const sparse = dense.map((l) => ({ ...l, nnz: Math.round(l.nnz / 10) }));
    const fS = forwardFlops(sparse);
    const fD = denseForwardFlops(sparse);
    const dT = 100;
    // Every (dT + 1)-th step is an update step.
    const rel = relativeTrainingFlops({ layers: sparse, steps: 10 * (dT + 1), batchSize: 8, denseGradientSteps: 10 });
    expect(rel).toBeCloseTo((3 * fS * dT + 2 * fS + fD) / (3 * fD * (dT + 1)), 12);
    expect(() => trainingFlops({ layers: sparse, steps: 5, batchSize: 1, denseGradientSteps: 6 })).toThrow(RangeError);
  });
});
