/**
 * Step schedules for dynamic sparse training: the drop fraction of RigL/SET
 * (constant or cosine-annealed), the sparsity of gradual magnitude pruning
 * (Zhu & Gupta 2017) and the steps at which masks are updated.
 * Pure TypeScript; a schedule is a plain function of the (integer) step.
 */
import { describe, fail } from './errors';
import { checkFinite, checkInteger, checkOptions } from './validate';

/** A value as a function of the training step (a non-negative integer). */
export type Schedule = (step: number) => number;

function checkStep(fn: string, step: unknown): number {
  return checkInteger(step, `${fn}: step`);
}

/**
 * A constant schedule: `value(step) = value` for every step.
 * @throws E_ARG when `value` is not a finite number.
 */
export function constant(value: number): Schedule {
  checkFinite(value, 'constant: value');
  return (step: number) => {
    checkStep('constant', step);
    return value;
  };
}

/** Options of {@link cosineDecay}. */
export interface CosineDecayOptions {
  /** First step of the decay (default 0). */
  beginStep?: number;
}

/**
 * Cosine annealing (RigL's drop-fraction schedule):
 *
 *     T  = endStep − beginStep
 *     t  = min(max(step − beginStep, 0), T)
 *     value(step) = initial · (1 + cos(π · t / T)) / 2
 *
 * so it is `initial` up to `beginStep`, `initial / 2` half way, and 0 from
 * `endStep` on. With beginStep 0 this is exactly the reference's
 * `tf.train.cosine_decay(initial, step, endStep)` (alpha 0). The reference
 * passes the raw global step even when its begin step is not 0
 * (`min(step, end − begin)`); here the step is measured from `beginStep`,
 * so the decay spans [beginStep, endStep].
 *
 * @throws E_ARG unless `initial` is finite and `0 <= beginStep < endStep` are
 *   integers; the returned function throws E_ARG for a step that is not a
 *   non-negative integer.
 */
export function cosineDecay(initial: number, endStep: number, options?: CosineDecayOptions): Schedule {
  const opts = checkOptions<CosineDecayOptions>(options, ['beginStep'], 'cosineDecay: options');
  checkFinite(initial, 'cosineDecay: initial');
  const beginStep = opts.beginStep === undefined ? 0 : checkInteger(opts.beginStep, 'cosineDecay: options.beginStep');
  checkInteger(endStep, 'cosineDecay: endStep');
  if (endStep <= beginStep) fail('E_ARG', `cosineDecay: endStep: expected an integer > beginStep (${beginStep}), got ${endStep}`);
  const span = endStep - beginStep;
  return (step: number) => {
    checkStep('cosineDecay', step);
    const t = Math.min(Math.max(step - beginStep, 0), span);
    return (initial * (1 + Math.cos((Math.PI * t) / span))) / 2;
  };
}

/** Options of {@link gradualPruning}. */
export interface GradualPruningOptions {
  /** Sparsity at `beginStep` (s_i), in [0, finalSparsity]. Default 0 (dense). */
  initialSparsity?: number;
  /** Sparsity reached at `endStep` (s_f), in [0, 1). */
  finalSparsity: number;
  /** First pruning step t0 (an integer >= 0). */
  beginStep: number;
  /** Step where the final sparsity is reached (an integer > beginStep). */
  endStep: number;
  /**
   * Pruning frequency Δt: when given, the sparsity only changes at
   * `beginStep + k · frequency` (and at endStep) and holds in between, as a
   * mask pruned every Δt steps does. Default: changes every step.
   */
  frequency?: number;
  /** Exponent of the polynomial (Zhu & Gupta use 3). Default 3. */
  power?: number;
}

/**
 * Gradual pruning from dense (Zhu & Gupta 2017, "To prune, or not to prune"):
 *
 *     s(t) = s_f + (s_i − s_f) · (1 − (t − t0) / (n·Δt)) ^ power
 *
 * with `t0 = beginStep`, `n·Δt = endStep − beginStep`, the step clamped to
 * `[beginStep, endStep]` (so `s_i` before the start and `s_f` after the end).
 * With `frequency` Δt, `t` is first rounded down to the last pruning step
 * `beginStep + floor((step − beginStep) / Δt) · Δt` (the end step itself
 * always gives `s_f`). The TF model-pruning and jaxpruner polynomial
 * schedules compute the same curve.
 *
 * @throws E_ARG for sparsities outside `0 <= s_i <= s_f < 1`, steps that are not
 *   integers with `0 <= beginStep < endStep`, a frequency that is not an integer
 *   >= 1, or a power that is not a finite number > 0.
 */
