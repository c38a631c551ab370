/** The ReLU activation as a layer. */
import { relu, reluBackward } from '../elementwise';
import { describe, fail } from '../errors';
import { Tensor } from '../tensor';
import { Layer, Parameter } from './layer';

/** `max(x, 0)` elementwise; backward passes dy where x > 0. No parameters. */
export class ReLU implements Layer {
  private x: Tensor | null = null;

  /** Computes relu(x); keeps x for the backward pass. */
  forward(x: Tensor): Tensor {
    if (!(x instanceof Tensor)) fail('E_ARG', `x: expected a Tensor, got ${describe(x)}`);
    this.x = x;
    return relu(x);
  }

  /** dy where the forward input was > 0, else 0 (null when `needInputGrad` is false). */
  backward(dy: Tensor, needInputGrad = true): Tensor | null {
    if (this.x === null || this.x.disposed) fail('E_ARG', 'ReLU.backward: call forward first (its input is gone)');
    return needInputGrad ? reluBackward(dy, this.x) : null;
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

  /** 'ReLU()'. */
  toString(): string {
    return 'ReLU()';
  }
}
