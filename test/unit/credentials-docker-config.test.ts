import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, mkdir, readFile, readdir, rm, stat, symlink, utimes, writeFile, lstat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { repoRoot } from '../helpers/paths.js';
import {
  authsCredential,
  credHelperFor,
  findAuthEntry,
  hasKeychainMark,
  parseDockerConfig,
  readDockerConfig,
  removeAuthCredential,
  resolveConfigPaths,
  setAuthCredential,
  setKeychainMark,
  updateDockerConfig,
} from '../../src/credentials/docker-config.js';
import { canonicalHost, convertToHostname, serverAddress } from '../../src/credentials/host.js';
import type { Credential } from '../../src/credentials/types.js';
import { isWasmOciError } from '../../src/errors.js';

// Secrets are compared without ever being printed: assertion messages name fields, not values.
function sameCredential(a: Credential | undefined, b: Credential | undefined): boolean {
  const keys = ['username', 'password', 'identityToken', 'registryToken'] as const;
  if (!a || !b) return a === b;
  return keys.every((k) => (a[k] ?? '') === (b[k] ?? ''));
}

async function tempDir(t: { after: (fn: () => Promise<void>) => void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'wasm-oci-cfg-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');

test('host normalisation matches docker ConvertToHostname and folds Docker Hub names', () => {
  assert.equal(convertToHostname('https://registry.example.com/v1/'), 'registry.example.com');
  assert.equal(convertToHostname('http://localhost:5000'), 'localhost:5000');
  assert.equal(convertToHostname('localhost:5000/some/path'), 'localhost:5000');
  assert.equal(canonicalHost('https://index.docker.io/v1/'), 'docker.io');
  assert.equal(canonicalHost('registry-1.docker.io'), 'docker.io');
  assert.equal(canonicalHost('Registry.Example.COM:443'), 'registry.example.com:443');
  assert.equal(serverAddress('docker.io'), 'https://index.docker.io/v1/');
  assert.equal(serverAddress('localhost:5000'), 'localhost:5000');
});

test('config paths: --registry-config first, then DOCKER_CONFIG, then HOME/.docker', () => {
  assert.deepEqual(resolveConfigPaths({ registryConfig: ['/a.json', '/b.json'], env: { HOME: '/h', DOCKER_CONFIG: '/d' } }), [
    '/a.json',
    '/b.json',
  ]);
  assert.deepEqual(resolveConfigPaths({ env: { HOME: '/h', DOCKER_CONFIG: '/d' } }), ['/d/config.json']);
  assert.deepEqual(resolveConfigPaths({ env: { HOME: '/h' } }), ['/h/.docker/config.json']);
  assert.deepEqual(resolveConfigPaths({ env: {} }), []);
});

test('reads every auths form: auth base64, username/password, identitytoken, registrytoken', () => {
  const config = parseDockerConfig(
    JSON.stringify({
      auths: {
        'a.example': { auth: b64('alice:pa:ss') },
        'b.example': { username: 'bob', password: 'bobpw' },
        'c.example': { auth: b64('carol:'), identitytoken: 'refresh-tok' },
        'd.example': { registrytoken: 'bearer-tok' },
        'e.example': {},
      },
    }),
    'config.json',
  );
  assert.ok(sameCredential(authsCredential(config, 'a.example', 'c'), { username: 'alice', password: 'pa:ss' }), 'auth splits at the first colon');
  assert.ok(sameCredential(authsCredential(config, 'b.example', 'c'), { username: 'bob', password: 'bobpw' }), 'username/password fields');
  assert.ok(sameCredential(authsCredential(config, 'c.example', 'c'), { username: 'carol', identityToken: 'refresh-tok' }), 'identitytoken');
  assert.ok(sameCredential(authsCredential(config, 'd.example', 'c'), { registryToken: 'bearer-tok' }), 'registrytoken');
  assert.equal(authsCredential(config, 'e.example', 'c'), undefined, 'an empty entry is no credential');
  assert.equal(authsCredential(config, 'f.example', 'c'), undefined);
});

test('auths keys are matched by hostname: scheme and path stripped, Docker Hub legacy key', () => {
  const config = parseDockerConfig(
    JSON.stringify({
      auths: {
        'https://localhost:5000/v2/': { auth: b64('u1:p1') },
        'https://index.docker.io/v1/': { auth: b64('hub:hubpw') },
      },
    }),
    'config.json',
  );
  assert.ok(sameCredential(authsCredential(config, 'localhost:5000', 'c'), { username: 'u1', password: 'p1' }));
  assert.ok(sameCredential(authsCredential(config, 'docker.io', 'c'), { username: 'hub', password: 'hubpw' }));
  assert.equal(findAuthEntry(config, 'localhost:5001'), undefined, 'the port is part of the host');
});

test('an exact auths key wins over a key that only matches by hostname', () => {
  const config = parseDockerConfig(
    JSON.stringify({ auths: { 'https://reg.example/v1/': { auth: b64('old:x') }, 'reg.example': { auth: b64('new:y') } } }),
    'config.json',
  );
  assert.equal(authsCredential(config, 'reg.example', 'c')?.username, 'new');
});

test('credHelpers are matched by host, Docker Hub under any of its names', () => {
  const config = parseDockerConfig(JSON.stringify({ credHelpers: { 'index.docker.io': 'pass', 'localhost:5000': 'secretservice' } }), 'c');
  assert.equal(credHelperFor(config, 'docker.io'), 'pass');
  assert.equal(credHelperFor(config, 'https://localhost:5000'), 'secretservice');
  assert.equal(credHelperFor(config, 'localhost:5001'), undefined);
});

test('a malformed config is an error that never quotes the file (it holds secrets)', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'config.json');
  await writeFile(path, '{"auths": {"x": {"auth": "c2VjcmV0LXZhbHVlLXh5eg=="}},, }');
  await assert.rejects(readDockerConfig(path), (err: unknown) => {
    assert.ok(isWasmOciError(err, 'E_INVALID_INPUT'));
    assert.ok(!err.message.includes('c2VjcmV0'), 'message must not quote the file');
    assert.equal(err.cause, undefined, 'no cause carrying the JSON parser message');
    return true;
  });
  const bad = parseDockerConfig(JSON.stringify({ auths: { 'x.example': { auth: b64('no-colon-here') } } }), 'c');
  assert.throws(
    () => authsCredential(bad, 'x.example', 'c'),
    (err: unknown) => isWasmOciError(err, 'E_INVALID_INPUT') && !err.message.includes('no-colon-here'),
  );
});

