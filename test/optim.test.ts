// Fused optimizers against plain TypeScript references.
//
// Tolerances: the references run the documented formulas in float64; the
// kernels run them in float32 (bias corrections in double). Each step rounds a
// handful of times per element, so after S steps an element carries at most
// ~10 * S float32 roundings of quantities of size <= ~1 (weights, gradients,
// moments are O(1) here): with float32 epsilon 6e-8 and S <= 6, an error bound
// of 5e-6 * (1 + |reference|) has ample margin yet catches any formula slip
// (a wrong sign, a missing term or a swapped beta changes values by >= 1e-3).
// Adam divides by sqrt(v) + eps; gradients here are bounded away from 0 in
// magnitude, so that ratio is well conditioned. One SGD test is exact: it
// replays the kernel's float32 operations one by one with Math.fround. The
// SGD, Adam and state specs run on every device in `devices` (CUDA where
// available; its kernels are bit-identical to the CPU's, see test/native/cuda).
import { Adam, Device, SGD, Tensor, memory, rand, randn, tensor, zeros } from '../lib';
import { devices, expectCode } from './helpers/devices';

const f = Math.fround;
const TOL = 5e-6;


/** The largest |actual - expected| / (1 + |expected|); NaN where one side is NaN and the other is not. */
function worstError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  expect(actual.length).toBe(expected.length);
  let worst = 0;
  for (let i = 0; i < actual.length; ++i) {
    if (Number.isNaN(actual[i]) || Number.isNaN(expected[i])) {
      if (Number.isNaN(actual[i]) !== Number.isNaN(expected[i])) return NaN;
      continue;
    }
    worst = Math.max(worst, Math.abs(actual[i] - expected[i]) / (1 + Math.abs(expected[i])));
  }
  return worst;
}

/**
 * The device the current block of specs runs on: set by the device-parametrized
 * describes (every device in `devices`: CUDA where available), 'cpu' elsewhere.
 */
let current: Device = 'cpu';

/** Runs the enclosing describe's specs with `current` = device. */
function onDeviceBlock(device: Device): void {
  beforeAll(() => {
    current = device;
  });
  afterAll(() => {
    current = 'cpu';
  });
}

function onDevice(data: number[] | Float32Array, shape?: number[]): Tensor {
  return tensor(data instanceof Float32Array ? data : Float32Array.from(data), shape ?? [data.length], { device: current });
}

/** Gradients bounded away from 0: |g| in [0.1, 1.1]. */
function gradient(n: number, seed: number): Float32Array {
  const u = rand([n], { seed, device: current }).toArray();
  return u.map((x, i) => (i % 2 === 0 ? 1 : -1) * (0.1 + x));
}

interface SgdRef {
  lr: number;
  momentum: number;
  nesterov: boolean;
  weightDecay: number;
}

/** float64 reference of one SGD step (PyTorch semantics, dampening 0); mutates w and buf. */
function sgdReference(w: Float64Array, g: ArrayLike<number>, buf: Float64Array, o: SgdRef, mask?: ArrayLike<number>): void {
  for (let i = 0; i < w.length; ++i) {
    if (mask && mask[i] === 0) {
      w[i] = 0;
      continue;
    }
    const gi = g[i] + o.weightDecay * w[i];
    let step = gi;
    if (o.momentum !== 0) {
      buf[i] = o.momentum * buf[i] + gi;
      step = o.nesterov ? gi + o.momentum * buf[i] : buf[i];
    }
    w[i] -= o.lr * step;
  }
}

interface AdamRef {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  decoupled: boolean;
}

/** float64 reference of Adam/AdamW step t (PyTorch semantics); mutates w, m, v. */
function adamReference(w: Float64Array, g: ArrayLike<number>, m: Float64Array, v: Float64Array, t: number, o: AdamRef, mask?: ArrayLike<number>): void {
  for (let i = 0; i < w.length; ++i) {
    if (mask && mask[i] === 0) {
      w[i] = 0;
      continue;
    }
    let gi = g[i];
    if (o.decoupled) w[i] -= o.lr * o.weightDecay * w[i];
    else gi += o.weightDecay * w[i];
    m[i] = o.beta1 * m[i] + (1 - o.beta1) * gi;
    v[i] = o.beta2 * v[i] + (1 - o.beta2) * gi * gi;
    const mhat = m[i] / (1 - o.beta1 ** t);
    const vhat = v[i] / (1 - o.beta2 ** t);
    w[i] -= (o.lr * mhat) / (Math.sqrt(vhat) + o.eps);
  }
}

