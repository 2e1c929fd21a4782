import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Command } from 'commander';
import { COMMANDS, commandWord, registerCommands } from '../../src/cli/program.js';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';
import { examplesDir } from '../helpers/paths.js';
import { makeTempDir } from '../helpers/tmp.js';

const noContext = () => {
  throw new Error('not called: no command runs here');
};

// The table loads one command's code on demand (issue 14): a name or alias missing from it would
// make `wasm-oci ALIAS` load every command (slow, still right), a wrong one the wrong command.
test('the lazy command table names every command and alias exactly as the commands do', async () => {
  for (const entry of COMMANDS) {
    const cmd = (await entry.load())(noContext);
    assert.deepEqual([...entry.names].sort(), [cmd.name(), ...cmd.aliases()].sort(), `table entry ${entry.names[0]}`);
  }
  const all = new Command('wasm-oci');
  await registerCommands(all, noContext);
  assert.deepEqual(all.commands.map((c) => c.name()), COMMANDS.map((c) => c.names[0]));
});

test('commandWord skips the global options (and --format\'s value) to find the command', () => {
  assert.equal(commandWord(['--format', 'json', 'pull', 'reg/x:v1']), 'pull');
  assert.equal(commandWord(['--format=json', '-d', '--no-tty', 'cp', 'a', 'b']), 'cp');
  assert.equal(commandWord(['--template', '{{.digest}}', '--format', 'go-template', 'push', 'r', 'f']), 'push');
  assert.equal(commandWord(['--help']), undefined);
  assert.equal(commandWord(['--', 'pull']), undefined);
});

test('registering only the named command: just that one; an unknown word or none: all', async () => {
  const one = new Command('wasm-oci');
  await registerCommands(one, noContext, ['--format', 'json', 'digest', 'reg/x:v1']);
  assert.deepEqual(one.commands.map((c) => c.name()), ['resolve']);
  for (const args of [['pul'], ['--help'], ['help', 'pull'], []]) {
    const all = new Command('wasm-oci');
    await registerCommands(all, noContext, args);
    assert.equal(all.commands.length, COMMANDS.length, args.join(' '));
  }
});

test('the CLI: help lists every command, an alias runs its command, a typo gets a suggestion', async () => {
  const help = await runCli(['--help']);
  assert.equal(help.code, 0);
  for (const entry of COMMANDS) assert.match(help.stdout, new RegExp(`^  ${entry.names[0]}\\b`, 'm'), entry.names[0]);
  const alias = await runCli(['cp', '--help']);
  assert.equal(alias.code, 0);
  assert.match(alias.stdout, /Usage: wasm-oci copy/);
  const typo = await runCli(['pul', 'reg/x:v1']);
  assert.equal(typo.code, 2);
  assert.match(typo.stderr, /unknown command 'pul'/);
  assert.match(typo.stderr, /Did you mean pull\?/);
});

// Start-up (issue 14): what a command does not use is not loaded. A credential helper's
// child_process, TLS and commander's and undici's rarely used builtins load on first use only.
test('push and pull on a layout load neither child_process, tls nor http2', async (t) => {
  const dir = await makeTempDir(t);
  const report = join(dir, 'builtins.cjs');
  const seen = join(dir, 'seen.txt');
  await writeFile(report, `process.on('exit', () => require('node:fs').writeFileSync(${JSON.stringify(seen)}, process.moduleLoadList.join('\\n')));\n`);
  const env = { NODE_OPTIONS: `--require ${report}` };
  const layout = join(dir, 'store');
  const push = await runCli(['push', '--oci-layout', `${layout}:v1`, join(examplesDir, 'example-filter.wasm')], { env });
  assert.equal(push.code, 0, push.stderr);
  const pull = await runCli(['pull', '--oci-layout', `${layout}:v1`, '-o', join(dir, 'out')], { env });
  assert.equal(pull.code, 0, pull.stderr);
  const loaded = new Set((await readFile(seen, 'utf8')).split('\n').filter((l) => l.startsWith('NativeModule ')).map((l) => l.slice('NativeModule '.length)));
  assert.ok(loaded.has('fs/promises'), 'the report lists builtins');
  for (const name of ['child_process', 'tls', 'http2', 'dgram']) assert.ok(!loaded.has(name), `${name} loaded by a layout pull`);
});
