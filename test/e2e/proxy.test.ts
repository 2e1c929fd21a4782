// HTTPS_PROXY / HTTP_PROXY / NO_PROXY against a real forward proxy (tinyproxy, Debian) and a real
// Distribution, all on loopback. Like Go's client (oras, docker, skopeo), wasm-oci never sends
// localhost or a loopback address through a proxy, so the registry is named
// registry.wasm-oci.test: only the proxy resolves that name (tinyproxy hands it to an upstream
// in the test helper that connects it to 127.0.0.1; no root needed); a direct call reaches it
// with --resolve.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runCli, type CliResult, type RunCliOptions } from '../helpers/cli.js';
import { findFreePort, startDistribution, type RegistryMode, type RunningRegistry } from '../helpers/distribution.js';
import { examplesDir } from '../helpers/paths.js';
import { createSecretScan, testPassword } from '../helpers/secrets.js';
import { startTinyproxy } from '../helpers/tinyproxy.js';
import { makeTempDir, type CleanupContext } from '../helpers/tmp.js';

const PUSH_ARGS = ['--manifest-config', 'runtime-config.json:application/vnd.module.wasm.config.v1+json', 'example-filter.wasm:application/vnd.module.wasm.content.layer.v1+wasm'];
const USER = 'alice';
const NAME = 'registry.wasm-oci.test';
const scan = createSecretScan();

interface Named extends RunningRegistry {
  /** `registry.wasm-oci.test:PORT`: what the commands are given. */
  named: string;
  /** --resolve for a call that goes direct. */
  direct: string[];
}

async function registry(t: CleanupContext, mode: RegistryMode): Promise<Named> {
  const password = testPassword();
  const reg = await startDistribution({ mode, username: USER, password, serverName: NAME, t });
  scan.addBasicPair(USER, password);
  if (reg.issuer) scan.addIssuer(reg.issuer);
  return { ...reg, named: `${NAME}:${reg.port}`, direct: ['--resolve', `${NAME}:${reg.port}:127.0.0.1`] };
}

function proxy(t: CleanupContext, extra: Omit<Parameters<typeof startTinyproxy>[0], 't' | 'hosts'> = {}): ReturnType<typeof startTinyproxy> {
  return startTinyproxy({ t, hosts: [NAME], ...extra });
}

/** A docker config of its own per test, no keychain reachable: login stores to config.json. */
async function userEnv(t: CleanupContext, extra: Record<string, string | undefined>): Promise<Record<string, string | undefined>> {
  return {
    DOCKER_CONFIG: await makeTempDir(t),
    DBUS_SESSION_BUS_ADDRESS: 'unix:path=/nonexistent/wasm-oci-test-no-bus',
    XDG_DATA_HOME: undefined,
    ...extra,
  };
}

async function cli(args: string[], opts: RunCliOptions): Promise<CliResult> {
  return runCli(args, { ...opts, scan });
}

function tls(reg: Pick<RunningRegistry, 'tls' | 'caFile'>): string[] {
  return reg.tls ? ['--ca-file', reg.caFile!] : ['--plain-http'];
}

/** login, push and pull of the example filter; the pulled module must be the pushed one. */
async function loginPushPull(t: CleanupContext, reg: Named, env: Record<string, string | undefined>, repo: string): Promise<void> {
  const login = await cli(['login', reg.named, ...tls(reg), '-u', USER, '--password-stdin', '--store', 'file'], { env, input: `${reg.password}\n` });
  assert.equal(login.code, 0, login.stderr);
  const ref = `${reg.named}/${repo}:v1`;
  const push = await cli(['push', ref, ...tls(reg), ...PUSH_ARGS], { env, cwd: examplesDir });
  assert.equal(push.code, 0, push.stderr);
  const out = await makeTempDir(t);
  const pull = await cli(['pull', ref, ...tls(reg), '-o', out], { env });
  assert.equal(pull.code, 0, pull.stderr);
  const sha = async (p: string): Promise<string> => createHash('sha256').update(await readFile(p)).digest('hex');
  assert.equal(await sha(join(out, 'example-filter.wasm')), await sha(join(examplesDir, 'example-filter.wasm')));
}

