import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCredentialStore } from '../../src/credentials/store.js';
import { createKeychain, type KeytarLike, type KeytarLoader } from '../../src/credentials/keychain.js';
import type { ProcessRunner } from '../../src/credentials/process-runner.js';
import type { Credential } from '../../src/credentials/types.js';
import { isWasmOciError } from '../../src/errors.js';

function sameCredential(a: Credential | undefined, b: Credential | undefined): boolean {
  const keys = ['username', 'password', 'identityToken', 'registryToken'] as const;
  if (!a || !b) return a === b;
  return keys.every((k) => (a[k] ?? '') === (b[k] ?? ''));
}

async function tempDir(t: { after: (fn: () => Promise<void>) => void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'wasm-oci-store-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');

/** An in-memory keytar, counting calls so tests can tell when the keychain was (not) touched. */
function memoryKeytar() {
  const entries = new Map<string, string>();
  let calls = 0;
  const api: KeytarLike = {
    async getPassword(s, a) {
      calls++;
      return entries.get(`${s}/${a}`) ?? null;
    },
    async setPassword(s, a, p) {
      calls++;
      entries.set(`${s}/${a}`, p);
    },
    async deletePassword(s, a) {
      calls++;
      return entries.delete(`${s}/${a}`);
    },
  };
  return { load: (async () => api) as KeytarLoader, entries, calls: () => calls };
}

const notInstalled: KeytarLoader = async () => {
  throw Object.assign(new Error("Cannot find package 'keytar'"), { code: 'ERR_MODULE_NOT_FOUND' });
};

const noSecretService: KeytarLoader = async () => ({
  getPassword: async () => {
    throw new Error('Cannot autolaunch D-Bus without X11 $DISPLAY');
  },
  setPassword: async () => {
    throw new Error('Cannot autolaunch D-Bus without X11 $DISPLAY');
  },
  deletePassword: async () => {
    throw new Error('Cannot autolaunch D-Bus without X11 $DISPLAY');
  },
});

const noRunner: ProcessRunner = async (cmd) => {
  throw new Error(`no process expected, got ${cmd}`);
};

test('the config is found through DOCKER_CONFIG, else HOME/.docker', async (t) => {
  const dir = await tempDir(t);
  await writeFile(join(dir, 'config.json'), JSON.stringify({ auths: { 'reg.example': { auth: b64('dc:1') } } }));
  const viaDockerConfig = createCredentialStore({ env: { DOCKER_CONFIG: dir, HOME: '/nonexistent' }, runner: noRunner });
  assert.equal((await viaDockerConfig.get('reg.example'))?.username, 'dc');
  assert.deepEqual(viaDockerConfig.configPaths, [join(dir, 'config.json')]);
  const viaHome = createCredentialStore({ env: { HOME: dir }, runner: noRunner, keytarLoader: notInstalled });
  assert.deepEqual(viaHome.configPaths, [join(dir, '.docker', 'config.json')]);
  const stored = await viaHome.store('reg.example', { username: 'h', password: 'p' });
  assert.equal(stored.location, join(dir, '.docker', 'config.json'));
  assert.equal((await stat(join(dir, '.docker'))).mode & 0o777, 0o700);
});

test('a hand-written docker config.json is used as is', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'config.json');
  await writeFile(
    path,
    JSON.stringify({ auths: { 'https://localhost:5000': { auth: b64('alice:pw') }, 'https://index.docker.io/v1/': { auth: b64('hub:h') } } }),
  );
  const keytar = memoryKeytar();
  const store = createCredentialStore({ configPaths: [path], env: {}, runner: noRunner, keytarLoader: keytar.load });
  const lookup = store.credentialFunc();
  assert.ok(sameCredential(await lookup('localhost:5000'), { username: 'alice', password: 'pw' }));
  assert.equal((await lookup('docker.io'))?.username, 'hub');
  assert.equal(await lookup('unknown.example'), undefined);
  assert.equal(keytar.calls(), 0, 'no keychain call for hosts the config does not mark');
});

test('default store: keychain when it works, marker in config, no secret in the file', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'config.json');
  await writeFile(path, JSON.stringify({ auths: { 'localhost:5000': { auth: b64('old:old') } }, psFormat: 'keep' }));
  const keytar = memoryKeytar();
  const warnings: string[] = [];
  const store = createCredentialStore({ configPaths: [path], env: {}, runner: noRunner, keytarLoader: keytar.load, onWarning: (m) => warnings.push(m) });
  const result = await store.store('localhost:5000', { username: 'alice', password: 'kc-pw' });
  assert.deepEqual([result.store, result.warning], ['keychain', undefined]);
  assert.equal(keytar.entries.size, 1);
  assert.ok(keytar.entries.has('wasm-oci/localhost:5000'), 'service wasm-oci, account = host');
  const text = await readFile(path, 'utf8');
  assert.ok(!text.includes(b64('old:old')) && !text.includes('kc-pw'), 'the plaintext entry is gone');
  const config = JSON.parse(text);
  assert.deepEqual(config['wasm-oci'], { keychain: ['localhost:5000'] });
  assert.equal(config.psFormat, 'keep');
  const later = createCredentialStore({ configPaths: [path], env: {}, runner: noRunner, keytarLoader: keytar.load });
  assert.ok(sameCredential(await later.get('localhost:5000'), { username: 'alice', password: 'kc-pw' }));
  assert.deepEqual(warnings, []);

  assert.deepEqual(await later.erase('localhost:5000'), ['OS keychain']);
  assert.equal(keytar.entries.size, 0);
  assert.equal(JSON.parse(await readFile(path, 'utf8'))['wasm-oci'], undefined);
  assert.equal(await later.get('localhost:5000'), undefined);
});