test('a missing config file reads as empty', async (t) => {
  const dir = await tempDir(t);
  assert.deepEqual(await readDockerConfig(join(dir, 'nope', 'config.json')), {});
});

test('writing keeps every unknown field, at the top level and inside auths entries', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'config.json');
  const original = {
    auths: { 'other.example': { auth: b64('o:p'), email: 'o@example.com' }, 'reg.example': { auth: b64('a:b'), email: 'keep@example.com' } },
    psFormat: 'table {{.ID}}',
    proxies: { default: { httpProxy: 'http://proxy:3128' } },
    experimental: 'enabled',
    currentContext: 'remote',
    plugins: { buildx: { x: 1 } },
  };
  await writeFile(path, JSON.stringify(original));
  await updateDockerConfig(path, (c) => setAuthCredential(c, 'reg.example', { username: 'new', password: 'newpw' }));
  const after = JSON.parse(await readFile(path, 'utf8'));
  assert.equal(after.psFormat, original.psFormat);
  assert.deepEqual(after.proxies, original.proxies);
  assert.equal(after.experimental, 'enabled');
  assert.equal(after.currentContext, 'remote');
  assert.deepEqual(after.plugins, original.plugins);
  assert.deepEqual(after.auths['other.example'], original.auths['other.example']);
  assert.equal(after.auths['reg.example'].email, 'keep@example.com');
  assert.equal(after.auths['reg.example'].auth, b64('new:newpw'));
});

