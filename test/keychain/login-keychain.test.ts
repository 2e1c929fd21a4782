// login/logout through the real binary with the OS keychain (keytar) and
// docker-credential-secretservice, against real Distribution. Runs under dbus-run-session with an
// unlocked gnome-keyring (scripts/test.sh); runCli passes DBUS_SESSION_BUS_ADDRESS and XDG_DATA_HOME on.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runCli, type CliResult, type RunCliOptions } from '../helpers/cli.js';
import { startDistribution, type RegistryMode, type RunningRegistry } from '../helpers/distribution.js';
import { examplesDir } from '../helpers/paths.js';
import { skopeoCopy, skopeoInspectRaw } from '../helpers/skopeo.js';
import { createSecretScan, testPassword } from '../helpers/secrets.js';
import { makeTempDir, type CleanupContext } from '../helpers/tmp.js';
import { defaultKeytarLoader } from '../../src/credentials/keychain.js';

const filter = join(examplesDir, 'example-filter.wasm');
const USER = 'alice';
const scan = createSecretScan();
type Env = Record<string, string | undefined>;

async function cli(args: string[], opts: RunCliOptions = {}): Promise<CliResult> {
  return runCli(args, { ...opts, scan });
}

async function registry(t: CleanupContext, mode: RegistryMode): Promise<RunningRegistry> {
  const password = testPassword();
  const reg = await startDistribution({ mode, username: USER, password, t });
  scan.addBasicPair(USER, password);
  if (reg.issuer) scan.addIssuer(reg.issuer);
  return reg;
}

function requireSession(): void {
  assert.ok(process.env.DBUS_SESSION_BUS_ADDRESS, 'these tests need a D-Bus session with an unlocked gnome-keyring (scripts/test.sh runs them under dbus-run-session)');
}

const login = (reg: RunningRegistry, env: Env, password: string, ...extra: string[]) =>
  cli(['login', reg.host, '--ca-file', reg.caFile!, '-u', USER, '--password-stdin', ...extra], { env, input: `${password}\n` });

const push = (reg: RunningRegistry, repo: string, env: Env) =>
  cli(['push', '--ca-file', reg.caFile!, `${reg.host}/${repo}`, filter, '--debug'], { env });

async function pullAndCompare(t: CleanupContext, reg: RunningRegistry, repo: string, env: Env): Promise<void> {
  const out = join(await makeTempDir(t), 'out');
  const r = await cli(['pull', '--ca-file', reg.caFile!, `${reg.host}/${repo}`, '-o', out, '--debug'], { env });
  assert.equal(r.code, 0, `pull failed: ${r.stderr}`);
  assert.deepEqual(await readFile(join(out, 'example-filter.wasm')), await readFile(filter));
}

async function fileHash(path: string): Promise<string> {
  return createHash('sha256').update(await readFile(path)).digest('hex');
}

/** Asks the real helper, as docker would. */
const helper = (action: 'get' | 'erase', serverURL: string) =>
  new Promise<{ code: number; stdout: string }>((resolve) => {
    const child = execFile(`docker-credential-secretservice`, [action], { timeout: 30_000 }, (err, stdout) => {
      resolve({ code: err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0, stdout });
    });
    child.stdin!.end(serverURL);
  });

