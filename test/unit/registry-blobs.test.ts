import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { WasmOciError } from '../../src/errors.js';
import { createRepository } from '../../src/registry/repository.js';
import { fakeClock, startTestServer } from '../helpers/http-test-server.js';

const isCode = (code: string, msg?: RegExp) => (e: unknown) => e instanceof WasmOciError && e.code === code && (!msg || msg.test(e.message));
const sha = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const blobDesc = (b: Buffer) => ({ mediaType: 'application/vnd.module.wasm.content.layer.v1+wasm', digest: sha(b), size: b.length });
const basic = `Basic ${Buffer.from('u:p').toString('base64')}`;

async function readAll(s: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of s) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

test('blob GET: a redirect to another origin is followed without the Authorization header', async (t) => {
  const blob = Buffer.from('wasm module bytes');
  const cdn = await startTestServer(t, (_req, res) => res.writeHead(200).end(blob));
  const srv = await startTestServer(t, (req, res) => {
    if (req.headers.authorization !== basic) return res.writeHead(401, { 'www-authenticate': 'Basic realm="r"' }).end();
    res.writeHead(307, { location: `http://localhost:${cdn.port}/bucket/blob?sig=1` }).end();
  });
  const repo = createRepository({ registry: srv.host, repository: 'a', plainHttp: true, credentials: async () => ({ username: 'u', password: 'p' }), clock: fakeClock() });
  t.after(() => repo.close());
  assert.deepEqual(await readAll(await repo.fetch(blobDesc(blob))), blob);
  assert.equal(srv.requests.at(-1)!.headers.authorization, basic);
  assert.equal(cdn.requests.length, 1);
  assert.equal(cdn.requests[0]!.headers.authorization, undefined);
  assert.equal(cdn.requests[0]!.url, '/bucket/blob?sig=1');
});

test('blob GET: a connection reset mid-blob is resumed with Range and the same hash', async (t) => {
  const blob = Buffer.alloc(300_000);
  for (let i = 0; i < blob.length; i++) blob[i] = (i * 7) % 251;
  const srv = await startTestServer(t, (req, res) => {
    const range = req.headers.range;
    if (!range) {
      res.writeHead(200, { 'content-length': String(blob.length) });
      res.write(blob.subarray(0, 100_000), () => setTimeout(() => res.destroy(), 20));
      return;
    }
    const start = Number(/^bytes=(\d+)-$/.exec(range)![1]);
    res.writeHead(206, { 'content-range': `bytes ${start}-${blob.length - 1}/${blob.length}`, 'content-length': String(blob.length - start) }).end(blob.subarray(start));
  });
  const clock = fakeClock();
  const repo = createRepository({ registry: srv.host, repository: 'a', plainHttp: true, clock });
  t.after(() => repo.close());
  const progress: number[] = [];
  const got = await readAll(await repo.fetch(blobDesc(blob), { onProgress: (_d, n) => progress.push(n) }));
  assert.ok(got.equals(blob));
  assert.equal(srv.requests.length, 2);
  const start = Number(/^bytes=(\d+)-$/.exec(srv.requests[1]!.headers.range as string)![1]);
  assert.ok(start > 0 && start <= 100_000, `resumed at ${start}`);
  assert.equal(progress.at(-1), blob.length);
});

test('blob GET: a server that ignores Range is read again from the start, delivered bytes skipped', async (t) => {
  const blob = Buffer.from('0123456789'.repeat(20_000));
  let n = 0;
  const srv = await startTestServer(t, (_req, res) => {
    n++;
    res.writeHead(200, { 'content-length': String(blob.length) });
    if (n === 1) res.write(blob.subarray(0, 50_000), () => setTimeout(() => res.destroy(), 20));
    else res.end(blob);
  });
  const repo = createRepository({ registry: srv.host, repository: 'a', plainHttp: true, clock: fakeClock() });
  t.after(() => repo.close());
  assert.ok((await readAll(await repo.fetch(blobDesc(blob)))).equals(blob));
});

