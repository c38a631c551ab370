/**
 * Index arrays on a SharedArrayBuffer that another thread keeps changing. The
 * binding copies every index array before it checks it, so what a kernel reads
 * is exactly what was checked: a value changed after the check must neither be
 * stored nor reach a kernel (before the copy, fromArrays stored a column index
 * it had never seen, and rebuildTopology indexed with an unchecked row).
 */
import { Worker } from 'node:worker_threads';

import { CsrMatrix, rebuildTopology } from '../lib';

/** A thread that flips `array[index]` between `good` and `bad` until `stop[0]` is set. */
function flipper(array: Int32Array, index: number, good: number, bad: number, stop: Int32Array): Worker {
  const code = `
    const { workerData } = require('node:worker_threads');
    const a = new Int32Array(workerData.buffer);
    const stop = new Int32Array(workerData.stop);
    // Each value held for a while, so that a call's two reads can see both.
    const hold = () => { for (let i = 0; i < 200; i++) if (Atomics.load(stop, 0) !== 0) return; };
    while (Atomics.load(stop, 0) === 0) { a[${index}] = ${bad}; hold(); a[${index}] = ${good}; hold(); }`;
  return new Worker(code, { eval: true, workerData: { buffer: array.buffer, stop: stop.buffer } });
}

/** Runs `attempt` for `ms` milliseconds with `array[index]` flipping under it. */
async function underFlips(array: Int32Array, index: number, good: number, bad: number, ms: number, attempt: () => void): Promise<void> {
  const stop = new Int32Array(new SharedArrayBuffer(4));
  const worker = flipper(array, index, good, bad, stop);
  await new Promise((resolve) => worker.once('online', resolve));
  try {
    const end = Date.now() + ms;
    while (Date.now() < end) attempt();
  } finally {
    Atomics.store(stop, 0, 1);
    await worker.terminate();
  }
}

describe('index arrays changed by another thread during a call', () => {
  test('fromArrays stores only column indices it checked', async () => {
    const n = 4096;
    const colIdx = new Int32Array(new SharedArrayBuffer(4 * n));
    for (let i = 0; i < n; i++) colIdx[i] = i;
    const rowPtr = Int32Array.from([0, n]);
    const values = new Float32Array(n).fill(1);
    let accepted = 0;
    let rejected = 0;
    await underFlips(colIdx, n - 1, n - 1, 2_000_000_000, 1500, () => {
      let m: CsrMatrix;
      try {
        m = CsrMatrix.fromArrays({ rows: 1, cols: n, rowPtr, colIdx, values });
      } catch (e) {
        expect((e as { code?: string }).code).toBe('E_FORMAT');
        rejected++;
        return;
      }
      accepted++;
      const stored = m.colIdx();
      m.dispose();
      expect(stored[n - 1]).toBe(n - 1);
    });
    expect(accepted + rejected).toBeGreaterThan(0);
  });

  test('rebuildTopology grows only at rows it checked', async () => {
    const rows = 1 << 16;
    const pattern = CsrMatrix.fromArrays({ rows, cols: 4, rowPtr: new Int32Array(rows + 1), colIdx: [], values: [] });
    const growRows = new Int32Array(new SharedArrayBuffer(4 * rows));
    for (let i = 0; i < rows; i++) growRows[i] = i;
    const growCols = new Int32Array(rows);
    let accepted = 0;
    await underFlips(growRows, rows - 1, rows - 1, 2_000_000_000, 1500, () => {
      try {
        const { matrix, map } = rebuildTopology(pattern, new Int32Array(0), growRows, growCols);
        accepted++;
        const rowPtr = matrix.rowPtr();
        matrix.dispose();
        map.dispose();
        expect(rowPtr[rows] - rowPtr[rows - 1]).toBe(1);
      } catch (e) {
        expect((e as { code?: string }).code).toBe('E_ARG');
      }
    });
    pattern.dispose();
    expect(accepted).toBeGreaterThan(0);
  });
});
