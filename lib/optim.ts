/**
 * Fused, masked optimizers. One native pass per parameter and step reads each
 * weight, gradient and state value once and writes it once.
 *
 * A parameter is a float32 tensor updated in place: a dense weight, or the
 * `values` of a sparse matrix (whose stored entries ARE the parameter). The
 * optimizer keeps per-parameter state (tensors on the parameter's device,
 * created as zeros at the parameter's first step, aligned element by element
 * with its values). When a sparse topology changes, {@link Optimizer.remapState}
 * carries the state of surviving entries over and starts new entries at zero.
 */
import { checkFloatTensor, checkSameDevice, checkSameShape, int32Tensor } from './checks';
import { describe, fail } from './errors';
import { nativeFunctions, NativeTensor } from './native';
import { Tensor, wrap, zeros } from './tensor';
import { checkOptions, FLOAT32_MAX } from './validate';

interface OptimNative {
  sgdStep(
    value: NativeTensor,
    grad: NativeTensor,
    momentumBuffer: NativeTensor | null,
    mask: NativeTensor | null,
    lr: number,
    momentum: number,
    weightDecay: number,
    nesterov: boolean,
  ): void;
  adamStep(
    value: NativeTensor,
    grad: NativeTensor,
    expAvg: NativeTensor,
    expAvgSq: NativeTensor,
    mask: NativeTensor | null,
    lr: number,
    beta1: number,
    beta2: number,
    eps: number,
    weightDecay: number,
    decoupled: boolean,
    step: number,
  ): void;
  remapState(state: NativeTensor, map: NativeTensor): NativeTensor;
}

const addon = nativeFunctions<OptimNative>();

/** One parameter's update in {@link Optimizer.step}. */
export interface ParamUpdate {
  /** The parameter, updated in place: a dense float32 tensor or a sparse matrix's `values`. */
  value: Tensor;
  /** Its gradient: same shape and device. */
  grad: Tensor;
  /**
   * For dense parameters: a float32 tensor of the value's shape. Where it is 0
   * the weight is set to 0 and its optimizer state is frozen: it neither
   * decays nor accumulates while masked, and resumes from the same values
   * when the mask is nonzero again (to start a re-enabled weight from zero
   * state, as RigL does for grown connections, call {@link Optimizer.remapState}
   * with -1 at its position). Anywhere else (any nonzero value, NaN
   * included) the weight is updated normally. Not needed for sparse values:
   * their pattern is the mask.
   */
  mask?: Tensor;
  /**
   * The object the state belongs to (default: `value`). Give a stable key (a
   * layer, a sparse matrix) when `value` is replaced by a new tensor, as a
   * sparse matrix's values are when its topology changes.
   */
  key?: object;
}

/** State every optimizer keeps per parameter. */
export interface ParamState {
  /** Completed updates of this parameter (Adam's bias correction uses it). */
  readonly step: number;
}

/** {@link SGD}'s state of one parameter. */
export interface SgdState extends ParamState {
  /** The momentum buffer (absent when momentum is 0). */
  readonly momentumBuffer?: Tensor;
}

/** {@link Adam}'s state of one parameter. */
export interface AdamState extends ParamState {
  /** The first moment m. */
  readonly expAvg: Tensor;
  /** The second moment v. */
  readonly expAvgSq: Tensor;
}

interface Entry {
  step: number;
  /** Named state tensors, all with the parameter's element count and device. */
  tensors: Map<string, Tensor>;
}

/** The largest finite float32: hyperparameters reach the kernels as float32. */

function checkPositive(value: unknown, name: string): number {
  if (typeof value !== 'number' || !(value > 0 && value <= FLOAT32_MAX)) fail('E_ARG', `${name}: expected a finite number > 0, got ${describe(value)}`);
  return value;
}

function checkNonNegative(value: unknown, name: string): number {
  if (typeof value !== 'number' || !(value >= 0 && value <= FLOAT32_MAX)) fail('E_ARG', `${name}: expected a finite number >= 0, got ${describe(value)}`);
  return value;
}

