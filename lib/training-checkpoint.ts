/**
 * Checkpoints of a whole training run: every layer's weights, sparsity pattern
 * and bias, the optimizer's state and step counts, the updater's state (SNFS
 * momentum, the random seed of SET) and the step number, in the checkpoint file
 * format of ./checkpoint.ts (versioned, CRC32, written atomically).
 *
 * Resuming: build the same model, optimizer and updater as for the original run
 * (same sizes and hyperparameters), wrap them in a {@link Trainer}, and call
 * {@link load}. Every value is restored bit for bit, so training continues
 * bit-identically to an uninterrupted run on the same device.
 */
import { CsrMatrix } from './csr';
import { readCheckpointFile, writeCheckpointFile, CheckpointArray, JsonValue } from './checkpoint';
import { describe, fail } from './errors';
import { Linear } from './layers/linear';
import { ReLU } from './layers/relu';
import { SparseLinear } from './layers/sparse-linear';
import { Layer } from './layers/layer';
import { Optimizer, SGD } from './optim';
import { FLOAT32_MAX } from './validate';
import { tensor, Tensor } from './tensor';
import { Trainer } from './train';
import { UpdaterState } from './updaters/updater';

const FORMAT = 'dynasparse-training';

interface LayerMeta {
  kind: 'sparse' | 'dense' | 'relu';
  rows?: number;
  cols?: number;
  nnz?: number;
  bias?: boolean;
}

interface ParamMeta {
  layer: number;
  name: string;
  step: number;
  tensors: string[];
}

interface TrainingMeta {
  format: string;
  step: number;
  layers: LayerMeta[];
  optimizer: { kind: string; lr: number; stepCount: number; params: ParamMeta[] };
  updater: { kind: string; meta: { [key: string]: unknown } } | null;
}

function weightLayer(l: Layer): l is SparseLinear | Linear {
  return l instanceof SparseLinear || l instanceof Linear;
}

/**
 * Saves the whole training state of `trainer` to `path` (atomically: a
 * temporary file in the same folder, fsync, rename). Reads every tensor back
 * from its device. E_IO when the file cannot be written.
 */
export function save<T>(path: string, trainer: Trainer<T>): void {
  if (!(trainer instanceof Trainer)) fail('E_ARG', `trainer: expected a Trainer, got ${describe(trainer)}`);
  const arrays: Record<string, CheckpointArray> = {};
  const layers: LayerMeta[] = trainer.model.layers.map((l, i) => {
    if (l instanceof SparseLinear) {
      arrays[`layer${i}.rowPtr`] = l.weight.rowPtr();
      arrays[`layer${i}.colIdx`] = l.weight.colIdx();
      arrays[`layer${i}.values`] = l.weight.values.toArray() as Float32Array;
      if (l.bias) arrays[`layer${i}.bias`] = l.bias.toArray() as Float32Array;
      return { kind: 'sparse', rows: l.outFeatures, cols: l.inFeatures, nnz: l.weight.nnz, bias: l.bias !== null };
    }
    if (l instanceof Linear) {
      arrays[`layer${i}.weight`] = l.weight.toArray() as Float32Array;
      if (l.bias) arrays[`layer${i}.bias`] = l.bias.toArray() as Float32Array;
      return { kind: 'dense', rows: l.outFeatures, cols: l.inFeatures, bias: l.bias !== null };
    }
    if (l instanceof ReLU) return { kind: 'relu' };
    return fail('E_ARG', `save: layer ${i} (${describe(l)}) cannot be checkpointed`);
  });
  const opt = trainer.optimizer;
  const params: ParamMeta[] = [];
  trainer.model.layers.forEach((l, i) => {
    if (!weightLayer(l)) return;
    for (const p of l.parameters()) {
      const st = opt.state(p.key) as ({ step: number } & Record<string, unknown>) | undefined;
      if (st === undefined) continue;
      const names = Object.keys(st).filter((k) => k !== 'step');
      for (const n of names) arrays[`opt.layer${i}.${p.name}.${n}`] = (st[n] as Tensor).toArray() as Float32Array;
      params.push({ layer: i, name: p.name, step: st.step, tensors: names });
    }
  });
  let updater: TrainingMeta['updater'] = null;
  if (trainer.updater) {
    const s = trainer.updater._saveState();
    for (const [k, v] of Object.entries(s.arrays)) arrays[`updater.${k}`] = v;
    updater = { kind: trainer.updater.kind, meta: s.meta };
  }
  const meta: TrainingMeta = {
    format: FORMAT,
    step: trainer.stepNumber,
    layers,
    optimizer: { kind: opt.constructor.name, lr: opt.lr, stepCount: opt.stepCount, params },
    updater,
  };
  writeCheckpointFile(path, { meta: meta as unknown as JsonValue, arrays });
}


