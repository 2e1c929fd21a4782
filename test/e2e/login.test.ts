// login/logout through the real binary against real Distribution (TLS+htpasswd, token auth),
// real docker-credential-pass, skopeo as the independent client. No D-Bus here: the keychain is
// made unreachable on purpose, so these tests also show the fallback. The keychain round trips
// live in test/keychain/login-keychain.test.ts (run under dbus-run-session).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { runCli, type CliResult, type RunCliOptions } from '../helpers/cli.js';
import { startDistribution, type RegistryMode, type RunningRegistry } from '../helpers/distribution.js';
import type { TokenIssuer } from '../helpers/token-issuer.js';
import { examplesDir } from '../helpers/paths.js';
import { skopeoCopy, skopeoInspectRaw, type SkopeoSideOptions } from '../helpers/skopeo.js';
import { createSecretScan, testPassword } from '../helpers/secrets.js';
import { makeTempDir, type CleanupContext } from '../helpers/tmp.js';

const filter = join(examplesDir, 'example-filter.wasm');
const USER = 'alice';
const scan = createSecretScan();
/** One of the suite's issuers, to prove the scan recognises the tokens it signs. */
let someIssuer: TokenIssuer | undefined;

/** Every command goes through here, so the last test can grep all of their output. */
async function cli(args: string[], opts: RunCliOptions = {}): Promise<CliResult> {
  return runCli(args, { ...opts, scan });
}

/** No session bus: keytar loads but no secret service answers, deterministically (DISPLAY is never passed). */
function noKeychainEnv(dockerConfig: string, extra: Record<string, string | undefined> = {}): Record<string, string | undefined> {
  return {
    DOCKER_CONFIG: dockerConfig,
    DBUS_SESSION_BUS_ADDRESS: 'unix:path=/nonexistent/wasm-oci-test-no-bus',
    XDG_DATA_HOME: undefined,
    GNUPGHOME: undefined,
    PASSWORD_STORE_DIR: undefined,
    ...extra,
  };
}

async function registry(t: CleanupContext, mode: RegistryMode): Promise<RunningRegistry> {
  const password = testPassword();
  const reg = await startDistribution({ mode, username: USER, password, t });
  scan.addBasicPair(USER, password);
  if (reg.issuer) {
    scan.addIssuer(reg.issuer);
    someIssuer ??= reg.issuer;
  }
  return reg;
}

function loginArgs(reg: RunningRegistry, ...extra: string[]): string[] {
  return ['login', reg.host, '--ca-file', reg.caFile!, '-u', USER, '--password-stdin', ...extra];
}

async function login(reg: RunningRegistry, env: Record<string, string | undefined>, ...extra: string[]): Promise<CliResult> {
  return cli(loginArgs(reg, ...extra), { env, input: `${reg.password}\n` });
}

async function push(reg: RunningRegistry, repo: string, env: Record<string, string | undefined>, ...extra: string[]): Promise<CliResult> {
  return cli(['push', '--ca-file', reg.caFile!, `${reg.host}/${repo}`, filter, '--debug', ...extra], { env });
}

/** Pulls and checks the module came back byte for byte. */
async function pullAndCompare(t: CleanupContext, reg: RunningRegistry, repo: string, env: Record<string, string | undefined>, ...extra: string[]): Promise<void> {
  const out = join(await makeTempDir(t), 'out');
  const r = await cli(['pull', '--ca-file', reg.caFile!, `${reg.host}/${repo}`, '-o', out, '--debug', ...extra], { env });
  assert.equal(r.code, 0, `pull failed: ${r.stderr}`);
  assert.deepEqual(await readFile(join(out, 'example-filter.wasm')), await readFile(filter), 'the pulled module is the pushed one');
}

function digestLine(r: CliResult): string {
  const m = /^Digest: (sha256:[a-f0-9]{64})$/m.exec(r.stdout);
  assert.ok(m, `no digest in: ${r.stdout}`);
  return m[1]!;
}

async function readConfig(dir: string): Promise<Record<string, any>> {
  return JSON.parse(await readFile(join(dir, 'config.json'), 'utf8')) as Record<string, any>;
}

function decodeAuth(entry: { auth?: string } | undefined): string | undefined {
  return entry?.auth === undefined ? undefined : Buffer.from(entry.auth, 'base64').toString('utf8');
}

