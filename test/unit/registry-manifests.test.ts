import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { WasmOciError } from '../../src/errors.js';
import { MEDIA_TYPES } from '../../src/oci/media-types.js';
import { createRepository } from '../../src/registry/repository.js';
import { fakeClock, startTestServer } from '../helpers/http-test-server.js';

const isCode = (code: string, msg?: RegExp) => (e: unknown) => e instanceof WasmOciError && e.code === code && (!msg || msg.test(e.message));
const sha = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const manifest = Buffer.from(JSON.stringify({
  schemaVersion: 2, mediaType: MEDIA_TYPES.ociManifest,
  config: { mediaType: MEDIA_TYPES.soloWasmConfig, digest: `sha256:${'1'.repeat(64)}`, size: 10 },
  layers: [{ mediaType: MEDIA_TYPES.soloWasmLayer, digest: `sha256:${'2'.repeat(64)}`, size: 20 }],
}));
const mdesc = { mediaType: MEDIA_TYPES.ociManifest, digest: sha(manifest), size: manifest.length };

async function readAll(s: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of s) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

function repoFor(t: { after(fn: () => unknown): void }, host: string, extra: Record<string, unknown> = {}) {
  const repo = createRepository({ registry: host, repository: 'filters/demo', plainHttp: true, clock: fakeClock(), ...extra });
  t.after(() => repo.close());
  return repo;
}

test('manifest GET sends the Accept list and verifies the digest; fetch and resolve agree', async (t) => {
  const srv = await startTestServer(t, (req, res) => {
    const headers = { 'content-type': MEDIA_TYPES.ociManifest, 'docker-content-digest': mdesc.digest, 'content-length': String(manifest.length) };
    res.writeHead(200, headers).end(req.method === 'HEAD' ? undefined : manifest);
  });
  const repo = repoFor(t, srv.host);
  assert.deepEqual(await repo.resolve('v1'), mdesc);
  assert.ok((await readAll(await repo.fetch(mdesc))).equals(manifest));
  const { descriptor, content } = await repo.fetchReference('v1');
  assert.deepEqual(descriptor, mdesc);
  assert.ok(Buffer.from(content).equals(manifest));
  const accept = String(srv.requests[0]!.headers.accept);
  for (const type of [MEDIA_TYPES.ociManifest, MEDIA_TYPES.ociIndex, MEDIA_TYPES.dockerManifest, MEDIA_TYPES.dockerManifestList]) assert.ok(accept.includes(type));
  assert.equal(srv.requests[0]!.method, 'HEAD');
  assert.equal(srv.requests[0]!.url, '/v2/filters/demo/manifests/v1');
});

test('resolve falls back to GET when HEAD has no Docker-Content-Digest', async (t) => {
  const srv = await startTestServer(t, (req, res) => {
    res.writeHead(200, { 'content-type': MEDIA_TYPES.ociManifest }).end(req.method === 'HEAD' ? undefined : manifest);
  });
  const repo = repoFor(t, srv.host);
  assert.deepEqual(await repo.resolve('v1'), mdesc);
  assert.deepEqual(srv.requests.map((r) => r.method), ['HEAD', 'GET']);
});

test('a manifest over 4 MiB is refused, declared or streamed', async (t) => {
  const big = Buffer.alloc(4 * 1024 * 1024 + 1, 0x20);
  const srv = await startTestServer(t, (req, res) => {
    if (req.url!.endsWith('/declared')) return res.writeHead(200, { 'content-type': MEDIA_TYPES.ociManifest, 'content-length': String(big.length) }).end(big);
    res.writeHead(200, { 'content-type': MEDIA_TYPES.ociManifest, 'transfer-encoding': 'chunked' });
    res.write(big.subarray(0, 3_000_000));
    res.end(big.subarray(3_000_000));
  });
  const repo = repoFor(t, srv.host);
  await assert.rejects(repo.fetchReference('declared'), isCode('E_SIZE_LIMIT'));
  await assert.rejects(repo.fetchReference('streamed'), isCode('E_SIZE_LIMIT'));
  await assert.rejects(repo.fetch({ ...mdesc, size: big.length }), isCode('E_SIZE_LIMIT'));
});

