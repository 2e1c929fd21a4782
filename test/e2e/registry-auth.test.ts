import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { runCli, type CliResult } from '../helpers/cli.js';
import { startDistribution, type RunningRegistry } from '../helpers/distribution.js';
import { examplesDir } from '../helpers/paths.js';
import { skopeoCopy, skopeoInspectRaw, skopeoOptsFor } from '../helpers/skopeo.js';
import { makeTempDir, type CleanupContext } from '../helpers/tmp.js';
import { ERROR_CODES } from '../../src/errors.js';

// The same push and pull as over plain HTTP, through TLS with htpasswd (Basic) and through a token
// issuer whose JWTs Distribution itself verifies (Bearer). Wrong or missing credentials must end
// with a clear message and the auth exit code, and never echo the password.

const FILTER = join(examplesDir, 'example-filter.wasm');
const SEED_FILES = [
  '--manifest-config', 'runtime-config.json:application/vnd.module.wasm.config.v1+json',
  'example-filter.wasm:application/vnd.module.wasm.content.layer.v1+wasm',
];
const AUTH_EXIT = ERROR_CODES.E_AUTH.exitCode;
const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');
const digestLine = (stdout: string): string => {
  const m = /^Digest: (sha256:[a-f0-9]{64})$/m.exec(stdout);
  assert.ok(m, `no Digest: line in\n${stdout}`);
  return m[1]!;
};

function ok(r: CliResult, what: string): void {
  assert.equal(r.code, 0, `${what} failed (${r.code}): ${r.stderr}`);
}

/** skopeo, with its own credentials and CA, sees the manifest we pushed and pulls the same module bytes. */
async function assertSkopeoAgrees(t: CleanupContext, reg: RunningRegistry, ref: string, digest: string): Promise<void> {
  const raw = await skopeoInspectRaw(`docker://${ref}`, skopeoOptsFor(reg));
  assert.equal(`sha256:${sha256(Buffer.from(raw))}`, digest, 'skopeo reads the manifest we pushed');
  const layer = JSON.parse(raw).layers[0];
  const dir = await makeTempDir(t);
  await skopeoCopy(`docker://${ref}`, `oci:${dir}:v1`, { src: skopeoOptsFor(reg) });
  const bytes = await readFile(join(dir, 'blobs', 'sha256', layer.digest.slice('sha256:'.length)));
  assert.deepEqual(bytes, await readFile(FILTER), 'skopeo pulled the same module bytes');
}

/** A denied command: auth exit code, an `Error:` line naming the problem, nothing written, no password echoed. */
async function assertDenied(r: CliResult, message: RegExp, secret: string, outDir?: string): Promise<void> {
  assert.equal(r.code, AUTH_EXIT, `expected the auth exit code ${AUTH_EXIT}, got ${r.code}: ${r.stderr}`);
  assert.match(r.stderr, /^Error: /m);
  assert.match(r.stderr, message);
  assert.ok(!r.stderr.includes(secret) && !r.stdout.includes(secret), 'the password is never printed');
  if (outDir) assert.deepEqual(await readdir(outDir).catch(() => []), [], 'nothing was written');
}

test('TLS + htpasswd: push with --ca-file, pull with --insecure, skopeo agrees; wrong or no credentials exit 3', async (t) => {
  const reg = await startDistribution({ mode: 'tls-htpasswd', t });
  const dir = await makeTempDir(t);
  const ref = `${reg.host}/filters/asm-test:v0.1`;
  const creds = ['-u', reg.username!, '-p', reg.password!];

  const pushed = await runCli(['push', ref, '--ca-file', reg.caFile!, ...creds, ...SEED_FILES], { cwd: examplesDir });
  ok(pushed, 'push over TLS with --ca-file');
  const digest = digestLine(pushed.stdout);

  const out = join(dir, 'insecure');
  const pulled = await runCli(['pull', ref, '--insecure', ...creds, '-o', out]);
  ok(pulled, 'pull with --insecure');
  assert.equal(digestLine(pulled.stdout), digest);
  assert.deepEqual(await readFile(join(out, 'example-filter.wasm')), await readFile(FILTER));

  const out2 = join(dir, 'ca');
  const pulledCa = await runCli(['pull', ref, '--ca-file', reg.caFile!, ...creds, '-o', out2]);
  ok(pulledCa, 'pull with --ca-file');
  assert.deepEqual(await readFile(join(out2, 'example-filter.wasm')), await readFile(FILTER));
  await assertSkopeoAgrees(t, reg, ref, digest);

  // The self-signed certificate is refused unless the user trusts it one way or the other.
  const untrusted = await runCli(['resolve', ref, ...creds]);
  assert.equal(untrusted.code, ERROR_CODES.E_TLS.exitCode, untrusted.stderr);
  assert.match(untrusted.stderr, /TLS failure.*self-signed certificate/);
  assert.match(untrusted.stderr, /--ca-file FILE or --insecure/, 'the hint names both ways out');

  const wrong = await runCli(['pull', ref, '--ca-file', reg.caFile!, '-u', reg.username!, '-p', 'not-the-password-42', '-o', join(dir, 'wrong')]);
  await assertDenied(wrong, /rejected the credentials/, 'not-the-password-42', join(dir, 'wrong'));
  const wrongPush = await runCli(['push', `${reg.host}/filters/other:v1`, FILTER, '--ca-file', reg.caFile!, '-u', 'nobody', '-p', 'not-the-password-42']);
  await assertDenied(wrongPush, /rejected the credentials/, 'not-the-password-42');

  const anonymous = await runCli(['pull', ref, '--ca-file', reg.caFile!, '-o', join(dir, 'anon')]);
  await assertDenied(anonymous, /authentication required: no credentials for/, reg.password!, join(dir, 'anon'));
  assert.match(anonymous.stderr, /login|-u/, 'the hint says how to give credentials');
});

