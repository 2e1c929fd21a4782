import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { WasmOciError } from '../../src/errors.js';
import { createRegistry } from '../../src/registry/registry.js';
import { createRepository } from '../../src/registry/repository.js';
import { fakeClock, startTestServer } from '../helpers/http-test-server.js';
import { makeSelfSignedCert } from '../helpers/self-signed-cert.js';
import { makeTempDir } from '../helpers/tmp.js';

const isCode = (code: string) => (e: unknown) => e instanceof WasmOciError && e.code === code;

test('TLS: a self-signed registry is E_TLS with the --ca-file/--insecure hint; --ca-file and --insecure both work', async (t) => {
  const dir = await makeTempDir(t);
  const cert = await makeSelfSignedCert(dir, 'server');
  const srv = await startTestServer(t, (_req, res) => res.writeHead(200, { 'docker-distribution-api-version': 'registry/2.0' }).end('{}'), { tls: { cert: cert.certPem, key: cert.keyPem } });
  const plain = createRegistry({ registry: srv.host });
  t.after(() => plain.close());
  await assert.rejects(plain.ping(), (e: unknown) => isCode('E_TLS')(e) && /--ca-file FILE or --insecure/.test((e as WasmOciError).hint ?? ''));
  const withCa = createRegistry({ registry: srv.host, ca: cert.certPem });
  t.after(() => withCa.close());
  await withCa.ping();
  const insecure = createRegistry({ registry: srv.host, insecure: true });
  t.after(() => insecure.close());
  await insecure.ping();
});

test('TLS client against a plain HTTP server: E_NETWORK with a --plain-http hint', async (t) => {
  const srv = await startTestServer(t, (_req, res) => res.end('{}'));
  const reg = createRegistry({ registry: srv.host, clock: fakeClock() });
  t.after(() => reg.close());
  await assert.rejects(reg.ping(), (e: unknown) => isCode('E_NETWORK')(e) && /--plain-http/.test((e as WasmOciError).hint ?? ''));
});

test('connection refused: E_NETWORK at once, not retried', async (t) => {
  const srv = await startTestServer(t, (_req, res) => res.end());
  await srv.close();
  const clock = fakeClock();
  const reg = createRegistry({ registry: srv.host, plainHttp: true, clock });
  t.after(() => reg.close());
  await assert.rejects(reg.ping(), (e: unknown) => isCode('E_NETWORK')(e) && /refused/.test((e as Error).message));
  assert.deepEqual(clock.sleeps, []);
});

test('5xx is retried with back-off, then succeeds', async (t) => {
  let n = 0;
  const srv = await startTestServer(t, (_req, res) => {
    n++;
    if (n <= 2) res.writeHead(n === 1 ? 503 : 500).end('busy');
    else res.writeHead(200).end('{}');
  });
  const clock = fakeClock();
  const reg = createRegistry({ registry: srv.host, plainHttp: true, clock });
  t.after(() => reg.close());
  await reg.ping();
  assert.equal(srv.requests.length, 3);
  assert.equal(clock.sleeps.length, 2);
  assert.ok(clock.sleeps[1]! >= clock.sleeps[0]! / 2, 'delays grow');
});

test('429 with Retry-After (seconds, then HTTP date) is honoured', async (t) => {
  let n = 0;
  const srv = await startTestServer(t, (_req, res) => {
    n++;
    if (n === 1) res.writeHead(429, { 'retry-after': '2' }).end();
    else if (n === 2) res.writeHead(429, { 'retry-after': new Date(clock.now() + 5000).toUTCString() }).end();
    else res.writeHead(200).end('{}');
  });
  const clock = fakeClock();
  const reg = createRegistry({ registry: srv.host, plainHttp: true, clock });
  t.after(() => reg.close());
  await reg.ping();
  assert.equal(clock.sleeps[0], 2000);
  assert.ok(clock.sleeps[1]! > 3000 && clock.sleeps[1]! <= 5000, `slept ${clock.sleeps[1]}`);
});

test('attempts are bounded: persistent 503 ends as E_REGISTRY after maxAttempts', async (t) => {
  const srv = await startTestServer(t, (_req, res) => res.writeHead(503).end());
  const reg = createRegistry({ registry: srv.host, plainHttp: true, clock: fakeClock(), retry: { maxAttempts: 3 } });
  t.after(() => reg.close());
  await assert.rejects(reg.ping(), isCode('E_REGISTRY'));
  assert.equal(srv.requests.length, 3);
});

test('a request whose body cannot be replayed is not retried', async (t) => {
  const srv = await startTestServer(t, (req, res) => {
    if (req.method === 'POST') res.writeHead(202, { location: '/v2/a/blobs/uploads/u1' }).end();
    else res.writeHead(503).end();
  });
  const clock = fakeClock();
  const repo = createRepository({ registry: srv.host, repository: 'a', plainHttp: true, clock });
  t.after(() => repo.close());
  await assert.rejects(repo.pushUnknown('application/octet-stream', Readable.from([Buffer.from('hello')])), isCode('E_REGISTRY'));
  assert.equal(srv.requests.filter((r) => r.method === 'PATCH').length, 1);
  // The failed session is cancelled with one DELETE, itself never retried.
  assert.equal(srv.requests.filter((r) => r.method === 'DELETE').length, 1);
  assert.deepEqual(clock.sleeps, []);
});

test('a connection reset before the response is retried for a replayable request', async (t) => {
  let n = 0;
  const srv = await startTestServer(t, (req, res) => {
    n++;
    if (n === 1) {
      req.socket.destroy();
      return;
    }
    res.writeHead(200).end('{}');
  });
  const clock = fakeClock();
  const reg = createRegistry({ registry: srv.host, plainHttp: true, clock });
  t.after(() => reg.close());
  await reg.ping();
  assert.equal(clock.sleeps.length, 1);
});