test('manifest digest mismatch: by digest, and by tag against Docker-Content-Digest', async (t) => {
  const other = Buffer.from('{"schemaVersion":2}');
  const srv = await startTestServer(t, (req, res) => {
    const byTag = req.url!.endsWith('/v1');
    res.writeHead(200, { 'content-type': MEDIA_TYPES.ociManifest, ...(byTag ? { 'docker-content-digest': mdesc.digest } : {}) }).end(other);
  });
  const repo = repoFor(t, srv.host);
  await assert.rejects(repo.fetch(mdesc), isCode('E_DIGEST_MISMATCH'));
  await assert.rejects(repo.fetchReference('v1'), isCode('E_DIGEST_MISMATCH'));
});

test('unknown tag: E_NOT_FOUND with the repo tags hint', async (t) => {
  const srv = await startTestServer(t, (_req, res) => res.writeHead(404, { 'content-type': 'application/json' }).end('{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}'));
  const repo = repoFor(t, srv.host);
  await assert.rejects(repo.resolve('nope'), (e: unknown) => isCode('E_NOT_FOUND')(e) && (e as WasmOciError).hint === `list tags with: wasm-oci repo tags ${srv.host}/filters/demo`);
});

test('manifest PUT: own Content-Type, by digest and by tag; the registry digest is checked', async (t) => {
  let answer = mdesc.digest;
  const srv = await startTestServer(t, (_req, res) => res.writeHead(201, { 'docker-content-digest': answer }).end());
  const repo = repoFor(t, srv.host);
  await repo.push(mdesc, manifest);
  await repo.pushReference(mdesc, manifest, 'v1');
  assert.deepEqual(srv.requests.map((r) => `${r.method} ${r.url} ${r.headers['content-type']}`), [
    `PUT /v2/filters/demo/manifests/${mdesc.digest} ${MEDIA_TYPES.ociManifest}`,
    `PUT /v2/filters/demo/manifests/v1 ${MEDIA_TYPES.ociManifest}`,
  ]);
  assert.ok(srv.requests[0]!.body.equals(manifest));
  answer = `sha256:${'f'.repeat(64)}`;
  await assert.rejects(repo.pushReference(mdesc, manifest, 'v2'), isCode('E_DIGEST_MISMATCH'));
  // Bytes that do not match their descriptor never leave.
  const before = srv.requests.length;
  await assert.rejects(repo.pushReference(mdesc, Buffer.from('{}'), 'v3'), (e: unknown) => e instanceof WasmOciError && (e.code === 'E_SIZE_MISMATCH' || e.code === 'E_DIGEST_MISMATCH'));
  assert.equal(srv.requests.length, before);
});

test('a registry refusing the media type: E_REGISTRY with the codes and the --profile compat hint', async (t) => {
  const srv = await startTestServer(t, (_req, res) => res.writeHead(400, { 'content-type': 'application/json' }).end('{"errors":[{"code":"MANIFEST_INVALID","message":"manifest invalid","detail":"unknown media type"}]}'));
  const repo = repoFor(t, srv.host);
  await assert.rejects(repo.pushReference(mdesc, manifest, 'v1'), (e: unknown) => {
    const err = e as WasmOciError;
    return isCode('E_REGISTRY', /^registry refused the manifest: MANIFEST_INVALID: manifest invalid/)(e) && err.hint?.includes('--profile compat') === true && err.registryCodes?.[0] === 'MANIFEST_INVALID';
  });
});

test('tag(): the manifest bytes are fetched by digest and PUT under the tag', async (t) => {
  const srv = await startTestServer(t, (req, res) => {
    if (req.method === 'GET') return res.writeHead(200, { 'content-type': MEDIA_TYPES.ociManifest }).end(manifest);
    res.writeHead(201).end();
  });
  const repo = repoFor(t, srv.host);
  await repo.tag(mdesc, 'stable');
  assert.deepEqual(srv.requests.map((r) => `${r.method} ${r.url}`), [`GET /v2/filters/demo/manifests/${mdesc.digest}`, 'PUT /v2/filters/demo/manifests/stable']);
  assert.ok(srv.requests[1]!.body.equals(manifest));
  await assert.rejects(repo.tag(mdesc, '../x'), isCode('E_REFERENCE'));
});

