/**
 * Loads the native addon (a prebuilt binary from prebuilds/ first, then the
 * local build) and declares the functions it exports. Only lib/ talks to it.
 * @internal
 */
import * as path from 'node:path';

import { DynasparseError } from './errors';

/** @internal An opaque handle to a native tensor. */
export interface NativeTensor {
  readonly __nativeTensor: unique symbol;
}

/** @internal */
export interface NativeBackendInfo {
  name: 'cpu' | 'cuda';
  available: boolean;
  threads?: number;
  blas?: 'openblas' | 'builtin';
  compiled?: boolean;
  reason?: string;
  deviceName?: string;
  computeCapability?: string;
  totalMemory?: number;
  libraries?: { cusparse: boolean; cusparselt: boolean; cublas: boolean };
}

/**
 * @internal The core of the addon's exports. Each lib/ module that adds a
 * kernel family declares the native functions it calls in its own interface
 * and reads them through {@link nativeFunctions}, so no list here grows.
 */
export interface NativeAddon {
  setErrorClass(ctor: typeof DynasparseError): void;
  backends(): NativeBackendInfo[];
  memory(device: string): { bytesInUse: number; peakBytes: number; allocations: number };
  resetPeakMemory(device: string): void;
  synchronize(device: string): void;
  tensorFromArray(data: Float32Array | Int32Array, shape: number[], device: string): NativeTensor;
  tensorFull(shape: number[], value: number, device: string): NativeTensor;
  tensorRandom(shape: number[], distribution: 'normal' | 'uniform', seed: number | bigint, a: number, b: number, device: string): NativeTensor;
  tensorToArray(t: NativeTensor): Float32Array | Int32Array;
  tensorTo(t: NativeTensor, device: string): NativeTensor;
  tensorReshape(t: NativeTensor, shape: number[]): NativeTensor;
  tensorTranspose(t: NativeTensor): NativeTensor;
  tensorDispose(t: NativeTensor): void;
  tensorDisposed(t: NativeTensor): boolean;
}

function load(): NativeAddon {
  const root = path.resolve(__dirname, '..');
  let addon: NativeAddon;
  try {
    // DYNASPARSE_ADDON points at a specific build (development, side-by-side builds).
    const explicit = process.env.DYNASPARSE_ADDON;
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    addon = (explicit ? require(path.resolve(explicit)) : require('node-gyp-build')(root)) as NativeAddon;
  } catch (cause) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    throw new DynasparseError(
      'E_IO',
      `dynasparse: the native addon could not be loaded on ${process.platform}-${process.arch} (Node ${process.version}).\n` +
        `Reason: ${reason}\n` +
        'No prebuilt binary matched and no local build was found. Build it from source with\n' +
        '  npm rebuild dynasparse        (needs a C++17 compiler, cmake >= 3.18; OpenBLAS recommended)\n' +
        'or, in a clone of the repository, `npm install` / `npm run build:addon`.'
    );
  }
  addon.setErrorClass(DynasparseError);
  return addon;
}

/** @internal */
export const native: NativeAddon = load();

/** @internal The addon's exports viewed through a module's own interface of native functions. */
export function nativeFunctions<T>(): T {
  return native as unknown as T;
}
