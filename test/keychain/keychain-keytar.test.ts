// Runs under dbus-run-session with an unlocked gnome-keyring (see the test command).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { createKeychain, defaultKeytarLoader } from '../../src/credentials/keychain.js';
import { createCredentialStore } from '../../src/credentials/store.js';
import { login, logout } from '../../src/credentials/login.js';
import { WasmOciError } from '../../src/errors.js';

function requireSession(): void {
  assert.ok(process.env.DBUS_SESSION_BUS_ADDRESS, 'these tests need a D-Bus session with gnome-keyring (run them under dbus-run-session)');
}

test('keytar round trip through the real secret service', async () => {
  requireSession();
  const warnings: string[] = [];
  const kc = createKeychain({ service: `wasm-oci-test-${randomBytes(4).toString('hex')}`, onWarning: (m) => warnings.push(m) });
  const account = 'localhost:5000';
  const secret = `kt-${randomBytes(8).toString('hex')}`;
  assert.equal(await kc.get(account), undefined);
  assert.equal(await kc.set(account, { username: 'alice', password: secret }), true);
  const back = await kc.get(account);
  assert.equal(back?.username, 'alice');
  assert.ok(back?.password === secret, 'the password comes back');
  assert.equal(await kc.delete(account), true);
  assert.equal(await kc.get(account), undefined);
  assert.deepEqual(warnings, [], kc.unavailableReason());
  // the entry really lived in the secret service, not in memory
  const keytar = await defaultKeytarLoader();
  assert.equal(await keytar.getPassword(kc.service, account), null);
});

test('login with the default store uses the keychain; a later store finds it; logout removes it', async (t) => {
  requireSession();
  const dir = await mkdtemp(join(tmpdir(), 'wasm-oci-kc-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const env = { HOME: dir };
  const registry = `127.0.0.1:${10000 + Math.floor(Math.random() * 50000)}`;
  const secret = `kt-${randomBytes(8).toString('hex')}`;
  const warnings: string[] = [];
  const store = createCredentialStore({ env, onWarning: (m) => warnings.push(m) });
  const result = await login({
    registry,
    credential: { username: 'alice', password: secret },
    store,
    verify: async () => {},
    onWarning: (m) => warnings.push(m),
  });
  assert.equal(result.store, 'keychain');
  assert.deepEqual(warnings, []);
  const configText = await readFile(join(dir, '.docker', 'config.json'), 'utf8');
  assert.ok(!configText.includes(secret), 'no secret in config.json');
  assert.deepEqual(JSON.parse(configText)['wasm-oci'], { keychain: [registry] });

  const keytar = await defaultKeytarLoader();
  assert.ok((await keytar.getPassword('wasm-oci', registry)) !== null, 'stored under service wasm-oci, account = host');

  const later = createCredentialStore({ env });
  const found = await later.credentialFunc()(registry);
  assert.ok(found?.username === 'alice' && found.password === secret, 'a later command finds the credential');

  assert.deepEqual(await logout({ registry, store: later }), ['OS keychain']);
  assert.equal(await keytar.getPassword('wasm-oci', registry), null);
  assert.equal(await later.get(registry), undefined);
});

test('a rejected login leaves the keychain untouched', async (t) => {
  requireSession();
  const dir = await mkdtemp(join(tmpdir(), 'wasm-oci-kc-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const registry = `127.0.0.1:${10000 + Math.floor(Math.random() * 50000)}`;
  const store = createCredentialStore({ env: { HOME: dir } });
  await assert.rejects(
    login({
      registry,
      credential: { username: 'alice', password: 'wrong' },
      store,
      verify: async () => {
        throw new WasmOciError('E_AUTH', 'unauthorized');
      },
    }),
  );
  const keytar = await defaultKeytarLoader();
  assert.equal(await keytar.getPassword('wasm-oci', registry), null);
});