/** Runs `steps` SGD steps on a parameter of n values and compares weight and momentum with the reference. */
function checkSgd(o: SgdRef, n: number, steps: number, withMask = false): void {
  const w0 = randn([n], { seed: 1, device: current }).toArray();
  const value = onDevice(w0);
  const mask = withMask ? onDevice(rand([n], { seed: 2, device: current }).toArray().map((u) => (u < 0.3 ? 0 : 1))) : undefined;
  const maskValues = mask?.toArray();
  const w = Float64Array.from(w0);
  const buf = new Float64Array(n);
  const opt = new SGD(o);
  for (let s = 0; s < steps; ++s) {
    const g = gradient(n, 10 + s);
    opt.step([{ value, grad: onDevice(g), mask }]);
    sgdReference(w, g, buf, o, maskValues);
  }
  expect(opt.stepCount).toBe(steps);
  expect(worstError(value.toArray(), w)).toBeLessThanOrEqual(TOL);
  const state = opt.state(value);
  expect(state?.step).toBe(steps);
  if (o.momentum === 0) expect(state?.momentumBuffer).toBeUndefined();
  else expect(worstError(state!.momentumBuffer!.toArray(), buf)).toBeLessThanOrEqual(TOL);
  opt.dispose();
}

function checkAdam(o: AdamRef, n: number, steps: number, withMask = false): void {
  const w0 = randn([n], { seed: 3, device: current }).toArray();
  const value = onDevice(w0, [n]);
  const mask = withMask ? onDevice(rand([n], { seed: 4, device: current }).toArray().map((u) => (u < 0.3 ? 0 : 1))) : undefined;
  const maskValues = mask?.toArray();
  const w = Float64Array.from(w0);
  const m = new Float64Array(n);
  const v = new Float64Array(n);
  const opt = new Adam(o);
  for (let s = 1; s <= steps; ++s) {
    const g = gradient(n, 20 + s);
    opt.step([{ value, grad: onDevice(g), mask }]);
    adamReference(w, g, m, v, s, o, maskValues);
  }
  expect(worstError(value.toArray(), w)).toBeLessThanOrEqual(TOL);
  const state = opt.state(value)!;
  expect(state.step).toBe(steps);
  expect(worstError(state.expAvg.toArray(), m)).toBeLessThanOrEqual(TOL);
  expect(worstError(state.expAvgSq.toArray(), v)).toBeLessThanOrEqual(TOL);
  opt.dispose();
}

