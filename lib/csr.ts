/** CSR sparse matrices: the storage of sparse layers' weights. */
import { Device, resolveDevice } from './device';
import { describe, fail } from './errors';
import { nativeFunctions, NativeTensor } from './native';
import { checkTensor, Tensor, wrap } from './tensor';
import { checkFinite, checkInteger, checkOptions, checkSeed, isFloat32Array, isInt32Array, lockFields } from './validate';

/** @internal The parts of a CSR matrix as the native functions take them. */
export interface NativeCsr {
  rowPtr: NativeTensor;
  colIdx: NativeTensor;
  values: NativeTensor;
  rows: number;
  cols: number;
}

/** @internal Fresh native parts of a CSR matrix. */
export interface NativeCsrParts {
  rowPtr: NativeTensor;
  colIdx: NativeTensor;
  values: NativeTensor;
  nnz: number;
}

interface CsrNative {
  csrFromArrays(rows: number, cols: number, rowPtr: Int32Array, colIdx: Int32Array, values: Float32Array, device: string): NativeCsrParts;
  csrFromDense(dense: NativeTensor, mask: NativeTensor | null, threshold: number): NativeCsrParts;
  csrToDense(m: NativeCsr): NativeTensor;
  csrRandom(rows: number, cols: number, mode: 'perRow' | 'total', count: number, seed: number | bigint, init: string, device: string): NativeCsrParts;
  csrTranspose(m: NativeCsr, withValues: boolean): NativeCsrTransposed;
  gatherValues(source: NativeTensor, perm: NativeTensor, out: NativeTensor | null): NativeTensor;
  spmmRowOrder(rowPtr: NativeTensor, rows: number): NativeTensor;
}

interface NativeCsrTransposed {
  rowPtr: NativeTensor;
  colIdx: NativeTensor;
  values: NativeTensor | null;
  perm: NativeTensor;
  nnz: number;
}

/** @internal A CSR matrix's transposed structure as the native spmm takes it (rowIdx: original rows). */
export interface NativeTransposedStructure {
  rowPtr: NativeTensor;
  rowIdx: NativeTensor;
  perm: NativeTensor;
}

/** The result of {@link CsrMatrix.transpose}. */
export interface CsrTransposed {
  /** The [cols, rows] transpose, with its own copy of the values. */
  matrix: CsrMatrix;
  /**
   * nnz int32 indices: stored entry e of `matrix` is stored entry perm[e] of the
   * original. When only the original's values change (an optimizer step), refresh
   * the transpose in O(nnz) with `gatherValues(original.values, perm, { out: matrix.values })`.
   */
  perm: Tensor<'int32'>;
}

const addon = nativeFunctions<CsrNative>();

/** The arrays of a CSR matrix, as a user hands them in. */
export interface CsrArrays {
  rows: number;
  cols: number;
  /** rows + 1 offsets, starting at 0, non-decreasing, ending at nnz. */
  rowPtr: Int32Array | ArrayLike<number>;
  /** nnz column indices, sorted and unique within each row. */
  colIdx: Int32Array | ArrayLike<number>;
  /** nnz values. */
  values: Float32Array | ArrayLike<number>;
}

/** How {@link CsrMatrix.random} initializes values. */
export type CsrInit = 'zeros' | 'sparse-kaiming' | 'dense-kaiming';

/** Options of {@link CsrMatrix.random}: give exactly one of `density` and `nnzPerRow`. */
export interface CsrRandomOptions {
  /** Fraction of stored entries; exactly round(density * rows * cols) are placed uniformly at random. */
  density?: number;
  /** Exactly this many entries in every row, placed uniformly at random. */
  nnzPerRow?: number;
  seed?: number | bigint;
  /**
   * 'sparse-kaiming' (default): normal with variance 2 / (the row's own nnz), the
   * sparse initialization of Evci et al. (gradient flow in sparse networks);
   * 'dense-kaiming': variance 2 / cols; 'zeros'.
   */
  init?: CsrInit;
  device?: Device;
}

/** Options of {@link CsrMatrix.fromDense}. */
export interface CsrFromDenseOptions {
  /** Keep exactly the positions where the mask (same shape, float32) is non-zero, zeros included. */
  mask?: Tensor;
  /** Without a mask: keep entries with |v| > threshold (default 0: the non-zeros); NaN is always kept. */
  threshold?: number;
}

const token = Symbol('CsrMatrix');

/**
 * A sparse matrix in CSR form on a device. Its structure (rowPtr, colIdx) never
 * changes after creation; its values are a float32 Tensor of nnz that optimizers
 * update in place. Dispose it (or use `using`) to free its three buffers.
 */