/** Every file under `dir` with the sha256 of its bytes: "byte-for-byte as before" is equality of two of these. */
async function snapshot(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const walk = async (d: string): Promise<void> => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else if (e.isFile()) out[relative(dir, p)] = createHash('sha256').update(await readFile(p)).digest('hex');
    }
  };
  await walk(dir);
  return out;
}

function skopeoSide(reg: RunningRegistry, authfile: string): SkopeoSideOptions {
  return { tlsVerify: true, caFile: reg.caFile!, authfile };
}

/** skopeo, given only our config.json, reads the manifest we pushed and copies the artifact out. */
async function skopeoAgrees(t: CleanupContext, reg: RunningRegistry, repo: string, digest: string, authfile: string, env?: Record<string, string>): Promise<void> {
  const ref = `docker://${reg.host}/${repo}`;
  const raw = await skopeoInspectRaw(ref, { ...skopeoSide(reg, authfile), env });
  assert.equal(`sha256:${createHash('sha256').update(raw).digest('hex')}`, digest, 'skopeo reads the manifest we pushed');
  const layout = join(await makeTempDir(t), 'layout');
  await skopeoCopy(ref, `oci:${layout}:copy`, { src: skopeoSide(reg, authfile), env });
  const index = JSON.parse(await readFile(join(layout, 'index.json'), 'utf8')) as { manifests: { digest: string }[] };
  assert.equal(index.manifests[0]?.digest, digest, 'skopeo pulled the artifact from the protected registry');
}

const run = (cmd: string, args: string[], env: Record<string, string | undefined>, input?: string) =>
  new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    const child = execFile(cmd, args, { env: env as NodeJS.ProcessEnv, timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0, stdout, stderr });
    });
    child.stdin!.end(input ?? '');
  });

/** A throwaway gpg key and password store for docker-credential-pass; the gpg-agent is stopped afterwards. */
async function passStore(t: CleanupContext): Promise<Record<string, string>> {
  const dir = await makeTempDir(t, 'wasm-oci-pass-');
  const GNUPGHOME = join(dir, 'gnupg');
  const PASSWORD_STORE_DIR = join(dir, 'store');
  await mkdir(GNUPGHOME, { mode: 0o700 });
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir, GNUPGHOME, PASSWORD_STORE_DIR };
  t.after(() => run('gpgconf', ['--kill', 'all'], env));
  const gen = await run('gpg', ['--batch', '--pinentry-mode', 'loopback', '--passphrase', '', '--quick-gen-key', 'wasm-oci test <test@wasm-oci.invalid>', 'future-default', 'default', 'never'], env);
  assert.equal(gen.code, 0, `gpg key generation failed: ${gen.stderr}`);
  const list = await run('gpg', ['--batch', '--with-colons', '--list-keys'], env);
  const fpr = /^fpr:+([0-9A-F]{40}):/m.exec(list.stdout)?.[1];
  assert.ok(fpr, 'the new key has a fingerprint');
  const init = await run('pass', ['init', fpr], env);
  assert.equal(init.code, 0, `pass init failed: ${init.stderr}`);
  return env;
}