describe.each(devices)('SGD on %s', (device) => {
  onDeviceBlock(device);
  it('plain SGD (no momentum keeps no buffer)', () => checkSgd({ lr: 0.1, momentum: 0, nesterov: false, weightDecay: 0 }, 1000, 5));
  it('momentum', () => checkSgd({ lr: 0.05, momentum: 0.9, nesterov: false, weightDecay: 0 }, 1000, 6));
  it('Nesterov momentum with weight decay', () => checkSgd({ lr: 0.05, momentum: 0.9, nesterov: true, weightDecay: 0.01 }, 1000, 6));
  it('weight decay without momentum', () => checkSgd({ lr: 0.1, momentum: 0, nesterov: false, weightDecay: 0.1 }, 1000, 4));
  it('a large parameter (threaded chunks, vector loop remainders: n = 100003)', () =>
    checkSgd({ lr: 0.05, momentum: 0.5, nesterov: true, weightDecay: 0.001 }, 100003, 2));
  it('masked: masked-out weights become exactly 0, their momentum is untouched', () =>
    checkSgd({ lr: 0.05, momentum: 0.9, nesterov: true, weightDecay: 0.01 }, 1001, 4, true));

  it('matches a float32 replay of the kernel bit for bit', () => {
    const n = 257;
    const w0 = randn([n], { seed: 7, device: current }).toArray();
    const g = gradient(n, 8);
    const value = onDevice(w0);
    const opt = new SGD({ lr: 0.03, momentum: 0.9, nesterov: true, weightDecay: 0.02 });
    opt.step([{ value, grad: onDevice(g) }]);
    opt.step([{ value, grad: onDevice(g) }]);
    const [lr, mom, wd] = [f(0.03), f(0.9), f(0.02)];
    const w = Float32Array.from(w0);
    const buf = new Float32Array(n);
    for (let s = 0; s < 2; ++s) {
      for (let i = 0; i < n; ++i) {
        const gi = f(g[i] + f(wd * w[i]));
        buf[i] = f(f(mom * buf[i]) + gi);
        const step = f(gi + f(mom * buf[i]));
        w[i] = f(w[i] - f(lr * step));
      }
    }
    expect(Array.from(value.toArray())).toEqual(Array.from(w));
    expect(Array.from(opt.state(value)!.momentumBuffer!.toArray())).toEqual(Array.from(buf));
  });

  it('updates several parameters of different shapes in one step, and the learning rate can change', () => {
    const a = onDevice([1, 2, 3, 4], [2, 2]);
    const b = onDevice([10]);
    const opt = new SGD({ lr: 0.5 });
    opt.step([
      { value: a, grad: onDevice([1, 1, 1, 1], [2, 2]) },
      { value: b, grad: onDevice([2]) },
    ]);
    expect(Array.from(a.toArray())).toEqual([0.5, 1.5, 2.5, 3.5]);
    expect(Array.from(b.toArray())).toEqual([9]);
    opt.lr = 0.25;
    expect(opt.lr).toBe(0.25);
    opt.step([{ value: b, grad: onDevice([4]) }]);
    expect(Array.from(b.toArray())).toEqual([8]);
    expect(opt.stepCount).toBe(2);
    expect(opt.state(a)!.step).toBe(1);
    expect(opt.state(b)!.step).toBe(2);
  });

  it('NaN and infinity: a NaN gradient poisons its own weight and momentum only; a mask of 0 still zeroes the weight', () => {
    const value = onDevice([1, 1, 1, 1]);
    const mask = onDevice([1, 1, 0, 1]);
    const opt = new SGD({ lr: 0.1, momentum: 0.9 });
    opt.step([{ value, grad: onDevice([NaN, Infinity, NaN, 1]), mask }]);
    const w = value.toArray();
    expect(w[0]).toBeNaN();
    expect(w[1]).toBe(-Infinity);
    expect(w[2]).toBe(0);
    expect(w[3]).toBeCloseTo(0.9, 6);
    const buf = opt.state(value)!.momentumBuffer!.toArray();
    expect(Array.from(buf)).toEqual([NaN, Infinity, 0, 1]);
  });

  it('a zero weight decay is skipped, so an infinite weight does not become NaN', () => {
    const value = onDevice([Infinity]);
    new SGD({ lr: 0.1 }).step([{ value, grad: onDevice([1]) }]);
    expect(value.toArray()[0]).toBe(Infinity);
  });

  it('an empty parameter (n = 0) steps and keeps empty state', () => {
    const value = zeros([0], { device: current });
    const opt = new SGD({ lr: 0.1, momentum: 0.9 });
    opt.step([{ value, grad: zeros([0], { device: current }) }]);
    expect(opt.state(value)!.momentumBuffer!.size).toBe(0);
    expect(opt.remapState(value, new Int32Array(0))).toBe(true);
    opt.step([]);
    expect(opt.stepCount).toBe(2);
  });
});

