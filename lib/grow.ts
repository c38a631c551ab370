/**
 * Growing networks: adding hidden units between two weight layers with
 * GradMax (Evci et al., ICLR 2022, "GradMax: Growing Neural Networks using
 * Gradient Information") and its baselines.
 *
 * Setting: `prev` maps `[nIn, B]` activations to the hidden pre-activations
 * z = W1 a + b1, a ReLU gives h = f(z), and `next` maps h to
 * `y = W2 h + b2` (`[nOut, B]`). Growing adds k hidden units: k rows of W1
 * (and b1) and k columns of W2. A new unit with zero incoming weights and
 * bias has z = 0, so h = f(0) = 0 and the output does not change whatever
 * its outgoing weights are. With f'(0) = 1 (a `ReLU({ gradAtZero: 1 })`)
 * the gradient of its incoming weights is `dL/dW1_new = (W2_newᵀ G) Aᵀ`
 * (G = dL/dy `[nOut, B]`, A = the input of prev `[nIn, B]`), whose norm the
 * top left singular vectors of `G Aᵀ` maximize: GradMax.
 */
import { CsrMatrix } from './csr';
import { relu, reluBackward } from './elementwise';
import { describe, fail } from './errors';
import { gradmaxOutgoing } from './gradmax';
import { GrowthMaps } from './layers/growth';
import { PreparedGrowth } from './layers/affine';
import { Linear } from './layers/linear';
import { SparseLinear } from './layers/sparse-linear';
import { matmul } from './matmul';
import { Optimizer } from './optim';
import { checkTensor, randn, tensor, Tensor } from './tensor';
import { checkFinite, checkInteger, checkOptions, checkSeed } from './validate';

/** How {@link growNeurons} initializes the new units. */
export type GrowMethod = 'gradmax' | 'gradmax-opt' | 'random' | 'zeros';

/** How {@link GrowNeuronsOptions.scale} sets the norm of the grown weights. */
export type GrowScaleMethod = 'fixed' | 'mean_norm';

/** A weight layer that can grow. */
export type GrowableLayer = Linear | SparseLinear;

/** Options of {@link growNeurons}. */
export interface GrowNeuronsOptions {
  /**
   * - 'gradmax': incoming weights zero, outgoing weights the top-k left
   *   singular vectors of `gradNext · actPrevᵀ` ({@link gradmaxOutgoing}).
   * - 'gradmax-opt': outgoing weights zero, incoming weights found by
   *   projected gradient ascent on the norm of the outgoing weights' gradient
   *   (see `optSteps`), from a random start.
   * - 'random': incoming zero, outgoing random directions (unit norm times the scale).
   * - 'zeros': incoming and outgoing zero (the new units never learn; a baseline).
   */
  method: GrowMethod;
  /** Norm of each new unit's non-zero weights (its outgoing column, or for 'gradmax-opt' its incoming row); default 1. */
  scale?: number;
  /**
   * 'fixed' (default): the norm is `scale`. 'mean_norm': `scale` times the
   * mean norm of the existing units' weights of the same kind (the columns
   * of next's weight for outgoing, the rows of prev's weight for incoming).
   */
  scaleMethod?: GrowScaleMethod;
  /** Its state of both layers' weights and prev's bias is extended with zeros for the new entries. */
  optimizer?: Optimizer;
  /** dLoss/d(next's output) `[nOut, B]` of the current batch; needed by 'gradmax' and 'gradmax-opt', else used for `gradNorm` only. */
  gradNext?: Tensor;
  /** prev's input `[nIn, B]` of the same batch; needed with `gradNext`. */
  actPrev?: Tensor;
  /** Seed of the random directions, starts and sparse patterns (default 0). */
  seed?: number | bigint;
  /** 'gradmax-opt': ascent iterations (default 100, as the reference implementation). */
  optSteps?: number;
  /** 'gradmax-opt': step length relative to the weights' norm, `‖ΔW‖ = optLr · ‖W‖` (default 0.1). */
  optLr?: number;
  /**
   * Sparse prev only: connections of each new unit's incoming row (default
   * round(prev.nnz / prev.outFeatures), at least 1), at positions drawn
   * uniformly at random as a sparse init would.
   */
  fanIn?: number;
}

