/**
 * Per-layer sparsity distributions: how a global sparsity target is spread
 * over the layers of a network. Pure TypeScript (no native code).
 *
 * The semantics follow google-research/rigl `sparse_utils.get_sparsities_uniform`
 * and `get_sparsities_erdos_renyi` (also jaxpruner's `sparsity_distributions`):
 *
 * - Every layer not named in `dense` takes part in the budget. The budget is
 *   uniform's count of kept weights over those layers:
 *   `budget = Σ (size_i − floor(sparsity · size_i))` (the reference's
 *   `get_n_zeros` rounding, in the same float64 arithmetic).
 * - Layers named in `dense` play the role of the reference's
 *   `custom_sparsity_map = { name: 0 }`: they are kept fully dense and are left
 *   OUT of the budget, so the target sparsity holds over the other layers.
 * - Erdős–Rényi (ERK) layers get density `eps · raw_i`, with one global `eps`
 *   solved so that `Σ eps · raw_i · size_i` equals the budget. When some layer
 *   would get `eps · raw_i > 1`, every layer sharing the largest raw
 *   probability is made dense (it keeps all its weights, which count against
 *   the budget) and `eps` is solved again over the remaining layers.
 *
 * Integer nnz (documented rounding, see {@link erk}): uniform layers keep
 * `size − floor(sparsity · size)` weights, exactly like the reference's masks.
 * Erdős–Rényi layers split the integer budget left after the dense layers by
 * the largest-remainder method, so the total nnz over the budget layers equals
 * uniform's total exactly.
 */
import { describe, fail } from './errors';
import { checkFinite, checkInteger, checkOptions } from './validate';

/** A layer to distribute sparsity over: a unique name and its weight shape. */
export interface LayerSpec {
  /** Unique, non-empty name (used by `dense`). */
  readonly name: string;
  /**
   * Weight shape, positive integers. Only the element count matters for
   * {@link uniform} and the sum/product of all dimensions for {@link erk}; for
   * {@link erdosRenyi} the last two dimensions are the fan-in and fan-out
   * (TensorFlow's `[kh, kw, in, out]` convolution layout, as in the reference;
   * the formula is symmetric in the two, so a linear layer's `[out, in]` works as is).
   */
  readonly shape: readonly number[];
}

/** The share of one layer. `nnz` is an exact integer in `[0, size]`. */
export interface LayerSparsity {
  /** The layer's name. */
  name: string;
  /** A copy of the layer's shape. */
  shape: number[];
  /** Number of weights: the product of the shape. */
  size: number;
  /** Number of weights kept (an integer). */
  nnz: number;
  /** Realised density `nnz / size`. */
  density: number;
  /** Realised sparsity `1 − nnz / size`. */
  sparsity: number;
  /**
   * The reference's real-valued density before rounding to an integer nnz:
   * `1 − sparsity` for uniform, `eps · raw` for Erdős–Rényi, `1` for dense layers.
   */
  targetDensity: number;
  /** True when every weight is kept (`nnz === size`): named in `dense`, made dense by the overflow rule, or sparsity 0. */
  dense: boolean;
}

/** Options of {@link uniform} and {@link erdosRenyi}. */
export interface DistributionOptions {
  /** Names of layers kept fully dense and excluded from the budget (like the reference's `custom_sparsity_map = { name: 0 }`). */
  dense?: readonly string[];
}

/** Options of {@link erk}. */
export interface ErkOptions extends DistributionOptions {
  /** Exponent applied to the raw probability `(Σ shape / Π shape)`; 1 is ERK, 0 gives every layer the same density. Default 1. */
  powerScale?: number;
}

/** The distributions by name (for model builders taking `distribution: 'erk'`). */
export type DistributionName = 'uniform' | 'erdos-renyi' | 'erk';

interface Checked {
  names: string[];
  shapes: number[][];
  sizes: number[];
  fixedDense: boolean[];
}

/** The reference's `get_n_zeros`: zeros of a uniform layer. */
function uniformZeros(size: number, sparsity: number): number {
  return Math.floor(sparsity * size);
}

