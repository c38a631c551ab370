/**
 * The updater interface of dynamic sparse training and the drop-and-grow
 * machinery RigL, SET and SNFS share.
 *
 * Semantics (the RigL reference, google-research/rigl):
 * - n_drop = floor(nnz × dropFraction(step)); the nnz − n_drop largest |w| are
 *   kept, i.e. the n_drop smallest |w| are dropped (ties: the lower flat index
 *   is dropped first, as bottomkMagnitude selects);
 * - n_drop positions are grown among the positions NOT kept (a just-dropped
 *   position may be grown again: "regrown");
 * - a grown position that was stored before the update keeps its weight and
 *   optimizer state; a newly activated one starts at weight 0 and state 0;
 * - nnz per layer never changes (except under RigL when NaN gradients leave
 *   fewer than n_drop positions to grow: it grows fewer and its report says so;
 *   SNFS refuses the update instead);
 * - the drop fraction is constant or cosine-annealed:
 *   initial × (1 + cos(π · min(step, T) / T)) / 2, T = endStep − beginStep
 *   (the reference's `cosine_decay(initial, global_step, T)`: the raw step);
 * - updates happen at beginStep, beginStep + updateEvery, ... up to endStep.
 */
import { CsrMatrix } from '../csr';
import { describe, fail } from '../errors';
import { Linear } from '../layers/linear';
import { Sequential } from '../layers/sequential';
import { SparseLinear } from '../layers/sparse-linear';
import { Optimizer } from '../optim';
import { sddmm } from '../sddmm';
import { constant, cosineDecay, Schedule, UpdateSchedule } from '../schedules';
import { Tensor } from '../tensor';
import { bottomkMagnitude } from '../topk';
import { rebuildTopology } from '../topology';
import { checkFinite, checkInteger, checkOptions, checkSeed } from '../validate';

/** What one update did to one layer. */
export interface LayerUpdateReport {
  /** The layer's index among the updater's layers. */
  layer: number;
  /** Entries dropped (n_drop). */
  dropped: number;
  /** Positions grown (including regrown ones). */
  grown: number;
  /** Grown positions that were stored before the update (dropped and grown again): they kept their weight and state. */
  regrown: number;
  /** Stored entries after the update. */
  nnz: number;
  /** The drop fraction used. */
  dropFraction: number;
  /** With `gradientNorms`: ‖dL/dW‖₂ over the stored positions before the update (Evci et al.'s masked gradient norm). */
  gradNormBefore?: number;
  /** With `gradientNorms`: the same norm over the stored positions after the update. */
  gradNormAfter?: number;
}

/** What {@link Updater.update} returns: one report per layer. */
export interface UpdateReport {
  step: number;
  layers: LayerUpdateReport[];
}

/** @internal What an updater saves in a checkpoint: JSON plus named arrays. */
export interface UpdaterState {
  meta: { [key: string]: unknown };
  arrays: Record<string, Float32Array>;
}

/** The one interface of every updater (Static, SET, RigL, SNFS, MagnitudePruning). */
export interface Updater {
  /** The updater's name ('static', 'set', 'rigl', 'snfs', 'magnitude-pruning'). */
  readonly kind: string;
  /** The sparse layers it acts on, in order. */
  readonly layers: readonly SparseLinear[];
  /**
   * The optimizer whose state it carries over topology changes (every built-in
   * updater has one; a Trainer requires it to be the trainer's own).
   */
  readonly optimizer?: Optimizer;
  /** Whether {@link update} changes topologies at this step. */
  isUpdateStep(step: number): boolean;
  /**
   * Called by the training step after every backward pass (SNFS accumulates its
   * momentum of the dense gradient here); others do nothing.
   */
  observe(step: number): void;
  /**
   * Updates the topologies at `step` (call it after the optimizer step), from
   * the input and output gradient each layer captured in the last backward pass.
   * Returns a report per layer. Does nothing (reports zeros) when `step` is not
   * an update step.
   */
  update(step: number): UpdateReport;
  /** @internal Checkpointing. */
  _saveState(): UpdaterState;
  /** @internal Checkpointing. */
  _loadState(state: UpdaterState): void;
  /** Frees the updater's own tensors (SNFS's momentum). */
  dispose(): void;
}

