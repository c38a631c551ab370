/** Sparse x dense products. */
import { CsrMatrix, NativeCsr, NativeTransposedStructure } from './csr';
import { describe, fail } from './errors';
import { nativeFunctions, NativeTensor } from './native';
import { Sparse24Matrix, NativeSparse24, NativeSparse24Mma } from './sparse24';
import { checkTensor, Tensor, wrap } from './tensor';
import { checkFinite, checkOptions } from './validate';

interface SpmmNative {
  spmmCsr(
    a: NativeCsr,
    b: NativeTensor,
    transA: boolean,
    alpha: number,
    beta: number,
    out: NativeTensor | null,
    transposed: NativeTransposedStructure | null,
    order: NativeTensor | null,
    impl: SpmmOptions['impl']
  ): NativeTensor;
  spmm24(
    a: NativeSparse24,
    b: NativeTensor,
    transA: boolean,
    alpha: number,
    beta: number,
    out: NativeTensor | null,
    mma: NativeSparse24Mma | null,
    impl: SpmmOptions['impl']
  ): NativeTensor;
}

const addon = nativeFunctions<SpmmNative>();

/** Options of {@link spmm}. */
export interface SpmmOptions {
  /** Multiply by the transpose of `a` (default false). No dense or transposed copy of `a` is made. */
  transA?: boolean;
  /** Scale of the product (default 1; finite). */
  alpha?: number;
  /** Scale of `out`'s previous contents (default 0; finite; non-zero needs `out`). */
  beta?: number;
  /** Write the result into this float32 tensor (shape [rows of op(a), cols of b]) and return it. */
  out?: Tensor;
  /**
   * Arithmetic of the product (default `'fp32'`). `'bf16'`: a {@link Sparse24Matrix}
   * on CUDA (compute capability 8.0+) multiplied on the sparse tensor cores: a's
   * values and b rounded to bfloat16, products accumulated in float32 (in an order
   * the hardware chooses: not deterministic bit for bit across GPUs, and within
   * about 2^-7 of the fp32 result relative to sum |alpha a b|). Not with `transA`;
   * inputs and outputs stay float32 tensors. The first such call builds the matrix's
   * tensor-core copy (see {@link Sparse24Matrix}).
   */
  precision?: 'fp32' | 'bf16';
  /**
   * Which implementation multiplies (default `'dynasparse'`: our kernels). The
   * others are the NVIDIA library baselines our kernels are measured against, on
   * CUDA, for comparisons. They are not bit-identical to ours (their summation
   * orders differ) and need their library at run time (`backends()` lists it;
   * E_DEVICE naming it otherwise, and on the CPU).
   * - `'cusparse'`, for a {@link CsrMatrix}: cuSPARSE's SpMM (CSR_ALG2). A
   *   transposed product takes scratch memory (the values gathered into
   *   cuSPARSE's layout).
   * - `'cusparselt'`, for a {@link Sparse24Matrix} with `precision: 'bf16'` (it
   *   computes in bf16; asking for it is saying so): cuSPARSELt's 2:4 product
   *   (compute capability 8.0+, and a cuSPARSELt release with kernels for the
   *   GPU, 0.6+ for 9.0; E_DEVICE otherwise; not with `transA`). a and b are expanded,
   *   rounded to bf16 and padded to multiples of 32, and cuSPARSELt writes its
   *   product in bf16, so the result carries one more bf16 rounding than ours
   *   (about 2^-9 of its magnitude). Every call sets up and compresses anew and
   *   takes scratch of about 2 bytes per element of the padded a, b and result
   *   plus 4 per element of a: time it for what it is, not as cuSPARSELt's
   *   matmul alone (the native `gpu_bench` times that).
   */
  impl?: 'dynasparse' | 'cusparse' | 'cusparselt';
}

/**
 * C = alpha * op(a) @ b + beta * C, with `a` a {@link CsrMatrix} or a
 * {@link Sparse24Matrix} and `b` a dense [k, n] float32 tensor (row-major);
 * op(a) is `a` or, with `transA`, its transpose. Returns a new [m, n] tensor, or
 * `out` when given.
 *
 * In a sparse layer (W [out, in], feature-major X [in, batch]) the forward pass is
 * `spmm(W, X)` and the input gradient `spmm(W, dY, { transA: true })`.
 *
 * Results are deterministic: the same bits on every run and for any thread count.
 * Each output element is summed by one thread over op(a)'s stored entries of its
 * row in ascending column, from +0, one rounding per multiply and per add (no FMA);
 * then alpha * sum (+ beta * C). With beta = 0 the old contents of `out` are not
 * read (NaN there does not propagate). Only stored entries are multiplied, so a
 * NaN or infinity in b reaches an output row only through a stored entry.
 *
 * The first transposed product of a CsrMatrix builds its transposed structure
 * (O(nnz), kept by the matrix until it is disposed; values are read in place, so
 * later value updates need nothing). On CUDA the first product (and the first
 * transposed one) also sorts the rows by length for load balance and keeps that
 * order likewise (rows int32). For a 2:4 `a`, transA splits the output's
 * columns among threads instead, and beta != 0 then takes a temporary of C's size.
 *
 * On CUDA the default fp32 products give the same bits as on the CPU. With
 * `precision: 'bf16'` a 2:4 `a` on CUDA runs on the sparse tensor cores instead
 * (see {@link SpmmOptions.precision}).
 *
 * Errors: E_SHAPE when the inner dimensions differ (naming both shapes) or `out`
 * has the wrong shape; E_ARG for non-finite alpha/beta, beta != 0 without `out`,
 * `out` sharing memory with an input, an unknown precision or impl, `'bf16'` with a
 * CsrMatrix or with transA, `impl: 'cusparse'` with a 2:4 matrix, or
 * `impl: 'cusparselt'` with a CsrMatrix or without `precision: 'bf16'`; E_DEVICE
 * across devices, for `'bf16'` on the CPU or a GPU below compute capability 8.0,
 * and for a library `impl` on the CPU or without the library; E_DISPOSED for
 * disposed inputs.
 */
