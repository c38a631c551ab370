// Elementwise, bias and loss operations against plain TypeScript references.
//
// Tolerances: relu, reluBackward, addBias, add, axpy, biasGrad and accuracy are
// compared EXACTLY: the kernels do one or two float32 roundings per element in
// a fixed order (no FMA: the build uses -ffp-contract=off), which the
// references reproduce with Math.fround; biasGrad sums in double in column
// order, as the reference does. softmaxCrossEntropy uses float32 exp and a
// float32 reciprocal of the (double) column sum, against a float64 reference:
// each gradient entry carries a few float32 roundings of values <= 1, so
// 1e-6 * (1 / batch) + 1e-7 absolute covers it with margin (float32 epsilon is
// 6e-8); the loss is a double sum of float32-based terms, relative error 1e-6.
// The same specs run on every device in `devices` (CUDA where available): the
// CUDA kernels do the same roundings (see test/native/cuda for the bit-exact
// comparisons with the CPU); CUDA's expf is within 2 ulp, inside the tolerance above.
import {
  Device,
  Tensor,
  accuracy,
  add,
  addBias,
  axpy,
  biasGrad,
  memory,
  randn,
  relu,
  reluBackward,
  softmaxCrossEntropy,
  tensor,
  zeros,
} from '../lib';
import { devices } from './helpers/devices';
import { expectCode } from './helpers/devices';

const f = Math.fround;


/** A tensor whose handle is on the CPU but which claims to be on CUDA: exercises the TypeScript device checks without a GPU. */
function fakeCuda(t: Tensor): Tensor {
  return new Tensor(t._native, t.shape, 'cuda', 'float32');
}

/** The first index where two arrays differ (NaN equals NaN), or -1; one expect per array keeps large comparisons fast. */
function firstDifference(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  if (actual.length !== expected.length) return Math.min(actual.length, expected.length);
  for (let i = 0; i < actual.length; ++i) if (!Object.is(actual[i], expected[i]) && !(actual[i] === 0 && expected[i] === 0)) return i;
  return -1;
}

function values(t: Tensor): number[] {
  return Array.from(t.toArray());
}

/** Feature-major logits [classes, batch] from per-sample rows (sample-major input is easier to read). */
function logitsOf(samples: number[][], device: Device): Tensor {
  const classes = samples[0].length;
  const batch = samples.length;
  const data = new Float32Array(classes * batch);
  samples.forEach((s, b) => s.forEach((v, c) => (data[c * batch + b] = v)));
  return tensor(data, [classes, batch], { device });
}

/** float64 reference: mean loss and d loss / d logits (feature-major). */
function softmaxReference(logits: Float32Array, labels: Int32Array, classes: number, batch: number): { loss: number; grad: Float64Array } {
  const grad = new Float64Array(classes * batch);
  let total = 0;
  for (let b = 0; b < batch; ++b) {
    let max = -Infinity;
    for (let c = 0; c < classes; ++c) max = Math.max(max, logits[c * batch + b]);
    let sum = 0;
    for (let c = 0; c < classes; ++c) sum += Math.exp(logits[c * batch + b] - max);
    total += Math.log(sum) + max - logits[labels[b] * batch + b];
    for (let c = 0; c < classes; ++c) {
      const p = Math.exp(logits[c * batch + b] - max) / sum;
      grad[c * batch + b] = (p - (c === labels[b] ? 1 : 0)) / batch;
    }
  }
  return { loss: total / batch, grad };
}

