import { apportion, epochBatches, gather, inOrder, loadMnist, PIXELS, randomShift, take, toFeatureMajor } from '../../examples/mnist-rigl/data';
import { createRng, permutation } from '../../examples/common/random';

describe('examples: MNIST data from the mnist package', () => {
  const split = loadMnist();

  it('holds 10,000 digits split 8,000 / 2,000 with every class in both parts', () => {
    expect(split.perClass.reduce((a, b) => a + b, 0)).toBe(10000);
    expect(split.train.count).toBe(8000);
    expect(split.test.count).toBe(2000);
    expect(split.train.images.length).toBe(8000 * PIXELS);
    expect(split.test.labels.length).toBe(2000);
    for (const set of [split.train, split.test]) {
      const counts = new Array(10).fill(0);
      for (const l of set.labels) counts[l]++;
      // Stratified: each class's share of a part is its share of the package, within one digit.
      counts.forEach((n, c) => expect(Math.abs(n - (split.perClass[c] * set.count) / 10000)).toBeLessThan(1));
    }
  });

  it('has grey levels in [0, 1] that look like digits (dark border, ink in the middle)', () => {
    const images = split.train.images;
    let min = Infinity, max = -Infinity, border = 0, centre = 0;
    for (let p = 0; p < images.length; p++) {
      const v = images[p];
      if (v < min) min = v;
      if (v > max) max = v;
    }
    for (let i = 0; i < split.train.count; i++) {
      const o = i * PIXELS;
      border += images[o] + images[o + 27] + images[o + 27 * 28] + images[o + 783];
      centre += images[o + 14 * 28 + 14];
    }
    expect(min).toBe(0);
    expect(max).toBe(1);
    expect(border).toBe(0);
    expect(centre / split.train.count).toBeGreaterThan(0.2);
  });

  it('keeps train and test disjoint (no image appears in both)', () => {
    const key = (set: typeof split.train, i: number) => Buffer.from(set.images.buffer, set.images.byteOffset + i * PIXELS * 4, PIXELS * 4).toString('base64');
    const trainKeys = new Set<string>();
    for (let i = 0; i < split.train.count; i++) trainKeys.add(key(split.train, i));
    let shared = 0;
    for (let i = 0; i < split.test.count; i++) if (trainKeys.has(key(split.test, i))) shared++;
    // The package itself may hold exact duplicates; they must not be a real overlap.
    expect(shared).toBeLessThan(5);
  });

  it('is deterministic under the split seed and changes with it', () => {
    const again = loadMnist();
    const same = (a: Float32Array | Int32Array, b: Float32Array | Int32Array) =>
      Buffer.compare(Buffer.from(a.buffer, a.byteOffset, a.byteLength), Buffer.from(b.buffer, b.byteOffset, b.byteLength)) === 0;
    expect(same(again.test.labels, split.test.labels)).toBe(true);
    expect(same(again.test.images, split.test.images)).toBe(true);
    expect(same(again.train.images, split.train.images)).toBe(true);
    const other = loadMnist({ splitSeed: 7 });
    expect(same(other.test.labels, split.test.labels)).toBe(false);
    expect(() => loadMnist({ trainFraction: 1 })).toThrow(/trainFraction/);
  });

  it('apportions per-class counts to an exact total', () => {
    expect(apportion([1001, 1127, 991], 0.8).reduce((a, b) => a + b, 0)).toBe(Math.round(3119 * 0.8));
    expect(apportion([5, 5], 0.5)).toEqual([3, 2]); // 2.5 + 2.5 = 5: the tie goes to the lower class
    expect(apportion([10, 0, 10], 0.25)).toEqual([3, 0, 2]);
  });

  it('yields shuffled full minibatches that cover an epoch once, reproducibly', () => {
    const small = take(split.train, 250);
    const seen = new Map<number, number>();
    const batches = [...epochBatches(small, 64, createRng(1))];
    expect(batches.length).toBe(3); // 250 / 64, the partial batch is dropped
    for (const b of batches) {
      expect(b.size).toBe(64);
      expect(b.images.length).toBe(64 * PIXELS);
      for (let k = 0; k < b.size; k++) {
        // find which digit it is by its first non-zero pixels sum (unique enough for 250 digits)
        const img = b.images.subarray(k * PIXELS, (k + 1) * PIXELS);
        let sum = 0;
        for (let p = 0; p < PIXELS; p++) sum += img[p] * (p + 1);
        seen.set(sum, (seen.get(sum) ?? 0) + 1);
      }
    }
    expect([...seen.values()].every((n) => n === 1)).toBe(true);
    const again = [...epochBatches(small, 64, createRng(1))];
    expect(again[0].labels).toEqual(batches[0].labels);
    const other = [...epochBatches(small, 64, createRng(2))];
    expect(other[0].labels).not.toEqual(batches[0].labels);
    expect(() => epochBatches(small, 0, createRng(1)).next()).toThrow(/batchSize/);
  });

  it('gathers, iterates in order and transposes to feature-major', () => {
    const b = gather(split.test, [5, 2]);
    expect(b.labels).toEqual(Int32Array.from([split.test.labels[5], split.test.labels[2]]));
    expect(b.images.subarray(PIXELS)).toEqual(split.test.images.subarray(2 * PIXELS, 3 * PIXELS));
    const sizes = [...inOrder(take(split.test, 130), 50)].map((x) => x.size);
    expect(sizes).toEqual([50, 50, 30]);
    const fm = toFeatureMajor(Float32Array.from([1, 2, 3, 4, 5, 6]), 2, 3);
    expect(Array.from(fm)).toEqual([1, 4, 2, 5, 3, 6]);
  });
});

