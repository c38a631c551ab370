/** Dense tensors: handles to reference-counted device buffers. */
import { Device, resolveDevice, checkDevice } from './device';
import { describe, fail } from './errors';
import { native, NativeTensor } from './native';
import { checkFinite, checkInteger, checkOptions, checkSeed, checkShape, isFloat32Array, isInt32Array, shapeSize } from './validate';

/** Element types. Public math is float32; int32 tensors hold sparse indices. */
export type DType = 'float32' | 'int32';

/** The typed array that holds a dtype's values. */
export type ArrayOf<D extends DType> = D extends 'int32' ? Int32Array : Float32Array;

/** Values a tensor can be made from: flat or nested numbers, or a typed array. */
export type TensorData = Float32Array | Int32Array | ArrayLike<number> | NestedArray;
/** Nested arrays of numbers, e.g. `[[1, 2], [3, 4]]`. */
export interface NestedArray extends ReadonlyArray<number | NestedArray> {}

/** Options of the tensor constructors. */
export interface TensorOptions {
  /** The device to create on (default: {@link defaultDevice}). */
  device?: Device;
}

/**
 * A dense tensor (row-major) on a device. It owns a reference-counted buffer:
 * `dispose()` (or `using`) frees it at once; a handle that is dropped without
 * dispose is freed when garbage collection finalizes it. Views made by
 * `reshape()` share the buffer, which is freed when every handle sharing it is
 * disposed or collected. Using a disposed handle throws E_DISPOSED.
 */
export class Tensor<D extends DType = 'float32'> {
  /** Dimensions, outermost first. */
  readonly shape: readonly number[];
  /** Number of elements. */
  readonly size: number;
  /** Where the buffer lives. */
  readonly device: Device;
  /** Element type. */
  readonly dtype: D;
  /** @internal */
  readonly _native: NativeTensor;

  /** @internal Tensors are made by {@link tensor}, {@link zeros}, {@link randn} and the like. */
  constructor(handle: NativeTensor, shape: readonly number[], device: Device, dtype: D) {
    this._native = handle;
    this.shape = Object.freeze(shape.slice());
    this.size = shapeSize(shape);
    this.device = device;
    this.dtype = dtype;
  }

  /** Whether `dispose()` has been called on this handle. */
  get disposed(): boolean {
    return native.tensorDisposed(this._native);
  }

  /** The values, copied to a new typed array (waits for pending device work). */
  toArray(): ArrayOf<D> {
    return native.tensorToArray(this._native) as ArrayOf<D>;
  }

  /** A copy on `device` (a new tensor even when it is this tensor's device). */
  to(device: Device): Tensor<D> {
    const target = checkDevice(device);
    return new Tensor(native.tensorTo(this._native, target), this.shape, target, this.dtype);
  }

  /** A copy on the same device. */
  clone(): Tensor<D> {
    return this.to(this.device);
  }

  /**
   * A view with another shape and the same elements, sharing the buffer. One
   * dimension may be -1 and is then inferred.
   */
  reshape(...shape: number[] | [number[]]): Tensor<D> {
    this.checkLive();
    const dims = (Array.isArray(shape[0]) ? shape[0] : shape) as number[];
    const inferred = inferShape(dims, this.size);
    if (shapeSize(inferred) !== this.size)
      fail('E_SHAPE', `shape: cannot reshape [${this.shape.join(', ')}] (${this.size} elements) to [${dims.join(', ')}]`);
    return new Tensor(native.tensorReshape(this._native, inferred), inferred, this.device, this.dtype);
  }

  /** The transpose of a 2-D tensor, as a new tensor. */
  transpose(): Tensor<D> {
    this.checkLive();
    if (this.shape.length !== 2) fail('E_SHAPE', `transpose: expected a 2-D tensor, got shape [${this.shape.join(', ')}]`);
    return new Tensor(native.tensorTranspose(this._native), [this.shape[1], this.shape[0]], this.device, this.dtype);
  }