function checkBeta(value: unknown, name: string): number {
  if (typeof value !== 'number' || !(value >= 0 && value < 1)) fail('E_ARG', `${name}: expected a number in [0, 1), got ${describe(value)}`);
  // Below 1 as a double but 1 as a float32 would make 1 - beta^t zero in the kernel.
  if (Math.fround(value) >= 1) fail('E_ARG', `${name}: expected a number below 1 after rounding to float32, got ${value}`);
  return value;
}

function checkBoolean(value: unknown, name: string): boolean {
  if (typeof value !== 'boolean') fail('E_ARG', `${name}: expected a boolean, got ${describe(value)}`);
  return value;
}

interface CheckedUpdate {
  value: Tensor;
  grad: Tensor;
  mask: Tensor | null;
  key: object;
  entry: Entry | undefined;
}

/**
 * What {@link SGD} and {@link Adam} share: per-parameter state keyed by an
 * object, the step counters, state remapping and disposal.
 */
export abstract class Optimizer<S extends ParamState = ParamState> {
  private readonly entries = new Map<object, Entry>();
  private steps = 0;
  private isDisposed = false;
  private learningRate: number;

  /** @internal */
  protected constructor(lr: number) {
    this.learningRate = checkPositive(lr, 'lr');
  }

  /** The learning rate; assignable between steps (e.g. for a schedule), > 0 and finite. */
  get lr(): number {
    return this.learningRate;
  }

  set lr(value: number) {
    this.learningRate = checkPositive(value, 'lr');
  }

  /** Completed calls of {@link step}. */
  get stepCount(): number {
    return this.steps;
  }

  /** Whether {@link dispose} has been called. */
  get disposed(): boolean {
    return this.isDisposed;
  }

  /**
   * Updates every parameter in place with one fused native pass each and
   * advances {@link stepCount} by one. Everything is validated before anything
   * is changed: every value and grad a live float32 tensor, grad and mask of
   * the value's shape (E_SHAPE) and device (E_DEVICE), existing state of the
   * value's size (E_SHAPE: call {@link remapState} after a topology change) and
   * device, no key twice (E_ARG). State of a parameter seen for the first time
   * is created as zeros. The one check TypeScript cannot make, tensors that
   * share a buffer with a written one (e.g. a `reshape()` view of the value as
   * its grad: E_ARG from the native update), stops the step at that parameter:
   * the parameters before it are updated, {@link stepCount} is not advanced.
   */
  step(params: readonly ParamUpdate[]): void {
    this.checkAlive();
    if (!Array.isArray(params)) fail('E_ARG', `params: expected an array of { value, grad, mask?, key? }, got ${describe(params)}`);
    const updates = params.map((p, i) => this.checkUpdate(p, `params[${i}]`));
    const seen = new Set<object>();
    updates.forEach((u, i) => {
      if (seen.has(u.key) || seen.has(u.value)) fail('E_ARG', `params[${i}]: the same parameter (key or value) appears twice in one step`);
      seen.add(u.key).add(u.value);
    });
    // Allocate all missing state before the first update, so a failed
    // allocation leaves every parameter and state as it was.
    const created: Entry[] = [];
    try {
      for (const u of updates) {
        if (u.entry === undefined) {
          u.entry = { step: 0, tensors: this.createState(u.value) };
          created.push(u.entry);
        }
      }
    } catch (error) {
      for (const entry of created) entry.tensors.forEach((t) => t.dispose());
      throw error;
    }
    // The native update checks again what indexes memory, and refuses tensors
    // that share a buffer with a written one (a reshape() view of the value as
    // its grad), which TypeScript cannot see: such a parameter stops the step
    // there, with the parameters before it updated.
    try {
      for (const u of updates) {
        const entry = u.entry as Entry;
        this.update(u.value, u.grad, u.mask, entry.tensors, entry.step + 1);
        this.entries.set(u.key, entry);
        entry.step += 1;
      }
    } catch (error) {
      for (const entry of created) if (entry.step === 0) entry.tensors.forEach((t) => t.dispose());
      throw error;
    }
    this.steps += 1;
  }

  /**
   * The state of the parameter with this key (the `key` given to {@link step},
   * or its `value`), or undefined when it has none yet. The tensors belong to
   * the optimizer: read them, do not dispose them; they stay valid until the
   * next {@link remapState}, {@link disposeState} or {@link dispose}.
   */
  state(key: object): S | undefined {
    this.checkAlive();
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    return Object.freeze({ step: entry.step, ...Object.fromEntries(entry.tensors) }) as unknown as S;
  }

