// A worker_threads entry point for test/workers.test.ts. Jest's transform does
// not reach worker threads, so this file compiles lib/*.ts itself with
// TypeScript's transpileModule (the same transpile-only mode jest uses) and then
// loads the library, which loads the native addon in this thread's context.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { parentPort, workerData } = require('node:worker_threads');

// workerData.libDir: lib/ already transpiled to JavaScript by the test (saves
// every worker loading TypeScript); otherwise compile lib/*.ts on the fly.
const libDir = workerData && workerData.libDir;
if (!libDir) {
  const ts = require('typescript');
  require.extensions['.ts'] = (module, filename) => {
    const source = fs.readFileSync(filename, 'utf8');
    const out = ts.transpileModule(source, {
      compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
      fileName: filename,
    });
    module._compile(out.outputText, filename);
  };
}
const lib = libDir || path.resolve(__dirname, '..', '..', 'lib');
const ds = require(path.join(lib, libDir ? 'index.js' : 'index.ts'));
const { native } = require(path.join(lib, libDir ? 'native.js' : 'native.ts'));

/** Runs a task and answers { ok, value } or { ok: false, name, code, message }. */
function answer(fn) {
  try {
    return { ok: true, value: fn() };
  } catch (e) {
    return { ok: false, name: e && e.name, code: e && e.code, message: e && e.message };
  }
}

const tasks = {
  // Trains a small sparse MLP with RigL on a fixed task; returns the losses.
  train({ seed, steps }) {
    const model = ds.mlp([8, 16, 4], { sparsity: 0.7, seed });
    const optimizer = new ds.SGD({ lr: 0.2, momentum: 0.9 });
    const updater = new ds.RigL({ layers: model, optimizer, endStep: steps, updateEvery: 5, seed });
    const trainer = new ds.Trainer({ model, optimizer, updater });
    const x = ds.randn([8, 32], { seed: 1000 + seed });
    const labels = Int32Array.from({ length: 32 }, (_, i) => (i * 7 + seed) % 4);
    const losses = [];
    for (let s = 0; s < steps; s++) losses.push(trainer.step(x, labels).loss);
    const nnz = model.sparseLayers().map((l) => l.weight.nnz);
    trainer.dispose();
    updater.dispose();
    optimizer.dispose();
    model.dispose();
    x.dispose();
    return { losses, nnz };
  },
  // A matmul against a result computed here in plain JavaScript.
  matmul({ seed, n }) {
    const a = ds.randn([n, n], { seed });
    const b = ds.randn([n, n], { seed: seed + 1 });
    const got = ds.matmul(a, b).toArray();
    const av = a.toArray();
    const bv = b.toArray();
    let maxErr = 0;
    for (let i = 0; i < n; i++)
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let k = 0; k < n; k++) s += av[i * n + k] * bv[k * n + j];
        maxErr = Math.max(maxErr, Math.abs(s - got[i * n + j]) / (1 + Math.abs(s)));
      }
    a.dispose();
    b.dispose();
    return { maxErr };
  },
  // What a tensor sent from another thread arrives as, and what the library does with it.
  received({ value }) {
    return {
      type: Object.prototype.toString.call(value),
      keys: value && typeof value === 'object' ? Object.keys(value).sort() : [],
      isTensor: value instanceof ds.Tensor,
      api: answer(() => ds.relu(value)),
      toArray: answer(() => ds.Tensor.prototype.toArray.call(value)),
      native: answer(() => native.tensorToArray(value && value._native)),
    };
  },
  // Sends one of this thread's tensors to the parent; reports how postMessage behaves.
  send() {
    const t = ds.tensor([1, 2, 3], undefined, { device: 'cpu' });
    const result = answer(() => {
      parentPort.postMessage({ kind: 'tensor', value: t });
      return 'sent';
    });
    const stillWorks = Array.from(t.toArray());
    t.dispose();
    return { result, stillWorks };
  },
  // Allocates tensors and keeps them (no dispose): the thread's exit must free them.
  hold({ count, size }) {
    globalThis.held = Array.from({ length: count }, () => ds.zeros([size], { device: 'cpu' }));
    return ds.memory('cpu').bytesInUse;
  },
  // Native calls in a loop that never returns, making a tensor each time (or,
  // with `failing`, throwing a DynasparseError each time), until the thread is
  // terminated: the termination lands inside one of them.
  spin({ failing }) {
    const a = ds.randn([32, 32], { seed: 1, device: 'cpu' });
    const b = ds.randn(failing ? [31, 32] : [32, 32], { seed: 2, device: 'cpu' });
    parentPort.postMessage({ kind: 'spinning' });
    for (;;) {
      try {
        ds.matmul(a, b).dispose();
      } catch (e) {
        if (!failing) throw e;
      }
    }
  },
};

parentPort.on('message', (msg) => {
  const r = answer(() => tasks[msg.task](msg.args || {}));
  parentPort.postMessage({ kind: 'result', id: msg.id, ...r });
});
parentPort.postMessage({ kind: 'ready', threadId: require('node:worker_threads').threadId, workerData });
