// Bundles the compiled CLI (dist/src/cli/main.js) into dist/cli/main.cjs: one CommonJS file that
// bin/wasm-oci.js compiles through vm.Script with V8's code cache (kept under ~/.cache/wasm-oci),
// so a second run neither resolves a module graph nor compiles what the first run compiled. Issue
// 14's profile of a 100 KiB pull on Node 20: the split ESM bundle spent a third of the run in
// Node's ESM loader and in compiling; one CommonJS file with the cache took 24% off the whole pull.
// The commands' dynamic imports become lazy initialisers inside the file (esbuild's __esm), so a
// command still runs only its own modules' top-level code.
// The proxy-wasm host's worker (src/host/budget.ts loads ./vm-worker.js next to the CLI) is its
// own ES module entry.
import { rm } from 'node:fs/promises';
import { constants as http2Constants } from 'node:http2';
import { build } from 'esbuild';

/**
 * Builtins that a dependency requires when it loads but a command rarely calls: commander's
 * child_process (only for executable subcommands, which we have none of) and undici's http2 (only
 * for `allowH2` connections, which we never open; http2 brings tls along). They cost 15 ms of a
 * 100 KiB pull on Node 24 and 5 ms on Node 20 (CPU profile, issue 14). In the bundle these two
 * requires get a stand-in that loads the real module on first use of any of its properties;
 * undici reads http2.constants while it loads, so the stand-in has them, taken from this Node
 * (HTTP/2 header names and nghttp2 error codes, the same in every Node version).
 */
const lazyBuiltins = {
  name: 'lazy-builtins',
  setup(b) {
    b.onResolve({ filter: /^node:(child_process|http2)$/ }, (args) => {
      if (!/node_modules[\\/](commander|undici)[\\/]/.test(args.importer)) return undefined;
      return { path: args.path, namespace: 'lazy-builtin' };
    });
    b.onLoad({ filter: /.*/, namespace: 'lazy-builtin' }, (args) => {
      const known = args.path === 'node:http2' ? `{ constants: ${JSON.stringify(http2Constants)} }` : '{}';
      return {
        loader: 'js',
        contents: `'use strict';
let real;
const known = ${known};
module.exports = new Proxy(known, {
  get(target, key) {
    if (Object.prototype.hasOwnProperty.call(target, key)) return target[key];
    real ??= require(${JSON.stringify(args.path)});
    return real[key];
  },
});
`,
      };
    });
  },
};

await rm('dist/cli', { recursive: true, force: true });

const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  // A native addon: loaded from node_modules where it built, never bundled.
  external: ['keytar'],
  logLevel: 'warning',
};

await build({
  ...common,
  entryPoints: { main: 'dist/src/cli/main.js' },
  format: 'cjs',
  outfile: 'dist/cli/main.cjs',
  plugins: [lazyBuiltins],
  // The sources are ES modules: `import.meta.url` (the worker's path) is this file's URL.
  define: { 'import.meta.url': '__wasmOciImportMetaUrl' },
  // import() inside vm.Script code needs --experimental-vm-modules or prints an ExperimentalWarning:
  // esbuild turns the ones left (node: builtins, keytar) into require(), which both are.
  supported: { 'dynamic-import': false },
  banner: { js: "const __wasmOciImportMetaUrl = require('node:url').pathToFileURL(__filename).href;" },
});

await build({
  ...common,
  entryPoints: { 'vm-worker': 'dist/src/host/vm-worker.js' },
  format: 'esm',
  outdir: 'dist/cli',
  // CommonJS dependencies call require(); ESM output needs one defined.
  banner: { js: "import { createRequire as __wasmOciCreateRequire } from 'node:module'; const require = __wasmOciCreateRequire(import.meta.url);" },
});
