/**
 * Fuzz test of the whole public surface and of the raw native addon.
 *
 * Every export of lib/index.ts (functions, constructors, static and instance
 * methods, getters and setters) has an entry below that knows a consistent set
 * of valid arguments and the kind of each argument. Each call replaces some
 * arguments with values from a table of malformed values for that kind (wrong
 * types, NaN, ±Infinity, negative, fractional and huge numbers, shapes whose
 * element count overflows 32 or 64 bits, wrong typed arrays, disposed handles,
 * objects that only look like tensors, CSR arrays with bad structure). A call
 * must return or throw a DynasparseError with a documented code; when exactly
 * one argument is malformed and its kind decides the code (a wrong type is
 * E_ARG, a disposed handle is E_DISPOSED) it must be that code. Calls with only
 * valid arguments must succeed. The generator is seeded (FUZZ_SEED overrides)
 * and bounded in count per function and in time; failures print the seed, the
 * function and the arguments.
 *
 * Sizes in the malformed tables are chosen so that an allocation that gets
 * through validation asks for petabytes (refused at once: E_OOM), never for a
 * few GiB that a machine might actually hand out and then fill.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import * as ds from '../lib';
import { native } from '../lib/native';
const cudaAvailable = ds.backends()[1].available;

const SEED = Number(process.env.FUZZ_SEED ?? 20260611);
const CALLS_PER_FUNCTION = Number(process.env.FUZZ_CALLS ?? 60);
const TIME_BUDGET_MS = Number(process.env.FUZZ_TIME_MS ?? 20000);
const CODES = new Set(['E_ARG', 'E_SHAPE', 'E_DEVICE', 'E_DISPOSED', 'E_FORMAT', 'E_OOM', 'E_CUDA', 'E_IO']);

/** mulberry32: small, seedable, good enough to pick table entries. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// ---------------------------------------------------------------------------
// Valid building blocks (small, on the CPU).
const dev: ds.Device = 'cpu';
const T = (shape: number[], seed = 1): ds.Tensor => ds.randn(shape, { seed });
const I32 = (values: number[]): ds.Tensor<'int32'> => ds.tensor(Int32Array.from(values), [values.length]);
const csr = (rows = 4, cols = 3, seed = 1): ds.CsrMatrix => ds.CsrMatrix.random(rows, cols, { nnzPerRow: Math.min(2, cols), seed });
const disposed = <X extends { dispose(): void }>(x: X): X => {
  x.dispose();
  return x;
};
const sparse24 = (): ds.Sparse24Matrix => ds.Sparse24Matrix.fromDense(ds.tensor([[1, 0, 2, 0], [0, 3, 0, 4]]));
const sgd = (): ds.SGD => new ds.SGD({ lr: 0.1 });
const model = (sparse = true): ds.Sequential => ds.mlp([4, 6, 3], { sparsity: 0.5, seed: 3, sparseLayers: sparse });
const labels = (): Int32Array => Int32Array.from([0, 2, 1]);

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'dynasparse-fuzz-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

// ---------------------------------------------------------------------------
// Malformed values by argument kind. 'type': the value is not of the kind at
// all (always E_ARG); 'disposed': a disposed handle (always E_DISPOSED); 'any':
// wrong in a way whose code depends on the function (shape, size, range, OOM).
type Cls = 'type' | 'disposed' | 'any';
interface Bad {
  label: string;
  cls: Cls;
  make: () => unknown;
}
const b = (cls: Cls, label: string, make: () => unknown): Bad => ({ cls, label, make });
const lit = (cls: Cls, value: unknown, label = String(value)): Bad => b(cls, label, () => value);

const notANumber: Bad[] = [
  lit('type', 'x', "'x'"),
  lit('type', '3', "'3'"),
  lit('type', null),
  lit('type', undefined),
  lit('type', {}, '{}'),
  lit('type', true),
  lit('type', 3n, '3n'),
  lit('type', NaN),
  lit('type', Infinity),
  lit('type', -Infinity),
];
const fakeTensor = (): unknown => ({ shape: [2, 2], size: 4, device: 'cpu', dtype: 'float32', _native: {}, disposed: false, toArray: () => new Float32Array(4) });
const notATensor: Bad[] = [
  lit('type', 'x', "'x'"),
  lit('type', 3),
  lit('type', null),
  lit('type', undefined),
  lit('type', {}, '{}'),
  b('type', 'a look-alike tensor', fakeTensor),
  b('type', 'a Float32Array', () => new Float32Array(4)),
  b('type', 'a nested array', () => [[1, 2], [3, 4]]),
  b('type', 'a CsrMatrix', () => csr()),
];
const shapesThatOverflow: Bad[] = [
  lit('any', [2 ** 20, 2 ** 20, 2 ** 20], '[2^20, 2^20, 2^20]'),
  lit('any', [2 ** 25, 2 ** 25], '[2^25, 2^25]'),
  lit('any', [2 ** 32, 2 ** 32, 2 ** 32], '[2^32, 2^32, 2^32]'),
  lit('any', [2 ** 31, 2 ** 31, 2 ** 31, 2 ** 31], '[2^31 x4]'),
  lit('any', [0, 2 ** 40], '[0, 2^40]'),
  lit('any', [2 ** 53 - 1, 2 ** 53 - 1], '[2^53-1, 2^53-1]'),
];

const TABLES: Record<string, Bad[]> = {
  // a float32 tensor
  tensor: [
    ...notATensor,
    b('disposed', 'a disposed tensor', () => disposed(T([2, 2]))),
    b('any', 'an int32 tensor', () => I32([0, 1, 2, 3])),
    b('any', 'an empty [0, 4] tensor', () => ds.zeros([0, 4])),
    b('any', 'a 3-D tensor', () => T([2, 2, 2])),
    b('any', 'a [7] tensor', () => T([7])),
    b('any', 'a NaN tensor', () => ds.full([3, 3], NaN)),
    b('any', 'an Infinity tensor', () => ds.full([4, 3], Infinity)),
  ],
  // an int32 tensor
  int32Tensor: [
    ...notATensor,
    b('disposed', 'a disposed int32 tensor', () => disposed(I32([0, 1]))),
    b('any', 'a float32 tensor', () => T([4])),
    b('any', 'an int32 tensor with -1 and 2^31-1', () => I32([-1, 2 ** 31 - 1, 0])),
    b('any', 'an empty int32 tensor', () => I32([])),
  ],
  csr: [
    ...notATensor.filter((x) => x.label !== 'a CsrMatrix'),
    b('type', 'a Tensor', () => T([2, 2])),
    b('type', 'a look-alike CSR', () => ({ rows: 2, cols: 2, nnz: 1, rowPtr: () => Int32Array.from([0, 1, 1]), colIdx: () => Int32Array.from([5]), values: T([1]) })),
    b('disposed', 'a disposed CsrMatrix', () => disposed(csr())),
    b('any', 'a 0x0 CsrMatrix', () => ds.CsrMatrix.fromArrays({ rows: 0, cols: 0, rowPtr: [0], colIdx: [], values: [] })),
    b('any', 'a 7x9 CsrMatrix', () => csr(7, 9)),
    b('any', 'an empty 4x3 CsrMatrix', () => ds.CsrMatrix.fromArrays({ rows: 4, cols: 3, rowPtr: [0, 0, 0, 0, 0], colIdx: [], values: [] })),
  ],
  sparse: [], // CsrMatrix | Sparse24Matrix: filled below
  sparse24: [
    ...notATensor.filter((x) => x.label !== 'a CsrMatrix'),
    b('disposed', 'a disposed Sparse24Matrix', () => disposed(sparse24())),
  ],
  // a non-negative integer count or size
  size: [...notANumber, lit('type', -1), lit('type', 1.5), lit('type', 2 ** 53), lit('any', 0), lit('any', 2 ** 31), lit('any', 2 ** 40), lit('any', 2 ** 53 - 1)],
  // k of a selection
  k: [...notANumber, lit('type', -1), lit('type', 1.5), lit('type', 2 ** 53), lit('any', 0), lit('any', 2 ** 31), lit('any', 2 ** 31 - 1), lit('any', 1e9)],
  // a count of units to grow: like k, but without the huge valid counts, which
  // would make the grow methods allocate gigabytes of host memory for real
  growK: [...notANumber, lit('type', -1), lit('type', 1.5), lit('type', 2 ** 53), lit('any', 0), lit('any', 2 ** 31)],
  // a step number
  step: [...notANumber, lit('type', -1), lit('type', 0.5), lit('type', 2 ** 53), lit('any', 0), lit('any', 2 ** 53 - 1)],
  // any finite number
  number: [...notANumber, lit('any', -1), lit('any', 0), lit('any', 1e30), lit('any', -1e-30), lit('any', 2 ** 53), lit('any', Number.MAX_VALUE)],
  // a fraction in [0, 1]
  fraction: [...notANumber, lit('any', -0.5), lit('any', 1.5), lit('any', 1), lit('any', 0), lit('any', 2 ** 31)],
  seed: [...notANumber.filter((x) => x.label !== '3n'), lit('type', -1), lit('type', 1.5), lit('type', -1n, '-1n'), lit('type', 2n ** 64n, '2n^64'), lit('any', 0), lit('any', 2n ** 64n - 1n, '2n^64-1'), lit('any', 2 ** 53 - 1)],
  shape: [
    lit('type', 'x', "'x'"),
    lit('type', null),
    lit('type', undefined),
    lit('type', 5),
    lit('type', { length: 2 }, '{length: 2}'),
    lit('type', [1.5], '[1.5]'),
    lit('type', [-2], '[-2]'),
    lit('type', [NaN], '[NaN]'),
    lit('type', ['2'], "['2']"),
    lit('type', [1, 1, 1, 1, 1, 1, 1, 1, 1], '9 dims'),
    ...shapesThatOverflow,
  ],
  // an options object (undefined is valid)
  options: [lit('type', 'x', "'x'"), lit('type', 5), lit('type', null), lit('type', [], '[]'), lit('type', { bogus: 1 }, '{bogus: 1}')],
  // a required options object: its fields are fuzzed by dedicated entries
  requiredOptions: [lit('type', 'x', "'x'"), lit('type', 5), lit('type', null), lit('type', undefined), lit('type', [], '[]'), lit('any', { bogus: 1 }, '{bogus: 1}'), lit('any', {}, '{}')],
  device: [lit('any', 'gpu', "'gpu'"), lit('any', 'cuda', "'cuda'"), lit('any', 5), lit('any', null), lit('any', 'cuda:7', "'cuda:7'"), lit('any', {}, '{}')],
  labels: [
    ...notATensor.filter((x) => x.label !== 'a CsrMatrix'),
    b('any', 'a Float32Array', () => Float32Array.from([0, 1, 2])),
    b('any', 'labels out of range', () => Int32Array.from([0, 7, -1])),
    b('any', 'too few labels', () => Int32Array.from([0])),
    b('disposed', 'a disposed int32 tensor', () => disposed(I32([0, 1, 2]))),
  ],
  int32Array: [
    lit('type', 'x', "'x'"),
    lit('type', null),
    lit('type', 5),
    b('type', 'a Float32Array', () => new Float32Array(2)),
    b('any', 'Int32Array [-1, 2^31-1]', () => Int32Array.from([-1, 2 ** 31 - 1])),
    b('any', 'Int32Array duplicates', () => Int32Array.from([0, 0, 0])),
    b('any', 'an empty Int32Array', () => new Int32Array(0)),
  ],
  bytes: [lit('type', 'x', "'x'"), lit('type', null), lit('type', 5), lit('type', {}, '{}'), b('any', 'random bytes', () => Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9])), b('any', 'empty', () => new Uint8Array(0)), b('any', 'a truncated checkpoint', () => validCheckpoint().subarray(0, 20)), b('any', 'a corrupted checkpoint', () => { const x = Uint8Array.from(validCheckpoint()); x[x.length - 3] ^= 0xff; return x; })],
  path: [lit('type', 5), lit('type', null), lit('type', {}, '{}'), lit('any', '', "''"), lit('any', '/nonexistent-dir/x/y.ckpt'), lit('any', '/', "'/'")],
  model: [lit('type', 'x', "'x'"), lit('type', null), lit('type', {}, '{}'), b('type', 'a Tensor', () => T([2, 2])), b('any', 'a disposed Sequential', () => disposed(model()))],
  layers: [lit('type', 'x', "'x'"), lit('type', null), lit('type', 5), lit('any', [{}], '[{}]'), b('any', 'a Linear layer array', () => [new ds.Linear(2, 2)])],
  optimizer: [lit('type', 'x', "'x'"), lit('type', null), lit('type', {}, '{}'), b('any', 'a disposed SGD', () => disposed(sgd()))],
  bool: [lit('any', 'x', "'x'"), lit('any', 1), lit('any', null), lit('any', {}, '{}')],
  array: [lit('type', 'x', "'x'"), lit('type', null), lit('type', 5), lit('any', [-1], '[-1]'), lit('any', [NaN, 2], '[NaN, 2]'), lit('any', [], '[]'), lit('any', [2 ** 40, 2 ** 40], '[2^40, 2^40]')],
  layerSpecs: [lit('type', 'x', "'x'"), lit('type', null), lit('any', [], '[]'), lit('any', [{ name: 'a', shape: [-1, 2] }], 'negative shape'), lit('any', [{ name: 'a', shape: [2 ** 40, 2 ** 40] }], 'huge shape'), lit('any', [{ name: 'a' }], 'no shape'), lit('any', [{ name: 'a', shape: [3, 3] }, { name: 'a', shape: [3, 3] }], 'duplicate names')],
  any: [lit('any', 'x', "'x'"), lit('any', null), lit('any', undefined), lit('any', -1), lit('any', NaN), lit('any', {}, '{}'), b('any', 'a disposed tensor', () => disposed(T([2])))],
};
// Optional arguments and option fields: undefined (and, for option fields read with ??, null) means the default.
const optional = (table: Bad[], alsoNull = false): Bad[] => table.filter((x) => x.label !== 'undefined' && !(alsoNull && x.label === 'null'));
TABLES.optShape = optional(TABLES.shape);
// A fill value may be any number, NaN and ±Infinity included.
TABLES.fillValue = TABLES.number.map((x) => (typeof x.make() === 'number' ? { ...x, cls: 'any' as Cls } : x));
TABLES.optTensor = optional(TABLES.tensor);
TABLES.optSeed = optional(TABLES.seed, true);
TABLES.optNumber = optional(TABLES.number, true);
TABLES.optStep = optional(TABLES.step, true);
// Tensor#reshape(...dims) also takes the dimensions as separate numbers, so a bare number is a shape.
TABLES.reshape = TABLES.shape.map((x) => ({ ...x, cls: 'any' as Cls }));
TABLES.sparse = [...TABLES.csr, b('disposed', 'a disposed Sparse24Matrix', () => disposed(sparse24()))];
/** The disposed instance of a class, as the receiver of its methods. */
TABLES.self = [];

