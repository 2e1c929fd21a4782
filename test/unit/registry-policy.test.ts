import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WasmOciError } from '../../src/errors.js';
import { checkTokenRealm, classifyHost } from '../../src/registry/auth-policy.js';
import { redactUrl, redactHeader } from '../../src/registry/redact.js';
import { cleanScopes } from '../../src/registry/scope.js';
import { parseRetryAfter, backoffDelay, resolveRetryPolicy } from '../../src/registry/retry.js';
import { nextPageUrl } from '../../src/registry/pagination.js';
import { parseDistributionErrors } from '../../src/registry/response-error.js';

const insecure = (e: unknown) => e instanceof WasmOciError && e.code === 'E_INSECURE';

test('token realm: another public host is normal (Docker Hub)', () => {
  checkTokenRealm(new URL('https://auth.docker.io/token'), new URL('https://registry-1.docker.io'));
});

test('token realm: HTTPS registry with an http:// realm is refused', () => {
  assert.throws(() => checkTokenRealm(new URL('http://auth.example.com/token'), new URL('https://registry.example.com')), insecure);
});

test('token realm: private and loopback realms refused unless the registry host itself', () => {
  for (const realm of ['https://10.0.0.5/token', 'https://192.168.1.1/t', 'https://172.20.0.1/t', 'https://169.254.169.254/latest', 'https://[fd00::1]/t', 'https://127.0.0.1/t', 'https://localhost/t', 'https://[::ffff:10.1.2.3]/t']) {
    assert.throws(() => checkTokenRealm(new URL(realm), new URL('https://registry.example.com')), insecure, realm);
  }
  checkTokenRealm(new URL('https://10.0.0.5:5001/token'), new URL('https://10.0.0.5:5000'));
  // The registry's own host on another port is its own token service (the test bed's setup);
  // another loopback name is another host (DESIGN.md section 7).
  checkTokenRealm(new URL('http://127.0.0.1:9999/token'), new URL('http://127.0.0.1:5000'));
  assert.throws(() => checkTokenRealm(new URL('http://127.0.0.1:9999/token'), new URL('http://localhost:5000')), insecure);
  assert.throws(() => checkTokenRealm(new URL('https://10.0.0.6/token'), new URL('https://10.0.0.5')), insecure);
  assert.throws(() => checkTokenRealm(new URL('file:///etc/passwd'), new URL('https://r.example')), insecure);
});

test('classifyHost: literal addresses only', () => {
  assert.equal(classifyHost('127.0.0.1'), 'loopback');
  assert.equal(classifyHost('[::1]'), 'loopback');
  assert.equal(classifyHost('foo.localhost'), 'loopback');
  assert.equal(classifyHost('100.64.0.1'), 'private');
  assert.equal(classifyHost('[fe80::1]'), 'private');
  assert.equal(classifyHost('8.8.8.8'), 'public');
  assert.equal(classifyHost('ghcr.io'), 'public');
});

test('redactUrl: signatures, tokens, passwords and user info never printed', () => {
  const url = 'https://user:pw@s3.example.com/blob?X-Amz-Signature=abc123&X-Amz-Credential=AKIA&token=t0k&access_token=at&password=pw2&digest=sha256%3Aaa&n=5';
  const out = redactUrl(url);
  for (const secret of ['abc123', 'AKIA', 't0k', '=at', 'pw2', ':pw@']) assert.ok(!out.includes(secret), `${secret} in ${out}`);
  assert.ok(out.includes('digest=sha256%3Aaa'));
  assert.ok(out.includes('n=5'));
  assert.equal(redactHeader('Authorization', 'Bearer eyJhbGciOi'), 'Bearer <redacted>');
});

test('cleanScopes merges actions per resource and sorts', () => {
  assert.deepEqual(cleanScopes(['repository:b:push', 'repository:a:pull', 'repository:b:pull', 'repository:a:pull']), ['repository:a:pull', 'repository:b:pull,push']);
  assert.deepEqual(cleanScopes(['registry:catalog:*', 'registry:catalog:pull']), ['registry:catalog:*']);
  assert.deepEqual(cleanScopes(['repository:host:5000/x:pull']), ['repository:host:5000/x:pull']);
});