test('token auth (plain HTTP): push with -u/-p, pull with --password-stdin; registry verifies the issued JWT', async (t) => {
  const reg = await startDistribution({ mode: 'token', t });
  const dir = await makeTempDir(t);
  const ref = `${reg.host}/asm-test:v0.1`;

  const pushed = await runCli(['push', ref, '--plain-http', '-u', reg.username!, '-p', reg.password!, ...SEED_FILES], { cwd: examplesDir });
  ok(pushed, 'push with a token');
  const digest = digestLine(pushed.stdout);

  const out = join(dir, 'out');
  const pulled = await runCli(['pull', ref, '--plain-http', '-u', reg.username!, '--password-stdin', '-o', out], { input: `${reg.password}\n` });
  ok(pulled, 'pull with --password-stdin');
  assert.equal(digestLine(pulled.stdout), digest);
  assert.deepEqual(await readFile(join(out, 'example-filter.wasm')), await readFile(FILTER));
  await assertSkopeoAgrees(t, reg, ref, digest);

  const wrong = await runCli(['pull', ref, '--plain-http', '-u', reg.username!, '--password-stdin', '-o', join(dir, 'wrong')], { input: 'bad-secret-97\n' });
  await assertDenied(wrong, /rejected the credentials/, 'bad-secret-97', join(dir, 'wrong'));

  const anonymous = await runCli(['pull', ref, '--plain-http', '-o', join(dir, 'anon')]);
  await assertDenied(anonymous, /authentication required: no credentials for/, reg.password!, join(dir, 'anon'));
  const anonPush = await runCli(['push', `${reg.host}/anon:v1`, FILTER, '--plain-http']);
  await assertDenied(anonPush, /authentication required: no credentials for/, reg.password!);
});

test('token auth over TLS: push and pull with --ca-file and credentials, skopeo agrees; wrong password exit 3', async (t) => {
  const reg = await startDistribution({ mode: 'tls-token', t });
  const dir = await makeTempDir(t);
  const ref = `${reg.host}/team/asm-test:v0.1`;
  const tls = ['--ca-file', reg.caFile!];

  const pushed = await runCli(['push', ref, ...tls, '-u', reg.username!, '--password-stdin', ...SEED_FILES], { cwd: examplesDir, input: reg.password! });
  ok(pushed, 'push over TLS with a token');
  const digest = digestLine(pushed.stdout);

  const out = join(dir, 'out');
  const pulled = await runCli(['pull', ref, ...tls, '-u', reg.username!, '-p', reg.password!, '-o', out]);
  ok(pulled, 'pull over TLS with a token');
  assert.deepEqual(await readFile(join(out, 'example-filter.wasm')), await readFile(FILTER));
  const insecure = await runCli(['resolve', ref, '--insecure', '-u', reg.username!, '-p', reg.password!]);
  ok(insecure, 'resolve with --insecure');
  assert.equal(insecure.stdout.trim(), digest);
  await assertSkopeoAgrees(t, reg, ref, digest);

  const wrong = await runCli(['resolve', ref, ...tls, '-u', reg.username!, '-p', 'wrong-pw-31']);
  await assertDenied(wrong, /rejected the credentials/, 'wrong-pw-31');
  const anonymous = await runCli(['resolve', ref, ...tls]);
  await assertDenied(anonymous, /authentication required: no credentials for/, reg.password!);
});