/** What {@link growNeurons} returns. */
export interface GrowReport {
  /** Units added. */
  k: number;
  method: GrowMethod;
  /** Hidden units before and after. */
  hiddenBefore: number;
  hiddenAfter: number;
  /** The norm each new unit's non-zero weights got (0 for 'zeros'). */
  norm: number;
  /**
   * The Frobenius norm of dLoss/d(new weights) right after growth on the batch
   * of `gradNext` / `actPrev` (null without them), computed exactly from them:
   * the new incoming weights' gradient `(W2_newᵀ G) Aᵀ` (restricted to the
   * stored positions for a sparse prev; f'(0) = 1 assumed) for 'gradmax',
   * 'random' and 'zeros', the new outgoing weights' gradient `G f(W1_new A)ᵀ`
   * for 'gradmax-opt'. Old parameters' gradients do not change (the output
   * does not), so this is the gain in gradient norm, ‖∇‖²_after =
   * ‖∇‖²_before + gradNorm², when prev has no bias; with one, the new units'
   * bias gradient (the row sums of `W2_newᵀ G`) adds to ‖∇‖²_after as well.
   */
  gradNorm: number | null;
  /** Stored weights added to prev (the new incoming rows) and next (the new outgoing columns). */
  addedIncoming: number;
  addedOutgoing: number;
  /** 'gradmax': the k largest singular values of `(1/B) gradNext · actPrevᵀ`, and whether the eigensolver converged. */
  singularValues?: Float32Array;
  converged?: boolean;
  /** 'gradmax-opt': the objective ‖G f(W1_new A)ᵀ‖ at the start and after every iteration. */
  objective?: number[];
}

const METHODS: readonly GrowMethod[] = ['gradmax', 'gradmax-opt', 'random', 'zeros'];

function checkLayer(value: unknown, name: string): GrowableLayer {
  if (!(value instanceof Linear) && !(value instanceof SparseLinear)) fail('E_ARG', `${name}: expected a Linear or SparseLinear layer, got ${describe(value)}`);
  return value;
}

function checkActivation(value: unknown, name: string, rows: number, rowsName: string, device: string): Tensor {
  const t = checkTensor(value, name);
  if (t.dtype !== 'float32') fail('E_ARG', `${name}: expected a float32 tensor, got ${t.dtype}`);
  if (t.shape.length !== 2 || t.shape[0] !== rows || t.shape[1] < 1)
    fail('E_SHAPE', `${name}: expected a feature-major [${rows} (${rowsName}), batch] tensor, got shape [${t.shape.join(', ')}]`);
  if (t.device !== device) fail('E_DEVICE', `${name}: expected a tensor on '${device}' like the layers, got one on '${t.device}'`);
  return t as Tensor;
}

/** Row norms of a `[rows, cols]` matrix given densely or as CSR. */
function rowNorms(layer: GrowableLayer): Float64Array {
  const norms = new Float64Array(layer.outFeatures);
  if (layer instanceof Linear) {
    const w = layer.weight.toArray() as Float32Array;
    const n = layer.inFeatures;
    for (let r = 0; r < norms.length; r++) {
      let s = 0;
      for (let c = 0; c < n; c++) s += w[r * n + c] * w[r * n + c];
      norms[r] = Math.sqrt(s);
    }
  } else {
    const ptr = layer.weight.rowPtr();
    const v = layer.weight.values.toArray() as Float32Array;
    for (let r = 0; r < norms.length; r++) {
      let s = 0;
      for (let i = ptr[r]; i < ptr[r + 1]; i++) s += v[i] * v[i];
      norms[r] = Math.sqrt(s);
    }
  }
  return norms;
}

/** Column norms of a layer's weight (for a sparse one, over the stored entries). */
function columnNorms(layer: GrowableLayer): Float64Array {
  const sums = new Float64Array(layer.inFeatures);
  if (layer instanceof Linear) {
    const w = layer.weight.toArray() as Float32Array;
    for (let i = 0; i < w.length; i++) sums[i % layer.inFeatures] += w[i] * w[i];
  } else {
    const col = layer.weight.colIdx();
    const v = layer.weight.values.toArray() as Float32Array;
    for (let i = 0; i < v.length; i++) sums[col[i]] += v[i] * v[i];
  }
  return sums.map(Math.sqrt);
}

function mean(values: Float64Array): number {
  let s = 0;
  for (const v of values) s += v;
  return values.length > 0 ? s / values.length : 0;
}

function frobenius(values: Float32Array | Float64Array): number {
  let s = 0;
  for (const v of values) s += v * v;
  return Math.sqrt(s);
}

