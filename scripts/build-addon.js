#!/usr/bin/env node
// Builds the native addon from source with cmake-js (used by `npm install` when
// no prebuilt binary matches, and by `npm run build`). Extra CMake options come
// from DYNASPARSE_CMAKE_ARGS, e.g. DYNASPARSE_CMAKE_ARGS="-DDYNASPARSE_CUDA=OFF".
'use strict';
const { spawnSync } = require('node:child_process');
const os = require('node:os');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const cmakeJs = require.resolve('cmake-js/bin/cmake-js');
const jobs = process.env.DYNASPARSE_BUILD_JOBS || String(Math.max(1, os.availableParallelism ? os.availableParallelism() : os.cpus().length));
const extra = (process.env.DYNASPARSE_CMAKE_ARGS || '').split(/\s+/).filter(Boolean).map((a) => (a.startsWith("-D") ? `--C${a.slice(1)}` : a));
// CUDA defaults to AUTO on every build so a cached OFF from an earlier build does not stick.
// Configure explicitly each time: `cmake-js compile` keeps an existing cache and ignores new -D options.
const defines = ['--CDDYNASPARSE_CUDA=AUTO', ...extra];
if (process.env.DYNASPARSE_DEBUG) defines.push('--debug');
const steps = [
  [cmakeJs, 'configure', ...defines],
  [cmakeJs, 'build', '--parallel', jobs, ...defines],
];

function run(args) {
  return spawnSync(process.execPath, args, { cwd: root, stdio: 'inherit' });
}

let result = { status: 0 };
for (const step of steps) {
  result = run(step);
  if (result.status !== 0) break;
}
if (result.status !== 0) {
  console.error(
    '\ndynasparse: building the native addon failed. It needs a C++17 compiler and cmake >= 3.18\n' +
      '(Debian/Ubuntu: apt-get install build-essential cmake libopenblas-dev). The CUDA backend is\n' +
      'built when nvcc is on PATH; set DYNASPARSE_CMAKE_ARGS=-DDYNASPARSE_CUDA=OFF to skip it.'
  );
  process.exit(result.status || 1);
}