for (const [why, loader, expected] of [
  ['keytar is not installed', notInstalled, /keytar is not installed/],
  ['no secret service answers', noSecretService, /no secret service answered \(Cannot autolaunch D-Bus/],
] as const) {
  test(`${why}: one warning saying why, then config.json with an unencrypted warning`, async (t) => {
    const dir = await tempDir(t);
    const path = join(dir, 'config.json');
    const warnings: string[] = [];
    const store = createCredentialStore({ configPaths: [path], env: {}, runner: noRunner, keytarLoader: loader, onWarning: (m) => warnings.push(m) });
    const r1 = await store.store('a.example', { username: 'u', password: 'p1' });
    const r2 = await store.store('b.example', { username: 'u', password: 'p2' });
    assert.equal(r1.store, 'file');
    assert.equal(r1.location, path);
    assert.match(r1.warning ?? '', /unencrypted/);
    assert.equal(r2.store, 'file');
    assert.equal(warnings.length, 1, 'the keychain failure is reported once');
    assert.match(warnings[0]!, expected);
    assert.ok(sameCredential(await store.get('a.example'), { username: 'u', password: 'p1' }));
    assert.equal((await stat(path)).mode & 0o777, 0o600);
  });
}

test('--store keychain where the keychain does not work fails with the reason and writes nothing', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'config.json');
  const warnings: string[] = [];
  const store = createCredentialStore({ configPaths: [path], env: {}, runner: noRunner, keytarLoader: notInstalled, onWarning: (m) => warnings.push(m) });
  await assert.rejects(
    store.store('a.example', { username: 'u', password: 'p' }, { store: 'keychain' }),
    (err: unknown) => isWasmOciError(err, 'E_CREDENTIALS') && /keytar is not installed/.test(err.message),
  );
  await assert.rejects(stat(path), 'no config written');
});

test('--store file writes config.json even when a helper and the keychain exist', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'config.json');
  await writeFile(path, JSON.stringify({ credsStore: 'fake' }));
  const keytar = memoryKeytar();
  const store = createCredentialStore({ configPaths: [path], env: {}, runner: noRunner, keytarLoader: keytar.load });
  const r = await store.store('a.example', { username: 'u', password: 'p' }, { store: 'file' });
  assert.equal(r.store, 'file');
  assert.match(r.warning ?? '', /unencrypted/);
  const config = JSON.parse(await readFile(path, 'utf8'));
  assert.equal(config.auths['a.example'].auth, b64('u:p'));
  assert.equal(config.credsStore, 'fake');
  assert.equal(keytar.calls(), 0);
});

test('--store helper without a configured helper is an error with a hint', async (t) => {
  const dir = await tempDir(t);
  const store = createCredentialStore({ configPaths: [join(dir, 'config.json')], env: {}, runner: noRunner, keytarLoader: notInstalled });
  await assert.rejects(store.store('a.example', { username: 'u', password: 'p' }, { store: 'helper' }), (err: unknown) => {
    assert.ok(isWasmOciError(err, 'E_CREDENTIALS'));
    assert.match(err.hint ?? '', /credsStore/);
    return true;
  });
});

test('moving a login from the keychain to the file removes the keychain copy', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'config.json');
  const keytar = memoryKeytar();
  const store = createCredentialStore({ configPaths: [path], env: {}, runner: noRunner, keytarLoader: keytar.load });
  await store.store('a.example', { username: 'u', password: 'p' });
  assert.equal(keytar.entries.size, 1);
  await store.store('a.example', { username: 'u', password: 'p2' }, { store: 'file' });
  assert.equal(keytar.entries.size, 0);
  assert.equal(JSON.parse(await readFile(path, 'utf8'))['wasm-oci'], undefined);
  assert.equal((await store.get('a.example'))?.password, 'p2');
});

test('several --registry-config files: lookups read all in order, writes go to the first only', async (t) => {
  const dir = await tempDir(t);
  const rw = join(dir, 'rw.json');
  const ro = join(dir, 'ro.json');
  const roText = JSON.stringify({ auths: { 'a.example': { auth: b64('ro-a:1') }, 'b.example': { auth: b64('ro-b:1') } } });
  await writeFile(rw, JSON.stringify({ auths: { 'a.example': { auth: b64('rw-a:1') } } }));
  await writeFile(ro, roText);
  const warnings: string[] = [];
  const store = createCredentialStore({ configPaths: [rw, ro], env: {}, runner: noRunner, keytarLoader: notInstalled, onWarning: (m) => warnings.push(m) });
  assert.equal((await store.get('a.example'))?.username, 'rw-a', 'the first file wins');
  assert.equal((await store.get('b.example'))?.username, 'ro-b', 'later files are read');
  await store.store('c.example', { username: 'c', password: '1' }, { store: 'file' });
  assert.equal(await readFile(ro, 'utf8'), roText, 'the read-only file is untouched');
  assert.deepEqual(await store.erase('b.example'), []);
  assert.ok(warnings.some((w) => w.includes('read-only') && w.includes(ro)));
  assert.equal(await readFile(ro, 'utf8'), roText);
});