  private checkLive(): void {
    if (this.disposed) fail('E_DISPOSED', 'tensor: the tensor has been disposed');
  }

  /** Frees the buffer now (if no view shares it). Calling it again does nothing. */
  dispose(): void {
    native.tensorDispose(this._native);
  }

  /** Lets `using t = randn(...)` dispose at the end of the scope. */
  [Symbol.dispose](): void {
    this.dispose();
  }

  /** A short description, e.g. `Tensor(float32, [2, 3], cpu)`. */
  toString(): string {
    return `Tensor(${this.dtype}, [${this.shape.join(', ')}], ${this.device}${this.disposed ? ', disposed' : ''})`;
  }
}

function inferShape(dims: number[], size: number): number[] {
  if (!Array.isArray(dims)) fail('E_ARG', `shape: expected integers, got ${describe(dims)}`);
  let unknown = -1;
  dims.forEach((d, i) => {
    if (d === -1) {
      if (unknown >= 0) fail('E_ARG', 'shape: at most one dimension may be -1');
      unknown = i;
    } else {
      checkInteger(d, `shape[${i}]`);
    }
  });
  if (unknown < 0) return checkShape(dims);
  const known = dims.reduce((a, d, i) => (i === unknown ? a : a * d), 1);
  if (known === 0 || size % known !== 0) fail('E_SHAPE', `shape: cannot infer -1 in [${dims.join(', ')}] for ${size} elements`);
  const out = dims.slice();
  out[unknown] = size / known;
  return out;
}

/** @internal Wraps a fresh native handle. */
export function wrap<D extends DType = 'float32'>(handle: NativeTensor, shape: readonly number[], device: Device, dtype: D = 'float32' as D): Tensor<D> {
  return new Tensor(handle, shape, device, dtype);
}

/** @internal Checks that a value is a live Tensor (friendly E_ARG / E_DISPOSED). */
export function checkTensor(value: unknown, name: string): Tensor<DType> {
  if (!(value instanceof Tensor)) fail('E_ARG', `${name}: expected a Tensor, got ${describe(value)}`);
  if (value.disposed) fail('E_DISPOSED', `${name}: the tensor has been disposed`);
  return value;
}

function flatten(data: unknown): { values: number[]; shape: number[] } {
  const shape: number[] = [];
  let level: unknown = data;
  while (Array.isArray(level)) {
    shape.push(level.length);
    if (level.length === 0) break;
    level = level[0];
  }
  const values: number[] = [];
  const walk = (node: unknown, depth: number, path: string): void => {
    if (depth === shape.length) {
      if (typeof node !== 'number') fail('E_ARG', `data${path}: expected a number, got ${describe(node)}`);
      values.push(node);
      return;
    }
    if (!Array.isArray(node) || node.length !== shape[depth])
      fail('E_SHAPE', `data${path}: expected an array of length ${shape[depth]} (the data is not rectangular), got ${describe(node)}`);
    node.forEach((child, i) => walk(child, depth + 1, `${path}[${i}]`));
  };
  walk(data, 0, '');
  return { values, shape };
}

/**
 * A tensor from values: a Float32Array / Int32Array / flat number array with a
 * `shape`, or nested arrays whose nesting gives the shape.
 *
 * @example tensor([[1, 2, 3], [4, 5, 6]]) // shape [2, 3]
 * @example tensor(new Float32Array(6), [3, 2], { device: 'cuda' })
 */
