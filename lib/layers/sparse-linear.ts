/** A linear layer with CSR-sparse weights. */
import { CsrMatrix, CsrInit } from '../csr';
import { Device, resolveDevice } from '../device';
import { addBias, biasGrad } from '../elementwise';
import { describe, fail } from '../errors';
import { sddmm } from '../sddmm';
import { spmm } from '../spmm';
import { Tensor } from '../tensor';
import { checkFinite, checkInteger, checkOptions, checkSeed } from '../validate';
import { appendMap, checkGrowCount, checkGrowValues, GrowthMaps } from './growth';
import { AffineLayer, PreparedGrowth } from './affine';
import { checkInput, Parameter } from './layer';

/** Options of {@link SparseLinear}. */
export interface SparseLinearOptions {
  /** Fraction of the out x in weights stored (default 0.1); exactly round(density * out * in) entries, placed uniformly at random. */
  density?: number;
  /** The exact number of stored weights (instead of `density`). */
  nnz?: number;
  /**
   * 'sparse-kaiming' (default): normal with variance 2 / (the output neuron's own
   * nonzero fan-in), as in Evci et al., "Gradient flow in sparse neural networks";
   * 'dense-kaiming': variance 2 / inFeatures; 'zeros'.
   */
  init?: CsrInit;
  /** Whether the layer adds a bias (default true; initialized to zeros). */
  bias?: boolean;
  device?: Device;
  /** Seed of the pattern and the initial values (default 0). */
  seed?: number | bigint;
}

/**
 * `y = W x + b` with W a CSR matrix `[out, in]` and feature-major activations.
 *
 * - forward: `spmm(W, x)` (+ bias).
 * - backward: dW only at the stored positions, `sddmm(dy, x, W, { transB: true })`
 *   (the dense gradient is never formed); dx = `spmm(W, dy, { transA: true })`;
 *   db = the row sums of dy.
 *
 * The layer keeps the last input x and output gradient dy (until the next
 * forward) so that updaters such as RigL can grow by the current batch's
 * gradient. Dynamic sparse training replaces the weight matrix through
 * {@link setWeight}; the optimizer state is keyed by the layer itself, so it
 * survives the change (see the updaters).
 */
export class SparseLinear extends AffineLayer<CsrMatrix> {
  /** The output gradient of the last backward pass (RigL grows by it). */
  private dy: Tensor | null = null;

  constructor(inFeatures: number, outFeatures: number, options?: SparseLinearOptions) {
    const opts = checkOptions<SparseLinearOptions>(options, ['density', 'nnz', 'init', 'bias', 'device', 'seed']);
    checkInteger(inFeatures, 'inFeatures', 1, 2 ** 31 - 1);
    checkInteger(outFeatures, 'outFeatures', 1, 2 ** 31 - 2);
    const device = resolveDevice(opts.device);
    const size = inFeatures * outFeatures;
    if (opts.density !== undefined && opts.nnz !== undefined) fail('E_ARG', 'options: give either density or nnz, not both');
    let nnz: number;
    if (opts.nnz !== undefined) nnz = checkInteger(opts.nnz, 'nnz', 0, size);
    else {
      const density = checkFinite(opts.density ?? 0.1, 'density');
      if (density < 0 || density > 1) fail('E_ARG', `density: expected a number in [0, 1], got ${density}`);
      nnz = Math.round(density * size);
    }
    const bias = opts.bias ?? true;
    if (typeof bias !== 'boolean') fail('E_ARG', `bias: expected a boolean, got ${describe(bias)}`);
    // nnz / size * size rounds back to nnz exactly (size < 2^53).
    const w = CsrMatrix.random(outFeatures, inFeatures, { density: nnz / size, seed: checkSeed(opts.seed ?? 0), init: opts.init ?? 'sparse-kaiming', device });
    super(inFeatures, outFeatures, device, w, bias);
  }

  /** dLoss/dW at the stored positions (aligned with `weight.values`) from the last backward, or null. */
  get weightGrad(): Tensor | null {
    return this.dW;
  }