/** Scales each row of a row-major `[rows, cols]` array to norm `norm` (zero rows stay zero). */
function normalizeRows(values: Float32Array, rows: number, cols: number, norm: number): void {
  for (let r = 0; r < rows; r++) {
    const row = values.subarray(r * cols, (r + 1) * cols);
    const n = frobenius(row);
    if (n > 0) for (let c = 0; c < cols; c++) row[c] = (row[c] / n) * norm;
  }
}

/** The dense `[k, cols]` 0/1 mask of a CSR pattern. */
function patternMask(m: CsrMatrix): Float32Array {
  const mask = new Float32Array(m.rows * m.cols);
  const ptr = m.rowPtr();
  const col = m.colIdx();
  for (let r = 0; r < m.rows; r++) for (let i = ptr[r]; i < ptr[r + 1]; i++) mask[r * m.cols + col[i]] = 1;
  return mask;
}

/** A CSR matrix with the pattern of `pattern` and the values of the dense `[rows, cols]` array at its positions. */
function withValues(pattern: CsrMatrix, dense: Float32Array): CsrMatrix {
  const rowPtr = pattern.rowPtr();
  const colIdx = pattern.colIdx();
  const values = new Float32Array(colIdx.length);
  for (let r = 0; r < pattern.rows; r++) for (let i = rowPtr[r]; i < rowPtr[r + 1]; i++) values[i] = dense[r * pattern.cols + colIdx[i]];
  return CsrMatrix.fromArrays({ rows: pattern.rows, cols: pattern.cols, rowPtr, colIdx, values }, { device: pattern.device });
}

/** `‖(Vᵀ G) Aᵀ‖` restricted to `mask` (null: dense): the gradient of zero incoming weights under outgoing V `[nOut, k]` (row-major). */
function incomingGradNorm(v: Float32Array, k: number, g: Tensor, a: Tensor, mask: Float32Array | null): number {
  using vt = tensor(v, [g.shape[0], k], { device: g.device });
  using vg = matmul(vt, g, { transA: true }); // [k, B]
  using grad = matmul(vg, a, { transB: true }); // [k, nIn]
  const values = grad.toArray() as Float32Array;
  if (mask) for (let i = 0; i < values.length; i++) values[i] *= mask[i];
  return frobenius(values);
}

/**
 * GradMax-opt: projected gradient ascent on J(W) = ‖G f(W A)ᵀ‖_F, the norm of
 * the gradient of zero outgoing weights of units with incoming weights W
 * `[k, nIn]` (f = ReLU, derivative 1 at 0). Each iteration steps along ∇J
 * scaled to length `lr · ‖W‖_F` (a normalized step, so the step size does not
 * depend on the scale of G and A), masks it to the sparse pattern if any, and
 * projects every row back to norm `norm`. The reference implementation
 * (google-research/growneuron, AddGradmaxOptim) runs 100 Adam steps with the
 * same per-row projection; the normalized step is our choice. Returns the
 * objective before the first and after every iteration; stops early when
 * J or its gradient is 0 (every new unit inactive on the batch).
 */
function ascend(w: Float32Array, k: number, g: Tensor, a: Tensor, mask: Float32Array | null, norm: number, steps: number, lr: number): number[] {
  const nIn = a.shape[0];
  const objective: number[] = [];
  for (let it = 0; ; it++) {
    using wt = tensor(w, [k, nIn], { device: a.device });
    using z = matmul(wt, a); // [k, B]
    using h = relu(z);
    using m = matmul(g, h, { transB: true }); // [nOut, k]: the outgoing weights' gradient
    const j = frobenius(m.toArray() as Float32Array);
    objective.push(j);
    if (it === steps || j === 0) break;
    using dh = matmul(m, g, { transA: true, alpha: 1 / j }); // dJ/dH = Mᵀ G / J, [k, B]
    using dz = reluBackward(dh, z, { gradAtZero: 1 });
    using dw = matmul(dz, a, { transB: true }); // [k, nIn]
    const grad = dw.toArray() as Float32Array;
    if (mask) for (let i = 0; i < grad.length; i++) grad[i] *= mask[i];
    const gn = frobenius(grad);
    if (gn === 0) break;
    const step = (lr * frobenius(w)) / gn;
    for (let i = 0; i < w.length; i++) w[i] += step * grad[i];
    normalizeRows(w, k, nIn, norm);
  }
  return objective;
}

