import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtemp, readdir, rm, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { createCredentialHelper } from '../../src/credentials/helper.js';
import { createProcessRunner, type ProcessRunner } from '../../src/credentials/process-runner.js';
import { createCredentialStore } from '../../src/credentials/store.js';
import type { Credential } from '../../src/credentials/types.js';
import { isWasmOciError } from '../../src/errors.js';

const run = promisify(execFile);

function sameCredential(a: Credential | undefined, b: Credential | undefined): boolean {
  const keys = ['username', 'password', 'identityToken', 'registryToken'] as const;
  if (!a || !b) return a === b;
  return keys.every((k) => (a[k] ?? '') === (b[k] ?? ''));
}

/** A stand-in for a docker-credential-* program, speaking the protocol the real helpers speak. */
function fakeHelper(name = 'fake') {
  const entries = new Map<string, { Username: string; Secret: string }>();
  const calls: { cmd: string; action: string }[] = [];
  const runner: ProcessRunner = async (cmd, args, input) => {
    const action = args[0] ?? '';
    calls.push({ cmd, action });
    if (cmd !== `docker-credential-${name}`) {
      throw Object.assign(new Error(`spawn ${cmd} ENOENT`), { code: 'ENOENT' });
    }
    if (action === 'store') {
      const doc = JSON.parse(input) as { ServerURL: string; Username: string; Secret: string };
      entries.set(doc.ServerURL, { Username: doc.Username, Secret: doc.Secret });
      return { code: 0, stdout: '', stderr: '' };
    }
    const url = input.trim();
    const e = entries.get(url);
    if (!e) return { code: 1, stdout: 'credentials not found in native keychain\n', stderr: '' };
    if (action === 'get') return { code: 0, stdout: JSON.stringify({ ServerURL: url, ...e }), stderr: '' };
    if (action === 'erase') {
      entries.delete(url);
      return { code: 0, stdout: '', stderr: '' };
    }
    return { code: 1, stdout: `unknown action ${action}`, stderr: '' };
  };
  return { runner, entries, calls };
}

test('helper protocol: store sends {ServerURL,Username,Secret}, get reads it back, erase removes it', async () => {
  const fake = fakeHelper();
  const h = createCredentialHelper('fake', fake.runner);
  assert.equal(h.command, 'docker-credential-fake');
  await h.store('localhost:5000', { username: 'alice', password: 'pw-1' });
  assert.equal(fake.entries.get('localhost:5000')?.Username, 'alice');
  assert.ok(sameCredential(await h.get('localhost:5000'), { username: 'alice', password: 'pw-1' }));
  assert.equal(await h.erase('localhost:5000'), true);
  assert.equal(await h.get('localhost:5000'), undefined, '"credentials not found" is a miss');
  assert.equal(await h.erase('localhost:5000'), false);
  assert.deepEqual(
    fake.calls.map((c) => c.action),
    ['store', 'get', 'erase', 'get', 'erase'],
  );
});

test('helper protocol: <token> username carries an identity token both ways', async () => {
  const fake = fakeHelper();
  const h = createCredentialHelper('fake', fake.runner);
  await h.store('reg.example', { identityToken: 'refresh-1' });
  assert.equal(fake.entries.get('reg.example')?.Username, '<token>');
  assert.ok(sameCredential(await h.get('reg.example'), { identityToken: 'refresh-1' }));
});

test('helper failures are E_CREDENTIALS and never include the secret', async () => {
  const secret = `s3cr3t-${randomBytes(6).toString('hex')}`;
  const echoing: ProcessRunner = async (_cmd, _args, input) => ({ code: 1, stdout: `error storing ${input}`, stderr: `bad ${secret}` });
  const h = createCredentialHelper('broken', echoing);
  await assert.rejects(h.store('reg.example', { username: 'u', password: secret }), (err: unknown) => {
    assert.ok(isWasmOciError(err, 'E_CREDENTIALS'));
    assert.ok(!err.message.includes(secret), 'secret redacted from the helper output');
    assert.match(err.message, /docker-credential-broken store failed/);
    return true;
  });
  const garbage: ProcessRunner = async () => ({ code: 0, stdout: `not json ${secret}`, stderr: '' });
  await assert.rejects(createCredentialHelper('g', garbage).get('reg.example'), (err: unknown) => {
    assert.ok(isWasmOciError(err, 'E_CREDENTIALS'));
    assert.ok(!err.message.includes(secret));
    return true;
  });
});