test('blob GET: content that does not match the digest fails with E_DIGEST_MISMATCH, too much with E_SIZE_MISMATCH', async (t) => {
  const blob = Buffer.from('expected');
  const srv = await startTestServer(t, (req, res) => res.writeHead(200).end(req.url!.includes('big') ? 'expected-and-more' : 'tampered'));
  const repo = createRepository({ registry: srv.host, repository: 'a', plainHttp: true, clock: fakeClock() });
  t.after(() => repo.close());
  await assert.rejects(readAll(await repo.fetch(blobDesc(blob))), isCode('E_DIGEST_MISMATCH'));
  const big = createRepository({ registry: srv.host, repository: 'big', plainHttp: true, clock: fakeClock() });
  t.after(() => big.close());
  await assert.rejects(readAll(await big.fetch(blobDesc(blob))), isCode('E_SIZE_MISMATCH'));
});

test('blob GET: 404 is E_NOT_FOUND from fetch itself', async (t) => {
  const srv = await startTestServer(t, (_req, res) => res.writeHead(404, { 'content-type': 'application/json' }).end('{"errors":[{"code":"BLOB_UNKNOWN","message":"blob unknown to registry"}]}'));
  const repo = createRepository({ registry: srv.host, repository: 'a', plainHttp: true, clock: fakeClock() });
  t.after(() => repo.close());
  await assert.rejects(repo.fetch(blobDesc(Buffer.from('x'))), (e: unknown) => isCode('E_NOT_FOUND')(e) && (e as WasmOciError).registryCodes?.[0] === 'BLOB_UNKNOWN');
});

/** A minimal upload endpoint: sessions with a new Location on every step, checked Content-Range. */
function uploadServer(opts: { location: (host: string, id: string, step: number) => string; minChunk?: number }) {
  const sessions = new Map<string, Buffer>();
  let step = 0;
  let ids = 0;
  return (host: () => string) => (req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse, body: Buffer) => {
    const url = new URL(req.url!, 'http://x');
    if (req.method === 'POST') {
      const id = `s${++ids}`;
      sessions.set(id, Buffer.alloc(0));
      const headers: Record<string, string> = { location: opts.location(host(), id, step++), range: '0-0' };
      if (opts.minChunk) headers['oci-chunk-min-length'] = String(opts.minChunk);
      return res.writeHead(202, headers).end();
    }
    const id = url.searchParams.get('id') ?? url.pathname.split('/').pop()!;
    const have = sessions.get(id);
    if (!have) return res.writeHead(404).end('{"errors":[{"code":"BLOB_UPLOAD_UNKNOWN"}]}');
    if (req.method === 'PATCH') {
      const cr = req.headers['content-range'];
      if (cr !== undefined) {
        const [s, e] = String(cr).split('-').map(Number);
        if (s !== have.length || e! - s! + 1 !== body.length) return res.writeHead(416).end();
      }
      const next = Buffer.concat([have, body]);
      sessions.set(id, next);
      return res.writeHead(202, { location: opts.location(host(), id, step++), range: `0-${next.length - 1}` }).end();
    }
    if (req.method === 'PUT') {
      const all = Buffer.concat([have, body]);
      const digest = url.searchParams.get('digest');
      if (digest !== sha(all)) return res.writeHead(400).end('{"errors":[{"code":"DIGEST_INVALID","message":"provided digest did not match uploaded content"}]}');
      return res.writeHead(201, { 'docker-content-digest': digest, location: `/v2/a/blobs/${digest}` }).end();
    }
    return res.writeHead(405).end();
  };
}

test('monolithic upload: POST then one PUT ?digest= to a relative Location, its query kept', async (t) => {
  const blob = Buffer.from('a small wasm filter');
  let host = '';
  const srv = await startTestServer(t, uploadServer({ location: (_h, id) => `/v2/a/blobs/uploads/${id}?_state=signed-state&id=${id}` })(() => host));
  host = srv.host;
  const repo = createRepository({ registry: srv.host, repository: 'a', plainHttp: true, clock: fakeClock() });
  t.after(() => repo.close());
  await repo.push(blobDesc(blob), async () => Readable.from([blob]));
  assert.deepEqual(srv.requests.map((r) => r.method), ['POST', 'PUT']);
  assert.equal(srv.requests[0]!.url, '/v2/a/blobs/uploads/');
  const put = new URL(srv.requests[1]!.url, 'http://x');
  assert.equal(put.pathname, '/v2/a/blobs/uploads/s1');
  assert.equal(put.searchParams.get('_state'), 'signed-state');
  assert.equal(put.searchParams.get('digest'), sha(blob));
  assert.equal(srv.requests[1]!.headers['content-length'], String(blob.length));
  assert.equal(srv.requests[1]!.headers['content-type'], 'application/octet-stream');
  assert.ok(srv.requests[1]!.body.equals(blob));
});

