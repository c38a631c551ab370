import { backends, DynasparseError, full, memory, rand, randn, Tensor, tensor, zeros } from '../lib';
import { devices, expectCode } from './helpers/devices';
import { collectUntil, settle } from './helpers/gc';
import { native } from '../lib/native';

describe.each(devices)('tensors on %s', (device) => {
  test('tensor() from nested arrays infers the shape', () => {
    using t = tensor([[1, 2, 3], [4, 5, 6]], undefined, { device });
    expect(t.shape).toEqual([2, 3]);
    expect(t.size).toBe(6);
    expect(t.device).toBe(device);
    expect(t.dtype).toBe('float32');
    expect(Array.from(t.toArray())).toEqual([1, 2, 3, 4, 5, 6]);
  });

  test('tensor() from a Float32Array or a flat array with a shape', () => {
    using a = tensor(new Float32Array([1, 2, 3, 4, 5, 6]), [3, 2], { device });
    expect(a.shape).toEqual([3, 2]);
    expect(Array.from(a.toArray())).toEqual([1, 2, 3, 4, 5, 6]);
    using b = tensor([0.5, -1.25], [2], { device });
    expect(Array.from(b.toArray())).toEqual([0.5, -1.25]);
    using c = tensor([1, 2, 3], undefined, { device });
    expect(c.shape).toEqual([3]);
  });

  test('tensor() from an Int32Array makes an int32 tensor', () => {
    using t = tensor(new Int32Array([7, -8, 2 ** 31 - 1]), [3], { device });
    expect(t.dtype).toBe('int32');
    expect(Object.prototype.toString.call(t.toArray())).toBe('[object Int32Array]');
    expect(Array.from(t.toArray())).toEqual([7, -8, 2 ** 31 - 1]);
  });

  test('values round to float32 and keep NaN and infinities', () => {
    using t = tensor([0.1, NaN, Infinity, -Infinity, -0], [5], { device });
    const v = t.toArray();
    expect(v[0]).toBe(Math.fround(0.1));
    expect(Number.isNaN(v[1])).toBe(true);
    expect(v[2]).toBe(Infinity);
    expect(v[3]).toBe(-Infinity);
    expect(Object.is(v[4], -0)).toBe(true);
  });

  test('empty and zero-sized tensors', () => {
    using a = tensor([], [0], { device });
    expect(a.size).toBe(0);
    expect(a.toArray().length).toBe(0);
    using b = zeros([0, 5], { device });
    expect(b.shape).toEqual([0, 5]);
    using s = zeros([], { device });
    expect(s.size).toBe(1);
    expect(Array.from(s.toArray())).toEqual([0]);
  });

  test('zeros() and full()', () => {
    using z = zeros([2, 2], { device });
    expect(Array.from(z.toArray())).toEqual([0, 0, 0, 0]);
    using f = full([3], -2.5, { device });
    expect(Array.from(f.toArray())).toEqual([-2.5, -2.5, -2.5]);
    using n = full([2], NaN, { device });
    expect(Array.from(n.toArray()).every(Number.isNaN)).toBe(true);
  });

  test('randn() is seeded, has the requested moments and depends only on (seed, index)', () => {
    using a = randn([200, 500], { seed: 7, mean: 1, std: 3, device });
    using b = randn([200, 500], { seed: 7, mean: 1, std: 3, device });
    using c = randn([10], { seed: 7, mean: 1, std: 3, device });
    using d = randn([10], { seed: 8, mean: 1, std: 3, device });
    const va = a.toArray();
    expect(va).toEqual(b.toArray());
    expect(Array.from(c.toArray())).toEqual(Array.from(va.subarray(0, 10)));
    expect(Array.from(d.toArray())).not.toEqual(Array.from(c.toArray()));
    const n = va.length;
    const mean = va.reduce((s, x) => s + x, 0) / n;
    const variance = va.reduce((s, x) => s + (x - mean) ** 2, 0) / n;
    // 100k samples: standard error of the mean 3/sqrt(1e5) = 0.0095, of the variance
    // 9*sqrt(2/1e5) = 0.04; bounds at about 5 standard errors.
    expect(Math.abs(mean - 1)).toBeLessThan(0.05);
    expect(Math.abs(variance - 9)).toBeLessThan(0.2);
  });

  test('randn() accepts bigint seeds, std 0 gives the mean', () => {
    using a = randn([4], { seed: 2n ** 63n + 5n, device });
    expect(a.toArray().every(Number.isFinite)).toBe(true);
    using b = randn([3], { std: 0, mean: 4, device });
    expect(Array.from(b.toArray())).toEqual([4, 4, 4]);
  });

  test('rand() stays within [low, high) with a uniform mean', () => {
    using t = rand([100000], { seed: 3, low: -2, high: 6, device });
    const v = t.toArray();
    let sum = 0;
    let min = Infinity;
    let max = -Infinity;
    for (const x of v) {
      sum += x;
      min = Math.min(min, x);
      max = Math.max(max, x);
    }
    expect(min).toBeGreaterThanOrEqual(-2);
    expect(max).toBeLessThan(6);
    // standard error 8/sqrt(12*1e5) = 0.0073
    expect(Math.abs(sum / v.length - 2)).toBeLessThan(0.04);
  });

  test('clone() copies; to() moves between devices', () => {
    using a = tensor([1, 2, 3], [3], { device });
    using b = a.clone();
    expect(b.device).toBe(device);
    expect(Array.from(b.toArray())).toEqual([1, 2, 3]);
    a.dispose();
    expect(Array.from(b.toArray())).toEqual([1, 2, 3]);
    using c = b.to('cpu');
    expect(c.device).toBe('cpu');
    expect(Array.from(c.toArray())).toEqual([1, 2, 3]);
  });

  test('reshape() is a view with -1 inference; its buffer lives while any view does', async () => {
    await settle();
    const before = memory(device).bytesInUse;
    const a = tensor([1, 2, 3, 4, 5, 6], [6], { device });
    const b = a.reshape(2, -1);
    expect(b.shape).toEqual([2, 3]);
    expect(a.reshape([3, 2]).shape).toEqual([3, 2]);
    a.dispose();
    expect(a.disposed).toBe(true);
    expect(b.disposed).toBe(false);
    expect(Array.from(b.toArray())).toEqual([1, 2, 3, 4, 5, 6]);
    b.dispose();
    expect(await collectUntil(() => memory(device).bytesInUse === before)).toBe(true);
  });

  test('reshape() errors', () => {
    using a = zeros([6], { device });
    expectCode(() => a.reshape(4, 2), 'E_SHAPE', /cannot reshape \[6\]/);
    expectCode(() => a.reshape(-1, -1), 'E_ARG', /at most one/);
    expectCode(() => a.reshape(4, -1), 'E_SHAPE', /cannot infer/);
    expectCode(() => a.reshape(2.5 as number, 2), 'E_ARG', /shape\[0\]/);
  });

  test('transpose() of a 2-D tensor', () => {
    using a = tensor([[1, 2, 3], [4, 5, 6]], undefined, { device });
    using t = a.transpose();
    expect(t.shape).toEqual([3, 2]);
    expect(Array.from(t.toArray())).toEqual([1, 4, 2, 5, 3, 6]);
    using big = rand([33, 70], { seed: 1, device });
    using bt = big.transpose();
    const src = big.toArray();
    const dst = bt.toArray();
    let mismatches = 0;
    for (let r = 0; r < 33; r++) for (let c = 0; c < 70; c++) if (dst[c * 33 + r] !== src[r * 70 + c]) mismatches++;
    expect(mismatches).toBe(0);
    using v = zeros([3], { device });
    expectCode(() => v.transpose(), 'E_SHAPE', /2-D/);
  });

  test('dispose() is idempotent, frees memory at once, and a disposed handle throws E_DISPOSED', () => {
    const before = memory(device);
    const t = zeros([256], { device });
    expect(memory(device).bytesInUse).toBe(before.bytesInUse + 1024);
    t.dispose();
    t.dispose();
    expect(memory(device).bytesInUse).toBe(before.bytesInUse);
    expect(t.disposed).toBe(true);
    expectCode(() => t.toArray(), 'E_DISPOSED');
    expectCode(() => t.clone(), 'E_DISPOSED');
    expectCode(() => t.reshape(16, 16), 'E_DISPOSED');
    expectCode(() => t.transpose(), 'E_DISPOSED');
    expect(String(t)).toBe(`Tensor(float32, [256], ${device}, disposed)`);
  });

  test('using disposes at the end of the scope', () => {
    const before = memory(device).bytesInUse;
    let escaped: Tensor | undefined;
    {
      using t = zeros([64], { device });
      escaped = t;
      expect(memory(device).bytesInUse).toBe(before + 256);
    }
    expect(escaped.disposed).toBe(true);
    expect(memory(device).bytesInUse).toBe(before);
  });

  test('a dropped handle is freed by the finalizer after garbage collection', async () => {
    await settle();
    const before = memory(device).bytesInUse;
    (() => {
      for (let i = 0; i < 20; i++) zeros([1024], { device });
    })();
    expect(memory(device).bytesInUse).toBe(before + 20 * 4096);
    const freed = await collectUntil(() => memory(device).bytesInUse === before);
    expect(freed).toBe(true);
  });
});