function validCheckpoint(): Buffer {
  return ds.encodeCheckpoint({ metadata: { a: 1 }, arrays: { w: Float32Array.from([1, 2, 3]) } } as unknown as ds.CheckpointContents);
}

// ---------------------------------------------------------------------------
// Entries. `args()` returns consistent valid arguments; `kinds` names each
// argument's table. For instance members the first argument is the receiver
// (kind 'self'): its malformed value is a disposed receiver made by `dispose`,
// and `onDisposed` says what a disposed receiver gives (an error code, or 'ok').
interface Entry {
  kinds: string[];
  args: () => unknown[];
  call: (...a: any[]) => unknown; // eslint-disable-line @typescript-eslint/no-explicit-any
  onDisposed?: string;
}
const entries: Record<string, Entry> = {};
const fn = (name: string, kinds: string[], args: () => unknown[], call: (...a: any[]) => unknown): void => { // eslint-disable-line @typescript-eslint/no-explicit-any
  entries[name] = { kinds, args, call };
};
/** An instance member: the receiver is made by `make`, disposed receivers give `onDisposed`. */
const member = <S>(name: string, make: () => S, kinds: string[], args: () => unknown[], call: (self: S, ...a: any[]) => unknown, onDisposed = 'E_DISPOSED'): void => { // eslint-disable-line @typescript-eslint/no-explicit-any
  entries[name] = { kinds: ['self', ...kinds], args: () => [make(), ...args()], call: call as Entry['call'], onDisposed };
};
const none = (): unknown[] => [];

// errors, devices
fn('DynasparseError', ['any', 'any'], () => ['E_ARG', 'message'], (c, m) => new ds.DynasparseError(c, m));
fn('backends', [], none, () => ds.backends());
fn('defaultDevice', [], none, () => ds.defaultDevice());
fn('setDefaultDevice', ['device'], () => ['cpu'], (d) => ds.setDefaultDevice(d));
fn('memory', ['device'], () => ['cpu'], (d) => ds.memory(d));
fn('resetPeakMemory', ['device'], () => ['cpu'], (d) => ds.resetPeakMemory(d));
fn('synchronize', ['device'], () => ['cpu'], (d) => ds.synchronize(d));