  /**
   * Carries a parameter's state over a topology change: entry `i` of the new
   * state is entry `map[i]` of the old one, or zeros when `map[i]` is -1 (a new
   * entry). The new state has `map.length` entries, matching the new values;
   * surviving entries keep their state exactly, the step count is unchanged.
   * One native gather per state tensor. `map` is an Int32Array or an int32
   * Tensor on the state's device; entries outside [-1, old size) throw E_ARG
   * naming the first bad index, and the state is then left unchanged.
   * Returns false (and reads nothing) when the key has no state tensors.
   *
   * @example // keep entries 0 and 2, add a new one: opt.remapState(layer, new Int32Array([0, 2, -1]))
   */
  remapState(key: object, map: Int32Array | Tensor<'int32'>): boolean {
    const remap = this._prepareRemap(key, map);
    remap?.commit();
    return remap !== null;
  }

  /**
   * @internal {@link remapState} in two halves, for callers that change
   * several parameters at once and must change all or none (the updaters):
   * computes the remapped state now (this is what can fail: a bad map, out of
   * memory) and returns `commit` (swaps it in; cannot fail) and `abort` (frees
   * it); null when the key has no state tensors. One of the two must be called.
   */
  _prepareRemap(key: object, map: Int32Array | Tensor<'int32'>): { commit(): void; abort(): void } | null {
    this.checkAlive();
    if (!(map instanceof Int32Array) && !(map instanceof Tensor))
      fail('E_ARG', `map: expected an Int32Array or an int32 Tensor, got ${describe(map)}`);
    const entry = this.entries.get(key);
    if (entry === undefined || entry.tensors.size === 0) return null;
    const first = entry.tensors.values().next().value as Tensor;
    const { tensor: indices, temporary } = int32Tensor(map, 'map', first.device);
    const remapped = new Map<string, Tensor>();
    try {
      for (const [name, t] of entry.tensors) {
        remapped.set(name, wrap(addon.remapState(t._native, indices._native), [indices.size], t.device));
      }
    } catch (error) {
      remapped.forEach((t) => t.dispose());
      throw error;
    } finally {
      if (temporary) indices.dispose();
    }
    return {
      commit: () => {
        entry.tensors.forEach((t) => t.dispose());
        entry.tensors = remapped;
      },
      abort: () => remapped.forEach((t) => t.dispose()),
    };
  }

  /** Frees one parameter's state and forgets it (its next step starts from zero state and step 0). Returns whether it had state. */
  disposeState(key: object): boolean {
    this.checkAlive();
    const entry = this.entries.get(key);
    if (entry === undefined) return false;
    entry.tensors.forEach((t) => t.dispose());
    this.entries.delete(key);
    return true;
  }

  /**
   * @internal Checkpoints (lib/training-checkpoint.ts): replaces the state of
   * `key` by `tensors` (adopted) with the parameter step count `step`, disposing
   * the old state. The caller validates names, sizes and devices first.
   */
  _restoreState(key: object, step: number, tensors: Map<string, Tensor>): void {
    this.checkAlive();
    this.entries.get(key)?.tensors.forEach((t) => t.dispose());
    this.entries.set(key, { step, tensors });
  }

  /** @internal Checkpoints: sets {@link stepCount}. */
  _restoreStepCount(steps: number): void {
    this.checkAlive();
    this.steps = steps;
  }

  /** Frees all state. The optimizer cannot be used afterwards (E_DISPOSED). Calling it again does nothing. */
  dispose(): void {
    if (this.isDisposed) return;
    for (const entry of this.entries.values()) entry.tensors.forEach((t) => t.dispose());
    this.entries.clear();
    this.isDisposed = true;
  }

  /** Lets `using opt = new Adam(...)` free the state at the end of the scope. */
  [Symbol.dispose](): void {
    this.dispose();
  }

  /** @internal The state tensors of a new parameter (zeros of its shape, on its device). */
  protected abstract createState(value: Tensor): Map<string, Tensor>;

  /**
   * @internal The names of the state tensors createState makes, in any order
   * (checkpoints check a saved state against them), or null when a subclass
   * does not say.
   */
  _stateNames(): readonly string[] | null {
    return null;
  }

