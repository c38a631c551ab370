import { CsrMatrix, erk, Linear, mlp, ReLU, Sequential, SGD, softmaxCrossEntropy, SparseLinear, Tensor, tensor, toBatchMajor, toFeatureMajor, Trainer, randn, memory } from '../lib';
import { devices, expectCode } from './helpers/devices';

/** Dense float64 reference products on host arrays (row-major). */
function matmul(a: ArrayLike<number>, b: ArrayLike<number>, m: number, k: number, n: number): Float64Array {
  const c = new Float64Array(m * n);
  for (let i = 0; i < m; i++) for (let t = 0; t < k; t++) for (let j = 0; j < n; j++) c[i * n + j] += a[i * k + t] * b[t * n + j];
  return c;
}
function transpose(a: ArrayLike<number>, rows: number, cols: number): Float64Array {
  const t = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) t[j * rows + i] = a[i * cols + j];
  return t;
}
function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol = 1e-5): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < actual.length; i++) {
    if (Math.abs(actual[i] - expected[i]) > tol * (1 + Math.abs(expected[i]))) throw new Error(`index ${i}: ${actual[i]} vs ${expected[i]}`);
  }
}

describe('layout helpers', () => {
  test('toFeatureMajor transposes batch-major samples into [features, batch] and toBatchMajor inverts it', () => {
    // 2 samples of 3 features: [[1, 2, 3], [4, 5, 6]]
    using t = toFeatureMajor(new Float32Array([1, 2, 3, 4, 5, 6]), 2, 3);
    expect(t.shape).toEqual([3, 2]);
    expect(Array.from(t.toArray())).toEqual([1, 4, 2, 5, 3, 6]);
    expect(Array.from(toBatchMajor(t))).toEqual([1, 2, 3, 4, 5, 6]);
    expectCode(() => toFeatureMajor(new Float32Array(5), 2, 3), 'E_SHAPE');
  });
});

describe('SparseLinear', () => {
  test('forward, backward (dW at stored positions only, dx, db) match a dense reference', () => {
    const [inF, outF, batch] = [7, 5, 4];
    using layer = new SparseLinear(inF, outF, { density: 0.4, seed: 3 });
    using b = randn([outF], { seed: 9 });
    layer.setBias(b.clone());
    const W = layer.weight.toDense().toArray();
    using x = randn([inF, batch], { seed: 1 });
    using dy = randn([outF, batch], { seed: 2 });
    using y = layer.forward(x);
    const ref = matmul(W, x.toArray(), outF, inF, batch);
    const bias = b.toArray();
    for (let i = 0; i < outF; i++) for (let j = 0; j < batch; j++) ref[i * batch + j] += bias[i];
    expectClose(y.toArray(), ref);
    using dx = layer.backward(dy)!;
    expectClose(dx.toArray(), matmul(transpose(W, outF, inF), dy.toArray(), inF, outF, batch));
    const dense = matmul(dy.toArray(), transpose(x.toArray(), inF, batch), outF, batch, inF);
    const rowPtr = layer.weight.rowPtr();
    const colIdx = layer.weight.colIdx();
    const expected: number[] = [];
    for (let r = 0; r < outF; r++) for (let k = rowPtr[r]; k < rowPtr[r + 1]; k++) expected.push(dense[r * inF + colIdx[k]]);
    expectClose(layer.weightGrad!.toArray(), expected);
    const dyv = dy.toArray();
    const db = Array.from({ length: outF }, (_, i) => Array.from(dyv.slice(i * batch, (i + 1) * batch)).reduce((s, v) => s + v, 0));
    expectClose(layer.biasGrad!.toArray(), db);
    expect(layer.backward(dy, false)).toBeNull();
    expect(layer.lastInput).toBe(x);
    expect(layer.lastOutputGrad).toBe(dy);
  });

  test("sparse-kaiming init has variance 2 / each row's own fan-in; dense-kaiming 2 / in", () => {
    using sparse = new SparseLinear(2000, 50, { density: 0.05, seed: 4 });
    using dense = new SparseLinear(2000, 50, { density: 0.05, seed: 4, init: 'dense-kaiming' });
    const rp = sparse.weight.rowPtr();
    const vs = sparse.weight.values.toArray();
    const vd = dense.weight.values.toArray();
    let zs = 0;
    let zd = 0;
    for (let r = 0; r < 50; r++)
      for (let k = rp[r]; k < rp[r + 1]; k++) {
        zs += (vs[k] * vs[k]) / (2 / (rp[r + 1] - rp[r]));
        zd += (vd[k] * vd[k]) / (2 / 2000);
      }
    expect(zs / sparse.weight.nnz).toBeGreaterThan(0.9);
    expect(zs / sparse.weight.nnz).toBeLessThan(1.1);
    expect(zd / dense.weight.nnz).toBeGreaterThan(0.9);
    expect(zd / dense.weight.nnz).toBeLessThan(1.1);
  });

  test('rejects bad inputs', () => {
    using layer = new SparseLinear(4, 3, { density: 0.5 });
    using x = randn([5, 2]);
    expectCode(() => layer.forward(x), 'E_SHAPE', /\[4, batch\]/);
    expectCode(() => new SparseLinear(4, 3, { density: 2 }), 'E_ARG');
    expectCode(() => new SparseLinear(4, 3, { density: 0.5, nnz: 3 }), 'E_ARG');
    using other = CsrMatrix.random(4, 3, { density: 0.5 });
    expectCode(() => layer.setWeight(other), 'E_SHAPE');
    using fresh = new SparseLinear(4, 3);
    using g = randn([3, 2]);
    expectCode(() => fresh.backward(g), 'E_ARG', /forward first/);
  });
});