function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

function badMeta(field: string, expected: string, value: unknown): never {
  return fail('E_FORMAT', `checkpoint: ${field}: expected ${expected}, got ${describe(value)}`);
}

function checkLayerMeta(m: unknown, i: number): void {
  if (!isRecord(m) || typeof m.kind !== 'string') badMeta(`layers[${i}]`, 'an object with a string kind', m);
  // The sizes and the bias flag are compared with the model's; nnz is a section length.
  if (m.kind === 'sparse' && !isCount(m.nnz)) badMeta(`layers[${i}].nnz`, 'an integer >= 0', m.nnz);
}

function checkParamMeta(p: unknown, j: number, layerCount: number): void {
  const at = `optimizer.params[${j}]`;
  if (!isRecord(p)) badMeta(at, 'an object { layer, name, step, tensors }', p);
  if (!isCount(p.layer) || p.layer >= layerCount) badMeta(`${at}.layer`, `a layer index below ${layerCount}`, p.layer);
  if (typeof p.name !== 'string') badMeta(`${at}.name`, 'a string', p.name);
  if (!isCount(p.step)) badMeta(`${at}.step`, 'an integer >= 0', p.step);
  const names = p.tensors;
  if (!Array.isArray(names) || names.some((n) => typeof n !== 'string') || new Set(names).size !== names.length)
    badMeta(`${at}.tensors`, 'an array of distinct strings', names);
}

function checkOptimizerMeta(o: unknown, layerCount: number): void {
  if (!isRecord(o) || typeof o.kind !== 'string') badMeta('optimizer', 'an object with a string kind', o);
  // Exactly what the lr setter accepts, so that restoring it cannot fail after the layers changed.
  if (typeof o.lr !== 'number' || !(o.lr > 0 && o.lr <= FLOAT32_MAX)) badMeta('optimizer.lr', 'a finite float32 number > 0', o.lr);
  if (!isCount(o.stepCount)) badMeta('optimizer.stepCount', 'an integer >= 0', o.stepCount);
  if (!Array.isArray(o.params)) badMeta('optimizer.params', 'an array', o.params);
  const seen = new Set<string>();
  o.params.forEach((p: unknown, j: number) => {
    checkParamMeta(p, j, layerCount);
    const { layer, name } = p as ParamMeta;
    if (seen.has(`${layer}.${name}`)) fail('E_FORMAT', `checkpoint: optimizer.params[${j}]: a second state of layer ${layer}'s ${name}`);
    seen.add(`${layer}.${name}`);
  });
}

/**
 * The checkpoint's metadata, with every field {@link load} reads checked for
 * its type, so a damaged or crafted header is E_FORMAT naming the field, never
 * a TypeError from the middle of a load.
 */
function checkMeta(raw: JsonValue, path: string): TrainingMeta {
  if (!isRecord(raw) || raw.format !== FORMAT) fail('E_FORMAT', `checkpoint '${path}': not a training checkpoint`);
  if (!isCount(raw.step)) badMeta('step', 'an integer >= 0', raw.step);
  if (!Array.isArray(raw.layers)) badMeta('layers', 'an array', raw.layers);
  raw.layers.forEach(checkLayerMeta);
  checkOptimizerMeta(raw.optimizer, raw.layers.length);
  const u = raw.updater;
  if (u !== null && !(isRecord(u) && typeof u.kind === 'string' && isRecord(u.meta))) badMeta('updater', 'null or an object { kind, meta }', u);
  return raw as unknown as TrainingMeta;
}

/**
 * A restored state without a tensor the optimizer needs would make every later
 * step throw; one with a tensor it does not keep would be carried uselessly.
 * (An optimizer class that does not name its state is taken at its word.)
 */
