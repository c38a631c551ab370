#!/usr/bin/env node
// spmm and sddmm on the CPU against the dense GEMM of the same shape.
//
//   npm run build:ts && node bench/spmm-bench.js [--size 4096] [--batch 256,1024]
//       [--sparsity 50,70,80,90,95,98,99] [--runs 5] [--json]
//
// A sparse layer's three products, for W [size, size] at each sparsity and a
// feature-major batch:
//   forward   Y  = W X            spmm(W, X)                      vs matmul(Wd, X)
//   backward  dX = Wᵀ dY          spmm(W, dY, { transA: true })   vs matmul(Wd, dY, { transA: true })
//   gradient  dW = dY Xᵀ at W     sddmm(dY, X, W, { transB: true }) vs matmul(dY, X, { transB: true })
//   gradKP    the same from Xᵀ     sddmm(dY, Xᵀ, W) (b as [k, p]: transposed into scratch first)
//                                  vs matmul(dY, Xᵀ)
// Every timing is the median of --runs runs after one warm-up; the dense and the
// sparse product of a row alternate run by run, in the same process on the same
// cores (the library's one thread pool and the BLAS's threads, one at a time),
// and each ratio is dense median / sparse median from this one run. Outputs go
// to preallocated tensors (`out`), except sddmm's nnz-sized result.
//
// The dense baseline is `matmul` (CBLAS when the build found OpenBLAS; backends()
// says which). Without `matmul` in the build, only the sparse timings are printed.
'use strict';
const ds = require('../dist');

function parseArgs(argv) {
  const opts = { size: 4096, batch: [256, 1024], sparsity: [50, 70, 80, 90, 95, 98, 99], runs: 5, json: false };
  for (let i = 2; i < argv.length; i++) {
    const a = argv[i];
    const next = () => argv[++i];
    if (a === '--size') opts.size = Number(next());
    else if (a === '--batch') opts.batch = next().split(',').map(Number);
    else if (a === '--sparsity') opts.sparsity = next().split(',').map(Number);
    else if (a === '--runs') opts.runs = Number(next());
    else if (a === '--json') opts.json = true;
    else throw new Error(`unknown argument ${a} (see the header of bench/spmm-bench.js)`);
  }
  return opts;
}

function median(xs) {
  const s = xs.slice().sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/**
 * Median wall times in milliseconds of each function over `runs` rounds after
 * one warm-up round; the functions alternate within a round, so a dense and a
 * sparse product see the same machine load (the ratios stay fair on a busy machine).
 */
function timeInterleaved(fns, runs) {
  const times = fns.map(() => []);
  for (let r = -1; r < runs; r++) {
    fns.forEach((fn, i) => {
      const start = process.hrtime.bigint();
      fn();
      if (r >= 0) times[i].push(Number(process.hrtime.bigint() - start) / 1e6);
    });
  }
  return times.map(median);
}

function main() {
  const opts = parseArgs(process.argv);
  const cpu = ds.backends().find((b) => b.name === 'cpu');
  const dense = typeof ds.matmul === 'function';
  const n = opts.size;
  const rows = [];
  if (!opts.json) {
    console.log(`dynasparse spmm/sddmm benchmark: W ${n} x ${n}, cpu threads ${cpu.threads}, dense GEMM ${dense ? cpu.blas ?? 'matmul' : 'unavailable (no matmul in this build)'}; median of ${opts.runs} runs, ms`);
  }
  for (const batch of opts.batch) {
    const x = ds.randn([n, batch], { seed: 1, device: 'cpu' });
    const dy = ds.randn([n, batch], { seed: 2, device: 'cpu' });
    const y = ds.zeros([n, batch], { device: 'cpu' });
    const wd = dense ? ds.randn([n, n], { seed: 3, device: 'cpu' }) : null;
    const g = dense ? ds.zeros([n, n], { device: 'cpu' }) : null;
    const xt = x.transpose();
    const denseOps = {
      forward: () => ds.matmul(wd, x, { out: y }),
      backward: () => ds.matmul(wd, dy, { transA: true, out: y }),
      gradient: () => ds.matmul(dy, x, { transB: true, out: g }),
      gradKP: () => ds.matmul(dy, xt, { out: g }),
    };
    for (const sparsity of opts.sparsity) {
      const w = ds.CsrMatrix.random(n, n, { density: 1 - sparsity / 100, seed: 4, device: 'cpu' });
      const sparseOps = {
        forward: () => ds.spmm(w, x, { out: y }),
        backward: () => ds.spmm(w, dy, { transA: true, out: y }),
        gradient: () => ds.sddmm(dy, x, w, { transB: true }).dispose(),
        gradKP: () => ds.sddmm(dy, xt, w).dispose(),
      };
      const t = {};
      const d = {};
      for (const op of Object.keys(sparseOps)) {
        if (dense) [d[op], t[op]] = timeInterleaved([denseOps[op], sparseOps[op]], opts.runs);
        else [t[op]] = timeInterleaved([sparseOps[op]], opts.runs);
      }
      const row = { batch, sparsity, nnz: w.nnz, sparse: t, dense: dense ? d : null };
      if (dense) row.speedup = Object.fromEntries(Object.keys(t).map((k) => [k, d[k] / t[k]]));
      rows.push(row);
      if (!opts.json) {
        const cell = (k) => `${k} ${t[k].toFixed(2)}${dense ? ` (dense ${d[k].toFixed(2)}, ${(d[k] / t[k]).toFixed(2)}x)` : ''}`;
        console.log(`batch ${String(batch).padStart(5)}  sparsity ${String(sparsity).padStart(2)}%  ${cell('forward')}  ${cell('backward')}  ${cell('gradient')}  ${cell('gradKP')}`);
      }
      w.dispose();
    }
    for (const tensor of [x, xt, dy, y, wd, g]) if (tensor) tensor.dispose();
  }
  if (opts.json) console.log(JSON.stringify({ size: n, threads: cpu.threads, blas: cpu.blas, runs: opts.runs, rows }, null, 2));
}

main();
