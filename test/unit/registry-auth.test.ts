import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { WasmOciError } from '../../src/errors.js';
import type { Credential } from '../../src/credentials/types.js';
import { createRegistry } from '../../src/registry/registry.js';
import { createRepository } from '../../src/registry/repository.js';
import { fakeClock, startTestServer, type TestServer } from '../helpers/http-test-server.js';
import { makeSelfSignedCert } from '../helpers/self-signed-cert.js';
import { makeTempDir } from '../helpers/tmp.js';

const isCode = (code: string, msg?: RegExp) => (e: unknown) => e instanceof WasmOciError && e.code === code && (!msg || msg.test(e.message));
const basic = (u: string, p: string) => `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}`;
const creds = (c: Credential) => async () => c;

/**
 * A registry whose token realm is on itself (`/token`): tokens are `tok-<n>` and carry the
 * scopes they were issued for, so the registry can refuse a token lacking a scope.
 */
async function tokenRegistry(t: { after(fn: () => unknown): void }, opts: {
  user?: string; password?: string; identityToken?: string;
  need?: (req: IncomingMessage) => string[];
  handle?: (req: IncomingMessage, res: ServerResponse, scopes: string[]) => void;
} = {}) {
  const issued = new Map<string, string[]>();
  let n = 0;
  let srv: TestServer;
  srv = await startTestServer(t, (req, res, body) => {
    const url = new URL(req.url!, 'http://x');
    if (url.pathname === '/token') {
      let scopes: string[];
      let ok: boolean;
      if (req.method === 'POST') {
        const form = new URLSearchParams(body.toString());
        scopes = (form.get('scope') ?? '').split(' ').filter(Boolean);
        ok = form.get('grant_type') === 'refresh_token' && form.get('refresh_token') === opts.identityToken;
      } else {
        scopes = url.searchParams.getAll('scope');
        ok = opts.user === undefined || req.headers.authorization === basic(opts.user, opts.password ?? '');
      }
      if (!ok) return res.writeHead(401).end('{"errors":[{"code":"UNAUTHORIZED"}]}');
      const token = `tok-${++n}`;
      issued.set(token, scopes);
      return res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(req.method === 'POST' ? { access_token: token, expires_in: 300 } : { token }));
    }
    const need = opts.need?.(req) ?? [];
    const auth = req.headers.authorization ?? '';
    const have = auth.startsWith('Bearer ') ? issued.get(auth.slice(7)) : undefined;
    const challenge = `Bearer realm="http://${srv.host}/token",service="test-registry"${need.length ? `,scope="${need.join(' ')}"` : ''}`;
    if (!have) return res.writeHead(401, { 'www-authenticate': challenge }).end('{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}');
    const covered = need.every((s) => {
      const [type, name, actions] = [s.split(':')[0], s.split(':').slice(1, -1).join(':'), s.split(':').at(-1)!.split(',')];
      return actions.every((a) => have.some((h) => h.startsWith(`${type}:${name}:`) && h.split(':').at(-1)!.split(',').includes(a)));
    });
    if (!covered) return res.writeHead(401, { 'www-authenticate': `${challenge},error="insufficient_scope"` }).end('{"errors":[{"code":"DENIED"}]}');
    if (opts.handle) return opts.handle(req, res, have);
    return res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ name: 'a', tags: ['v1'] }));
  });
  return { srv, issued, tokenRequests: () => srv.requests.filter((r) => r.url.startsWith('/token')) };
}

test('bearer: token GET with service and repeated scope, Basic credentials attached', async (t) => {
  const { srv, tokenRequests } = await tokenRegistry(t, { user: 'alice', password: 's3cret', need: () => ['repository:a:pull'] });
  const repo = createRepository({ registry: srv.host, repository: 'a', plainHttp: true, credentials: creds({ username: 'alice', password: 's3cret' }), clock: fakeClock() });
  t.after(() => repo.close());
  assert.deepEqual(await repo.tags(), ['v1']);
  const [tr] = tokenRequests();
  const q = new URL(tr!.url, 'http://x').searchParams;
  assert.equal(q.get('service'), 'test-registry');
  assert.deepEqual(q.getAll('scope'), ['repository:a:pull']);
  assert.equal(tr!.headers.authorization, basic('alice', 's3cret'));
  // A mount needs two resources: both scopes go as repeated `scope` parameters.
  srv.requests.length = 0;
  await repo.mount({ mediaType: 'application/octet-stream', digest: `sha256:${'a'.repeat(64)}`, size: 1 }, 'b').catch(() => undefined);
  const scopes = new URL(tokenRequests()[0]!.url, 'http://x').searchParams.getAll('scope');
  assert.deepEqual(scopes, ['repository:a:pull,push', 'repository:b:pull']);
});

