#!/usr/bin/env node
'use strict';
// Thin launcher, CommonJS on purpose: `--version` is answered before any ES module loads, so
// start-up stays close to `node -e 0` (an ESM entry point costs a few ms more).
const { readFileSync, statSync } = require('node:fs');
const { join } = require('node:path');

const args = process.argv.slice(2);
const { version } = JSON.parse(readFileSync(join(__dirname, '..', 'package.json'), 'utf8'));

if (args.length === 1 && (args[0] === '--version' || args[0] === '-V')) {
  process.stdout.write(`${version}\n`);
} else {
  run().catch((err) => {
    process.stderr.write(`${err && err.stack ? err.stack : err}\n`);
    process.exit(1);
  });
}

async function run() {
  // `wasm-oci manifest fetch ... | head`: a reader that goes away is not an error of ours.
  process.stdout.on('error', (err) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw err;
  });
  const v8 = require('node:v8');
  // undici parses HTTP with llhttp compiled to WebAssembly; V8's background tier-up of that module
  // to TurboFan briefly costs ~35 MiB of RSS, a third of our memory budget. Liftoff code parses
  // headers just as well for a CLI's few hundred requests.
  v8.setFlagsFromString('--liftoff-only');
  // Streamed blobs are freed by bytes moved, not by a timer (src/content/gc-pacer.ts): the
  // library runs a young-generation collection every 2 MiB a transfer moves, through
  // `globalThis.gc` as `node --expose-gc` would install it.
  v8.setFlagsFromString('--expose-gc');
  globalThis.gc ??= require('node:vm').runInNewContext('gc');
  enableCodeCache();
  const entry = bundleIsCurrent() ? '../dist/cli/main.js' : '../dist/src/cli/main.js';
  const { main } = await import(entry);
  const code = await main(args, undefined, version);
  process.exitCode = code;
  // A native handle (keytar's D-Bus connection) can keep the loop alive after the command is done;
  // this timer is unref'd, so it fires only in that case.
  setTimeout(() => process.exit(code), 500).unref();
}

/** The bundle (`npm run build`) when it is at least as new as the compiled sources (a bare `tsc` leaves it stale). */
function bundleIsCurrent() {
  try {
    const mtime = (p) => statSync(join(__dirname, p)).mtimeMs;
    return mtime('../dist/cli/main.js') >= mtime('../dist/src/cli/main.js');
  } catch {
    return false;
  }
}

/**
 * V8's code cache for the bundle, kept between runs (module.enableCompileCache, Node 22.1+; Node
 * 20 has no such API and compiles every run). Node's own default directory is in TMPDIR, which CI
 * jobs and our tests expect a command to leave empty: the cache goes under the user's cache
 * directory instead. NODE_COMPILE_CACHE and NODE_DISABLE_COMPILE_CACHE keep their meaning; a
 * directory that cannot be written only means no cache (the call reports, never throws).
 */
function enableCodeCache() {
  const mod = require('node:module');
  if (typeof mod.enableCompileCache !== 'function' || process.env.NODE_DISABLE_COMPILE_CACHE) return;
  const { homedir } = require('node:os');
  const base = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
  try {
    mod.enableCompileCache(process.env.NODE_COMPILE_CACHE || join(base, 'wasm-oci', 'compile-cache'));
  } catch {
    /* no cache: the command runs as it would on Node 20 */
  }
}