test('monolithic upload: an absolute Location works; a Location on another origin is refused', async (t) => {
  const blob = Buffer.from('bytes');
  let host = '';
  const srv = await startTestServer(t, uploadServer({ location: (h, id) => `http://${h}/v2/a/blobs/uploads/${id}` })(() => host));
  host = srv.host;
  const repo = createRepository({ registry: srv.host, repository: 'a', plainHttp: true, clock: fakeClock() });
  t.after(() => repo.close());
  await repo.push(blobDesc(blob), blob);
  assert.deepEqual(srv.requests.map((r) => r.method), ['POST', 'PUT']);

  const evil = await startTestServer(t, uploadServer({ location: (_h, id) => `http://evil.example:9/v2/a/blobs/uploads/${id}` })(() => ''));
  const victim = createRepository({ registry: evil.host, repository: 'a', plainHttp: true, clock: fakeClock() });
  t.after(() => victim.close());
  await assert.rejects(victim.push(blobDesc(blob), blob), isCode('E_INSECURE', /another origin/));
  assert.deepEqual(evil.requests.map((r) => r.method), ['POST']);
});

test('upload: a digest the registry does not agree with is E_DIGEST_MISMATCH', async (t) => {
  let host = '';
  const srv = await startTestServer(t, uploadServer({ location: (_h, id) => `/v2/a/blobs/uploads/${id}` })(() => host));
  host = srv.host;
  const repo = createRepository({ registry: srv.host, repository: 'a', plainHttp: true, clock: fakeClock() });
  t.after(() => repo.close());
  const desc = { ...blobDesc(Buffer.from('one')), size: 3 };
  await assert.rejects(repo.push(desc, Buffer.from('two')), isCode('E_DIGEST_MISMATCH'));
});

test('chunked upload: PATCH with Content-Range to the newest Location each time, then PUT ?digest=', async (t) => {
  const blob = Buffer.from('0123456789');
  let host = '';
  const srv = await startTestServer(t, uploadServer({ location: (_h, id, step) => `/v2/a/blobs/uploads/${id}?step=${step}` })(() => host));
  host = srv.host;
  const repo = createRepository({ registry: srv.host, repository: 'a', plainHttp: true, clock: fakeClock(), monolithicMaxBytes: 4, chunkSize: 4 });
  t.after(() => repo.close());
  await repo.push(blobDesc(blob), async (offset = 0) => Readable.from([blob.subarray(offset)]));
  assert.deepEqual(srv.requests.map((r) => `${r.method} ${r.url.replace(/digest=[^&]+/, 'digest=D')} ${r.headers['content-range'] ?? ''}`.trim()), [
    'POST /v2/a/blobs/uploads/',
    'PATCH /v2/a/blobs/uploads/s1?step=0 0-3',
    'PATCH /v2/a/blobs/uploads/s1?step=1 4-7',
    'PATCH /v2/a/blobs/uploads/s1?step=2 8-9',
    'PUT /v2/a/blobs/uploads/s1?step=3&digest=D',
  ]);
  assert.deepEqual(srv.requests.slice(1, 4).map((r) => r.headers['content-length']), ['4', '4', '2']);
});

test('chunked upload honours OCI-Chunk-Min-Length', async (t) => {
  const blob = Buffer.from('0123456789');
  let host = '';
  const srv = await startTestServer(t, uploadServer({ location: (_h, id) => `/v2/a/blobs/uploads/${id}`, minChunk: 6 })(() => host));
  host = srv.host;
  const repo = createRepository({ registry: srv.host, repository: 'a', plainHttp: true, clock: fakeClock(), monolithicMaxBytes: 4, chunkSize: 4 });
  t.after(() => repo.close());
  await repo.push(blobDesc(blob), blob);
  assert.deepEqual(srv.requests.filter((r) => r.method === 'PATCH').map((r) => r.headers['content-range']), ['0-5', '6-9']);
});