describe('login and logout with the OS keychain and docker-credential-secretservice', { concurrency: 3 }, () => {
  test('--store keychain (keytar), TLS+htpasswd: login, push, pull; a wrong password changes nothing; logout', async (t) => {
    requireSession();
    const reg = await registry(t, 'tls-htpasswd');
    const dockerConfig = join(await makeTempDir(t), 'docker');
    const env = { DOCKER_CONFIG: dockerConfig };
    const keytar = await defaultKeytarLoader();
    t.after(() => keytar.deletePassword('wasm-oci', reg.host));

    const r = await login(reg, env, reg.password!, '--store', 'keychain');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'Login Succeeded\n');
    assert.equal(r.stderr, '', 'no fallback, no plaintext warning');
    const configPath = join(dockerConfig, 'config.json');
    const configText = await readFile(configPath, 'utf8');
    assert.ok(!configText.includes(reg.password!) && !/"auth"/.test(configText), 'no secret in config.json');
    await scan.recordFiles('docker config after a keychain login', dockerConfig);
    assert.deepEqual(JSON.parse(configText)['wasm-oci'], { keychain: [reg.host] });
    const entry = await keytar.getPassword('wasm-oci', reg.host);
    assert.ok(entry !== null && (JSON.parse(entry) as { password?: string }).password === reg.password, 'the secret is in the keychain under service wasm-oci');

    const before = { config: await fileHash(configPath), entry };
    const wrong = await login(reg, env, 'wrong-password', '--store', 'keychain');
    assert.equal(wrong.code, 3, wrong.stderr);
    assert.deepEqual({ config: await fileHash(configPath), entry: await keytar.getPassword('wasm-oci', reg.host) }, before,
      'config.json and the keychain entry are as before');

    const pushed = await push(reg, 'filters/keytar:v1', env);
    assert.equal(pushed.code, 0, pushed.stderr);
    await pullAndCompare(t, reg, 'filters/keytar:v1', env);

    const out = await cli(['logout', reg.host], { env });
    assert.equal(out.code, 0, out.stderr);
    assert.match(out.stdout, /from: OS keychain$/m);
    assert.equal(await keytar.getPassword('wasm-oci', reg.host), null, 'the keychain entry is gone');
    assert.equal(JSON.parse(await readFile(configPath, 'utf8'))['wasm-oci'], undefined, 'so is the marker');
    assert.equal((await push(reg, 'filters/keytar:v2', env)).code, 3, 'after logout the registry refuses');
  });

  test('the default store is the keychain when a secret service answers (TLS token registry)', async (t) => {
    requireSession();
    const reg = await registry(t, 'tls-token');
    const dockerConfig = join(await makeTempDir(t), 'docker');
    const env = { DOCKER_CONFIG: dockerConfig };
    const keytar = await defaultKeytarLoader();
    t.after(() => keytar.deletePassword('wasm-oci', reg.host));

    const r = await login(reg, env, reg.password!, '--debug');
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stderr, /unencrypted|keychain is not used/);
    assert.match(r.stderr, /stored in OS keychain/);
    assert.notEqual(await keytar.getPassword('wasm-oci', reg.host), null);

    const pushed = await push(reg, 'filters/kt-token:v1', env);
    assert.equal(pushed.code, 0, pushed.stderr);
    await pullAndCompare(t, reg, 'filters/kt-token:v1', env);
    assert.ok(reg.issuer!.requests.some((q) => q.subject === USER && q.status === 200));

    const out = await cli(['logout', reg.host], { env });
    assert.equal(out.code, 0, out.stderr);
    assert.equal(await keytar.getPassword('wasm-oci', reg.host), null);
  });

  test('credsStore secretservice: login, push, pull, skopeo through the same helper; a wrong password changes nothing; logout', async (t) => {
    requireSession();
    const reg = await registry(t, 'tls-token');
    t.after(() => helper('erase', reg.host));
    const dir = await makeTempDir(t);
    const dockerConfig = join(dir, 'docker');
    await mkdir(dockerConfig, { mode: 0o700 });
    const configPath = join(dockerConfig, 'config.json');
    await writeFile(configPath, `${JSON.stringify({ credsStore: 'secretservice', detachKeys: 'ctrl-x' }, null, '\t')}\n`);
    const env = { DOCKER_CONFIG: dockerConfig };

    const r = await login(reg, env, reg.password!);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'Login Succeeded\n');
    assert.equal(r.stderr, '');
    const configText = await readFile(configPath, 'utf8');
    assert.ok(!configText.includes(reg.password!));
    await scan.recordFiles('docker config after a credsStore login', configPath);
    assert.equal(JSON.parse(configText).detachKeys, 'ctrl-x');
    const held = await helper('get', reg.host);
    assert.equal(held.code, 0);
    assert.deepEqual(JSON.parse(held.stdout), { ServerURL: reg.host, Username: USER, Secret: reg.password }, 'docker finds it through the same helper');

    const before = { config: await fileHash(configPath), held: held.stdout };
    const wrong = await login(reg, env, 'wrong-password');
    assert.equal(wrong.code, 3, wrong.stderr);
    assert.deepEqual({ config: await fileHash(configPath), held: (await helper('get', reg.host)).stdout }, before,
      'config.json and the helper\'s entry are as before');

    const pushed = await push(reg, 'filters/ss:v1', env);
    assert.equal(pushed.code, 0, pushed.stderr);
    await pullAndCompare(t, reg, 'filters/ss:v1', env);

    // skopeo 1.9 (containers/image) reads credHelpers but not credsStore: point it at the same helper per host.
    const authfile = join(dir, 'skopeo-auth.json');
    await writeFile(authfile, JSON.stringify({ credHelpers: { [reg.host]: 'secretservice' } }));
    const side = { tlsVerify: true, caFile: reg.caFile!, authfile };
    const skopeoEnv = { DBUS_SESSION_BUS_ADDRESS: process.env.DBUS_SESSION_BUS_ADDRESS! };
    const raw = await skopeoInspectRaw(`docker://${reg.host}/filters/ss:v1`, { ...side, env: skopeoEnv });
    assert.equal(`sha256:${createHash('sha256').update(raw).digest('hex')}`, /^Digest: (\S+)$/m.exec(pushed.stdout)?.[1]);
    const layout = join(dir, 'layout');
    await skopeoCopy(`docker://${reg.host}/filters/ss:v1`, `oci:${layout}:v1`, { src: side, env: skopeoEnv });

    const out = await cli(['logout', reg.host], { env });
    assert.equal(out.code, 0, out.stderr);
    assert.match(out.stdout, /from: docker-credential-secretservice/);
    assert.notEqual((await helper('get', reg.host)).code, 0, 'the helper no longer holds it');
    assert.equal((await push(reg, 'filters/ss:v2', env)).code, 3);
  });
});

test('no output of any command, --debug included, holds the password, a token or an Authorization value', () => {
  assert.ok(scan.outputs >= 30, `the suite recorded its outputs (${scan.outputs})`);
  const leaks = scan.leaks();
  console.log(scan.summary());
  assert.deepEqual(leaks, []);
});
