import { Command } from 'commander';
import type { CliContext } from '../context.js';

/**
 * oras version (cmd/oras/root/version.go runVersion): aligned `Key: value` lines. Go's version
 * becomes Node's, and the engines our registry client rides on (V8, Node's undici, OpenSSL).
 */
export function versionCommand(getContext: (cmd: Command) => CliContext): Command {
  const cmd = new Command('version').description('show the version of wasm-oci, Node and the libraries it runs on');
  cmd.addHelpText('after', '\nExamples:\n  $ wasm-oci version\n  $ wasm-oci version --format json');
  cmd.action(async (_flags: unknown, self: Command) => {
    const ctx = getContext(self);
    // The program was built with the package's version (main reads it once); ask the root command.
    let root: Command = self;
    while (root.parent) root = root.parent;
    const pkg = { version: root.version() ?? 'unknown' };
    const items: [string, string, string][] = [
      ['Version', 'version', pkg.version],
      ['Node version', 'nodeVersion', process.version],
      ['OS/Arch', 'platform', `${process.platform}/${process.arch}`],
      ['V8', 'v8', process.versions.v8],
      ['OpenSSL', 'openssl', process.versions.openssl ?? ''],
      ['Node undici', 'undici', process.versions.undici ?? ''],
    ];
    const w = Math.max(...items.map(([k]) => k.length));
    for (const [k, , v] of items) if (v) ctx.out(`${k}: ${' '.repeat(w - k.length)}${v}`);
    ctx.json(Object.fromEntries(items.filter(([, , v]) => v).map(([, key, v]) => [key, v])));
  });
  return cmd;
}
