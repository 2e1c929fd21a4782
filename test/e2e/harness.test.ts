// Proves the test harness against the real components it starts: Distribution in every mode,
// the token issuer, skopeo, and the fault proxy. If these fail, no e2e result means anything.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Agent, fetch, type RequestInit } from 'undici';
import { startDistribution, countRequests, type RunningRegistry } from '../helpers/distribution.js';
import { skopeoCopy, skopeoInspectRaw, skopeoOptsFor } from '../helpers/skopeo.js';
import { startFaultProxy, startBlobServer, isBlobGet, anyAuthorization } from '../helpers/fault-proxy.js';
import { makeTempDir } from '../helpers/tmp.js';

const sha256 = (b: Buffer | string): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;

interface TinyLayout { dir: string; manifest: string; manifestDigest: string; layer: Buffer; layerDigest: string }

/** A one-layer Wasm artifact in an OCI image layout, written by hand (no code under test involved). */
async function writeTinyLayout(dir: string, tag: string): Promise<TinyLayout> {
  // `\0asm` version 1 and an empty custom section named "harness": a valid, unique module.
  const layer = Buffer.from([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x00, 0x08, 0x07, ...Buffer.from('harness')]);
  const config = Buffer.from('{}');
  const manifest = JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256(config), size: config.length },
    layers: [{
      mediaType: 'application/vnd.module.wasm.content.layer.v1+wasm', digest: sha256(layer), size: layer.length,
      annotations: { 'org.opencontainers.image.title': 'plugin.wasm' },
    }],
  });
  const blobs = join(dir, 'blobs', 'sha256');
  await mkdir(blobs, { recursive: true });
  for (const b of [layer, config, Buffer.from(manifest)]) await writeFile(join(blobs, sha256(b).slice(7)), b);
  await writeFile(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  await writeFile(join(dir, 'index.json'), JSON.stringify({
    schemaVersion: 2,
    manifests: [{
      mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: sha256(manifest), size: Buffer.byteLength(manifest),
      annotations: { 'org.opencontainers.image.ref.name': tag },
    }],
  }));
  return { dir, manifest, manifestDigest: sha256(manifest), layer, layerDigest: sha256(layer) };
}

function dispatcherFor(reg: RunningRegistry): Agent {
  return new Agent(reg.caPem ? { connect: { ca: reg.caPem } } : {});
}

const basic = (u: string, p: string): string => `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}`;

async function pushAndCheck(t: Parameters<typeof makeTempDir>[0], reg: RunningRegistry): Promise<void> {
  const layout = await writeTinyLayout(await makeTempDir(t), 'v1');
  const target = `docker://${reg.host}/harness/tiny:v1`;
  await skopeoCopy(`oci:${layout.dir}:v1`, target, { dest: skopeoOptsFor(reg) });
  const raw = await skopeoInspectRaw(target, skopeoOptsFor(reg));
  assert.equal(sha256(raw), layout.manifestDigest, 'registry serves the manifest bytes skopeo pushed');
  assert.ok(await countRequests(reg, { method: 'PUT', pathIncludes: '/v2/harness/tiny/manifests/v1', status: 201 }) >= 1,
    'the access log shows the manifest PUT');
}

test('plain registry: GET /v2/ is 200, skopeo pushes a layout, the access log counts it', async (t) => {
  const reg = await startDistribution({ mode: 'plain', t });
  assert.match(reg.host, /^127\.0\.0\.1:\d+$/);
  const res = await fetch(`${reg.url}/v2/`);
  assert.equal(res.status, 200);
  await res.arrayBuffer();
  await pushAndCheck(t, reg);
  const blobGet = await fetch(`${reg.url}/v2/harness/tiny/blobs/${(await writeTinyLayout(await makeTempDir(t), 'x')).layerDigest}`);
  assert.equal(blobGet.status, 200);
  assert.equal(Buffer.from(await blobGet.arrayBuffer())[0], 0x00);
  assert.equal(await countRequests(reg, { method: 'GET', pathIncludes: '/blobs/sha256:' }), 1);
});

