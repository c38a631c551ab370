/**
 * The library from several worker_threads at once. The addon is context-aware
 * (per-environment instance data), so every worker loads its own instance of
 * the bindings over the one shared native runtime (thread pool, allocator).
 * Workers run test/helpers/worker.js, which transpiles lib/*.ts itself.
 *
 * Tensors are not transferable: a Tensor posted to another thread arrives as a
 * structured clone, a plain object whose `_native` handle is an empty object,
 * and every entry point refuses it with E_ARG (never touches memory).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';

import * as ts from 'typescript';

import { DynasparseError, memory, relu, tensor, Tensor } from '../lib';
import { native, NativeTensor } from '../lib/native';
import { expectCode } from './helpers/devices';
import { settle } from './helpers/gc';

const script = path.join(__dirname, 'helpers', 'worker.js');
const root = path.resolve(__dirname, '..');

/**
 * lib/ transpiled once (transpile-only, like jest) into a temporary folder the
 * workers load, with DYNASPARSE_ADDON naming the addon this process loaded
 * (the copy cannot find it relative to itself).
 */
let libDir = '';
let addonPath = '';
beforeAll(() => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'dynasparse-worker-lib-'));
  const walk = (dir: string): void => {
    for (const f of fs.readdirSync(dir, { withFileTypes: true })) {
      const src = path.join(dir, f.name);
      if (f.isDirectory()) walk(src);
      else if (f.name.endsWith('.ts')) {
        const js = ts.transpileModule(fs.readFileSync(src, 'utf8'), {
          compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
          fileName: src,
        }).outputText;
        const dest = path.join(out, path.relative(path.join(root, 'lib'), src)).replace(/\.ts$/, '.js');
        fs.mkdirSync(path.dirname(dest), { recursive: true });
        fs.writeFileSync(dest, js);
      }
    }
  };
  walk(path.join(root, 'lib'));
  libDir = out;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  addonPath = process.env.DYNASPARSE_ADDON ? path.resolve(process.env.DYNASPARSE_ADDON) : (require('node-gyp-build') as { path(dir: string): string }).path(root);
});
afterAll(() => fs.rmSync(libDir, { recursive: true, force: true }));

interface Reply {
  kind: string;
  id?: number;
  ok?: boolean;
  value?: any; // eslint-disable-line @typescript-eslint/no-explicit-any
  code?: string;
  message?: string;
}

/** A worker with a promise-based `run(task, args)`; resolves once the library is loaded in it. */
class LibraryWorker {
  private readonly worker: Worker;
  private next = 0;
  private readonly pending = new Map<number, (r: Reply) => void>();
  readonly ready: Promise<void>;
  readonly other: Reply[] = [];

  constructor() {
    this.worker = new Worker(script, { workerData: { libDir }, env: { ...process.env, DYNASPARSE_ADDON: addonPath } });
    this.ready = new Promise((resolve, reject) => {
      this.worker.once('error', reject);
      this.worker.on('message', (m: Reply) => {
        if (m.kind === 'ready') resolve();
        else if (m.kind === 'result') this.pending.get(m.id as number)?.(m);
        else this.other.push(m);
      });
    });
  }

  async run(task: string, args: object = {}): Promise<Reply> {
    await this.ready;
    const id = this.next++;
    return new Promise((resolve) => {
      this.pending.set(id, resolve);
      this.worker.postMessage({ id, task, args });
    });
  }

  post(value: unknown): void {
    this.worker.postMessage(value);
  }

  terminate(): Promise<number> {
    return this.worker.terminate();
  }
}

const workers: LibraryWorker[] = [];
afterAll(async () => {
  await Promise.all(workers.map((w) => w.terminate()));
});