describe.each(devices)('Adam and AdamW on %s', (device) => {
  onDeviceBlock(device);
  const base = { lr: 0.01, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, decoupled: false };
  it('Adam with the default betas', () => checkAdam(base, 1000, 6));
  it('Adam with L2 weight decay (added to the gradient)', () => checkAdam({ ...base, weightDecay: 0.1 }, 1000, 5));
  it('AdamW (decoupled weight decay)', () => checkAdam({ ...base, weightDecay: 0.1, decoupled: true }, 1000, 5));
  it('beta1 = 0, beta2 = 0.5, large eps', () => checkAdam({ ...base, beta1: 0, beta2: 0.5, eps: 0.1 }, 1000, 4));
  it('a large parameter (threaded chunks, n = 100003)', () => checkAdam({ ...base, weightDecay: 0.01, decoupled: true }, 100003, 2));
  it('masked: masked-out weights become exactly 0, their moments are untouched', () => checkAdam({ ...base, weightDecay: 0.05, decoupled: true }, 1001, 4, true));

  it('uses the defaults beta1 0.9, beta2 0.999, eps 1e-8', () => {
    const opt = new Adam({ lr: 1e-3 });
    expect([opt.beta1, opt.beta2, opt.eps, opt.weightDecay, opt.decoupled]).toEqual([0.9, 0.999, 1e-8, 0, false]);
    // First step: mhat = g, vhat = g^2, so w moves by lr * g / (|g| + eps) = lr * sign(g).
    const value = onDevice([0, 0]);
    opt.step([{ value, grad: onDevice([3, -0.5]) }]);
    expect(value.toArray()[0]).toBeCloseTo(-1e-3, 9);
    expect(value.toArray()[1]).toBeCloseTo(1e-3, 9);
  });

  it('the bias correction uses each parameter\'s own step count', () => {
    const o = { ...base };
    const a = onDevice([1, 2]);
    const b = onDevice([3, 4]);
    const opt = new Adam(o);
    const wa = Float64Array.from([1, 2]);
    const wb = Float64Array.from([3, 4]);
    const [ma, va, mb, vb] = [new Float64Array(2), new Float64Array(2), new Float64Array(2), new Float64Array(2)];
    opt.step([{ value: a, grad: onDevice([0.5, -0.5]) }]);
    adamReference(wa, [0.5, -0.5], ma, va, 1, o);
    opt.step([{ value: a, grad: onDevice([0.3, 0.2]) }, { value: b, grad: onDevice([0.7, -0.2]) }]);
    adamReference(wa, [0.3, 0.2], ma, va, 2, o);
    adamReference(wb, [0.7, -0.2], mb, vb, 1, o);
    expect(worstError(a.toArray(), wa)).toBeLessThanOrEqual(TOL);
    expect(worstError(b.toArray(), wb)).toBeLessThanOrEqual(TOL);
    expect([opt.state(a)!.step, opt.state(b)!.step, opt.stepCount]).toEqual([2, 1, 2]);
  });

  it('NaN gradients poison only their element; infinite gradients give NaN (inf / inf) as in PyTorch', () => {
    const value = onDevice([1, 1, 1]);
    const opt = new Adam({ lr: 0.1 });
    opt.step([{ value, grad: onDevice([NaN, Infinity, 1]) }]);
    const w = value.toArray();
    expect(w[0]).toBeNaN();
    expect(w[1]).toBeNaN();
    expect(w[2]).toBeCloseTo(0.9, 6);
  });
});

