/**
 * Command-line parsing shared by the examples: one error type that main turns
 * into a usage message, and checks that name the option and quote what was given.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';

/** A usage error: main prints it with the usage and exits with status 2. */
export class OptionError extends Error {
  override name = 'OptionError';
}

type Options = NonNullable<ParseArgsConfig['options']>;
type Parsed<T extends Options> = ReturnType<typeof parseArgs<{ args: string[]; strict: true; allowPositionals: false; options: T }>>;

/** node:util's parseArgs in strict mode, with its errors as {@link OptionError}. */
export function parseArgv<T extends Options>(argv: readonly string[], options: T): Parsed<T> {
  try {
    return parseArgs({ args: [...argv], strict: true, allowPositionals: false, options });
  } catch (e) {
    throw new OptionError(e instanceof Error ? e.message : String(e));
  }
}

/** `text` as a positive safe integer (digits only), or `fallback` when the option was not given. */
export function positiveInteger(name: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const v = Number(text);
  if (!/^\s*\d+\s*$/.test(text) || !Number.isSafeInteger(v) || v <= 0) throw new OptionError(`--${name}: expected a positive integer, got "${text}"`);
  return v;
}

/** `text` as a finite number that passes `ok`, or `fallback` when the option was not given. */
export function finiteNumber(name: string, text: string | undefined, fallback: number, ok: (v: number) => boolean, expected: string): number {
  if (text === undefined) return fallback;
  const v = Number(text);
  if (text.trim() === '' || !Number.isFinite(v) || !ok(v)) throw new OptionError(`--${name}: expected ${expected}, got "${text}"`);
  return v;
}

/** A comma-separated subset of `allowed` (case-insensitive, no repeats), or `fallback` when not given. */
export function subsetOf<M extends string>(name: string, text: string | undefined, allowed: readonly M[], fallback: readonly M[]): M[] {
  if (text === undefined) return [...fallback];
  const picked = text.split(',').map((s) => {
    const m = s.trim().toLowerCase();
    if (!(allowed as readonly string[]).includes(m)) throw new OptionError(`--${name}: expected a comma-separated subset of ${allowed.join(',')}, got "${text}"`);
    return m as M;
  });
  if (new Set(picked).size !== picked.length) throw new OptionError(`--${name}: "${text}" repeats a ${name === 'methods' ? 'method' : 'value'}`);
  return picked;
}

/** --device: 'cpu', 'cuda', or undefined (the library's default device) when not given. */
export function deviceOption(text: string | undefined): 'cpu' | 'cuda' | undefined {
  if (text === undefined) return undefined;
  if (text !== 'cpu' && text !== 'cuda') throw new OptionError(`--device: expected cpu or cuda, got "${text}"`);
  return text;
}