/** Options every updater takes. */
export interface UpdaterOptions {
  /** The sparse layers to update: a model (its {@link SparseLinear} layers) or a list of layers. */
  layers: Sequential | readonly SparseLinear[];
  /** The optimizer whose state is carried over topology changes. */
  optimizer: Optimizer;
  /** Also report the masked gradient norm before and after each update (one extra SDDMM per layer; default false). */
  gradientNorms?: boolean;
}

/** Options of the drop-and-grow updaters (RigL, SET, SNFS). */
export interface DropGrowOptions extends UpdaterOptions {
  /** Initial drop fraction in [0, 1] (default 0.3). */
  dropFraction?: number;
  /** 'cosine' (default) anneals the drop fraction to 0 at step endStep − beginStep (see the module comment); 'constant' keeps it. */
  schedule?: 'cosine' | 'constant';
  /** Update every this many steps (default 100). */
  updateEvery?: number;
  /** First update step (default 0). */
  beginStep?: number;
  /** Last update step, inclusive (required). */
  endStep: number;
  /** Seed of random choices (SET's growth; default 0). */
  seed?: number | bigint;
}

/** @internal The layers of an updater's options. */
export function resolveLayers(value: unknown): SparseLinear[] {
  if (value instanceof Sequential) return value.sparseLayers();
  if (!Array.isArray(value)) fail('E_ARG', `layers: expected a Sequential model or an array of SparseLinear layers, got ${describe(value)}`);
  value.forEach((l, i) => {
    if (!(l instanceof SparseLinear)) fail('E_ARG', `layers[${i}]: expected a SparseLinear layer, got ${l instanceof Linear ? 'a dense Linear layer' : describe(l)}`);
  });
  if (new Set(value).size !== value.length) fail('E_ARG', 'layers: a layer appears twice');
  return [...value];
}

/** @internal Sum of squares of a tensor's values, in double, as a norm. */
export function norm2(t: Tensor): number {
  const v = t.toArray();
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i] * v[i];
  return Math.sqrt(s);
}

/** @internal ‖dL/dW‖ at the stored positions of `w`, from the layer's captured dy and x. */
export function maskedGradNorm(layer: SparseLinear, w: CsrMatrix): number {
  const dy = layer.lastOutputGrad;
  const x = layer.lastInput;
  if (!dy || !x || dy.disposed || x.disposed) fail('E_ARG', 'gradientNorms: the layer has no captured gradient (run a backward pass first)');
  const g = sddmm(dy, x, w, { transB: true });
  try {
    return norm2(g);
  } finally {
    g.dispose();
  }
}

/** @internal Shared option checks and topology replacement of every updater. */
export abstract class BaseUpdater implements Updater {
  abstract readonly kind: string;
  readonly layers: readonly SparseLinear[];
  readonly optimizer: Optimizer;
  readonly gradientNorms: boolean;

  constructor(options: UpdaterOptions) {
    if (options === null || typeof options !== 'object' || Array.isArray(options))
      fail('E_ARG', `options: expected { layers, optimizer, ... }, got ${describe(options)}`);
    if (!(options.optimizer instanceof Optimizer)) fail('E_ARG', `optimizer: expected an SGD or Adam optimizer, got ${describe(options.optimizer)}`);
    this.layers = resolveLayers(options.layers);
    this.optimizer = options.optimizer;
    const g = options.gradientNorms ?? false;
    if (typeof g !== 'boolean') fail('E_ARG', `gradientNorms: expected a boolean, got ${describe(g)}`);
    this.gradientNorms = g;
  }

  abstract isUpdateStep(step: number): boolean;
  abstract update(step: number): UpdateReport;

  observe(step: number): void {
    this.checkAlive();
    checkInteger(step, 'step');
  }

  _saveState(): UpdaterState {
    this.checkAlive();
    return { meta: { kind: this.kind }, arrays: {} };
  }

  _loadState(state: UpdaterState): void {
    this.checkAlive();
    if (state.meta.kind !== this.kind) fail('E_FORMAT', `updater: the checkpoint holds a '${String(state.meta.kind)}' updater, this one is '${this.kind}'`);
  }

  /** Lets `using` dispose it at the end of the scope. */
  [Symbol.dispose](): void {
    this.dispose();
  }

