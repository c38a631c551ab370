/**
 * Elementwise, bias and loss operations for a complete training step on the
 * device. Activations are feature-major: a `[features, batch]` tensor holds one
 * sample per column, as everywhere inside layers.
 *
 * Non-finite values follow IEEE arithmetic and are never silently replaced:
 * NaN propagates through {@link relu}, {@link addBias}, {@link add} and
 * {@link axpy}; see {@link reluBackward}, {@link softmaxCrossEntropy} and
 * {@link accuracy} for their rules.
 */
import { checkFloatTensor, checkMatrix, checkSameDevice, checkSameShape, int32Tensor } from './checks';
import { describe, fail } from './errors';
import { nativeFunctions, NativeTensor } from './native';
import { Tensor, wrap } from './tensor';
import { checkFinite, checkOptions } from './validate';

interface ElementwiseNative {
  relu(x: NativeTensor): NativeTensor;
  reluBackward(dy: NativeTensor, x: NativeTensor): NativeTensor;
  addBias(y: NativeTensor, bias: NativeTensor, out: NativeTensor | null): NativeTensor;
  biasGrad(dy: NativeTensor): NativeTensor;
  softmaxCrossEntropy(logits: NativeTensor, labels: NativeTensor): { loss: number; grad: NativeTensor };
  accuracyCount(logits: NativeTensor, labels: NativeTensor): number;
  add(a: NativeTensor, b: NativeTensor): NativeTensor;
  axpy(alpha: number, x: NativeTensor, y: NativeTensor): void;
}

const addon = nativeFunctions<ElementwiseNative>();

/** Class labels: one class index per sample, as an Int32Array or an int32 Tensor on the logits' device. */
export type Labels = Int32Array | Tensor<'int32'>;

/**
 * `max(x, 0)` elementwise, as a new tensor. NaN stays NaN; -0 becomes +0.
 *
 * @example relu(tensor([-1, 0, 2])) // [0, 0, 2]
 */
export function relu(x: Tensor): Tensor {
  const t = checkFloatTensor(x, 'x');
  return wrap(addon.relu(t._native), t.shape, t.device);
}

/** Options of {@link reluBackward}. */
export interface ReluBackwardOptions {
  /**
   * The derivative taken at `x == 0`: 0 (default, as PyTorch) or 1. With 1 the
   * gradient is `x >= 0 ? dy : 0`, which function-preserving growth (GradMax)
   * needs: a new unit with zero incoming weights sits exactly at 0 and must
   * still pass gradient to its incoming weights.
   */
  gradAtZero?: 0 | 1;
}

/**
 * The gradient of {@link relu}: `x > 0 ? dy : 0` elementwise, as a new tensor.
 * The derivative at `x == 0` is taken as 0 (the subgradient PyTorch also uses)
 * unless `options.gradAtZero` is 1 (then `x >= 0 ? dy : 0`; -0 counts as 0).
 * Where `x` is NaN the result is 0 (NaN is not > 0; the forward pass already
 * produced NaN there, which reaches the loss); a NaN `dy` passes through only
 * where `x > 0`.
 *
 * `gradAtZero: 1` is composed on the device from the same kernels (no host
 * copy): `dy - reluBackward(dy, -x)`, with `-x` formed exactly as `x - 2x`.
 * It costs four extra elementwise passes, and where `x < 0` an infinite `dy`
 * gives NaN (inf - inf) instead of 0; NaN `x` gives `dy` there (not 0).
 */
export function reluBackward(dy: Tensor, x: Tensor, options?: ReluBackwardOptions): Tensor {
  const opts = checkOptions<ReluBackwardOptions>(options, ['gradAtZero']);
  const g = checkFloatTensor(dy, 'dy');
  const input = checkFloatTensor(x, 'x');
  checkSameDevice(input, 'x', g, 'dy');
  checkSameShape(input, 'x', g, 'dy');
  const atZero = opts.gradAtZero ?? 0;
  if (atZero !== 0 && atZero !== 1) fail('E_ARG', `gradAtZero: expected 0 or 1, got ${describe(atZero)}`);
  if (atZero === 0) return wrap(addon.reluBackward(g._native, input._native), g.shape, g.device);
  // -x exactly: x + (-2)x rounds the exact value -x, which is representable.
  const negX = input.clone();
  let below: Tensor | null = null;
  try {
    axpy(-2, input, negX);
    below = wrap(addon.reluBackward(g._native, negX._native), g.shape, g.device); // dy where x < 0
    const out = g.clone();
    try {
      return axpy(-1, below, out); // dy - (dy where x < 0) = dy where x >= 0
    } catch (error) {
      out.dispose();
      throw error;
    }
  } finally {
    negX.dispose();
    below?.dispose();
  }
}

/** Options of {@link addBias}. */
export interface AddBiasOptions {
  /** Where to write the result (same shape as `y`; may be `y` itself for an in-place update). Default: a new tensor. */
  out?: Tensor;
}

/**
 * `y[f, b] + bias[f]` for a feature-major `y` of `[features, batch]` and a
 * `bias` of `[features]`. Returns a new tensor, or `options.out` after writing
 * into it (`{ out: y }` adds the bias in place).
 */
