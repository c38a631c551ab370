import { constant, cosineDecay, gradualPruning, UpdateSchedule } from '../lib';
import { expectCode } from './helpers/devices';

const expectArgError = (fn: () => unknown, message: RegExp): void => expectCode(fn, 'E_ARG', message);


describe('constant', () => {
  test('returns the value at every step', () => {
    const f = constant(0.3);
    expect([0, 1, 99, 1e9].map(f)).toEqual([0.3, 0.3, 0.3, 0.3]);
  });

  test('rejects bad values and steps', () => {
    expectArgError(() => constant(NaN), /constant: value: expected a finite number, got NaN/);
    expectArgError(() => constant(0.3)(-1), /constant: step: expected an integer >= 0, got -1/);
    expectArgError(() => constant(0.3)(1.5), /constant: step/);
  });
});

describe('cosineDecay', () => {
  test('begin, quarter, middle, three quarters, end (beginStep 0)', () => {
    const f = cosineDecay(0.3, 1000);
    expect(f(0)).toBe(0.3);
    // (1 + cos(π/4)) / 2 = (1 + √2/2) / 2
    expect(f(250)).toBeCloseTo((0.3 * (1 + Math.SQRT1_2)) / 2, 15);
    expect(f(500)).toBeCloseTo(0.15, 15);
    expect(f(750)).toBeCloseTo((0.3 * (1 - Math.SQRT1_2)) / 2, 15);
    expect(f(1000)).toBeCloseTo(0, 15);
  });

  test('stays at 0 after endStep and is monotone in between', () => {
    const f = cosineDecay(0.5, 100);
    expect(f(100)).toBe(f(101));
    expect(f(100)).toBe(f(1e6));
    expect(Math.abs(f(5000))).toBeLessThan(1e-16);
    for (let s = 1; s <= 100; s++) expect(f(s)).toBeLessThan(f(s - 1));
  });

  test('with beginStep the decay is measured from beginStep and is flat before it', () => {
    const f = cosineDecay(0.3, 1100, { beginStep: 100 });
    expect(f(0)).toBe(0.3);
    expect(f(100)).toBe(0.3);
    expect(f(600)).toBeCloseTo(0.15, 15);
    expect(f(1100)).toBeCloseTo(0, 15);
    expect(f(2000)).toBe(f(1100));
    // same curve as the beginStep-0 schedule, shifted
    const g = cosineDecay(0.3, 1000);
    for (const s of [0, 1, 123, 999, 1000]) expect(f(s + 100)).toBe(g(s));
  });

  test('rejects bad arguments', () => {
    expectArgError(() => cosineDecay(Infinity, 10), /cosineDecay: initial: expected a finite number/);
    expectArgError(() => cosineDecay(0.3, 0), /cosineDecay: endStep: expected an integer > beginStep \(0\), got 0/);
    expectArgError(() => cosineDecay(0.3, 10.5), /cosineDecay: endStep: expected an integer >= 0, got 10.5/);
    expectArgError(() => cosineDecay(0.3, 10, { beginStep: 10 }), /endStep: expected an integer > beginStep \(10\), got 10/);
    expectArgError(() => cosineDecay(0.3, 10, { beginStep: -1 }), /options\.beginStep: expected an integer >= 0/);
    expectArgError(() => cosineDecay(0.3, 10, { begin: 1 } as never), /unknown option 'begin'/);
    expectArgError(() => cosineDecay(0.3, 10)(-2), /cosineDecay: step: expected an integer >= 0, got -2/);
  });
});

