/** Sequential models and the MLP builder. */
import { Device, resolveDevice } from '../device';
import { sparsityDistribution, DistributionName } from '../distributions';
import { describe, fail } from '../errors';
import { Tensor } from '../tensor';
import { checkFinite, checkOptions, checkSeed } from '../validate';
import { CsrInit } from '../csr';
import { Layer, Parameter } from './layer';
import { Linear } from './linear';
import { ReLU } from './relu';
import { SparseLinear } from './sparse-linear';

/**
 * Layers applied one after another. The model owns the intermediate
 * activations and gradients: the tensor {@link forward} returns (and every
 * intermediate one) stays valid until the next forward or {@link dispose};
 * clone it to keep it longer.
 */
export class Sequential implements Layer {
  readonly layers: readonly Layer[];
  private outputs: Tensor[] = [];
  private grads: Tensor[] = [];

  constructor(layers: readonly Layer[]) {
    if (!Array.isArray(layers) || layers.length === 0) fail('E_ARG', `layers: expected a non-empty array of layers, got ${describe(layers)}`);
    layers.forEach((l, i) => {
      if (l === null || typeof l !== 'object' || typeof (l as Layer).forward !== 'function' || typeof (l as Layer).backward !== 'function')
        fail('E_ARG', `layers[${i}]: expected a layer, got ${describe(l)}`);
    });
    this.layers = [...layers];
  }

  /** Runs every layer; returns the last output (owned by the model, valid until the next forward). */
  forward(x: Tensor): Tensor {
    this.release();
    let h = x;
    for (const layer of this.layers) {
      h = layer.forward(h);
      this.outputs.push(h);
    }
    return h;
  }

  /**
   * Back-propagates dLoss/dOutput (kept by the model's last layer until the next
   * forward: do not dispose it before then). Returns dLoss/dInput when
   * `needInputGrad` is true (default false: a model's input needs no gradient,
   * which saves the first layer's transposed product); it then belongs to the model.
   */
  backward(dy: Tensor, needInputGrad = false): Tensor | null {
    if (this.outputs.length !== this.layers.length) fail('E_ARG', 'Sequential.backward: call forward first');
    this.grads.forEach((g) => g.dispose());
    this.grads = [];
    let g: Tensor | null = dy;
    for (let i = this.layers.length - 1; i >= 0; i--) {
      g = this.layers[i].backward(g as Tensor, i > 0 || needInputGrad);
      if (g) this.grads.push(g);
    }
    return g;
  }

  /** The parameters of every layer, in layer order. */
  parameters(): Parameter[] {
    return this.layers.flatMap((l) => l.parameters());
  }

  /** The sparse layers, in order (what updaters act on). */
  sparseLayers(): SparseLinear[] {
    return this.layers.filter((l): l is SparseLinear => l instanceof SparseLinear);
  }

  /** The layers with weights (SparseLinear and Linear), in order. */
  weightLayers(): (SparseLinear | Linear)[] {
    return this.layers.filter((l): l is SparseLinear | Linear => l instanceof SparseLinear || l instanceof Linear);
  }

  private release(): void {
    this.outputs.forEach((t) => t.dispose());
    this.grads.forEach((t) => t.dispose());
    this.outputs = [];
    this.grads = [];
  }

  /** Lets `using` dispose it at the end of the scope. */
  [Symbol.dispose](): void {
    this.dispose();
  }

  /** Frees the activations, gradients and every layer. */
  dispose(): void {
    this.release();
    this.layers.forEach((l) => l.dispose());
  }

  /** A short description. */
  toString(): string {
    return `Sequential(${this.layers.map(String).join(', ')})`;
  }
}

/** Options of {@link mlp}. */
export interface MlpOptions {
  /** Overall sparsity of the weight layers in [0, 1) (default 0: every layer dense {@link Linear}). */
  sparsity?: number;
  /** How the sparsity is spread over layers (default 'erk'). Layers that come out dense become {@link Linear}. */
  distribution?: DistributionName;
  /** Names of layers kept dense and out of the budget: the weight layers are named 'fc1', 'fc2', ... */
  dense?: readonly string[];
  /** ERK's power scale (default 1). */
  powerScale?: number;
  /** Init of sparse layers (default 'sparse-kaiming'); dense layers use dense Kaiming. */
  init?: CsrInit;
  /** Whether layers have biases (default true). */
  bias?: boolean;
  device?: Device;
  /** Base seed; layer i uses seed + i (default 0). */
  seed?: number | bigint;
  /**
   * Make every weight layer a {@link SparseLinear}, dense ones at density 1
   * (default false). For gradual magnitude pruning from dense.
   */
  sparseLayers?: boolean;
}

