// login / logout commands in process, against a real Distribution (TLS + htpasswd, token auth).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough, Readable } from 'node:stream';
import { readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Command, CommanderError } from 'commander';
import { CliContext, type CliIO, type GlobalFlags } from '../../src/cli/context.js';
import { renderError } from '../../src/cli/render-error.js';
import { loginCommand, promptHidden } from '../../src/cli/commands/login.js';
import { logoutCommand } from '../../src/cli/commands/logout.js';
import { createCredentialStore } from '../../src/credentials/store.js';
import { startDistribution } from '../helpers/distribution.js';
import { makeTempDir } from '../helpers/tmp.js';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Every output of every run, to check no secret ever shows up. */
const allOutput: string[] = [];

async function run(args: string[], opts: { env: Record<string, string | undefined>; input?: string }): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const out = new PassThrough();
  const err = new PassThrough();
  out.on('data', (d: Buffer) => (stdout += d.toString()));
  err.on('data', (d: Buffer) => (stderr += d.toString()));
  const io: CliIO = {
    stdout: out,
    stderr: err,
    stdin: Readable.from(opts.input !== undefined ? [Buffer.from(opts.input)] : []),
    env: opts.env as NodeJS.ProcessEnv,
    cwd: process.cwd(),
  };
  let ctx: CliContext | undefined;
  const getContext = (cmd: Command) => (ctx ??= new CliContext(io, cmd.optsWithGlobals() as GlobalFlags));
  const program = new Command('wasm-oci')
    .option('--format <format>', 'output format', 'text')
    .option('--no-tty')
    .option('-d, --debug')
    .exitOverride()
    .configureOutput({ writeOut: (s) => void (stdout += s), writeErr: (s) => void (stderr += s) });
  for (const make of [loginCommand, logoutCommand]) {
    const cmd = make(getContext);
    cmd.exitOverride().configureOutput(program.configureOutput());
    program.addCommand(cmd);
  }
  let code = 0;
  try {
    await program.parseAsync(args, { from: 'user' });
  } catch (e) {
    code = e instanceof CommanderError ? 2 : renderError(ctx ?? new CliContext(io, { format: 'text' }), e);
  }
  await new Promise((r) => setImmediate(r));
  allOutput.push(stdout, stderr);
  return { code, stdout, stderr };
}

function assertNoSecret(secrets: string[]): void {
  for (const s of secrets) {
    assert.ok(!allOutput.some((o) => o.includes(s)), 'a secret appeared in the output');
    const basic = Buffer.from(`testuser:${s}`).toString('base64');
    assert.ok(!allOutput.some((o) => o.includes(basic)), 'a Basic header appeared in the output');
  }
}

test('login to a TLS + htpasswd registry: wrong password changes nothing, right one is stored, logout removes it', async (t) => {
  const password = `pw-${Math.random().toString(36).slice(2)}-tls`;
  const reg = await startDistribution({ mode: 'tls-htpasswd', password, t });
  const dir = await makeTempDir(t);
  const config = join(dir, 'config.json');
  const original = '{\n  "psFormat": "keep me",\n  "auths": {"other.example": {"auth": "b3RoZXI6eA=="}}\n}\n';
  await writeFile(config, original);
  const env = { HOME: dir, PATH: process.env.PATH };
  const common = ['--ca-file', reg.caFile!, '--registry-config', config, '--store', 'file'];

  const wrong = await run(['-d', 'login', reg.host, '-u', 'testuser', '--password-stdin', ...common], { env, input: 'wrong-password\n' });
  assert.equal(wrong.code, 3, wrong.stderr);
  assert.match(wrong.stderr, /Error:/);
  assert.equal(await readFile(config, 'utf8'), original, 'config.json byte-for-byte unchanged');
  assert.deepEqual(await readdir(dir), ['config.json']);

  const ok = await run(['-d', 'login', reg.host, '-u', 'testuser', '--password-stdin', ...common], { env, input: `${password}\n` });
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stdout, /Login Succeeded/);
  assert.match(ok.stderr, /stored unencrypted/);
  const written = JSON.parse(await readFile(config, 'utf8'));
  assert.equal(written.psFormat, 'keep me');
  assert.equal(written.auths['other.example'].auth, 'b3RoZXI6eA==');
  assert.equal(written.auths[reg.host].auth, Buffer.from(`testuser:${password}`).toString('base64'));
  assert.equal((await stat(config)).mode & 0o777, 0o600);

  // what a later command (push, pull) would get
  const found = await createCredentialStore({ configPaths: [config], env }).credentialFunc()(reg.host);
  assert.ok(found?.username === 'testuser' && found.password === password, 'the stored credential is found');

  const out = await run(['logout', reg.host, '--registry-config', config], { env });
  assert.equal(out.code, 0, out.stderr);
  assert.match(out.stdout, new RegExp(`Removed login credentials for ${reg.host.replace(/\./g, '\\.')} from: ${config}`));
  assert.equal(JSON.parse(await readFile(config, 'utf8')).auths[reg.host], undefined);
  const again = await run(['logout', reg.host, '--registry-config', config], { env });
  assert.match(again.stdout, /Not logged in/);
  assertNoSecret([password]);
});

