/** Devices, the default device, memory statistics and synchronization. */
import { describe, fail } from './errors';
import { native } from './native';

/** A compute device. */
export type Device = 'cpu' | 'cuda';

/** What the CPU backend offers. */
export interface CpuBackendInfo {
  name: 'cpu';
  available: true;
  /** Threads the CPU kernels run on (DYNASPARSE_NUM_THREADS overrides). */
  threads: number;
  /** The dense GEMM implementation: OpenBLAS when the build found it, else the built-in blocked kernel. */
  blas: 'openblas' | 'builtin';
}

/** What the CUDA backend offers on this machine. */
export interface CudaBackendInfo {
  name: 'cuda';
  available: boolean;
  /** Whether the addon was built with the CUDA backend. */
  compiled: boolean;
  /** Why CUDA cannot be used, when `available` is false. */
  reason?: string;
  deviceName?: string;
  /** e.g. "9.0" */
  computeCapability?: string;
  totalMemory?: number;
  /** Library baselines usable now (headers found at build time and the library loads). */
  libraries: { cusparse: boolean; cusparselt: boolean; cublas: boolean };
}

/** Memory statistics of one device, in bytes, from the library's own allocator. */
export interface MemoryInfo {
  bytesInUse: number;
  peakBytes: number;
  /** Live allocations. */
  allocations: number;
}

/** The CPU backend and the CUDA backend, with whether each can be used and why not. */
export function backends(): [CpuBackendInfo, CudaBackendInfo] {
  return native.backends() as unknown as [CpuBackendInfo, CudaBackendInfo];
}

function cudaInfo(): CudaBackendInfo {
  return backends()[1];
}

/** @internal Validates a device name and that it can be used now. */
export function checkDevice(value: unknown, name = 'device'): Device {
  if (value !== 'cpu' && value !== 'cuda') fail('E_ARG', `${name}: expected 'cpu' or 'cuda', got ${describe(value)}`);
  if (value === 'cuda') {
    const info = cudaInfo();
    if (!info.available) fail('E_DEVICE', `${name}: device 'cuda' is not available: ${info.reason}`);
  }
  return value;
}

function initialDevice(): Device {
  const env = process.env.DYNASPARSE_DEVICE;
  if (env === 'cpu' || env === 'cuda') return checkDevice(env, 'DYNASPARSE_DEVICE');
  return cudaInfo().available ? 'cuda' : 'cpu';
}

/**
 * @internal Warns (once, at load) about environment variables whose values
 * the library ignores, rather than ignoring a typo in silence. Not an error:
 * a stray variable in a shell must not stop a program that never asked for it.
 */
export function warnAboutEnvironment(env: NodeJS.ProcessEnv = process.env, emit = true): string[] {
  const warnings: string[] = [];
  const device = env.DYNASPARSE_DEVICE;
  if (device !== undefined && device !== '' && device !== 'cpu' && device !== 'cuda')
    warnings.push(`DYNASPARSE_DEVICE: expected 'cpu' or 'cuda', got '${device}'; it is ignored and the default device is used`);
  const threads = env.DYNASPARSE_NUM_THREADS;
  if (threads !== undefined && threads !== '') {
    const n = /^[0-9]+$/.test(threads.trim()) ? Number(threads.trim()) : NaN;
    if (!(n >= 1)) warnings.push(`DYNASPARSE_NUM_THREADS: expected a whole number >= 1, got '${threads}'; it is ignored and every core is used`);
    else if (n > 256) warnings.push(`DYNASPARSE_NUM_THREADS: ${n} threads asked, at most 256 are used`);
  }
  if (emit) for (const w of warnings) process.emitWarning(w, { code: 'DYNASPARSE_ENV' });
  return warnings;
}

let current: Device | undefined;

/** The device new tensors go to when none is given: `cuda` when available, else `cpu` (DYNASPARSE_DEVICE overrides). */
export function defaultDevice(): Device {
  current ??= initialDevice();
  return current;
}

/** Sets the default device; `cuda` where it is unavailable throws E_DEVICE with the reason. */
export function setDefaultDevice(device: Device): void {
  current = checkDevice(device);
}

/** @internal The given device, validated, or the default one. */
export function resolveDevice(device: unknown, name = 'device'): Device {
  return device === undefined ? defaultDevice() : checkDevice(device, name);
}

function statsDevice(device: unknown): Device {
  if (device === undefined) return defaultDevice();
  if (device !== 'cpu' && device !== 'cuda') fail('E_ARG', `device: expected 'cpu' or 'cuda', got ${describe(device)}`);
  return device;
}

/** Bytes in use, peak bytes and live allocations on a device (default: the default device). */
export function memory(device?: Device): MemoryInfo {
  return native.memory(statsDevice(device));
}

/** Sets the device's peak to its current use, to measure the peak of what follows. */
export function resetPeakMemory(device?: Device): void {
  native.resetPeakMemory(statsDevice(device));
}

/** Waits for all work enqueued on the device (CUDA work is asynchronous; CPU work is not). */
export function synchronize(device?: Device): void {
  native.synchronize(resolveDevice(device));
}