// Each test has its own registries, config dir and stores, so they can run side by side.
describe('login and logout through the CLI', { concurrency: 3 }, () => {
  test('file store, TLS+htpasswd: login writes config.json 0600 in a 0700 folder; push, pull, skopeo --authfile, logout', async (t) => {
    const reg = await registry(t, 'tls-htpasswd');
    const dockerConfig = join(await makeTempDir(t), 'docker');
    const env = noKeychainEnv(dockerConfig);

    const anonymous = await push(reg, 'filters/file:v1', env);
    assert.equal(anonymous.code, 3, 'without a login the registry refuses the push (auth exit code)');

    const r = await login(reg, env, '--store', 'file');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'Login Succeeded\n');
    assert.match(r.stderr, /stored unencrypted in .*config\.json/, 'the user is told the secret is in plaintext');
    assert.doesNotMatch(r.stderr, /keychain is not used/, '--store file does not try the keychain');
    assert.equal((await stat(join(dockerConfig, 'config.json'))).mode & 0o777, 0o600);
    assert.equal((await stat(dockerConfig)).mode & 0o777, 0o700);
    const config = await readConfig(dockerConfig);
    assert.equal(decodeAuth(config.auths?.[reg.host]), `${USER}:${reg.password}`, 'docker\'s auths[host].auth = base64(user:pass)');

    const pushed = await push(reg, 'filters/file:v1', env);
    assert.equal(pushed.code, 0, pushed.stderr);
    const digest = digestLine(pushed);
    await pullAndCompare(t, reg, 'filters/file:v1', env);

    await assert.rejects(skopeoInspectRaw(`docker://${reg.host}/filters/file:v1`, { tlsVerify: true, caFile: reg.caFile! }),
      'the registry is protected: skopeo without credentials is refused');
    await skopeoAgrees(t, reg, 'filters/file:v1', digest, join(dockerConfig, 'config.json'));

    const out = await cli(['logout', reg.host], { env });
    assert.equal(out.code, 0, out.stderr);
    assert.match(out.stdout, /Removed login credentials for 127\.0\.0\.1:\d+ from: .*config\.json/);
    assert.equal((await readConfig(dockerConfig)).auths?.[reg.host], undefined, 'the entry is gone');
    const after = await cli(['pull', '--ca-file', reg.caFile!, `${reg.host}/filters/file:v1`, '-o', join(dockerConfig, 'out')], { env });
    assert.equal(after.code, 3, 'after logout the registry refuses again');
    const again = await cli(['logout', reg.host], { env });
    assert.equal(again.code, 0);
    assert.match(again.stdout, /Not logged in/);
  });

  test('no secret service: login on the TLS token registry says once why the keychain was not used and falls back to config.json', async (t) => {
    const reg = await registry(t, 'tls-token');
    const dockerConfig = join(await makeTempDir(t), 'docker');
    const env = noKeychainEnv(dockerConfig);

    const r = await login(reg, env, '--debug');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'Login Succeeded\n');
    const why = r.stderr.split('\n').filter((l) => /keychain is not used/.test(l));
    assert.equal(why.length, 1, `exactly one line about the keychain:\n${r.stderr}`);
    assert.match(why[0]!, /secret service/, 'the line says why');
    assert.match(r.stderr, /stored unencrypted/);
    assert.equal(decodeAuth((await readConfig(dockerConfig)).auths?.[reg.host]), `${USER}:${reg.password}`);
    assert.ok(reg.issuer!.requests.some((q) => q.subject === USER && q.status === 200), 'login fetched a token to check the password');

    const pushed = await push(reg, 'filters/token:v1', env);
    assert.equal(pushed.code, 0, pushed.stderr);
    assert.doesNotMatch(pushed.stderr, /keychain/, 'a later command does not touch the keychain for a file login');
    await pullAndCompare(t, reg, 'filters/token:v1', env);
    await skopeoAgrees(t, reg, 'filters/token:v1', digestLine(pushed), join(dockerConfig, 'config.json'));

    const out = await cli(['logout', reg.host], { env });
    assert.equal(out.code, 0, out.stderr);
    assert.equal((await cli(['pull', '--ca-file', reg.caFile!, `${reg.host}/filters/token:v1`, '-o', join(dockerConfig, 'o')], { env })).code, 3);
  });

  test('identity token login on the token registry: stored as identitytoken, used through the refresh_token grant', async (t) => {
    const reg = await registry(t, 'tls-token');
    const dockerConfig = join(await makeTempDir(t), 'docker');
    const env = noKeychainEnv(dockerConfig);
    const refresh = reg.issuer!.createRefreshToken(USER);
    scan.addSecret(refresh, 'identity token');

    const r = await cli(['login', reg.host, '--ca-file', reg.caFile!, '--identity-token-stdin', '--store', 'file', '--debug'], { env, input: refresh });
    assert.equal(r.code, 0, r.stderr);
    assert.equal((await readConfig(dockerConfig)).auths?.[reg.host]?.identitytoken, refresh);
    const pushed = await push(reg, 'filters/idtoken:v1', env);
    assert.equal(pushed.code, 0, pushed.stderr);
    assert.ok(reg.issuer!.requests.some((q) => q.grant === 'refresh_token' && q.status === 200), 'the identity token was exchanged for access tokens');

    const wrong = await cli(['login', reg.host, '--ca-file', reg.caFile!, '--identity-token-stdin', '--store', 'file'], { env, input: 'not-a-refresh-token' });
    assert.equal(wrong.code, 3, wrong.stderr);
    assert.equal((await readConfig(dockerConfig)).auths?.[reg.host]?.identitytoken, refresh, 'a refused token does not replace the good one');
  });

  test('keytar missing: login says so in one line and stores in config.json', async (t) => {
    const reg = await registry(t, 'tls-htpasswd');
    const dir = await makeTempDir(t);
    const dockerConfig = join(dir, 'docker');
    // keytar made unresolvable, as it is where the optional install failed: for require() (the
    // bundled CLI loads it so) and for import() (the unbundled sources), by a preload and a hook.
    const hooks = join(dir, 'hide-keytar-hooks.mjs');
    const register = join(dir, 'hide-keytar.cjs');
    await writeFile(hooks, `export async function resolve(specifier, context, next) {
    if (specifier === 'keytar') throw Object.assign(new Error("Cannot find package 'keytar'"), { code: 'ERR_MODULE_NOT_FOUND' });
    return next(specifier, context);
  }\n`);
    await writeFile(register, `const Module = require('node:module');
const resolve = Module._resolveFilename;
Module._resolveFilename = function (request, ...rest) {
  if (request === 'keytar') throw Object.assign(new Error("Cannot find module 'keytar'"), { code: 'MODULE_NOT_FOUND' });
  return resolve.call(this, request, ...rest);
};
Module.register(${JSON.stringify(new URL(`file://${hooks}`).href)});\n`);
    // With a working session bus too: only keytar's absence can be the reason.
    const env = noKeychainEnv(dockerConfig, { NODE_OPTIONS: `--require ${register}`, DBUS_SESSION_BUS_ADDRESS: process.env.DBUS_SESSION_BUS_ADDRESS });

    const r = await login(reg, env);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'Login Succeeded\n');
    const why = r.stderr.split('\n').filter((l) => /keychain/i.test(l) && !/unencrypted/.test(l));
    assert.equal(why.length, 1, `exactly one line about the keychain:\n${r.stderr}`);
    assert.match(why[0]!, /keytar is not installed/);
    assert.equal(decodeAuth((await readConfig(dockerConfig)).auths?.[reg.host]), `${USER}:${reg.password}`);

    const pushed = await push(reg, 'filters/nokeytar:v1', env);
    assert.equal(pushed.code, 0, pushed.stderr);
    const kc = await cli(['login', reg.host, '--ca-file', reg.caFile!, '-u', USER, '--password-stdin', '--store', 'keychain'], { env, input: reg.password! });
    assert.equal(kc.code, 3, '--store keychain without keytar is an error, not a silent fallback');
    assert.match(kc.stderr, /keytar is not installed/);
  });

  test('docker-credential-pass: login stores through credHelpers; push, pull, skopeo --authfile; a wrong password changes nothing; logout erases', async (t) => {
    const [reg, passEnv] = await Promise.all([registry(t, 'tls-htpasswd'), passStore(t)]);
    const dockerConfig = join(await makeTempDir(t), 'docker');
    await mkdir(dockerConfig, { mode: 0o700 });
    // credHelpers rather than credsStore: skopeo 1.9 (containers/image) ignores credsStore, and
    // skopeo must read this very file. credsStore is exercised below and in the keychain suite.
    await writeFile(join(dockerConfig, 'config.json'), `${JSON.stringify({ credHelpers: { [reg.host]: 'pass' }, psFormat: 'table {{.ID}}' }, null, '\t')}\n`);
    const env = noKeychainEnv(dockerConfig, { GNUPGHOME: passEnv.GNUPGHOME, PASSWORD_STORE_DIR: passEnv.PASSWORD_STORE_DIR });

    const r = await login(reg, env);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'Login Succeeded\n');
    assert.equal(r.stderr, '', 'a configured helper is the default store: no fallback, no plaintext warning');
    const configText = await readFile(join(dockerConfig, 'config.json'), 'utf8');
    assert.ok(!configText.includes(reg.password!) && !configText.includes(Buffer.from(`${USER}:${reg.password}`).toString('base64')), 'no secret in config.json');
    // The secret belongs in the pass store: the docker config folder holds it in no form.
    await scan.recordFiles('docker config after a credHelpers login', dockerConfig);
    assert.equal(JSON.parse(configText).psFormat, 'table {{.ID}}', 'fields we do not know are kept');
    const held = await run('docker-credential-pass', ['get'], passEnv, reg.host);
    assert.equal(held.code, 0, held.stderr);
    assert.deepEqual(JSON.parse(held.stdout), { ServerURL: reg.host, Username: USER, Secret: reg.password }, 'docker would find it through the same helper');

    const before = { config: await snapshot(dockerConfig), store: await snapshot(passEnv.PASSWORD_STORE_DIR!) };
    const wrong = await cli(loginArgs(reg), { env, input: 'wrong-password\n' });
    assert.equal(wrong.code, 3, wrong.stderr);
    assert.deepEqual({ config: await snapshot(dockerConfig), store: await snapshot(passEnv.PASSWORD_STORE_DIR!) }, before, 'config.json and the pass store are byte-for-byte as before');

    const pushed = await push(reg, 'filters/pass:v1', env);
    assert.equal(pushed.code, 0, pushed.stderr);
    await pullAndCompare(t, reg, 'filters/pass:v1', env);
    await skopeoAgrees(t, reg, 'filters/pass:v1', digestLine(pushed), join(dockerConfig, 'config.json'), {
      GNUPGHOME: passEnv.GNUPGHOME!, PASSWORD_STORE_DIR: passEnv.PASSWORD_STORE_DIR!,
    });

    const out = await cli(['logout', reg.host], { env });
    assert.equal(out.code, 0, out.stderr);
    assert.match(out.stdout, /from: docker-credential-pass/);
    const gone = await run('docker-credential-pass', ['get'], passEnv, reg.host);
    // docker-credential-pass 0.7 answers a miss after an erase with exit 0 and an empty Secret.
    assert.ok(gone.code !== 0 || (JSON.parse(gone.stdout) as { Secret: string }).Secret === '', 'the helper no longer holds it');
    assert.deepEqual(Object.keys(await snapshot(passEnv.PASSWORD_STORE_DIR!)), ['.gpg-id'], 'the pass store holds no entry');
    assert.equal((await push(reg, 'filters/pass:v2', env)).code, 3);
  });

  test('credentials a helper already holds (credsStore) are used without a login', async (t) => {
    const [reg, passEnv] = await Promise.all([registry(t, 'tls-token'), passStore(t)]);
    const stored = await run('docker-credential-pass', ['store'], passEnv, JSON.stringify({ ServerURL: reg.host, Username: USER, Secret: reg.password }));
    assert.equal(stored.code, 0, stored.stderr);
    const dockerConfig = await makeTempDir(t);
    await writeFile(join(dockerConfig, 'config.json'), JSON.stringify({ credsStore: 'pass' }));
    const env = noKeychainEnv(dockerConfig, { GNUPGHOME: passEnv.GNUPGHOME, PASSWORD_STORE_DIR: passEnv.PASSWORD_STORE_DIR });

    const pushed = await push(reg, 'filters/helper:v1', env);
    assert.equal(pushed.code, 0, pushed.stderr);
    await pullAndCompare(t, reg, 'filters/helper:v1', env);
    assert.ok(reg.issuer!.requests.some((q) => q.subject === USER && q.status === 200), 'the token was issued to the helper\'s user');
  });

  test('a hand-written docker config.json auths entry is used by push and pull (DOCKER_CONFIG and --registry-config)', async (t) => {
    const reg = await registry(t, 'tls-htpasswd');
    const dir = await makeTempDir(t);
    const dockerConfig = join(dir, 'docker');
    await mkdir(dockerConfig);
    // Keys as other tools write them: with a scheme, and with username/password fields instead of `auth`.
    await writeFile(join(dockerConfig, 'config.json'), JSON.stringify({
      auths: { [`https://${reg.host}`]: { auth: Buffer.from(`${USER}:${reg.password}`).toString('base64'), email: 'alice@example.com' } },
    }));
    const other = join(dir, 'other.json');
    await writeFile(other, JSON.stringify({ auths: { [reg.host]: { username: USER, password: reg.password } } }));
    const env = noKeychainEnv(dockerConfig);

    const pushed = await push(reg, 'filters/hand:v1', env);
    assert.equal(pushed.code, 0, pushed.stderr);
    await pullAndCompare(t, reg, 'filters/hand:v1', noKeychainEnv(join(dir, 'empty')), '--registry-config', other);
    const anonymous = await cli(['pull', '--ca-file', reg.caFile!, `${reg.host}/filters/hand:v1`, '-o', join(dir, 'o')], { env: noKeychainEnv(join(dir, 'empty')) });
    assert.equal(anonymous.code, 3, 'without either file the pull is refused');
  });

  test('a wrong password: exit 3, config.json byte-for-byte unchanged, on the htpasswd and the token registry', async (t) => {
    const [basic, token] = await Promise.all([registry(t, 'tls-htpasswd'), registry(t, 'tls-token')]);
    const dockerConfig = join(await makeTempDir(t), 'docker');
    await mkdir(dockerConfig, { mode: 0o700 });
    await writeFile(join(dockerConfig, 'config.json'), JSON.stringify({ currentContext: 'ctx', 'x-other-tool': { keep: [1, 2] } }));
    const env = noKeychainEnv(dockerConfig);

    for (const reg of [basic, token]) {
      // -p works too, with a warning that it is insecure.
      const good = await cli(['login', reg.host, '--ca-file', reg.caFile!, '-u', USER, '-p', reg.password!, '--store', 'file'], { env });
      assert.equal(good.code, 0, good.stderr);
      assert.match(good.stderr, /insecure/);
    }
    const config = await readConfig(dockerConfig);
    assert.equal(config.currentContext, 'ctx');
    assert.deepEqual(config['x-other-tool'], { keep: [1, 2] });
    const before = await snapshot(dockerConfig);

    for (const reg of [basic, token]) {
      for (const store of [[], ['--store', 'file']]) {
        const wrong = await cli(loginArgs(reg, ...store), { env, input: `${reg.password}-wrong\n` });
        assert.equal(wrong.code, 3, wrong.stderr);
        assert.match(wrong.stderr, /rejected the credentials/);
        assert.equal(wrong.stdout, '');
        assert.deepEqual(await snapshot(dockerConfig), before, 'config.json is byte-for-byte as before, and no temp or lock file is left');
      }
    }
    const wrongUser = await cli(['login', basic.host, '--ca-file', basic.caFile!, '-u', 'mallory', '--password-stdin'], { env, input: basic.password! });
    assert.equal(wrongUser.code, 3);
    assert.deepEqual(await snapshot(dockerConfig), before);
  });

  test('two logins at once leave a valid config.json holding both', async (t) => {
    const regs = await Promise.all([registry(t, 'tls-htpasswd'), registry(t, 'tls-htpasswd'), registry(t, 'tls-token')]);
    const dockerConfig = join(await makeTempDir(t), 'docker');
    await mkdir(dockerConfig, { mode: 0o700 });
    await writeFile(join(dockerConfig, 'config.json'), JSON.stringify({ credsStore: '', 'x-keep': 'me' }));
    const env = noKeychainEnv(dockerConfig);

    for (let round = 0; round < 2; round++) {
      const results = await Promise.all(regs.map((reg) => login(reg, env, '--store', 'file')));
      for (const r of results) assert.equal(r.code, 0, r.stderr);
      const config = await readConfig(dockerConfig);
      assert.equal(config['x-keep'], 'me');
      for (const reg of regs) assert.equal(decodeAuth(config.auths?.[reg.host]), `${USER}:${reg.password}`, `round ${round}: ${reg.host} is there`);
      assert.deepEqual((await readdir(dockerConfig)).sort(), ['config.json'], 'no temp or lock file is left');
      // Half of them log out at once too.
      if (round === 0) {
        const outs = await Promise.all(regs.slice(0, 2).map((reg) => cli(['logout', reg.host], { env })));
        for (const o of outs) assert.equal(o.code, 0, o.stderr);
        const after = await readConfig(dockerConfig);
        assert.deepEqual(Object.keys(after.auths ?? {}), [regs[2]!.host]);
      }
    }
    const pushes = await Promise.all(regs.map((reg) => push(reg, 'filters/both:v1', env)));
    for (const p of pushes) assert.equal(p.code, 0, p.stderr);
  });
});

test('no output of any command, --debug included, holds the password, a token or an Authorization value', () => {
  // The scan itself must be able to fail.
  const probe = createSecretScan();
  probe.addSecret('probe-secret-123');
  probe.record('probe', { stdout: 'x probe-secret-123 y', stderr: 'authorization: Bearer abcdefghijklmnopqrstuvwxyz.0123 and eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.sig' });
  assert.equal(probe.leaks().length, 3);
  assert.ok(someIssuer, 'the suite used a token registry');
  const tokenProbe = createSecretScan();
  tokenProbe.addIssuer(someIssuer);
  tokenProbe.record('token probe', { stdout: `token=${someIssuer.signToken(USER, []).split('.').slice(0, 1).join('')}`, stderr: '' });
  assert.deepEqual(tokenProbe.leaks().map((l) => l.what.split(' (')[0]), ['a token signed by the issuer']);

  assert.ok(scan.outputs >= 60, `the suite recorded its outputs (${scan.outputs})`);
  const leaks = scan.leaks();
  console.log(scan.summary());
  assert.deepEqual(leaks, []);
});