export class CsrMatrix {
  readonly rows: number;
  readonly cols: number;
  readonly nnz: number;
  readonly device: Device;
  /** The nnz stored values, in row-major order of their positions. */
  readonly values: Tensor;
  /** @internal */
  readonly _rowPtr: Tensor<'int32'>;
  /** @internal */
  readonly _colIdx: Tensor<'int32'>;
  /** @internal The transposed structure, built on the first transposed product and kept (the structure never changes). */
  private _transposedCache: { rowPtr: Tensor<'int32'>; rowIdx: Tensor<'int32'>; perm: Tensor<'int32'> } | null = null;
  /** @internal The CUDA products' row orders (plain and transposed), built on first use and kept likewise. */
  private _rowOrderCache: { plain: Tensor<'int32'> | null; transposed: Tensor<'int32'> | null } = { plain: null, transposed: null };

  /** @internal Use the static factories. */
  constructor(key: symbol, rows: number, cols: number, rowPtr: Tensor<'int32'>, colIdx: Tensor<'int32'>, values: Tensor) {
    if (key !== token) fail('E_ARG', 'CsrMatrix: use CsrMatrix.fromArrays, fromDense or random');
    this.rows = rows;
    this.cols = cols;
    this.nnz = colIdx.size;
    this.device = values.device;
    this._rowPtr = rowPtr;
    this._colIdx = colIdx;
    this.values = values;
    lockFields(this, ['rows', 'cols', 'nnz', 'device', 'values', '_rowPtr', '_colIdx']);
  }

  /** @internal Wraps native parts. */
  static _fromParts(parts: NativeCsrParts, rows: number, cols: number, device: Device): CsrMatrix {
    return new CsrMatrix(
      token,
      rows,
      cols,
      wrap(parts.rowPtr, [rows + 1], device, 'int32'),
      wrap(parts.colIdx, [parts.nnz], device, 'int32'),
      wrap(parts.values, [parts.nnz], device, 'float32')
    );
  }

  /** @internal The native view of this matrix (checks it is not disposed). */
  _native(name = 'matrix'): NativeCsr {
    if (this.disposed) fail('E_DISPOSED', `${name}: the CsrMatrix has been disposed`);
    return { rowPtr: this._rowPtr._native, colIdx: this._colIdx._native, values: this.values._native, rows: this.rows, cols: this.cols };
  }

  /**
   * A matrix from user arrays, validated in full before any kernel sees it:
   * rowPtr has rows + 1 entries, starts at 0, never decreases and ends at nnz;
   * column indices are in [0, cols), sorted and unique within each row.
   * A violation throws E_FORMAT naming the first offending row.
   */
  static fromArrays(arrays: CsrArrays, options?: { device?: Device }): CsrMatrix {
    const opts = checkOptions<{ device?: Device }>(options, ['device']);
    if (arrays === null || typeof arrays !== 'object') fail('E_ARG', `arrays: expected { rows, cols, rowPtr, colIdx, values }, got ${describe(arrays)}`);
    const rows = checkInteger(arrays.rows, 'rows', 0, 2 ** 31 - 2);
    const cols = checkInteger(arrays.cols, 'cols', 0, 2 ** 31 - 1);
    const rowPtr = toInt32(arrays.rowPtr, 'rowPtr');
    const colIdx = toInt32(arrays.colIdx, 'colIdx');
    const values = toFloat32(arrays.values, 'values');
    const device = resolveDevice(opts.device);
    const parts = addon.csrFromArrays(rows, cols, rowPtr, colIdx, values, device);
    return CsrMatrix._fromParts(parts, rows, cols, device);
  }

  /** The entries of a 2-D tensor that are non-zero (or above a threshold, or selected by a mask). */
  static fromDense(dense: Tensor, options?: CsrFromDenseOptions): CsrMatrix {
    const opts = checkOptions<CsrFromDenseOptions>(options, ['mask', 'threshold']);
    const t = checkTensor(dense, 'dense');
    if (t.shape.length !== 2) fail('E_SHAPE', `dense: expected a 2-D tensor, got shape [${t.shape.join(', ')}]`);
    const mask = opts.mask === undefined ? null : checkTensor(opts.mask, 'mask');
    if (mask && opts.threshold !== undefined) fail('E_ARG', 'options: give either mask or threshold, not both');
    const threshold = checkFinite(opts.threshold ?? 0, 'threshold');
    if (threshold < 0) fail('E_ARG', `threshold: expected a non-negative number, got ${threshold}`);
    const parts = addon.csrFromDense(t._native, mask ? mask._native : null, threshold);
    return CsrMatrix._fromParts(parts, t.shape[0], t.shape[1], t.device);
  }