  /** @internal One fused update; `step` counts from 1. */
  protected abstract update(value: Tensor, grad: Tensor, mask: Tensor | null, state: Map<string, Tensor>, step: number): void;

  private checkAlive(): void {
    if (this.isDisposed) fail('E_DISPOSED', `${this.constructor.name}: the optimizer has been disposed`);
  }

  private checkUpdate(p: unknown, name: string): CheckedUpdate {
    if (p === undefined) fail('E_ARG', `${name}: expected { value, grad, mask?, key? }, got undefined`);
    const opts = checkOptions<ParamUpdate>(p, ['value', 'grad', 'mask', 'key'], name);
    const value = checkFloatTensor(opts.value, `${name}.value`);
    const grad = checkFloatTensor(opts.grad, `${name}.grad`);
    checkSameDevice(grad, `${name}.grad`, value, 'value');
    checkSameShape(grad, `${name}.grad`, value, 'value');
    if (grad === value) fail('E_ARG', `${name}.grad: expected a tensor other than the value`);
    let mask: Tensor | null = null;
    if (opts.mask !== undefined) {
      mask = checkFloatTensor(opts.mask, `${name}.mask`);
      checkSameDevice(mask, `${name}.mask`, value, 'value');
      checkSameShape(mask, `${name}.mask`, value, 'value');
    }
    if (opts.key !== undefined && (opts.key === null || (typeof opts.key !== 'object' && typeof opts.key !== 'function')))
      fail('E_ARG', `${name}.key: expected an object, got ${describe(opts.key)}`);
    const key = opts.key ?? value;
    const entry = this.entries.get(key);
    for (const [stateName, t] of entry?.tensors ?? []) {
      if (t.device !== value.device)
        fail('E_DEVICE', `${name}.value: its optimizer state (${stateName}) is on '${t.device}', the value on '${value.device}'`);
      if (t.size !== value.size)
        fail(
          'E_SHAPE',
          `${name}.value: its optimizer state (${stateName}) has ${t.size} entries, the value ${value.size}; ` +
            'call remapState(key, map) after changing the topology',
        );
    }
    return { value, grad, mask, key, entry };
  }
}

/** Options of {@link SGD}. */
export interface SgdOptions {
  /** Learning rate, > 0. */
  lr: number;
  /** Momentum factor, >= 0 (default 0: no momentum buffer is kept). */
  momentum?: number;
  /** Nesterov momentum (default false; needs momentum > 0). */
  nesterov?: boolean;
  /** L2 penalty added to the gradient, >= 0 (default 0). */
  weightDecay?: number;
}

/**
 * Stochastic gradient descent with momentum, PyTorch semantics (dampening 0):
 * ```
 * g = grad + weightDecay * w
 * buf = momentum * buf + g                (buf starts at 0)
 * step = nesterov ? g + momentum * buf : buf     (g when momentum is 0)
 * w -= lr * step
 * ```
 * in float32, one fused pass per parameter.
 *
 * @example
 * const opt = new SGD({ lr: 0.1, momentum: 0.9, nesterov: true });
 * opt.step([{ value: weight, grad: weightGrad }, { value: bias, grad: biasGrad }]);
 */
export class SGD extends Optimizer<SgdState> {
  /** Momentum factor. */
  readonly momentum: number;
  /** Whether Nesterov momentum is used. */
  readonly nesterov: boolean;
  /** L2 penalty added to the gradient. */
  readonly weightDecay: number;

  constructor(options: SgdOptions) {
    if (options === undefined) fail('E_ARG', 'options: expected { lr, momentum?, nesterov?, weightDecay? }, got undefined');
    const opts = checkOptions<SgdOptions>(options, ['lr', 'momentum', 'nesterov', 'weightDecay']);
    super(opts.lr as number);
    this.momentum = checkNonNegative(opts.momentum ?? 0, 'momentum');
    this.nesterov = checkBoolean(opts.nesterov ?? false, 'nesterov');
    this.weightDecay = checkNonNegative(opts.weightDecay ?? 0, 'weightDecay');
    if (this.nesterov && this.momentum === 0) fail('E_ARG', 'nesterov: Nesterov momentum needs momentum > 0, got momentum 0');
  }