describe('tensor argument errors', () => {
  test('shapes: not an array, negative, fractional, NaN, too many dimensions', () => {
    expectCode(() => zeros(3 as never), 'E_ARG', /shape: expected an array/);
    expectCode(() => zeros([-1]), 'E_ARG', /shape\[0\]: expected an integer >= 0, got -1/);
    expectCode(() => zeros([1.5]), 'E_ARG', /shape\[0\]/);
    expectCode(() => zeros([NaN]), 'E_ARG', /got NaN/);
    expectCode(() => zeros([Infinity]), 'E_ARG', /got Infinity/);
    expectCode(() => zeros([1, 1, 1, 1, 1, 1, 1, 1, 1]), 'E_ARG', /at most 8 dimensions/);
  });

  test('an element count beyond 2^46 is E_ARG, not an overflow', () => {
    expectCode(() => zeros([2 ** 30, 2 ** 30]), 'E_ARG', /overflow/);
  });

  test('an allocation beyond memory is E_OOM and the library keeps working', () => {
    expectCode(() => zeros([2 ** 45], { device: 'cpu' }), 'E_OOM', /cannot allocate/);
    using ok = zeros([4], { device: 'cpu' });
    expect(ok.size).toBe(4);
  });

  test('data: wrong type, wrong length, ragged nesting, non-numbers', () => {
    expectCode(() => tensor('abc' as never), 'E_ARG', /data: expected/);
    expectCode(() => tensor(new Float64Array(2) as never, [2]), 'E_ARG', /Float64Array/);
    expectCode(() => tensor([1, 2, 3], [2, 2]), 'E_SHAPE', /expected 4 values for shape \[2, 2\], got 3/);
    expectCode(() => tensor([[1, 2], [3]]), 'E_SHAPE', /not rectangular/);
    expectCode(() => tensor([1, 'x'] as never), 'E_ARG', /data\[1\]: expected a number/);
  });

  test('options: unknown keys, bad device, bad seeds and parameters', () => {
    expectCode(() => zeros([1], { devise: 'cpu' } as never), 'E_ARG', /unknown option 'devise'/);
    expectCode(() => zeros([1], { device: 'gpu' as never }), 'E_ARG', /'cpu' or 'cuda'/);
    expectCode(() => randn([1], { seed: -1 }), 'E_ARG', /seed/);
    expectCode(() => randn([1], { seed: 1.5 }), 'E_ARG', /seed/);
    expectCode(() => randn([1], { seed: 2n ** 64n }), 'E_ARG', /seed/);
    expectCode(() => randn([1], { std: -1 }), 'E_ARG', /std/);
    expectCode(() => randn([1], { mean: NaN }), 'E_ARG', /mean: expected a finite number/);
    expectCode(() => rand([1], { low: 2, high: 1 }), 'E_ARG', /high/);
    expectCode(() => full([1], 'x' as never), 'E_ARG', /value/);
  });

  (backends()[1].available ? test.skip : test)('device cuda where unavailable is E_DEVICE with the reason', () => {
    expectCode(() => zeros([2], { device: 'cuda' }), 'E_DEVICE', /not available/);
    using t = zeros([2], { device: 'cpu' });
    expectCode(() => t.to('cuda'), 'E_DEVICE', /not available/);
  });

  test('errors are DynasparseError instances with a stable code', () => {
    try {
      zeros([-1]);
      throw new Error('unreachable');
    } catch (e) {
      expect(e).toBeInstanceOf(DynasparseError);
      expect(e).toBeInstanceOf(Error);
      expect((e as DynasparseError).name).toBe('DynasparseError');
    }
  });
});