function checkArguments(fn: string, layers: unknown, sparsity: unknown, dense: unknown, minRank: number): Checked {
  if (!Array.isArray(layers) || layers.length === 0)
    fail('E_ARG', `${fn}: layers: expected a non-empty array of { name, shape }, got ${describe(layers)}`);
  checkFinite(sparsity, `${fn}: sparsity`);
  if ((sparsity as number) < 0 || (sparsity as number) >= 1)
    fail('E_ARG', `${fn}: sparsity: expected a number in [0, 1), got ${describe(sparsity)}`);

  const names: string[] = [];
  const shapes: number[][] = [];
  const sizes: number[] = [];
  const seen = new Set<string>();
  layers.forEach((layer: unknown, i: number) => {
    const where = `${fn}: layers[${i}]`;
    if (layer === null || typeof layer !== 'object') fail('E_ARG', `${where}: expected an object { name, shape }, got ${describe(layer)}`);
    const { name, shape } = layer as { name?: unknown; shape?: unknown };
    if (typeof name !== 'string' || name.length === 0) fail('E_ARG', `${where}.name: expected a non-empty string, got ${describe(name)}`);
    if (seen.has(name)) fail('E_ARG', `${where}.name: duplicate layer name '${name}'`);
    seen.add(name);
    if (!Array.isArray(shape) || shape.length < 1 || shape.length > 8)
      fail('E_ARG', `${where}.shape: expected an array of 1 to 8 positive integers, got ${describe(shape)}`);
    if (shape.length < minRank)
      fail('E_SHAPE', `${where}.shape: expected at least ${minRank} dimensions (fan-in and fan-out), got ${shape.length}`);
    shape.forEach((d: unknown, k: number) => checkInteger(d, `${where}.shape[${k}]`, 1));
    const size = (shape as number[]).reduce((a, b) => a * b, 1);
    if (!Number.isSafeInteger(size)) fail('E_ARG', `${where}.shape: the element count ${size} is not a safe integer`);
    names.push(name);
    shapes.push((shape as number[]).slice());
    sizes.push(size);
  });

  const fixedDense = names.map(() => false);
  if (dense !== undefined) {
    if (!Array.isArray(dense)) fail('E_ARG', `${fn}: options.dense: expected an array of layer names, got ${describe(dense)}`);
    dense.forEach((d: unknown, i: number) => {
      if (typeof d !== 'string') fail('E_ARG', `${fn}: options.dense[${i}]: expected a layer name, got ${describe(d)}`);
      const at = names.indexOf(d);
      if (at < 0) fail('E_ARG', `${fn}: options.dense[${i}]: no layer is named '${d}' (layers: ${names.join(', ')})`);
      fixedDense[at] = true;
    });
  }
  if (fixedDense.every(Boolean) && (sparsity as number) > 0)
    fail('E_ARG', `${fn}: every layer is listed in options.dense, so no layer is left to reach sparsity ${sparsity}`);
  return { names, shapes, sizes, fixedDense };
}

function result(c: Checked, i: number, nnz: number, targetDensity: number): LayerSparsity {
  const size = c.sizes[i];
  return {
    name: c.names[i],
    shape: c.shapes[i].slice(),
    size,
    nnz,
    density: nnz / size,
    sparsity: 1 - nnz / size,
    targetDensity,
    dense: nnz === size,
  };
}

/**
 * Uniform: every layer not named in `dense` gets the same sparsity `s`.
 *
 * `nnz_i = size_i − floor(s · size_i)` (the reference's `get_n_zeros`
 * rounding; never 0 for `s < 1`); layers in `dense` keep all `size_i`.
 *
 * @throws E_ARG on an empty or malformed layer list, duplicate names, `s` outside
 *   [0, 1), unknown names in `dense`, or every layer dense while `s > 0`.
 */
export function uniform(layers: readonly LayerSpec[], sparsity: number, options?: DistributionOptions): LayerSparsity[] {
  const opts = checkOptions<DistributionOptions>(options, ['dense'], 'uniform: options');
  const c = checkArguments('uniform', layers, sparsity, opts.dense, 1);
  return c.sizes.map((size, i) =>
    c.fixedDense[i] ? result(c, i, size, 1) : result(c, i, size - uniformZeros(size, sparsity), 1 - sparsity)
  );
}

/**
 * The Erdős–Rényi solver shared by {@link erdosRenyi} and {@link erk}.
 * `raw[i]` is layer i's raw probability (unused for layers fixed dense).
 */