test('HTTPS_PROXY: login, push and pull go through a CONNECT tunnel; the proxy logs the host:port and no credential', async (t) => {
  const reg = await registry(t, 'tls-htpasswd');
  const px = await proxy(t);
  const env = await userEnv(t, { HTTPS_PROXY: px.url });
  await loginPushPull(t, reg, env, 'via-proxy/filter');

  const lines = px.requests();
  assert.ok(lines.length >= 3, `one tunnel per connection at least:\n${px.log()}`);
  for (const l of lines) assert.deepEqual(l, { method: 'CONNECT', target: reg.named }, 'nothing but CONNECT to the registry');
  assert.ok((await reg.flushLog(), reg.requests().some((r) => r.method === 'PUT' && r.path.includes('/manifests/v1'))), 'the push reached the registry');
  scan.record('tinyproxy log (HTTPS_PROXY)', { stdout: px.log(), stderr: '' });
  assert.deepEqual(scan.leaks(), []);

  const debug = await cli(['resolve', `${reg.named}/via-proxy/filter:v1`, ...tls(reg), '--debug'], { env });
  assert.equal(debug.code, 0, debug.stderr);
  assert.match(debug.stderr, new RegExp(`via proxy http://127\\.0\\.0\\.1:${px.port} \\(HTTPS_PROXY\\)`), '--debug says a proxy is used');

  const withoutProxy = await cli(['resolve', `${reg.named}/via-proxy/filter:v1`, ...tls(reg)], { env: { ...env, HTTPS_PROXY: undefined } });
  assert.equal(withoutProxy.code, 6, `only the proxy knows the name: the calls above went through it\n${withoutProxy.stderr}`);
});

test('https_proxy in lower case, and a token service reached through the proxy as well', async (t) => {
  const reg = await registry(t, 'tls-token');
  const px = await proxy(t);
  const env = await userEnv(t, { https_proxy: px.url });
  await loginPushPull(t, reg, env, 'token/filter');
  const targets = new Set(px.requests().map((l) => `${l.method} ${l.target}`));
  assert.ok(targets.has(`CONNECT ${reg.named}`), px.log());
  assert.equal(new URL(reg.issuer!.origin).hostname, NAME);
  assert.ok(targets.has(`CONNECT ${new URL(reg.issuer!.origin).host}`), `the token request went through the proxy too:\n${px.log()}`);
  scan.record('tinyproxy log (token)', { stdout: px.log(), stderr: '' });
  assert.deepEqual(scan.leaks(), []);
});

test('HTTP_PROXY: a plain-HTTP registry is reached with absolute-form requests; HTTPS_PROXY alone does not apply to it', async (t) => {
  const reg = await registry(t, 'plain-htpasswd');
  const px = await proxy(t);
  const env = await userEnv(t, { HTTP_PROXY: px.url });
  await loginPushPull(t, reg, env, 'plain/filter');
  const lines = px.requests();
  assert.ok(lines.some((l) => l.method === 'PUT' && l.target.startsWith(`http://${reg.named}/v2/plain/filter/manifests/v1`)), px.log());
  assert.ok(lines.every((l) => l.method !== 'CONNECT' && l.target.startsWith(`http://${reg.named}/v2/`)), px.log());
  // The Basic header went through the proxy (the registry needs it) but is not in its log.
  scan.record('tinyproxy log (HTTP_PROXY)', { stdout: px.log(), stderr: '' });
  assert.deepEqual(scan.leaks(), []);

  const before = px.requests().length;
  const dead = await findFreePort();
  const direct = await cli(['resolve', `${reg.named}/plain/filter:v1`, '--plain-http', ...reg.direct], { env: { ...env, HTTP_PROXY: undefined, HTTPS_PROXY: `http://127.0.0.1:${dead}` } });
  assert.equal(direct.code, 0, `HTTPS_PROXY is for https URLs only, as in Go:\n${direct.stderr}`);
  assert.equal(px.requests().length, before);
});