export function tensor(data: Float32Array, shape?: readonly number[], options?: TensorOptions): Tensor<'float32'>;
export function tensor(data: Int32Array, shape?: readonly number[], options?: TensorOptions): Tensor<'int32'>;
export function tensor(data: TensorData, shape?: readonly number[], options?: TensorOptions): Tensor<'float32'>;
export function tensor(data: TensorData, shape?: readonly number[], options?: TensorOptions): Tensor<DType> {
  const opts = checkOptions<TensorOptions>(options, ['device']);
  const device = resolveDevice(opts.device);
  let values: Float32Array | Int32Array;
  let dims: number[];
  if (isFloat32Array(data) || isInt32Array(data)) {
    values = data;
    dims = shape === undefined ? [data.length] : checkShape(shape);
  } else if (Array.isArray(data) && shape === undefined) {
    const flat = flatten(data);
    values = Float32Array.from(flat.values);
    dims = flat.shape;
  } else if (Array.isArray(data) || (typeof data === 'object' && data !== null && typeof (data as ArrayLike<number>).length === 'number' && !ArrayBuffer.isView(data))) {
    const list = Array.from(data as ArrayLike<number>);
    list.forEach((v, i) => {
      if (typeof v !== 'number') fail('E_ARG', `data[${i}]: expected a number, got ${describe(v)}`);
    });
    values = Float32Array.from(list);
    dims = shape === undefined ? [list.length] : checkShape(shape);
  } else {
    fail('E_ARG', `data: expected a Float32Array, an Int32Array or an array of numbers, got ${describe(data)}`);
  }
  if (shapeSize(dims) !== values.length)
    fail('E_SHAPE', `data: expected ${shapeSize(dims)} values for shape [${dims.join(', ')}], got ${values.length}`);
  const dtype: DType = isInt32Array(values) ? 'int32' : 'float32';
  return wrap(native.tensorFromArray(values, dims, device), dims, device, dtype);
}

/** A tensor of `value` everywhere. */
export function full(shape: readonly number[], value: number, options?: TensorOptions): Tensor {
  const opts = checkOptions<TensorOptions>(options, ['device']);
  const dims = checkShape(shape);
  if (typeof value !== 'number') fail('E_ARG', `value: expected a number, got ${describe(value)}`);
  const device = resolveDevice(opts.device);
  return wrap(native.tensorFull(dims, value, device), dims, device);
}

/** A tensor of zeros. */
export function zeros(shape: readonly number[], options?: TensorOptions): Tensor {
  return full(shape, 0, options);
}

/** Options of {@link randn}. */
export interface RandnOptions extends TensorOptions {
  /** Same seed, same values, on every device (default 0). */
  seed?: number | bigint;
  mean?: number;
  /** Standard deviation (default 1). */
  std?: number;
}

/**
 * Normally distributed values. Element i is a pure function of (seed, i)
 * (Philox4x32-10 and Box–Muller in exactly rounded arithmetic), so the CPU and
 * CUDA backends produce the same tensor bit for bit.
 */
export function randn(shape: readonly number[], options?: RandnOptions): Tensor {
  const opts = checkOptions<RandnOptions>(options, ['device', 'seed', 'mean', 'std']);
  const dims = checkShape(shape);
  const seed = checkSeed(opts.seed ?? 0);
  const mean = checkFinite(opts.mean ?? 0, 'mean');
  const std = checkFinite(opts.std ?? 1, 'std');
  if (std < 0) fail('E_ARG', `std: expected a non-negative number, got ${std}`);
  const device = resolveDevice(opts.device);
  return wrap(native.tensorRandom(dims, 'normal', seed, mean, std, device), dims, device);
}

/** Options of {@link rand}. */
export interface RandOptions extends TensorOptions {
  /** Same seed, same values, on every device (default 0). */
  seed?: number | bigint;
  /** Lower bound, included (default 0). */
  low?: number;
  /** Upper bound, excluded (default 1). */
  high?: number;
}

/** Uniformly distributed values in [low, high); same seed, same values on every device. */
export function rand(shape: readonly number[], options?: RandOptions): Tensor {
  const opts = checkOptions<RandOptions>(options, ['device', 'seed', 'low', 'high']);
  const dims = checkShape(shape);
  const seed = checkSeed(opts.seed ?? 0);
  const low = checkFinite(opts.low ?? 0, 'low');
  const high = checkFinite(opts.high ?? 1, 'high');
  if (!(low < high)) fail('E_ARG', `high: expected a number greater than low (${low}), got ${high}`);
  const device = resolveDevice(opts.device);
  return wrap(native.tensorRandom(dims, 'uniform', seed, low, high, device), dims, device);
}
