/** Sampled dense-dense products: a dense product evaluated only at a sparse pattern's stored positions. */
import { CsrMatrix, NativeCsr } from './csr';
import { describe, fail } from './errors';
import { nativeFunctions, NativeTensor } from './native';
import { checkDense } from './spmm';
import { Tensor, wrap } from './tensor';
import { checkOptions } from './validate';

interface SddmmNative {
  sddmm(a: NativeTensor, b: NativeTensor, pattern: NativeCsr, transB: boolean, impl: SddmmOptions['impl']): NativeTensor;
}

const addon = nativeFunctions<SddmmNative>();

/** Options of {@link sddmm}. */
export interface SddmmOptions {
  /**
   * Use b transposed: out[e] = (a @ bᵀ)[i, j] = dot(a[i, :], b[j, :]), both rows
   * contiguous. This is how sparse layers compute weight gradients: with
   * feature-major dY [out, batch] and X [in, batch],
   * `sddmm(dY, X, W, { transB: true })` is dW at W's stored positions, with no
   * transposed copy. Default false.
   */
  transB?: boolean;
  /**
   * Which implementation computes the products (default `'dynasparse'`: our
   * kernels). `'cusparse'`: cuSPARSE's SDDMM on CUDA, the library baseline ours
   * is measured against, for comparisons: not bit-identical to ours (with
   * `transB`, cuSPARSE reads b as it is, through its transposed operation), and
   * E_DEVICE naming the library where it is missing, and on the CPU.
   */
  impl?: 'dynasparse' | 'cusparse';
}

/**
 * For every stored entry e = (i, j) of `pattern`, out[e] = (a @ op(b))[i, j];
 * returns a float32 Tensor of pattern.nnz values aligned with `pattern.values`.
 * a is [m, k]; b is [k, p] (or [p, k] with `transB`); pattern is [m, p]. Only the
 * pattern's structure is used, never its values. Nothing of size m x p is allocated.
 *
 * Deterministic (same bits for any thread count, and on the CPU and CUDA).
 * Summation order, both forms: 32 interleaved partial sums (lane l takes
 * t = l, l + 32, ...) combined as a fixed tree (lane[l] += lane[l + w] for
 * w = 16, 8, 4, 2, 1). No FMA. NaN / infinities in a row of a or b reach exactly
 * the entries whose dot product reads them.
 *
 * Memory: without transB, b is first transposed into scratch the size of b
 * (k x p floats, released before this returns), so `sddmm(a, b, pattern)` gives
 * the same bits as `sddmm(a, bᵀ, pattern, { transB: true })` at about the same
 * speed. Where b is already [p, k] (feature-major activations), transB skips
 * the copy.
 *
 * Errors: E_SHAPE when inner dimensions or the pattern's shape do not fit (naming
 * the shapes); E_DEVICE across devices.
 */
export function sddmm(a: Tensor, b: Tensor, pattern: CsrMatrix, options?: SddmmOptions): Tensor {
  const opts = checkOptions<SddmmOptions>(options, ['transB', 'impl']);
  const transB = opts.transB ?? false;
  if (typeof transB !== 'boolean') fail('E_ARG', `transB: expected a boolean, got ${describe(transB)}`);
  const at = checkDense(a, 'a');
  const bt = checkDense(b, 'b');
  if (!(pattern instanceof CsrMatrix)) fail('E_ARG', `pattern: expected a CsrMatrix, got ${describe(pattern)}`);
  const p = pattern._native('pattern');
  const [bk, bn] = transB ? [bt.shape[1], bt.shape[0]] : [bt.shape[0], bt.shape[1]];
  if (bk !== at.shape[1])
    fail('E_SHAPE', `sddmm: a is [${at.shape.join(', ')}] but b is [${bt.shape.join(', ')}]${transB ? ' (used transposed)' : ''}: the inner dimensions differ`);
  if (at.shape[0] !== pattern.rows || bn !== pattern.cols)
    fail('E_SHAPE', `sddmm: a @ ${transB ? 'bT' : 'b'} is [${at.shape[0]}, ${bn}] but the pattern is [${pattern.rows}, ${pattern.cols}]`);
  if (at.device !== pattern.device || bt.device !== pattern.device)
    fail('E_DEVICE', `sddmm: a (${at.device}), b (${bt.device}) and pattern (${pattern.device}) must be on one device`);
  const impl = opts.impl ?? 'dynasparse';
  if (impl !== 'dynasparse' && impl !== 'cusparse') fail('E_ARG', `impl: expected 'dynasparse' or 'cusparse', got ${describe(impl)}`);
  if (impl === 'cusparse' && pattern.device !== 'cuda') fail('E_DEVICE', `impl: 'cusparse' runs on cuda; the pattern is on '${pattern.device}'`);
  return wrap(addon.sddmm(at._native, bt._native, p, transB, impl), [pattern.nnz], pattern.device);
}