  /** Frees the updater's own tensors; afterwards every call but isUpdateStep is E_DISPOSED. Calling it again does nothing. */
  dispose(): void {
    this.isDisposed = true;
  }

  /** Whether {@link dispose} has been called. */
  get disposed(): boolean {
    return this.isDisposed;
  }

  /** E_DISPOSED after dispose: an updater that carried on would, for SNFS, restart its momentum from zero unnoticed. */
  protected checkAlive(): void {
    if (this.isDisposed) fail('E_DISPOSED', `${this.constructor.name}: the updater has been disposed`);
  }

  private isDisposed = false;

  /**
   * Applies the selected drop + grow of every layer, to all layers or to none.
   * First, for each change, builds the new pattern (kept and regrown entries
   * keep their weights, new ones are 0) and the optimizer state carried through
   * its source map: this is what can fail (out of memory, a bad selection), and
   * a failure frees what was built and leaves every layer as it was. Then
   * replaces the layers' weights and state, which cannot fail. A layer without
   * a change passes its report through.
   */
  protected applyChanges(selections: readonly LayerSelection[]): LayerUpdateReport[] {
    const built: { change: LayerChange; matrix: CsrMatrix; regrown: number; remap: { commit(): void; abort(): void } | null; before?: number }[] = [];
    try {
      for (const change of selections) {
        if (!isChange(change)) continue;
        const layer = this.layers[change.layer];
        const before = this.gradientNorms ? maskedGradNorm(layer, layer.weight) : undefined;
        const rebuilt = rebuildTopology(layer.weight, change.drop, change.growRows, change.growCols);
        let remap: { commit(): void; abort(): void } | null;
        try {
          remap = this.optimizer._prepareRemap(layer, rebuilt.map);
        } catch (e) {
          rebuilt.matrix.dispose();
          throw e;
        } finally {
          rebuilt.map.dispose();
        }
        built.push({ change, matrix: rebuilt.matrix, regrown: rebuilt.regrown, remap, before });
      }
    } catch (e) {
      for (const b of built) {
        b.matrix.dispose();
        b.remap?.abort();
      }
      throw e;
    }
    for (const b of built) {
      b.remap?.commit();
      this.layers[b.change.layer].setWeight(b.matrix);
    }
    const reports = new Map<number, LayerUpdateReport>();
    for (const { change, matrix, regrown, before } of built) {
      const report: LayerUpdateReport = { layer: change.layer, dropped: change.drop.length, grown: change.growRows.length, regrown, nnz: matrix.nnz, dropFraction: change.dropFraction };
      if (this.gradientNorms) {
        report.gradNormBefore = before;
        report.gradNormAfter = maskedGradNorm(this.layers[change.layer], matrix);
      }
      reports.set(change.layer, report);
    }
    return selections.map((s) => (isChange(s) ? (reports.get(s.layer) as LayerUpdateReport) : s));
  }
}

/** @internal One layer's drop and grow, selected and not yet applied. */
export interface LayerChange {
  layer: number;
  /** Value indices to drop. */
  drop: Int32Array;
  /** Positions to grow. */
  growRows: Int32Array;
  growCols: Int32Array;
  dropFraction: number;
}

/** @internal What an update does to a layer: a change to apply, or the report of a layer it leaves alone. */
export type LayerSelection = LayerChange | LayerUpdateReport;

function isChange(s: LayerSelection): s is LayerChange {
  return 'drop' in s;
}

/** @internal The value indices of the n smallest |w| (ties: lower index), smallest first (NaN never: then fewer). */
export function smallestMagnitudes(w: CsrMatrix, n: number): Int32Array {
  return bottomkMagnitude(w, n).indices;
}

/**
 * @internal RigL, SET and SNFS: drop the smallest magnitudes, grow by a criterion
 * among the positions not kept. Subclasses choose the growth.
 */
export abstract class DropGrowUpdater extends BaseUpdater {
  readonly schedule: UpdateSchedule;
  readonly initialDropFraction: number;
  private seedValue: number | bigint;
  private readonly fraction: Schedule;

