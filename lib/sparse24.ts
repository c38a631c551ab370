/** 2:4 structured sparse matrices: at most 2 stored values in every 4 consecutive columns of a row. */
import { Device } from './device';
import { fail } from './errors';
import { nativeFunctions, NativeTensor } from './native';
import { checkTensor, Tensor, wrap } from './tensor';
import { lockFields } from './validate';

/** @internal The parts of a 2:4 matrix as the native functions take them. */
export interface NativeSparse24 {
  values: NativeTensor;
  meta: NativeTensor;
  rows: number;
  cols: number;
}

/** @internal A CUDA matrix's tensor-core copy: bf16 value pairs and mma.sp metadata words (int32 storage). */
export interface NativeSparse24Mma {
  values: NativeTensor;
  meta: NativeTensor;
}

interface Sparse24Native {
  sparse24FromDense(dense: NativeTensor): { values: NativeTensor; meta: NativeTensor };
  sparse24MmaPack(m: NativeSparse24): NativeSparse24Mma & { valueWords: number; metaWords: number };
  sparse24ToDense(m: NativeSparse24): NativeTensor;
  sparse24Mask(m: NativeSparse24): NativeTensor;
}

const addon = nativeFunctions<Sparse24Native>();
const token = Symbol('Sparse24Matrix');

/**
 * A [rows, cols] matrix with 2:4 structured sparsity (cols divisible by 4):
 * every group of 4 consecutive columns in a row stores exactly 2 entries
 * (possibly zero-valued).
 *
 * Storage (CPU layout): `values` is [rows, cols / 2] float32, group g's two
 * entries at values[r, 2g] and values[r, 2g + 1] in ascending column; the
 * metadata `meta` is [rows, ceil(cols / 32)] int32, group g's positions
 * p0 < p1 (0..3 within the group) packed as the nibble `p0 | p1 << 2` at bits
 * 4 * (g % 8) of word g / 8 (unused nibbles 0). The fp32 products use this
 * layout on both backends.
 *
 * On CUDA, the first `spmm(a, b, { precision: 'bf16' })` also gives the matrix a
 * tensor-core copy: its values in bf16 and its metadata regrouped for the PTX
 * `mma.sp` instruction (tiles of 16 rows x 32 columns, padded to 16 rows and 64
 * columns), about half the size of `values`. It is kept until `dispose()`,
 * counted by `memory()`, and its values are re-rounded from `values` at every
 * bf16 product, so in-place updates of `values` are always seen.
 */
export class Sparse24Matrix {
  readonly rows: number;
  readonly cols: number;
  readonly device: Device;
  /** The stored values, [rows, cols / 2]; optimizers may update them in place. */
  readonly values: Tensor;
  /** @internal The packed positions, [rows, ceil(cols / 32)] int32. */
  readonly _meta: Tensor<'int32'>;
  /** @internal The tensor-core copy (CUDA, made by the first bf16 product). */
  private mma: { values: Tensor<'int32'>; meta: Tensor<'int32'> } | null = null;

  /** @internal Use {@link Sparse24Matrix.fromDense}. */
  constructor(key: symbol, rows: number, cols: number, values: Tensor, meta: Tensor<'int32'>) {
    if (key !== token) fail('E_ARG', 'Sparse24Matrix: use Sparse24Matrix.fromDense');
    this.rows = rows;
    this.cols = cols;
    this.device = values.device;
    this.values = values;
    this._meta = meta;
    lockFields(this, ['rows', 'cols', 'device', 'values', '_meta']);
  }

  /** Number of stored entries: rows * cols / 2. */
  get nnz(): number {
    return (this.rows * this.cols) / 2;
  }

  /**
   * Keeps the 2 entries of largest |w| in every group of 4 consecutive columns
   * of each row. Ranking: NaN above every number (a NaN weight is kept, never
   * silently pruned, as in {@link CsrMatrix.fromDense}), then larger |w|; ties
   * (including +0 / -0) keep the lower column. `cols % 4 != 0` is E_SHAPE.
   */
  static fromDense(dense: Tensor): Sparse24Matrix {
    const t = checkTensor(dense, 'dense');
    if (t.dtype !== 'float32') fail('E_ARG', `dense: expected a float32 tensor, got ${t.dtype}`);
    if (t.shape.length !== 2) fail('E_SHAPE', `dense: expected a 2-D tensor, got shape [${t.shape.join(', ')}]`);
    const [rows, cols] = t.shape;
    if (cols % 4 !== 0) fail('E_SHAPE', `dense: 2:4 sparsity needs a column count divisible by 4, got shape [${rows}, ${cols}]`);
    const parts = addon.sparse24FromDense(t._native);
    return new Sparse24Matrix(
      token,
      rows,
      cols,
      wrap(parts.values, [rows, cols / 2], t.device),
      wrap(parts.meta, [rows, Math.ceil(cols / 32)], t.device, 'int32')
    );
  }

  /** @internal The native view of this matrix (checks it is not disposed). */
  _native(name = 'matrix'): NativeSparse24 {
    if (this.disposed) fail('E_DISPOSED', `${name}: the Sparse24Matrix has been disposed`);
    return { values: this.values._native, meta: this._meta._native, rows: this.rows, cols: this.cols };
  }

  /** @internal The tensor-core copy, made on first use (CUDA only: E_DEVICE on cpu). */
  _mmaCopy(name = 'a'): NativeSparse24Mma {
    const parts = this._native(name);
    if (this.device !== 'cuda') fail('E_DEVICE', `${name}: precision 'bf16' runs on cuda only, the Sparse24Matrix is on '${this.device}'`);
    if (this.mma === null) {
      const p = addon.sparse24MmaPack(parts);
      this.mma = { values: wrap(p.values, [p.valueWords], this.device, 'int32'), meta: wrap(p.meta, [p.metaWords], this.device, 'int32') };
    }
    return { values: this.mma.values._native, meta: this.mma.meta._native };
  }

  /** Whether the matrix has been disposed. */
  get disposed(): boolean {
    return this.values.disposed || this._meta.disposed;
  }

  /** The packed position metadata (layout in the class comment), copied to the host. */
  metadata(): Int32Array {
    this._native();
    return this._meta.toArray();
  }

  /** A dense [rows, cols] tensor: the stored values at their positions, zeros elsewhere. */
  toDense(): Tensor {
    return wrap(addon.sparse24ToDense(this._native()), [this.rows, this.cols], this.device);
  }

  /** A dense [rows, cols] float32 tensor: 1 at stored positions, 0 elsewhere. */
  mask(): Tensor {
    return wrap(addon.sparse24Mask(this._native()), [this.rows, this.cols], this.device);
  }

  /** Frees both buffers now; calling it again does nothing. */
  dispose(): void {
    this.values.dispose();
    this._meta.dispose();
    this.mma?.values.dispose();
    this.mma?.meta.dispose();
    this.mma = null;
  }

  /** Lets `using m = Sparse24Matrix.fromDense(...)` dispose at the end of the scope. */
  [Symbol.dispose](): void {
    this.dispose();
  }

  /** A short description, e.g. `Sparse24Matrix([256, 512], cpu)`. */
  toString(): string {
    return `Sparse24Matrix([${this.rows}, ${this.cols}], ${this.device}${this.disposed ? ', disposed' : ''})`;
  }
}