  protected override createState(value: Tensor): Map<string, Tensor> {
    const state = new Map<string, Tensor>();
    if (this.momentum !== 0) state.set('momentumBuffer', zeros(value.shape, { device: value.device }));
    return state;
  }

  override _stateNames(): readonly string[] {
    return this.momentum !== 0 ? ['momentumBuffer'] : [];
  }

  protected override update(value: Tensor, grad: Tensor, mask: Tensor | null, state: Map<string, Tensor>): void {
    const buf = state.get('momentumBuffer');
    addon.sgdStep(value._native, grad._native, buf ? buf._native : null, mask ? mask._native : null, this.lr, this.momentum, this.weightDecay, this.nesterov);
  }
}

/** Options of {@link Adam}. */
export interface AdamOptions {
  /** Learning rate, > 0. */
  lr: number;
  /** Decay of the first moment, in [0, 1) (default 0.9). */
  beta1?: number;
  /** Decay of the second moment, in [0, 1) (default 0.999). */
  beta2?: number;
  /** Added to the denominator, > 0 (default 1e-8). */
  eps?: number;
  /** Weight decay, >= 0 (default 0): L2 added to the gradient, or decoupled with `decoupled`. */
  weightDecay?: number;
  /** AdamW: decay the weight directly (`w -= lr * weightDecay * w`) instead of through the gradient (default false). */
  decoupled?: boolean;
}

/**
 * Adam, and AdamW with `decoupled: true`, PyTorch semantics, in float32 with
 * the bias corrections computed in double:
 * ```
 * Adam:  g = grad + weightDecay * w       AdamW: g = grad; w -= lr * weightDecay * w
 * m = beta1 * m + (1 - beta1) * g         (m, v start at 0)
 * v = beta2 * v + (1 - beta2) * g * g
 * w -= lr * (m / (1 - beta1^t)) / (sqrt(v / (1 - beta2^t)) + eps)
 * ```
 * `t` is the parameter's own step count (1 at its first update; see
 * {@link ParamState.step}); entries added by {@link Optimizer.remapState} start
 * with m = v = 0 under the parameter's current t.
 */
export class Adam extends Optimizer<AdamState> {
  /** Decay of the first moment. */
  readonly beta1: number;
  /** Decay of the second moment. */
  readonly beta2: number;
  /** Added to the denominator. */
  readonly eps: number;
  /** Weight decay (coupled L2, or decoupled for AdamW). */
  readonly weightDecay: number;
  /** Whether the weight decay is decoupled (AdamW). */
  readonly decoupled: boolean;

  constructor(options: AdamOptions) {
    if (options === undefined) fail('E_ARG', 'options: expected { lr, beta1?, beta2?, eps?, weightDecay?, decoupled? }, got undefined');
    const opts = checkOptions<AdamOptions>(options, ['lr', 'beta1', 'beta2', 'eps', 'weightDecay', 'decoupled']);
    super(opts.lr as number);
    this.beta1 = checkBeta(opts.beta1 ?? 0.9, 'beta1');
    this.beta2 = checkBeta(opts.beta2 ?? 0.999, 'beta2');
    this.eps = checkPositive(opts.eps ?? 1e-8, 'eps');
    this.weightDecay = checkNonNegative(opts.weightDecay ?? 0, 'weightDecay');
    this.decoupled = checkBoolean(opts.decoupled ?? false, 'decoupled');
  }

  override _stateNames(): readonly string[] {
    return ['expAvg', 'expAvgSq'];
  }

  protected override createState(value: Tensor): Map<string, Tensor> {
    const m = zeros(value.shape, { device: value.device });
    try {
      return new Map([
        ['expAvg', m],
        ['expAvgSq', zeros(value.shape, { device: value.device })],
      ]);
    } catch (error) {
      m.dispose();
      throw error;
    }
  }

  protected override update(value: Tensor, grad: Tensor, mask: Tensor | null, state: Map<string, Tensor>, step: number): void {
    const m = state.get('expAvg') as Tensor;
    const v = state.get('expAvgSq') as Tensor;
    addon.adamStep(value._native, grad._native, m._native, v._native, mask ? mask._native : null, this.lr, this.beta1, this.beta2, this.eps, this.weightDecay, this.decoupled, step);
  }
}
