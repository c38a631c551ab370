/** Dense matrix multiplication. */
import { checkDevice } from './device';
import { describe, fail } from './errors';
import { nativeFunctions, NativeTensor } from './native';
import { checkTensor, Tensor, wrap } from './tensor';
import { checkFinite, checkOptions } from './validate';

interface MatmulNative {
  matmul(
    a: NativeTensor,
    b: NativeTensor,
    transA: boolean,
    transB: boolean,
    alpha: number,
    beta: number,
    out: NativeTensor | undefined,
    impl: MatmulOptions['impl']
  ): NativeTensor | undefined;
}

const addon = nativeFunctions<MatmulNative>();

/** Options of {@link matmul}. */
export interface MatmulOptions {
  /** Use aᵀ instead of a (default false). */
  transA?: boolean;
  /** Use bᵀ instead of b (default false). */
  transB?: boolean;
  /** Scales the product (default 1). */
  alpha?: number;
  /** Scales what `out` holds before the product is added (default 0; non-zero needs `out`). */
  beta?: number;
  /** Writes the result into this [m, n] tensor (on the same device, not sharing memory with a or b) and returns it. */
  out?: Tensor;
  /**
   * Which implementation multiplies (default `'dynasparse'`: OpenBLAS or the
   * built-in kernel on the CPU, our kernel on CUDA). `'cublas'`: cublasSgemm on
   * CUDA (default math mode, no TF32), the dense baseline of the benchmarks, for
   * comparisons: not bit-identical to ours; E_DEVICE naming the library where it
   * is missing, and on the CPU.
   */
  impl?: 'dynasparse' | 'cublas';
}

function checkMatrix(value: unknown, name: string): Tensor {
  const t = checkTensor(value, name);
  if (t.dtype !== 'float32') fail('E_ARG', `${name}: expected a float32 tensor, got ${t.dtype}`);
  if (t.shape.length !== 2) fail('E_SHAPE', `${name}: expected a 2-D tensor, got shape [${t.shape.join(', ')}]`);
  return t as Tensor;
}

function checkBool(value: unknown, name: string): boolean {
  if (value === undefined) return false;
  if (typeof value !== 'boolean') fail('E_ARG', `${name}: expected a boolean, got ${describe(value)}`);
  return value;
}

/**
 * Dense matrix product `alpha * op(a) @ op(b) + beta * out` for 2-D float32
 * tensors, with `op(x) = xᵀ` when `transA` / `transB` is set. `op(a)` is
 * [m, k], `op(b)` is [k, n] and the result [m, n]; k = 0 gives `beta * out`
 * (zeros without `out`). As in BLAS, `beta = 0` never reads `out` (NaN there
 * cannot leak) and NaN in a or b propagates to the entries it feeds.
 *
 * The CPU backend uses OpenBLAS when the build found it and a built-in
 * blocked, threaded kernel otherwise ({@link backends} says which); CUDA runs
 * our tiled kernel (FMA accumulation in k order), or cuBLAS with
 * `impl: 'cublas'`. Repeated calls give the same bits. With OpenBLAS, though,
 * the bits can change with the number of CPU threads (`DYNASPARSE_NUM_THREADS`:
 * OpenBLAS splits its sums differently on one thread than on several), and so
 * can training with dense `Linear` layers; the built-in kernel and every other
 * CPU kernel give the same bits at any thread count.
 *
 * @throws E_SHAPE when the inner dimensions or `out`'s shape do not fit,
 *   E_DEVICE when the tensors are on different devices (and for
 *   `impl: 'cublas'` on the CPU or without the library), E_ARG for bad options.
 * @example matmul(w, x)                      // [out, in] @ [in, batch]
 * @example matmul(dy, x, { transB: true })   // dy @ xᵀ, a weight gradient
 */
export function matmul(a: Tensor, b: Tensor, options?: MatmulOptions): Tensor {
  const opts = checkOptions<MatmulOptions>(options, ['transA', 'transB', 'alpha', 'beta', 'out', 'impl']);
  const ta = checkMatrix(a, 'a');
  const tb = checkMatrix(b, 'b');
  const transA = checkBool(opts.transA, 'transA');
  const transB = checkBool(opts.transB, 'transB');
  const alpha = checkFinite(opts.alpha ?? 1, 'alpha');
  const beta = checkFinite(opts.beta ?? 0, 'beta');
  if (tb.device !== ta.device) fail('E_DEVICE', `b: expected a tensor on '${ta.device}' like a, got one on '${tb.device}'`);
  checkDevice(ta.device, 'a.device');
  const impl = opts.impl ?? 'dynasparse';
  if (impl !== 'dynasparse' && impl !== 'cublas') fail('E_ARG', `impl: expected 'dynasparse' or 'cublas', got ${describe(impl)}`);
  if (impl === 'cublas' && ta.device !== 'cuda') fail('E_DEVICE', `impl: 'cublas' runs on cuda; a is on '${ta.device}'`);
  const [m, k] = transA ? [ta.shape[1], ta.shape[0]] : [ta.shape[0], ta.shape[1]];
  const [kb, n] = transB ? [tb.shape[1], tb.shape[0]] : [tb.shape[0], tb.shape[1]];
  if (k !== kb)
    fail(
      'E_SHAPE',
      `b: inner dimensions differ: op(a) is [${m}, ${k}] (a [${ta.shape.join(', ')}]${transA ? ', transposed' : ''}), ` +
        `op(b) is [${kb}, ${n}] (b [${tb.shape.join(', ')}]${transB ? ', transposed' : ''})`
    );
  if (opts.out === undefined) {
    if (beta !== 0) fail('E_ARG', `beta: a non-zero beta needs an \`out\` tensor to accumulate into, got beta ${beta}`);
    const handle = addon.matmul(ta._native, tb._native, transA, transB, alpha, 0, undefined, impl) as NativeTensor;
    return wrap(handle, [m, n], ta.device);
  }
  const out = checkMatrix(opts.out, 'out');
  if (out.device !== ta.device) fail('E_DEVICE', `out: expected a tensor on '${ta.device}', got one on '${out.device}'`);
  if (out.shape[0] !== m || out.shape[1] !== n) fail('E_SHAPE', `out: expected shape [${m}, ${n}], got [${out.shape.join(', ')}]`);
  addon.matmul(ta._native, tb._native, transA, transB, alpha, beta, out._native, impl);
  return out;
}