test('lookup order: credHelpers, credsStore, keychain, auths; a miss falls through', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'config.json');
  const keytar = memoryKeytar();
  await createKeychain({ load: keytar.load }).set('k.example', { username: 'from-keychain', password: 'x' });
  await createKeychain({ load: keytar.load }).set('all.example', { username: 'from-keychain', password: 'x' });
  await writeFile(
    path,
    JSON.stringify({
      credHelpers: { 'all.example': 'perhost' },
      credsStore: 'global',
      'wasm-oci': { keychain: ['k.example', 'all.example'] },
      auths: {
        'all.example': { auth: b64('from-auths:x') },
        'k.example': { auth: b64('from-auths:x') },
        'only-auths.example': { auth: b64('from-auths:x') },
      },
    }),
  );
  const seen: string[] = [];
  const runner: ProcessRunner = async (cmd, args, input) => {
    seen.push(`${cmd} ${args[0]} ${input.trim()}`);
    if (cmd === 'docker-credential-perhost' && input.trim() === 'all.example') {
      return { code: 0, stdout: JSON.stringify({ ServerURL: 'all.example', Username: 'from-perhost', Secret: 'x' }), stderr: '' };
    }
    if (cmd === 'docker-credential-global' && input.trim() === 'global.example') {
      return { code: 0, stdout: JSON.stringify({ ServerURL: 'global.example', Username: 'from-global', Secret: 'x' }), stderr: '' };
    }
    return { code: 1, stdout: 'credentials not found in native keychain', stderr: '' };
  };
  const store = createCredentialStore({ configPaths: [path], env: {}, runner, keytarLoader: keytar.load });
  assert.equal((await store.get('all.example'))?.username, 'from-perhost');
  assert.equal((await store.get('global.example'))?.username, 'from-global');
  assert.equal((await store.get('k.example'))?.username, 'from-keychain');
  assert.equal((await store.get('only-auths.example'))?.username, 'from-auths');
  assert.deepEqual(seen, [
    'docker-credential-perhost get all.example',
    'docker-credential-global get global.example',
    'docker-credential-global get k.example',
    'docker-credential-global get only-auths.example',
  ]);
});

test('Docker Hub goes to helpers as https://index.docker.io/v1/', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'config.json');
  await writeFile(path, JSON.stringify({ credsStore: 'fake' }));
  const inputs: string[] = [];
  const runner: ProcessRunner = async (_cmd, args, input) => {
    inputs.push(args[0] === 'store' ? JSON.parse(input).ServerURL : input);
    return { code: 0, stdout: args[0] === 'get' ? JSON.stringify({ Username: 'hub', Secret: 'x' }) : '', stderr: '' };
  };
  const store = createCredentialStore({ configPaths: [path], env: {}, runner });
  await store.store('docker.io', { username: 'hub', password: 'x' });
  await store.get('registry-1.docker.io');
  assert.deepEqual(inputs, ['https://index.docker.io/v1/', 'https://index.docker.io/v1/']);
});

test('erase removes the registry from every store that holds it', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'config.json');
  const keytar = memoryKeytar();
  await createKeychain({ load: keytar.load }).set('reg.example', { username: 'k', password: 'x' });
  await writeFile(
    path,
    JSON.stringify({
      credsStore: 'fake',
      'wasm-oci': { keychain: ['reg.example'] },
      auths: { 'https://reg.example/v1/': { auth: b64('a:x') }, 'other.example': { auth: b64('o:x') } },
    }),
  );
  const helperEntries = new Set(['reg.example']);
  const runner: ProcessRunner = async (_cmd, args, input) => {
    const url = input.trim();
    if (args[0] === 'get') {
      return helperEntries.has(url)
        ? { code: 0, stdout: JSON.stringify({ ServerURL: url, Username: 'h', Secret: 'x' }), stderr: '' }
        : { code: 1, stdout: 'credentials not found in native keychain', stderr: '' };
    }
    helperEntries.delete(url);
    return { code: 0, stdout: '', stderr: '' };
  };
  const store = createCredentialStore({ configPaths: [path], env: {}, runner, keytarLoader: keytar.load });
  assert.deepEqual(await store.erase('reg.example'), ['docker-credential-fake', 'OS keychain', path]);
  assert.equal(helperEntries.size, 0);
  assert.equal(keytar.entries.size, 0);
  const config = JSON.parse(await readFile(path, 'utf8'));
  assert.deepEqual(Object.keys(config.auths), ['other.example']);
  assert.equal(await store.get('reg.example'), undefined);
  assert.deepEqual(await store.erase('reg.example'), []);
});
