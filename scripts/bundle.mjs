// Bundles the compiled CLI (dist/src/cli/main.js) into dist/cli/: one module graph instead of a
// few hundred files to resolve and load, which is most of a short command's start-up time.
// Commands' lazy imports (ora, the registry client, credentials) stay separate chunks.
import { rm } from 'node:fs/promises';
import { build } from 'esbuild';

// Chunk names carry content hashes: clear the old ones.
await rm('dist/cli', { recursive: true, force: true });

await build({
  // The proxy-wasm host's worker (src/host/budget.ts) is its own entry, next to main.js.
  entryPoints: { main: 'dist/src/cli/main.js', 'vm-worker': 'dist/src/host/vm-worker.js' },
  bundle: true,
  splitting: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  outdir: 'dist/cli',
  // A native addon: loaded from node_modules where it built, never bundled.
  external: ['keytar'],
  // CommonJS dependencies (commander, undici) call require(); ESM output needs one defined.
  banner: { js: "import { createRequire as __wasmOciCreateRequire } from 'node:module'; const require = __wasmOciCreateRequire(import.meta.url);" },
  logLevel: 'warning',
});