  /** dLoss/db from the last backward, or null. */
  get biasGrad(): Tensor | null {
    return this.dB;
  }

  /** The input of the last forward pass (feature-major `[in, batch]`), or null. */
  get lastInput(): Tensor | null {
    return this.x;
  }

  /** The output gradient given to the last backward pass (`[out, batch]`), or null. */
  get lastOutputGrad(): Tensor | null {
    return this.dy;
  }

  /** Computes `W x + b`; keeps x for the backward pass. */
  override forward(x: Tensor): Tensor {
    this.checkAlive();
    const input = checkInput(x, this.inFeatures, 'x', this.device);
    this.x = input;
    this.dy = null;
    const y = spmm(this.w, input);
    if (this.b) addBias(y, this.b, { out: y });
    return y;
  }

  /** Stores dW (stored positions only) and db; returns dx unless `needInputGrad` is false. */
  override backward(dy: Tensor, needInputGrad = true): Tensor | null {
    this.checkAlive();
    if (this.x === null || this.x.disposed) fail('E_ARG', 'SparseLinear.backward: call forward first (its input is gone)');
    const grad = checkInput(dy, this.outFeatures, 'dy', this.device);
    if (grad.shape[1] !== this.x.shape[1]) fail('E_SHAPE', `dy: expected batch ${this.x.shape[1]}, got shape [${grad.shape.join(', ')}]`);
    this.disposeGrads();
    this.dy = grad;
    this.dW = sddmm(grad, this.x, this.w, { transB: true });
    if (this.b) this.dB = biasGrad(grad);
    return needInputGrad ? spmm(this.w, grad, { transA: true }) : null;
  }

  /** The weight (keyed by this layer, so its optimizer state survives topology changes) and the bias. */
  override parameters(): Parameter[] {
    this.checkAlive();
    const params: Parameter[] = [{ name: 'weight', value: this.w.values, grad: this.dW, key: this }];
    if (this.b) params.push({ name: 'bias', value: this.b, grad: this.dB, key: this.biasKey });
    return params;
  }

  /**
   * Replaces the weight matrix (same shape and device), disposing the old one and
   * the stale weight gradient. The caller remaps the optimizer state (key: this layer).
   */
  setWeight(weight: CsrMatrix): void {
    this.checkAlive();
    if (!(weight instanceof CsrMatrix)) fail('E_ARG', `weight: expected a CsrMatrix, got ${describe(weight)}`);
    if (weight.disposed) fail('E_DISPOSED', 'weight: the matrix has been disposed');
    if (weight.rows !== this.outFeatures || weight.cols !== this.inFeatures)
      fail('E_SHAPE', `weight: expected shape [${this.outFeatures}, ${this.inFeatures}], got [${weight.rows}, ${weight.cols}]`);
    if (weight.device !== this.device) fail('E_DEVICE', `weight: expected a matrix on '${this.device}', got one on '${weight.device}'`);
    if (weight === this.w) return;
    this.w.dispose();
    this.w = weight;
    this.dW?.dispose();
    this.dW = null;
  }

  /**
   * Adds `rows.rows` output units after the existing ones, with the incoming
   * connections and weights of `rows` (a CsrMatrix `[k, in]` on the layer's
   * device, copied; zeros stored there count as connections) and zero biases.
   * The old rows keep their positions and values, so the stored values of the
   * new rows come after the old `values`. The matrix is rebuilt through the
   * host once (growth is rare). Drops the stored gradients and captured x, dy.
   * Returns the maps for `optimizer.remapState(layer, maps.weight)` and
   * `(layer.biasKey, maps.bias)`; {@link growNeurons} does this for you.
   */
  growOutputs(rows: CsrMatrix): GrowthMaps {
    const growth = this._prepareGrowOutputs(rows);
    growth.commit();
    return growth.maps;
  }