describe.each(devices)('state: keys, remap, disposal on %s', (device) => {
  onDeviceBlock(device);
  it('remapState keeps surviving entries, zeroes new ones, and the next step continues from it (SGD)', () => {
    const o = { lr: 0.1, momentum: 0.9, nesterov: false, weightDecay: 0 };
    const layer = {}; // a stable key: the values tensor is replaced on a topology change
    const opt = new SGD(o);
    let value = onDevice([1, 2, 3, 4, 5]);
    const w = Float64Array.from([1, 2, 3, 4, 5]);
    const buf = new Float64Array(5);
    const g1 = [0.5, -1, 2, 0.25, 1];
    opt.step([{ value, grad: onDevice(g1), key: layer }]);
    sgdReference(w, g1, buf, o);
    // Drop entries 1 and 3, keep 0, 2, 4 (in a new order), grow two new entries.
    const map = new Int32Array([4, 0, -1, 2, -1]);
    expect(opt.remapState(layer, map)).toBe(true);
    const remappedBuf = Float64Array.from(map, (src) => (src < 0 ? 0 : buf[src]));
    expect(worstError(opt.state(layer)!.momentumBuffer!.toArray(), remappedBuf)).toBe(0);
    const w2 = Float64Array.from(map, (src) => (src < 0 ? 0 : w[src]));
    value = onDevice(Float32Array.from(w2));
    const g2 = [1, 1, -1, 0.5, 2];
    opt.step([{ value, grad: onDevice(g2), key: layer }]);
    sgdReference(w2, g2, remappedBuf, o);
    expect(worstError(value.toArray(), w2)).toBeLessThanOrEqual(TOL);
    expect(worstError(opt.state(layer)!.momentumBuffer!.toArray(), remappedBuf)).toBeLessThanOrEqual(TOL);
  });

  it('remapState with an int32 tensor map, to a different size (Adam: both moments, step count kept)', () => {
    const opt = new Adam({ lr: 0.01 });
    const value = randn([6], { seed: 1, device: current });
    opt.step([{ value, grad: onDevice(gradient(6, 2)) }]);
    opt.step([{ value, grad: onDevice(gradient(6, 3)) }]);
    const before = opt.state(value)!;
    const m = before.expAvg.toArray();
    const v = before.expAvgSq.toArray();
    const map = tensor(new Int32Array([5, -1, 5, 1, -1, 0, 3, 3]), [8], { device: current });
    opt.remapState(value, map);
    const after = opt.state(value)!;
    expect(after.step).toBe(2);
    expect(after.expAvg.shape).toEqual([8]);
    expect(Array.from(after.expAvg.toArray())).toEqual([m[5], 0, m[5], m[1], 0, m[0], m[3], m[3]]);
    expect(Array.from(after.expAvgSq.toArray())).toEqual([v[5], 0, v[5], v[1], 0, v[0], v[3], v[3]]);
    expect(before.expAvg.disposed).toBe(true); // the old state is freed
  });

  it('remapState of a parameter without state tensors returns false', () => {
    const opt = new SGD({ lr: 0.1 });
    const value = onDevice([1]);
    expect(opt.remapState(value, new Int32Array([0]))).toBe(false);
    opt.step([{ value, grad: onDevice([1]) }]);
    expect(opt.remapState(value, new Int32Array([0, -1]))).toBe(false); // momentum 0: no tensors to carry
  });

  it('a large remap (threaded chunks) gathers exactly', () => {
    const n = 100003;
    const opt = new SGD({ lr: 0.1, momentum: 0.9 });
    const value = zeros([n], { device: current });
    const g = gradient(n, 5);
    opt.step([{ value, grad: onDevice(g) }]);
    const buf = opt.state(value)!.momentumBuffer!.toArray();
    const map = new Int32Array(n).map((_, i) => (i % 7 === 0 ? -1 : n - 1 - i));
    opt.remapState(value, map);
    const out = opt.state(value)!.momentumBuffer!.toArray();
    let bad = -1;
    for (let i = 0; i < n && bad < 0; ++i) if (out[i] !== (map[i] < 0 ? 0 : buf[map[i]])) bad = i;
    expect(bad).toBe(-1);
  });

  it('remapState with an entry out of range is E_ARG naming the first bad index, and leaves the state unchanged', () => {
    const opt = new Adam({ lr: 0.01 });
    const value = onDevice([1, 2, 3]);
    opt.step([{ value, grad: onDevice([1, 1, 1]) }]);
    const m = opt.state(value)!.expAvg;
    expectCode(() => opt.remapState(value, new Int32Array([0, 3, -2])), 'E_ARG', /map\[1\]: expected -1 \(a new entry\) or an index in \[0, 3\), got 3/);
    expectCode(() => opt.remapState(value, new Int32Array([0, 1, -2])), 'E_ARG', /map\[2\].*got -2/);
    expect(opt.state(value)!.expAvg).toBe(m);
    expect(m.disposed).toBe(false);
  });
  it('remapState with a map of the wrong type is E_ARG', () =>
    expectCode(() => new SGD({ lr: 1 }).remapState({}, [0, 1] as never), 'E_ARG', /map: expected an Int32Array or an int32 Tensor/));
  it('remapState with a float32 map tensor is E_ARG', () => {
    const opt = new SGD({ lr: 1, momentum: 0.5 });
    const value = onDevice([1]);
    opt.step([{ value, grad: onDevice([1]) }]);
    expectCode(() => opt.remapState(value, onDevice([0]) as never), 'E_ARG', /map: expected an int32 tensor/);
  });
  it('remapState with a 2-D map tensor is E_SHAPE', () => {
    const opt = new SGD({ lr: 1, momentum: 0.5 });
    const value = onDevice([1]);
    opt.step([{ value, grad: onDevice([1]) }]);
    expectCode(() => opt.remapState(value, tensor(new Int32Array([0]), [1, 1], { device: current })), 'E_SHAPE', /map: expected a 1-D tensor/);
  });

  it('a value whose size no longer matches its state is E_SHAPE pointing at remapState', () => {
    const opt = new SGD({ lr: 0.1, momentum: 0.9 });
    const key = {};
    opt.step([{ value: onDevice([1, 2]), grad: onDevice([1, 1]), key }]);
    expectCode(() => opt.step([{ value: onDevice([1, 2, 3]), grad: onDevice([1, 1, 1]), key }]), 'E_SHAPE', /has 2 entries, the value 3; call remapState/);
  });

  it('disposeState frees one parameter\'s state; remap frees the old state; dispose frees everything and is idempotent', () => {
    // Memory is compared with <=: the garbage collector may finalize tensors
    // other tests dropped while this one runs, never add any.
    const opt = new Adam({ lr: 0.01 });
    const a = zeros([1000], { device: current });
    const b = zeros([500], { device: current });
    const ga = zeros([1000], { device: current });
    const gb = zeros([500], { device: current });
    const before = memory(current).bytesInUse;
    opt.step([{ value: a, grad: ga }, { value: b, grad: gb }]);
    expect(memory(current).bytesInUse).toBeLessThanOrEqual(before + 2 * 4 * 1500);
    const stateA = opt.state(a)!;
    const stateB = opt.state(b)!;
    expect(opt.disposeState(a)).toBe(true);
    expect(opt.disposeState(a)).toBe(false);
    expect(opt.state(a)).toBeUndefined();
    expect([stateA.expAvg.disposed, stateA.expAvgSq.disposed]).toEqual([true, true]);
    expect(memory(current).bytesInUse).toBeLessThanOrEqual(before + 2 * 4 * 500);
    opt.remapState(b, new Int32Array(250).fill(-1));
    expect([stateB.expAvg.disposed, stateB.expAvgSq.disposed]).toEqual([true, true]);
    expect(memory(current).bytesInUse).toBeLessThanOrEqual(before + 2 * 4 * 250);
    const remapped = opt.state(b)!;
    opt.dispose();
    opt.dispose();
    expect(opt.disposed).toBe(true);
    expect([remapped.expAvg.disposed, remapped.expAvgSq.disposed]).toEqual([true, true]);
    expect(memory(current).bytesInUse).toBeLessThanOrEqual(before);
    [a, b, ga, gb].forEach((t) => t.dispose());
  });

  it('`using` disposes the optimizer', () => {
    let outer: SGD | undefined;
    {
      using opt = new SGD({ lr: 1 });
      outer = opt;
    }
    expect(outer.disposed).toBe(true);
  });

  it('a failing step changes nothing: every parameter is validated before the first update', () => {
    const good = onDevice([1, 2]);
    const opt = new SGD({ lr: 0.1, momentum: 0.9 });
    expectCode(() => opt.step([{ value: good, grad: onDevice([1, 1]) }, { value: onDevice([1]), grad: onDevice([1, 1]) }]), 'E_SHAPE');
    expect(Array.from(good.toArray())).toEqual([1, 2]);
    expect(opt.state(good)).toBeUndefined();
    expect(opt.stepCount).toBe(0);
  });
});

