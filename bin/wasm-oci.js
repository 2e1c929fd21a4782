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
  const bundle = join(__dirname, '..', 'dist', 'cli', 'main.cjs');
  const { main, saveCache } = bundleIsCurrent(bundle) ? loadBundle(bundle, commandWord(args)) : { main: (await import('../dist/src/cli/main.js')).main, saveCache: () => {} };
  const code = await main(args, undefined, version);
  process.exitCode = code;
  // A failed command may have stopped before compiling what its next run needs.
  if (code === 0) saveCache();
  // A native handle (keytar's D-Bus connection) can keep the loop alive after the command is done;
  // this timer is unref'd, so it fires only in that case.
  setTimeout(() => process.exit(code), 500).unref();
}

/** The bundle (`npm run build`) when it is at least as new as the compiled sources (a bare `tsc` leaves it stale). */
function bundleIsCurrent(bundle) {
  try {
    return statSync(bundle).mtimeMs >= statSync(join(__dirname, '..', 'dist', 'src', 'cli', 'main.js')).mtimeMs;
  } catch {
    return false;
  }
}

/** The user's directory for compile caches: NODE_COMPILE_CACHE as Node reads it, else ~/.cache/wasm-oci/compile-cache. */
function cacheDir() {
  if (process.env.NODE_DISABLE_COMPILE_CACHE) return undefined;
  if (process.env.NODE_COMPILE_CACHE) return process.env.NODE_COMPILE_CACHE;
  const base = process.env.XDG_CACHE_HOME || join(require('node:os').homedir(), '.cache');
  return join(base, 'wasm-oci', 'compile-cache');
}

/**
 * The command's name (`pull` in `--format json pull REF`), as src/cli/program.ts commandWord finds
 * it (that one is TypeScript in the bundle; this runs before the bundle loads). Only a plain word
 * names a cache file.
 */
function commandWord(argv) {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') break;
    if (a === '--format' || a === '--template') i++;
    else if (!a.startsWith('-')) return /^[a-z][a-z-]{0,31}$/.test(a) ? a : 'other';
  }
  return 'none';
}

/**
 * Compiles the CommonJS bundle with V8's code cache, and returns its main() and a function that
 * saves the cache after the command ran (so it holds the functions this command compiled too).
 * Node 20 has no compile cache for us to turn on; vm.Script's cachedData works on 20, 22 and 24
 * alike. V8 checks its own version and flags against a cache but, of the source, only its length:
 * the cache file is named after the bundle's size, mtime and inode and the Node version, so a
 * rebuilt bundle never runs with another build's code. A cache that cannot be read, is rejected or
 * cannot be written only means compiling as without one; writes go to a temp file, then rename,
 * so a concurrent run reads a whole cache or none. One cache per command: a cache holds what was
 * compiled before it was written, so the cache `login` wrote would leave `pull` compiling its own
 * functions on every run.
 */
function loadBundle(bundle, word) {
  const fs = require('node:fs');
  const vm = require('node:vm');
  const Module = require('node:module');
  const st = fs.statSync(bundle);
  const dir = cacheDir();
  const prefix = `main-${process.version}-${process.arch}-`;
  const build = `${st.size}-${Math.trunc(st.mtimeMs * 1000)}-${st.ino}`;
  const cacheFile = dir && join(dir, `${prefix}${build}-${word}.v8cache`);
  let cachedData;
  if (cacheFile) {
    try {
      cachedData = fs.readFileSync(cacheFile);
    } catch {
      /* none yet */
    }
  }
  const script = new vm.Script(Module.wrap(fs.readFileSync(bundle, 'utf8')), {
    filename: bundle,
    cachedData,
  });
  const mod = { exports: {} };
  script.runInThisContext()(mod.exports, Module.createRequire(bundle), mod, bundle, join(bundle, '..'));
  const saveCache = () => {
    if (!cacheFile || (cachedData && !script.cachedDataRejected)) return;
    const tmp = `${cacheFile}.${process.pid}.tmp`;
    try {
      fs.mkdirSync(dir, { recursive: true });
      fs.writeFileSync(tmp, script.createCachedData());
      fs.renameSync(tmp, cacheFile);
      // Caches of earlier builds for this Node are dead weight.
      for (const name of fs.readdirSync(dir)) {
        if (name.startsWith(prefix) && !name.startsWith(`${prefix}${build}-`) && !name.endsWith('.tmp')) fs.rmSync(join(dir, name), { force: true });
      }
    } catch {
      try {
        fs.rmSync(tmp, { force: true });
      } catch {
        /* the directory itself is not there: nothing was written */
      }
    }
  };
  return { main: mod.exports.main, saveCache };
}

/**
 * Node's own compile cache (module.enableCompileCache, Node 22.1+) for what loads through Node's
 * module loader: the proxy-wasm host's worker, and the unbundled sources when the bundle is stale.
 * Node's default directory is in TMPDIR, which CI jobs and our tests expect a command to leave
 * empty: it shares the user's cache directory with the bundle's cache instead. A directory that
 * cannot be written only means no cache (the call reports, never throws).
 */
function enableCodeCache() {
  const mod = require('node:module');
  const dir = cacheDir();
  if (typeof mod.enableCompileCache !== 'function' || !dir) return;
  try {
    mod.enableCompileCache(dir);
  } catch {
    /* no cache: the command runs as it would on Node 20 */
  }
}