// tensors
fn('tensor', ['any', 'optShape', 'options'], () => [new Float32Array(6), [2, 3], undefined], (d, s, o) => ds.tensor(d, s, o));
fn('zeros', ['shape', 'options'], () => [[2, 3], { device: dev }], (s, o) => ds.zeros(s, o));
fn('full', ['shape', 'fillValue', 'options'], () => [[2, 3], 1.5, undefined], (s, v, o) => ds.full(s, v, o));
fn('randn', ['shape', 'options'], () => [[3, 2], { seed: 4 }], (s, o) => ds.randn(s, o));
fn('rand', ['shape', 'options'], () => [[3, 2], { seed: 4, low: -1, high: 2 }], (s, o) => ds.rand(s, o));
entries.Tensor = { kinds: ['any', 'shape', 'device', 'any'], args: () => [{}, [2], 'cpu', 'float32'], call: () => { throw new ds.DynasparseError('E_ARG', 'Tensor: constructed by the library only'); } };
member('Tensor#disposed', () => T([2, 2]), [], none, (t) => t.disposed, 'ok');
member('Tensor#toArray', () => T([2, 2]), [], none, (t) => t.toArray());
member('Tensor#to', () => T([2, 2]), ['device'], () => ['cpu'], (t, d) => t.to(d));
member('Tensor#clone', () => T([2, 2]), [], none, (t) => t.clone());
member('Tensor#reshape', () => T([2, 3]), ['reshape'], () => [[3, -1]], (t, s) => t.reshape(s));
member('Tensor#transpose', () => T([2, 3]), [], none, (t) => t.transpose());
member('Tensor#dispose', () => T([2, 2]), [], none, (t) => t.dispose(), 'ok');
member('Tensor#[Symbol.dispose]', () => T([2, 2]), [], none, (t) => t[Symbol.dispose](), 'ok');
member('Tensor#toString', () => T([2, 2]), [], none, (t) => t.toString(), 'ok');

// CSR
fn('CsrMatrix', ['any'], () => [{}], () => { throw new ds.DynasparseError('E_ARG', 'CsrMatrix: constructed by the library only'); });
fn('CsrMatrix.fromArrays', ['csrArrays', 'options'], () => [{ rows: 3, cols: 4, rowPtr: [0, 2, 2, 3], colIdx: [0, 3, 1], values: [1, 2, 3] }, undefined], (a, o) => ds.CsrMatrix.fromArrays(a, o));
TABLES.csrArrays = [
  lit('type', 'x', "'x'"),
  lit('type', null),
  lit('any', { rows: 3, cols: 4, rowPtr: [0, 2, 2, 3], colIdx: [0, 4, 1], values: [1, 2, 3] }, 'column out of range'),
  lit('any', { rows: 3, cols: 4, rowPtr: [0, 2, 2, 3], colIdx: [3, 0, 1], values: [1, 2, 3] }, 'unsorted columns'),
  lit('any', { rows: 3, cols: 4, rowPtr: [0, 2, 2, 3], colIdx: [1, 1, 1], values: [1, 2, 3] }, 'duplicate columns'),
  lit('any', { rows: 3, cols: 4, rowPtr: [0, 2, 1, 3], colIdx: [0, 3, 1], values: [1, 2, 3] }, 'decreasing rowPtr'),
  lit('any', { rows: 3, cols: 4, rowPtr: [1, 2, 2, 3], colIdx: [0, 3, 1], values: [1, 2, 3] }, 'rowPtr not starting at 0'),
  lit('any', { rows: 3, cols: 4, rowPtr: [0, 2, 2, 9], colIdx: [0, 3, 1], values: [1, 2, 3] }, 'rowPtr past nnz'),
  lit('any', { rows: 3, cols: 4, rowPtr: [0, 2, 2], colIdx: [0, 3, 1], values: [1, 2, 3] }, 'short rowPtr'),
  lit('any', { rows: 3, cols: 4, rowPtr: [0, 2, 2, 3], colIdx: [0, 3, 1], values: [1, 2] }, 'short values'),
  lit('any', { rows: 3, cols: 4, rowPtr: [0, 2, 2, 3], colIdx: [0, -1, 1], values: [1, 2, 3] }, 'negative column'),
  lit('any', { rows: 3, cols: 4, rowPtr: [0, 2, 2, 2 ** 31 - 1], colIdx: [0, 3, 1], values: [1, 2, 3] }, 'rowPtr 2^31-1'),
  lit('any', { rows: 2 ** 31 - 2, cols: 4, rowPtr: [0, 1], colIdx: [0], values: [1] }, 'rows 2^31-2, short rowPtr'),
  lit('any', { rows: 3, cols: 4, rowPtr: new Float32Array(4), colIdx: [0, 3, 1], values: [1, 2, 3] }, 'Float32Array rowPtr'),
  lit('any', { rows: 3, cols: 4, rowPtr: [0, 2, 2, 3], colIdx: new Int32Array([0, 3, 1]), values: new Int32Array(3) }, 'Int32Array values'),
  lit('any', { rows: 3, cols: 4, rowPtr: { length: 2 ** 32 }, colIdx: [], values: [] }, 'rowPtr {length: 2^32}'),
  lit('any', { rows: 3, cols: 4, rowPtr: { length: -1 }, colIdx: [], values: [] }, 'rowPtr {length: -1}'),
  lit('any', { rows: 3, cols: 4, rowPtr: [0, 2, 2, 3], colIdx: [0, 3, 1.5], values: [1, 2, 3] }, 'fractional column'),
  lit('any', { rows: 3, cols: 4, rowPtr: [0, 2, 2, 3], colIdx: [0, 3, 1], values: ['a', 2, 3] }, 'string value'),
  lit('any', { rows: NaN, cols: 4, rowPtr: [0], colIdx: [], values: [] }, 'NaN rows'),
  lit('any', { rows: 1, cols: 2 ** 31, rowPtr: [0, 0], colIdx: [], values: [] }, 'cols 2^31'),
];
fn('CsrMatrix.fromDense', ['tensor', 'options'], () => [T([3, 4]), { threshold: 0.5 }], (d, o) => ds.CsrMatrix.fromDense(d, o));
fn('CsrMatrix.random', ['size', 'size', 'requiredOptions'], () => [5, 4, { density: 0.3, seed: 2 }], (r, c, o) => ds.CsrMatrix.random(r, c, o));
fn('CsrMatrix.random(nnzPerRow)', ['size', 'size', 'size', 'optSeed', 'any'], () => [5, 4, 2, 7, 'zeros'], (r, c, n, s, i) => ds.CsrMatrix.random(r, c, { nnzPerRow: n, seed: s, init: i }));
fn('CsrMatrix.random(density)', ['size', 'size', 'fraction'], () => [6, 6, 0.5], (r, c, d) => ds.CsrMatrix.random(r, c, { density: d }));
member('CsrMatrix#disposed', () => csr(), [], none, (m) => m.disposed, 'ok');
member('CsrMatrix#rowPtr', () => csr(), [], none, (m) => m.rowPtr());
member('CsrMatrix#colIdx', () => csr(), [], none, (m) => m.colIdx());
member('CsrMatrix#toDense', () => csr(), [], none, (m) => m.toDense());
member('CsrMatrix#transpose', () => csr(), [], none, (m) => m.transpose());
member('CsrMatrix#clone', () => csr(), [], none, (m) => m.clone());
member('CsrMatrix#dispose', () => csr(), [], none, (m) => m.dispose(), 'ok');
member('CsrMatrix#[Symbol.dispose]', () => csr(), [], none, (m) => m[Symbol.dispose](), 'ok');
member('CsrMatrix#toString', () => csr(), [], none, (m) => m.toString(), 'ok');
member('CsrMatrix#_native', () => csr(), ['any'], () => ['m'], (m, n) => m._native(n));
member('CsrMatrix#_transposedStructure', () => csr(), ['any'], () => ['m'], (m, n) => m._transposedStructure(n));
fn('gatherValues', ['tensor', 'int32Tensor', 'options'], () => [T([5]), I32([4, 0, 2]), undefined], (s, p, o) => ds.gatherValues(s, p, o));
fn('gatherValues(out)', ['tensor', 'int32Tensor', 'optTensor'], () => [T([5]), I32([4, 0, 2]), T([3])], (s, p, o) => ds.gatherValues(s, p, { out: o }));

