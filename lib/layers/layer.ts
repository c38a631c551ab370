/**
 * The layer interface and the activation layout helpers.
 *
 * Layout: inside layers every activation is FEATURE-MAJOR, a `[features, batch]`
 * tensor with one sample per column, so `Y = W X` streams contiguous rows of X
 * (the convention of the whole library). Users usually hold BATCH-MAJOR data,
 * one sample after another (`[batch, features]`, e.g. MNIST images flattened);
 * {@link toFeatureMajor} converts such an array once, on the host, before it is
 * uploaded, and {@link toBatchMajor} converts results back.
 */
import { Device } from '../device';
import { describe, fail } from '../errors';
import { tensor, Tensor } from '../tensor';
import { checkInteger, checkOptions, isFloat32Array } from '../validate';

/** A trainable tensor of a layer, as an optimizer sees it. */
export interface Parameter {
  /** 'weight' or 'bias'. */
  readonly name: string;
  /** The values updated in place: a dense tensor, or a sparse weight's `values` (replaced on a topology change). */
  readonly value: Tensor;
  /** The gradient from the last backward pass, or null before the first one. */
  readonly grad: Tensor | null;
  /** The stable object the optimizer keys this parameter's state by (it survives topology changes). */
  readonly key: object;
}

/** A layer of a feature-major network. */
export interface Layer {
  /** `[inFeatures, batch]` -> `[outFeatures, batch]`. The layer keeps what its backward pass needs until the next forward. */
  forward(x: Tensor): Tensor;
  /**
   * Given dLoss/dOutput (`[outFeatures, batch]`, kept by the layer until the next
   * forward), stores the parameter gradients and returns dLoss/dInput, or null
   * when `needInputGrad` is false (the first layer of a model needs none).
   */
  backward(dy: Tensor, needInputGrad?: boolean): Tensor | null;
  /** The trainable parameters (empty for activations). */
  parameters(): Parameter[];
  /** Frees the layer's own tensors (weights, biases, gradients). */
  dispose(): void;
}

/**
 * Converts a batch-major array (sample after sample: element `[b, f]` at
 * `b * features + f`) to a feature-major `[features, batch]` tensor (element
 * `[f, b]` at `f * batch + b`), the layout layers take.
 */
export function toFeatureMajor(batchMajor: Float32Array | ArrayLike<number>, batch: number, features: number, options?: { device?: Device }): Tensor {
  const opts = checkOptions<{ device?: Device }>(options, ['device']);
  checkInteger(batch, 'batch');
  checkInteger(features, 'features');
  const src = isFloat32Array(batchMajor) ? batchMajor : checkArrayLike(batchMajor);
  if (src.length !== batch * features)
    fail('E_SHAPE', `batchMajor: expected batch * features = ${batch} * ${features} = ${batch * features} values, got ${src.length}`);
  const out = new Float32Array(batch * features);
  for (let b = 0; b < batch; b++) {
    const row = b * features;
    for (let f = 0; f < features; f++) out[f * batch + b] = src[row + f];
  }
  return tensor(out, [features, batch], { device: opts.device });
}

/** The inverse of {@link toFeatureMajor}: a `[features, batch]` tensor as a batch-major Float32Array (`[b, f]` at `b * features + f`). */
export function toBatchMajor(featureMajor: Tensor): Float32Array {
  if (!(featureMajor instanceof Tensor)) fail('E_ARG', `featureMajor: expected a Tensor, got ${describe(featureMajor)}`);
  if (featureMajor.disposed) fail('E_DISPOSED', 'featureMajor: the tensor has been disposed');
  if (featureMajor.shape.length !== 2)
    fail('E_SHAPE', `featureMajor: expected a 2-D [features, batch] tensor, got ${describe(featureMajor)}`);
  const [features, batch] = featureMajor.shape;
  const src = featureMajor.toArray() as Float32Array;
  const out = new Float32Array(batch * features);
  for (let f = 0; f < features; f++) {
    const row = f * batch;
    for (let b = 0; b < batch; b++) out[b * features + f] = src[row + b];
  }
  return out;
}

function checkArrayLike(value: unknown): ArrayLike<number> {
  if (value === null || typeof value !== 'object' || typeof (value as ArrayLike<number>).length !== 'number')
    fail('E_ARG', `batchMajor: expected a Float32Array or an array of numbers, got ${describe(value)}`);
  return value as ArrayLike<number>;
}

/** @internal Checks a feature-major input of a layer. */
export function checkInput(x: unknown, features: number, name: string, device: Device): Tensor {
  if (!(x instanceof Tensor)) fail('E_ARG', `${name}: expected a Tensor, got ${describe(x)}`);
  if (x.disposed) fail('E_DISPOSED', `${name}: the tensor has been disposed`);
  if (x.shape.length !== 2 || x.shape[0] !== features)
    fail('E_SHAPE', `${name}: expected a feature-major [${features}, batch] tensor, got shape [${x.shape.join(', ')}]`);
  if (x.device !== device) fail('E_DEVICE', `${name}: expected a tensor on '${device}', got one on '${x.device}'`);
  return x;
}