  /** A random sparsity pattern with random (or zero) values; same seed, same matrix. */
  static random(rows: number, cols: number, options: CsrRandomOptions): CsrMatrix {
    const opts = checkOptions<CsrRandomOptions>(options, ['density', 'nnzPerRow', 'seed', 'init', 'device']);
    checkInteger(rows, 'rows', 0, 2 ** 31 - 2);
    checkInteger(cols, 'cols', 0, 2 ** 31 - 1);
    if ((opts.density === undefined) === (opts.nnzPerRow === undefined)) fail('E_ARG', 'options: give exactly one of density and nnzPerRow');
    let mode: 'perRow' | 'total';
    let count: number;
    if (opts.density !== undefined) {
      const density = checkFinite(opts.density, 'density');
      if (density < 0 || density > 1) fail('E_ARG', `density: expected a number in [0, 1], got ${density}`);
      mode = 'total';
      count = Math.round(density * rows * cols);
    } else {
      mode = 'perRow';
      count = checkInteger(opts.nnzPerRow, 'nnzPerRow', 0, cols);
    }
    const init = opts.init ?? 'sparse-kaiming';
    if (init !== 'zeros' && init !== 'sparse-kaiming' && init !== 'dense-kaiming')
      fail('E_ARG', `init: expected 'zeros', 'sparse-kaiming' or 'dense-kaiming', got ${describe(init)}`);
    const seed = checkSeed(opts.seed ?? 0);
    const device = resolveDevice(opts.device);
    return CsrMatrix._fromParts(addon.csrRandom(rows, cols, mode, count, seed, init, device), rows, cols, device);
  }

  /** Whether the matrix has been disposed. */
  get disposed(): boolean {
    return this.values.disposed || this._rowPtr.disposed || this._colIdx.disposed;
  }

  /** The row offsets (rows + 1), copied to the host. */
  rowPtr(): Int32Array {
    this._native();
    return this._rowPtr.toArray();
  }

  /** The column indices (nnz), copied to the host. */
  colIdx(): Int32Array {
    this._native();
    return this._colIdx.toArray();
  }

  /**
   * A copy of this matrix on the same device: the same structure and values in
   * new buffers, copied on the device (no trip through the host, no validation
   * pass). Changing one matrix's values, or disposing it, leaves the other as it
   * is. A DQN target network copies its sparse online network this way.
   */
  clone(): CsrMatrix {
    this._native();
    let rowPtr: Tensor<'int32'> | null = null;
    let colIdx: Tensor<'int32'> | null = null;
    try {
      rowPtr = this._rowPtr.clone();
      colIdx = this._colIdx.clone();
      return new CsrMatrix(token, this.rows, this.cols, rowPtr, colIdx, this.values.clone());
    } catch (error) {
      // E_OOM part way: free what was copied, leave this matrix as it was.
      rowPtr?.dispose();
      colIdx?.dispose();
      throw error;
    }
  }

  /** A dense [rows, cols] tensor with zeros where nothing is stored. */
  toDense(): Tensor {
    const m = this._native();
    return wrap(addon.csrToDense(m), [this.rows, this.cols], this.device);
  }

  /**
   * The [cols, rows] transpose and the permutation that maps its entries to this
   * matrix's (see {@link CsrTransposed}). O(rows + cols + nnz), a stable counting
   * sort: the transposed rows' columns come out sorted.
   */
  transpose(): CsrTransposed {
    const m = this._native();
    const parts = addon.csrTranspose(m, true);
    const matrix = CsrMatrix._fromParts({ rowPtr: parts.rowPtr, colIdx: parts.colIdx, values: parts.values!, nnz: parts.nnz }, this.cols, this.rows, this.device);
    return { matrix, perm: wrap(parts.perm, [parts.nnz], this.device, 'int32') };
  }

  /**
   * @internal The transposed structure that `spmm(a, b, { transA: true })` runs
   * on, reading this matrix's values through perm (so value updates need no
   * refresh). Built once, O(nnz), and kept until dispose(): (cols + 1 + 2 nnz)
   * int32 of memory.
   */
  _transposedStructure(name = 'matrix'): NativeTransposedStructure {
    const m = this._native(name);
    if (this._transposedCache === null) {
      const parts = addon.csrTranspose(m, false);
      this._transposedCache = {
        rowPtr: wrap(parts.rowPtr, [this.cols + 1], this.device, 'int32'),
        rowIdx: wrap(parts.colIdx, [parts.nnz], this.device, 'int32'),
        perm: wrap(parts.perm, [parts.nnz], this.device, 'int32'),
      };
    }
    const c = this._transposedCache;
    return { rowPtr: c.rowPtr._native, rowIdx: c.rowIdx._native, perm: c.perm._native };
  }