describe.each(devices)('relu and reluBackward on %s', (device) => {
  it('relu keeps positives, zeroes the rest, propagates NaN and turns -0 into +0', () => {
    const x = tensor(new Float32Array([-2, -0, 0, 0.5, 3, NaN, Infinity, -Infinity]), [2, 4], { device });
    const y = relu(x);
    expect(y.shape).toEqual([2, 4]);
    const out = y.toArray();
    expect(Array.from(out)).toEqual([0, 0, 0, 0.5, 3, NaN, Infinity, 0]);
    expect(Object.is(out[1], 0)).toBe(true); // +0, not -0
    expect(values(x)[0]).toBe(-2); // the input is untouched
  });

  it('relu matches the reference on a large random tensor (threaded path)', () => {
    const x = randn([300, 1000], { seed: 3, device });
    const data = x.toArray();
    const out = relu(x).toArray();
    expect(firstDifference(out, Array.from(data, (v) => Math.max(v, 0)))).toBe(-1);
  });

  it('reluBackward passes dy where x > 0 only (x == 0 gives 0; NaN x gives 0; NaN dy passes where x > 0)', () => {
    const x = tensor(new Float32Array([-1, 0, 2, NaN, 3, -4]), [6], { device });
    const dy = tensor(new Float32Array([10, 20, 30, 40, NaN, NaN]), [6], { device });
    expect(values(reluBackward(dy, x))).toEqual([0, 0, 30, 0, NaN, 0]);
  });

  it('works on empty tensors', () => {
    const e = zeros([0, 5], { device });
    expect(relu(e).shape).toEqual([0, 5]);
    expect(reluBackward(e, e).size).toBe(0);
  });

  it('relu: a non-tensor is E_ARG', () => expectCode(() => relu([1, 2] as unknown as Tensor), 'E_ARG', /x: expected a Tensor/));
  it('relu: an int32 tensor is E_ARG', () =>
    expectCode(() => relu(tensor(new Int32Array([1]), [1], { device }) as unknown as Tensor), 'E_ARG', /float32/));
  it('relu: a disposed tensor is E_DISPOSED', () => {
    const x = zeros([2], { device });
    x.dispose();
    expectCode(() => relu(x), 'E_DISPOSED');
  });
  it('reluBackward: shapes that differ are E_SHAPE', () =>
    expectCode(() => reluBackward(zeros([2, 3], { device }), zeros([3, 2], { device })), 'E_SHAPE', /x: expected the shape of dy/));
  it('reluBackward: devices that differ are E_DEVICE', () =>
    expectCode(() => reluBackward(zeros([2], { device: 'cpu' }), fakeCuda(zeros([2], { device: 'cpu' }))), 'E_DEVICE', /x: expected a tensor on 'cpu'/));
});

