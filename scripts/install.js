#!/usr/bin/env node
// `npm install` hook: use a prebuilt binary from prebuilds/ when one matches this
// platform, otherwise build from source.
'use strict';
const path = require('node:path');

const root = path.resolve(__dirname, '..');
if (!process.env.DYNASPARSE_BUILD_FROM_SOURCE) {
  try {
    const found = require('node-gyp-build').path(root);
    if (found) {
      console.log(`dynasparse: using ${path.relative(root, found)}`);
      process.exit(0);
    }
  } catch {
    // nothing prebuilt or built yet: fall through to the build
  }
}
require('./build-addon.js');