// 2:4 sparse
fn('Sparse24Matrix', ['any'], () => [{}], () => { throw new ds.DynasparseError('E_ARG', 'Sparse24Matrix: constructed by the library only'); });
fn('Sparse24Matrix.fromDense', ['tensor'], () => [T([2, 8])], (d) => ds.Sparse24Matrix.fromDense(d));
member('Sparse24Matrix#nnz', sparse24, [], none, (m) => m.nnz, 'ok');
member('Sparse24Matrix#disposed', sparse24, [], none, (m) => m.disposed, 'ok');
member('Sparse24Matrix#metadata', sparse24, [], none, (m) => m.metadata());
member('Sparse24Matrix#toDense', sparse24, [], none, (m) => m.toDense());
member('Sparse24Matrix#mask', sparse24, [], none, (m) => m.mask());
member('Sparse24Matrix#dispose', sparse24, [], none, (m) => m.dispose(), 'ok');
member('Sparse24Matrix#[Symbol.dispose]', sparse24, [], none, (m) => m[Symbol.dispose](), 'ok');
member('Sparse24Matrix#toString', sparse24, [], none, (m) => m.toString(), 'ok');
member('Sparse24Matrix#_native', sparse24, ['any'], () => ['m'], (m, n) => m._native(n));

// kernels
fn('spmm', ['sparse', 'tensor', 'options'], () => [csr(4, 3), T([3, 5]), undefined], (a, x, o) => ds.spmm(a, x, o));
fn('spmm(options)', ['bool', 'optNumber', 'optNumber', 'optTensor'], () => [false, 1, 0, T([4, 5])], (t, al, be, out) => ds.spmm(csr(4, 3), T([3, 5]), { transA: t, alpha: al, beta: be, out }));
fn('spmm(precision)', ['any'], () => ['fp32'], (p) => ds.spmm(ds.Sparse24Matrix.fromDense(T([4, 8])), T([8, 5]), { precision: p as 'fp32' }));
fn('sddmm', ['tensor', 'tensor', 'csr', 'options'], () => [T([4, 2]), T([2, 3]), csr(4, 3), undefined], (a, x, p, o) => ds.sddmm(a, x, p, o));
fn('matmul', ['tensor', 'tensor', 'options'], () => [T([2, 3]), T([3, 4]), { alpha: 2 }], (a, x, o) => ds.matmul(a, x, o));
fn('matmul(options)', ['bool', 'bool', 'optNumber', 'optNumber', 'tensor'], () => [true, false, 2, 1, T([3, 4])], (ta, tb, al, be, out) => ds.matmul(T([2, 3]), T([2, 4]), { transA: ta, transB: tb, alpha: al, beta: be, out }));
fn('relu', ['tensor'], () => [T([3, 2])], (x) => ds.relu(x));
fn('reluBackward', ['tensor', 'tensor'], () => [T([3, 2]), T([3, 2], 2)], (d, x) => ds.reluBackward(d, x));
fn('addBias', ['tensor', 'tensor', 'options'], () => [T([3, 2]), T([3]), undefined], (y, bi, o) => ds.addBias(y, bi, o));
fn('biasGrad', ['tensor'], () => [T([3, 2])], (d) => ds.biasGrad(d));
fn('softmaxCrossEntropy', ['tensor', 'labels'], () => [T([3, 3]), labels()], (l, y) => ds.softmaxCrossEntropy(l, y));
fn('accuracy', ['tensor', 'labels'], () => [T([3, 3]), labels()], (l, y) => ds.accuracy(l, y));
fn('add', ['tensor', 'tensor'], () => [T([3, 2]), T([3, 2], 5)], (a, x) => ds.add(a, x));
fn('axpy', ['number', 'tensor', 'tensor'], () => [0.5, T([3, 2]), T([3, 2], 5)], (a, x, y) => ds.axpy(a, x, y));
fn('topkGrowth', ['tensor', 'tensor', 'csr', 'k'], () => [T([4, 2]), T([3, 2]), csr(4, 3), 2], (d, x, p, k) => ds.topkGrowth(d, x, p, k));
fn('topkDense', ['tensor', 'csr', 'k'], () => [T([4, 3]), csr(4, 3), 2], (d, p, k) => ds.topkDense(d, p, k));
fn('bottomkMagnitude', ['csr', 'k'], () => [csr(4, 3), 3], (m, k) => ds.bottomkMagnitude(m, k));
fn('growNeurons', ['any', 'any', 'growK', 'requiredOptions'], () => [new ds.Linear(3, 4, { seed: 1 }), new ds.Linear(4, 2, { seed: 2 }), 1, { method: 'zeros' }], (p, n, k, o) => ds.growNeurons(p, n, k, o));
fn('gradmaxOutgoing', ['tensor', 'tensor', 'k', 'options'], () => [T([4, 6]), T([3, 6]), 2, { seed: 1 }], (g, a, k, o) => ds.gradmaxOutgoing(g, a, k, o));
fn('rebuildTopology', ['csr', 'int32Array', 'int32Array', 'int32Array'], () => [csr(4, 3), Int32Array.from([0]), Int32Array.from([0]), Int32Array.from([firstFree(csr(4, 3))])], (p, d, r, c) => ds.rebuildTopology(p, d, r, c));
fn('gatherByMap', ['tensor', 'int32Tensor'], () => [T([4]), I32([3, -1, 0])], (s, m) => ds.gatherByMap(s, m));
fn('randomGrowth', ['csr', 'k', 'seed', 'seed'], () => [csr(4, 3), 2, 1, 2], (p, k, s, n) => ds.randomGrowth(p, k, s, n));

/** A column of row 0 that the pattern does not hold (csr(4, 3) holds 2 of 3). */
function firstFree(m: ds.CsrMatrix): number {
  const taken = new Set(Array.from(m.colIdx().subarray(m.rowPtr()[0], m.rowPtr()[1])));
  m.dispose();
  return [0, 1, 2].find((c) => !taken.has(c)) as number;
}

// checkpoints
fn('crc32', ['bytes'], () => [Uint8Array.from([1, 2, 3])], (x) => ds.crc32(x));
fn('encodeCheckpoint', ['any'], () => [{ metadata: { a: 1 }, arrays: { w: Float32Array.from([1]) } }], (c) => ds.encodeCheckpoint(c));
fn('decodeCheckpoint', ['bytes', 'any'], () => [validCheckpoint(), 'x'], (x, s) => ds.decodeCheckpoint(x, s));
fn('writeCheckpointFile', ['path', 'any'], () => [path.join(tmp, 'w.ckpt'), { metadata: {}, arrays: {} }], (p, c) => ds.writeCheckpointFile(p, c));
fn('readCheckpointFile', ['path'], () => { const p = path.join(tmp, 'r.ckpt'); fs.writeFileSync(p, validCheckpoint()); return [p]; }, (p) => ds.readCheckpointFile(p));
entries.CHECKPOINT_VERSION = { kinds: [], args: none, call: () => ds.CHECKPOINT_VERSION };

// distributions, schedules
const specs = (): ds.LayerSpec[] => [{ name: 'a', shape: [8, 4] }, { name: 'b', shape: [3, 8] }];
fn('uniform', ['layerSpecs', 'fraction', 'options'], () => [specs(), 0.5, undefined], (l, s, o) => ds.uniform(l, s, o));
fn('erdosRenyi', ['layerSpecs', 'fraction', 'options'], () => [specs(), 0.5, undefined], (l, s, o) => ds.erdosRenyi(l, s, o));
fn('erk', ['layerSpecs', 'fraction', 'options'], () => [specs(), 0.5, undefined], (l, s, o) => ds.erk(l, s, o));
fn('sparsityDistribution', ['any', 'layerSpecs', 'fraction', 'options'], () => ['erk', specs(), 0.5, undefined], (n, l, s, o) => ds.sparsityDistribution(n, l, s, o));
fn('constant', ['number'], () => [0.1], (v) => ds.constant(v)(3));
fn('cosineDecay', ['number', 'step', 'options'], () => [0.1, 100, undefined], (v, e, o) => ds.cosineDecay(v, e, o)(7));
fn('cosineDecay(step)', ['step'], () => [5], (s) => ds.cosineDecay(0.3, 10)(s));
fn('gradualPruning', ['fraction', 'step', 'step'], () => [0.9, 0, 100], (f, bgn, e) => ds.gradualPruning({ finalSparsity: f, beginStep: bgn, endStep: e })(50));
fn('gradualPruning(options)', ['requiredOptions'], () => [{ finalSparsity: 0.5, beginStep: 0, endStep: 10 }], (o) => ds.gradualPruning(o)(3));
fn('UpdateSchedule', ['step', 'step'], () => [10, 100], (u, e) => new ds.UpdateSchedule({ updateEvery: u, endStep: e }));
member('UpdateSchedule#isUpdateStep', () => new ds.UpdateSchedule({ updateEvery: 10, endStep: 100 }), ['step'], () => [20], (s, n) => s.isUpdateStep(n), 'ok');