describe('worker_threads', () => {
  it('loads in several workers at once, each training its own model with correct, reproducible results', async () => {
    const steps = 20;
    // Reference: seeds 1 and 2 trained one after the other in a single worker.
    const solo = new LibraryWorker();
    workers.push(solo);
    const ref1 = await solo.run('train', { seed: 1, steps });
    const ref2 = await solo.run('train', { seed: 2, steps });
    expect(ref1.ok).toBe(true);
    expect(ref2.ok).toBe(true);
    // Training works: the loss falls; RigL keeps the layer's nnz.
    const losses1 = ref1.value.losses as number[];
    expect(losses1[steps - 1]).toBeLessThan(losses1[0]);
    expect(ref1.value.losses).not.toEqual(ref2.value.losses);

    // Four workers at once, training and multiplying concurrently on the shared thread pool.
    const crowd = [0, 1, 2, 3].map(() => new LibraryWorker());
    workers.push(...crowd);
    const runs = await Promise.all(
      crowd.map(async (w, i) => ({
        train: await w.run('train', { seed: 1 + (i % 2), steps }),
        matmul: await w.run('matmul', { seed: 10 + i, n: 48 }),
      }))
    );
    // Also on the main thread, concurrently with nothing: the library still works here.
    const x = tensor([-1, 2, -3]);
    expect(Array.from(relu(x).toArray())).toEqual([0, 2, 0]);
    x.dispose();
    runs.forEach((r, i) => {
      expect(r.train.ok).toBe(true);
      // Bit-identical to the solo run of the same seed: no cross-talk between threads.
      expect(r.train.value).toEqual((i % 2 === 0 ? ref1 : ref2).value);
      expect(r.matmul.ok).toBe(true);
      expect(r.matmul.value.maxErr).toBeLessThan(1e-4);
    });
  });

  it('a Tensor posted to another thread arrives as a plain clone that the library refuses with E_ARG', async () => {
    const w = new LibraryWorker();
    workers.push(w);
    await w.ready;

    // Main thread -> worker.
    const t = tensor([1, -2, 3]);
    const r = await w.run('received', { value: t });
    expect(r.ok).toBe(true);
    expect(r.value.type).toBe('[object Object]');
    expect(r.value.keys).toEqual(['_native', 'device', 'dtype', 'shape', 'size']);
    expect(r.value.isTensor).toBe(false);
    for (const attempt of [r.value.api, r.value.toArray, r.value.native]) {
      expect(attempt).toMatchObject({ ok: false, name: 'DynasparseError', code: 'E_ARG' });
    }
    // The original is untouched and still works on its own thread.
    expect(Array.from(t.toArray())).toEqual([1, -2, 3]);
    t.dispose();

    // Worker -> main thread: the same clone; the library refuses it here too.
    const sent = await w.run('send');
    expect(sent.value).toEqual({ result: { ok: true, value: 'sent' }, stillWorks: [1, 2, 3] });
    const clone = w.other.find((m) => m.kind === 'tensor')?.value as Tensor;
    expect(clone).toMatchObject({ shape: [3], size: 3, device: 'cpu', dtype: 'float32', _native: {} });
    expect(clone instanceof Tensor).toBe(false);
    expectCode(() => relu(clone), 'E_ARG', /expected a Tensor/);
    expectCode(() => Tensor.prototype.toArray.call(clone), 'E_ARG');
    expectCode(() => native.tensorToArray(clone._native as NativeTensor), 'E_ARG');
    expect(() => native.tensorDispose(clone._native as NativeTensor)).toThrow(DynasparseError);
  });

  it('a worker that exits holding tensors frees them (the allocator statistics are process-wide)', async () => {
    // The statistics are process-wide: collect this thread's garbage from earlier
    // tests first, or its finalizers may run during the wait below and move the baseline.
    await settle();
    const before = memory('cpu').bytesInUse;
    const w = new LibraryWorker();
    const r = await w.run('hold', { count: 50, size: 1000 });
    expect(r.ok).toBe(true);
    expect(r.value).toBeGreaterThanOrEqual(before + 50 * 1000 * 4);
    await w.terminate();
    // Environment teardown runs the handles' finalizers; allow it a moment.
    for (let i = 0; i < 50 && memory('cpu').bytesInUse !== before; i++) await new Promise((res) => setTimeout(res, 20));
    expect(memory('cpu').bytesInUse).toBe(before);
  });

  it('terminating a worker in the middle of a native call leaves the process running and frees its memory', async () => {
    // While a thread is being terminated Node refuses to throw into JavaScript:
    // a call that made a tensor or threw its error then aborted the whole process.
    await settle();
    const before = memory('cpu').bytesInUse;
    for (const failing of [false, true, false, true]) {
      const w = new LibraryWorker();
      void w.run('spin', { failing });
      await w.ready;
      for (let i = 0; i < 200 && !w.other.some((m) => m.kind === 'spinning'); i++) await new Promise((res) => setTimeout(res, 5));
      await new Promise((res) => setTimeout(res, 20));
      expect(await w.terminate()).toBe(1);
    }
    const x = tensor([-1, 2]);
    const y = relu(x);
    expect(Array.from(y.toArray())).toEqual([0, 2]);
    x.dispose();
    y.dispose();
    for (let i = 0; i < 50 && memory('cpu').bytesInUse !== before; i++) await new Promise((res) => setTimeout(res, 20));
    expect(memory('cpu').bytesInUse).toBe(before);
  });
});