test('pushUnknown: one pass, hashed on the way, PUT with the computed digest', async (t) => {
  const blob = Buffer.from('content whose digest nobody knew');
  let host = '';
  const srv = await startTestServer(t, uploadServer({ location: (_h, id) => `/v2/a/blobs/uploads/${id}` })(() => host));
  host = srv.host;
  const repo = createRepository({ registry: srv.host, repository: 'a', plainHttp: true, clock: fakeClock() });
  t.after(() => repo.close());
  const desc = await repo.pushUnknown('application/wasm', Readable.from([blob.subarray(0, 5), blob.subarray(5)]));
  assert.deepEqual(desc, { mediaType: 'application/wasm', digest: sha(blob), size: blob.length });
  assert.deepEqual(srv.requests.map((r) => r.method), ['POST', 'PATCH', 'PUT']);
});

test('mount: 201 is mounted; 202 is not (the session is cancelled, the caller uploads)', async (t) => {
  const desc = blobDesc(Buffer.from('shared layer'));
  const srv = await startTestServer(t, (req, res) => {
    const url = new URL(req.url!, 'http://x');
    if (req.method === 'DELETE') return res.writeHead(204).end();
    if (url.searchParams.get('from') === 'src') return res.writeHead(201, { location: `/v2/dst/blobs/${desc.digest}`, 'docker-content-digest': desc.digest }).end();
    return res.writeHead(202, { location: '/v2/dst/blobs/uploads/s9' }).end();
  });
  const repo = createRepository({ registry: srv.host, repository: 'dst', plainHttp: true, clock: fakeClock() });
  t.after(() => repo.close());
  assert.equal(await repo.mount(desc, 'src'), true);
  const q = new URL(srv.requests[0]!.url, 'http://x').searchParams;
  assert.equal(q.get('mount'), desc.digest);
  assert.equal(q.get('from'), 'src');
  assert.equal(await repo.mount(desc, 'elsewhere'), false);
  assert.deepEqual(srv.requests.map((r) => r.method), ['POST', 'POST', 'DELETE']);
});

test('exists: HEAD 200 true, 404 false, routed by media type', async (t) => {
  const srv = await startTestServer(t, (req, res) => res.writeHead(req.url!.includes('/manifests/') ? 200 : 404).end());
  const repo = createRepository({ registry: srv.host, repository: 'a', plainHttp: true, clock: fakeClock() });
  t.after(() => repo.close());
  const digest = `sha256:${'b'.repeat(64)}`;
  assert.equal(await repo.exists({ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest, size: 2 }), true);
  assert.equal(await repo.exists({ mediaType: 'application/wasm', digest, size: 2 }), false);
  assert.deepEqual(srv.requests.map((r) => `${r.method} ${r.url}`), [`HEAD /v2/a/manifests/${digest}`, `HEAD /v2/a/blobs/${digest}`]);
});

test('a registry refusing one big PUT (413) gets the blob in PATCH chunks instead', async (t) => {
  const blob = Buffer.from('x'.repeat(100));
  let host = '';
  const inner = uploadServer({ location: (_h, id) => `/v2/a/blobs/uploads/${id}` })(() => host);
  const srv = await startTestServer(t, (req, res, body) => {
    if (req.method === 'PUT' && body.length > 0) return res.writeHead(413).end();
    return inner(req, res, body);
  });
  host = srv.host;
  const repo = createRepository({ registry: srv.host, repository: 'a', plainHttp: true, clock: fakeClock() });
  t.after(() => repo.close());
  await repo.push(blobDesc(blob), blob);
  // The refused session is cancelled (DELETE) before the chunked one opens.
  assert.deepEqual(srv.requests.map((r) => r.method), ['POST', 'PUT', 'DELETE', 'POST', 'PATCH', 'PUT']);
});