function solveErdosRenyi(fn: string, c: Checked, sparsity: number, raw: number[]): LayerSparsity[] {
  const n = c.sizes.length;
  const budgetLayers = c.sizes.map((_, i) => i).filter((i) => !c.fixedDense[i]);
  // Overflow-dense layers: eps · raw would exceed 1.
  const overflow = new Array<boolean>(n).fill(false);
  let eps = 0;
  for (;;) {
    // rhs = Σ_sparse ones_i − Σ_overflow zeros_i  (= budget − Σ_overflow size_i)
    let rhs = 0;
    let divisor = 0;
    let maxRaw = -Infinity;
    for (const i of budgetLayers) {
      const zeros = uniformZeros(c.sizes[i], sparsity);
      if (overflow[i]) {
        rhs -= zeros;
      } else {
        rhs += c.sizes[i] - zeros;
        divisor += raw[i] * c.sizes[i];
        maxRaw = Math.max(maxRaw, raw[i]);
      }
    }
    // Everything overflowed (possible only when sparsity is ~0): all layers dense.
    if (maxRaw === -Infinity) break;
    eps = rhs / divisor;
    if (maxRaw * eps <= 1) break;
    // Like the reference: every layer whose raw probability equals the maximum becomes dense.
    for (const i of budgetLayers) if (!overflow[i] && raw[i] === maxRaw) overflow[i] = true;
  }

  // Integer split of what the sparse layers share: remaining = budget − Σ_overflow size.
  const sparseLayers = budgetLayers.filter((i) => !overflow[i]);
  let remaining = 0;
  for (const i of budgetLayers) remaining += c.sizes[i] - uniformZeros(c.sizes[i], sparsity);
  for (const i of budgetLayers) if (overflow[i]) remaining -= c.sizes[i];
  const target = new Array<number>(n).fill(0);
  const nnz = c.sizes.slice(); // dense (named or overflow) layers keep everything
  for (const i of sparseLayers) {
    target[i] = Math.min(eps * raw[i] * c.sizes[i], c.sizes[i]);
    nnz[i] = Math.floor(target[i]);
    remaining -= nnz[i];
  }
  // Largest remainder: hand the `remaining` units (normally 0 <= remaining < number of
  // sparse layers; float noise may make it -1) to the largest fractional parts, ties to
  // the earlier layer; take them back from the smallest ones when negative.
  const order = sparseLayers.slice().sort((a, b) => target[b] - nnz[b] - (target[a] - nnz[a]) || a - b);
  for (let guard = 0; remaining !== 0 && order.length > 0 && guard < 4; guard++) {
    if (remaining > 0) {
      for (const i of order) if (remaining > 0 && nnz[i] < c.sizes[i]) { nnz[i]++; remaining--; }
    } else {
      for (let k = order.length - 1; k >= 0; k--) {
        const i = order[k];
        if (remaining < 0 && nnz[i] > 0) { nnz[i]--; remaining++; }
      }
    }
  }
  if (remaining !== 0) fail('E_ARG', `${fn}: could not split the budget over the layers (${remaining} weights left over)`);
  for (const i of sparseLayers) {
    if (nnz[i] === 0)
      fail(
        'E_ARG',
        `${fn}: sparsity ${sparsity} is infeasible: layer '${c.names[i]}' (shape [${c.shapes[i].join(', ')}]) would keep ` +
          `${target[i].toPrecision(3)} weights, which rounds to 0; lower the sparsity or list the layer in options.dense`
      );
  }
  return c.sizes.map((size, i) =>
    c.fixedDense[i] || overflow[i] ? result(c, i, size, 1) : result(c, i, nnz[i], eps * raw[i])
  );
}

/**
 * Erdős–Rényi (the reference's `erdos_renyi`, `include_kernel = False`):
 * the raw probability of a layer uses only its last two dimensions,
 * `raw_i = (n_in + n_out) / (n_in · n_out)`, and its density is `eps · raw_i`
 * with one global `eps` such that `eps · Σ raw_i · size_i` equals the budget
 * (uniform's kept count over the non-`dense` layers, minus the sizes of layers
 * made dense because `eps · raw_i > 1`; that overflow rule re-solves `eps`).
 * For 2-D shapes this equals {@link erk} with powerScale 1. As in the
 * reference, no power scale applies here.
 *
 * nnz: named-dense and overflow-dense layers keep `size_i`; the other layers
 * get `floor(eps · raw_i · size_i)` plus one for the layers with the largest
 * fractional parts (ties to the earlier layer) until the total over the
 * budget layers equals uniform's total exactly.
 *
 * @throws E_SHAPE for a shape with fewer than 2 dimensions; E_ARG as {@link uniform}
 *   does, and when the target is infeasible (a sparse layer would keep 0 weights).
 */
