/**
 * The training step: forward, loss, backward, optimizer step and, at update
 * steps, the sparse-topology update, all on the model's device.
 */
import { fail, describe } from './errors';
import { softmaxCrossEntropy, Labels } from './elementwise';
import { Sequential } from './layers/sequential';
import { Optimizer } from './optim';
import { Tensor } from './tensor';
import { UpdateReport, Updater } from './updaters/updater';
import { checkInteger, checkOptions } from './validate';

/**
 * A loss for {@link Trainer}: from the model's output `[outFeatures, batch]`
 * and the step's target, the loss value and its gradient with respect to the
 * output (a new tensor of the output's shape, on its device, that the trainer
 * owns and disposes: the last layer keeps it as its captured dy until the next
 * step).
 */
export type LossFunction<T> = (output: Tensor, target: T) => { loss: number; grad: Tensor };

/** Options of {@link Trainer}. */
export interface TrainerOptions<T = Labels> {
  model: Sequential;
  optimizer: Optimizer;
  /** Changes sparse topologies at its update steps (default: none, i.e. static). */
  updater?: Updater;
  /** The step to start counting from (default 0; checkpoints restore it). */
  step?: number;
  /**
   * The loss (default: {@link softmaxCrossEntropy} of the output against one
   * class label per column). Give one for regression, TD errors, masked or
   * weighted losses: the step is otherwise the same.
   */
  loss?: LossFunction<T>;
}

/** What {@link Trainer.step} returns. */
export interface StepResult {
  /** The step number this call trained (before it was advanced). */
  step: number;
  /** The batch's loss (the mean softmax cross-entropy by default). */
  loss: number;
  /** The updater's report when this was an update step. */
  update?: UpdateReport;
}

/**
 * Runs training steps with one call per batch: of a classifier (softmax
 * cross-entropy, the default) or with any {@link LossFunction}. Order within
 * a step: forward; loss and its gradient; backward (each sparse layer captures its x and dy); the updater's
 * `observe` (SNFS's momentum of the dense gradient, which needs only the
 * captured x and dy; it runs before the optimizer step so that its failures
 * leave the parameters unchanged); the optimizer step on every parameter; and
 * at update steps the updater's drop-and-grow from the captured dy and x
 * (after the optimizer step, so dropping looks at the updated weights). The
 * RigL reference instead skips the optimizer step on update steps (see
 * {@link RigL}); here every step takes it.
 *
 * No values are copied to the host inside a step except the loss scalar, which
 * the loss kernel returns (a single float) and the updater's selection lists at
 * update steps.
 */
export class Trainer<T = Labels> {
  readonly model: Sequential;
  readonly optimizer: Optimizer;
  readonly updater: Updater | null;
  private readonly lossFn: LossFunction<T>;
  private current: number;
  private lossGrad: Tensor | null = null;

  constructor(options: TrainerOptions<T>) {
    const opts = checkOptions<TrainerOptions<T>>(options, ['model', 'optimizer', 'updater', 'step', 'loss']);
    if (!(opts.model instanceof Sequential)) fail('E_ARG', `model: expected a Sequential model, got ${describe(opts.model)}`);
    if (!(opts.optimizer instanceof Optimizer)) fail('E_ARG', `optimizer: expected an SGD or Adam optimizer, got ${describe(opts.optimizer)}`);
    if (opts.loss !== undefined && typeof opts.loss !== 'function') fail('E_ARG', `loss: expected a function (output, target) => { loss, grad }, got ${describe(opts.loss)}`);
    this.model = opts.model;
    this.optimizer = opts.optimizer;
    this.updater = opts.updater === undefined ? null : checkUpdater(opts.updater, opts.optimizer, opts.model);
    this.lossFn = opts.loss ?? (softmaxCrossEntropy as unknown as LossFunction<T>);
    this.current = checkInteger(opts.step ?? 0, 'step');
  }

  /** The number of the next step to train. */
  get stepNumber(): number {
    return this.current;
  }

  /** @internal Checkpoints restore it. */
  set stepNumber(value: number) {
    this.current = checkInteger(value, 'step');
  }

