/**
 * What growing layers share: the maps that tell an optimizer where each
 * stored value of a grown layer came from, and the argument checks of the
 * layers' `growOutputs` / `growInputs` methods.
 */
import { describe, fail } from '../errors';
import { checkInteger, isFloat32Array } from '../validate';

/**
 * How a layer's stored values moved when it grew. Entry `i` of the grown
 * tensor is entry `map[i]` of the old one, or new when `map[i]` is -1: exactly
 * what {@link Optimizer.remapState} takes, so the optimizer keeps the state of
 * every old value and starts the new ones at zero.
 */
export interface GrowthMaps {
  /** For the weight (a dense weight's elements in row-major order, or a sparse weight's `values`). */
  readonly weight: Int32Array;
  /** For the bias, or null when the layer has none. */
  readonly bias: Int32Array | null;
}

/** @internal The map of `old` kept entries followed by `added` new ones. */
export function appendMap(old: number, added: number): Int32Array {
  const map = new Int32Array(old + added).fill(-1);
  for (let i = 0; i < old; i++) map[i] = i;
  return map;
}

/** @internal Checks the number of units to add (at least 1, and the grown size still fits `limit`). */
export function checkGrowCount(k: unknown, current: number, limit: number, name = 'k'): number {
  return checkInteger(k, name, 1, Math.max(1, limit - current));
}

/**
 * @internal Checks that a grown weight still has fewer than 2^31 entries: the
 * optimizer's remap maps and CSR offsets index it with int32.
 */
export function checkGrownEntries(entries: number, name: string): void {
  if (entries > 2 ** 31 - 1) fail('E_ARG', `${name}: the grown weight would have ${entries} entries, more than int32 indices allow (2^31 - 1)`);
}

/** @internal Checks optional new values: a Float32Array of exactly `count` values, or undefined (zeros). */
export function checkGrowValues(values: unknown, count: number, name: string, layout: string): Float32Array | null {
  if (values === undefined) return null;
  if (!isFloat32Array(values)) fail('E_ARG', `${name}: expected a Float32Array (${layout}) or undefined, got ${describe(values)}`);
  if (values.length !== count) fail('E_SHAPE', `${name}: expected ${count} values (${layout}), got ${values.length}`);
  return values;
}