export function gradualPruning(options: GradualPruningOptions): Schedule {
  if (options === undefined) fail('E_ARG', 'gradualPruning: options: expected { finalSparsity, beginStep, endStep, ... }, got undefined');
  const opts = checkOptions<GradualPruningOptions>(
    options,
    ['initialSparsity', 'finalSparsity', 'beginStep', 'endStep', 'frequency', 'power'],
    'gradualPruning: options'
  );
  const initial = opts.initialSparsity === undefined ? 0 : checkFinite(opts.initialSparsity, 'gradualPruning: options.initialSparsity');
  const final = checkFinite(opts.finalSparsity, 'gradualPruning: options.finalSparsity');
  if (final < 0 || final >= 1) fail('E_ARG', `gradualPruning: options.finalSparsity: expected a number in [0, 1), got ${describe(final)}`);
  if (initial < 0 || initial > final)
    fail('E_ARG', `gradualPruning: options.initialSparsity: expected a number in [0, finalSparsity = ${final}], got ${describe(initial)}`);
  const beginStep = checkInteger(opts.beginStep, 'gradualPruning: options.beginStep');
  const endStep = checkInteger(opts.endStep, 'gradualPruning: options.endStep');
  if (endStep <= beginStep) fail('E_ARG', `gradualPruning: options.endStep: expected an integer > beginStep (${beginStep}), got ${endStep}`);
  const frequency = opts.frequency === undefined ? 1 : checkInteger(opts.frequency, 'gradualPruning: options.frequency', 1);
  const power = opts.power === undefined ? 3 : checkFinite(opts.power, 'gradualPruning: options.power');
  if (power <= 0) fail('E_ARG', `gradualPruning: options.power: expected a number > 0, got ${power}`);
  const span = endStep - beginStep;
  return (step: number) => {
    checkStep('gradualPruning', step);
    if (step <= beginStep) return initial;
    if (step >= endStep) return final;
    const t = Math.floor((step - beginStep) / frequency) * frequency;
    return final + (initial - final) * (1 - t / span) ** power;
  };
}

/** Options of {@link UpdateSchedule}. */
export interface UpdateScheduleOptions {
  /** Update every this many steps (ΔT, an integer >= 1). */
  updateEvery: number;
  /** First update step (default 0). */
  beginStep?: number;
  /** Last step at which an update may happen (inclusive, an integer >= beginStep). */
  endStep: number;
}

/**
 * When masks are updated:
 *
 *     isUpdateStep(step) = beginStep <= step <= endStep  and  (step − beginStep) mod updateEvery == 0
 *
 * This is the stateless form of RigL's `is_mask_update_iter`: the reference
 * updates when `begin_step <= step <= end_step` and
 * `last_update_step + frequency <= step`, with `last_update_step` starting at
 * `−frequency`, so when it is asked every step it updates at beginStep and
 * then every `frequency` steps — the same steps as here. (jaxpruner's
 * periodic schedule tests `step mod freq == 0` instead; the two agree when
 * beginStep is a multiple of updateEvery.)
 */
export class UpdateSchedule {
  /** ΔT. */
  readonly updateEvery: number;
  /** First update step. */
  readonly beginStep: number;
  /** Last step at which an update may happen (inclusive). */
  readonly endStep: number;

  /** @throws E_ARG for non-integer steps, `updateEvery < 1`, or `endStep < beginStep`. */
  constructor(options: UpdateScheduleOptions) {
    if (options === undefined) fail('E_ARG', 'UpdateSchedule: options: expected { updateEvery, beginStep?, endStep }, got undefined');
    const opts = checkOptions<UpdateScheduleOptions>(options, ['updateEvery', 'beginStep', 'endStep'], 'UpdateSchedule: options');
    this.updateEvery = checkInteger(opts.updateEvery, 'UpdateSchedule: options.updateEvery', 1);
    this.beginStep = opts.beginStep === undefined ? 0 : checkInteger(opts.beginStep, 'UpdateSchedule: options.beginStep');
    this.endStep = checkInteger(opts.endStep, 'UpdateSchedule: options.endStep');
    if (this.endStep < this.beginStep)
      fail('E_ARG', `UpdateSchedule: options.endStep: expected an integer >= beginStep (${this.beginStep}), got ${this.endStep}`);
  }

  /** Whether `step` is a mask update step (see the class formula). @throws E_ARG unless step is an integer >= 0. */
  isUpdateStep(step: number): boolean {
    checkStep('UpdateSchedule.isUpdateStep', step);
    return step >= this.beginStep && step <= this.endStep && (step - this.beginStep) % this.updateEvery === 0;
  }
}
