#!/usr/bin/env node
// Builds gist's native kernels (native/, an N-API addon) with node-gyp, as hnswlib-node's install does.
// Runs at `npm install` / `npm ci` and by `npm run build:native`. A failed build is a warning, not an error:
// gist then uses its WebAssembly kernels, which give the same results, slower. GIST_REQUIRE_NATIVE=1 makes a
// failure fatal (CI). GIST_SKIP_NATIVE=1 skips the build.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const nativeDir = path.join(root, 'native');
const required = process.env.GIST_REQUIRE_NATIVE === '1';

function nodeGyp() {
  const candidates = [
    process.env.npm_config_node_gyp,
    path.join(path.dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
  ];
  return candidates.find((c) => c && fs.existsSync(c)) ?? null;
}

function finish(problem) {
  if (!problem) return;
  const line = `gist: native kernels not built (${problem}); search-gsu falls back to WebAssembly (same results, slower). Retry: npm run build:native`;
  if (required) {
    console.error(line);
    process.exit(1);
  }
  console.warn(line);
}

if (process.env.GIST_SKIP_NATIVE === '1') {
  finish(required ? 'GIST_SKIP_NATIVE=1' : null);
} else if (!fs.existsSync(path.join(nativeDir, 'binding.gyp'))) {
  finish('native/binding.gyp missing');
} else {
  const gyp = nodeGyp();
  if (!gyp) finish('node-gyp not found');
  else {
    const r = spawnSync(process.execPath, [gyp, 'rebuild', '--silent', '-C', nativeDir], { stdio: ['ignore', 'inherit', 'inherit'] });
    finish(r.status === 0 ? null : `node-gyp exited ${r.status ?? r.signal}`);
  }
}