  /** @internal {@link growOutputs}, built but not adopted (see PreparedGrowth). */
  _prepareGrowOutputs(rows: CsrMatrix): PreparedGrowth {
    this.checkAlive();
    if (!(rows instanceof CsrMatrix)) fail('E_ARG', `rows: expected a CsrMatrix [k, ${this.inFeatures}], got ${describe(rows)}`);
    if (rows.disposed) fail('E_DISPOSED', 'rows: the CsrMatrix has been disposed');
    if (rows.cols !== this.inFeatures) fail('E_SHAPE', `rows: expected ${this.inFeatures} columns (the layer's inFeatures), got [${rows.rows}, ${rows.cols}]`);
    if (rows.device !== this.device) fail('E_DEVICE', `rows: expected a matrix on '${this.device}', got one on '${rows.device}'`);
    const k = checkGrowCount(rows.rows, this.outFeatures, 2 ** 31 - 2, 'rows.rows');
    const oldNnz = this.w.nnz;
    if (oldNnz + rows.nnz > 2 ** 31 - 1) fail('E_ARG', `rows: the grown matrix would store ${oldNnz + rows.nnz} values, more than int32 indices allow`);
    const out = this.outFeatures;
    const rowPtr = new Int32Array(out + k + 1);
    rowPtr.set(this.w.rowPtr());
    const addPtr = rows.rowPtr();
    for (let r = 1; r <= k; r++) rowPtr[out + r] = oldNnz + addPtr[r];
    const colIdx = new Int32Array(oldNnz + rows.nnz);
    colIdx.set(this.w.colIdx());
    colIdx.set(rows.colIdx(), oldNnz);
    const values = new Float32Array(oldNnz + rows.nnz);
    values.set(this.w.values.toArray() as Float32Array);
    values.set(rows.values.toArray() as Float32Array, oldNnz);
    const w = CsrMatrix.fromArrays({ rows: out + k, cols: this.inFeatures, rowPtr, colIdx, values }, { device: this.device });
    return this.preparedOutputs(w, k, appendMap(oldNnz, rows.nnz));
  }

  /**
   * Adds k input features (columns) after the existing ones. Every new column
   * is stored densely: all `out` entries, with the values `columns` (`[out, k]`
   * row-major; default zeros, which are stored too, so the new connections can
   * receive gradient). nnz grows by out * k. In each row the new entries come
   * after the old ones (their column indices are the largest). Returns the
   * maps for the optimizer (the bias map is the identity).
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
    const cols = checkGrowValues(columns, this.outFeatures * kk, 'columns', `[${this.outFeatures}, ${kk}] row-major`);
    const [out, inp, oldNnz] = [this.outFeatures, this.inFeatures, this.w.nnz];
    const nnz = oldNnz + out * kk;
    if (nnz > 2 ** 31 - 1) fail('E_ARG', `k: the grown matrix would store ${nnz} values, more than int32 indices allow`);
    const oldPtr = this.w.rowPtr();
    const oldCol = this.w.colIdx();
    const oldVal = this.w.values.toArray() as Float32Array;
    const rowPtr = new Int32Array(out + 1);
    const colIdx = new Int32Array(nnz);
    const values = new Float32Array(nnz);
    const map = new Int32Array(nnz).fill(-1);
    let at = 0;
    for (let r = 0; r < out; r++) {
      for (let i = oldPtr[r]; i < oldPtr[r + 1]; i++, at++) {
        colIdx[at] = oldCol[i];
        values[at] = oldVal[i];
        map[at] = i;
      }
      for (let j = 0; j < kk; j++, at++) {
        colIdx[at] = inp + j;
        values[at] = cols ? cols[r * kk + j] : 0;
      }
      rowPtr[r + 1] = at;
    }
    return this.preparedInputs(CsrMatrix.fromArrays({ rows: out, cols: inp + kk, rowPtr, colIdx, values }, { device: this.device }), kk, map);
  }

  /** Also drops the captured output gradient. */
  protected override forgetCaptured(): void {
    super.forgetCaptured();
    this.dy = null;
  }

  /** A short description. */
  override toString(): string {
    return `SparseLinear(${this.inFeatures} -> ${this.outFeatures}, nnz ${this.w.nnz}, ${this.device})`;
  }
}
