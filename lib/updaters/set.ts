/** SET (Mocanu et al. 2018, sparse evolutionary training). */
import { CsrMatrix } from '../csr';
import { randomGrowth } from '../topology';
import { DropGrowOptions, DropGrowUpdater } from './updater';

/**
 * SET: drop the smallest |w|, grow uniformly at random among the positions not
 * kept. The draw of layer i at step s is a pure function of (seed, i, s) through
 * the counter-based generator (stream kStreamGrowth), so runs and resumed runs
 * grow the same positions.
 *
 * This is SET as the RigL paper (Evci et al. 2020) runs it as a baseline: the
 * drop is by |w| and new weights start at 0, where Mocanu et al. drop the
 * smallest positive and the largest negative weights separately and give new
 * weights random values.
 */
export class SET extends DropGrowUpdater {
  readonly kind = 'set';

  constructor(options: DropGrowOptions) {
    super(options);
  }

  protected grow(i: number, kept: CsrMatrix, k: number, step: number): { rows: Int32Array; cols: Int32Array } {
    return randomGrowth(kept, k, this.seed, i * 2 ** 32 + step);
  }
}