/**
 * A multilayer perceptron `sizes[0] -> sizes[1] -> ... -> sizes[n]` with ReLU
 * between the weight layers (none after the last). With `sparsity > 0`, each
 * weight layer `[sizes[i + 1], sizes[i]]` (named `fc{i + 1}`) gets the exact nnz
 * of the chosen distribution and becomes a {@link SparseLinear}; layers the
 * distribution leaves dense become {@link Linear}.
 *
 * @example const model = mlp([784, 300, 100, 10], { sparsity: 0.9, distribution: 'erk', seed: 1 });
 */
export function mlp(sizes: readonly number[], options?: MlpOptions): Sequential {
  const opts = checkOptions<MlpOptions>(options, ['sparsity', 'distribution', 'dense', 'powerScale', 'init', 'bias', 'device', 'seed', 'sparseLayers']);
  if (!Array.isArray(sizes) || sizes.length < 2) fail('E_ARG', `sizes: expected at least two layer sizes, got ${describe(sizes)}`);
  sizes.forEach((s, i) => {
    if (!Number.isInteger(s) || s < 1) fail('E_ARG', `sizes[${i}]: expected a positive integer, got ${describe(s)}`);
  });
  const sparsity = checkFinite(opts.sparsity ?? 0, 'sparsity');
  if (sparsity < 0 || sparsity >= 1) fail('E_ARG', `sparsity: expected a number in [0, 1), got ${sparsity}`);
  const seed = checkSeed(opts.seed ?? 0);
  const device = resolveDevice(opts.device);
  const specs = sizes.slice(1).map((out, i) => ({ name: `fc${i + 1}`, shape: [out, sizes[i]] }));
  // Checked whatever the sparsity, so that an option that would be ignored is an error, not a surprise.
  if (opts.powerScale !== undefined && (opts.distribution ?? 'erk') !== 'erk')
    fail('E_ARG', `powerScale: only the 'erk' distribution takes it, got distribution '${opts.distribution}'`);
  if (opts.dense !== undefined) {
    if (!Array.isArray(opts.dense)) fail('E_ARG', `dense: expected an array of layer names, got ${describe(opts.dense)}`);
    opts.dense.forEach((name, i) => {
      if (!specs.some((s) => s.name === name)) fail('E_ARG', `dense[${i}]: expected a layer name (${specs.map((s) => s.name).join(', ')}), got ${describe(name)}`);
    });
  }
  const shares =
    sparsity > 0
      ? sparsityDistribution(opts.distribution ?? 'erk', specs, sparsity, {
          ...(opts.dense ? { dense: opts.dense } : {}),
          ...(opts.powerScale !== undefined && (opts.distribution ?? 'erk') === 'erk' ? { powerScale: opts.powerScale } : {}),
        })
      : null;
  const layers: Layer[] = [];
  try {
    specs.forEach((spec, i) => {
      const layerSeed = typeof seed === 'bigint' ? seed + BigInt(i) : seed + i;
      const [out, inp] = spec.shape;
      const share = shares ? shares[i] : null;
      if (opts.sparseLayers === true || (share && !share.dense))
        layers.push(new SparseLinear(inp, out, { nnz: share ? share.nnz : out * inp, init: opts.init ?? 'sparse-kaiming', bias: opts.bias ?? true, device, seed: layerSeed }));
      else layers.push(new Linear(inp, out, { bias: opts.bias ?? true, device, seed: layerSeed }));
      if (i < specs.length - 1) layers.push(new ReLU());
    });
    return new Sequential(layers);
  } catch (error) {
    // A later layer that cannot be made (out of memory, say) frees the ones made before it at once, not at the next GC.
    layers.forEach((l) => l.dispose());
    throw error;
  }
}