// optimizers
const param = (): ds.ParamUpdate => ({ value: T([3, 2]), grad: T([3, 2], 2) });
fn('Optimizer', ['any'], () => [{}], () => { throw new ds.DynasparseError('E_ARG', 'Optimizer: abstract'); });
fn('SGD', ['number', 'optNumber'], () => [0.1, 0.9], (lr, m) => new ds.SGD({ lr, momentum: m }));
fn('SGD(options)', ['requiredOptions'], () => [{ lr: 0.1 }], (o) => new ds.SGD(o));
fn('Adam', ['number', 'optNumber', 'optNumber'], () => [0.1, 0.9, 0.999], (lr, b1, b2) => new ds.Adam({ lr, beta1: b1, beta2: b2 }));
fn('Adam(options)', ['requiredOptions'], () => [{ lr: 0.1 }], (o) => new ds.Adam(o));
for (const [cls, make] of [['SGD', () => new ds.SGD({ lr: 0.1, momentum: 0.9 })], ['Adam', () => new ds.Adam({ lr: 0.1 })], ['Optimizer', () => new ds.SGD({ lr: 0.1, momentum: 0.9 })]] as [string, () => ds.Optimizer][]) {
  member(`${cls}#lr`, make, ['number'], () => [0.2], (o, v) => { o.lr = v; return o.lr; }, 'any');
  member(`${cls}#stepCount`, make, [], none, (o) => o.stepCount, 'ok');
  member(`${cls}#disposed`, make, [], none, (o) => o.disposed, 'ok');
  member(`${cls}#step`, make, ['tensor', 'tensor'], () => [T([3, 2]), T([3, 2], 2)], (o, v, g) => o.step([{ value: v, grad: g }]));
  member(`${cls}#step(list)`, make, ['any'], () => [[param()]], (o, l) => o.step(l));
  member(`${cls}#state`, make, ['any'], () => [{}], (o, k) => o.state(k));
  member(`${cls}#remapState`, make, ['any', 'any'], () => [{}, Int32Array.from([0])], (o, k, m) => o.remapState(k, m));
  member(`${cls}#disposeState`, make, ['any'], () => [{}], (o, k) => o.disposeState(k));
  member(`${cls}#dispose`, make, [], none, (o) => o.dispose(), 'ok');
  member(`${cls}#[Symbol.dispose]`, make, [], none, (o) => o[Symbol.dispose](), 'ok');
}

// layers
fn('toFeatureMajor', ['any', 'size', 'size', 'options'], () => [Float32Array.from([1, 2, 3, 4, 5, 6]), 2, 3, undefined], (d, bt, f, o) => ds.toFeatureMajor(d, bt, f, o));
fn('toBatchMajor', ['tensor'], () => [T([3, 2])], (t) => ds.toBatchMajor(t));
fn('Linear', ['size', 'size', 'options'], () => [3, 2, { seed: 1 }], (i, o, opt) => new ds.Linear(i, o, opt));
fn('SparseLinear', ['size', 'size', 'options'], () => [4, 3, { density: 0.5, seed: 1 }], (i, o, opt) => new ds.SparseLinear(i, o, opt));
fn('ReLU', [], none, () => new ds.ReLU());
fn('Sequential', ['layers'], () => [[new ds.Linear(3, 2)]], (l) => new ds.Sequential(l));
fn('mlp', ['array', 'options'], () => [[4, 3, 2], { sparsity: 0.5 }], (s, o) => ds.mlp(s, o));
const linear = (): ds.Linear => new ds.Linear(3, 2, { seed: 1 });
const sparseLinear = (): ds.SparseLinear => new ds.SparseLinear(4, 3, { density: 0.5, seed: 1 });
const relu = (): ds.ReLU => new ds.ReLU();
const seq = (): ds.Sequential => model();
const layerMembers: [string, () => ds.Layer & { [Symbol.dispose](): void }, number[], number[]][] = [
  ['Linear', linear, [3, 2], [2, 2]],
  ['SparseLinear', sparseLinear, [4, 2], [3, 2]],
  ['ReLU', relu, [3, 2], [3, 2]],
  ['Sequential', seq, [4, 2], [3, 2]],
];
for (const [cls, make, xShape, dyShape] of layerMembers) {
  member(`${cls}#forward`, make, ['tensor'], () => [T([...xShape])], (l, x) => l.forward(x), cls === 'ReLU' ? 'ok' : 'E_DISPOSED');
  member(`${cls}#backward`, () => { const l = make(); l.forward(T([...xShape])); return l; }, ['tensor', 'bool'], () => [T([...dyShape]), true], (l, d, n) => l.backward(d, n), 'any');
  member(`${cls}#parameters`, make, [], none, (l) => l.parameters(), 'any');
  member(`${cls}#dispose`, make, [], none, (l) => l.dispose(), 'ok');
  member(`${cls}#[Symbol.dispose]`, make, [], none, (l) => l[Symbol.dispose](), 'ok');
  member(`${cls}#toString`, make, [], none, (l) => l.toString(), 'ok');
}
member('Linear#weight', linear, [], none, (l) => l.weight, 'any');
member('Linear#bias', linear, [], none, (l) => l.bias, 'any');
member('Linear#setWeight', linear, ['tensor'], () => [T([2, 3])], (l, w) => l.setWeight(w), 'any');
member('Linear#setBias', linear, ['tensor'], () => [T([2])], (l, v) => l.setBias(v), 'any');
member('Linear#disposed', linear, [], none, (l) => l.disposed, 'ok');
for (const g of ['weight', 'bias', 'weightGrad', 'biasGrad', 'lastInput', 'lastOutputGrad'] as const) {
  member(`SparseLinear#${g}`, sparseLinear, [], none, (l) => l[g], 'any');
}
member('SparseLinear#setWeight', sparseLinear, ['csr'], () => [csr(3, 4)], (l, w) => l.setWeight(w), 'any');
member('SparseLinear#setBias', sparseLinear, ['tensor'], () => [T([3])], (l, v) => l.setBias(v), 'any');
member('SparseLinear#disposed', sparseLinear, [], none, (l) => l.disposed, 'ok');
member('Linear#growOutputs', linear, ['growK', 'any'], () => [1, undefined], (l, k, w) => l.growOutputs(k, w), 'any');
member('Linear#growInputs', linear, ['growK', 'any'], () => [1, undefined], (l, k, c) => l.growInputs(k, c), 'any');
member('SparseLinear#growOutputs', sparseLinear, ['csr'], () => [csr(1, 4)], (l, r) => l.growOutputs(r), 'any');
member('SparseLinear#growInputs', sparseLinear, ['growK', 'any'], () => [1, undefined], (l, k, c) => l.growInputs(k, c), 'any');
member('Sequential#sparseLayers', seq, [], none, (s) => s.sparseLayers(), 'any');
member('Sequential#weightLayers', seq, [], none, (s) => s.weightLayers(), 'any');

// training
const trainer = (): ds.Trainer => { const m = model(); const o = sgd(); return new ds.Trainer({ model: m, optimizer: o, updater: new ds.RigL({ layers: m, optimizer: o, endStep: 100, updateEvery: 1 }) }); };
fn('Trainer', ['model', 'optimizer', 'optStep'], () => [model(), sgd(), 0], (m, o, s) => new ds.Trainer({ model: m, optimizer: o, step: s }));
fn('Trainer(options)', ['requiredOptions'], () => [{ model: model(), optimizer: sgd() }], (o) => new ds.Trainer(o));
// Trainer#dispose frees only the step's transients: the trainer keeps working.
member('Trainer#step', trainer, ['tensor', 'labels'], () => [T([4, 3]), labels()], (t, x, y) => t.step(x, y), 'ok');
member('Trainer#stepNumber', trainer, ['step'], () => [5], (t, s) => { t.stepNumber = s; return t.stepNumber; }, 'any');
member('Trainer#dispose', trainer, [], none, (t) => t.dispose(), 'ok');
member('Trainer#[Symbol.dispose]', trainer, [], none, (t) => t[Symbol.dispose](), 'ok');
fn('save', ['path', 'any'], () => [path.join(tmp, 's.ckpt'), trainer()], (p, t) => ds.save(p, t));
fn('load', ['path', 'any'], () => { const t = trainer(); const p = path.join(tmp, 'l.ckpt'); ds.save(p, t); return [p, t]; }, (p, t) => ds.load(p, t));

