/** Selection kernels of dynamic sparse training: which positions to grow, which entries to drop. */
import { CsrMatrix, NativeCsr } from './csr';
import { describe, fail } from './errors';
import { nativeFunctions, NativeTensor } from './native';
import { checkTensor, Tensor } from './tensor';
import { checkInteger } from './validate';

/** The positions chosen by {@link topkGrowth}, best first. */
export interface GrowthSelection {
  /** Row of each selected position. */
  rows: Int32Array;
  /** Column of each selected position. */
  cols: Int32Array;
  /** |(dy · xᵀ)[row, col]| of each selected position (non-increasing). */
  scores: Float32Array;
  /**
   * Candidate positions whose product is NaN. They are never selected, so when
   * fewer than k candidates are selectable the arrays are shorter than k.
   */
  nanCount: number;
}

/** The stored entries chosen by {@link bottomkMagnitude}, smallest first. */
export interface DropSelection {
  /** Row of each selected entry. */
  rows: Int32Array;
  /** Column of each selected entry. */
  cols: Int32Array;
  /** Index of each selected entry into the matrix's `values` (CSR order). */
  indices: Int32Array;
  /** |value| of each selected entry (non-decreasing). */
  scores: Float32Array;
  /** Stored entries whose value is NaN: never selected (the arrays are then shorter than k when too few remain). */
  nanCount: number;
}

interface TopkNative {
  topkGrowth(dy: NativeTensor, x: NativeTensor, pattern: NativeCsr, k: number): GrowthSelection;
  topkDense(dense: NativeTensor, pattern: NativeCsr, k: number): GrowthSelection;
  bottomkMagnitude(matrix: NativeCsr, k: number): DropSelection;
}

const addon = nativeFunctions<TopkNative>();

function checkMatrix(value: unknown, name: string): Tensor {
  const t = checkTensor(value, name);
  if (t.dtype !== 'float32') fail('E_ARG', `${name}: expected a float32 tensor, got ${t.dtype}`);
  if (t.shape.length !== 2) fail('E_SHAPE', `${name}: expected a 2-D tensor, got shape [${t.shape.join(', ')}]`);
  return t as Tensor;
}

function checkCsr(value: unknown, name: string): CsrMatrix {
  if (!(value instanceof CsrMatrix)) fail('E_ARG', `${name}: expected a CsrMatrix, got ${describe(value)}`);
  return value;
}

function checkK(value: unknown, available: number, what: string, noun: string): number {
  const k = checkInteger(value, 'k', 0, 2 ** 31 - 1);
  if (k > available) fail('E_ARG', `k: expected at most ${what} = ${available} ${noun}, got ${k}`);
  return k;
}

/**
 * The k positions (i, j) NOT stored in `pattern` with the largest
 * |(dy · xᵀ)[i, j]|: RigL's growth criterion, where dy is the gradient of the
 * layer's output and x its input.
 *
 * - `dy` is `[pattern.rows, batch]` and `x` is `[pattern.cols, batch]`
 *   (feature-major activations), so entry (i, j) is the dot product of row i of
 *   dy and row j of x, summed in float32 in batch order.
 * - The product is computed tile by tile and only candidates are kept: extra
 *   memory is O(threads × (tile + k)), never rows × cols.
 * - Results are ordered by score (|value|) descending; ties go to the lower flat
 *   index `row * cols + col`. The same inputs give the same result on every run.
 * - A NaN product is never selected and is counted in `nanCount`; ±Inf has score
 *   Inf and is selectable. With `k = 0` nothing is computed (`nanCount` is 0).
 *
 * On CUDA the product is computed tile by tile on the device (extra device
 * memory O(k)), with the CPU's roundings: the same selection, bit for bit. The
 * arrays come back to the host either way.
 *
 * Throws E_ARG when k exceeds the number of candidates (rows × cols − nnz),
 * E_SHAPE when the shapes do not fit, E_DEVICE when the inputs are on
 * different devices.
 */
export function topkGrowth(dy: Tensor, x: Tensor, pattern: CsrMatrix, k: number): GrowthSelection {
  const g = checkMatrix(dy, 'dy');
  const a = checkMatrix(x, 'x');
  const p = checkCsr(pattern, 'pattern');
  const native = p._native('pattern');
  if (g.shape[0] !== p.rows) fail('E_SHAPE', `dy: expected ${p.rows} rows (pattern.rows), got shape [${g.shape.join(', ')}]`);
  if (a.shape[0] !== p.cols) fail('E_SHAPE', `x: expected ${p.cols} rows (pattern.cols), got shape [${a.shape.join(', ')}]`);
  if (a.shape[1] !== g.shape[1])
    fail('E_SHAPE', `x: expected batch ${g.shape[1]} (dy's second dimension), got shape [${a.shape.join(', ')}]`);
  if (g.device !== p.device || a.device !== p.device)
    fail('E_DEVICE', `topkGrowth: expected dy, x and pattern on one device, got ${g.device}, ${a.device} and ${p.device}`);
  const n = checkK(k, p.rows * p.cols - p.nnz, 'rows * cols - nnz', 'candidate positions');
  return addon.topkGrowth(g._native, a._native, native, n);
}

/**
 * The k positions (i, j) NOT stored in `pattern` with the largest
 * |dense[i, j]|, for a growth criterion held as a dense `[pattern.rows,
 * pattern.cols]` tensor (SNFS grows by its momentum of the dense gradient).
 * The selection of {@link topkGrowth} over given scores: ordered by |value|
 * descending, ties to the lower flat index, NaN never selected and counted in
 * `nanCount` (with `k = 0` nothing is read and `nanCount` is 0); extra memory
 * O(threads × k) on the CPU, O(k) on CUDA, where the scores stay on the device
 * and only the k positions come back.
 *
 * Throws E_ARG when k exceeds the number of candidates (rows × cols − nnz),
 * E_SHAPE when `dense` is not the pattern's shape, E_DEVICE when they are on
 * different devices.
 */
export function topkDense(dense: Tensor, pattern: CsrMatrix, k: number): GrowthSelection {
  const d = checkMatrix(dense, 'dense');
  const p = checkCsr(pattern, 'pattern');
  const native = p._native('pattern');
  if (d.shape[0] !== p.rows || d.shape[1] !== p.cols)
    fail('E_SHAPE', `dense: expected shape [${p.rows}, ${p.cols}] (the pattern's), got [${d.shape.join(', ')}]`);
  if (d.device !== p.device) fail('E_DEVICE', `topkDense: expected dense and pattern on one device, got ${d.device} and ${p.device}`);
  const n = checkK(k, p.rows * p.cols - p.nnz, 'rows * cols - nnz', 'candidate positions');
  return addon.topkDense(d._native, native, n);
}

/**
 * The k stored entries of `matrix` with the smallest |value|: magnitude
 * pruning's drop criterion. Ordered by |value| ascending, ties by the lower flat
 * index (equivalently the lower index into `values`). NaN values are never
 * selected and are counted in `nanCount` (with `k = 0` nothing is read and
 * `nanCount` is 0).
 *
 * Throws E_ARG when k exceeds nnz.
 */
export function bottomkMagnitude(matrix: CsrMatrix, k: number): DropSelection {
  const m = checkCsr(matrix, 'matrix');
  const native = m._native('matrix');
  const n = checkK(k, m.nnz, 'nnz', 'stored entries');
  return addon.bottomkMagnitude(native, n);
}
