/**
 * Argument checks shared by the TypeScript API. They give friendly messages;
 * the native binding checks again everything that indexes memory.
 * @internal
 */
import { describe, fail } from './errors';

/** @internal */
export function checkInteger(value: unknown, name: string, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `an integer >= ${min}` : `an integer in [${min}, ${max}]`;
    fail('E_ARG', `${name}: expected ${range}, got ${describe(value)}`);
  }
  return value;
}

/** @internal */
export function checkFinite(value: unknown, name: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) fail('E_ARG', `${name}: expected a finite number, got ${describe(value)}`);
  return value;
}

/** @internal A non-negative safe integer or a bigint in [0, 2^64). */
export function checkSeed(value: unknown, name = 'seed'): number | bigint {
  if (typeof value === 'bigint') {
    if (value < 0n || value >= 1n << 64n) fail('E_ARG', `${name}: expected a seed in [0, 2^64), got ${value}n`);
    return value;
  }
  return checkInteger(value, name);
}

/** @internal An array of non-negative integers with at most 8 dimensions. */
export function checkShape(value: unknown, name = 'shape'): number[] {
  if (!Array.isArray(value)) fail('E_ARG', `${name}: expected an array of non-negative integers, got ${describe(value)}`);
  if (value.length > 8) fail('E_ARG', `${name}: at most 8 dimensions, got ${value.length}`);
  value.forEach((d, i) => checkInteger(d, `${name}[${i}]`));
  return value.slice() as number[];
}

/** @internal Number of elements of a shape. */
export function shapeSize(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** @internal Rejects option keys the function does not know (catches typos such as `{ sed: 1 }`). */
export function checkOptions<T extends object>(options: unknown, allowed: readonly string[], name = 'options'): Partial<T> {
  if (options === undefined) return {};
  if (options === null || typeof options !== 'object' || Array.isArray(options))
    fail('E_ARG', `${name}: expected an object, got ${describe(options)}`);
  for (const key of Object.keys(options)) {
    if (!allowed.includes(key)) fail('E_ARG', `${name}: unknown option '${key}' (known: ${allowed.join(', ')})`);
  }
  return options as Partial<T>;
}

/** @internal A Float32Array from any realm (instanceof fails across vm contexts and workers). */
export function isFloat32Array(value: unknown): value is Float32Array {
  return ArrayBuffer.isView(value) && Object.prototype.toString.call(value) === '[object Float32Array]';
}

/** @internal An Int32Array from any realm. */
export function isInt32Array(value: unknown): value is Int32Array {
  return ArrayBuffer.isView(value) && Object.prototype.toString.call(value) === '[object Int32Array]';
}

/**
 * @internal Makes fields of `target` read-only at run time, not only to the
 * type checker: native code trusts them to describe the buffers it indexes
 * (a reassigned `cols` would let a product read past the dense operand), so a
 * plain JavaScript assignment must not change them. An assignment then throws
 * a TypeError in strict code and is ignored elsewhere.
 */
export function lockFields<T extends object>(target: T, keys: readonly (keyof T & string)[]): void {
  for (const key of keys) Object.defineProperty(target, key, { writable: false, configurable: false });
}

/** @internal The largest finite float32: a hyperparameter above it would become an infinity in the kernels. */
export const FLOAT32_MAX = 3.4028234663852886e38;