export function spmm(a: CsrMatrix | Sparse24Matrix, b: Tensor, options?: SpmmOptions): Tensor {
  const opts = checkOptions<SpmmOptions>(options, ['transA', 'alpha', 'beta', 'out', 'precision', 'impl']);
  if (!(a instanceof CsrMatrix) && !(a instanceof Sparse24Matrix)) fail('E_ARG', `a: expected a CsrMatrix or a Sparse24Matrix, got ${describe(a)}`);
  const transA = opts.transA ?? false;
  if (typeof transA !== 'boolean') fail('E_ARG', `transA: expected a boolean, got ${describe(transA)}`);
  const alpha = checkFinite(opts.alpha ?? 1, 'alpha');
  const beta = checkFinite(opts.beta ?? 0, 'beta');
  const precision = opts.precision ?? 'fp32';
  if (precision !== 'fp32' && precision !== 'bf16') fail('E_ARG', `precision: expected 'fp32' or 'bf16', got ${describe(precision)}`);
  if (precision === 'bf16' && !(a instanceof Sparse24Matrix)) fail('E_ARG', "precision: 'bf16' needs a Sparse24Matrix (the sparse tensor cores take 2:4 operands)");
  if (precision === 'bf16' && transA) fail('E_ARG', "precision: 'bf16' does not support transA (the tensor cores need the 2:4 groups along the inner dimension)");
  const impl = opts.impl ?? 'dynasparse';
  if (impl !== 'dynasparse' && impl !== 'cusparse' && impl !== 'cusparselt')
    fail('E_ARG', `impl: expected 'dynasparse', 'cusparse' or 'cusparselt', got ${describe(impl)}`);
  if (impl === 'cusparse' && !(a instanceof CsrMatrix)) fail('E_ARG', "impl: 'cusparse' multiplies a CsrMatrix (for a Sparse24Matrix the baseline is 'cusparselt')");
  if (impl === 'cusparselt' && !(a instanceof Sparse24Matrix)) fail('E_ARG', "impl: 'cusparselt' multiplies a Sparse24Matrix (for a CsrMatrix the baseline is 'cusparse')");
  if (impl === 'cusparselt' && precision !== 'bf16') fail('E_ARG', "impl: 'cusparselt' computes in bf16: pass precision: 'bf16' with it");
  if (impl !== 'dynasparse' && a.device !== 'cuda') fail('E_DEVICE', `impl: '${impl}' runs on cuda; a is on '${a.device}'`);
  const aNative = a._native('a');
  const bt = checkDense(b, 'b');
  if (bt.device !== a.device) fail('E_DEVICE', `b: expected a tensor on '${a.device}' (a's device), got one on '${bt.device}'`);
  const m = transA ? a.cols : a.rows;
  const k = transA ? a.rows : a.cols;
  const n = bt.shape[1];
  if (bt.shape[0] !== k)
    fail('E_SHAPE', `spmm: op(a) is [${m}, ${k}]${transA ? ' (a transposed)' : ''} but b is [${bt.shape.join(', ')}]: the inner dimensions differ`);
  let out: Tensor | null = null;
  if (opts.out !== undefined) {
    out = checkDense(opts.out, 'out');
    if (out.shape[0] !== m || out.shape[1] !== n) fail('E_SHAPE', `out: expected shape [${m}, ${n}], got [${out.shape.join(', ')}]`);
  } else if (beta !== 0) {
    fail('E_ARG', 'beta: a non-zero beta needs an `out` tensor to accumulate into');
  }
  const outNative = out ? out._native : null;
  if (a instanceof CsrMatrix) {
    const transposed = transA ? a._transposedStructure('a') : null;
    const order = impl === 'dynasparse' ? a._rowOrder(transA, 'a') : null;
    const handle = addon.spmmCsr(aNative as NativeCsr, bt._native, transA, alpha, beta, outNative, transposed, order, impl);
    return out ?? wrap(handle, [m, n], a.device);
  }
  // cuSPARSELt compresses a itself: no tensor-core copy of ours is built for it.
  const mma = precision === 'bf16' && impl === 'dynasparse' ? a._mmaCopy('a') : null;
  const handle = addon.spmm24(aNative as NativeSparse24, bt._native, transA, alpha, beta, outNative, mma, impl);
  return out ?? wrap(handle, [m, n], a.device);
}

/** @internal A live 2-D float32 tensor. */
export function checkDense(value: unknown, name: string): Tensor {
  const t = checkTensor(value, name);
  if (t.dtype !== 'float32') fail('E_ARG', `${name}: expected a float32 tensor, got ${t.dtype}`);
  if (t.shape.length !== 2) fail('E_SHAPE', `${name}: expected a 2-D tensor, got shape [${t.shape.join(', ')}]`);
  return t as Tensor;
}
