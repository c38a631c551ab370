#!/usr/bin/env node
// The TypeScript suite on an emulated CUDA device: builds the addon with
// DYNASPARSE_CUDA_EMULATION=ON into build-emulated/ (the CUDA kernel sources
// compiled for the SIMT host emulation, cuda/simt/runtime.cpp as the runtime)
// and runs jest against it, so every device-parametrized test also runs its
// 'cuda' case through the binding's CUDA dispatch and the CUDA kernels, where
// there is no GPU. A real GPU build is untouched (build/).
//
// Usage: npm run test:cuda-emulated [-- jest arguments...]
//   DYNASPARSE_BUILD_JOBS  parallel compile jobs (default: the CPU count)
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const out = path.join(root, 'build-emulated');
const cmakeJs = require.resolve('cmake-js/bin/cmake-js');
const jobs = process.env.DYNASPARSE_BUILD_JOBS || String(os.availableParallelism ? os.availableParallelism() : os.cpus().length);
const defines = ['--out', out, '--CDDYNASPARSE_CUDA=OFF', '--CDDYNASPARSE_CUDA_EMULATION=ON'];

function run(command, args, env) {
  const result = spawnSync(command, args, { cwd: root, stdio: 'inherit', env: { ...process.env, ...env } });
  if (result.status !== 0) process.exit(result.status || 1);
}

run(process.execPath, [cmakeJs, 'configure', ...defines]);
run(process.execPath, [cmakeJs, 'build', '--parallel', jobs, ...defines]);
const addon = path.join(out, 'Release', 'dynasparse.node');
if (!fs.existsSync(addon)) {
  console.error(`test-emulated-cuda: the build did not produce ${addon}`);
  process.exit(1);
}
// The suite with backends() reporting an available 'cuda' device that is the
// emulation, and the default device 'cuda' (as on a GPU machine): the
// device-parametrized tests run their cuda cases, and every test that uses the
// default device runs on it. leaks.test.ts is left out: its loops (100,000
// tensor cycles, 1,000 training steps) ran for over five minutes on the
// emulation before being stopped, and `npm test` runs it.
// The ignore pattern goes last: jest's option takes an array and swallows the
// arguments after it (a test path given to this script became a second
// pattern to ignore, and the whole suite ran without it).
run(process.execPath, [require.resolve('jest/bin/jest'), ...process.argv.slice(2), '--testPathIgnorePatterns', '/leaks\\.test\\.ts$'], {
  DYNASPARSE_ADDON: addon,
  DYNASPARSE_DEVICE: 'cuda',
});