  /**
   * @internal The row order (longest rows first) in which the CUDA product walks
   * this matrix's rows (transposed: the transposed structure's), built on the
   * first product by three small kernels and kept until dispose(), so later
   * products skip them: rows (or cols) int32 of device memory. Null on the CPU,
   * whose product needs none.
   */
  _rowOrder(transposed: boolean, name = 'matrix'): NativeTensor | null {
    if (this.device !== 'cuda') return null;
    const key = transposed ? 'transposed' : 'plain';
    let order = this._rowOrderCache[key];
    if (order === null) {
      const rowPtr = transposed ? this._transposedStructure(name).rowPtr : this._native(name).rowPtr;
      const rows = transposed ? this.cols : this.rows;
      order = wrap(addon.spmmRowOrder(rowPtr, rows), [rows], this.device, 'int32');
      this._rowOrderCache[key] = order;
    }
    return order._native;
  }

  /** Frees the buffers now (with the cached transposed structure and row orders, if any); calling it again does nothing. */
  dispose(): void {
    this.values.dispose();
    this._rowPtr.dispose();
    this._colIdx.dispose();
    for (const order of [this._rowOrderCache.plain, this._rowOrderCache.transposed]) order?.dispose();
    this._rowOrderCache = { plain: null, transposed: null };
    if (this._transposedCache !== null) {
      this._transposedCache.rowPtr.dispose();
      this._transposedCache.rowIdx.dispose();
      this._transposedCache.perm.dispose();
      this._transposedCache = null;
    }
  }

  /** Lets `using m = CsrMatrix.random(...)` dispose at the end of the scope. */
  [Symbol.dispose](): void {
    this.dispose();
  }

  /** A short description, e.g. `CsrMatrix([300, 784], nnz 23520, cpu)`. */
  toString(): string {
    return `CsrMatrix([${this.rows}, ${this.cols}], nnz ${this.nnz}, ${this.device}${this.disposed ? ', disposed' : ''})`;
  }
}

/** Options of {@link gatherValues}. */
export interface GatherValuesOptions {
  /** Write into this float32 tensor of perm.size elements instead of a new one. */
  out?: Tensor;
}

/**
 * out[e] = source[perm[e]]: re-gathers a transposed matrix's values in O(nnz)
 * after only the original's values changed (see {@link CsrMatrix.transpose}).
 * Every perm entry must index `source` (else E_ARG naming the entry).
 *
 * @example
 * const { matrix: wt, perm } = w.transpose();
 * // ... an optimizer step updates w.values ...
 * gatherValues(w.values, perm, { out: wt.values });
 */
export function gatherValues(source: Tensor, perm: Tensor<'int32'>, options?: GatherValuesOptions): Tensor {
  const opts = checkOptions<GatherValuesOptions>(options, ['out']);
  const src = checkTensor(source, 'source');
  const p = checkTensor(perm, 'perm');
  if (src.dtype !== 'float32') fail('E_ARG', `source: expected a float32 tensor, got ${src.dtype}`);
  if (p.dtype !== 'int32') fail('E_ARG', `perm: expected an int32 tensor, got ${p.dtype}`);
  if (opts.out === undefined) return wrap(addon.gatherValues(src._native, p._native, null), [p.size], src.device);
  const out = checkTensor(opts.out, 'out');
  if (out.size !== p.size) fail('E_SHAPE', `out: expected ${p.size} elements (one per perm entry), got shape [${out.shape.join(', ')}]`);
  addon.gatherValues(src._native, p._native, out._native);
  return out as Tensor;
}

/** An array-like's length must be a real array length (an object such as { length: 2 ** 32 } is not). */
function checkArrayLength(value: ArrayLike<unknown>, name: string): void {
  checkInteger(value.length, `${name}.length`, 0, 2 ** 31 - 1);
}

function toInt32(value: unknown, name: string): Int32Array {
  if (isInt32Array(value)) return value;
  if (ArrayBuffer.isView(value) || !(Array.isArray(value) || (typeof value === 'object' && value !== null && 'length' in value)))
    fail('E_ARG', `${name}: expected an Int32Array or an array of integers, got ${describe(value)}`);
  checkArrayLength(value as ArrayLike<unknown>, name);
  const list = Array.from(value as ArrayLike<unknown>);
  list.forEach((v, i) => {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < -(2 ** 31) || v >= 2 ** 31)
      fail('E_ARG', `${name}[${i}]: expected a 32-bit integer, got ${describe(v)}`);
  });
  return Int32Array.from(list as number[]);
}

function toFloat32(value: unknown, name: string): Float32Array {
  if (isFloat32Array(value)) return value;
  if (ArrayBuffer.isView(value) || !(Array.isArray(value) || (typeof value === 'object' && value !== null && 'length' in value)))
    fail('E_ARG', `${name}: expected a Float32Array or an array of numbers, got ${describe(value)}`);
  checkArrayLength(value as ArrayLike<unknown>, name);
  const list = Array.from(value as ArrayLike<unknown>);
  list.forEach((v, i) => {
    if (typeof v !== 'number') fail('E_ARG', `${name}[${i}]: expected a number, got ${describe(v)}`);
  });
  return Float32Array.from(list as number[]);
}
