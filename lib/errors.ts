/**
 * Every failure reaches JavaScript as a {@link DynasparseError} with a stable
 * `code`; the message names the argument, what was expected and what was given.
 */
export type ErrorCode = 'E_ARG' | 'E_SHAPE' | 'E_DEVICE' | 'E_DISPOSED' | 'E_FORMAT' | 'E_OOM' | 'E_CUDA' | 'E_IO';

/** The error class thrown by every dynasparse function, native or TypeScript. */
export class DynasparseError extends Error {
  /** A stable code to branch on: `E_ARG`, `E_SHAPE`, `E_DEVICE`, `E_DISPOSED`, `E_FORMAT`, `E_OOM`, `E_CUDA`, `E_IO`. */
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string) {
    super(message);
    this.name = 'DynasparseError';
    this.code = code;
  }
}

/** @internal Throws a DynasparseError. */
export function fail(code: ErrorCode, message: string): never {
  throw new DynasparseError(code, message);
}

/** @internal A short description of a value for error messages. */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (typeof value === 'number') return Number.isNaN(value) ? 'NaN' : String(value);
  if (typeof value === 'string') return `the string '${value.slice(0, 40)}'`;
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return `an array of length ${value.length}`;
  if (ArrayBuffer.isView(value)) return `a ${value.constructor.name}`;
  if (typeof value === 'function') return 'a function';
  const name = (value as object).constructor?.name;
  return name && name !== 'Object' ? `a ${name}` : 'an object';
}