/** The optimizer's state of a grown layer's weight and bias, remapped and not yet committed. */
function preparedRemaps(optimizer: Optimizer | undefined, [weightKey, biasKey]: [object, object], maps: GrowthMaps): { commit(): void; abort(): void }[] {
  if (!optimizer) return [];
  const out: { commit(): void; abort(): void }[] = [];
  try {
    const w = optimizer._prepareRemap(weightKey, maps.weight);
    if (w) out.push(w);
    const b = maps.bias ? optimizer._prepareRemap(biasKey, maps.bias) : null;
    if (b) out.push(b);
  } catch (e) {
    out.forEach((x) => x.abort());
    throw e;
  }
  return out;
}

function keys(layer: GrowableLayer): [object, object] {
  return layer instanceof Linear ? [layer.weightKey, layer.biasKey] : [layer, layer.biasKey];
}

/** The entries of a layer's weight the optimizer keeps state for: out × in when dense, nnz when sparse. */
function weightEntries(layer: GrowableLayer): number {
  return layer instanceof Linear ? layer.outFeatures * layer.inFeatures : layer.weight.nnz;
}

/**
 * Checks that the optimizer's state (where it has some) of a layer's weight
 * and bias fits their current sizes. remapState finds a stale state only when
 * it is called, after prev has grown; checked here, a stale state stops the
 * growth before anything changes.
 */
function checkOptimizerState(optimizer: Optimizer, layer: GrowableLayer, name: string): void {
  const [weightKey, biasKey] = keys(layer);
  const params: [object, string, number][] = [[weightKey, 'weight', weightEntries(layer)]];
  if (layer.bias) params.push([biasKey, 'bias', layer.outFeatures]);
  for (const [key, param, size] of params) {
    for (const [stateName, t] of Object.entries(optimizer.state(key) ?? {})) {
      if (!(t instanceof Tensor)) continue; // the step count
      if (t.disposed) fail('E_DISPOSED', `optimizer: its state (${stateName}) of ${name}'s ${param} has been disposed`);
      if (t.size !== size)
        fail(
          'E_SHAPE',
          `optimizer: its state (${stateName}) of ${name}'s ${param} has ${t.size} entries, the ${param} ${size}; ` +
            'call remapState (or disposeState) for it before growing',
        );
    }
  }
}

/**
 * Adds k hidden units between `prev` and `next` (Linear or SparseLinear, in
 * any combination; `prev.outFeatures === next.inFeatures`, same device), in
 * place: k rows of prev's weight and bias, k columns of next's weight. New
 * incoming weights and biases are zero (for 'gradmax-opt', the incoming
 * weights are optimized and the outgoing ones zero), so with an activation
 * where f(0) = 0 the network's output is unchanged right after growth (up
 * to GEMM summation order for dense layers; sparse layers add +0 terms at
 * the end of each row's sum, bit for bit). Use `ReLU({ gradAtZero: 1 })`
 * between the layers so the new zero-input units pass gradient.
 *
 * Sparse layers: a new unit's incoming row in a sparse prev stores `fanIn`
 * connections at random positions (zeros unless 'gradmax-opt' sets them),
 * its outgoing column in a sparse next is stored densely (all nOut entries,
 * zeros included), so nnz grows by k·fanIn + k·nOut (see the report).
 *
 * The optimizer's state (when given) of prev's weight and bias and of next's
 * weight keeps every old entry and starts the new ones at zero. Layer growth
 * rebuilds each weight through the host once.
 *
 * @throws E_ARG for bad options (k not an integer >= 1, or for 'gradmax'
 *   above min(nOut, nIn); an unknown method; a missing gradNext/actPrev for
 *   'gradmax'/'gradmax-opt'; a grown weight of either layer, dense or sparse,
 *   with more entries than int32 indices allow), E_SHAPE when the layers do
 *   not fit together, gradNext/actPrev have the wrong shape, or the
 *   optimizer's state of a weight or bias does not fit its current size
 *   (stale), E_DEVICE for mixed devices.
 *   Every method runs on CUDA ('gradmax' through the device eigensolver of
 *   {@link gradmaxOutgoing}). All of these are checked before anything
 *   changes: nothing changes when it throws.
 * @example
 * // after model.backward(dy): grow fc1 -> fc2 by 2 units in the direction of largest gradient
 * growNeurons(fc1, fc2, 2, { method: 'gradmax', gradNext: dy, actPrev: x, scaleMethod: 'mean_norm', optimizer });
 */
