#!/usr/bin/env node
// Thin launcher. `--version` is answered before any module loads, so start-up stays close to `node -e 0`.
import { readFileSync, statSync } from 'node:fs';

const args = process.argv.slice(2);
const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
if (args.length === 1 && (args[0] === '--version' || args[0] === '-V')) {
  process.stdout.write(`${version}\n`);
} else {
  // undici parses HTTP with llhttp compiled to WebAssembly; V8's background tier-up of that module
  // to TurboFan briefly costs ~35 MiB of RSS, a third of our memory budget. Liftoff code parses
  // headers just as well for a CLI's few hundred requests.
  const v8 = await import('node:v8');
  v8.setFlagsFromString('--liftoff-only');
  // V8 counts a Buffer's memory toward the next collection only after 64 MiB of such memory has
  // piled up, so blobs streamed in 64 KiB chunks leave tens of MiB of dead Buffers between
  // collections. A young-generation collection every 10 ms frees them; each costs well under 1 ms.
  v8.setFlagsFromString('--expose-gc');
  const gc = (await import('node:vm')).runInNewContext('gc');
  setInterval(() => gc({ type: 'minor' }), 10).unref();
  const { main } = await import(bundleIsCurrent() ? '../dist/cli/main.js' : '../dist/src/cli/main.js');
  const code = await main(args, undefined, version);
  process.exitCode = code;
  // A native handle (keytar's D-Bus connection) can keep the loop alive after the command is done;
  // this timer is unref'd, so it fires only in that case.
  setTimeout(() => process.exit(code), 500).unref();
}

/** The bundle (`npm run build`) when it is at least as new as the compiled sources (a bare `tsc` leaves it stale). */
function bundleIsCurrent() {
  try {
    const mtime = (p) => statSync(new URL(p, import.meta.url)).mtimeMs;
    return mtime('../dist/cli/main.js') >= mtime('../dist/src/cli/main.js');
  } catch {
    return false;
  }
}
