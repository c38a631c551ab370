/** GradMax (Evci et al., ICLR 2022): outgoing weights for new neurons that maximize the gradient norm. */
import { describe, fail } from './errors';
import { nativeFunctions, NativeTensor } from './native';
import { checkTensor, Tensor, wrap } from './tensor';
import { checkFinite, checkInteger, checkOptions, checkSeed } from './validate';

interface GradmaxNative {
  gramTopEigen(
    g: NativeTensor,
    f: NativeTensor,
    alpha: number,
    gName: string,
    fName: string,
    k: number,
    tol: number,
    maxIter: number,
    seed: number | bigint,
    scale: number
  ): { vectors: NativeTensor; eigenvalues: Float32Array; residuals: Float32Array; iterations: number; converged: boolean; formed: boolean };
}

const addon = nativeFunctions<GradmaxNative>();

/** Options of {@link gradmaxOutgoing}. */
export interface GradmaxOutgoingOptions {
  /** Norm of each returned column (default 1). */
  scale?: number;
  /**
   * Stop when every wanted vector v with eigenvalue λ of MMᵀ has
   * ‖MMᵀv − λv‖ ≤ tol·λmax (default 1e-4; in (0, 1)). The products with M
   * are float32, so values much below 1e-6 run into `maxIter`.
   */
  tol?: number;
  /** Iteration cap (default 1000); the residuals reached are reported either way. */
  maxIter?: number;
  /** Seed of the random start block (default 0): same inputs and seed, same result. */
  seed?: number | bigint;
}

/** What {@link gradmaxOutgoing} returns. */
export interface GradmaxOutgoing {
  /** [nOut, k]: column j is the j-th left singular vector of M, scaled to norm `scale`, its largest-magnitude entry positive. */
  vectors: Tensor;
  /** The k largest singular values of M, descending. */
  singularValues: Float32Array;
  /** Per column, ‖MMᵀv − σ²v‖ / σ₁² for the unit vector v (0 when M = 0). */
  residuals: Float32Array;
  /** Iterations used (each one product with MMᵀ). */
  iterations: number;
  /** Whether every residual reached `tol` within `maxIter`. */
  converged: boolean;
}

function checkMatrix(value: unknown, name: string): Tensor {
  const t = checkTensor(value, name);
  if (t.dtype !== 'float32') fail('E_ARG', `${name}: expected a float32 tensor, got ${t.dtype}`);
  if (t.shape.length !== 2) fail('E_SHAPE', `${name}: expected a 2-D tensor, got shape [${t.shape.join(', ')}]`);
  return t as Tensor;
}

/**
 * GradMax's outgoing weights for k new neurons between two layers: the top-k
 * left singular vectors of `M = (1/B) gradNext @ actPrevᵀ` ([nOut, B] @ [B, nIn]),
 * where `gradNext` [nOut, B] is the loss gradient at the next layer's
 * pre-activations and `actPrev` [nIn, B] the previous layer's activations
 * (feature-major, B examples). New neurons get zero incoming weights, so the
 * network's output does not change, and these columns as outgoing weights,
 * which maximizes the norm of the gradient of the new incoming weights
 * (Evci et al. 2022, "GradMax: Growing Neural Networks using Gradient
 * Information"). Growing the layers themselves (`growNeurons`) is a
 * separate step built on these vectors.
 *
 * The top-k eigenvectors of MMᵀ come from block subspace iteration with
 * Rayleigh–Ritz in double precision. M is not formed when the batch is small
 * against the layers (B (2 nOut + B) < 2 nOut nIn, the usual case): each
 * iteration then applies MMᵀ = (1/B²) gradNext (actPrevᵀ actPrev) gradNextᵀ
 * through the B x B Gram matrix of actPrev, with no nOut x nIn memory and
 * about nIn / B times less work per iteration. Otherwise M is formed once (an
 * nOut x nIn temporary, freed before returning). M has rank at most B: for
 * k > B the extra columns are orthonormal vectors with singular value 0.
 *
 * On CUDA the same solver runs on the device (the products with M, the
 * orthonormalization and the Ritz vectors; only the small projected
 * eigenproblem, (k + max(8, k))² numbers per iteration, goes through the host)
 * and the vectors are returned on the device. Both backends stop on the same
 * test, so their results agree within what `tol` allows, not bit for bit.
 *
 * @throws E_SHAPE when the batch sizes differ or a tensor is empty, E_ARG
 *   unless k is an integer in [1, min(nOut, nIn)] and the options are valid
 *   (or when the inputs hold NaN/Inf), E_DEVICE for tensors on different
 *   devices.
 */
export function gradmaxOutgoing(gradNext: Tensor, actPrev: Tensor, k: number, options?: GradmaxOutgoingOptions): GradmaxOutgoing {
  const opts = checkOptions<GradmaxOutgoingOptions>(options, ['scale', 'tol', 'maxIter', 'seed']);
  const g = checkMatrix(gradNext, 'gradNext');
  const a = checkMatrix(actPrev, 'actPrev');
  if (a.device !== g.device) fail('E_DEVICE', `actPrev: expected a tensor on '${g.device}' like gradNext, got one on '${a.device}'`);
  const [nOut, batch] = g.shape;
  const [nIn, batchA] = a.shape;
  if (batch !== batchA)
    fail('E_SHAPE', `actPrev: expected [nIn, ${batch}] (the batch of gradNext [${g.shape.join(', ')}]), got [${a.shape.join(', ')}]`);
  if (batch === 0 || nOut === 0 || nIn === 0)
    fail('E_SHAPE', `gradNext, actPrev: expected non-empty matrices, got [${g.shape.join(', ')}] and [${a.shape.join(', ')}]`);
  const kk = checkInteger(k, 'k', 1, Math.min(nOut, nIn));
  const scale = checkFinite(opts.scale ?? 1, 'scale');
  if (!(scale > 0)) fail('E_ARG', `scale: expected a finite number > 0, got ${describe(scale)}`);
  const tol = checkFinite(opts.tol ?? 1e-4, 'tol');
  if (!(tol > 0 && tol < 1)) fail('E_ARG', `tol: expected a number in (0, 1), got ${describe(tol)}`);
  const maxIter = checkInteger(opts.maxIter ?? 1000, 'maxIter', 1, 2 ** 31);
  const seed = checkSeed(opts.seed ?? 0);

  const r = addon.gramTopEigen(g._native, a._native, 1 / batch, 'gradNext', 'actPrev', kk, tol, maxIter, seed, scale);
  return {
    vectors: wrap(r.vectors, [nOut, kk], g.device),
    singularValues: r.eigenvalues.map((e) => Math.sqrt(e)),
    residuals: r.residuals,
    iterations: r.iterations,
    converged: r.converged,
  };
}
