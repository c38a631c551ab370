#!/usr/bin/env node
// Throughput of the fused optimizer updates on the CPU backend, in GB/s of
// memory traffic, against copies of the same number of bytes.
//
//   npm run build:ts && node bench/optim-bench.js [n]      (default n = 16M parameters)
//
// Bytes per parameter value, counting each float32 array read or written once:
//   SGD with momentum: reads w, grad, buf; writes w, buf          = 5 x 4 = 20 B
//   Adam:              reads w, grad, m, v; writes w, m, v        = 7 x 4 = 28 B
// Baselines:
//   clone: Tensor.clone() of a tensor holding half those bytes (it reads and
//     writes each byte once), i.e. the same traffic. It is a single-threaded
//     memcpy into a freshly allocated buffer, so it includes the page faults of
//     first touching that buffer: what an unfused "copy the state" costs, not
//     the machine's peak bandwidth.
//   axpy: y += a * x over n values (12 B each), an in-place, threaded streaming
//     kernel that allocates nothing: a fairer reference for the bandwidth
//     the fused kernels can reach.
// Each row is the median of 7 timed runs after one warm-up run. Results are
// printed, not written: the lead commits benchmark runs under bench/results/.
'use strict';

const ds = require('../dist');

const n = Number(process.argv[2] ?? 16 * 1024 * 1024);
if (!Number.isSafeInteger(n) || n < 1) throw new Error(`n: expected a positive integer, got ${process.argv[2]}`);
const RUNS = 7;
const device = 'cpu';

function median(xs) {
  const s = xs.slice().sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** Median seconds of `fn` over RUNS runs after a warm-up; `after` runs untimed after each run (e.g. to free a result). */
function time(fn, after = () => {}) {
  after(fn());
  const times = [];
  for (let r = 0; r < RUNS; ++r) {
    ds.synchronize(device);
    const t0 = process.hrtime.bigint();
    const result = fn();
    ds.synchronize(device);
    times.push(Number(process.hrtime.bigint() - t0) / 1e9);
    after(result);
  }
  return median(times);
}

const rows = [];
function row(name, bytes, seconds, reference) {
  const gbps = bytes / seconds / 1e9;
  rows.push({ name, bytes, ms: seconds * 1e3, gbps, reference });
  return gbps;
}

function cloneSeconds(bytes) {
  const t = ds.zeros([Math.round(bytes / 8)], { device }); // clone reads and writes: bytes / 2 of data
  const s = time(
    () => t.clone(),
    (c) => c.dispose(),
  );
  t.dispose();
  return s;
}

const w = ds.randn([n], { seed: 1, device });
const grad = ds.randn([n], { seed: 2, device, std: 0.01 });

// SGD with momentum (fused): 20 bytes per value.
{
  const sgd = new ds.SGD({ lr: 1e-3, momentum: 0.9 });
  const bytes = 20 * n;
  const fused = row('SGD momentum (fused)', bytes, time(() => sgd.step([{ value: w, grad }])), null);
  row('  clone of the same bytes', bytes, cloneSeconds(bytes), fused);
  sgd.dispose();
}

// Adam (fused): 28 bytes per value.
{
  const adam = new ds.Adam({ lr: 1e-3 });
  const bytes = 28 * n;
  const fused = row('Adam (fused)', bytes, time(() => adam.step([{ value: w, grad }])), null);
  row('  clone of the same bytes', bytes, cloneSeconds(bytes), fused);
  adam.dispose();
}

// Streaming reference: y += a * x, in place, threaded.
{
  const y = ds.zeros([n], { device });
  row('axpy y += a*x (reference)', 12 * n, time(() => ds.axpy(1e-3, grad, y)), null);
  y.dispose();
}

const cpu = ds.backends()[0];
console.log(`dynasparse optimizer throughput: n = ${n} float32 values, device cpu (${cpu.threads} threads), median of ${RUNS} runs`);
// fused / clone on each clone row (the fused row above it over the copy of
// the same bytes); fused / axpy on the fused rows.
const axpy = rows[rows.length - 1].gbps;
const header = ['operation', 'MB moved', 'median ms', 'GB/s', 'fused / clone', 'fused / axpy'];
const lines = rows.map((r, i) => [
  r.name,
  (r.bytes / 1e6).toFixed(0),
  r.ms.toFixed(2),
  r.gbps.toFixed(2),
  r.reference === null ? '' : `${(r.reference / r.gbps).toFixed(2)}x`,
  r.reference === null && i < rows.length - 1 ? `${(r.gbps / axpy).toFixed(2)}x` : '',
]);
const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
const format = (cells) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
console.log(format(header));
console.log(widths.map((wd) => '-'.repeat(wd)).join('  '));
for (const l of lines) console.log(format(l));

w.dispose();
grad.dispose();
