import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

import { runCli } from '../helpers/cli.js';
import { startDistribution } from '../helpers/distribution.js';
import { examplesDir } from '../helpers/paths.js';

// oras's remote flags against real servers: mutual TLS with Distribution's http.tls.clientcas,
// -H and --resolve seen by a recording registry, localhost as plain HTTP by default.

const PUSH_ARGS = ['--manifest-config', 'runtime-config.json:application/vnd.module.wasm.config.v1+json', 'example-filter.wasm:application/vnd.module.wasm.content.layer.v1+wasm'];

test('a registry that requires a client certificate refuses us without --cert-file and accepts us with it', async (t) => {
  const reg = await startDistribution({ mode: 'tls', clientCert: true, t });
  const ref = `${reg.host}/mtls:v1`;
  const refused = await runCli(['push', ref, '--ca-file', reg.caFile!, ...PUSH_ARGS], { cwd: examplesDir });
  assert.notEqual(refused.code, 0, 'no client certificate: the handshake must fail');
  assert.match(refused.stderr, /TLS|certificate|network/i);

  const pushed = await runCli(['push', ref, '--ca-file', reg.caFile!, '--cert-file', reg.clientCertFile!, '--key-file', reg.clientKeyFile!, ...PUSH_ARGS], { cwd: examplesDir });
  assert.equal(pushed.code, 0, pushed.stderr);
  const resolved = await runCli(['resolve', ref, '--ca-file', reg.caFile!, '--cert-file', reg.clientCertFile!, '--key-file', reg.clientKeyFile!]);
  assert.equal(resolved.code, 0, resolved.stderr);
  assert.match(resolved.stdout, /sha256:[a-f0-9]{64}/);

  const half = await runCli(['resolve', ref, '--ca-file', reg.caFile!, '--cert-file', reg.clientCertFile!]);
  assert.equal(half.code, 2, half.stderr);
  assert.match(half.stderr, /--cert-file and --key-file go together/);
});

interface Seen { method: string; url: string; headers: IncomingHttpHeaders }

/** Answers /v2/ with 200 and everything else with a registry 404, recording each request. */
async function recordingRegistry(t: { after(fn: () => Promise<void> | void): void }): Promise<{ port: number; seen: Seen[] }> {
  const seen: Seen[] = [];
  const server = createServer((req, res) => {
    seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers });
    if (req.url === '/v2/') {
      res.writeHead(200, { 'content-type': 'application/json', 'docker-distribution-api-version': 'registry/2.0' }).end('{}');
      return;
    }
    res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ errors: [{ code: 'MANIFEST_UNKNOWN', message: 'manifest unknown' }] }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => new Promise<void>((r) => server.close(() => r())));
  return { port: (server.address() as AddressInfo).port, seen };
}

test('-H reaches the registry on every request, localhost is plain HTTP by default, and --debug never shows the value', async (t) => {
  const rec = await recordingRegistry(t);
  const res = await runCli(['resolve', `localhost:${rec.port}/repo:v1`, '-H', 'X-Trace: abc', '-H', 'X-Api-Key: s3cr3t-value', '--debug']);
  assert.equal(res.code, 4, `manifest unknown expected:\n${res.stderr}`);
  const manifestCalls = rec.seen.filter((s) => s.url.startsWith('/v2/repo/manifests/'));
  assert.ok(manifestCalls.length >= 1, 'plain HTTP to localhost without --plain-http');
  for (const s of manifestCalls) {
    assert.equal(s.headers['x-trace'], 'abc');
    assert.equal(s.headers['x-api-key'], 's3cr3t-value');
  }
  assert.doesNotMatch(res.stderr, /s3cr3t-value/, 'a -H value never reaches the debug log');
  assert.match(res.stderr, /x-api-key: <redacted>/);

  const https = await runCli(['resolve', `localhost:${rec.port}/repo:v1`, '--no-plain-http']);
  assert.notEqual(https.code, 0);
  assert.match(https.stderr, /does not speak HTTPS|TLS|network/i, 'the localhost default can be turned off');

  const bad = await runCli(['resolve', `localhost:${rec.port}/repo:v1`, '-H', 'no colon here']);
  assert.equal(bad.code, 2, bad.stderr);
});

test('--resolve dials the given address and keeps the name in Host', async (t) => {
  const rec = await recordingRegistry(t);
  const name = `registry.wasm-oci.test:${rec.port}`;
  const without = await runCli(['resolve', `${name}/repo:v1`, '--plain-http']);
  assert.equal(without.code, 6, `the name does not resolve without the rule:\n${without.stderr}`);
  assert.equal(rec.seen.length, 0);

  const res = await runCli(['resolve', `${name}/repo:v1`, '--plain-http', '--resolve', `registry.wasm-oci.test:${rec.port}:127.0.0.1`]);
  assert.equal(res.code, 4, res.stderr);
  assert.ok(rec.seen.length >= 1);
  for (const s of rec.seen) assert.equal(s.headers.host, name);

  const other = await runCli(['resolve', `other.wasm-oci.test:80/repo:v1`, '--plain-http', '--resolve', `registry.wasm-oci.test:80:127.0.0.1:${rec.port}`]);
  assert.notEqual(other.code, 0, 'a rule for another host changes nothing');
  const viaPort = await runCli(['resolve', `registry.wasm-oci.test/repo:v1`, '--plain-http', '--resolve', `registry.wasm-oci.test:80:127.0.0.1:${rec.port}`]);
  assert.equal(viaPort.code, 4, `address_port: ${viaPort.stderr}`);
  assert.equal(rec.seen.at(-1)!.headers.host, 'registry.wasm-oci.test');

  const badRule = await runCli(['resolve', `${name}/repo:v1`, '--resolve', 'nohost:x:1.2.3.4']);
  assert.equal(badRule.code, 2, badRule.stderr);
});