test('helper names with a path separator are refused (they would run an arbitrary file)', () => {
  const fake = fakeHelper();
  assert.throws(() => createCredentialHelper('../../tmp/evil', fake.runner), (err: unknown) => isWasmOciError(err, 'E_INVALID_INPUT'));
});

test('a helper that is not installed: E_CREDENTIALS for the helper, a warning and a miss for lookups', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'wasm-oci-helper-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const runner = createProcessRunner({ env: { PATH: dir } });
  await assert.rejects(
    createCredentialHelper('wasmoci-missing', runner).get('reg.example'),
    (err: unknown) => isWasmOciError(err, 'E_CREDENTIALS') && /not installed/.test(err.message),
  );
  const path = join(dir, 'config.json');
  await writeFile(
    path,
    JSON.stringify({ credsStore: 'wasmoci-missing', auths: { 'reg.example': { auth: Buffer.from('u:p').toString('base64') } } }),
  );
  const warnings: string[] = [];
  const store = createCredentialStore({ configPaths: [path], env: {}, runner, onWarning: (m) => warnings.push(m) });
  assert.equal((await store.get('reg.example'))?.username, 'u', 'falls through to auths');
  assert.equal((await store.get('reg.example'))?.username, 'u');
  assert.equal(warnings.length, 1, 'warned once');
  assert.match(warnings[0]!, /docker-credential-wasmoci-missing is not installed/);
});

test('store routes to credHelpers[host] before credsStore, and lookups use the same helper', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'wasm-oci-helper-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const path = join(dir, 'config.json');
  await writeFile(path, JSON.stringify({ credsStore: 'other', credHelpers: { 'localhost:5000': 'fake' } }));
  const fake = fakeHelper('fake');
  const store = createCredentialStore({ configPaths: [path], env: {}, runner: fake.runner });
  const result = await store.store('localhost:5000', { username: 'alice', password: 'pw-2' });
  assert.equal(result.store, 'helper');
  assert.equal(result.location, 'docker-credential-fake');
  assert.equal(result.warning, undefined);
  assert.ok(!(await readFile(path, 'utf8')).includes(Buffer.from('alice:pw-2').toString('base64')), 'no secret in the file');
  assert.ok(sameCredential(await store.get('localhost:5000'), { username: 'alice', password: 'pw-2' }));
  assert.deepEqual(await store.erase('localhost:5000'), ['docker-credential-fake']);
  assert.equal(fake.entries.size, 0);
});

/** A throwaway gpg key and password store, so the real docker-credential-pass can run. */
async function passEnvironment(t: { after: (fn: () => Promise<void>) => void }) {
  const root = await mkdtemp(join(tmpdir(), 'wasm-oci-pass-'));
  const env: Record<string, string | undefined> = {
    PATH: process.env.PATH,
    HOME: join(root, 'home'),
    GNUPGHOME: join(root, 'gnupg'),
    PASSWORD_STORE_DIR: join(root, 'store'),
  };
  await run('mkdir', ['-m', '700', '-p', env.GNUPGHOME!, env.HOME!]);
  t.after(async () => {
    await run('gpgconf', ['--kill', 'gpg-agent'], { env: env as NodeJS.ProcessEnv }).catch(() => {});
    await rm(root, { recursive: true, force: true });
  });
  const opts = { env: env as NodeJS.ProcessEnv };
  await run(
    'gpg',
    ['--batch', '--pinentry-mode', 'loopback', '--passphrase', '', '--quick-gen-key', 'wasm-oci test <test@wasm-oci.invalid>', 'future-default', 'default', 'never'],
    opts,
  );
  const { stdout } = await run('gpg', ['--list-keys', '--with-colons'], opts);
  const fpr = stdout.split('\n').find((l) => l.startsWith('fpr:'))!.split(':')[9]!;
  await run('pass', ['init', fpr], opts);
  return { env, storeDir: env.PASSWORD_STORE_DIR! };
}