describe('Linear and ReLU', () => {
  test('Linear forward and backward match a dense reference', () => {
    const [inF, outF, batch] = [6, 3, 5];
    using layer = new Linear(inF, outF, { seed: 2 });
    const W = layer.weight.toArray();
    using x = randn([inF, batch], { seed: 5 });
    using dy = randn([outF, batch], { seed: 6 });
    using y = layer.forward(x);
    expectClose(y.toArray(), matmul(W, x.toArray(), outF, inF, batch));
    using dx = layer.backward(dy)!;
    expectClose(dx.toArray(), matmul(transpose(W, outF, inF), dy.toArray(), inF, outF, batch));
    const dW = layer.parameters()[0].grad!.toArray();
    expectClose(dW, matmul(dy.toArray(), transpose(x.toArray(), inF, batch), outF, batch, inF));
  });

  test('ReLU passes gradients where the input was positive', () => {
    const relu = new ReLU();
    using x = tensor([[-1, 2], [0, 3]]);
    using y = relu.forward(x);
    expect(Array.from(y.toArray())).toEqual([0, 2, 0, 3]);
    using dy = tensor([[5, 6], [7, 8]]);
    using dx = relu.backward(dy)!;
    expect(Array.from(dx.toArray())).toEqual([0, 6, 0, 8]);
    expect(relu.parameters()).toEqual([]);
  });
});

