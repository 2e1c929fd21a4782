import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { WasmOciError } from '../../src/errors.js';
import { parseWwwAuthenticate } from '../../src/registry/www-authenticate.js';

const plain = (c: { scheme: string; params: Record<string, string>; token68?: string }) => ({ scheme: c.scheme, params: { ...c.params }, ...(c.token68 !== undefined ? { token68: c.token68 } : {}) });

const table: Array<[string, string, ReturnType<typeof plain>[]]> = [
  ['Distribution bearer with quoted commas in scope',
    'Bearer realm="https://auth.example.com/token",service="registry.example.com",scope="repository:a/b:pull,push"',
    [{ scheme: 'bearer', params: { realm: 'https://auth.example.com/token', service: 'registry.example.com', scope: 'repository:a/b:pull,push' } }]],
  ['basic with realm', 'Basic realm="Registry Realm"', [{ scheme: 'basic', params: { realm: 'Registry Realm' } }]],
  ['case-insensitive scheme and param names', 'BEARER Realm="r",SERVICE=svc', [{ scheme: 'bearer', params: { realm: 'r', service: 'svc' } }]],
  ['two challenges in one header',
    'Basic realm="a b", Bearer realm="https://x/token",scope="repository:n:pull,push",service="s"',
    [{ scheme: 'basic', params: { realm: 'a b' } }, { scheme: 'bearer', params: { realm: 'https://x/token', scope: 'repository:n:pull,push', service: 's' } }]],
  ['escaped quotes and backslashes', 'Bearer realm="a\\"b\\\\c",error="insufficient_scope"', [{ scheme: 'bearer', params: { realm: 'a"b\\c', error: 'insufficient_scope' } }]],
  ['spaces around = and empty list elements', 'Bearer  realm = "r" ,, service= s ,', [{ scheme: 'bearer', params: { realm: 'r', service: 's' } }]],
  ['token68 then another challenge', 'Negotiate abc+/def==, Basic realm="x"', [{ scheme: 'negotiate', params: {}, token68: 'abc+/def==' }, { scheme: 'basic', params: { realm: 'x' } }]],
  ['scheme without params', 'Basic', [{ scheme: 'basic', params: {} }]],
  ['several scopes separated by spaces', 'Bearer realm="r",scope="repository:a:pull repository:b:pull,push"', [{ scheme: 'bearer', params: { realm: 'r', scope: 'repository:a:pull repository:b:pull,push' } }]],
  ['empty quoted value', 'Bearer realm="",service=""', [{ scheme: 'bearer', params: { realm: '', service: '' } }]],
  ['empty header', '', []],
];

for (const [name, header, want] of table) {
  test(`WWW-Authenticate: ${name}`, () => {
    assert.deepEqual(parseWwwAuthenticate(header).map(plain), want);
  });
}

for (const bad of ['Bearer realm="unterminated', 'Bearer realm=', 'Bearer realm="a" junk', '"quoted"', 'Bearer realm="x\\']) {
  test(`WWW-Authenticate: malformed ${JSON.stringify(bad)} is E_REGISTRY`, () => {
    assert.throws(() => parseWwwAuthenticate(bad), (e: unknown) => e instanceof WasmOciError && e.code === 'E_REGISTRY');
  });
}

test('WWW-Authenticate: __proto__ as a parameter name stays a plain value', () => {
  const [c] = parseWwwAuthenticate('Bearer __proto__="x",realm="r"');
  assert.equal(c!.params['__proto__'], 'x');
  assert.equal(c!.params['realm'], 'r');
});

test('WWW-Authenticate: arbitrary input throws nothing but WasmOciError', () => {
  const alphabet = fc.constantFrom(...'Bearer Basic realm="=,\\ \t:/scope_-+'.split(''), 'a', 'Z', '"', '\\', ',', '=', ' ', '\u00e9', '\u0000');
  fc.assert(fc.property(fc.oneof(fc.string(), fc.array(alphabet, { maxLength: 60 }).map((a) => a.join(''))), (s) => {
    try {
      const out = parseWwwAuthenticate(s);
      for (const c of out) assert.equal(c.scheme, c.scheme.toLowerCase());
    } catch (e) {
      assert.ok(e instanceof WasmOciError, `threw ${String(e)}`);
    }
  }), { numRuns: 3000 });
});

test('WWW-Authenticate: a generated bearer challenge parses back to its parameters', () => {
  const value = fc.string({ maxLength: 30 });
  fc.assert(fc.property(value, value, value, (realm, service, scope) => {
    const q = (v: string) => `"${v.replace(/[\\"]/g, (m) => `\\${m}`)}"`;
    const [c] = parseWwwAuthenticate(`Bearer realm=${q(realm)},service=${q(service)},scope=${q(scope)}`);
    assert.deepEqual({ ...c!.params }, { realm, service, scope });
  }), { numRuns: 500 });
});