test('tag list: Link pagination followed to the end', async (t) => {
  const all = Array.from({ length: 7 }, (_, i) => `v${i}`);
  const srv = await startTestServer(t, (req, res) => {
    const url = new URL(req.url!, 'http://x');
    const n = Number(url.searchParams.get('n'));
    const last = url.searchParams.get('last');
    const from = last ? all.indexOf(last) + 1 : 0;
    const page = all.slice(from, from + n);
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (from + n < all.length) headers['link'] = `</v2/filters/demo/tags/list?n=${n}&last=${page.at(-1)}>; rel="next"`;
    res.writeHead(200, headers).end(JSON.stringify({ name: 'filters/demo', tags: page }));
  });
  const repo = repoFor(t, srv.host, { tagPageSize: 3 });
  assert.deepEqual(await repo.tags(), all);
  assert.equal(srv.requests.length, 3);
  assert.deepEqual(await repo.tags({ last: 'v4' }), ['v5', 'v6']);
});

test('tag list: a Link to another origin is refused', async (t) => {
  const srv = await startTestServer(t, (_req, res) => res.writeHead(200, { link: '<http://evil.example/v2/x/tags/list?last=a>; rel="next"' }).end('{"tags":["a"]}'));
  const repo = repoFor(t, srv.host);
  await assert.rejects(repo.tags(), isCode('E_INSECURE'));
  assert.equal(srv.requests.length, 1);
});

test('referrers: the API when there is one, filtered by artifactType', async (t) => {
  const refs = [
    { mediaType: MEDIA_TYPES.ociManifest, digest: `sha256:${'3'.repeat(64)}`, size: 5, artifactType: 'application/vnd.dev.sig' },
    { mediaType: MEDIA_TYPES.ociManifest, digest: `sha256:${'4'.repeat(64)}`, size: 6, artifactType: 'application/spdx+json' },
  ];
  const srv = await startTestServer(t, (_req, res) => res.writeHead(200, { 'content-type': MEDIA_TYPES.ociIndex }).end(JSON.stringify({ schemaVersion: 2, manifests: refs })));
  const repo = repoFor(t, srv.host);
  assert.deepEqual(await repo.referrers(mdesc), refs);
  assert.deepEqual(await repo.referrers(mdesc, { artifactType: 'application/spdx+json' }), [refs[1]]);
  assert.equal(srv.requests[0]!.url, `/v2/filters/demo/referrers/${mdesc.digest}`);
});

test('referrers: without the API (404, Distribution 2.8) the sha256-<hex> tag is read; none is an empty list', async (t) => {
  const refs = [{ mediaType: MEDIA_TYPES.ociManifest, digest: `sha256:${'5'.repeat(64)}`, size: 7, artifactType: 'application/vnd.dev.sig' }];
  const index = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MEDIA_TYPES.ociIndex, manifests: refs }));
  let tagExists = true;
  const srv = await startTestServer(t, (req, res) => {
    if (req.url!.includes('/referrers/')) return res.writeHead(404).end('404 page not found');
    if (tagExists && req.url!.endsWith(`/manifests/sha256-${mdesc.digest.slice(7)}`)) return res.writeHead(200, { 'content-type': MEDIA_TYPES.ociIndex }).end(index);
    return res.writeHead(404).end('{"errors":[{"code":"MANIFEST_UNKNOWN"}]}');
  });
  const repo = repoFor(t, srv.host);
  assert.deepEqual(await repo.referrers(mdesc), refs);
  tagExists = false;
  assert.deepEqual(await repo.referrers(mdesc), []);
});

test('delete: DELETE by digest; a registry with deletion disabled is E_UNSUPPORTED', async (t) => {
  let allowed = true;
  const srv = await startTestServer(t, (_req, res) => (allowed ? res.writeHead(202).end() : res.writeHead(405).end('{"errors":[{"code":"UNSUPPORTED","message":"The operation is unsupported."}]}')));
  const repo = repoFor(t, srv.host);
  await repo.delete(mdesc);
  assert.equal(srv.requests[0]!.method, 'DELETE');
  assert.equal(srv.requests[0]!.url, `/v2/filters/demo/manifests/${mdesc.digest}`);
  allowed = false;
  await assert.rejects(repo.delete(mdesc), isCode('E_UNSUPPORTED'));
});

test('invalid repository names and references never reach the URL', () => {
  assert.throws(() => createRepository({ registry: '127.0.0.1:1', repository: '../etc', plainHttp: true }), isCode('E_REFERENCE'));
  assert.throws(() => createRepository({ registry: '127.0.0.1:1', repository: 'UPPER', plainHttp: true }), isCode('E_REFERENCE'));
});