test('bearer: the token cache serves the same scopes again without a token request or a 401', async (t) => {
  const { srv, tokenRequests } = await tokenRegistry(t, { need: () => ['repository:a:pull'] });
  const repo = createRepository({ registry: srv.host, repository: 'a', plainHttp: true, clock: fakeClock() });
  t.after(() => repo.close());
  await repo.tags();
  await repo.tags();
  assert.equal(tokenRequests().length, 1);
  const registryCalls = srv.requests.filter((r) => !r.url.startsWith('/token'));
  assert.deepEqual(registryCalls.map((r) => r.headers.authorization === undefined), [true, false, false]);
});

test('bearer: identity token goes by OAuth2 POST with grant_type=refresh_token; access_token accepted', async (t) => {
  const { srv, tokenRequests } = await tokenRegistry(t, { identityToken: 'refresh-xyz', need: () => ['repository:a:pull'] });
  const repo = createRepository({ registry: srv.host, repository: 'a', plainHttp: true, credentials: creds({ identityToken: 'refresh-xyz' }), clock: fakeClock() });
  t.after(() => repo.close());
  assert.deepEqual(await repo.tags(), ['v1']);
  const [tr] = tokenRequests();
  assert.equal(tr!.method, 'POST');
  assert.equal(tr!.headers['content-type'], 'application/x-www-form-urlencoded');
  const form = new URLSearchParams(tr!.body.toString());
  assert.equal(form.get('grant_type'), 'refresh_token');
  assert.equal(form.get('refresh_token'), 'refresh-xyz');
  assert.equal(form.get('service'), 'test-registry');
  assert.equal(form.get('scope'), 'repository:a:pull');
});

test('bearer: one more token round on 401 insufficient_scope', async (t) => {
  let first = true;
  const { srv, tokenRequests } = await tokenRegistry(t, {
    need: () => {
      // The first challenge under-states the scope; the registry then insists on push too.
      if (first) {
        first = false;
        return ['repository:a:pull'];
      }
      return ['repository:a:pull,push'];
    },
  });
  const reg = createRegistry({ registry: srv.host, plainHttp: true, clock: fakeClock() });
  t.after(() => reg.close());
  assert.deepEqual(await reg.repository('a').tags(), ['v1']);
  const scopes = tokenRequests().map((r) => new URL(r.url, 'http://x').searchParams.getAll('scope'));
  assert.deepEqual(scopes, [['repository:a:pull'], ['repository:a:pull,push']]);
});

test('bearer: wrong password is E_AUTH "rejected"; no credentials on a protected repository is E_AUTH "no credentials"', async (t) => {
  const { srv } = await tokenRegistry(t, { user: 'alice', password: 'right', need: () => ['repository:a:pull'] });
  const wrong = createRepository({ registry: srv.host, repository: 'a', plainHttp: true, credentials: creds({ username: 'alice', password: 'wrong' }), clock: fakeClock() });
  t.after(() => wrong.close());
  await assert.rejects(wrong.tags(), isCode('E_AUTH', /rejected the credentials for user "alice"/));
  const anon = createRepository({ registry: srv.host, repository: 'a', plainHttp: true, clock: fakeClock() });
  t.after(() => anon.close());
  await assert.rejects(anon.tags(), isCode('E_AUTH', /no credentials/));
});

test('login check: checkCredentials passes with the right password and fails with E_AUTH otherwise', async (t) => {
  const { srv } = await tokenRegistry(t, { user: 'alice', password: 'right' });
  const reg = createRegistry({ registry: srv.host, plainHttp: true, clock: fakeClock() });
  t.after(() => reg.close());
  await reg.checkCredentials({ username: 'alice', password: 'right' });
  await assert.rejects(reg.checkCredentials({ username: 'alice', password: 'nope' }), isCode('E_AUTH'));
});

