import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { login, logout } from '../../src/credentials/login.js';
import { createCredentialStore } from '../../src/credentials/store.js';
import type { KeytarLike, KeytarLoader } from '../../src/credentials/keychain.js';
import type { ProcessRunner } from '../../src/credentials/process-runner.js';
import type { Credential } from '../../src/credentials/types.js';
import { WasmOciError, isWasmOciError } from '../../src/errors.js';

async function tempDir(t: { after: (fn: () => Promise<void>) => void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'wasm-oci-login-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

function memoryKeytar() {
  const entries = new Map<string, string>();
  const api: KeytarLike = {
    getPassword: async (s, a) => entries.get(`${s}/${a}`) ?? null,
    setPassword: async (s, a, p) => void entries.set(`${s}/${a}`, p),
    deletePassword: async (s, a) => entries.delete(`${s}/${a}`),
  };
  return { load: (async () => api) as KeytarLoader, entries };
}

/** A registry check that accepts one password, like Distribution with htpasswd would. */
function verifier(good: Credential) {
  const checked: string[] = [];
  const verify = async (cred: Credential) => {
    checked.push(cred.username ?? '<token>');
    if (cred.username !== good.username || cred.password !== good.password) {
      throw new WasmOciError('E_AUTH', 'unauthorized: incorrect username or password', { status: 401 });
    }
  };
  return { verify, checked };
}

test('login verifies first, then stores; logout removes it', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'config.json');
  const keytar = memoryKeytar();
  const store = createCredentialStore({ configPaths: [path], env: {}, keytarLoader: keytar.load });
  const { verify, checked } = verifier({ username: 'alice', password: 'right-pw' });
  const warnings: string[] = [];
  const result = await login({
    registry: 'localhost:5000',
    credential: { username: 'alice', password: 'right-pw' },
    store,
    verify,
    onWarning: (m) => warnings.push(m),
  });
  assert.equal(result.store, 'keychain');
  assert.deepEqual(checked, ['alice']);
  assert.deepEqual(warnings, []);
  assert.equal((await store.get('localhost:5000'))?.username, 'alice');
  assert.deepEqual(await logout({ registry: 'localhost:5000', store }), ['OS keychain']);
  assert.equal(await store.get('localhost:5000'), undefined);
  assert.deepEqual(await logout({ registry: 'localhost:5000', store }), []);
});

test('login to the file store reports the unencrypted warning through onWarning', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'config.json');
  const store = createCredentialStore({ configPaths: [path], env: {}, keytarLoader: memoryKeytar().load });
  const warnings: string[] = [];
  const result = await login({
    registry: 'localhost:5000',
    credential: { username: 'alice', password: 'right-pw' },
    store,
    storeKind: 'file',
    verify: verifier({ username: 'alice', password: 'right-pw' }).verify,
    onWarning: (m) => warnings.push(m),
  });
  assert.equal(result.store, 'file');
  assert.equal(warnings.length, 1);
  assert.match(warnings[0]!, /unencrypted/);
  assert.ok(!warnings[0]!.includes('right-pw'));
});

test('a rejected verify leaves config.json, the helper and the keychain byte-for-byte unchanged', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'config.json');
  const original = '{\n  "auths": { "localhost:5000": { "auth": "YWxpY2U6b2xkLXB3" } },\n  "credHelpers": { "helper.example": "fake" }\n}\n';
  await writeFile(path, original, { mode: 0o644 });
  const before = await stat(path);
  const keytar = memoryKeytar();
  keytar.entries.set('wasm-oci/kc.example', '{"username":"k","password":"old"}');
  const helperCalls: string[] = [];
  const runner: ProcessRunner = async (cmd, args) => {
    helperCalls.push(`${cmd} ${args[0]}`);
    return { code: 0, stdout: '', stderr: '' };
  };
  const store = createCredentialStore({ configPaths: [path], env: {}, runner, keytarLoader: keytar.load });
  const { verify } = verifier({ username: 'alice', password: 'right-pw' });
  for (const [registry, storeKind] of [
    ['localhost:5000', undefined],
    ['localhost:5000', 'file'],
    ['kc.example', 'keychain'],
    ['helper.example', undefined],
  ] as const) {
    await assert.rejects(
      login({ registry, credential: { username: 'alice', password: 'wrong-pw' }, store, verify, storeKind }),
      (err: unknown) => isWasmOciError(err, 'E_AUTH') && err.exitCode === 3 && !err.message.includes('wrong-pw'),
    );
  }
  assert.equal(await readFile(path, 'utf8'), original);
  const after = await stat(path);
  assert.equal(after.ino, before.ino);
  assert.equal(after.mode & 0o777, 0o644, 'not even rewritten');
  assert.deepEqual(await readdir(dir), ['config.json'], 'no lock or temp file');
  assert.deepEqual([...keytar.entries.entries()], [['wasm-oci/kc.example', '{"username":"k","password":"old"}']]);
  assert.deepEqual(helperCalls, []);
});

test('a verify that fails with a non-library error becomes E_AUTH', async (t) => {
  const dir = await tempDir(t);
  const store = createCredentialStore({ configPaths: [join(dir, 'config.json')], env: {}, keytarLoader: memoryKeytar().load });
  await assert.rejects(
    login({
      registry: 'r.example',
      credential: { username: 'u', password: 'p' },
      store,
      verify: async () => {
        throw new Error('boom');
      },
    }),
    (err: unknown) => isWasmOciError(err, 'E_AUTH'),
  );
  await assert.rejects(stat(join(dir, 'config.json')));
});

test('login refuses incomplete credentials before calling verify', async (t) => {
  const dir = await tempDir(t);
  const store = createCredentialStore({ configPaths: [join(dir, 'config.json')], env: {}, keytarLoader: memoryKeytar().load });
  let called = false;
  const verify = async () => {
    called = true;
  };
  for (const credential of [{}, { username: 'u' }, { password: 'p' }]) {
    await assert.rejects(login({ registry: 'r.example', credential, store, verify }), (err: unknown) => isWasmOciError(err, 'E_USAGE'));
  }
  assert.equal(called, false);
  const ok = await login({ registry: 'r.example', credential: { identityToken: 'tok' }, store, verify });
  assert.equal(ok.store, 'keychain');
  assert.equal((await store.get('r.example'))?.identityToken, 'tok');
});