// updaters
type UpdaterLike = ds.Updater & { dispose(): void; [Symbol.dispose](): void; readonly disposed: boolean; seed?: number | bigint; dropFraction?(s: number): number; observe?(s: number): void; _saveState(): unknown; _loadState(s: unknown): void };
const updaterClasses: [string, (o: any) => UpdaterLike][] = [ // eslint-disable-line @typescript-eslint/no-explicit-any
  ['Static', (o) => new ds.Static(o) as unknown as UpdaterLike],
  ['SET', (o) => new ds.SET({ ...o, endStep: 100, updateEvery: 1 }) as unknown as UpdaterLike],
  ['RigL', (o) => new ds.RigL({ ...o, endStep: 100, updateEvery: 1 }) as unknown as UpdaterLike],
  ['SNFS', (o) => new ds.SNFS({ ...o, endStep: 100, updateEvery: 1 }) as unknown as UpdaterLike],
  ['MagnitudePruning', (o) => new ds.MagnitudePruning({ ...o, finalSparsity: 0.8, beginStep: 0, endStep: 100, updateEvery: 1 }) as unknown as UpdaterLike],
];
for (const [cls, make] of updaterClasses) {
  /** An updater on a model that has done one forward/backward (RigL needs gradients). */
  const trained = (): UpdaterLike => {
    const m = model();
    const o = sgd();
    const t = new ds.Trainer({ model: m, optimizer: o });
    t.step(T([4, 3]), labels());
    const u = make({ layers: m, optimizer: o });
    u.observe?.(1);
    return u;
  };
  fn(cls, ['model', 'optimizer'], () => [model(), sgd()], (m, o) => make({ layers: m, optimizer: o }));
  fn(`${cls}(options)`, ['requiredOptions'], () => [{ layers: model(), optimizer: sgd() }], (o) => make(o));
  member(`${cls}#isUpdateStep`, trained, ['step'], () => [4], (u, s) => u.isUpdateStep(s), 'any');
  member(`${cls}#update`, trained, ['step'], () => [4], (u, s) => u.update(s), 'any');
  member(`${cls}#observe`, trained, ['step'], () => [4], (u, s) => u.observe?.(s), 'any');
  member(`${cls}#dispose`, trained, [], none, (u) => u.dispose(), 'ok');
  member(`${cls}#[Symbol.dispose]`, trained, [], none, (u) => u[Symbol.dispose](), 'ok');
  member(`${cls}#disposed`, trained, [], none, (u) => u.disposed, 'ok');
  if (cls !== 'Static' && cls !== 'MagnitudePruning') {
    member(`${cls}#seed`, trained, [], none, (u) => u.seed, 'ok');
    member(`${cls}#dropFraction`, trained, ['step'], () => [10], (u, st) => u.dropFraction?.(st), 'ok');
  }
}
member('SNFS#momentumOf', () => new ds.SNFS({ layers: model(), optimizer: sgd(), endStep: 10 }), ['size'], () => [0], (u, i) => u.momentumOf(i), 'any');
member('MagnitudePruning#targetSparsity', () => new ds.MagnitudePruning({ layers: model(), optimizer: sgd(), finalSparsity: 0.8, beginStep: 0, endStep: 10 }), ['step'], () => [5], (u, s) => u.targetSparsity(s), 'any');

// ---------------------------------------------------------------------------
// Enumerating the exports: every function, class, static member and instance
// member (methods, getters, setters, up the class chain) needs an entry.
/**
 * Members that are not public API: TypeScript `private`/`protected` members
 * (found in the lib/ sources, so a new public method cannot hide here) and
 * `_`-prefixed @internal plumbing (checkpoint restore, native views) that only
 * lib/ calls, with values it made itself.
 */
function internalMembers(): Set<string> {
  const names = new Set<string>();
  const walk = (dir: string): void => {
    for (const f of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, f.name);
      if (f.isDirectory()) walk(p);
      else if (f.name.endsWith('.ts')) {
        const src = fs.readFileSync(p, 'utf8');
        for (const m of src.matchAll(/^\s+(?:private|protected)\s+(?:(?:readonly|abstract|static|get|set)\s+)*(\w+)/gm)) names.add(m[1]);
      }
    }
  };
  walk(path.join(__dirname, '..', 'lib'));
  return names;
}

function exportedMembers(): string[] {
  const internal = internalMembers();
  const keyName = (k: string | symbol): string => (k === Symbol.dispose ? '[Symbol.dispose]' : typeof k === 'symbol' ? `[${k.description}]` : k);
  const names: string[] = [];
  for (const [name, value] of Object.entries(ds)) {
    names.push(name);
    if (typeof value !== 'function' || !/^class\b/.test(Function.prototype.toString.call(value))) continue;
    for (const key of Object.getOwnPropertyNames(value)) if (!['length', 'name', 'prototype'].includes(key) && !key.startsWith('_') && !internal.has(key)) names.push(`${name}.${key}`);
    for (let proto = value.prototype; proto && proto !== Object.prototype && proto !== Error.prototype; proto = Object.getPrototypeOf(proto)) {
      for (const key of [...Object.getOwnPropertyNames(proto), ...Object.getOwnPropertySymbols(proto)].map(keyName)) {
        if (key !== 'constructor' && !key.startsWith('_') && !internal.has(key) && !names.includes(`${name}#${key}`)) names.push(`${name}#${key}`);
      }
    }
  }
  return names;
}

// ---------------------------------------------------------------------------
function describeArg(v: unknown): string {
  if (typeof v === 'bigint') return `${v}n`;
  if (v instanceof ds.Tensor) return v.toString();
  if (v instanceof ds.CsrMatrix || v instanceof ds.Sparse24Matrix) return v.toString();
  if (ArrayBuffer.isView(v)) return `${v.constructor.name}(${(v as Uint8Array).length})`;
  try {
    const s = JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? `${x}n` : typeof x === 'number' && !Number.isFinite(x) ? String(x) : x));
    return s === undefined ? String(v) : s.slice(0, 120);
  } catch {
    return Object.prototype.toString.call(v);
  }
}

/** Frees what a call returned (tensors, matrices, layers; one level into objects and arrays). */
function release(value: unknown, depth = 0): void {
  if (value === null || typeof value !== 'object' || depth > 2) return;
  if (typeof (value as { dispose?: unknown }).dispose === 'function') {
    try {
      (value as { dispose(): void }).dispose();
    } catch {
      /* already disposed or not ours */
    }
    return;
  }
  if (ArrayBuffer.isView(value)) return;
  for (const v of Object.values(value)) release(v, depth + 1);
}

interface Failure {
  name: string;
  seed: number;
  call: number;
  args: string;
  problem: string;
}

// Native functions that exist for CUDA data only: on the CPU tensors the fuzz
// builds, even their valid calls are E_DEVICE.
const CUDA_ONLY = new Set(['native.sparse24MmaPack']);

function fuzzEntry(name: string, entry: Entry, seed: number, calls: number, deadline: number): { made: number; failures: Failure[] } {
  const random = rng(seed);
  const failures: Failure[] = [];
  let made = 0;
  for (let call = 0; call < calls && Date.now() < deadline; call++) {
    const args = entry.args();
    const labels: string[] = [];
    const malformed: Cls[] = [];
    const roll = random();
    // A quarter of the calls are all valid; most replace one argument; some several.
    const count = entry.kinds.length === 0 || roll < 0.25 ? 0 : roll < 0.85 ? 1 : Math.min(entry.kinds.length, 2 + Math.floor(random() * 2));
    const positions = new Set<number>();
    while (positions.size < count) positions.add(Math.floor(random() * entry.kinds.length));
    for (const i of positions) {
      const kind = entry.kinds[i];
      if (kind === 'self') {
        release(args[0]);
        malformed.push('disposed');
        labels.push('this: disposed');
        continue;
      }
      const table = TABLES[kind];
      if (!table) throw new Error(`fuzz entry ${name}: no table for kind '${kind}'`);
      const bad = table[Math.floor(random() * table.length)];
      release(args[i]);
      args[i] = bad.make();
      malformed.push(bad.cls);
      labels.push(`arg ${i} (${kind}): ${bad.label}`);
    }
    made++;
    let expected: string | undefined;
    if (malformed.length === 1) {
      if (entry.kinds[[...positions][0]] === 'self') expected = entry.onDisposed;
      else if (malformed[0] === 'type') expected = 'E_ARG';
      else if (malformed[0] === 'disposed') expected = 'E_DISPOSED';
    }
    const report = (problem: string): void => {
      failures.push({ name, seed, call, args: labels.length ? labels.join('; ') : `valid: ${args.map(describeArg).join(', ')}`, problem });
    };
    try {
      const result = entry.call(...args);
      if (expected !== undefined && expected !== 'ok' && expected !== 'any') report(`returned normally, expected ${expected}`);
      release(result);
    } catch (e) {
      const err = e as { name?: string; code?: string; message?: string };
      const isOurs = e instanceof ds.DynasparseError || err?.name === 'DynasparseError';
      if (!isOurs) report(`threw ${err?.name}: ${err?.message ?? String(e)}`);
      else if (!CODES.has(err.code as string)) report(`threw an undocumented code ${err.code}`);
      else if (count === 0 && CUDA_ONLY.has(name) && err.code === 'E_DEVICE') { /* the fuzz runs on the CPU */ }
      else if (count === 0 && !['Tensor', 'CsrMatrix', 'Sparse24Matrix', 'Optimizer'].includes(name)) report(`valid call threw ${err.code}: ${err.message}`);
      else if (expected === 'ok') report(`threw ${err.code} (${err.message}), expected to work`);
      else if (expected !== undefined && expected !== 'any' && err.code !== expected) report(`threw ${err.code} (${err.message}), expected ${expected}`);
    }
    for (const a of args) release(a);
  }
  return { made, failures };
}

