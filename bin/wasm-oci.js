#!/usr/bin/env node
// Thin launcher. `--version` is answered before any module loads, so start-up stays close to `node -e 0`.
import { readFileSync } from 'node:fs';

const args = process.argv.slice(2);
if (args.length === 1 && (args[0] === '--version' || args[0] === '-V')) {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
  process.stdout.write(`${pkg.version}\n`);
} else {
  const { main } = await import('../dist/src/cli/main.js');
  const code = await main(args);
  process.exitCode = code;
  // A native handle (keytar's D-Bus connection) can keep the loop alive after the command is done;
  // this timer is unref'd, so it fires only in that case.
  setTimeout(() => process.exit(code), 500).unref();
}
