#!/usr/bin/env node
// `npm run examples [-- NAME [ARGS...]]`: builds the examples and runs one, or
// lists them. `npm run demo` is the same as `npm run examples -- mnist-rigl`.
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const examples = fs
  .readdirSync(path.join(root, 'examples'), { withFileTypes: true })
  .filter((d) => d.isDirectory() && fs.existsSync(path.join(root, 'examples', d.name, 'main.ts')))
  .map((d) => d.name)
  .sort();

const [name, ...args] = process.argv.slice(2);
if (!name || name === '--help' || !examples.includes(name)) {
  if (name && name !== '--help') console.error(`unknown example '${name}'`);
  console.log('Usage: npm run examples -- NAME [ARGS...]   (NAME --help lists its options)\n\nExamples:');
  for (const e of examples) console.log(`  ${e}`);
  process.exit(name && name !== '--help' ? 1 : 0);
}

const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const build = spawnSync(npm, ['run', '--silent', 'build:examples'], { cwd: root, stdio: 'inherit' });
if (build.status !== 0) process.exit(build.status ?? 1);
const run = spawnSync(process.execPath, [path.join(root, 'dist-examples', 'examples', name, 'main.js'), ...args], { cwd: root, stdio: 'inherit' });
process.exit(run.status ?? 1);