describe('fuzz: the public API', () => {
  it('has a fuzz entry for every export, method, getter and setter', () => {
    const missing = exportedMembers().filter((n) => !(n in entries) && !Object.keys(entries).some((e) => e.startsWith(`${n}(`)));
    expect(missing).toEqual([]);
  });

  it('every call returns or throws a DynasparseError with the right code', () => {
    const start = Date.now();
    const names = Object.keys(entries);
    const budget = (TIME_BUDGET_MS * 0.7) / names.length;
    const counts: Record<string, number> = {};
    const failures: Failure[] = [];
    names.forEach((name, i) => {
      const r = fuzzEntry(name, entries[name], SEED + i * 7919, CALLS_PER_FUNCTION, Date.now() + budget);
      counts[name] = r.made;
      failures.push(...r.failures);
    });
    const total = Object.values(counts).reduce((a, c) => a + c, 0);
    // eslint-disable-next-line no-console
    console.log(`fuzz (seed ${SEED}): ${total} calls over ${names.length} entries in ${Date.now() - start} ms\n` + names.map((n) => `${n.padEnd(40)} ${counts[n]}`).join('\n'));
    const seen = new Set<string>();
    const distinct = failures.filter((f) => { const key = `${f.name} ${f.problem.slice(0, 40)}`; const fresh = !seen.has(key); seen.add(key); return fresh; });
    const shown = distinct.slice(0, Number(process.env.FUZZ_SHOW ?? 30)).map((f) => `${f.name} [seed ${f.seed}, call ${f.call}] ${f.args}\n    -> ${f.problem}`);
    expect(shown).toEqual([]);
    expect(total).toBeGreaterThanOrEqual(names.length * 10);
  });
});

// ---------------------------------------------------------------------------
// The raw addon: the C++ binding validates again everything that indexes
// memory, so it is fuzzed directly with the same rules. Native handles come
// from live library objects; CSR arguments are { rowPtr, colIdx, values, rows,
// cols } objects of handles. What the binding cannot check is the *content* of
// a CSR structure (sorted, in-range columns): it trusts structures the library
// made (validated once at creation), so the malformed CSR values below break
// consistency (lengths, dtypes, devices, disposed parts), not content.
const nat = (native as unknown) as Record<string, (...a: unknown[]) => unknown>;
const h = (t: ds.Tensor<ds.DType>): unknown => t._native;
const nCsr = (rows = 4, cols = 3): Record<string, unknown> => ({ ...csr(rows, cols)._native() });
const nS24 = (): unknown => sparse24()._native();
const notAHandle: Bad[] = [
  lit('type', 'x', "'x'"),
  lit('type', 3),
  lit('type', null),
  lit('type', undefined),
  lit('type', {}, '{}'),
  b('type', 'a Tensor (not its handle)', () => T([2, 2])),
  b('type', 'a Float32Array', () => new Float32Array(4)),
  b('type', 'a native CSR object', () => nCsr()),
];
Object.assign(TABLES, {
  nTensor: [...notAHandle, b('disposed', 'a disposed handle', () => h(disposed(T([2, 2])))), b('any', 'an int32 handle', () => h(I32([0, 1, 2]))), b('any', 'an empty handle', () => h(ds.zeros([0, 3]))), b('any', 'a 3-D handle', () => h(T([2, 2, 2]))), b('any', 'a NaN handle', () => h(ds.full([3, 3], NaN)))],
  nInt32: [...notAHandle, b('disposed', 'a disposed int32 handle', () => h(disposed(I32([0])))), b('any', 'a float handle', () => h(T([3]))), b('any', 'an int32 handle [-1, 2^31-1, 0]', () => h(I32([-1, 2 ** 31 - 1, 0])))],
  nCsr: [
    ...notAHandle.filter((x) => x.label !== 'a native CSR object'),
    b('disposed', 'a CSR with a disposed values part', () => { const m = csr(); const n = { ...m._native() }; m.values.dispose(); return n; }),
    b('disposed', 'a CSR with a disposed colIdx part', () => { const m = csr(); const n = { ...m._native() }; native.tensorDispose(n.colIdx); return n; }),
    b('any', 'rows = 99', () => ({ ...nCsr(), rows: 99 })),
    b('any', 'rows = -1', () => ({ ...nCsr(), rows: -1 })),
    b('any', 'rows NaN', () => ({ ...nCsr(), rows: NaN })),
    b('any', 'rows = 2^53', () => ({ ...nCsr(), rows: 2 ** 53 })),
    b('any', 'cols = 2^31', () => ({ ...nCsr(), cols: 2 ** 31 })),
    b('any', 'cols = -5', () => ({ ...nCsr(), cols: -5 })),
    b('any', "cols = '3'", () => ({ ...nCsr(), cols: '3' })),
    b('any', 'rowPtr and colIdx swapped', () => { const n = nCsr(); return { ...n, rowPtr: n.colIdx, colIdx: n.rowPtr }; }),
    b('any', 'float rowPtr', () => ({ ...nCsr(), rowPtr: h(T([5])) })),
    b('any', 'int32 values', () => { const n = nCsr(); return { ...n, values: n.colIdx }; }),
    b('any', 'short values', () => ({ ...nCsr(), values: h(T([1])) })),
    b('any', 'no colIdx', () => { const n = nCsr(); delete n.colIdx; return n; }),
    b('any', 'a 7x9 CSR', () => nCsr(7, 9)),
  ],
  nS24: [...notAHandle, b('disposed', 'a disposed 2:4 values part', () => { const m = sparse24(); const n = { ...m._native() }; native.tensorDispose(n.values); return n; }), b('any', 'cols = 8', () => ({ ...(nS24() as object), cols: 8 })), b('any', 'rows = 0', () => ({ ...(nS24() as object), rows: 0 })), b('any', 'meta and values swapped', () => { const n = nS24() as Record<string, unknown>; return { ...n, meta: n.values, values: n.meta }; })],
  nDevice: [lit('any', 'gpu', "'gpu'"), lit('any', 'cuda', "'cuda'"), lit('type', 5), lit('type', null), lit('type', undefined), lit('any', '', "''")],
  nBool: [lit('type', 'x', "'x'"), lit('type', 1), lit('type', null), lit('type', undefined)],
  nString: [lit('type', 5), lit('type', null), lit('type', undefined), lit('any', 'bogus', "'bogus'")],
  nFloat32Array: [lit('type', 'x', "'x'"), lit('type', null), lit('type', [1, 2], '[1, 2]'), b('type', 'an Int8Array', () => new Int8Array(4)), b('any', 'an Int32Array', () => new Int32Array(4)), b('any', 'a Float64Array', () => new Float64Array(4)), b('any', 'an empty Float32Array', () => new Float32Array(0))],
  nInt32Array: [lit('type', 'x', "'x'"), lit('type', null), lit('type', [0], '[0]'), b('type', 'a Float32Array', () => new Float32Array(2)), b('any', 'an Int32Array [-1, 2^31-1]', () => Int32Array.from([-1, 2 ** 31 - 1])), b('any', 'Int32Array duplicates', () => Int32Array.from([0, 0, 0])), b('any', 'an empty Int32Array', () => new Int32Array(0))],
  nShape: [...TABLES.shape],
});
TABLES.nTensorOrNull = optional(TABLES.nTensor, true);
TABLES.nTensorOrUndefined = TABLES.nTensor.filter((x) => x.label !== 'undefined');
// Disposing twice, or asking whether a disposed handle is disposed, is fine.
TABLES.nTensorAnyState = TABLES.nTensor.map((x) => (x.cls === 'disposed' ? { ...x, cls: 'any' as Cls } : x));

