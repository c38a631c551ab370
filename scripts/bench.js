#!/usr/bin/env node
// `npm run bench [-- --quick] [-- --only NAME[,NAME]]`: runs the CPU benchmarks
// (the JavaScript ones against dist/, the native ones built with
// -DDYNASPARSE_BUILD_BENCH=ON) and writes their output, with the machine they
// ran on, to bench/results/<machine>-<date>.md. Each benchmark prints medians of
// several runs and ratios measured within one run; nothing here is a timed test.
// GPU benchmarks run through scripts/gpu-check.sh on a machine with a GPU.
'use strict';
const { execSync, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const args = process.argv.slice(2);
const quick = args.includes('--quick');
const onlyArg = args.indexOf('--only');
const only = onlyArg >= 0 ? args[onlyArg + 1].split(',') : null;

const benches = [
  { name: 'spmm', cmd: [process.execPath, 'bench/spmm-bench.js', ...(quick ? ['--size', '2048', '--sparsity', '70,90,99', '--runs', '3'] : [])] },
  { name: 'train-step', cmd: [process.execPath, 'bench/train-step.js', ...(quick ? ['--sizes', '1024,1024,1024,250', '--batch', '64', '--steps', '3'] : [])] },
  { name: 'optim', cmd: [process.execPath, 'bench/optim-bench.js', ...(quick ? ['4000000'] : [])] },
  // The CSR kernels in isolation at 90% (the sweep is spmm above) and the 2:4 products.
  { name: 'spmm-native', native: 'spmm_bench', args: quick ? ['2048', '2048', '256', '0.9', '3'] : ['4096', '4096', '256', '0.9', '5'] },
  { name: 'topk', native: 'topk_bench', args: quick ? ['2048', '2048', '256', '0.1', '0.01', '3'] : [] },
  { name: 'bottomk', native: 'bottomk_bench', args: quick ? ['2048', '2048', '0.1', '0.3', '3'] : [] },
  { name: 'matmul', native: 'matmul_bench', args: [] },
  { name: 'eig', native: 'eig_bench', args: quick ? ['1024', '1024', '64', '8', '3'] : [] },
].filter((b) => !only || only.includes(b.name));

function sh(cmd) {
  try {
    return execSync(cmd, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return 'unknown';
  }
}

function run(label, cmd, cmdArgs) {
  console.log(`\n=== ${label}: ${[path.basename(cmd), ...cmdArgs].join(' ')}`);
  const started = Date.now();
  const r = spawnSync(cmd, cmdArgs, { cwd: root, encoding: 'utf8', maxBuffer: 64 << 20 });
  const out = (r.stdout || '') + (r.stderr ? `\n${r.stderr}` : '');
  process.stdout.write(out);
  return { label, command: [cmd === process.execPath ? 'node' : path.relative(root, cmd), ...cmdArgs].join(' '), status: r.status, seconds: (Date.now() - started) / 1000, output: out.trim() };
}

console.log('building the TypeScript (dist/)');
if (spawnSync('npm', ['run', '--silent', 'build:ts'], { cwd: root, stdio: 'inherit' }).status !== 0) process.exit(1);
if (benches.some((b) => b.native)) {
  console.log('building the native benchmarks (build-bench/)');
  const cfg = spawnSync('cmake', ['-S', '.', '-B', 'build-bench', '-DCMAKE_BUILD_TYPE=Release', '-DDYNASPARSE_BUILD_BENCH=ON', '-DDYNASPARSE_CUDA=OFF'], { cwd: root, stdio: 'inherit' });
  const bld = cfg.status === 0 && spawnSync('cmake', ['--build', 'build-bench', '--parallel', String(os.cpus().length)], { cwd: root, stdio: 'inherit' });
  if (!bld || bld.status !== 0) process.exit(1);
}

const { backends } = require(path.join(root, 'dist'));
const cpuInfo = backends()[0];
const machine = {
  cpu: os.cpus()[0]?.model?.trim() ?? 'unknown',
  cores: os.cpus().length,
  memoryGiB: Math.round(os.totalmem() / 2 ** 30),
  os: `${os.type()} ${os.release()} ${os.arch()}`,
  node: process.version,
  threads: cpuInfo.threads,
  blas: cpuInfo.blas,
  commit: sh('git rev-parse --short HEAD') + (sh('git status --porcelain') ? ' (with uncommitted changes)' : ''),
  loadAverage: os.loadavg().map((x) => x.toFixed(2)).join(' '),
  date: new Date().toISOString(),
};

const results = benches.map((b) =>
  b.native ? run(b.name, path.join(root, 'build-bench', 'bench', 'native', b.native), b.args) : run(b.name, b.cmd[0], b.cmd.slice(1))
);

const slug = `cpu-${machine.cores}core-${machine.cpu.replace(/[^A-Za-z0-9]+/g, '-').replace(/^-|-$/g, '').toLowerCase()}`.slice(0, 60);
// A second run on the same machine and day gets its own file (-2, -3, ...): results are history.
const stem = path.join(root, 'bench', 'results', `${slug}-${machine.date.slice(0, 10)}${quick ? '-quick' : ''}`);
let file = `${stem}.md`;
for (let n = 2; fs.existsSync(file); n++) file = `${stem}-${n}.md`;
const lines = [
  `# CPU benchmarks, ${machine.date.slice(0, 10)}${quick ? ' (quick sizes)' : ''}`,
  '',
  '| machine | |',
  '|---|---|',
  ...Object.entries(machine).map(([k, v]) => `| ${k} | ${v} |`),
  '',
  'Each benchmark prints medians of several runs; ratios are measured within one run. Command: `npm run bench' + (quick ? ' -- --quick' : '') + '`.',
];
for (const r of results) lines.push('', `## ${r.label}`, '', `\`${r.command}\` (exit ${r.status}, ${r.seconds.toFixed(0)} s)`, '', '```', r.output, '```');
fs.mkdirSync(path.dirname(file), { recursive: true });
fs.writeFileSync(file, lines.join('\n') + '\n');
console.log(`\nwrote ${path.relative(root, file)}`);
process.exit(results.every((r) => r.status === 0) ? 0 : 1);