test('plain registry stop() ends the process and removes its data dir', async () => {
  const { existsSync } = await import('node:fs');
  const reg = await startDistribution({ mode: 'plain' });
  await reg.stop();
  assert.equal(existsSync(reg.dataDir), false);
  await assert.rejects(fetch(`${reg.url}/v2/`));
});

test('tls-htpasswd registry: 401 without creds, 200 with, over TLS trusting only its CA', async (t) => {
  const reg = await startDistribution({ mode: 'tls-htpasswd', username: 'alice', password: 's3cret', t });
  assert.ok(reg.url.startsWith('https://127.0.0.1:'));
  assert.ok(reg.caFile);
  const dispatcher = dispatcherFor(reg);
  t.after(() => dispatcher.close());
  const anon = await fetch(`${reg.url}/v2/`, { dispatcher });
  assert.equal(anon.status, 401);
  assert.match(anon.headers.get('www-authenticate') ?? '', /^Basic realm=/);
  await anon.arrayBuffer();
  const wrong = await fetch(`${reg.url}/v2/`, { dispatcher, headers: { authorization: basic('alice', 'nope') } });
  assert.equal(wrong.status, 401);
  await wrong.arrayBuffer();
  const ok = await fetch(`${reg.url}/v2/`, { dispatcher, headers: { authorization: basic('alice', 's3cret') } });
  assert.equal(ok.status, 200);
  await ok.arrayBuffer();
  // Without the CA the certificate is untrusted: the TLS mode is real TLS.
  await assert.rejects(fetch(`${reg.url}/v2/`));
  await pushAndCheck(t, reg);
  await assert.rejects(skopeoInspectRaw(`docker://${reg.host}/harness/tiny:v1`, skopeoOptsFor(reg, false)), /unauthorized|authentication required/i);
});

test('plain-htpasswd registry asks for Basic over HTTP', async (t) => {
  const reg = await startDistribution({ mode: 'plain-htpasswd', t });
  const anon = await fetch(`${reg.url}/v2/`);
  assert.equal(anon.status, 401);
  await anon.arrayBuffer();
  const ok = await fetch(`${reg.url}/v2/`, { headers: { authorization: basic(reg.username!, reg.password!) } });
  assert.equal(ok.status, 200);
  await ok.arrayBuffer();
});

test('token registry: challenge names the issuer, an issued token opens /v2/, skopeo pushes', async (t) => {
  const reg = await startDistribution({ mode: 'token', username: 'bob', password: 'hunter2', t });
  const issuer = reg.issuer!;
  const anon = await fetch(`${reg.url}/v2/`);
  assert.equal(anon.status, 401);
  const challenge = anon.headers.get('www-authenticate') ?? '';
  await anon.arrayBuffer();
  assert.match(challenge, /^Bearer /);
  assert.ok(challenge.includes(`realm="${issuer.realm}"`), challenge);
  assert.ok(challenge.includes(`service="${issuer.service}"`), challenge);

  const bad = await fetch(`${issuer.realm}?service=${issuer.service}`, { headers: { authorization: basic('bob', 'wrong') } });
  assert.equal(bad.status, 401);
  await bad.arrayBuffer();

  const tokRes = await fetch(`${issuer.realm}?service=${issuer.service}&scope=repository:harness/tiny:pull,push`, {
    headers: { authorization: basic('bob', 'hunter2') },
  });
  assert.equal(tokRes.status, 200);
  const body = await tokRes.json() as { token: string; access_token: string };
  assert.equal(body.token, body.access_token);
  const ok = await fetch(`${reg.url}/v2/`, { headers: { authorization: `Bearer ${body.token}` } });
  assert.equal(ok.status, 200);
  await ok.arrayBuffer();
  // A token whose signature is not the issuer's is refused: the registry really verifies.
  const forged = `${body.token.slice(0, body.token.lastIndexOf('.'))}.AAAA`;
  const no = await fetch(`${reg.url}/v2/`, { headers: { authorization: `Bearer ${forged}` } });
  assert.equal(no.status, 401);
  await no.arrayBuffer();

  await pushAndCheck(t, reg);
  assert.ok(issuer.tokensIssued >= 2);
  assert.ok(issuer.requests.some((r) => r.subject === 'bob' && r.scopes.some((s) => s.startsWith('repository:harness/tiny:'))));
  assert.equal(issuer.sawCredentials, true);
});