test('NO_PROXY bypasses the proxy (upper and lower case, a domain suffix, with a port, *); loopback never uses it', async (t) => {
  const reg = await registry(t, 'tls');
  const px = await proxy(t);
  const ref = `${reg.named}/bypass/filter:v1`;
  const pushed = await cli(['push', ref, ...tls(reg), ...PUSH_ARGS], { env: await userEnv(t, { HTTPS_PROXY: px.url }), cwd: examplesDir });
  assert.equal(pushed.code, 0, pushed.stderr);
  const through = px.requests().length;
  assert.ok(through >= 1);

  // A dead proxy: a call that used it would fail.
  const dead = `http://127.0.0.1:${await findFreePort()}`;
  for (const noProxy of [{ NO_PROXY: NAME }, { no_proxy: reg.named }, { NO_PROXY: 'other.example, .wasm-oci.test' }, { NO_PROXY: '*' }]) {
    const res = await cli(['resolve', ref, ...tls(reg), ...reg.direct], { env: await userEnv(t, { HTTPS_PROXY: dead, ...noProxy }) });
    assert.equal(res.code, 0, `${JSON.stringify(noProxy)}: ${res.stderr}`);
  }
  const otherPort = await cli(['resolve', ref, ...tls(reg)], { env: await userEnv(t, { HTTPS_PROXY: px.url, NO_PROXY: `${NAME}:1` }) });
  assert.equal(otherPort.code, 0, otherPort.stderr);
  assert.ok(px.requests().length > through, 'a NO_PROXY entry for another port does not match');

  const loop = await startDistribution({ mode: 'plain', t });
  const local = await cli(['push', `${loop.host}/loop:v1`, '--plain-http', ...PUSH_ARGS], { env: await userEnv(t, { HTTP_PROXY: dead, HTTPS_PROXY: dead }), cwd: examplesDir });
  assert.equal(local.code, 0, `127.0.0.1 is never proxied:\n${local.stderr}`);
  const localhost = await cli(['resolve', `localhost:${loop.port}/loop:v1`], { env: await userEnv(t, { HTTP_PROXY: dead, HTTPS_PROXY: dead }) });
  assert.equal(localhost.code, 0, `localhost is never proxied:\n${localhost.stderr}`);
});

test('a proxy that is down, refuses the tunnel, or wants credentials: clear errors with their exit codes', async (t) => {
  const reg = await registry(t, 'tls');
  const ref = `${reg.named}/refused/filter:v1`;
  const pushed = await cli(['push', ref, ...tls(reg), ...reg.direct, ...PUSH_ARGS], { env: await userEnv(t, {}), cwd: examplesDir });
  assert.equal(pushed.code, 0, pushed.stderr);

  const dead = await findFreePort();
  const down = await cli(['resolve', ref, ...tls(reg)], { env: await userEnv(t, { HTTPS_PROXY: `127.0.0.1:${dead}` }) });
  assert.equal(down.code, 6, down.stderr);
  assert.match(down.stderr, new RegExp(`connection refused by the proxy http://127\\.0\\.0\\.1:${dead} \\(HTTPS_PROXY\\), on the way to ${reg.named.replace(/\./g, '\\.')}`));
  assert.match(down.stderr, /NO_PROXY/);

  const strict = await proxy(t, { connectPorts: [443] });
  const refused = await cli(['resolve', ref, ...tls(reg)], { env: await userEnv(t, { HTTPS_PROXY: strict.url }) });
  assert.equal(refused.code, 6, refused.stderr);
  assert.match(refused.stderr, new RegExp(`the proxy http://127\\.0\\.0\\.1:${strict.port} \\(HTTPS_PROXY\\) refused to open a tunnel to ${reg.named.replace(/\./g, '\\.')} \\(HTTP 403\\)`));
  assert.ok(strict.requests().some((l) => l.method === 'CONNECT'), 'the refusal came from the proxy');

  const proxyPassword = 'proxy-Secret-7781';
  scan.addSecret(proxyPassword, 'proxy password');
  const guarded = await proxy(t, { basicAuth: { username: 'pxuser', password: proxyPassword } });
  const noCreds = await cli(['resolve', ref, ...tls(reg)], { env: await userEnv(t, { HTTPS_PROXY: guarded.url }) });
  assert.equal(noCreds.code, 3, noCreds.stderr);
  assert.match(noCreds.stderr, /requires authentication \(HTTP 407\)/);
  const withCreds = await cli(['resolve', ref, ...tls(reg), '--debug'], { env: await userEnv(t, { HTTPS_PROXY: `http://pxuser:${proxyPassword}@127.0.0.1:${guarded.port}` }) });
  assert.equal(withCreds.code, 0, withCreds.stderr);
  assert.match(withCreds.stderr, /via proxy http:\/\/redacted@127\.0\.0\.1/);
  assert.deepEqual(scan.leaks(), [], 'the proxy password is never printed, --debug included');

  const bad = await cli(['resolve', ref, ...tls(reg)], { env: await userEnv(t, { HTTPS_PROXY: 'socks5://127.0.0.1:1080' }) });
  assert.equal(bad.code, 7, bad.stderr);
  assert.match(bad.stderr, /SOCKS/);
});