  /**
   * One training step on a feature-major batch `x` ([inFeatures, batch]) with
   * its target: one label per column by default, whatever the `loss` takes
   * otherwise. E_ARG (before any parameter changes) when the loss returns no
   * number or a gradient that is not a new float32 tensor of the output's
   * shape on its device. The updater's `observe` runs before the optimizer
   * step, so its failures change no parameter either; the step number
   * advances only when the whole step succeeds. (Should the optimizer step
   * itself refuse, e.g. a stale optimizer state after a growth it was not
   * given, E_SHAPE, SNFS has already added this batch to its momentum.)
   */
  step(x: Tensor, target: T): StepResult {
    const step = this.current;
    this.lossGrad?.dispose();
    this.lossGrad = null;
    const output = this.model.forward(x);
    const computed = this.lossFn(output, target);
    let grad: Tensor;
    try {
      grad = checkLossResult(computed, output);
    } catch (e) {
      // The gradient was handed over: a rejected one is freed here, not leaked.
      const g = (computed as { grad?: unknown } | null)?.grad;
      if (g instanceof Tensor && g !== output && !g.disposed) g.dispose();
      throw e;
    }
    const loss = computed.loss;
    this.lossGrad = grad; // the last layer keeps it as its captured dy until the next step
    this.model.backward(grad);
    const params = this.model.parameters().map((p) => {
      if (p.grad === null) fail('E_ARG', `Trainer: parameter '${p.name}' has no gradient`);
      return { value: p.value, grad: p.grad, key: p.key };
    });
    // observe reads only what backward captured (Updater: "after every backward
    // pass"), so it runs before the optimizer step: when its checks fail, no
    // parameter has changed yet. update needs the updated weights: it runs after.
    this.updater?.observe(step);
    this.optimizer.step(params);
    const result: StepResult = { step, loss };
    if (this.updater?.isUpdateStep(step)) result.update = this.updater.update(step);
    this.current = step + 1;
    return result;
  }

  /** Lets `using` dispose it at the end of the scope. */
  [Symbol.dispose](): void {
    this.dispose();
  }

  /** Frees the step's transient tensors (not the model, optimizer or updater). */
  dispose(): void {
    this.lossGrad?.dispose();
    this.lossGrad = null;
  }
}

/**
 * The trainer's updater: it must carry its topology changes over in the
 * trainer's own optimizer (another one's state would be remapped while this
 * one's silently misaligns with the new patterns, so grown weights would not
 * start at zero state), and act on layers of the trainer's model (their
 * captured x and dy are the ones each step's backward pass leaves).
 */
function checkUpdater(value: unknown, optimizer: Optimizer, model: Sequential): Updater {
  const v = value as Record<string, unknown> | null;
  const isUpdater = v !== null && typeof v === 'object' && Array.isArray(v.layers) && ['isUpdateStep', 'observe', 'update'].every((m) => typeof v[m] === 'function');
  if (!isUpdater) fail('E_ARG', `updater: expected an updater (RigL, SET, SNFS, Static, MagnitudePruning), got ${describe(value)}`);
  const u = value as Updater;
  if (u.optimizer !== undefined && u.optimizer !== optimizer)
    fail('E_ARG', `updater: expected an updater built with the trainer's optimizer, got a '${u.kind}' updater built with another one (${describe(u.optimizer)})`);
  const keys = new Set(model.parameters().map((p) => p.key)); // a sparse layer is its weight's key
  u.layers.forEach((layer, i) => {
    if (!keys.has(layer)) fail('E_ARG', `updater: its layers[${i}] (${String(layer)}) is not a layer of the trainer's model`);
  });
  return u;
}

/** The gradient of a loss result, checked against the output it must match. */
function checkLossResult(r: unknown, output: Tensor): Tensor {
  const o = r as { loss?: unknown; grad?: unknown } | null;
  if (o === null || typeof o !== 'object' || typeof o.loss !== 'number')
    fail('E_ARG', `loss: expected the loss function to return { loss: number, grad: Tensor }, got ${describe(r)}`);
  const g = o.grad;
  if (!(g instanceof Tensor) || g.disposed) fail('E_ARG', `loss: expected grad to be a live Tensor, got ${describe(g)}`);
  if (g.device !== output.device || g.dtype !== 'float32' || g.shape.length !== output.shape.length || g.shape.some((n, i) => n !== output.shape[i]))
    fail(
      'E_ARG',
      `loss: expected grad to be a float32 tensor of the output's shape [${output.shape.join(', ')}] on '${output.device}', ` +
        `got ${g.dtype} [${g.shape.join(', ')}] on '${g.device}'`
    );
  if (g === output) fail('E_ARG', 'loss: expected grad to be a new tensor (the trainer disposes it), got the output itself');
  return g;
}