test('token issuer: OAuth2 password grant returns a refresh token that a refresh grant accepts', async (t) => {
  const reg = await startDistribution({ mode: 'token', t });
  const issuer = reg.issuer!;
  const form = (o: Record<string, string>): RequestInit => ({
    method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(o).toString(),
  });
  const pw = await fetch(issuer.realm, form({ grant_type: 'password', username: 'testuser', password: 'testpassword', service: issuer.service, scope: 'repository:a/b:pull', client_id: 'wasm-oci' }));
  assert.equal(pw.status, 200);
  const pwBody = await pw.json() as { access_token: string; refresh_token: string };
  assert.ok(pwBody.refresh_token);
  const rf = await fetch(issuer.realm, form({ grant_type: 'refresh_token', refresh_token: pwBody.refresh_token, service: issuer.service, scope: 'repository:a/b:pull', client_id: 'wasm-oci' }));
  assert.equal(rf.status, 200);
  const rfBody = await rf.json() as { access_token: string };
  const ok = await fetch(`${reg.url}/v2/`, { headers: { authorization: `Bearer ${rfBody.access_token}` } });
  assert.equal(ok.status, 200);
  await ok.arrayBuffer();
  const badRefresh = await fetch(issuer.realm, form({ grant_type: 'refresh_token', refresh_token: 'not-issued', service: issuer.service }));
  assert.equal(badRefresh.status, 401);
  await badRefresh.arrayBuffer();
  // Anonymous token: empty access, so a repository call is refused.
  const anon = await (await fetch(`${issuer.realm}?service=${issuer.service}&scope=repository:a/b:pull`)).json() as { token: string };
  const denied = await fetch(`${reg.url}/v2/a/b/tags/list`, { headers: { authorization: `Bearer ${anon.token}` } });
  assert.equal(denied.status, 401);
  await denied.arrayBuffer();
});

test('tls-token registry: HTTPS realm, token works', async (t) => {
  const reg = await startDistribution({ mode: 'tls-token', t });
  const dispatcher = dispatcherFor(reg);
  t.after(() => dispatcher.close());
  const anon = await fetch(`${reg.url}/v2/`, { dispatcher });
  assert.equal(anon.status, 401);
  await anon.arrayBuffer();
  assert.ok(reg.issuer!.realm.startsWith('https://127.0.0.1:'));
  const tok = await (await fetch(`${reg.issuer!.realm}?service=${reg.issuer!.service}`, {
    dispatcher, headers: { authorization: basic(reg.username!, reg.password!) },
  })).json() as { token: string };
  const ok = await fetch(`${reg.url}/v2/`, { dispatcher, headers: { authorization: `Bearer ${tok.token}` } });
  assert.equal(ok.status, 200);
  await ok.arrayBuffer();
});