async function listTree(dir: string): Promise<string[]> {
  return (await readdir(dir, { recursive: true })).map(String).sort();
}

test('the real docker-credential-pass: store, get, erase through credsStore', async (t) => {
  const { env, storeDir } = await passEnvironment(t);
  const dir = await mkdtemp(join(tmpdir(), 'wasm-oci-passcfg-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const path = join(dir, 'config.json');
  await writeFile(path, JSON.stringify({ credsStore: 'pass' }));
  const secret = `pw-${randomBytes(8).toString('hex')}`;
  const store = createCredentialStore({ configPaths: [path], env });

  assert.equal(await store.get('localhost:5000'), undefined, 'empty store is a miss');
  const result = await store.store('localhost:5000', { username: 'alice', password: secret });
  assert.deepEqual([result.store, result.location, result.warning], ['helper', 'docker-credential-pass', undefined]);
  assert.ok(!(await readFile(path, 'utf8')).includes(secret));
  assert.ok((await listTree(storeDir)).some((f) => f.startsWith('docker-credential-helpers')), 'pass holds the entry');

  // A second store instance (a later command) finds it through the helper.
  const later = createCredentialStore({ configPaths: [path], env });
  assert.ok(sameCredential(await later.get('localhost:5000'), { username: 'alice', password: secret }));
  assert.ok(sameCredential(await later.credentialFunc()('localhost:5000'), { username: 'alice', password: secret }));

  // identity tokens survive the <token> convention
  await later.store('tok.example', { identityToken: `${secret}-tok` });
  assert.ok(sameCredential(await later.get('tok.example'), { identityToken: `${secret}-tok` }));

  assert.deepEqual(await later.erase('localhost:5000'), ['docker-credential-pass']);
  assert.equal(await later.get('localhost:5000'), undefined);
  assert.deepEqual(await later.erase('localhost:5000'), [], 'logging out twice finds nothing');
});

test('a helper that hangs is stopped after the timeout with an error naming it, even when a child holds its pipes', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'wasm-oci-helper-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  // A shell-script helper whose `sleep` child keeps stdout open after the shell is killed.
  await writeFile(join(dir, 'docker-credential-wasmoci-hang'), '#!/bin/sh\nsleep 30\necho never\n', { mode: 0o755 });
  const runner = createProcessRunner({ env: { PATH: `${dir}:/usr/bin:/bin` }, timeoutMs: 500 });
  await assert.rejects(
    createCredentialHelper('wasmoci-hang', runner).get('reg.example'),
    (err: unknown) => {
      assert.ok(isWasmOciError(err, 'E_CREDENTIALS'), String(err));
      assert.match(err.message, /credential helper docker-credential-wasmoci-hang did not answer `get` within 0\.5 s/);
      assert.match(err.hint ?? '', /WASM_OCI_CREDENTIAL_HELPER_TIMEOUT/);
      return true;
    },
  );
});

test('WASM_OCI_CREDENTIAL_HELPER_TIMEOUT sets the helper timeout in seconds', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'wasm-oci-helper-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await writeFile(join(dir, 'docker-credential-wasmoci-hang'), '#!/bin/sh\nsleep 30\n', { mode: 0o755 });
  const runner = createProcessRunner({ env: { PATH: `${dir}:/usr/bin:/bin`, WASM_OCI_CREDENTIAL_HELPER_TIMEOUT: '1' } });
  await assert.rejects(createCredentialHelper('wasmoci-hang', runner).get('reg.example'), /within 1 s/);
});
