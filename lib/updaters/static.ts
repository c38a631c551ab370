/** The static sparse baseline. */
import { checkInteger, checkOptions } from '../validate';
import { BaseUpdater, UpdateReport, UpdaterOptions } from './updater';

/** Never changes a topology (static sparse training); reports zeros. */
export class Static extends BaseUpdater {
  readonly kind = 'static';

  constructor(options: UpdaterOptions) {
    checkOptions<UpdaterOptions>(options, ['layers', 'optimizer', 'gradientNorms']);
    super(options);
  }

  /** Always false. */
  isUpdateStep(step: number): boolean {
    checkInteger(step, 'step');
    return false;
  }

  /** Reports every layer unchanged. */
  update(step: number): UpdateReport {
    this.checkAlive();
    checkInteger(step, 'step');
    return { step, layers: this.layers.map((l, i) => ({ layer: i, dropped: 0, grown: 0, regrown: 0, nnz: l.weight.nnz, dropFraction: 0 })) };
  }
}
