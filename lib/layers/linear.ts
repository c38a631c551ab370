/** A dense linear layer. */
import { Device, resolveDevice } from '../device';
import { addBias, biasGrad } from '../elementwise';
import { describe, fail } from '../errors';
import { matmul } from '../matmul';
import { checkTensor, randn, tensor, Tensor, zeros } from '../tensor';
import { checkInteger, checkOptions, checkSeed } from '../validate';
import { appendMap, checkGrowCount, checkGrownEntries, checkGrowValues, GrowthMaps } from './growth';
import { AffineLayer, PreparedGrowth } from './affine';
import { checkInput, Parameter } from './layer';

/** Options of {@link Linear}. */
export interface LinearOptions {
  /** 'dense-kaiming' (default): normal with variance 2 / inFeatures; 'zeros'. */
  init?: 'dense-kaiming' | 'zeros';
  /** Whether the layer adds a bias (default true; initialized to zeros). */
  bias?: boolean;
  device?: Device;
  /** Seed of the initial weights (default 0). */
  seed?: number | bigint;
}

/** `y = W x + b` with a dense W `[out, in]` and feature-major activations (dense GEMMs). */
export class Linear extends AffineLayer<Tensor> {
  /** The optimizer key of the weight (stable when the tensor is replaced). */
  readonly weightKey: object = {};

  constructor(inFeatures: number, outFeatures: number, options?: LinearOptions) {
    const opts = checkOptions<LinearOptions>(options, ['init', 'bias', 'device', 'seed']);
    checkInteger(inFeatures, 'inFeatures', 1, 2 ** 31 - 1);
    checkInteger(outFeatures, 'outFeatures', 1, 2 ** 31 - 1);
    const device = resolveDevice(opts.device);
    const init = opts.init ?? 'dense-kaiming';
    if (init !== 'dense-kaiming' && init !== 'zeros') fail('E_ARG', `init: expected 'dense-kaiming' or 'zeros', got ${describe(init)}`);
    const bias = opts.bias ?? true;
    if (typeof bias !== 'boolean') fail('E_ARG', `bias: expected a boolean, got ${describe(bias)}`);
    const seed = checkSeed(opts.seed ?? 0);
    const shape = [outFeatures, inFeatures];
    const w = init === 'zeros' ? zeros(shape, { device }) : randn(shape, { seed, std: Math.sqrt(2 / inFeatures), device });
    super(inFeatures, outFeatures, device, w, bias);
  }

  /** Computes `W x + b`; keeps x for the backward pass. */
  override forward(x: Tensor): Tensor {
    this.checkAlive();
    this.x = checkInput(x, this.inFeatures, 'x', this.device);
    const y = matmul(this.w, this.x);
    if (this.b) addBias(y, this.b, { out: y });
    return y;
  }

  /** Stores dW = dy xᵀ and db; returns dx = Wᵀ dy unless `needInputGrad` is false. */
  override backward(dy: Tensor, needInputGrad = true): Tensor | null {
    this.checkAlive();
    if (this.x === null || this.x.disposed) fail('E_ARG', 'Linear.backward: call forward first (its input is gone)');
    const grad = checkInput(dy, this.outFeatures, 'dy', this.device);
    if (grad.shape[1] !== this.x.shape[1]) fail('E_SHAPE', `dy: expected batch ${this.x.shape[1]}, got shape [${grad.shape.join(', ')}]`);
    this.disposeGrads();
    this.dW = matmul(grad, this.x, { transB: true });
    if (this.b) this.dB = biasGrad(grad);
    return needInputGrad ? matmul(this.w, grad, { transA: true }) : null;
  }

  /** The weight and the bias. */
  override parameters(): Parameter[] {
    this.checkAlive();
    const params: Parameter[] = [{ name: 'weight', value: this.w, grad: this.dW, key: this.weightKey }];
    if (this.b) params.push({ name: 'bias', value: this.b, grad: this.dB, key: this.biasKey });
    return params;
  }

