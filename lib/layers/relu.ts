/** The ReLU activation as a layer. */
import { relu, reluBackward } from '../elementwise';
import { describe, fail } from '../errors';
import { Tensor } from '../tensor';
import { checkOptions } from '../validate';
import { Layer, Parameter } from './layer';

/** Options of {@link ReLU}. */
export interface ReLUOptions {
  /**
   * The derivative used at x == 0: 0 (default) or 1. Growing networks with
   * GradMax needs 1: new units start with zero incoming weights, so their
   * input is exactly 0, and with f(0) = 0, f'(0) = 1 the output is unchanged
   * while the new incoming weights still receive gradient (see growNeurons).
   */
  gradAtZero?: 0 | 1;
}

/** `max(x, 0)` elementwise; backward passes dy where x > 0 (x >= 0 with `gradAtZero: 1`). No parameters. */
export class ReLU implements Layer {
  /** The derivative used at x == 0. */
  readonly gradAtZero: 0 | 1;
  private x: Tensor | null = null;

  constructor(options?: ReLUOptions) {
    const opts = checkOptions<ReLUOptions>(options, ['gradAtZero']);
    const atZero = opts.gradAtZero ?? 0;
    if (atZero !== 0 && atZero !== 1) fail('E_ARG', `gradAtZero: expected 0 or 1, got ${describe(atZero)}`);
    this.gradAtZero = atZero;
  }

  /** Computes relu(x); keeps x for the backward pass. */
  forward(x: Tensor): Tensor {
    if (!(x instanceof Tensor)) fail('E_ARG', `x: expected a Tensor, got ${describe(x)}`);
    this.x = x;
    return relu(x);
  }

  /** dy where the forward input was > 0 (>= 0 with `gradAtZero: 1`), else 0 (null when `needInputGrad` is false). */
  backward(dy: Tensor, needInputGrad = true): Tensor | null {
    if (this.x === null || this.x.disposed) fail('E_ARG', 'ReLU.backward: call forward first (its input is gone)');
    if (!needInputGrad) return null;
    return this.gradAtZero === 1 ? reluBackward(dy, this.x, { gradAtZero: 1 }) : reluBackward(dy, this.x);
  }

  /** None. */
  parameters(): Parameter[] {
    return [];
  }

  /** Lets `using` dispose it at the end of the scope. */
  [Symbol.dispose](): void {
    this.dispose();
  }

  /** Nothing to free (the input belongs to the caller). */
  dispose(): void {
    this.x = null;
  }

  /** 'ReLU()', or 'ReLU(gradAtZero 1)'. */
  toString(): string {
    return this.gradAtZero === 1 ? 'ReLU(gradAtZero 1)' : 'ReLU()';
  }
}
