#!/usr/bin/env node
// `npm run prebuild`: builds the addon with cmake-js and lets prebuildify name
// and place it under prebuilds/<platform>-<arch>/ (Node-API, so one binary
// serves every Node version), where node-gyp-build finds it.
// prebuildify drives node-gyp; PREBUILD_NODE_GYP swaps in a shim that runs our
// cmake-js build instead (its node-gyp arguments do not apply to a Node-API build).
'use strict';
const { spawnSync } = require('node:child_process');
const path = require('node:path');

if (process.argv[2] === 'rebuild') {
  // Invoked by prebuildify in place of node-gyp.
  require('./build-addon.js');
} else {
  const root = path.resolve(__dirname, '..');
  const result = spawnSync(process.execPath, [require.resolve('prebuildify/bin.js'), '--napi', '--strip', ...process.argv.slice(2)], {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, PREBUILD_NODE_GYP: __filename },
  });
  process.exit(result.status ?? 1);
}