  /** Replaces the weight (an `[out, in]` tensor the layer adopts); checkpoints use it. */
  setWeight(weight: Tensor): void {
    this.checkAlive();
    checkTensor(weight, 'weight');
    if (weight.shape.length !== 2 || weight.shape[0] !== this.outFeatures || weight.shape[1] !== this.inFeatures)
      fail('E_SHAPE', `weight: expected an [${this.outFeatures}, ${this.inFeatures}] tensor, got shape [${weight.shape.join(', ')}]`);
    if (weight.device !== this.device) fail('E_DEVICE', `weight: expected a tensor on '${this.device}', got one on '${weight.device}'`);
    if (weight === this.w) return;
    this.w.dispose();
    this.w = weight;
  }

  /**
   * Adds k output units (rows of W) after the existing ones: their incoming
   * weights are `weights` (`[k, in]` row-major; default zeros), their biases
   * zero. The old weights and biases keep their values bit for bit. The weight
   * travels through the host once (growth is rare; no concatenation kernel).
   * Drops the stored gradients and the kept input (they have the old shape).
   * Returns the maps for `optimizer.remapState(layer.weightKey, maps.weight)`
   * and `(layer.biasKey, maps.bias)`; {@link growNeurons} does this for you.
   */
  growOutputs(k: number, weights?: Float32Array): GrowthMaps {
    const growth = this._prepareGrowOutputs(k, weights);
    growth.commit();
    return growth.maps;
  }

  /** @internal {@link growOutputs}, built but not adopted (see PreparedGrowth). */
  _prepareGrowOutputs(k: number, weights?: Float32Array): PreparedGrowth {
    this.checkAlive();
    const kk = checkGrowCount(k, this.outFeatures, 2 ** 31 - 1);
    checkGrownEntries((this.outFeatures + kk) * this.inFeatures, 'k');
    const rows = checkGrowValues(weights, kk * this.inFeatures, 'weights', `[${kk}, ${this.inFeatures}] row-major`);
    const old = this.w.toArray() as Float32Array;
    const data = new Float32Array(old.length + kk * this.inFeatures);
    data.set(old);
    if (rows) data.set(rows, old.length);
    const w = tensor(data, [this.outFeatures + kk, this.inFeatures], { device: this.device });
    return this.preparedOutputs(w, kk, appendMap(old.length, kk * this.inFeatures));
  }

  /**
   * Adds k input features (columns of W) after the existing ones, with the
   * weights `columns` (`[out, k]` row-major; default zeros). Old weights and
   * the bias keep their values. Returns the maps for the optimizer (see
   * {@link growOutputs}; the bias map is the identity, since the bias does not grow).
   */
  growInputs(k: number, columns?: Float32Array): GrowthMaps {
    const growth = this._prepareGrowInputs(k, columns);
    growth.commit();
    return growth.maps;
  }

  /** @internal {@link growInputs}, built but not adopted (see PreparedGrowth). */
  _prepareGrowInputs(k: number, columns?: Float32Array): PreparedGrowth {
    this.checkAlive();
    const kk = checkGrowCount(k, this.inFeatures, 2 ** 31 - 1);
    checkGrownEntries(this.outFeatures * (this.inFeatures + kk), 'k');
    const cols = checkGrowValues(columns, this.outFeatures * kk, 'columns', `[${this.outFeatures}, ${kk}] row-major`);
    const [out, inp] = [this.outFeatures, this.inFeatures];
    const old = this.w.toArray() as Float32Array;
    const data = new Float32Array(out * (inp + kk));
    const map = new Int32Array(out * (inp + kk)).fill(-1);
    for (let r = 0; r < out; r++) {
      const dst = r * (inp + kk);
      data.set(old.subarray(r * inp, (r + 1) * inp), dst);
      if (cols) data.set(cols.subarray(r * kk, (r + 1) * kk), dst + inp);
      for (let c = 0; c < inp; c++) map[dst + c] = r * inp + c;
    }
    return this.preparedInputs(tensor(data, [out, inp + kk], { device: this.device }), kk, map);
  }

  /** A short description. */
  override toString(): string {
    return `Linear(${this.inFeatures} -> ${this.outFeatures}, ${this.device})`;
  }
}
