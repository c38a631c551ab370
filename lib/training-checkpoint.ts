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

function expectArray<T extends CheckpointArray>(arrays: Record<string, CheckpointArray>, name: string, kind: string, length: number): T {
  const a = arrays[name];
  if (a === undefined) fail('E_FORMAT', `checkpoint: section '${name}' is missing`);
  if (Object.prototype.toString.call(a) !== `[object ${kind}]`) fail('E_FORMAT', `checkpoint: section '${name}' is not a ${kind}`);
  if (a.length !== length) fail('E_FORMAT', `checkpoint: section '${name}' has ${a.length} values, expected ${length}`);
  return a as T;
}

/**
 * Restores the training state saved by {@link save} into `trainer`, whose model,
 * optimizer and updater must have the same structure (layer kinds and sizes,
 * optimizer and updater kinds) as the saved ones; patterns may differ and are
 * replaced. Everything is read and validated, and every new tensor built,
 * before anything in `trainer` changes: a missing or unreadable file is E_IO, a
 * damaged one or a structure mismatch E_FORMAT, and either leaves `trainer`
 * untouched. Returns the restored step number.
 */
export function load<T>(path: string, trainer: Trainer<T>): number {
  if (!(trainer instanceof Trainer)) fail('E_ARG', `trainer: expected a Trainer, got ${describe(trainer)}`);
  const { meta: rawMeta, arrays } = readCheckpointFile(path);
  const meta = rawMeta as unknown as TrainingMeta;
  if (meta === null || typeof meta !== 'object' || meta.format !== FORMAT || !Array.isArray(meta.layers) || meta.optimizer === undefined)
    fail('E_FORMAT', `checkpoint '${path}': not a training checkpoint`);
  const model = trainer.model;
  if (meta.layers.length !== model.layers.length)
    fail('E_FORMAT', `checkpoint: ${meta.layers.length} layers saved, the model has ${model.layers.length}`);
  const opt = trainer.optimizer;
  if (meta.optimizer.kind !== opt.constructor.name)
    fail('E_FORMAT', `checkpoint: the optimizer was ${meta.optimizer.kind}, this one is ${opt.constructor.name}`);
  if ((meta.updater?.kind ?? null) !== (trainer.updater?.kind ?? null))
    fail('E_FORMAT', `checkpoint: the updater was ${meta.updater?.kind ?? 'none'}, the trainer has ${trainer.updater?.kind ?? 'none'}`);
  if (!Number.isSafeInteger(meta.step) || meta.step < 0) fail('E_FORMAT', 'checkpoint: invalid step');

  // Phase 1: validate and build every new object; nothing in the trainer changes.
  const built: Tensor[] = [];
  const matrices: CsrMatrix[] = [];
  const commits: (() => void)[] = [];
  try {
    model.layers.forEach((l, i) => {
      const m = meta.layers[i];
      const expectedKind = l instanceof SparseLinear ? 'sparse' : l instanceof Linear ? 'dense' : l instanceof ReLU ? 'relu' : 'other';
      if (m.kind !== expectedKind) fail('E_FORMAT', `checkpoint: layer ${i} was '${m.kind}', the model's is '${expectedKind}'`);
      if (!weightLayer(l)) return;
      if (m.rows !== l.outFeatures || m.cols !== l.inFeatures || m.bias !== (l.bias !== null))
        fail('E_FORMAT', `checkpoint: layer ${i} was [${m.rows}, ${m.cols}]${m.bias ? ' with bias' : ''}, the model's is [${l.outFeatures}, ${l.inFeatures}]${l.bias ? ' with bias' : ''}`);
      let bias: Tensor | null = null;
      if (l.bias) {
        bias = tensor(expectArray<Float32Array>(arrays, `layer${i}.bias`, 'Float32Array', l.outFeatures), [l.outFeatures], { device: l.device });
        built.push(bias);
      }
      if (l instanceof SparseLinear) {
        const nnz = m.nnz as number;
        const matrix = CsrMatrix.fromArrays(
          {
            rows: l.outFeatures,
            cols: l.inFeatures,
            rowPtr: expectArray<Int32Array>(arrays, `layer${i}.rowPtr`, 'Int32Array', l.outFeatures + 1),
            colIdx: expectArray<Int32Array>(arrays, `layer${i}.colIdx`, 'Int32Array', nnz),
            values: expectArray<Float32Array>(arrays, `layer${i}.values`, 'Float32Array', nnz),
          },
          { device: l.device }
        );
        matrices.push(matrix);
        commits.push(() => {
          l.setWeight(matrix);
          if (bias) l.setBias(bias);
        });
      } else {
        const w = tensor(expectArray<Float32Array>(arrays, `layer${i}.weight`, 'Float32Array', l.outFeatures * l.inFeatures), [l.outFeatures, l.inFeatures], { device: l.device });
        built.push(w);
        commits.push(() => {
          l.setWeight(w);
          if (bias) l.setBias(bias);
        });
      }
    });
    // Optimizer state, keyed by the layers' (stable) parameter keys.
    const stateCommits: (() => void)[] = [];
    for (const p of meta.optimizer.params) {
      const l = model.layers[p.layer];
      if (l === undefined || !weightLayer(l)) fail('E_FORMAT', `checkpoint: optimizer state of a missing layer ${p.layer}`);
      const param = l.parameters().find((q) => q.name === p.name);
      if (param === undefined) fail('E_FORMAT', `checkpoint: optimizer state of a missing parameter ${p.layer}.${p.name}`);
      const size = p.name === 'bias' ? l.outFeatures : l instanceof SparseLinear ? (meta.layers[p.layer].nnz as number) : l.outFeatures * l.inFeatures;
      const shape = p.name === 'bias' || l instanceof SparseLinear ? [size] : [l.outFeatures, l.inFeatures];
      const tensors = new Map<string, Tensor>();
      for (const n of p.tensors) {
        const t = tensor(expectArray<Float32Array>(arrays, `opt.layer${p.layer}.${p.name}.${n}`, 'Float32Array', size), shape, { device: l.device });
        built.push(t);
        tensors.set(n, t);
      }
      if (!Number.isSafeInteger(p.step) || p.step < 0) fail('E_FORMAT', 'checkpoint: invalid optimizer step');
      stateCommits.push(() => opt._restoreState(param.key, p.step, tensors));
    }
    if (!Number.isSafeInteger(meta.optimizer.stepCount) || !(meta.optimizer.lr > 0)) fail('E_FORMAT', 'checkpoint: invalid optimizer counters');
    let updaterState: UpdaterState | null = null;
    if (trainer.updater && meta.updater) {
      const ua: Record<string, Float32Array> = {};
      for (const [k, v] of Object.entries(arrays)) if (k.startsWith('updater.')) ua[k.slice(8)] = v as Float32Array;
      updaterState = { meta: meta.updater.meta, arrays: ua };
    }
    // Phase 2: commit. Only the updater's load can still refuse (it validates before it changes anything).
    if (trainer.updater && updaterState) trainer.updater._loadState(updaterState);
    commits.forEach((c) => c());
    for (const l of model.layers) if (weightLayer(l)) for (const p of l.parameters()) if (opt.state(p.key)) opt.disposeState(p.key);
    stateCommits.forEach((c) => c());
    opt._restoreStepCount(meta.optimizer.stepCount);
    opt.lr = meta.optimizer.lr;
    trainer.stepNumber = meta.step;
    return meta.step;
  } catch (e) {
    built.forEach((t) => t.dispose());
    matrices.forEach((m) => m.dispose());
    throw e;
  }
}