test('basic: challenge answered with the credential; wrong ones E_AUTH; 403 is E_FORBIDDEN', async (t) => {
  const srv = await startTestServer(t, (req, res) => {
    if (req.url!.startsWith('/v2/forbidden/')) return res.writeHead(403).end('{"errors":[{"code":"DENIED","message":"no"}]}');
    if (req.headers.authorization === basic('bob', 'pw')) return res.writeHead(200).end('{"tags":["x"]}');
    return res.writeHead(401, { 'www-authenticate': 'Basic realm="Registry"' }).end();
  });
  const ok = createRepository({ registry: srv.host, repository: 'a', plainHttp: true, credentials: creds({ username: 'bob', password: 'pw' }), clock: fakeClock() });
  t.after(() => ok.close());
  assert.deepEqual(await ok.tags(), ['x']);
  assert.deepEqual(await ok.tags(), ['x']);
  // After the first challenge Basic is sent up front.
  assert.deepEqual(srv.requests.map((r) => r.headers.authorization !== undefined), [false, true, true]);
  const bad = createRepository({ registry: srv.host, repository: 'a', plainHttp: true, credentials: creds({ username: 'bob', password: 'bad' }), clock: fakeClock() });
  t.after(() => bad.close());
  await assert.rejects(bad.tags(), isCode('E_AUTH', /rejected/));
  const forbidden = createRepository({ registry: srv.host, repository: 'forbidden', plainHttp: true, credentials: creds({ username: 'bob', password: 'pw' }), clock: fakeClock() });
  t.after(() => forbidden.close());
  await assert.rejects(forbidden.tags(), isCode('E_FORBIDDEN'));
});

test('realm downgrade: an HTTPS registry pointing at an http:// realm is refused before any token request', async (t) => {
  const dir = await makeTempDir(t);
  const cert = await makeSelfSignedCert(dir, 'server');
  const srv = await startTestServer(t, (_req, res) => res.writeHead(401, { 'www-authenticate': `Bearer realm="http://127.0.0.1:1/token",service="s"` }).end(), { tls: { cert: cert.certPem, key: cert.keyPem } });
  const repo = createRepository({ registry: srv.host, repository: 'a', ca: cert.certPem, credentials: creds({ username: 'u', password: 'p' }), clock: fakeClock() });
  t.after(() => repo.close());
  await assert.rejects(repo.tags(), isCode('E_INSECURE', /downgrade/));
  assert.equal(srv.requests.length, 1);
});

test('realm on a private address other than the registry host is refused', async (t) => {
  const srv = await startTestServer(t, (_req, res) => res.writeHead(401, { 'www-authenticate': 'Bearer realm="http://10.255.255.1/token",service="s"' }).end());
  const repo = createRepository({ registry: srv.host, repository: 'a', plainHttp: true, credentials: creds({ username: 'u', password: 'p' }), clock: fakeClock() });
  t.after(() => repo.close());
  await assert.rejects(repo.tags(), isCode('E_INSECURE', /private address/));
});

test('debug lines never carry passwords, tokens, Authorization or presigned-URL signatures', async (t) => {
  const blob = Buffer.from('blob-content');
  const { createHash } = await import('node:crypto');
  const digest = `sha256:${createHash('sha256').update(blob).digest('hex')}`;
  const cdn = await startTestServer(t, (_req, res) => res.writeHead(200).end(blob));
  const { srv } = await tokenRegistry(t, {
    user: 'alice', password: 'hunter2-password',
    need: () => ['repository:a:pull'],
    handle: (req, res) => {
      if (req.url!.includes('/blobs/')) return res.writeHead(307, { location: `http://localhost:${cdn.port}/b?X-Amz-Signature=sig-SECRET&token=qs-SECRET` }).end();
      return res.writeHead(200).end('{"tags":[]}');
    },
  });
  const lines: string[] = [];
  const repo = createRepository({ registry: srv.host, repository: 'a', plainHttp: true, credentials: creds({ username: 'alice', password: 'hunter2-password' }), clock: fakeClock(), onDebug: (l) => lines.push(l) });
  t.after(() => repo.close());
  const stream = await repo.fetch({ mediaType: 'application/octet-stream', digest, size: blob.length });
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  assert.deepEqual(Buffer.concat(chunks), blob);
  const text = lines.join('\n');
  assert.ok(lines.some((l) => l.startsWith('> GET ')) && lines.some((l) => l.startsWith('< 200')), text);
  assert.ok(/authorization: Bearer <redacted>/.test(text), 'the scheme is shown, the token is not');
  for (const secret of ['hunter2', basic('alice', 'hunter2-password').slice(6), 'tok-1', 'sig-SECRET', 'qs-SECRET']) {
    assert.ok(!text.includes(secret), `debug output contains ${secret}`);
  }
  // The CDN got no Authorization header.
  assert.equal(cdn.requests[0]!.headers.authorization, undefined);
});