export function addBias(y: Tensor, bias: Tensor, options?: AddBiasOptions): Tensor {
  const opts = checkOptions<AddBiasOptions>(options, ['out']);
  const input = checkFloatTensor(y, 'y');
  const b = checkFloatTensor(bias, 'bias');
  checkMatrix(input, 'y', '[features, batch]');
  checkSameDevice(b, 'bias', input, 'y');
  if (b.shape.length !== 1 || b.shape[0] !== input.shape[0])
    fail('E_SHAPE', `bias: expected shape [${input.shape[0]}] (one per feature of y [${input.shape.join(', ')}]), got [${b.shape.join(', ')}]`);
  if (opts.out === undefined) return wrap(addon.addBias(input._native, b._native, null), input.shape, input.device);
  const out = checkFloatTensor(opts.out, 'out');
  checkSameDevice(out, 'out', input, 'y');
  checkSameShape(out, 'out', input, 'y');
  addon.addBias(input._native, b._native, out._native);
  return out;
}

/**
 * The gradient of a bias added by {@link addBias}: the row sums of a
 * feature-major `dy` of `[features, batch]`, as a new tensor of `[features]`
 * (summed in double precision, in column order). A batch of 0 gives zeros.
 */
export function biasGrad(dy: Tensor): Tensor {
  const g = checkFloatTensor(dy, 'dy');
  checkMatrix(g, 'dy', '[features, batch]');
  return wrap(addon.biasGrad(g._native), [g.shape[0]], g.device);
}

/** What {@link softmaxCrossEntropy} returns. */
export interface SoftmaxCrossEntropyResult {
  /** The mean over the batch of `-log softmax(logits[:, b])[labels[b]]`. */
  loss: number;
  /** `d loss / d logits`, `[classes, batch]`: `(softmax(logits[:, b]) - onehot(labels[b])) / batch`. */
  grad: Tensor;
}

function checkClassification(logits: unknown, labels: unknown): { x: Tensor; y: Tensor<'int32'>; temporary: boolean } {
  const x = checkFloatTensor(logits, 'logits');
  checkMatrix(x, 'logits', '[classes, batch]');
  const [classes, batch] = x.shape;
  if (classes < 1 || batch < 1)
    fail('E_SHAPE', `logits: expected at least one class and one sample, got shape [${x.shape.join(', ')}]`);
  const { tensor: y, temporary } = int32Tensor(labels, 'labels', x.device, batch);
  return { x, y, temporary };
}

/**
 * Softmax cross-entropy of feature-major `logits` (`[classes, batch]`, one
 * sample per column) against one class index per sample. Returns the mean loss
 * and its gradient with respect to the logits, computed stably (the column
 * maximum is subtracted before `exp`; the loss is `log-sum-exp - logit`).
 * Labels outside `[0, classes)` throw E_ARG naming the first bad index; an
 * empty batch or zero classes is E_SHAPE.
 *
 * Non-finite logits: a column holding NaN or `+Infinity` (or only `-Infinity`)
 * has a NaN loss and NaN gradient, so the mean loss is NaN; other columns are
 * unaffected. A `-Infinity` logit elsewhere has probability 0, and if it is the
 * label's logit the loss is `+Infinity` while the gradient stays finite.
 *
 * @example const { loss, grad } = softmaxCrossEntropy(logits, new Int32Array([3, 1, 0]))
 */
export function softmaxCrossEntropy(logits: Tensor, labels: Labels): SoftmaxCrossEntropyResult {
  const { x, y, temporary } = checkClassification(logits, labels);
  try {
    const result = addon.softmaxCrossEntropy(x._native, y._native);
    return { loss: result.loss, grad: wrap(result.grad, x.shape, x.device) };
  } finally {
    if (temporary) y.dispose();
  }
}

/**
 * The fraction of samples (columns of `[classes, batch]` logits) whose argmax
 * equals the label. Ties go to the lowest class index; NaN is never the argmax
 * (a column of only NaN counts as wrong). Labels are checked as in
 * {@link softmaxCrossEntropy}.
 */
export function accuracy(logits: Tensor, labels: Labels): number {
  const { x, y, temporary } = checkClassification(logits, labels);
  try {
    return addon.accuracyCount(x._native, y._native) / x.shape[1];
  } finally {
    if (temporary) y.dispose();
  }
}

/** `a + b` elementwise (same shape and device), as a new tensor. */
export function add(a: Tensor, b: Tensor): Tensor {
  const x = checkFloatTensor(a, 'a');
  const y = checkFloatTensor(b, 'b');
  checkSameDevice(y, 'b', x, 'a');
  checkSameShape(y, 'b', x, 'a');
  return wrap(addon.add(x._native, y._native), x.shape, x.device);
}

/**
 * `y += alpha * x` in place (same shape and device); returns `y`. Accumulates
 * gradients over micro-batches without allocating. `x` and `y` must not share
 * a buffer (a `reshape()` view of each other), else E_ARG.
 */
export function axpy(alpha: number, x: Tensor, y: Tensor): Tensor {
  checkFinite(alpha, 'alpha');
  const src = checkFloatTensor(x, 'x');
  const dst = checkFloatTensor(y, 'y');
  checkSameDevice(dst, 'y', src, 'x');
  checkSameShape(dst, 'y', src, 'x');
  addon.axpy(alpha, src._native, dst._native);
  return dst;
}