test('storing replaces other keys of the same host and writes docker key forms', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'config.json');
  await writeFile(path, JSON.stringify({ auths: { 'https://reg.example/v2/': { auth: b64('old:x') } } }));
  await updateDockerConfig(path, (c) => {
    setAuthCredential(c, 'reg.example', { username: 'u', password: 'p' });
    setAuthCredential(c, 'docker.io', { username: 'hub', identityToken: 'tok' });
  });
  const after = JSON.parse(await readFile(path, 'utf8'));
  assert.deepEqual(Object.keys(after.auths).sort(), ['https://index.docker.io/v1/', 'reg.example']);
  assert.equal(after.auths['https://index.docker.io/v1/'].identitytoken, 'tok');
});

test('removeAuthCredential removes secrets of every matching key and keeps other fields', () => {
  const config = parseDockerConfig(
    JSON.stringify({
      auths: {
        'reg.example': { auth: b64('u:p') },
        'https://reg.example': { identitytoken: 't', email: 'e@x' },
        'other.example': { auth: b64('o:o') },
      },
    }),
    'c',
  );
  assert.equal(removeAuthCredential(config, 'reg.example'), true);
  assert.deepEqual(config.auths, { 'https://reg.example': { email: 'e@x' }, 'other.example': { auth: b64('o:o') } });
  assert.equal(removeAuthCredential(config, 'reg.example'), false);
});

test('keychain marker: set, query, clear, and the field disappears when empty', () => {
  const config = parseDockerConfig('{}', 'c');
  assert.equal(setKeychainMark(config, 'localhost:5000', true), true);
  assert.equal(setKeychainMark(config, 'localhost:5000', true), false);
  assert.equal(hasKeychainMark(config, 'https://localhost:5000'), true);
  assert.equal(hasKeychainMark(config, 'localhost:5001'), false);
  assert.equal(setKeychainMark(config, 'localhost:5000', false), true);
  assert.deepEqual(config, {});
});

test('a new config folder is created 0700 and the file written 0600, without temp files left', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'home', '.docker', 'config.json');
  await updateDockerConfig(path, (c) => setAuthCredential(c, 'reg.example', { username: 'u', password: 'p' }));
  assert.equal((await stat(join(dir, 'home', '.docker'))).mode & 0o777, 0o700);
  assert.equal((await stat(path)).mode & 0o777, 0o600);
  assert.deepEqual(await readdir(join(dir, 'home', '.docker')), ['config.json']);
  // docker indents with tabs; keep the file readable the same way
  assert.match(await readFile(path, 'utf8'), /^\{\n\t"auths"/);
});

test('an existing config with loose permissions is replaced by a 0600 file', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'config.json');
  await writeFile(path, '{}', { mode: 0o644 });
  await updateDockerConfig(path, (c) => setAuthCredential(c, 'reg.example', { username: 'u', password: 'p' }));
  assert.equal((await stat(path)).mode & 0o777, 0o600);
});

test('an update that changes nothing leaves the file byte-for-byte and does not create one', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'config.json');
  const text = '{ "auths": {"reg.example": {"auth": "dTpw"}},\n  "odd":   [1,2,3] }';
  await writeFile(path, text);
  const before = await stat(path);
  assert.equal(await updateDockerConfig(path, (c) => removeAuthCredential(c, 'nothing.example')), false);
  assert.equal(await readFile(path, 'utf8'), text);
  assert.equal((await stat(path)).ino, before.ino, 'not even rewritten');
  const fresh = join(dir, 'sub', 'config.json');
  assert.equal(await updateDockerConfig(fresh, () => {}), false);
  await assert.rejects(stat(fresh));
});