export function erdosRenyi(layers: readonly LayerSpec[], sparsity: number, options?: DistributionOptions): LayerSparsity[] {
  const opts = checkOptions<DistributionOptions>(options, ['dense'], 'erdosRenyi: options');
  const c = checkArguments('erdosRenyi', layers, sparsity, opts.dense, 2);
  const raw = c.shapes.map((s) => {
    const nIn = s[s.length - 2];
    const nOut = s[s.length - 1];
    return (nIn + nOut) / (nIn * nOut);
  });
  return solveErdosRenyi('erdosRenyi', c, sparsity, raw);
}

/**
 * Erdős–Rényi-Kernel (the reference's `erdos_renyi_kernel`, `include_kernel = True`):
 * `raw_i = (Σ shape_i / Π shape_i) ^ powerScale` over ALL dimensions (so a
 * `[kh, kw, in, out]` kernel counts `kh + kw + in + out`), density `eps · raw_i`
 * with one global `eps` solving `eps · Σ raw_i · size_i = budget`, where
 *
 *     budget = Σ_{i not in dense} (size_i − floor(s · size_i))      (uniform's total)
 *
 * If the largest `eps · raw_i` exceeds 1, all layers with that raw probability
 * are made dense (they keep `size_i`, counted against the budget) and `eps` is
 * solved again: `eps = (budget − Σ_overflow size_i) / Σ_rest raw_i · size_i`.
 * Layers named in `dense` are fully dense and outside the budget, so the
 * sparsity over the remaining layers is the target `s`.
 *
 * Rounding (exact integers): each remaining sparse layer gets
 * `floor(eps · raw_i · size_i)`; the leftover units (the budget is an integer)
 * go one each to the layers with the largest fractional parts, ties to the
 * earlier layer. So `Σ_{i not in dense} nnz_i` equals uniform's total exactly
 * and every `nnz_i` is within 1 of `eps · raw_i · size_i`.
 *
 * With powerScale 1, `eps · raw_i · size_i = rhs · Σ shape_i / Σ_rest Σ shape_j`.
 *
 * @throws E_ARG as {@link uniform} does, for powerScale not a finite number >= 0,
 *   and when the target is infeasible (a sparse layer would keep 0 weights).
 */
export function erk(layers: readonly LayerSpec[], sparsity: number, options?: ErkOptions): LayerSparsity[] {
  const opts = checkOptions<ErkOptions>(options, ['dense', 'powerScale'], 'erk: options');
  const c = checkArguments('erk', layers, sparsity, opts.dense, 1);
  const powerScale = opts.powerScale === undefined ? 1 : checkFinite(opts.powerScale, 'erk: options.powerScale');
  if (powerScale < 0) fail('E_ARG', `erk: options.powerScale: expected a number >= 0, got ${powerScale}`);
  const raw = c.shapes.map((s, i) => (s.reduce((a, b) => a + b, 0) / c.sizes[i]) ** powerScale);
  return solveErdosRenyi('erk', c, sparsity, raw);
}

/**
 * Dispatches to {@link uniform}, {@link erdosRenyi} or {@link erk} by name
 * (`powerScale` is accepted only for `'erk'`).
 * @throws E_ARG for an unknown name, and whatever the chosen distribution throws.
 */
export function sparsityDistribution(
  name: DistributionName,
  layers: readonly LayerSpec[],
  sparsity: number,
  options?: ErkOptions
): LayerSparsity[] {
  switch (name) {
    case 'uniform':
      return uniform(layers, sparsity, options);
    case 'erdos-renyi':
      return erdosRenyi(layers, sparsity, options);
    case 'erk':
      return erk(layers, sparsity, options);
    default:
      return fail('E_ARG', `sparsityDistribution: name: expected 'uniform', 'erdos-renyi' or 'erk', got ${describe(name)}`);
  }
}