test('Retry-After as seconds and as an HTTP date', () => {
  const now = Date.parse('Wed, 21 Oct 2015 07:28:00 GMT');
  assert.equal(parseRetryAfter('3', now), 3000);
  assert.equal(parseRetryAfter('Wed, 21 Oct 2015 07:28:07 GMT', now), 7000);
  assert.equal(parseRetryAfter('Wed, 21 Oct 2015 07:27:00 GMT', now), 0);
  assert.equal(parseRetryAfter('soon', now), undefined);
});

test('back-off grows exponentially with jitter and stays under the cap', () => {
  const p = resolveRetryPolicy({ baseDelayMs: 100, maxDelayMs: 1000, random: () => 0.999 });
  const low = resolveRetryPolicy({ baseDelayMs: 100, maxDelayMs: 1000, random: () => 0 });
  assert.equal(backoffDelay(1, low), 50);
  assert.ok(backoffDelay(2, p) > backoffDelay(1, p));
  assert.ok(backoffDelay(10, p) <= 1000);
});

test('Link pagination: next page on the same origin, relative or absolute; another origin refused', () => {
  const origin = new URL('https://r.example');
  const cur = new URL('https://r.example/v2/a/tags/list?n=2');
  assert.equal(nextPageUrl('</v2/a/tags/list?n=2&last=b>; rel="next"', cur, origin)?.href, 'https://r.example/v2/a/tags/list?n=2&last=b');
  assert.equal(nextPageUrl('<https://r.example/v2/a/tags/list?last=c>; rel=next', cur, origin)?.href, 'https://r.example/v2/a/tags/list?last=c');
  assert.equal(nextPageUrl('</x>; rel="prev"', cur, origin), undefined);
  assert.equal(nextPageUrl(undefined, cur, origin), undefined);
  assert.throws(() => nextPageUrl('<https://evil.example/v2/a/tags/list?last=b>; rel="next"', cur, origin), insecure);
});

test('distribution error bodies parse; anything else gives no codes', () => {
  assert.deepEqual(parseDistributionErrors('{"errors":[{"code":"MANIFEST_INVALID","message":"manifest invalid","detail":{}}]}').map((e) => e.code), ['MANIFEST_INVALID']);
  assert.deepEqual(parseDistributionErrors('<html>oops</html>'), []);
  assert.deepEqual(parseDistributionErrors('{"errors":[null,1,{"code":5}]}'), []);
});

test('credentials over plain HTTP only when the user chose plain HTTP', async () => {
  const { checkCredentialChannel } = await import('../../src/registry/auth-policy.js');
  assert.throws(() => checkCredentialChannel(new URL('http://r.example/v2/'), false), insecure);
  checkCredentialChannel(new URL('http://r.example/v2/'), true);
  checkCredentialChannel(new URL('https://r.example/v2/'), false);
});

test('token realm: a public-looking name that resolves to a loopback or private address is refused', async () => {
  const { checkTokenRealmAddresses } = await import('../../src/registry/auth-policy.js');
  const registry = new URL('https://registry.example.com');
  const lookups: string[] = [];
  const resolvesTo = (...addresses: string[]) => async (host: string) => (lookups.push(host), addresses);
  for (const addr of ['10.0.0.5', '127.0.0.1', '192.168.1.10', '::1', 'fd00::7']) {
    await assert.rejects(checkTokenRealmAddresses(new URL('https://auth.evil.example/token'), registry, resolvesTo('93.184.216.34', addr)), insecure, addr);
  }
  await checkTokenRealmAddresses(new URL('https://auth.docker.io/token'), registry, resolvesTo('34.226.69.105'));
  await checkTokenRealmAddresses(new URL('https://auth.example/token'), registry, async () => { throw new Error('ENOTFOUND'); });
  lookups.length = 0;
  // The registry's own name is trusted as the registry is: no lookup needed.
  await checkTokenRealmAddresses(new URL('https://registry.example.com:5001/token'), registry, resolvesTo('10.0.0.5'));
  assert.deepEqual(lookups, []);
});
