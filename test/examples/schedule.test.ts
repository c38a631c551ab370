import { mlp, RigL, SGD } from 'dynasparse';

import { longestUpdatePeriod, maskUpdateEnd, updatePeriodProblem } from '../../examples/common/schedule';

/** The drop fraction of every update step of the examples' SET/RigL schedule (beginStep N, endStep floor(0.75 T)). */
function updateFractions(updateEvery: number, totalSteps: number): number[] {
  const model = mlp([8, 8, 2], { sparsity: 0.5, seed: 0, device: 'cpu' });
  const optimizer = new SGD({ lr: 0.1 });
  const endStep = maskUpdateEnd(totalSteps, 0.75);
  const rigl = new RigL({ layers: model, optimizer, dropFraction: 0.3, schedule: 'cosine', updateEvery, beginStep: updateEvery, endStep });
  try {
    const fractions: number[] = [];
    for (let step = 0; step < totalSteps; step++) if (rigl.isUpdateStep(step)) fractions.push(rigl.dropFraction(step));
    return fractions;
  } finally {
    rigl.dispose();
    optimizer.dispose();
    model.dispose();
  }
}

describe('examples: the SET/RigL update period', () => {
  it('allows at most a third of the first 75% of training', () => {
    expect(maskUpdateEnd(2500, 0.75)).toBe(1875);
    expect(longestUpdatePeriod(2500, 0.75)).toBe(625);
    expect(longestUpdatePeriod(250, 0.75)).toBe(62);
    expect(longestUpdatePeriod(7000, 0.75)).toBe(1750);
    expect(longestUpdatePeriod(3, 0.75)).toBe(0);
    expect(updatePeriodProblem(62, 250, 0.75, '250 training steps')).toBeNull();
    expect(updatePeriodProblem(63, 250, 0.75, '250 training steps')).toMatch(/^expected at most 62 with 250 training steps, got 63: .*step 187/);
    expect(updatePeriodProblem(1, 3, 0.75, '3 steps')).toMatch(/^3 steps are too few for any mask update period/);
  });

  it('at the limit the first update drops at least half the initial fraction', () => {
    for (const total of [12, 250, 251, 2500, 7000]) {
      const fractions = updateFractions(longestUpdatePeriod(total, 0.75), total);
      expect(fractions[0]).toBeGreaterThanOrEqual(0.15 - 1e-12);
    }
  });

  it('is why: a longer period updates never, only with a zero fraction, or once at the full fraction at the end', () => {
    // 250 steps: updates may run to step 187 and the fraction is 0 from step 187 - N on.
    // (The library may also refuse such a cosine schedule outright; either way nothing moves.)
    for (const n of [100, 150]) {
      let fractions: number[] | null = null;
      try {
        fractions = updateFractions(n, 250);
      } catch (e) {
        expect(String(e)).toMatch(/beginStep/);
      }
      if (fractions !== null) expect(fractions).toEqual([0]);
    }
    expect(updateFractions(187, 250)).toEqual([0.3]); // one update, at 75% of training, at the full fraction
    expect(() => updateFractions(200, 250)).toThrow(/endStep/); // no update step at all: endStep < beginStep
  });
});
