/** SNFS (Dettmers & Zettlemoyer 2019, sparse networks from scratch). */
import { CsrMatrix } from '../csr';
import { Device } from '../device';
import { fail } from '../errors';
import { matmul } from '../matmul';
import { topkDense } from '../topk';
import { tensor, Tensor, zeros } from '../tensor';
import { checkFinite, checkInteger } from '../validate';
import { DropGrowOptions, DropGrowUpdater, UpdaterState } from './updater';

/** Options of {@link SNFS}. */
export interface SnfsOptions extends DropGrowOptions {
  /** Decay of the momentum of the dense gradient, in [0, 1) (default 0.9): M = β M + (1 − β) dy·xᵀ. */
  momentum?: number;
}

/**
 * SNFS: drop the smallest |w|, grow the positions (not kept) with the largest
 * |momentum of the dense gradient|. Unlike RigL this needs a dense `[out, in]`
 * momentum per layer, updated after every backward pass up to endStep with one
 * dense GEMM (`observe`), which is SNFS's inherent cost; the growth selection
 * ({@link topkDense}) runs where the momentum is, so on CUDA it never leaves
 * the device. Ties go to the lower flat index; NaN is never selected. When a
 * layer grows (`growNeurons`), its momentum grows with it: the new rows
 * and columns start at zero.
 *
 * This is SNFS as the RigL paper (Evci et al. 2020) runs it as a baseline (its
 * code's `SparseMomentumOptimizer`): each layer keeps its own nnz. Dettmers &
 * Zettlemoyer also redistribute the regrown weights between layers in
 * proportion to each layer's mean momentum magnitude; that redistribution is
 * not done here.
 */
export class SNFS extends DropGrowUpdater {
  readonly kind = 'snfs';
  readonly momentum: number;
  private buffers: (Tensor | null)[];

  constructor(options: SnfsOptions) {
    super(options, ['momentum']);
    const m = checkFinite(options.momentum ?? 0.9, 'momentum');
    if (m < 0 || m >= 1) fail('E_ARG', `momentum: expected a number in [0, 1), got ${m}`);
    this.momentum = m;
    this.buffers = this.layers.map(() => null);
  }

  /**
   * The dense momentum `[out, in]` of layer i at the layer's current shape
   * (null before the first observe). Owned by the updater.
   */
  momentumOf(i: number): Tensor | null {
    this.checkAlive();
    checkInteger(i, 'i', 0, this.layers.length - 1);
    return this.fitted(i);
  }

  /**
   * M = β M + (1 − β) dy·xᵀ for every layer, from the last backward pass (until
   * endStep). Every layer's capture is checked first: when one is missing, no
   * momentum changes.
   */
  override observe(step: number): void {
    this.checkAlive();
    checkInteger(step, 'step');
    if (step > this.schedule.endStep) return;
    const captured = this.layers.map((layer, i) => {
      const dy = layer.lastOutputGrad;
      const x = layer.lastInput;
      if (!dy || !x || dy.disposed || x.disposed) fail('E_ARG', `SNFS.observe: layer ${i} has no captured gradient (call it after a backward pass)`);
      return { dy, x };
    });
    // Allocating or zero-padding a momentum does not change what it means, so it may precede the updates.
    const buffers = this.layers.map((layer, i) => this.fitted(i) ?? (this.buffers[i] = zeros([layer.outFeatures, layer.inFeatures], { device: layer.device })));
    captured.forEach(({ dy, x }, i) => matmul(dy, x, { transB: true, alpha: 1 - this.momentum, beta: this.momentum, out: buffers[i] }));
  }

  /**
   * The momentum of layer i (null before the first observe), zero-padded to the
   * layer's shape if the layer has grown since (growNeurons): growOutputs
   * appends rows and growInputs columns after the existing ones, so the old
   * entries keep their row and column and the new positions start at zero, as
   * the optimizer state of the grown weights does. Growth is rare: the momentum
   * goes through the host once.
   */
  private fitted(i: number): Tensor | null {
    const m = this.buffers[i];
    const layer = this.layers[i];
    const [out, inp] = [layer.outFeatures, layer.inFeatures];
    if (m === null || (m.shape[0] === out && m.shape[1] === inp)) return m;
    const [rows, cols] = m.shape;
    // Layers only grow; anything else is not a growth this padding could follow.
    if (rows > out || cols > inp) fail('E_SHAPE', `SNFS: the momentum of layer ${i} is [${rows}, ${cols}], larger than the layer [${out}, ${inp}]`);
    const old = m.toArray() as Float32Array;
    const data = new Float32Array(out * inp);
    for (let r = 0; r < rows; r++) data.set(old.subarray(r * cols, (r + 1) * cols), r * inp);
    const grown = tensorOf(data, [out, inp], layer.device);
    m.dispose();
    this.buffers[i] = grown;
    return grown;
  }

  protected grow(i: number, kept: CsrMatrix, k: number): { rows: Int32Array; cols: Int32Array } {
    const m = this.fitted(i);
    if (m === null) fail('E_ARG', `SNFS: layer ${i} has no momentum yet (call observe after each backward pass)`);
    const { rows, cols, nanCount } = topkDense(m, kept, k);
    // NaN momentum is never grown; too few others would change the layer's nnz.
    if (rows.length < k) fail('E_ARG', `k: expected at most ${rows.length} selectable positions (${nanCount} have NaN momentum), got ${k}`);
    return { rows, cols };
  }

  override _saveState(): UpdaterState {
    const state = super._saveState();
    this.layers.forEach((_, i) => {
      const b = this.fitted(i); // at the layers' shapes, as _loadState expects
      if (b) state.arrays[`momentum.${i}`] = b.toArray() as Float32Array;
    });
    return state;
  }

  override _loadState(state: UpdaterState): void {
    const next = this.layers.map((layer, i) => {
      const a = state.arrays[`momentum.${i}`];
      if (a === undefined) return null;
      if (a.length !== layer.outFeatures * layer.inFeatures) fail('E_FORMAT', `updater: momentum.${i} has ${a.length} values, expected ${layer.outFeatures * layer.inFeatures}`);
      return a;
    });
    super._loadState(state);
    const built = next.map((a, i) => (a ? tensorOf(a, [this.layers[i].outFeatures, this.layers[i].inFeatures], this.layers[i].device) : null));
    this.freeBuffers();
    this.buffers = built;
  }

  /** Frees the momentum buffers; the updater cannot be used afterwards (E_DISPOSED). */
  override dispose(): void {
    this.freeBuffers();
    super.dispose();
  }

  private freeBuffers(): void {
    this.buffers.forEach((b) => b?.dispose());
    this.buffers = this.layers.map(() => null);
  }
}

function tensorOf(a: Float32Array, shape: number[], device: Device): Tensor {
  return tensor(a, shape, { device });
}