test('a symlinked config.json is updated through the link', async (t) => {
  const dir = await tempDir(t);
  await mkdir(join(dir, 'dotfiles'));
  const real = join(dir, 'dotfiles', 'docker.json');
  await writeFile(real, '{"psFormat":"x"}');
  const link = join(dir, 'config.json');
  await symlink(real, link);
  await updateDockerConfig(link, (c) => setAuthCredential(c, 'reg.example', { username: 'u', password: 'p' }));
  assert.ok((await lstat(link)).isSymbolicLink(), 'the link is kept');
  assert.equal(JSON.parse(await readFile(real, 'utf8')).auths['reg.example'].auth, b64('u:p'));
});

test('readers never see a partial file while it is rewritten (temp file + rename)', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'config.json');
  await updateDockerConfig(path, (c) => setAuthCredential(c, 'seed.example', { username: 'u', password: 'p' }));
  let writing = true;
  let reads = 0;
  const reader = (async () => {
    while (writing) {
      const text = await readFile(path, 'utf8');
      JSON.parse(text); // throws on a torn read
      reads++;
    }
  })();
  for (let i = 0; i < 40; i++) {
    await updateDockerConfig(path, (c) => setAuthCredential(c, `r${i}.example`, { username: `user${i}`, password: 'x'.repeat(2000) }));
  }
  writing = false;
  await reader;
  assert.ok(reads > 0);
  assert.equal(Object.keys(JSON.parse(await readFile(path, 'utf8')).auths).length, 41);
});

test('concurrent updates in one process keep every entry', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, '.docker', 'config.json');
  await Promise.all(
    Array.from({ length: 25 }, (_, i) =>
      updateDockerConfig(path, (c) => setAuthCredential(c, `host${i}.example`, { username: `u${i}`, password: 'p' })),
    ),
  );
  const config = await readDockerConfig(path);
  for (let i = 0; i < 25; i++) assert.equal(authsCredential(config, `host${i}.example`, path)?.username, `u${i}`);
  assert.deepEqual((await readdir(join(dir, '.docker'))).sort(), ['config.json'], 'no lock or temp file left');
});

function runNode(script: string): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? 1, stderr }));
  });
}

test('two processes writing at once leave a valid config holding both sets of entries', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'config.json');
  const mod = pathToFileURL(join(repoRoot, 'dist', 'src', 'credentials', 'docker-config.js')).href;
  const script = (tag: string) => `
    import { updateDockerConfig, setAuthCredential } from ${JSON.stringify(mod)};
    for (let i = 0; i < 15; i++) {
      await updateDockerConfig(${JSON.stringify(path)}, (c) => setAuthCredential(c, '${tag}' + i + '.example', { username: '${tag}', password: 'p' }));
    }`;
  const [a, b] = await Promise.all([runNode(script('a')), runNode(script('b'))]);
  assert.equal(a.code, 0, a.stderr);
  assert.equal(b.code, 0, b.stderr);
  const config = await readDockerConfig(path);
  for (const tag of ['a', 'b']) {
    for (let i = 0; i < 15; i++) assert.equal(authsCredential(config, `${tag}${i}.example`, path)?.username, tag, `${tag}${i} kept`);
  }
});

test('a lock left by a crashed process is taken over once stale', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'config.json');
  await writeFile(`${path}.lock`, '99999\n');
  await assert.rejects(
    updateDockerConfig(path, (c) => setAuthCredential(c, 'a.example', { username: 'u', password: 'p' }), { timeoutMs: 200, staleMs: 60_000 }),
    (err: unknown) => isWasmOciError(err, 'E_CREDENTIALS') && /lock/.test(err.message),
  );
  // The crash happened a minute ago: the lock's age, not a wait, is what makes it stale.
  const minuteAgo = new Date(Date.now() - 60_000);
  await utimes(`${path}.lock`, minuteAgo, minuteAgo);
  await updateDockerConfig(path, (c) => setAuthCredential(c, 'a.example', { username: 'u', password: 'p' }), { timeoutMs: 2000, staleMs: 50 });
  assert.equal(authsCredential(await readDockerConfig(path), 'a.example', path)?.username, 'u');
});
