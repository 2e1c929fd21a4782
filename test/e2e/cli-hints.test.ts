// Each hint appears for the failure it belongs to, driven through the real binary against a real
// Distribution (or the fault proxy where Distribution cannot produce the failure), and the advice
// in the hint is checked to actually work where it can be. The Docker Hub `library/` hint needs
// Docker Hub, which tests may not reach: test/unit/cli-hints.test.ts covers it on a synthetic error.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { copyFile, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { runCli, type CliResult, type RunCliOptions } from '../helpers/cli.js';
import { findFreePort, startDistribution } from '../helpers/distribution.js';
import { isManifestRequest, startFaultProxy } from '../helpers/fault-proxy.js';
import { examplesDir } from '../helpers/paths.js';
import { makeTempDir } from '../helpers/tmp.js';
import { ERROR_CODES } from '../../src/errors.js';

async function cli(args: string[], opts: RunCliOptions = {}): Promise<CliResult> {
  return runCli(args, { timeoutMs: 30_000, ...opts });
}

async function workDir(t: Parameters<typeof makeTempDir>[0]): Promise<string> {
  const dir = await makeTempDir(t);
  await copyFile(join(examplesDir, 'example-filter.wasm'), join(dir, 'example-filter.wasm'));
  await writeFile(join(dir, 'data.bin'), randomBytes(4096));
  return dir;
}

/** The failure as a user reads it: exit code, one `Error:` line, then one `Hint:` line. */
function failure(r: CliResult, exitCode: number, error: RegExp, hint: RegExp): void {
  const what = `stdout: ${r.stdout}\nstderr: ${r.stderr}`;
  assert.equal(r.code, exitCode, what);
  const lines = r.stderr.trimEnd().split('\n').filter((l) => !l.startsWith('Warning:'));
  assert.equal(lines.length, 2, `one error line and one hint line:\n${r.stderr}`);
  assert.match(lines[0]!, /^Error: /);
  assert.match(lines[0]!, error);
  assert.match(lines[1]!, /^Hint: /);
  assert.match(lines[1]!, hint);
}

test('a registry refusing the manifest (400 MANIFEST_INVALID): hint --profile compat', async (t) => {
  const reg = await startDistribution({ mode: 'plain', t });
  const dir = await workDir(t);
  // Distribution 2.8 itself stores made-up layer types and artifactType-only manifests, so it never
  // refuses one; registries that do (older Harbor, ACR, Quay) answer 400 MANIFEST_INVALID on the PUT.
  const accepted = await cli(['push', '--plain-http', '--artifact-type', 'application/vnd.example.made-up', `${reg.host}/hints/real:v1`, 'data.bin:application/vnd.example.made-up.layer'], { cwd: dir });
  assert.equal(accepted.code, 0, accepted.stderr);

  const proxy = await startFaultProxy({ upstream: reg.url });
  t.after(() => proxy.close());
  proxy.addFault({
    match: (r) => r.method === 'PUT' && isManifestRequest(r),
    fault: { kind: 'status', status: 400, body: JSON.stringify({ errors: [{ code: 'MANIFEST_INVALID', message: 'manifest invalid', detail: 'unknown media type application/vnd.module.wasm.content.layer.v1+wasm' }] }) },
  });
  const r = await cli(['push', '--plain-http', `${proxy.host}/hints/refused:v1`, 'example-filter.wasm'], { cwd: dir });
  failure(r, ERROR_CODES.E_REGISTRY.exitCode, /refused the manifest.*MANIFEST_INVALID/, /--profile compat/);
  assert.equal(proxy.faultsByKind().status, 1, 'the manifest PUT was the one refused');
});

test('TLS with an unknown CA: hint --ca-file or --insecure, and --ca-file then works', async (t) => {
  const reg = await startDistribution({ mode: 'tls', t });
  const dir = await workDir(t);
  const ref = `${reg.host}/hints/tls:v1`;
  const r = await cli(['push', ref, 'example-filter.wasm'], { cwd: dir });
  failure(r, ERROR_CODES.E_TLS.exitCode, /TLS failure talking to https:\/\/127\.0\.0\.1:\d+/, /--ca-file.*--insecure/);
  const fixed = await cli(['push', '--ca-file', reg.caFile!, ref, 'example-filter.wasm'], { cwd: dir });
  assert.equal(fixed.code, 0, fixed.stderr);
});