describe('random tensors at the edges of float32', () => {
  test.each(devices)('rand stays below high where rounding to float32 would reach it (%s)', (device) => {
    // Element 67799 of this tensor computes to 100.99999999... in double, which rounds to 101 as a float32.
    using t = rand([67800], { seed: 1, low: 100, high: 101, device });
    const v = t.toArray();
    expect(v[67799]).toBe(Math.fround(101 - 2 ** -17));
    expect(v.every((x) => x >= 100 && x < 101)).toBe(true);
  });

  test('bounds and moments beyond what float32 represents are E_ARG', () => {
    expectCode(() => rand([4], { low: 1, high: 1 + 1e-9 }), 'E_ARG', /greater than low \(1\) as float32 values, got 1.000000001/);
    expectCode(() => rand([4], { low: 0, high: 1e39 }), 'E_ARG', /high: expected a number within the float32 range, got 1e\+39/);
    expectCode(() => randn([4], { std: 1e39 }), 'E_ARG', /std: expected a number within the float32 range/);
    expectCode(() => randn([4], { mean: -1e39 }), 'E_ARG', /mean: expected a number within the float32 range/);
  });
});

describe('a tensor disposed from JavaScript that a native call runs (a getter of an argument)', () => {
  test('stays readable until the call returns, counts as disposed at once, and is freed after', () => {
    const values = Float32Array.from({ length: 16 }, (_, i) => i);
    const t = tensor(values, [4, 4], { device: 'cpu' });
    const allocations = memory('cpu').allocations;
    let disposedInside: boolean | null = null;
    const shape = [2, 8];
    // The binding has checked t when it reads the shape: the getter frees t under it.
    Object.defineProperty(shape, 1, {
      get() {
        t.dispose();
        disposedInside = t.disposed;
        return 8;
      },
    });
    const view = new Tensor(native.tensorReshape(t._native, shape), [2, 8], 'cpu', 'float32');
    expect(disposedInside).toBe(true);
    expect(t.disposed).toBe(true);
    expect(Array.from(view.toArray())).toEqual(Array.from(values));
    // t's handle let go when the call returned; the view still holds the buffer.
    expect(memory('cpu').allocations).toBe(allocations);
    view.dispose();
    expect(memory('cpu').allocations).toBe(allocations - 1);
  });
});
