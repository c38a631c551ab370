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

/** Options of {@link Trainer}. */
export interface TrainerOptions {
  model: Sequential;
  optimizer: Optimizer;
  /** Changes sparse topologies at its update steps (default: none, i.e. static). */
  updater?: Updater;
  /** The step to start counting from (default 0; checkpoints restore it). */
  step?: number;
}

/** What {@link Trainer.step} returns. */
export interface StepResult {
  /** The step number this call trained (before it was advanced). */
  step: number;
  /** The mean softmax cross-entropy of the batch. */
  loss: number;
  /** The updater's report when this was an update step. */
  update?: UpdateReport;
}

/**
 * Runs training steps of a classifier (softmax cross-entropy) with one call per
 * batch. Order within a step, as in the RigL reference: forward; loss and its
 * gradient; backward (each sparse layer captures its x and dy); the optimizer
 * step on every parameter; the updater's `observe`; and at update steps the
 * updater's drop-and-grow from the captured dy and x (after the optimizer step,
 * so dropping looks at the updated weights).
 *
 * No values are copied to the host inside a step except the loss scalar, which
 * the loss kernel returns (a single float) and the updater's selection lists at
 * update steps.
 */
export class Trainer {
  readonly model: Sequential;
  readonly optimizer: Optimizer;
  readonly updater: Updater | null;
  private current: number;
  private lossGrad: Tensor | null = null;

  constructor(options: TrainerOptions) {
    const opts = checkOptions<TrainerOptions>(options, ['model', 'optimizer', 'updater', 'step']);
    if (!(opts.model instanceof Sequential)) fail('E_ARG', `model: expected a Sequential model, got ${describe(opts.model)}`);
    if (!(opts.optimizer instanceof Optimizer)) fail('E_ARG', `optimizer: expected an SGD or Adam optimizer, got ${describe(opts.optimizer)}`);
    this.model = opts.model;
    this.optimizer = opts.optimizer;
    this.updater = opts.updater ?? null;
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

  /** One training step on a feature-major batch `x` ([inFeatures, batch]) with one label per column. */
  step(x: Tensor, labels: Labels): StepResult {
    const step = this.current;
    this.lossGrad?.dispose();
    this.lossGrad = null;
    const logits = this.model.forward(x);
    const { loss, grad } = softmaxCrossEntropy(logits, labels);
    this.lossGrad = grad; // the last layer keeps it as its captured dy until the next step
    this.model.backward(grad);
    const params = this.model.parameters();
    this.optimizer.step(
      params.map((p) => {
        if (p.grad === null) fail('E_ARG', `Trainer: parameter '${p.name}' has no gradient`);
        return { value: p.value, grad: p.grad, key: p.key };
      })
    );
    const result: StepResult = { step, loss };
    if (this.updater) {
      this.updater.observe(step);
      if (this.updater.isUpdateStep(step)) result.update = this.updater.update(step);
    }
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