describe('gradualPruning (Zhu & Gupta)', () => {
  const opts = { initialSparsity: 0, finalSparsity: 0.9, beginStep: 1000, endStep: 5000 };

  test('begin, middle, end and the cubic in between', () => {
    const f = gradualPruning(opts);
    expect(f(1000)).toBe(0);
    // t = 3000: progress 0.5, s = 0.9 + (0 - 0.9) * 0.5^3 = 0.9 - 0.1125 = 0.7875
    expect(f(3000)).toBeCloseTo(0.7875, 15);
    // t = 2000: progress 0.25, s = 0.9 - 0.9 * 0.75^3 = 0.9 - 0.3796875 = 0.5203125
    expect(f(2000)).toBeCloseTo(0.5203125, 15);
    expect(f(5000)).toBe(0.9);
  });

  test('clamps outside [beginStep, endStep]', () => {
    const f = gradualPruning({ ...opts, initialSparsity: 0.2 });
    expect(f(0)).toBe(0.2);
    expect(f(999)).toBe(0.2);
    expect(f(5001)).toBe(0.9);
    expect(f(1e7)).toBe(0.9);
    for (let s = 1001; s <= 5000; s += 7) expect(f(s)).toBeGreaterThan(f(s - 7));
  });

  test('frequency holds the sparsity between pruning steps', () => {
    const f = gradualPruning({ ...opts, frequency: 1000 });
    const every = gradualPruning(opts);
    expect(f(1999)).toBe(0);
    expect(f(2000)).toBeCloseTo(0.5203125, 15);
    expect(f(2999)).toBe(f(2000));
    expect(f(3500)).toBe(every(3000));
    expect(f(5000)).toBe(0.9);
  });

  test('power is configurable (power 1 is linear)', () => {
    const f = gradualPruning({ ...opts, initialSparsity: 0.1, power: 1 });
    // s = 0.9 + (0.1 - 0.9) * (1 - 0.5) = 0.5
    expect(f(3000)).toBeCloseTo(0.5, 15);
  });

  test('rejects bad arguments', () => {
    expectArgError(() => gradualPruning(undefined as never), /gradualPruning: options: expected/);
    expectArgError(() => gradualPruning({ ...opts, finalSparsity: 1 }), /finalSparsity: expected a number in \[0, 1\), got 1/);
    expectArgError(() => gradualPruning({ ...opts, finalSparsity: undefined as never }), /finalSparsity: expected a finite number/);
    expectArgError(() => gradualPruning({ ...opts, initialSparsity: 0.95 }), /initialSparsity: expected a number in \[0, finalSparsity = 0.9\], got 0.95/);
    expectArgError(() => gradualPruning({ ...opts, initialSparsity: -0.1 }), /initialSparsity/);
    expectArgError(() => gradualPruning({ ...opts, endStep: 1000 }), /endStep: expected an integer > beginStep \(1000\), got 1000/);
    expectArgError(() => gradualPruning({ ...opts, beginStep: -5 }), /beginStep: expected an integer >= 0, got -5/);
    expectArgError(() => gradualPruning({ ...opts, frequency: 0 }), /frequency: expected an integer >= 1, got 0/);
    expectArgError(() => gradualPruning({ ...opts, power: 0 }), /power: expected a number > 0, got 0/);
    expectArgError(() => gradualPruning({ ...opts, powr: 3 } as never), /unknown option 'powr'/);
    expectArgError(() => gradualPruning(opts)(0.5), /gradualPruning: step/);
  });
});

describe('UpdateSchedule', () => {
  test('updates at beginStep, then every updateEvery steps, up to endStep inclusive', () => {
    const s = new UpdateSchedule({ updateEvery: 100, endStep: 300 });
    const steps = Array.from({ length: 501 }, (_, i) => i).filter((i) => s.isUpdateStep(i));
    expect(steps).toEqual([0, 100, 200, 300]);
  });

  test('beginStep offsets the phase (matches the reference stateful counter)', () => {
    const s = new UpdateSchedule({ updateEvery: 100, beginStep: 50, endStep: 400 });
    const steps = Array.from({ length: 1000 }, (_, i) => i).filter((i) => s.isUpdateStep(i));
    expect(steps).toEqual([50, 150, 250, 350]);
    // the reference: last = -frequency; update when begin <= step <= end and last + frequency <= step
    let last = -100;
    const reference: number[] = [];
    for (let step = 0; step < 1000; step++) {
      if (step >= 50 && step <= 400 && last + 100 <= step) {
        reference.push(step);
        last = step;
      }
    }
    expect(steps).toEqual(reference);
  });

  test('exposes its settings', () => {
    expect(new UpdateSchedule({ updateEvery: 10, endStep: 20 })).toMatchObject({ updateEvery: 10, beginStep: 0, endStep: 20 });
  });

  test('rejects bad arguments', () => {
    expectArgError(() => new UpdateSchedule(undefined as never), /UpdateSchedule: options: expected/);
    expectArgError(() => new UpdateSchedule({ updateEvery: 0, endStep: 10 }), /updateEvery: expected an integer >= 1, got 0/);
    expectArgError(() => new UpdateSchedule({ updateEvery: 1.5, endStep: 10 }), /updateEvery/);
    expectArgError(() => new UpdateSchedule({ updateEvery: 10 } as never), /endStep: expected an integer >= 0, got undefined/);
    expectArgError(() => new UpdateSchedule({ updateEvery: 10, beginStep: 20, endStep: 10 }), /endStep: expected an integer >= beginStep \(20\), got 10/);
    expectArgError(() => new UpdateSchedule({ updateEvery: 10, endStep: 10, every: 1 } as never), /unknown option 'every'/);
    expectArgError(() => new UpdateSchedule({ updateEvery: 10, endStep: 10 }).isUpdateStep(-1), /isUpdateStep: step: expected an integer >= 0/);
  });
});
