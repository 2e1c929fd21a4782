// Runs under dbus-run-session with an unlocked gnome-keyring (see the test command).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { createCredentialStore } from '../../src/credentials/store.js';
import { login, logout } from '../../src/credentials/login.js';
import { WasmOciError } from '../../src/errors.js';

const execFileP = promisify(execFile);

/** Asks the real helper directly, as docker would. */
async function helperGet(serverURL: string): Promise<{ code: number; stdout: string }> {
  return new Promise((resolve) => {
    const child = execFile('docker-credential-secretservice', ['get'], (err, stdout) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout });
    });
    child.stdin!.end(serverURL);
  });
}

test('docker-credential-secretservice round trip through credsStore', async (t) => {
  assert.ok(process.env.DBUS_SESSION_BUS_ADDRESS, 'needs a D-Bus session with gnome-keyring');
  await execFileP('which', ['docker-credential-secretservice']);
  const dir = await mkdtemp(join(tmpdir(), 'wasm-oci-ss-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const path = join(dir, 'config.json');
  await writeFile(path, JSON.stringify({ credsStore: 'secretservice', psFormat: 'keep-me' }));
  const registry = `127.0.0.1:${10000 + Math.floor(Math.random() * 50000)}`;
  const secret = `ss-${randomBytes(8).toString('hex')}`;
  const env = { ...process.env, DOCKER_CONFIG: dir };

  const store = createCredentialStore({ env });
  const result = await login({ registry, credential: { username: 'alice', password: secret }, store, verify: async () => {} });
  assert.equal(result.store, 'helper');
  assert.equal(result.location, 'docker-credential-secretservice');
  const text = await readFile(path, 'utf8');
  assert.ok(!text.includes(secret));
  assert.equal(JSON.parse(text).psFormat, 'keep-me');

  // docker (and oras) would find it through the same helper
  const direct = await helperGet(registry);
  assert.equal(direct.code, 0);
  const doc = JSON.parse(direct.stdout) as { Username: string; Secret: string };
  assert.ok(doc.Username === 'alice' && doc.Secret === secret, 'the helper holds what we stored');

  const later = createCredentialStore({ env });
  const found = await later.get(registry);
  assert.ok(found?.username === 'alice' && found.password === secret, 'a later command finds it');

  // a wrong password changes nothing in the helper
  await assert.rejects(
    login({
      registry,
      credential: { username: 'alice', password: 'wrong' },
      store: later,
      verify: async () => {
        throw new WasmOciError('E_AUTH', 'unauthorized');
      },
    }),
  );
  assert.equal(JSON.parse((await helperGet(registry)).stdout).Secret === secret, true, 'helper entry unchanged');

  assert.deepEqual(await logout({ registry, store: later }), ['docker-credential-secretservice']);
  const gone = await helperGet(registry);
  assert.notEqual(gone.code, 0);
  assert.match(gone.stdout, /credentials not found/);
  assert.deepEqual(await logout({ registry, store: later }), []);
});

test('credentials a helper already holds (stored by another tool) are used', async (t) => {
  assert.ok(process.env.DBUS_SESSION_BUS_ADDRESS, 'needs a D-Bus session with gnome-keyring');
  const dir = await mkdtemp(join(tmpdir(), 'wasm-oci-ss-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const registry = `127.0.0.1:${10000 + Math.floor(Math.random() * 50000)}`;
  const secret = `ss-${randomBytes(8).toString('hex')}`;
  await new Promise<void>((resolve, reject) => {
    const child = execFile('docker-credential-secretservice', ['store'], (err) => (err ? reject(err) : resolve()));
    child.stdin!.end(JSON.stringify({ ServerURL: registry, Username: '<token>', Secret: secret }));
  });
  t.after(
    () =>
      new Promise<void>((resolve) => {
        const child = execFile('docker-credential-secretservice', ['erase'], () => resolve());
        child.stdin!.end(registry);
      }),
  );
  await writeFile(join(dir, 'config.json'), JSON.stringify({ credHelpers: { [registry]: 'secretservice' } }));
  const store = createCredentialStore({ env: { ...process.env, DOCKER_CONFIG: dir } });
  const found = await store.credentialFunc()(registry);
  assert.ok(found?.identityToken === secret && !found.username, '<token> username means an identity token');
});