test('bearer: forceOAuth2 sends username/password as an OAuth2 password grant; a registryToken is used as is', async (t) => {
  const srv = await startTestServer(t, (req, res, body) => {
    if (req.url === '/token') {
      const form = new URLSearchParams(body.toString());
      const ok = req.method === 'POST' && form.get('grant_type') === 'password' && form.get('username') === 'carol' && form.get('password') === 'pw';
      return ok ? res.writeHead(200).end('{"access_token":"oauth-tok"}') : res.writeHead(401).end();
    }
    if (req.headers.authorization === 'Bearer oauth-tok' || req.headers.authorization === 'Bearer given-tok') return res.writeHead(200).end('{"tags":["t"]}');
    return res.writeHead(401, { 'www-authenticate': `Bearer realm="http://${srv.host}/token",service="s",scope="repository:a:pull"` }).end();
  });
  const oauth = createRepository({ registry: srv.host, repository: 'a', plainHttp: true, forceOAuth2: true, credentials: creds({ username: 'carol', password: 'pw' }), clock: fakeClock() });
  t.after(() => oauth.close());
  assert.deepEqual(await oauth.tags(), ['t']);
  const given = createRepository({ registry: srv.host, repository: 'a', plainHttp: true, credentials: creds({ registryToken: 'given-tok' }), clock: fakeClock() });
  t.after(() => given.close());
  const before = srv.requests.filter((r) => r.url === '/token').length;
  assert.deepEqual(await given.tags(), ['t']);
  assert.equal(srv.requests.filter((r) => r.url === '/token').length, before, 'no token request for a registry token');
});

test('a refused credential is forgotten: the next request reads the source again (a rotated pull secret), one that works is read once', async (t) => {
  // Basic: the registry's password changes from `old` to `new`, then the source does.
  let password = 'old';
  const srv = await startTestServer(t, (req, res) => {
    if (req.headers.authorization === basic('bob', password)) return res.writeHead(200).end('{"tags":["x"]}');
    return res.writeHead(401, { 'www-authenticate': 'Basic realm="Registry"' }).end();
  });
  let source = 'old';
  let reads = 0;
  const repo = createRepository({ registry: srv.host, repository: 'a', plainHttp: true, credentials: async () => { reads++; return { username: 'bob', password: source }; }, clock: fakeClock() });
  t.after(() => repo.close());
  assert.deepEqual(await repo.tags(), ['x']);
  assert.deepEqual(await repo.tags(), ['x']);
  assert.equal(reads, 1, 'a credential that works is read once');
  password = 'new';
  await assert.rejects(repo.tags(), isCode('E_AUTH', /rejected/));
  source = 'new';
  assert.deepEqual(await repo.tags(), ['x'], 'the rotated credential is read and used');
  assert.equal(reads, 2);

  // Bearer: the token server refuses the old password; the source then has the new one.
  const tokens = await tokenRegistry(t, { user: 'alice', password: 'new', need: () => ['repository:a:pull'] });
  let tokenSource = 'old';
  let tokenReads = 0;
  const bearer = createRepository({ registry: tokens.srv.host, repository: 'a', plainHttp: true, credentials: async () => { tokenReads++; return { username: 'alice', password: tokenSource }; }, clock: fakeClock() });
  t.after(() => bearer.close());
  await assert.rejects(bearer.tags(), isCode('E_AUTH', /rejected the credentials/));
  tokenSource = 'new';
  assert.deepEqual(await bearer.tags(), ['v1']);
  assert.equal(tokenReads, 2);
});