test('login to a token-auth registry with -p warns it is insecure; an identity token logs in too', async (t) => {
  const password = `pw-${Math.random().toString(36).slice(2)}-tok`;
  const reg = await startDistribution({ mode: 'token', password, t });
  const dir = await makeTempDir(t);
  const env = { DOCKER_CONFIG: join(dir, 'docker'), PATH: process.env.PATH };
  const config = join(dir, 'docker', 'config.json');

  const wrong = await run(['login', reg.host, '--plain-http', '-u', 'testuser', '-p', 'nope', '--store', 'file'], { env });
  assert.equal(wrong.code, 3, wrong.stderr);
  await assert.rejects(stat(join(dir, 'docker')), 'nothing created on a failed login');

  const ok = await run(['--format', 'json', 'login', reg.host, '--plain-http', '-u', 'testuser', '-p', password, '--store', 'file'], { env });
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stderr, /--password via the CLI is insecure/);
  assert.deepEqual(JSON.parse(ok.stdout), { registry: reg.host, store: 'file', location: config });
  assert.equal((await stat(join(dir, 'docker'))).mode & 0o777, 0o700);

  const refresh = reg.issuer!.createRefreshToken('testuser');
  const tok = await run(['-d', 'login', reg.host, '--plain-http', '--identity-token-stdin', '--store', 'file'], { env, input: refresh });
  assert.equal(tok.code, 0, tok.stderr);
  const entry = JSON.parse(await readFile(config, 'utf8')).auths[reg.host];
  assert.equal(entry.identitytoken, refresh);
  assert.equal(entry.auth, undefined, 'the password entry was replaced');
  assertNoSecret([password, refresh]);
});

test('login usage errors: no credentials without a terminal, conflicting flags', async (t) => {
  const dir = await makeTempDir(t);
  const env = { HOME: dir };
  const none = await run(['login', '127.0.0.1:1'], { env });
  assert.equal(none.code, 2);
  assert.match(none.stderr, /no terminal/);
  const both = await run(['login', '127.0.0.1:1', '-u', 'u', '-p', 'x', '--password-stdin'], { env, input: 'y' });
  assert.equal(both.code, 2);
  const noUser = await run(['login', '127.0.0.1:1', '--password-stdin'], { env, input: 'y' });
  assert.equal(noUser.code, 2);
  assert.match(noUser.stderr, /needs --username/);
  const badStore = await run(['login', '127.0.0.1:1', '--store', 'cloud'], { env });
  assert.equal(badStore.code, 2);
  await assert.rejects(stat(join(dir, '.docker')));
});

test('the password prompt echoes nothing and handles backspace', async () => {
  const stdin = new PassThrough() as PassThrough & { isTTY?: boolean; setRawMode?: (raw: boolean) => unknown };
  const modes: boolean[] = [];
  stdin.isTTY = true;
  stdin.setRawMode = (raw: boolean) => modes.push(raw);
  let shown = '';
  const stderr = new PassThrough();
  stderr.on('data', (d: Buffer) => (shown += d.toString()));
  const answer = promptHidden({ stdin, stderr }, 'Password: ');
  stdin.write('sekrx');
  stdin.write('\u007fet\r');
  assert.equal(await answer, 'sekret');
  await new Promise((r) => setImmediate(r));
  assert.equal(shown, 'Password: \n');
  assert.deepEqual(modes, [true, false]);
});
