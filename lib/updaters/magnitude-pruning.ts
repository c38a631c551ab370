/** Gradual magnitude pruning (Zhu & Gupta 2017). */
import { fail } from '../errors';
import { gradualPruning, Schedule, UpdateSchedule } from '../schedules';
import { checkFinite, checkInteger, checkOptions } from '../validate';
import { BaseUpdater, LayerSelection, smallestMagnitudes, UpdateReport, UpdaterOptions } from './updater';

/** Options of {@link MagnitudePruning}. */
export interface MagnitudePruningOptions extends UpdaterOptions {
  /**
   * Sparsity reached at endStep, in [0, 1): one for every layer, or one per
   * layer (in the order of `layers`), e.g. from {@link erk}, so each layer is
   * pruned to its own share of a global sparsity.
   */
  finalSparsity: number | readonly number[];
  /** Sparsity at beginStep (default 0: dense). */
  initialSparsity?: number;
  /** First pruning step. */
  beginStep: number;
  /**
   * Step at which finalSparsity is reached: the last pruning step, also when
   * endStep − beginStep is not a multiple of updateEvery (pruning stops after it).
   */
  endStep: number;
  /** Prune every this many steps (default 100). */
  updateEvery?: number;
  /** Exponent of the schedule (default 3: Zhu & Gupta's cubic). */
  power?: number;
}

/**
 * Prunes sparse layers (typically built at density 1, e.g. `mlp(..., { sparseLayers: true })`)
 * gradually from dense: at each pruning step the layer keeps the
 * round(size × (1 − s(step))) largest |w| (the TF model-pruning rounding), with
 * s(step) = s_f + (s_i − s_f)(1 − (step − beginStep)/(endStep − beginStep))^power.
 * Nothing is grown; the optimizer state of the survivors is kept. nnz only
 * decreases. With one final sparsity per layer (`finalSparsity: erk(...)
 * .map((l) => l.sparsity)`, say), every layer follows the same schedule shape
 * to its own target.
 */
export class MagnitudePruning extends BaseUpdater {
  readonly kind = 'magnitude-pruning';
  readonly schedule: UpdateSchedule;
  /** Each layer's schedule. */
  private readonly sparsity: Schedule[];

  constructor(options: MagnitudePruningOptions) {
    checkOptions<MagnitudePruningOptions>(options, ['layers', 'optimizer', 'gradientNorms', 'finalSparsity', 'initialSparsity', 'beginStep', 'endStep', 'updateEvery', 'power']);
    super(options);
    const beginStep = checkInteger(options.beginStep, 'beginStep');
    const endStep = checkInteger(options.endStep, 'endStep');
    const updateEvery = checkInteger(options.updateEvery ?? 100, 'updateEvery', 1);
    this.schedule = new UpdateSchedule({ updateEvery, beginStep, endStep });
    const given = options.finalSparsity;
    const finals = Array.isArray(given)
      ? given.map((f, i) => checkFinite(f, `finalSparsity[${i}]`))
      : this.layers.map(() => checkFinite(given, 'finalSparsity'));
    if (finals.length !== this.layers.length)
      fail('E_ARG', `finalSparsity: expected one sparsity per layer (${this.layers.length}), got ${finals.length}`);
    finals.forEach((f, i) => {
      if (f < 0 || f >= 1) fail('E_ARG', `finalSparsity${Array.isArray(given) ? `[${i}]` : ''}: expected a number in [0, 1), got ${f}`);
    });
    this.sparsity = finals.map((finalSparsity) =>
      gradualPruning({ initialSparsity: options.initialSparsity ?? 0, finalSparsity, beginStep, endStep, power: options.power ?? 3 })
    );
  }

  /** The target sparsity of layer `layer` (default 0) at `step`. */
  targetSparsity(step: number, layer = 0): number {
    checkInteger(layer, 'layer', 0, this.layers.length - 1);
    return this.sparsity[layer](step);
  }

  /**
   * Pruning steps: beginStep, beginStep + updateEvery, ... up to endStep, and
   * endStep itself, so that the final sparsity is reached even when the span is
   * not a whole number of periods (Zhu & Gupta, and TF's model pruning, assume it
   * is; a last period cut short would otherwise leave the layers below target).
   */
  isUpdateStep(step: number): boolean {
    return this.schedule.isUpdateStep(step) || (step === this.schedule.endStep && step >= this.schedule.beginStep);
  }

  /** Drops the smallest |w| of each layer down to the scheduled nnz. */
  update(step: number): UpdateReport {
    this.checkAlive();
    checkInteger(step, 'step');
    const isUpdate = this.isUpdateStep(step);
    const none = new Int32Array(0);
    const selections = this.layers.map((layer, i): LayerSelection => {
      const s = this.sparsity[i](step);
      const w = layer.weight;
      const size = w.rows * w.cols;
      const keep = Math.round(size * (1 - s));
      const nDrop = isUpdate ? Math.max(0, w.nnz - keep) : 0;
      if (nDrop === 0) return { layer: i, dropped: 0, grown: 0, regrown: 0, nnz: w.nnz, dropFraction: 0 };
      const drop = smallestMagnitudes(w, nDrop);
      if (drop.length === 0) fail('E_ARG', `MagnitudePruning: layer ${i} has only NaN weights`);
      return { layer: i, drop, growRows: none, growCols: none, dropFraction: drop.length / w.nnz };
    });
    return { step, layers: this.applyChanges(selections) };
  }
}