test('a plain-HTTP registry spoken to over TLS: hint --plain-http, and --plain-http then works', async (t) => {
  const reg = await startDistribution({ mode: 'plain', t });
  const dir = await workDir(t);
  const ref = `${reg.host}/hints/plain:v1`;
  const r = await cli(['push', ref, 'example-filter.wasm'], { cwd: dir });
  failure(r, ERROR_CODES.E_NETWORK.exitCode, /does not speak HTTPS/, /--plain-http/);
  const fixed = await cli(['push', '--plain-http', ref, 'example-filter.wasm'], { cwd: dir });
  assert.equal(fixed.code, 0, fixed.stderr);
});

function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port });
    s.once('connect', () => { s.destroy(); resolve(false); });
    s.once('error', (e: NodeJS.ErrnoException) => resolve(e.code === 'ECONNREFUSED'));
  });
}

test('connection refused: the hint asks whether the registry runs, and on port 5000 suggests --plain-http', async (t) => {
  const port = await findFreePort();
  assert.ok(await refused(port), `port ${port} is closed`);
  const r = await cli(['resolve', `127.0.0.1:${port}/hints/closed:v1`]);
  failure(r, ERROR_CODES.E_NETWORK.exitCode, new RegExp(`connection refused by https://127\\.0\\.0\\.1:${port}`), new RegExp(`is the registry running at 127\\.0\\.0\\.1:${port}\\?$`));
  assert.doesNotMatch(r.stderr, /--plain-http/, 'no plain-HTTP advice for an arbitrary port');
  const withPlain = await cli(['resolve', '--plain-http', `127.0.0.1:${port}/hints/closed:v1`]);
  assert.doesNotMatch(withPlain.stderr, /--plain-http/, 'no --plain-http advice when it was given');

  // Port 5000 is where `docker run registry:2` listens, in plain HTTP.
  if (!(await refused(5000))) {
    t.skip('something listens on 127.0.0.1:5000 on this machine; the port-5000 hint cannot be checked');
    return;
  }
  const r5000 = await cli(['resolve', '127.0.0.1:5000/hints/closed:v1']);
  failure(r5000, ERROR_CODES.E_NETWORK.exitCode, /connection refused by https:\/\/127\.0\.0\.1:5000/, /--plain-http/);
});

test('an unknown tag: hint `wasm-oci repo tags`, and that command lists the tags there are', async (t) => {
  const reg = await startDistribution({ mode: 'plain', t });
  const dir = await workDir(t);
  const repo = `${reg.host}/hints/tags`;
  assert.equal((await cli(['push', '--plain-http', `${repo}:v1`, 'example-filter.wasm'], { cwd: dir })).code, 0);
  for (const args of [['pull', '-o', 'out'], ['resolve'], ['inspect']]) {
    const r = await cli([...args, '--plain-http', `${repo}:v2`], { cwd: dir });
    failure(r, ERROR_CODES.E_NOT_FOUND.exitCode, new RegExp(`manifest not found: ${repo}:v2`), new RegExp(`wasm-oci repo tags ${repo}$`));
  }
  const listed = await cli(['repo', 'tags', '--plain-http', repo]);
  assert.equal(listed.code, 0, listed.stderr);
  assert.equal(listed.stdout, 'v1\n');

  // In an OCI layout the tags are at hand: the hint names them.
  assert.equal((await cli(['push', '--oci-layout', 'store:v1', 'example-filter.wasm'], { cwd: dir })).code, 0);
  const inLayout = await cli(['resolve', '--oci-layout', 'store:v2'], { cwd: dir });
  failure(inLayout, ERROR_CODES.E_NOT_FOUND.exitCode, /tag "v2" not found/, /v1/);
});

test('no credentials for a registry that wants them: hint wasm-oci login', async (t) => {
  const reg = await startDistribution({ mode: 'tls-htpasswd', t });
  const dir = await workDir(t);
  const r = await cli(['push', '--ca-file', reg.caFile!, `${reg.host}/hints/auth:v1`, 'example-filter.wasm'], { cwd: dir });
  failure(r, ERROR_CODES.E_AUTH.exitCode, /authentication required/, new RegExp(`wasm-oci login ${reg.host.replace(/\./g, '\\.')}`));
});
