/** RigL (Evci et al. 2020, "Rigging the Lottery"). */
import { CsrMatrix } from '../csr';
import { fail } from '../errors';
import { topkGrowth } from '../topk';
import { DropGrowOptions, DropGrowUpdater } from './updater';

/**
 * RigL: drop the smallest |w|, grow the positions (not kept) with the largest
 * |dense gradient| of the current batch. The dense gradient dy·xᵀ is never
 * stored: {@link topkGrowth} streams it tile by tile from the dy and x each
 * layer captured in the last backward pass. A position whose gradient is NaN
 * is never grown; should fewer than n_drop candidates remain selectable, fewer
 * are grown and the report's `grown` and `nnz` say so.
 *
 * One difference from the reference's training loop: with {@link Trainer}, an
 * update step also takes the optimizer step (before the update, so dropping
 * ranks the updated weights), where RigL's Algorithm 1 and its code
 * (`SparseRigLOptimizer`) change the connections *instead of* stepping on
 * those steps. With updates every 100 steps, that is one extra optimizer step
 * in a hundred. A loop that wants the reference's order calls
 * `rigl.update(step)` itself and skips `optimizer.step` on update steps.
 *
 * @example
 * const rigl = new RigL({ layers: model, optimizer, dropFraction: 0.3, updateEvery: 100, endStep: Math.floor(0.75 * totalSteps) });
 */
export class RigL extends DropGrowUpdater {
  readonly kind = 'rigl';

  constructor(options: DropGrowOptions) {
    super(options);
  }

  protected grow(i: number, kept: CsrMatrix, k: number): { rows: Int32Array; cols: Int32Array } {
    const layer = this.layers[i];
    const dy = layer.lastOutputGrad;
    const x = layer.lastInput;
    if (!dy || !x || dy.disposed || x.disposed) fail('E_ARG', `RigL: layer ${i} has no captured gradient (call update after a backward pass, before the next forward)`);
    const sel = topkGrowth(dy, x, kept, k);
    return { rows: sel.rows, cols: sel.cols };
  }
}