describe('examples: seeded random numbers', () => {
  it('gives the same permutation for the same seed and a different one otherwise', () => {
    const p = permutation(100, createRng(42));
    expect(Array.from(p).sort((a, b) => a - b)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(permutation(100, createRng(42))).toEqual(p);
    expect(permutation(100, createRng(43))).not.toEqual(p);
  });

  it('draws floats in [0, 1) and integers in range, roughly uniformly', () => {
    const rng = createRng(3);
    const counts = new Array(10).fill(0);
    let lo = Infinity, hi = -Infinity;
    for (let i = 0; i < 10000; i++) {
      const x = rng.next();
      lo = Math.min(lo, x);
      hi = Math.max(hi, x);
      counts[rng.int(10)]++;
    }
    expect(lo).toBeGreaterThanOrEqual(0);
    expect(hi).toBeLessThan(1);
    for (const c of counts) expect(Math.abs(c - 1000)).toBeLessThan(150);
    expect(() => rng.int(0)).toThrow(RangeError);
    expect(() => createRng(1.5)).toThrow(TypeError);
  });
});

describe('examples: random shifts of training digits', () => {
  it('moves each image by whole pixels within the limit, filling with background', () => {
    const img = new Float32Array(PIXELS);
    img[10 * 28 + 10] = 1; // one lit pixel at (row 10, col 10)
    const images = new Float32Array(PIXELS * 50);
    for (let k = 0; k < 50; k++) images.set(img, k * PIXELS);
    randomShift({ images, labels: new Int32Array(50), size: 50 }, 2, createRng(5));
    const moves = new Set<string>();
    for (let k = 0; k < 50; k++) {
      const lit: number[] = [];
      for (let p = 0; p < PIXELS; p++) if (images[k * PIXELS + p] !== 0) lit.push(p);
      expect(lit.length).toBe(1);
      const dr = Math.floor(lit[0] / 28) - 10;
      const dc = (lit[0] % 28) - 10;
      expect(Math.abs(dr)).toBeLessThanOrEqual(2);
      expect(Math.abs(dc)).toBeLessThanOrEqual(2);
      moves.add(`${dr},${dc}`);
    }
    expect(moves.size).toBeGreaterThan(10); // 25 possible moves, 50 draws
  });

  it('drops what moves out of the frame and leaves batches alone at shift 0', () => {
    const images = new Float32Array(PIXELS).fill(1);
    const batch = { images, labels: new Int32Array(1), size: 1 };
    // Draw until a nonzero shift happens: the frame then has a zero row or column.
    const rng = createRng(9);
    randomShift(batch, 1, rng);
    let zeros = 0;
    for (const v of images) if (v === 0) zeros++;
    expect([0, 28, 55]).toContain(zeros);
    const before = images.slice();
    randomShift(batch, 0, rng);
    expect(images).toEqual(before);
  });
});

describe('examples: random shift arguments', () => {
  it('rejects a negative or fractional shift', () => {
    const batch = { images: new Float32Array(PIXELS), labels: new Int32Array(1), size: 1 };
    expect(() => randomShift(batch, -1, createRng(1))).toThrow(/maxShift must be an integer >= 0, got -1/);
    expect(() => randomShift(batch, 0.5, createRng(1))).toThrow(RangeError);
  });
});
