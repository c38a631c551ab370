/**
 * Tensor argument checks shared by the kernel modules (elementwise, optim):
 * dtype, device and shape agreement, with messages that name the argument.
 * @internal
 */
import { describe, fail } from './errors';
import { Tensor, checkTensor, tensor } from './tensor';

/** @internal A live float32 tensor (E_ARG for another dtype, E_DISPOSED when disposed). */
export function checkFloatTensor(value: unknown, name: string): Tensor<'float32'> {
  const t = checkTensor(value, name);
  if (t.dtype !== 'float32') fail('E_ARG', `${name}: expected a float32 tensor, got ${t.dtype}`);
  return t as Tensor<'float32'>;
}

/** @internal E_DEVICE unless `t` is on the device of `ref`. */
export function checkSameDevice(t: Tensor<'float32' | 'int32'>, name: string, ref: Tensor<'float32' | 'int32'>, refName: string): void {
  if (t.device !== ref.device)
    fail('E_DEVICE', `${name}: expected a tensor on '${ref.device}' (the device of ${refName}), got one on '${t.device}'`);
}

/** @internal E_SHAPE unless `t` has exactly the shape of `ref`. */
export function checkSameShape(t: Tensor<'float32' | 'int32'>, name: string, ref: Tensor<'float32' | 'int32'>, refName: string): void {
  if (t.shape.length !== ref.shape.length || t.shape.some((d, i) => d !== ref.shape[i]))
    fail('E_SHAPE', `${name}: expected the shape of ${refName} [${ref.shape.join(', ')}], got [${t.shape.join(', ')}]`);
}

/** @internal E_SHAPE unless `t` is 2-D; `layout` describes the expected dimensions. */
export function checkMatrix(t: Tensor<'float32' | 'int32'>, name: string, layout: string): void {
  if (t.shape.length !== 2) fail('E_SHAPE', `${name}: expected a 2-D tensor ${layout}, got shape [${t.shape.join(', ')}]`);
}

/**
 * @internal An int32 index vector given as an Int32Array or an int32 Tensor, as
 * a tensor on `device` of `length` entries (when given). A typed array is
 * uploaded to a temporary tensor; `temporary` says whether the caller must
 * dispose it.
 */
export function int32Tensor(
  value: unknown,
  name: string,
  device: Tensor['device'],
  length?: number,
): { tensor: Tensor<'int32'>; temporary: boolean } {
  let result: { tensor: Tensor<'int32'>; temporary: boolean };
  if (value instanceof Int32Array) {
    if (length !== undefined && value.length !== length)
      fail('E_SHAPE', `${name}: expected ${length} entries, got ${value.length}`);
    result = { tensor: tensor(value, [value.length], { device }), temporary: true };
  } else if (value instanceof Tensor) {
    const t = checkTensor(value, name);
    if (t.dtype !== 'int32') fail('E_ARG', `${name}: expected an int32 tensor, got ${t.dtype}`);
    if (t.device !== device) fail('E_DEVICE', `${name}: expected a tensor on '${device}', got one on '${t.device}'`);
    if (t.shape.length !== 1) fail('E_SHAPE', `${name}: expected a 1-D tensor, got shape [${t.shape.join(', ')}]`);
    if (length !== undefined && t.size !== length) fail('E_SHAPE', `${name}: expected ${length} entries, got ${t.size}`);
    result = { tensor: t as Tensor<'int32'>, temporary: false };
  } else {
    fail('E_ARG', `${name}: expected an Int32Array or an int32 Tensor, got ${describe(value)}`);
  }
  return result;
}
