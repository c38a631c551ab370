/**
 * What the dense and the sparse linear layer share: their sizes and device,
 * the bias, the gradients of the last backward pass, and the lifecycle of all
 * of these (replacing the bias, adopting grown tensors, disposing).
 */
import { Device } from '../device';
import { fail } from '../errors';
import { checkTensor, tensor, Tensor, zeros } from '../tensor';
import { appendMap, GrowthMaps } from './growth';
import { Layer, Parameter } from './layer';

/**
 * @internal A layer's growth, built but not adopted: {@link growNeurons} grows
 * two layers and the optimizer's state all or none, so it builds everything
 * first (what can fail) and then commits (which cannot). Exactly one of
 * `commit` and `abort` is called.
 */
export interface PreparedGrowth {
  /** The maps for the optimizer, as the layer's growOutputs / growInputs return them. */
  readonly maps: GrowthMaps;
  /** Installs the grown tensors and sizes (frees the old ones). */
  commit(): void;
  /** Frees the grown tensors; the layer stays as it is. */
  abort(): void;
}

/** A weight of some kind that the layer owns and frees. */
interface OwnedWeight {
  dispose(): void;
}

/** `y = W x + b` with W of type `Weight`: the base of `Linear` and `SparseLinear` (not exported from the package root). */
export abstract class AffineLayer<Weight extends OwnedWeight> implements Layer {
  readonly inFeatures: number;
  readonly outFeatures: number;
  readonly device: Device;
  /** The optimizer key of the bias (stable when the bias tensor is replaced). */
  readonly biasKey: object = {};
  protected w: Weight;
  protected b: Tensor | null;
  protected dW: Tensor | null = null;
  protected dB: Tensor | null = null;
  /** The input of the last forward pass (kept for the backward pass). */
  protected x: Tensor | null = null;

  /**
   * Takes ownership of `weight` (the arguments are checked by the subclass)
   * and, when `withBias`, makes a zero bias; if that fails, frees `weight`.
   */
  protected constructor(inFeatures: number, outFeatures: number, device: Device, weight: Weight, withBias: boolean) {
    this.inFeatures = inFeatures;
    this.outFeatures = outFeatures;
    this.device = device;
    this.w = weight;
    try {
      this.b = withBias ? zeros([outFeatures], { device }) : null;
    } catch (error) {
      weight.dispose();
      throw error;
    }
  }

  abstract forward(x: Tensor): Tensor;
  abstract backward(dy: Tensor, needInputGrad?: boolean): Tensor | null;
  abstract parameters(): Parameter[];

  /** The weight `[out, in]` (owned by the layer). */
  get weight(): Weight {
    return this.w;
  }

  /** The bias `[out]`, or null. */
  get bias(): Tensor | null {
    return this.b;
  }

  /** Replaces the bias (a `[out]` tensor on the layer's device, which the layer adopts); checkpoints use it. */
  setBias(bias: Tensor): void {
    this.checkAlive();
    if (this.b === null) fail('E_ARG', 'setBias: the layer has no bias');
    checkTensor(bias, 'bias');
    if (bias.shape.length !== 1 || bias.shape[0] !== this.outFeatures)
      fail('E_SHAPE', `bias: expected a [${this.outFeatures}] tensor, got shape [${bias.shape.join(', ')}]`);
    if (bias.device !== this.device) fail('E_DEVICE', `bias: expected a tensor on '${this.device}', got one on '${bias.device}'`);
    if (bias === this.b) return;
    this.b.dispose();
    this.b = bias;
  }

  /** Lets `using` dispose it at the end of the scope. */
  [Symbol.dispose](): void {
    this.dispose();
  }

  /** Frees the weight, the bias and the gradients; the layer cannot be used afterwards (E_DISPOSED). Calling it again does nothing. */
  dispose(): void {
    this.disposeGrads();
    this.w.dispose();
    this.b?.dispose();
    this.forgetCaptured();
    this.isDisposed = true;
  }

  /** Whether {@link dispose} has been called. */
  get disposed(): boolean {
    return this.isDisposed;
  }

  /** E_DISPOSED after dispose (a disposed layer given new tensors, by a checkpoint say, would come back to life). */
  protected checkAlive(): void {
    if (this.isDisposed) fail('E_DISPOSED', `${this.constructor.name}: the layer has been disposed`);
  }

  private isDisposed = false;

  /** Drops what the layer kept from the last passes for the next backward pass or an updater. */
  protected forgetCaptured(): void {
    this.x = null;
  }

  protected disposeGrads(): void {
    this.dW?.dispose();
    this.dB?.dispose();
    this.dW = null;
    this.dB = null;
  }

  /**
   * The growth to `w`, a weight with k more output rows than the current one,
   * with the bias grown by k zeros (old biases bit for bit); `weightMap` is the
   * weight's growth map. If the bias cannot be made, `w` is freed.
   */
  protected preparedOutputs(w: Weight, k: number, weightMap: Int32Array): PreparedGrowth {
    const out = this.outFeatures;
    let b: Tensor | null = null;
    try {
      if (this.b) {
        const bias = new Float32Array(out + k);
        bias.set(this.b.toArray() as Float32Array);
        b = tensor(bias, [out + k], { device: this.device });
      }
    } catch (error) {
      w.dispose();
      throw error;
    }
    return this.prepared(w, b, this.inFeatures, out + k, { weight: weightMap, bias: b ? appendMap(out, k) : null });
  }

  /** The growth to `w` with k more input columns (the bias does not grow: its map is the identity). */
  protected preparedInputs(w: Weight, k: number, weightMap: Int32Array): PreparedGrowth {
    return this.prepared(w, this.b, this.inFeatures + k, this.outFeatures, { weight: weightMap, bias: this.b ? appendMap(this.outFeatures, 0) : null });
  }

  private prepared(w: Weight, b: Tensor | null, inFeatures: number, outFeatures: number, maps: GrowthMaps): PreparedGrowth {
    let settled = false;
    const settle = () => {
      if (settled) fail('E_ARG', 'a prepared growth is committed or aborted once');
      settled = true;
    };
    return {
      maps,
      commit: () => {
        settle();
        this.adopt(w, b, inFeatures, outFeatures);
      },
      abort: () => {
        settle();
        w.dispose();
        if (b !== this.b) b?.dispose();
      },
    };
  }

  /**
   * Installs grown tensors and sizes (the sizes are readonly to users, not to
   * the layer itself); the gradients and the captured tensors had the old shape.
   */
  protected adopt(w: Weight, b: Tensor | null, inFeatures: number, outFeatures: number): void {
    this.disposeGrads();
    this.forgetCaptured();
    this.w.dispose();
    this.w = w;
    if (b !== this.b) this.b?.dispose();
    this.b = b;
    const sizes = this as { inFeatures: number; outFeatures: number };
    sizes.inFeatures = inFeatures;
    sizes.outFeatures = outFeatures;
  }
}