export function growNeurons(prev: GrowableLayer, next: GrowableLayer, k: number, options: GrowNeuronsOptions): GrowReport {
  const p = checkLayer(prev, 'prev');
  const n = checkLayer(next, 'next');
  if (p === n) fail('E_ARG', 'next: expected a layer other than prev');
  if (options === undefined) fail('E_ARG', "options: expected { method: 'gradmax' | 'gradmax-opt' | 'random' | 'zeros', ... }, got undefined");
  const opts = checkOptions<GrowNeuronsOptions>(options, ['method', 'scale', 'scaleMethod', 'optimizer', 'gradNext', 'actPrev', 'seed', 'optSteps', 'optLr', 'fanIn']);
  const method = opts.method as GrowMethod;
  if (!METHODS.includes(method)) fail('E_ARG', `method: expected one of ${METHODS.map((m) => `'${m}'`).join(', ')}, got ${describe(opts.method)}`);
  if (p.outFeatures !== n.inFeatures)
    fail('E_SHAPE', `next: expected inFeatures ${p.outFeatures} (prev's outFeatures), got ${n.inFeatures}`);
  if (p.device !== n.device) fail('E_DEVICE', `next: expected a layer on '${p.device}' like prev, got one on '${n.device}'`);
  const [nIn, hidden, nOut] = [p.inFeatures, p.outFeatures, n.outFeatures];
  const kk = checkInteger(k, 'k', 1, Math.max(1, 2 ** 31 - 2 - hidden));
  if (method === 'gradmax' && kk > Math.min(nOut, nIn))
    fail('E_ARG', `k: 'gradmax' grows at most min(nOut, nIn) = ${Math.min(nOut, nIn)} units at once (one per singular vector of the [${nOut}, ${nIn}] matrix), got ${kk}`);
  const scale = checkFinite(opts.scale ?? 1, 'scale');
  if (!(scale > 0)) fail('E_ARG', `scale: expected a finite number > 0, got ${describe(scale)}`);
  const scaleMethod = opts.scaleMethod ?? 'fixed';
  if (scaleMethod !== 'fixed' && scaleMethod !== 'mean_norm') fail('E_ARG', `scaleMethod: expected 'fixed' or 'mean_norm', got ${describe(scaleMethod)}`);
  if (opts.optimizer !== undefined && !(opts.optimizer instanceof Optimizer)) fail('E_ARG', `optimizer: expected an SGD or Adam optimizer, got ${describe(opts.optimizer)}`);
  if (opts.optimizer?.disposed) fail('E_DISPOSED', 'optimizer: the optimizer has been disposed');
  const seed = checkSeed(opts.seed ?? 0);
  const optSteps = checkInteger(opts.optSteps ?? 100, 'optSteps', 0, 1e6);
  const optLr = checkFinite(opts.optLr ?? 0.1, 'optLr');
  if (!(optLr > 0)) fail('E_ARG', `optLr: expected a finite number > 0, got ${describe(optLr)}`);
  let fanIn = 0;
  if (p instanceof SparseLinear) fanIn = checkInteger(opts.fanIn ?? Math.max(1, Math.round(p.weight.nnz / hidden)), 'fanIn', 1, nIn);
  else if (opts.fanIn !== undefined) fail('E_ARG', 'fanIn: only a sparse prev (SparseLinear) takes fanIn');
  // The layers check this too, but by then prev may have grown: check both
  // (dense or sparse) before changing anything.
  const grownEntries: [string, number][] = [
    ['prev', p instanceof SparseLinear ? p.weight.nnz + kk * fanIn : (hidden + kk) * nIn],
    ['next', n instanceof SparseLinear ? n.weight.nnz + kk * nOut : nOut * (hidden + kk)],
  ];
  for (const [name, entries] of grownEntries)
    if (entries > 2 ** 31 - 1) fail('E_ARG', `k: growing by ${kk} units would give ${name}'s weight ${entries} entries, more than int32 indices allow (2^31 - 1)`);
  if (opts.optimizer) {
    checkOptimizerState(opts.optimizer, p, 'prev');
    checkOptimizerState(opts.optimizer, n, 'next');
  }
  const needsBatch = method === 'gradmax' || method === 'gradmax-opt';
  if ((opts.gradNext === undefined) !== (opts.actPrev === undefined))
    fail('E_ARG', `${opts.gradNext === undefined ? 'gradNext' : 'actPrev'}: gradNext and actPrev go together, got only one of them`);
  if (needsBatch && opts.gradNext === undefined) fail('E_ARG', `gradNext, actPrev: method '${method}' needs the current batch's gradNext [${nOut}, B] and actPrev [${nIn}, B]`);
  let g: Tensor | null = null;
  let a: Tensor | null = null;
  if (opts.gradNext !== undefined) {
    g = checkActivation(opts.gradNext, 'gradNext', nOut, "next's outFeatures", p.device);
    a = checkActivation(opts.actPrev, 'actPrev', nIn, "prev's inFeatures", p.device);
    if (g.shape[1] !== a.shape[1]) fail('E_SHAPE', `actPrev: expected batch ${g.shape[1]} like gradNext, got shape [${a.shape.join(', ')}]`);
  }

  // Everything is validated: compute the new weights, then change the layers.
  const normRef = scaleMethod === 'fixed' ? 1 : method === 'gradmax-opt' ? mean(rowNorms(p)) : mean(columnNorms(n));
  const norm = method === 'zeros' ? 0 : scale * normRef;
  const report: GrowReport = { k: kk, method, hiddenBefore: hidden, hiddenAfter: hidden + kk, norm, gradNorm: null, addedIncoming: 0, addedOutgoing: nOut * kk };

  // The incoming pattern of a sparse prev (values set below).
  let pattern: CsrMatrix | null = null;
  let mask: Float32Array | null = null;
  if (p instanceof SparseLinear) {
    pattern = CsrMatrix.random(kk, nIn, { nnzPerRow: fanIn, seed, init: 'zeros', device: p.device });
    mask = patternMask(pattern);
  }
  try {
    let outgoing: Float32Array | null = null; // [nOut, k] row-major
    let incoming: Float32Array | null = null; // [k, nIn] row-major
    if (method === 'gradmax') {
      // A zero norm ('mean_norm' over all-zero columns) gives zero columns; gradmaxOutgoing wants a scale > 0.
      const r = gradmaxOutgoing(g as Tensor, a as Tensor, kk, { scale: norm > 0 ? norm : 1, seed });
      outgoing = r.vectors.toArray() as Float32Array;
      r.vectors.dispose();
      if (norm === 0) outgoing.fill(0);
      report.singularValues = r.singularValues;
      report.converged = r.converged;
    } else if (method === 'random') {
      using dirs = randn([kk, nOut], { seed, device: 'cpu' }); // row j: unit j's direction
      const d = dirs.toArray() as Float32Array;
      normalizeRows(d, kk, nOut, norm);
      outgoing = new Float32Array(nOut * kk);
      for (let j = 0; j < kk; j++) for (let o = 0; o < nOut; o++) outgoing[o * kk + j] = d[j * nOut + o];
    } else if (method === 'gradmax-opt') {
      using start = randn([kk, nIn], { seed, device: 'cpu' });
      incoming = start.toArray() as Float32Array;
      if (mask) for (let i = 0; i < incoming.length; i++) incoming[i] *= mask[i];
      normalizeRows(incoming, kk, nIn, norm);
      report.objective = ascend(incoming, kk, g as Tensor, a as Tensor, mask, norm, optSteps, optLr);
      report.gradNorm = report.objective[report.objective.length - 1];
    }
    if (g && a && method !== 'gradmax-opt') report.gradNorm = outgoing ? incomingGradNorm(outgoing, kk, g, a, mask) : 0;

    // Build prev's incoming rows, next's outgoing columns and both layers'
    // remapped optimizer state (what can fail: out of memory), then commit them
    // all (which cannot): both layers grow, or neither does.
    const pending: { commit(): void; abort(): void }[] = [];
    try {
      let prevGrowth: PreparedGrowth;
      if (p instanceof SparseLinear) {
        using rows = withValues(pattern as CsrMatrix, incoming ?? new Float32Array(kk * nIn));
        report.addedIncoming = rows.nnz;
        prevGrowth = p._prepareGrowOutputs(rows);
      } else {
        report.addedIncoming = kk * nIn;
        prevGrowth = p._prepareGrowOutputs(kk, incoming ?? undefined);
      }
      pending.push(prevGrowth);
      const nextGrowth = n._prepareGrowInputs(kk, outgoing ?? undefined);
      pending.push(nextGrowth);
      pending.push(...preparedRemaps(opts.optimizer, keys(p), prevGrowth.maps));
      pending.push(...preparedRemaps(opts.optimizer, keys(n), nextGrowth.maps));
    } catch (e) {
      pending.forEach((x) => x.abort());
      throw e;
    }
    pending.forEach((x) => x.commit());
    return report;
  } finally {
    pattern?.dispose();
  }
}
