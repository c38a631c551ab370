/** Topology updates of CSR patterns: the structural half of a drop-and-grow step. */
import { CsrMatrix, NativeCsrParts, NativeCsr } from './csr';
import { describe, fail } from './errors';
import { nativeFunctions, NativeTensor } from './native';
import { checkTensor, Tensor, wrap } from './tensor';
import { checkInteger, checkSeed, isInt32Array } from './validate';

interface TopologyNative {
  topologyRebuild(pattern: NativeCsr, drop: Int32Array, growRows: Int32Array, growCols: Int32Array): NativeCsrParts & { map: NativeTensor; regrown: number };
  gatherByMap(src: NativeTensor, map: NativeTensor): NativeTensor;
  randomGrowth(pattern: NativeCsr, k: number, seed: number | bigint, nonce: number | bigint): { rows: Int32Array; cols: Int32Array };
}

const addon = nativeFunctions<TopologyNative>();

/** The result of {@link rebuildTopology}. */
export interface TopologyChange {
  /** The new matrix: kept entries with their values, regrown entries with their old values, new entries at zero. */
  matrix: CsrMatrix;
  /**
   * int32, one per entry of `matrix`: the value index in the old matrix of new
   * entry i when that position was stored before (kept or regrown), else -1.
   * Optimizer state is carried across the change through this map.
   */
  map: Tensor<'int32'>;
  /** How many grown positions had been stored before (dropped and grown again). */
  regrown: number;
}

/**
 * Builds the pattern (kept entries) ∪ (grown positions) of a drop-and-grow update.
 *
 * - `drop`: value indices of `pattern` to drop, unique, in any order.
 * - `growRows` / `growCols`: positions to activate, unique, none of them kept;
 *   a dropped position may be grown again ("regrown"): it keeps its old value
 *   and optimizer state, as in the RigL reference implementation.
 *
 * The old matrix is left untouched (the caller disposes it). Invalid lists throw
 * E_ARG naming the first offending index or position, on every device.
 *
 * On CUDA the pattern, values and map stay on the device: the lists (host
 * arrays, as the selections return them) are checked, sorted and uploaded, and
 * the merge runs on the device. The result is the CPU's, integer for integer.
 */
export function rebuildTopology(pattern: CsrMatrix, drop: Int32Array, growRows: Int32Array, growCols: Int32Array): TopologyChange {
  if (!(pattern instanceof CsrMatrix)) fail('E_ARG', `pattern: expected a CsrMatrix, got ${describe(pattern)}`);
  for (const [value, name] of [[drop, 'drop'], [growRows, 'growRows'], [growCols, 'growCols']] as const)
    if (!isInt32Array(value)) fail('E_ARG', `${name}: expected an Int32Array, got ${describe(value)}`);
  if (growRows.length !== growCols.length)
    fail('E_SHAPE', `growCols: expected ${growRows.length} columns (one per grown row), got ${growCols.length}`);
  const parts = addon.topologyRebuild(pattern._native('pattern'), drop, growRows, growCols);
  const matrix = CsrMatrix._fromParts(parts, pattern.rows, pattern.cols, pattern.device);
  return { matrix, map: wrap(parts.map, [parts.nnz], pattern.device, 'int32'), regrown: parts.regrown };
}

/** `out[i] = src[map[i]]`, or 0 where `map[i] = -1`: carries per-entry data (values, optimizer state) through a source map. */
export function gatherByMap(src: Tensor, map: Tensor<'int32'>): Tensor {
  const s = checkTensor(src, 'src');
  const m = checkTensor(map, 'map');
  if (s.dtype !== 'float32') fail('E_ARG', `src: expected a float32 tensor, got ${s.dtype}`);
  if (m.dtype !== 'int32') fail('E_ARG', `map: expected an int32 tensor, got ${m.dtype}`);
  if (m.device !== s.device) fail('E_DEVICE', `map: expected a tensor on ${s.device}, got ${m.device}`);
  return wrap(addon.gatherByMap(s._native, m._native), [m.size], s.device);
}

/**
 * SET's random growth: `k` distinct positions drawn uniformly at random among the
 * positions NOT stored in `pattern`, returned in increasing flat order
 * (`row * cols + col`). The draw is a pure function of (`seed`, `nonce`): give
 * each (layer, update) its own nonce, e.g. `layerIndex * 2 ** 32 + step`.
 * Never allocates rows x cols. E_ARG when k exceeds rows * cols - nnz. The same
 * positions on every device: on CUDA the ranks are drawn on the host (the
 * sampling is sequential, O(k)) and mapped to positions on the device, where
 * the pattern is; the positions come back as host arrays.
 */
export function randomGrowth(pattern: CsrMatrix, k: number, seed: number | bigint, nonce: number | bigint): { rows: Int32Array; cols: Int32Array } {
  if (!(pattern instanceof CsrMatrix)) fail('E_ARG', `pattern: expected a CsrMatrix, got ${describe(pattern)}`);
  const n = checkInteger(k, 'k', 0, 2 ** 31 - 1);
  if (n > pattern.rows * pattern.cols - pattern.nnz)
    fail('E_ARG', `k: expected at most rows * cols - nnz = ${pattern.rows * pattern.cols - pattern.nnz} free positions, got ${n}`);
  return addon.randomGrowth(pattern._native('pattern'), n, checkSeed(seed), checkSeed(nonce, 'nonce'));
}