const nativeEntries: Record<string, Entry> = {};
const nfn = (name: string, kinds: string[], args: () => unknown[]): void => {
  nativeEntries[name] = { kinds, args, call: (...a: unknown[]) => nat[name](...a) };
};
nfn('backends', [], none);
nfn('memory', ['nDevice'], () => ['cpu']);
nfn('resetPeakMemory', ['nDevice'], () => ['cpu']);
nfn('synchronize', ['nDevice'], () => ['cpu']);
nfn('tensorFromArray', ['nFloat32Array', 'nShape', 'nDevice'], () => [new Float32Array(6), [2, 3], 'cpu']);
nfn('tensorFull', ['nShape', 'fillValue', 'nDevice'], () => [[2, 3], 1, 'cpu']);
nfn('tensorRandom', ['nShape', 'nString', 'seed', 'number', 'number', 'nDevice'], () => [[2, 3], 'normal', 1, 0, 1, 'cpu']);
nfn('tensorToArray', ['nTensor'], () => [h(T([2]))]);
nfn('tensorTo', ['nTensor', 'nDevice'], () => [h(T([2])), 'cpu']);
nfn('tensorReshape', ['nTensor', 'nShape'], () => [h(T([2, 3])), [3, 2]]);
nfn('tensorTranspose', ['nTensor'], () => [h(T([2, 3]))]);
nfn('tensorDispose', ['nTensorAnyState'], () => [h(T([2]))]);
nfn('tensorDisposed', ['nTensorAnyState'], () => [h(T([2]))]);
nfn('csrFromArrays', ['size', 'size', 'nInt32Array', 'nInt32Array', 'nFloat32Array', 'nDevice'], () => [2, 3, Int32Array.from([0, 1, 2]), Int32Array.from([2, 0]), Float32Array.from([1, 2]), 'cpu']);
nfn('csrFromDense', ['nTensor', 'nTensorOrNull', 'number'], () => [h(T([3, 4])), null, 0.5]);
nfn('csrToDense', ['nCsr'], () => [nCsr()]);
nfn('csrRandom', ['size', 'size', 'nString', 'size', 'seed', 'nString', 'nDevice'], () => [4, 3, 'perRow', 2, 1, 'zeros', 'cpu']);
nfn('csrTranspose', ['nCsr', 'nBool'], () => [nCsr(), true]);
nfn('gatherValues', ['nTensor', 'nInt32', 'nTensorOrNull'], () => [h(T([5])), h(I32([4, 0])), null]);
nfn('relu', ['nTensor'], () => [h(T([3, 2]))]);
nfn('reluBackward', ['nTensor', 'nTensor'], () => [h(T([3, 2])), h(T([3, 2], 2))]);
nfn('addBias', ['nTensor', 'nTensor', 'nTensorOrNull'], () => [h(T([3, 2])), h(T([3])), null]);
nfn('biasGrad', ['nTensor'], () => [h(T([3, 2]))]);
nfn('softmaxCrossEntropy', ['nTensor', 'nInt32'], () => [h(T([3, 3])), h(I32([0, 2, 1]))]);
nfn('accuracyCount', ['nTensor', 'nInt32'], () => [h(T([3, 3])), h(I32([0, 2, 1]))]);
nfn('add', ['nTensor', 'nTensor'], () => [h(T([3, 2])), h(T([3, 2], 2))]);
nfn('axpy', ['number', 'nTensor', 'nTensor'], () => [0.5, h(T([3, 2])), h(T([3, 2], 2))]);
nfn('gramTopEigen', ['nTensor', 'nTensor', 'number', 'nString', 'nString', 'k', 'number', 'size', 'seed', 'number'], () => [h(T([4, 6])), h(T([5, 6], 2)), 0.5, 'g', 'f', 2, 1e-4, 50, 1, 1]);
nfn('matmul', ['nTensor', 'nTensor', 'nBool', 'nBool', 'number', 'number', 'nTensorOrUndefined', 'any'], () => [h(T([2, 3])), h(T([3, 4])), false, false, 1, 0, undefined, undefined]);
nfn('sgdStep', ['nTensor', 'nTensor', 'nTensorOrNull', 'nTensorOrNull', 'number', 'number', 'number', 'nBool'], () => [h(T([3, 2])), h(T([3, 2], 2)), h(ds.zeros([3, 2])), null, 0.1, 0.9, 0, false]);
nfn('adamStep', ['nTensor', 'nTensor', 'nTensor', 'nTensor', 'nTensorOrNull', 'number', 'number', 'number', 'number', 'number', 'nBool', 'step'], () => [h(T([3, 2])), h(T([3, 2], 2)), h(ds.zeros([3, 2])), h(ds.zeros([3, 2])), null, 0.1, 0.9, 0.999, 1e-8, 0, false, 1]);
nfn('remapState', ['nTensor', 'nInt32'], () => [h(T([4])), h(I32([3, -1, 0]))]);
nfn('sddmm', ['nTensor', 'nTensor', 'nCsr', 'nBool', 'any'], () => [h(T([4, 2])), h(T([2, 3])), nCsr(4, 3), false, undefined]);
nfn('spmmCsr', ['nCsr', 'nTensor', 'nBool', 'number', 'number', 'nTensorOrNull', 'any', 'nTensorOrNull', 'any'], () => [nCsr(4, 3), h(T([3, 5])), false, 1, 0, null, null, null, undefined]);
// The CUDA product's row order: fuzzed where CUDA is available (a valid call needs a cuda rowPtr).
const cudaOnly = new Set(['spmmRowOrder']);
if (cudaAvailable) nfn('spmmRowOrder', ['nInt32', 'size'], () => [h(ds.tensor(Int32Array.from([0, 1, 3]), [3], { device: 'cuda' })), 2]);
nfn('spmm24', ['nS24', 'nTensor', 'nBool', 'number', 'number', 'nTensorOrNull', 'any'], () => [nS24(), h(T([4, 3])), false, 1, 0, null, null]);
nfn('sparse24FromDense', ['nTensor'], () => [h(T([2, 8]))]);
nfn('sparse24ToDense', ['nS24'], () => [nS24()]);
nfn('sparse24Mask', ['nS24'], () => [nS24()]);
nfn('sparse24MmaPack', ['nS24'], () => [nS24()]);
nfn('topkGrowth', ['nTensor', 'nTensor', 'nCsr', 'k'], () => [h(T([4, 2])), h(T([3, 2])), nCsr(4, 3), 2]);
nfn('topkDense', ['nTensor', 'nCsr', 'k'], () => [h(T([4, 3])), nCsr(4, 3), 2]);
nfn('bottomkMagnitude', ['nCsr', 'k'], () => [nCsr(4, 3), 3]);
nfn('topologyRebuild', ['nCsr', 'nInt32Array', 'nInt32Array', 'nInt32Array'], () => [nCsr(4, 3), Int32Array.from([0]), new Int32Array(0), new Int32Array(0)]);
nfn('gatherByMap', ['nTensor', 'nInt32'], () => [h(T([4])), h(I32([3, -1, 0]))]);
nfn('randomGrowth', ['nCsr', 'k', 'seed', 'seed'], () => [nCsr(4, 3), 2, 1, 2]);

describe('fuzz: the raw native addon', () => {
  it('has an entry for every native export (setErrorClass is the loader\'s, fuzzed by nobody)', () => {
    const missing = Object.keys(native).filter(
      (n) => typeof nat[n] === 'function' && n !== 'setErrorClass' && !(n in nativeEntries) && !(cudaOnly.has(n) && !cudaAvailable)
    );
    expect(missing).toEqual([]);
  });

  it('every native call returns or throws a DynasparseError with the right code', () => {
    const start = Date.now();
    const names = Object.keys(nativeEntries);
    const budget = (TIME_BUDGET_MS * 0.25) / names.length;
    const counts: Record<string, number> = {};
    const failures: Failure[] = [];
    names.forEach((name, i) => {
      const r = fuzzEntry(`native.${name}`, nativeEntries[name], SEED + 104729 + i * 7919, CALLS_PER_FUNCTION * 3, Date.now() + budget);
      counts[name] = r.made;
      failures.push(...r.failures);
    });
    const total = Object.values(counts).reduce((a, c) => a + c, 0);
    // eslint-disable-next-line no-console
    console.log(`native fuzz (seed ${SEED}): ${total} calls over ${names.length} functions in ${Date.now() - start} ms\n` + names.map((n) => `${n.padEnd(40)} ${counts[n]}`).join('\n'));
    const seen = new Set<string>();
    const distinct = failures.filter((f) => { const key = `${f.name} ${f.problem.slice(0, 40)}`; const fresh = !seen.has(key); seen.add(key); return fresh; });
    expect(distinct.slice(0, Number(process.env.FUZZ_SHOW ?? 30)).map((f) => `${f.name} [seed ${f.seed}, call ${f.call}] ${f.args}\n    -> ${f.problem}`)).toEqual([]);
    expect(total).toBeGreaterThanOrEqual(names.length * 10);
  });
});