describe('validation', () => {
  // Constructors and hyperparameters
  it('SGD without options is E_ARG', () => expectCode(() => new SGD(undefined as never), 'E_ARG', /options: expected \{ lr/));
  it('SGD without lr is E_ARG', () => expectCode(() => new SGD({} as never), 'E_ARG', /lr: expected a finite number > 0, got undefined/));
  it('lr = 0 is E_ARG', () => expectCode(() => new SGD({ lr: 0 }), 'E_ARG', /lr: expected a finite number > 0, got 0/));
  it('lr = NaN is E_ARG', () => expectCode(() => new Adam({ lr: NaN }), 'E_ARG', /lr:.*got NaN/));
  it('lr = Infinity is E_ARG', () => expectCode(() => new Adam({ lr: Infinity }), 'E_ARG', /lr:/));
  it('lr beyond the float32 range is E_ARG', () => expectCode(() => new SGD({ lr: 1e39 }), 'E_ARG', /lr: expected a finite number > 0, got 1e\+39/));
  it('setting lr to a negative number is E_ARG', () => {
    const opt = new SGD({ lr: 1 });
    expectCode(() => (opt.lr = -1), 'E_ARG', /lr:/);
    expect(opt.lr).toBe(1);
  });
  it('a negative momentum is E_ARG', () => expectCode(() => new SGD({ lr: 1, momentum: -0.1 }), 'E_ARG', /momentum: expected a finite number >= 0/));
  it('Nesterov without momentum is E_ARG', () => expectCode(() => new SGD({ lr: 1, nesterov: true }), 'E_ARG', /nesterov: Nesterov momentum needs momentum > 0/));
  it('a non-boolean nesterov is E_ARG', () => expectCode(() => new SGD({ lr: 1, momentum: 0.9, nesterov: 1 as never }), 'E_ARG', /nesterov: expected a boolean/));
  it('a negative weight decay is E_ARG', () => expectCode(() => new SGD({ lr: 1, weightDecay: -1 }), 'E_ARG', /weightDecay: expected a finite number >= 0/));
  it('an unknown SGD option is E_ARG', () => expectCode(() => new SGD({ lr: 1, momentun: 0.9 } as never), 'E_ARG', /unknown option 'momentun'/));
  it('an unknown Adam option is E_ARG', () => expectCode(() => new Adam({ lr: 1, betas: [0.9, 0.99] } as never), 'E_ARG', /unknown option 'betas'/));
  it('beta1 = 1 is E_ARG', () => expectCode(() => new Adam({ lr: 1, beta1: 1 }), 'E_ARG', /beta1: expected a number in \[0, 1\)/));
  it('a negative beta2 is E_ARG', () => expectCode(() => new Adam({ lr: 1, beta2: -0.5 }), 'E_ARG', /beta2: expected a number in \[0, 1\)/));
  it('a beta that rounds to 1 in float32 is E_ARG', () => expectCode(() => new Adam({ lr: 1, beta2: 0.99999999999 }), 'E_ARG', /beta2: expected a number below 1 after rounding to float32/));
  it('eps = 0 is E_ARG', () => expectCode(() => new Adam({ lr: 1, eps: 0 }), 'E_ARG', /eps: expected a finite number > 0/));
  it('a non-boolean decoupled is E_ARG', () => expectCode(() => new Adam({ lr: 1, decoupled: 'yes' as never }), 'E_ARG', /decoupled: expected a boolean/));

  // step() arguments
  it('params that are not an array is E_ARG', () => expectCode(() => new SGD({ lr: 1 }).step({} as never), 'E_ARG', /params: expected an array/));
  it('an undefined param is E_ARG', () => expectCode(() => new SGD({ lr: 1 }).step([undefined as never]), 'E_ARG', /params\[0\]: expected \{ value, grad/));
  it('an unknown key in a param is E_ARG', () =>
    expectCode(() => new SGD({ lr: 1 }).step([{ value: onDevice([1]), grad: onDevice([1]), gradient: 1 } as never]), 'E_ARG', /params\[0\]: unknown option 'gradient'/));
  it('a value that is not a tensor is E_ARG', () => expectCode(() => new SGD({ lr: 1 }).step([{ value: [1] as never, grad: onDevice([1]) }]), 'E_ARG', /params\[0\]\.value: expected a Tensor/));
  it('an int32 value is E_ARG', () =>
    expectCode(() => new SGD({ lr: 1 }).step([{ value: tensor(new Int32Array([1]), [1], { device: 'cpu' }) as never, grad: onDevice([1]) }]), 'E_ARG', /value: expected a float32 tensor/));
  it('a disposed value is E_DISPOSED', () => {
    const value = onDevice([1]);
    value.dispose();
    expectCode(() => new SGD({ lr: 1 }).step([{ value, grad: onDevice([1]) }]), 'E_DISPOSED', /params\[0\]\.value/);
  });
  it('a disposed grad is E_DISPOSED', () => {
    const grad = onDevice([1]);
    grad.dispose();
    expectCode(() => new Adam({ lr: 1 }).step([{ value: onDevice([1]), grad }]), 'E_DISPOSED', /params\[0\]\.grad/);
  });
  it('a grad of another shape is E_SHAPE', () => expectCode(() => new SGD({ lr: 1 }).step([{ value: onDevice([1, 2], [2, 1]), grad: onDevice([1, 2]) }]), 'E_SHAPE', /grad: expected the shape of value \[2, 1\]/));
  it('a mask of another shape is E_SHAPE', () =>
    expectCode(() => new Adam({ lr: 1 }).step([{ value: onDevice([1, 2]), grad: onDevice([1, 2]), mask: onDevice([1]) }]), 'E_SHAPE', /mask: expected the shape of value/));
  it('a grad on another device is E_DEVICE', () => {
    const g = onDevice([1]);
    const fake = new Tensor(g._native, g.shape, 'cuda', 'float32');
    expectCode(() => new SGD({ lr: 1 }).step([{ value: onDevice([1]), grad: fake }]), 'E_DEVICE', /grad: expected a tensor on 'cpu'/);
  });
  it('a mask on another device is E_DEVICE', () => {
    const m = onDevice([1]);
    const fake = new Tensor(m._native, m.shape, 'cuda', 'float32');
    expectCode(() => new Adam({ lr: 1 }).step([{ value: onDevice([1]), grad: onDevice([1]), mask: fake }]), 'E_DEVICE', /mask:/);
  });
  it('a value on another device than its state is E_DEVICE', () => {
    const opt = new SGD({ lr: 1, momentum: 0.5 });
    const key = {};
    opt.step([{ value: onDevice([1]), grad: onDevice([1]), key }]);
    const v = onDevice([1]);
    const g = onDevice([1]);
    expectCode(
      () => opt.step([{ value: new Tensor(v._native, [1], 'cuda', 'float32'), grad: new Tensor(g._native, [1], 'cuda', 'float32'), key }]),
      'E_DEVICE',
      /optimizer state \(momentumBuffer\) is on 'cpu', the value on 'cuda'/,
    );
  });
  it('the value as its own grad is E_ARG', () => {
    const value = onDevice([1]);
    expectCode(() => new SGD({ lr: 1 }).step([{ value, grad: value }]), 'E_ARG', /grad: expected a tensor other than the value/);
  });
  it('a grad sharing the value\'s buffer (a view) is E_ARG (native check); earlier parameters keep their update, new state is freed', () => {
    const first = onDevice([1, 2]);
    const firstGrad = onDevice([1, 1]);
    const value = onDevice([1, 2]);
    const view = value.reshape(2);
    const opt = new Adam({ lr: 1 });
    const before = memory('cpu').bytesInUse;
    expectCode(
      () => opt.step([{ value: first, grad: firstGrad }, { value, grad: view }]),
      'E_ARG',
      /grad: expected a tensor that does not share its buffer with value/,
    );
    expect(opt.state(first)!.step).toBe(1);
    expect(opt.state(value)).toBeUndefined();
    expect(Array.from(value.toArray())).toEqual([1, 2]);
    expect(opt.stepCount).toBe(0);
    // first's state (2 tensors of 2 floats) remains; value's new state was freed
    // (<=: the garbage collector may free what other tests dropped, never add).
    expect(memory('cpu').bytesInUse - before).toBeLessThanOrEqual(2 * 2 * 4);
  });
  it('the same parameter twice in one step is E_ARG', () => {
    const value = onDevice([1]);
    expectCode(() => new SGD({ lr: 1 }).step([{ value, grad: onDevice([1]) }, { value, grad: onDevice([1]) }]), 'E_ARG', /params\[1\]: the same parameter/);
  });
  it('a key that is not an object is E_ARG', () => expectCode(() => new SGD({ lr: 1 }).step([{ value: onDevice([1]), grad: onDevice([1]), key: 'w' as never }]), 'E_ARG', /key: expected an object/));
  it('a disposed optimizer is E_DISPOSED', () => {
    const opt = new Adam({ lr: 1 });
    opt.dispose();
    expectCode(() => opt.step([]), 'E_DISPOSED', /Adam: the optimizer has been disposed/);
    expectCode(() => opt.state({}), 'E_DISPOSED');
    expectCode(() => opt.remapState({}, new Int32Array(0)), 'E_DISPOSED');
    expectCode(() => opt.disposeState({}), 'E_DISPOSED');
  });
});