  constructor(options: DropGrowOptions, extraKeys: readonly string[] = []) {
    checkOptions<DropGrowOptions>(options, ['layers', 'optimizer', 'gradientNorms', 'dropFraction', 'schedule', 'updateEvery', 'beginStep', 'endStep', 'seed', ...extraKeys]);
    super(options);
    const f = checkFinite(options.dropFraction ?? 0.3, 'dropFraction');
    if (f < 0 || f > 1) fail('E_ARG', `dropFraction: expected a number in [0, 1], got ${f}`);
    this.initialDropFraction = f;
    this.schedule = new UpdateSchedule({ updateEvery: options.updateEvery ?? 100, beginStep: options.beginStep ?? 0, endStep: options.endStep });
    const kind = options.schedule ?? 'cosine';
    if (kind !== 'cosine' && kind !== 'constant') fail('E_ARG', `schedule: expected 'cosine' or 'constant', got ${describe(kind)}`);
    // The reference's tf cosine_decay(initial, global_step, endStep - beginStep):
    // the raw step, clamped at T = endStep - beginStep (not offset by beginStep).
    const { beginStep, endStep } = this.schedule;
    const span = endStep - beginStep;
    if (kind === 'cosine' && f > 0 && span > 0 && beginStep >= span)
      fail(
        'E_ARG',
        `beginStep: the cosine schedule anneals on the raw step and reaches 0 at step endStep - beginStep = ${span} ` +
          `(as the RigL reference does), so beginStep ${beginStep} would make every update drop nothing; ` +
          `use a beginStep below ${span}, a later endStep, or schedule 'constant'`
      );
    this.fraction = kind === 'constant' || span === 0 ? constant(f) : cosineDecay(f, span);
    this.seedValue = checkSeed(options.seed ?? 0);
  }

  /** The seed of random choices (restored from checkpoints). */
  get seed(): number | bigint {
    return this.seedValue;
  }

  override _saveState(): UpdaterState {
    this.checkAlive();
    return { meta: { kind: this.kind, seed: String(this.seedValue) }, arrays: {} };
  }

  override _loadState(state: UpdaterState): void {
    super._loadState(state);
    const text = state.meta.seed;
    if (typeof text !== 'string' || !/^[0-9]+$/.test(text)) fail('E_FORMAT', 'updater: the checkpoint has no valid seed');
    const big = BigInt(text);
    this.seedValue = big <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : checkSeed(big);
  }

  /** The drop fraction at `step`. */
  dropFraction(step: number): number {
    return this.fraction(step);
  }

  isUpdateStep(step: number): boolean {
    return this.schedule.isUpdateStep(step);
  }

  /** The positions to grow in layer i: k positions not stored in `kept`. */
  protected abstract grow(i: number, kept: CsrMatrix, k: number, step: number): { rows: Int32Array; cols: Int32Array };

  update(step: number): UpdateReport {
    this.checkAlive();
    checkInteger(step, 'step');
    const isUpdate = this.isUpdateStep(step);
    const f = isUpdate ? this.dropFraction(step) : 0;
    // Every layer's selection first (what most often refuses: a layer without
    // a captured gradient), then all changes at once (applyChanges).
    const selections = this.layers.map((layer, i): LayerSelection => {
      const w = layer.weight;
      const nDrop = isUpdate ? Math.floor(w.nnz * f) : 0;
      if (nDrop === 0) return { layer: i, dropped: 0, grown: 0, regrown: 0, nnz: w.nnz, dropFraction: f, ...(this.gradientNorms && isUpdate ? this.sameNorms(layer) : {}) };
      const drop = smallestMagnitudes(w, nDrop);
      const none = new Int32Array(0);
      const keptChange = rebuildTopology(w, drop, none, none);
      keptChange.map.dispose();
      let grown: { rows: Int32Array; cols: Int32Array };
      try {
        grown = this.grow(i, keptChange.matrix, drop.length, step);
      } finally {
        keptChange.matrix.dispose();
      }
      return { layer: i, drop, growRows: grown.rows, growCols: grown.cols, dropFraction: f };
    });
    return { step, layers: this.applyChanges(selections) };
  }

  private sameNorms(layer: SparseLinear): { gradNormBefore: number; gradNormAfter: number } {
    const n = maskedGradNorm(layer, layer.weight);
    return { gradNormBefore: n, gradNormAfter: n };
  }
}