describe.each(devices)('addBias and biasGrad on %s', (device) => {
  it('adds bias[f] to every column of row f, exactly', () => {
    const y = tensor([[1, 2, 3], [4, 5, 6]], undefined, { device });
    const bias = tensor([0.5, -1], undefined, { device });
    const out = addBias(y, bias);
    expect(out).not.toBe(y);
    expect(values(out)).toEqual([1.5, 2.5, 3.5, 3, 4, 5]);
    expect(values(y)).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('writes into out, and in place with { out: y }', () => {
    const y = randn([37, 129], { seed: 1, device });
    const bias = randn([37], { seed: 2, device });
    const yv = y.toArray();
    const bv = bias.toArray();
    const expected = Array.from(yv, (v, i) => f(v + bv[Math.floor(i / 129)]));
    const out = zeros([37, 129], { device });
    expect(addBias(y, bias, { out })).toBe(out);
    expect(firstDifference(out.toArray(), expected)).toBe(-1);
    expect(addBias(y, bias, { out: y })).toBe(y);
    expect(firstDifference(y.toArray(), expected)).toBe(-1);
  });

  it('handles batch 1 and an empty batch', () => {
    expect(values(addBias(tensor([[1], [2]], undefined, { device }), tensor([10, 20], undefined, { device })))).toEqual([11, 22]);
    expect(addBias(zeros([3, 0], { device }), zeros([3], { device })).shape).toEqual([3, 0]);
    expect(values(biasGrad(zeros([3, 0], { device })))).toEqual([0, 0, 0]);
  });

  it('biasGrad is the row sum, summed in double in column order', () => {
    const dy = randn([50, 777], { seed: 9, device });
    const d = dy.toArray();
    const expected: number[] = [];
    for (let r = 0; r < 50; ++r) {
      let s = 0;
      for (let c = 0; c < 777; ++c) s += d[r * 777 + c];
      expected.push(f(s));
    }
    const g = biasGrad(dy);
    expect(g.shape).toEqual([50]);
    if (device === 'cpu') {
      expect(values(g)).toEqual(expected);
    } else {
      // CUDA sums each row in double too, in a tree order: the float result can
      // differ from the in-order sum by the rounding of a different double sum,
      // i.e. at most one float32 ulp here.
      values(g).forEach((v, r) => expect(Math.abs(v - expected[r])).toBeLessThanOrEqual(Math.abs(expected[r]) * 2 ** -23));
    }
  });

  it('biasGrad propagates NaN and infinity to their row only', () => {
    const g = values(biasGrad(tensor([[1, NaN], [Infinity, 1], [2, 3]], undefined, { device })));
    expect(g).toEqual([NaN, Infinity, 5]);
  });

  it('addBias: a y that is not 2-D is E_SHAPE', () =>
    expectCode(() => addBias(zeros([4], { device }), zeros([4], { device })), 'E_SHAPE', /y: expected a 2-D tensor/));
  it('addBias: a bias of the wrong length is E_SHAPE', () =>
    expectCode(() => addBias(zeros([4, 2], { device }), zeros([2], { device })), 'E_SHAPE', /bias: expected shape \[4\]/));
  it('addBias: an out of the wrong shape is E_SHAPE', () =>
    expectCode(() => addBias(zeros([4, 2], { device }), zeros([4], { device }), { out: zeros([2, 4], { device }) }), 'E_SHAPE', /out:/));
  it('addBias: an unknown option is E_ARG', () =>
    expectCode(() => addBias(zeros([4, 2], { device }), zeros([4], { device }), { inPlace: true } as never), 'E_ARG', /unknown option 'inPlace'/));
  it('addBias: a bias on another device is E_DEVICE', () =>
    expectCode(() => addBias(zeros([4, 2], { device: 'cpu' }), fakeCuda(zeros([4], { device: 'cpu' }))), 'E_DEVICE', /bias:/));
  it('biasGrad: a dy that is not 2-D is E_SHAPE', () => expectCode(() => biasGrad(zeros([2, 2, 2], { device })), 'E_SHAPE', /dy: expected a 2-D tensor/));
});

describe.each(devices)('softmaxCrossEntropy on %s', (device) => {
  it('matches the float64 reference on random logits (several blocks of 64 columns, threaded)', () => {
    const classes = 10;
    const batch = 300;
    const logits = randn([classes, batch], { seed: 5, std: 3, device });
    const labels = new Int32Array(batch).map((_, b) => (b * 7) % classes);
    const { loss, grad } = softmaxCrossEntropy(logits, labels);
    const ref = softmaxReference(logits.toArray(), labels, classes, batch);
    expect(grad.shape).toEqual([classes, batch]);
    expect(Math.abs(loss - ref.loss)).toBeLessThanOrEqual(1e-6 * ref.loss);
    const g = grad.toArray();
    let worst = 0;
    for (let i = 0; i < g.length; ++i) worst = Math.max(worst, Math.abs(g[i] - ref.grad[i]));
    expect(worst).toBeLessThanOrEqual(1e-6 / batch + 1e-7);
  });

  it('accepts labels as an int32 tensor with the same result', () => {
    const logits = randn([4, 70], { seed: 6, device });
    const labels = new Int32Array(70).map((_, b) => b % 4);
    const a = softmaxCrossEntropy(logits, labels);
    const b = softmaxCrossEntropy(logits, tensor(labels, [70], { device }));
    expect(b.loss).toBe(a.loss);
    expect(firstDifference(b.grad.toArray(), a.grad.toArray())).toBe(-1);
  });

  it('is stable for huge logits (max subtraction) and gives log(classes) for equal logits', () => {
    const { loss, grad } = softmaxCrossEntropy(logitsOf([[1000, 1000, 1000], [-1e30, 0, 1e30]], device), new Int32Array([0, 2]));
    expect(loss).toBeCloseTo(Math.log(3) / 2, 6); // sample 2 has loss 0
    const g = values(grad); // [classes, batch]: g[c * 2 + b]
    expect(g[0]).toBeCloseTo((1 / 3 - 1) / 2, 7);
    expect(g[2]).toBeCloseTo(1 / 6, 7);
    expect([g[1], g[3], g[5]]).toEqual([0, 0, 0]);
  });

  it('batch 1 and a single class', () => {
    const one = softmaxCrossEntropy(logitsOf([[2, 1, 0]], device), new Int32Array([1]));
    const z = Math.log(Math.exp(2) + Math.exp(1) + 1);
    expect(one.loss).toBeCloseTo(z - 1, 6);
    expect(values(one.grad)[1]).toBeCloseTo(Math.exp(1) / Math.exp(z) - 1, 6);
    const single = softmaxCrossEntropy(logitsOf([[5], [-3], [0]], device), new Int32Array([0, 0, 0]));
    expect(single.loss).toBe(0);
    expect(values(single.grad)).toEqual([0, 0, 0]);
  });

  it('non-finite logits: NaN or +Infinity poison only their column; -Infinity is probability 0', () => {
    const logits = logitsOf([
      [1, NaN, 0],
      [Infinity, 0, 0],
      [-Infinity, 0, 0],
      [-Infinity, 2, 0], // the label's logit is -inf: loss +inf, gradient finite
      [0, 0, 0],
    ], device);
    const { loss, grad } = softmaxCrossEntropy(logits, new Int32Array([0, 0, 1, 0, 2]));
    expect(loss).toBeNaN();
    const g = values(grad);
    const column = (b: number): number[] => [0, 1, 2].map((c) => g[c * 5 + b]);
    expect(column(0).every(Number.isNaN)).toBe(true);
    expect(column(1).every(Number.isNaN)).toBe(true);
    expect(column(2)[0]).toBe(0);
    expect(column(2)[1]).toBeCloseTo(-0.5 / 5, 7);
    expect(column(3)[0]).toBeCloseTo(-1 / 5, 7);
    const e2 = Math.exp(2);
    expect(column(3)[1]).toBeCloseTo(e2 / (e2 + 1) / 5, 7);
    expect(column(3)[2]).toBeCloseTo(1 / (e2 + 1) / 5, 7);
    expect(column(4)[2]).toBeCloseTo((1 / 3 - 1) / 5, 7);
    // Without the NaN/+inf columns the loss is finite, or +inf when a label's logit is -inf.
    const finite = softmaxCrossEntropy(logitsOf([[-Infinity, 0, 0], [0, 0, 0]], device), new Int32Array([1, 2]));
    expect(finite.loss).toBeCloseTo(Math.log(2) / 2 + Math.log(3) / 2, 6);
    const infinite = softmaxCrossEntropy(logitsOf([[-Infinity, 2, 0]], device), new Int32Array([0]));
    expect(infinite.loss).toBe(Infinity);
  });

  it('frees the temporary labels tensor made from an Int32Array', () => {
    const logits = randn([3, 8], { seed: 1, device });
    const before = memory(device).allocations;
    softmaxCrossEntropy(logits, new Int32Array(8)).grad.dispose();
    // <=: the garbage collector may finalize tensors other tests dropped, never add any.
    expect(memory(device).allocations).toBeLessThanOrEqual(before);
  });

  it('a label out of range is E_ARG naming the first bad index (Int32Array and tensor)', () => {
    const logits = zeros([3, 5], { device });
    expectCode(() => softmaxCrossEntropy(logits, new Int32Array([0, 1, 3, -1, 9])), 'E_ARG', /labels\[2\]: expected a class index in \[0, 3\), got 3/);
    expectCode(() => softmaxCrossEntropy(logits, tensor(new Int32Array([0, 1, 2, -1, 0]), [5], { device })), 'E_ARG', /labels\[3\].*got -1/);
  });
  it('labels of the wrong length are E_SHAPE', () =>
    expectCode(() => softmaxCrossEntropy(zeros([3, 5], { device }), new Int32Array(4)), 'E_SHAPE', /labels: expected 5 entries/));
  it('labels of the wrong type are E_ARG', () =>
    expectCode(() => softmaxCrossEntropy(zeros([3, 5], { device }), new Float32Array(5) as never), 'E_ARG', /labels: expected an Int32Array or an int32 Tensor/));
  it('a float32 labels tensor is E_ARG', () =>
    expectCode(() => softmaxCrossEntropy(zeros([3, 5], { device }), zeros([5], { device }) as never), 'E_ARG', /labels: expected an int32 tensor/));
  it('a 2-D labels tensor is E_SHAPE', () =>
    expectCode(() => softmaxCrossEntropy(zeros([3, 4], { device }), tensor(new Int32Array(4), [2, 2], { device })), 'E_SHAPE', /labels: expected a 1-D tensor/));
  it('logits that are not 2-D are E_SHAPE', () => expectCode(() => softmaxCrossEntropy(zeros([5], { device }), new Int32Array(5)), 'E_SHAPE', /logits: expected a 2-D/));
  it('an empty batch or zero classes is E_SHAPE', () => {
    expectCode(() => softmaxCrossEntropy(zeros([3, 0], { device }), new Int32Array(0)), 'E_SHAPE', /at least one class and one sample/);
    expectCode(() => softmaxCrossEntropy(zeros([0, 2], { device }), new Int32Array(2)), 'E_SHAPE', /at least one class and one sample/);
  });
});

describe.each(devices)('accuracy on %s', (device) => {
  it('counts argmax == label; ties go to the lowest class; NaN is never the argmax', () => {
    const logits = logitsOf([
      [0.1, 0.7, 0.2], // argmax 1
      [3, 3, 1], // tie: 0
      [NaN, 1, 2], // NaN skipped: 2
      [NaN, NaN, NaN], // no argmax: wrong
      [-Infinity, -Infinity, -Infinity], // all equal: 0
    ], device);
    expect(accuracy(logits, new Int32Array([1, 0, 2, 0, 0]))).toBe(1 - 1 / 5);
    expect(accuracy(logits, new Int32Array([1, 1, 0, 0, 1]))).toBe(1 / 5);
  });

  it('matches a reference on a large random batch', () => {
    const classes = 7;
    const batch = 1000;
    const logits = randn([classes, batch], { seed: 11, device });
    const x = logits.toArray();
    const labels = new Int32Array(batch).map((_, b) => (b * 3) % classes);
    let correct = 0;
    for (let b = 0; b < batch; ++b) {
      let best = 0;
      for (let c = 1; c < classes; ++c) if (x[c * batch + b] > x[best * batch + b]) best = c;
      if (best === labels[b]) correct++;
    }
    expect(accuracy(logits, labels)).toBe(correct / batch);
    expect(accuracy(logits, tensor(labels, [batch], { device }))).toBe(correct / batch);
  });

  it('batch 1, one class', () => expect(accuracy(zeros([1, 1], { device }), new Int32Array([0]))).toBe(1));
  it('a label out of range is E_ARG', () => expectCode(() => accuracy(zeros([2, 2], { device }), new Int32Array([0, 2])), 'E_ARG', /labels\[1\]/));
});

describe.each(devices)('add and axpy on %s', (device) => {
  it('add is a + b in float32', () => {
    const a = randn([33, 1001], { seed: 1, device });
    const b = randn([33, 1001], { seed: 2, device });
    const av = a.toArray();
    const bv = b.toArray();
    const out = add(a, b);
    expect(out.shape).toEqual([33, 1001]);
    expect(firstDifference(out.toArray(), Array.from(av, (v, i) => f(v + bv[i])))).toBe(-1);
  });

  it('axpy updates y in place: y = fround(y + fround(alpha * x)), NaN propagating', () => {
    const x = randn([5000], { seed: 3, device });
    const y = randn([5000], { seed: 4, device });
    const xv = x.toArray();
    const yv = y.toArray();
    const alpha = -0.3;
    expect(axpy(alpha, x, y)).toBe(y);
    expect(firstDifference(y.toArray(), Array.from(yv, (v, i) => f(v + f(f(alpha) * xv[i]))))).toBe(-1);
    const z = tensor([1, 2], undefined, { device });
    axpy(2, tensor([NaN, 1], undefined, { device }), z);
    expect(values(z)).toEqual([NaN, 4]);
  });

  it('add and axpy on empty tensors', () => {
    const e = zeros([0], { device });
    expect(add(e, e).size).toBe(0);
    expect(axpy(1, e, zeros([0], { device })).size).toBe(0);
  });

  it('add: shapes that differ are E_SHAPE', () => expectCode(() => add(zeros([2], { device }), zeros([3], { device })), 'E_SHAPE', /b: expected the shape of a/));
  it('axpy: a non-finite alpha is E_ARG', () => expectCode(() => axpy(NaN, zeros([2], { device }), zeros([2], { device })), 'E_ARG', /alpha: expected a finite number/));
  it('axpy: an alpha beyond float32 is E_ARG', () => expectCode(() => axpy(1e39, zeros([2], { device }), zeros([2], { device })), 'E_ARG', /alpha: expected a number within the float32 range/));
  it('axpy: x and y sharing a buffer is E_ARG', () => {
    const y = zeros([2, 2], { device });
    expectCode(() => axpy(1, y.reshape(2, 2), y), 'E_ARG', /does not share its buffer/);
  });
  it('axpy: shapes that differ are E_SHAPE', () => expectCode(() => axpy(1, zeros([2], { device }), zeros([2, 1], { device })), 'E_SHAPE'));
});
