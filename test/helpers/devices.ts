import { backends, Device } from '../../lib';

/** The devices device-parametrized tests run on: the CPU always, CUDA whenever it is available. */
export const devices: Device[] = backends()[1].available ? ['cpu', 'cuda'] : ['cpu'];

/** Asserts that `fn` throws a DynasparseError with `code` (and, optionally, a message fragment). */
export function expectCode(fn: () => unknown, code: string, fragment?: string | RegExp): void {
  let error: unknown;
  try {
    fn();
  } catch (e) {
    error = e;
  }
  if (error === undefined) throw new Error(`expected ${code}, but nothing was thrown`);
  const e = error as { name?: string; code?: string; message?: string };
  if (e.name !== 'DynasparseError' || e.code !== code) throw new Error(`expected ${code}, got ${e.name} ${e.code}: ${e.message}`);
  if (fragment !== undefined) expect(e.message).toMatch(fragment);
}