test('fault proxy: 429 with Retry-After, reset, truncate, corrupt, and a foreign redirect', async (t) => {
  const reg = await startDistribution({ mode: 'plain', t });
  const layout = await writeTinyLayout(await makeTempDir(t), 'v1');
  await skopeoCopy(`oci:${layout.dir}:v1`, `docker://${reg.host}/harness/tiny:v1`, { dest: { tlsVerify: false } });
  const proxy = await startFaultProxy({ upstream: reg.url });
  t.after(() => proxy.close());
  const blobUrl = `${proxy.url}/v2/harness/tiny/blobs/${layout.layerDigest}`;

  const v2Before = await countRequests(reg, { method: 'GET', pathMatches: /^\/v2\/$/ });
  proxy.addFault({ match: (r) => r.path === '/v2/', fault: { kind: 'status', status: 429, retryAfter: 1 }, times: 1 });
  const first = await fetch(`${proxy.url}/v2/`);
  assert.equal(first.status, 429);
  assert.equal(first.headers.get('retry-after'), '1');
  await first.arrayBuffer();
  const second = await fetch(`${proxy.url}/v2/`);
  assert.equal(second.status, 200);
  await second.arrayBuffer();
  assert.equal(proxy.faultsInjected, 1);
  assert.equal(await countRequests(reg, { method: 'GET', pathMatches: /^\/v2\/$/ }), v2Before + 1,
    'the injected 429 never reached the registry');

  proxy.addFault({ match: isBlobGet, fault: { kind: 'reset-mid-body', afterBytes: 4 }, times: 1 });
  await assert.rejects(async () => { await (await fetch(blobUrl)).arrayBuffer(); });

  proxy.addFault({ match: isBlobGet, fault: { kind: 'truncate', afterBytes: 5 }, times: 1 });
  const truncated = Buffer.from(await (await fetch(blobUrl)).arrayBuffer());
  assert.deepEqual(truncated, layout.layer.subarray(0, 5));

  proxy.addFault({ match: isBlobGet, fault: { kind: 'corrupt-body', atByte: 2 }, times: 1 });
  const corrupt = Buffer.from(await (await fetch(blobUrl)).arrayBuffer());
  assert.equal(corrupt.length, layout.layer.length);
  assert.notEqual(sha256(corrupt), layout.layerDigest);

  const clean = Buffer.from(await (await fetch(blobUrl)).arrayBuffer());
  assert.equal(sha256(clean), layout.layerDigest, 'faults with times: 1 are spent');

  const other = await startBlobServer({ upstream: reg.url });
  t.after(() => other.close());
  proxy.addFault({ match: isBlobGet, fault: { kind: 'redirect-blob-to-other-origin', to: other.url }, times: 1 });
  const redirected = await fetch(blobUrl, { headers: { authorization: 'Bearer harness-secret' } });
  assert.equal(redirected.status, 200);
  assert.equal(sha256(Buffer.from(await redirected.arrayBuffer())), layout.layerDigest);
  assert.equal(other.requests.length, 1);
  assert.equal(anyAuthorization(other.requests), false, 'fetch drops Authorization across origins; the blob server records it');
  assert.equal(anyAuthorization(proxy.requests), true, 'the proxy records the headers it saw');

  proxy.addFault({ match: (r) => r.path === '/v2/', fault: { kind: 'stall', ms: 300 }, times: 1 });
  const started = Date.now();
  const stalled = await fetch(`${proxy.url}/v2/`);
  await stalled.arrayBuffer();
  assert.equal(stalled.status, 200);
  assert.ok(Date.now() - started >= 280);
  assert.deepEqual(proxy.faultsByKind(), {
    status: 1, 'reset-mid-body': 1, truncate: 1, 'corrupt-body': 1, 'redirect-blob-to-other-origin': 1, stall: 1,
  });
});

test('runCli runs bin/wasm-oci.js with and without a pseudo-terminal', async () => {
  const { readFile } = await import('node:fs/promises');
  const { repoRoot } = await import('../helpers/paths.js');
  const { runCli } = await import('../helpers/cli.js');
  const { version } = JSON.parse(await readFile(join(repoRoot, 'package.json'), 'utf8')) as { version: string };
  const plain = await runCli(['--version']);
  assert.deepEqual(plain, { code: 0, stdout: `${version}\n`, stderr: '', leftovers: [] });
  const tty = await runCli(['--version'], { tty: true });
  assert.equal(tty.code, 0);
  assert.equal(tty.stdout, `${version}\n`, 'the pty output comes back with \\n line ends');
});