describe('mlp and Trainer', () => {
  test('mlp spreads the sparsity with ERK: exact nnz, dense layers where the distribution says so', () => {
    using model = mlp([784, 300, 100, 10], { sparsity: 0.9, distribution: 'erk', seed: 1 });
    const shares = erk([{ name: 'fc1', shape: [300, 784] }, { name: 'fc2', shape: [100, 300] }, { name: 'fc3', shape: [10, 100] }], 0.9);
    const weights = model.weightLayers();
    expect(weights.map((l) => l.constructor.name)).toEqual(shares.map((s) => (s.dense ? 'Linear' : 'SparseLinear')));
    expect(shares.some((s) => s.dense)).toBe(true); // the small last layer comes out dense under ERK
    weights.forEach((l, i) => expect(l instanceof SparseLinear ? l.weight.nnz : l.inFeatures * l.outFeatures).toBe(shares[i].nnz));
    const total = shares.reduce((s, l) => s + l.nnz, 0);
    const size = 784 * 300 + 300 * 100 + 100 * 10;
    expect(total).toBe(size - (Math.floor(0.9 * 784 * 300) + Math.floor(0.9 * 300 * 100) + Math.floor(0.9 * 100 * 10)));
    expect(model.layers.map((l) => l.constructor.name)).toEqual(['SparseLinear', 'ReLU', 'SparseLinear', 'ReLU', 'Linear']);
    using dense = mlp([8, 4, 2]);
    expect(dense.layers.map((l) => l.constructor.name)).toEqual(['Linear', 'ReLU', 'Linear']);
    using pruned = mlp([8, 4, 2], { sparseLayers: true });
    expect(pruned.sparseLayers().map((l) => l.weight.nnz)).toEqual([32, 8]);
  });

  test('training steps on a fixed batch lower the loss (sparse and dense models)', () => {
    for (const sparsity of [0, 0.5]) {
      using model = mlp([20, 32, 4], { sparsity, seed: 7 });
      using opt = new SGD({ lr: 0.1, momentum: 0.9 });
      const trainer = new Trainer({ model, optimizer: opt });
      using x = randn([20, 16], { seed: 11 });
      const labels = Int32Array.from({ length: 16 }, (_, i) => i % 4);
      const first = trainer.step(x, labels).loss;
      let last = first;
      for (let i = 0; i < 30; i++) last = trainer.step(x, labels).loss;
      expect(trainer.stepNumber).toBe(31);
      expect(last).toBeLessThan(first * 0.5);
      trainer.dispose();
    }
  });

  // A mean squared error on the host (fine for a test): the trainer only needs { loss, grad }.
  const mse = (output: Tensor, target: Float32Array) => {
    const o = output.toArray() as Float32Array;
    let sum = 0;
    const g = new Float32Array(o.length);
    for (let i = 0; i < o.length; i++) {
      const d = o[i] - target[i];
      sum += d * d;
      g[i] = (2 * d) / o.length;
    }
    return { loss: sum / o.length, grad: tensor(g, output.shape, { device: output.device }) };
  };

  test('a custom loss: regression with mean squared error lowers the loss; softmax cross-entropy given explicitly is the default', () => {
    using model = mlp([12, 24, 3], { sparsity: 0.5, seed: 9 });
    using opt = new SGD({ lr: 0.05, momentum: 0.9 });
    using trainer = new Trainer<Float32Array>({ model, optimizer: opt, loss: mse });
    using x = randn([12, 10], { seed: 2 });
    const target = Float32Array.from({ length: 30 }, (_, i) => Math.sin(i));
    const first = trainer.step(x, target).loss;
    let last = first;
    for (let i = 0; i < 40; i++) last = trainer.step(x, target).loss;
    expect(last).toBeLessThan(first * 0.5);

    const run = (explicit: boolean) => {
      using m = mlp([12, 16, 4], { sparsity: 0.5, seed: 4 });
      using o = new SGD({ lr: 0.1 });
      using t = explicit ? new Trainer({ model: m, optimizer: o, loss: softmaxCrossEntropy }) : new Trainer({ model: m, optimizer: o });
      const labels = Int32Array.from({ length: 10 }, (_, i) => i % 4);
      const losses = [0, 1, 2].map(() => t.step(x, labels).loss);
      return { losses, w: Array.from((m.sparseLayers()[0].weight.values.toArray())) };
    };
    expect(run(true)).toEqual(run(false));
  });

  test('a custom loss that returns a wrong gradient is E_ARG, and nothing changes', () => {
    using model = mlp([6, 5, 2], { sparsity: 0.5, seed: 1 });
    using opt = new SGD({ lr: 0.1 });
    using x = randn([6, 4], { seed: 3 });
    const weights = () => Array.from(model.sparseLayers()[0].weight.values.toArray());
    const before = weights();
    const bad = (grad: (o: Tensor) => unknown) => new Trainer<null>({ model, optimizer: opt, loss: (o) => ({ loss: 1, grad: grad(o) as Tensor }) });
    expectCode(() => bad((o) => randn([o.shape[1], o.shape[0]])).step(x, null), 'E_ARG', /grad to be a float32 tensor of the output's shape \[2, 4\]/);
    expectCode(() => bad(() => 'no').step(x, null), 'E_ARG', /grad to be a live Tensor/);
    expectCode(() => bad((o) => o).step(x, null), 'E_ARG', /a new tensor/);
    expectCode(() => new Trainer<null>({ model, optimizer: opt, loss: () => ({ grad: null }) as never }).step(x, null), 'E_ARG', /return \{ loss: number, grad: Tensor \}/);
    expectCode(() => new Trainer({ model, optimizer: opt, loss: 'mse' as never }), 'E_ARG', /loss: expected a function/);
    expect(weights()).toEqual(before);
  });

  test('Sequential rejects non-layers', () => {
    expectCode(() => new Sequential([]), 'E_ARG');
    expectCode(() => new Sequential([{} as never]), 'E_ARG');
  });
});

describe('argument codes of setWeight / setBias / toBatchMajor (found by the fuzz test)', () => {
  it('a non-tensor is E_ARG, a disposed one E_DISPOSED, a wrong shape E_SHAPE', () => {
    const l = new Linear(3, 2, { seed: 1 });
    expectCode(() => l.setWeight(CsrMatrix.random(2, 3, { density: 0.5 }) as unknown as ReturnType<typeof randn>), 'E_ARG', /weight: expected a Tensor/);
    expectCode(() => l.setBias(3 as unknown as ReturnType<typeof randn>), 'E_ARG', /bias: expected a Tensor/);
    const gone = randn([2, 3]);
    gone.dispose();
    expectCode(() => l.setWeight(gone), 'E_DISPOSED');
    expectCode(() => l.setWeight(randn([3, 2])), 'E_SHAPE', /\[2, 3\] tensor, got shape \[3, 2\]/);
    const s = new SparseLinear(4, 3, { density: 0.5, seed: 1 });
    expectCode(() => s.setBias([1, 2, 3] as unknown as ReturnType<typeof randn>), 'E_ARG');
    const goneCsr = CsrMatrix.random(4, 3, { density: 0.5 });
    goneCsr.dispose();
    expectCode(() => s.setWeight(goneCsr), 'E_DISPOSED');
    expectCode(() => toBatchMajor(new Float32Array(4) as unknown as ReturnType<typeof randn>), 'E_ARG');
    l.dispose();
    s.dispose();
  });
});

describe('what Linear and SparseLinear share (bias, adoption, disposal)', () => {
  const makers: [string, () => Linear | SparseLinear][] = [
    ['Linear', () => new Linear(4, 3, { seed: 1 })],
    ['SparseLinear', () => new SparseLinear(4, 3, { density: 0.5, seed: 1 })],
  ];

  test.each(makers)('%s: setBias with its own bias keeps it (it is not freed and adopted)', (_, make) => {
    using l = make();
    const b = l.bias!;
    l.setBias(b);
    expect(b.disposed).toBe(false);
    expect(l.bias).toBe(b);
    using x = randn([4, 2], { seed: 2 });
    using y = l.forward(x);
    expect(y.shape).toEqual([3, 2]);
  });

  test.each(makers)('%s: setBias frees the old bias and adopts the new one', (_, make) => {
    using l = make();
    const old = l.bias!;
    const fresh = tensor(new Float32Array([1, 2, 3]), [3]);
    l.setBias(fresh);
    expect(old.disposed).toBe(true);
    expect(l.bias).toBe(fresh);
    expect(Array.from(l.bias!.toArray())).toEqual([1, 2, 3]);
  });

  test.each(makers)('%s: setBias on a layer without a bias is E_ARG', (name) => {
    using l = name === 'Linear' ? new Linear(4, 3, { bias: false }) : new SparseLinear(4, 3, { bias: false });
    expectCode(() => l.setBias(randn([3])), 'E_ARG', /has no bias/);
  });

  test.each(makers)('%s: growing outputs keeps the old biases, appends zeros, and drops the stale gradients', (name, make) => {
    using l = make();
    l.setBias(tensor(new Float32Array([1, 2, 3]), [3]));
    using x = randn([4, 2], { seed: 2 });
    l.forward(x).dispose();
    using dy = randn([3, 2], { seed: 3 });
    l.backward(dy, false);
    const maps =
      l instanceof Linear ? l.growOutputs(2) : l.growOutputs(CsrMatrix.fromArrays({ rows: 2, cols: 4, rowPtr: new Int32Array([0, 1, 1]), colIdx: new Int32Array([2]), values: new Float32Array([0.5]) }));
    expect(l.outFeatures).toBe(5);
    expect(Array.from(l.bias!.toArray())).toEqual([1, 2, 3, 0, 0]);
    expect(Array.from(maps.bias!)).toEqual([0, 1, 2, -1, -1]);
    expect(l.parameters().every((p) => p.grad === null)).toBe(true);
    expectCode(() => l.backward(dy), 'E_ARG', new RegExp(`${name}.backward: call forward first`));
  });

  test.each(makers)('%s: dispose frees the weight, the bias and the gradients, and may be called twice', (_, make) => {
    const l = make();
    using x = randn([4, 2], { seed: 2 });
    l.forward(x).dispose();
    using dy = randn([3, 2], { seed: 3 });
    l.backward(dy, false);
    const owned = [l.bias!, ...l.parameters().map((p) => p.grad!)];
    const weight = l.weight;
    l.dispose();
    expect(owned.every((t) => t.disposed)).toBe(true);
    expect(weight.disposed).toBe(true);
    l.dispose();
  });

  const cuda = devices.includes('cuda') ? test : test.skip;
  cuda('a bias or weight on another device than the layer is E_DEVICE, and the layer keeps its own', () => {
    using dense = new Linear(4, 3, { device: 'cuda' });
    using sparse = new SparseLinear(4, 3, { density: 0.5, device: 'cuda' });
    using b = randn([3], { device: 'cpu' });
    using w = randn([3, 4], { device: 'cpu' });
    expectCode(() => dense.setBias(b), 'E_DEVICE', /bias: expected a tensor on 'cuda', got one on 'cpu'/);
    expectCode(() => sparse.setBias(b), 'E_DEVICE', /bias: expected a tensor on 'cuda'/);
    expectCode(() => dense.setWeight(w), 'E_DEVICE', /weight: expected a tensor on 'cuda', got one on 'cpu'/);
    expect(dense.bias!.disposed || sparse.bias!.disposed || dense.weight.disposed).toBe(false);
  });
});

test('mlp frees the layers it made when a later one cannot be made (at once, not at the next GC)', () => {
  const before = memory('cpu');
  let code: string | undefined;
  try {
    // fc1 [2^23, 2] (64 MiB) is made; fc2 [2^24, 2^23] is refused before any allocation (over 2^46 elements).
    mlp([2, 2 ** 23, 2 ** 24], { device: 'cpu' });
  } catch (e) {
    code = (e as DynasparseErrorLike).code;
  }
  expect(code).toBe('E_ARG');
  expect(memory('cpu').allocations).toBe(before.allocations);
  expect(memory('cpu').bytesInUse).toBe(before.bytesInUse);
});

interface DynasparseErrorLike {
  code?: string;
}

test('mlp refuses options it would otherwise ignore: powerScale without ERK, unknown dense layer names', () => {
  expectCode(() => mlp([4, 3, 2], { sparsity: 0.5, distribution: 'uniform', powerScale: 0.5 }), 'E_ARG', /powerScale: only the 'erk' distribution takes it, got distribution 'uniform'/);
  expectCode(() => mlp([4, 3, 2], { dense: ['fc3'] }), 'E_ARG', /dense\[0\]: expected a layer name \(fc1, fc2\), got the string 'fc3'/);
  expectCode(() => mlp([4, 3, 2], { sparsity: 0.5, dense: ['fc1', 'nope'] }), 'E_ARG', /dense\[1\]/);
  mlp([4, 3, 2], { sparsity: 0.5, dense: ['fc2'], powerScale: 0.5 }).dispose();
});

test.each(['Linear', 'SparseLinear'])('a disposed %s refuses every use with E_DISPOSED, also being given new tensors by load()', (kind) => {
  const l = kind === 'Linear' ? new Linear(4, 3) : new SparseLinear(4, 3, { density: 0.5 });
  expect(l.disposed).toBe(false);
  l.dispose();
  expect(l.disposed).toBe(true);
  using x = randn([4, 2]);
  const message = new RegExp(`${kind}: the layer has been disposed`);
  expectCode(() => l.forward(x), 'E_DISPOSED', message);
  expectCode(() => l.parameters(), 'E_DISPOSED', message);
  expectCode(() => l.setBias(randn([3])), 'E_DISPOSED', message);
  if (l instanceof Linear) expectCode(() => l.setWeight(randn([3, 4])), 'E_DISPOSED', message);
  else expectCode(() => l.setWeight(CsrMatrix.random(3, 4, { density: 0.5 })), 'E_DISPOSED', message);
  expectCode(() => l.growInputs(1), 'E_DISPOSED', message);
  l.dispose(); // again: nothing
});