function checkStateNames(opt: Optimizer, p: ParamMeta): void {
  const expected = opt._stateNames();
  if (expected === null) return;
  const saved = p.tensors;
  if (saved.length === expected.length && expected.every((n) => saved.includes(n))) return;
  const config = opt instanceof SGD ? `${opt.constructor.name} (momentum ${opt.momentum})` : opt.constructor.name;
  fail(
    'E_FORMAT',
    `checkpoint: the optimizer state of layer ${p.layer}'s ${p.name} holds [${saved.join(', ')}], this ${config} keeps [${expected.join(', ')}]; ` +
      'resume with the optimizer options of the saved run',
  );
}

function expectArray<T extends CheckpointArray>(arrays: Record<string, CheckpointArray>, name: string, kind: string, length: number): T {
  const a = arrays[name];
  if (a === undefined) fail('E_FORMAT', `checkpoint: section '${name}' is missing`);
  if (Object.prototype.toString.call(a) !== `[object ${kind}]`) fail('E_FORMAT', `checkpoint: section '${name}' is not a ${kind}`);
  if (a.length !== length) fail('E_FORMAT', `checkpoint: section '${name}' has ${a.length} values, expected ${length}`);
  return a as T;
}

/** The updater's sections (`updater.<name>`, all float32) under their own names. */
function updaterArrays(arrays: Record<string, CheckpointArray>): Record<string, Float32Array> {
  // No prototype: a section named 'updater.__proto__' must stay a plain entry.
  const out: Record<string, Float32Array> = Object.create(null);
  for (const [k, v] of Object.entries(arrays)) {
    if (!k.startsWith('updater.')) continue;
    if (Object.prototype.toString.call(v) !== '[object Float32Array]') fail('E_FORMAT', `checkpoint: section '${k}' is not a Float32Array`);
    out[k.slice(8)] = v as Float32Array;
  }
  return out;
}

/** Something {@link load} builds and frees unless a layer or the optimizer adopts it. */
interface Owned {
  dispose(): void;
}

/**
 * Restores the training state saved by {@link save} into `trainer`, whose model,
 * optimizer and updater must have the same structure (layer kinds and sizes,
 * optimizer and updater kinds, and the optimizer options that decide its state,
 * such as SGD's momentum being 0 or not) as the saved ones; patterns may differ
 * and are replaced. Everything is read and validated, and every new tensor
 * built, before anything in `trainer` changes: a missing or unreadable file is
 * E_IO, a damaged or malformed one or a structure mismatch E_FORMAT, a disposed
 * optimizer E_DISPOSED, and each leaves `trainer` untouched. Returns the
 * restored step number.
 */
export function load<T>(path: string, trainer: Trainer<T>): number {
  if (!(trainer instanceof Trainer)) fail('E_ARG', `trainer: expected a Trainer, got ${describe(trainer)}`);
  const opt = trainer.optimizer;
  // Restoring its state is part of the commit: refuse now, not halfway through.
  if (opt.disposed) fail('E_DISPOSED', `trainer.optimizer: the ${opt.constructor.name} has been disposed`);
  const { meta: rawMeta, arrays } = readCheckpointFile(path);
  const meta = checkMeta(rawMeta, path);
  const model = trainer.model;
  if (meta.layers.length !== model.layers.length)
    fail('E_FORMAT', `checkpoint: ${meta.layers.length} layers saved, the model has ${model.layers.length}`);
  if (meta.optimizer.kind !== opt.constructor.name)
    fail('E_FORMAT', `checkpoint: the optimizer was ${meta.optimizer.kind}, this one is ${opt.constructor.name}`);
  if ((meta.updater?.kind ?? null) !== (trainer.updater?.kind ?? null))
    fail('E_FORMAT', `checkpoint: the updater was ${meta.updater?.kind ?? 'none'}, the trainer has ${trainer.updater?.kind ?? 'none'}`);

  // Phase 1: validate and build every new object; nothing in the trainer changes.
  // `owned` holds what load() built and nothing else owns yet: each commit
  // takes out what it hands over, so a failure frees exactly the rest and never
  // a tensor a layer or the optimizer has adopted.
  const owned = new Set<Owned>();
  const own = <X extends Owned>(x: X): X => (owned.add(x), x);
  const commits: (() => void)[] = [];
  try {
    model.layers.forEach((l, i) => {
      // setWeight refuses a disposed layer: say so now, before anything changes.
      if (weightLayer(l) && l.disposed) fail('E_DISPOSED', `trainer.model: layer ${i} (${l.constructor.name}) has been disposed`);
      const m = meta.layers[i];
      const expectedKind = l instanceof SparseLinear ? 'sparse' : l instanceof Linear ? 'dense' : l instanceof ReLU ? 'relu' : 'other';
      if (m.kind !== expectedKind) fail('E_FORMAT', `checkpoint: layer ${i} was '${m.kind}', the model's is '${expectedKind}'`);
      if (!weightLayer(l)) return;
      if (m.rows !== l.outFeatures || m.cols !== l.inFeatures || m.bias !== (l.bias !== null))
        fail('E_FORMAT', `checkpoint: layer ${i} was [${m.rows}, ${m.cols}]${m.bias ? ' with bias' : ''}, the model's is [${l.outFeatures}, ${l.inFeatures}]${l.bias ? ' with bias' : ''}`);
      let bias: Tensor | null = null;
      if (l.bias) bias = own(tensor(expectArray<Float32Array>(arrays, `layer${i}.bias`, 'Float32Array', l.outFeatures), [l.outFeatures], { device: l.device }));
      const setBias = () => {
        if (bias === null) return;
        l.setBias(bias);
        owned.delete(bias);
      };
      if (l instanceof SparseLinear) {
        const nnz = m.nnz as number;
        const matrix = own(
          CsrMatrix.fromArrays(
            {
              rows: l.outFeatures,
              cols: l.inFeatures,
              rowPtr: expectArray<Int32Array>(arrays, `layer${i}.rowPtr`, 'Int32Array', l.outFeatures + 1),
              colIdx: expectArray<Int32Array>(arrays, `layer${i}.colIdx`, 'Int32Array', nnz),
              values: expectArray<Float32Array>(arrays, `layer${i}.values`, 'Float32Array', nnz),
            },
            { device: l.device }
          )
        );
        commits.push(() => {
          l.setWeight(matrix);
          owned.delete(matrix);
          setBias();
        });
      } else {
        const w = own(tensor(expectArray<Float32Array>(arrays, `layer${i}.weight`, 'Float32Array', l.outFeatures * l.inFeatures), [l.outFeatures, l.inFeatures], { device: l.device }));
        commits.push(() => {
          l.setWeight(w);
          owned.delete(w);
          setBias();
        });
      }
    });
    // Optimizer state, keyed by the layers' (stable) parameter keys.
    const stateCommits: (() => void)[] = [];
    for (const p of meta.optimizer.params) {
      const l = model.layers[p.layer];
      if (!weightLayer(l)) fail('E_FORMAT', `checkpoint: optimizer state of layer ${p.layer}, which has no parameters`);
      const param = l.parameters().find((q) => q.name === p.name);
      if (param === undefined) fail('E_FORMAT', `checkpoint: optimizer state of a missing parameter ${p.layer}.${p.name}`);
      checkStateNames(opt, p);
      const size = p.name === 'bias' ? l.outFeatures : l instanceof SparseLinear ? (meta.layers[p.layer].nnz as number) : l.outFeatures * l.inFeatures;
      const shape = p.name === 'bias' || l instanceof SparseLinear ? [size] : [l.outFeatures, l.inFeatures];
      const tensors = new Map<string, Tensor>();
      for (const n of p.tensors) {
        tensors.set(n, own(tensor(expectArray<Float32Array>(arrays, `opt.layer${p.layer}.${p.name}.${n}`, 'Float32Array', size), shape, { device: l.device })));
      }
      stateCommits.push(() => {
        opt._restoreState(param.key, p.step, tensors);
        tensors.forEach((t) => owned.delete(t));
      });
    }
    const updaterState: UpdaterState | null = trainer.updater && meta.updater ? { meta: meta.updater.meta, arrays: updaterArrays(arrays) } : null;
    // Phase 2: commit. Only the updater's load can still refuse (it validates
    // before it changes anything); every value the steps below take was checked
    // above as their setters check it, and the optimizer is alive.
    if (trainer.updater && updaterState) trainer.updater._loadState(updaterState);
    commits.forEach((c) => c());
    for (const l of model.layers) if (weightLayer(l)) for (const p of l.parameters()) if (opt.state(p.key)) opt.disposeState(p.key);
    stateCommits.forEach((c) => c());
    opt._restoreStepCount(meta.optimizer.stepCount);
    opt.lr = meta.optimizer.lr;
    trainer.stepNumber = meta.step;
    return meta.step;
  } catch (e) {
    owned.forEach((x) => x.dispose());
    throw e;
  }
}
