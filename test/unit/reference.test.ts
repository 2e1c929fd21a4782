import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { WasmOciError } from '../../src/errors.js';
import {
  formatReference,
  parseReference,
  referenceTarget,
  registryApiHost,
  withDigest,
  withTag,
} from '../../src/reference/reference.js';
import { formatLayoutReference, parseLayoutReference } from '../../src/reference/layout-reference.js';
import type { LayoutReference, Reference } from '../../src/reference/types.js';

const SHA256 = `sha256:${'a'.repeat(64)}`;
const SHA512 = `sha512:${'0123456789abcdef'.repeat(8)}`;

// [input, expected parse]
const VALID: Array<[string, Reference]> = [
  ['alpine', { registry: 'docker.io', repository: 'library/alpine' }],
  ['alpine:3.19', { registry: 'docker.io', repository: 'library/alpine', tag: '3.19' }],
  ['docker.io/alpine', { registry: 'docker.io', repository: 'library/alpine' }],
  ['index.docker.io/alpine:latest', { registry: 'docker.io', repository: 'library/alpine', tag: 'latest' }],
  ['index.docker.io/user/app', { registry: 'docker.io', repository: 'user/app' }],
  ['user/app:v1', { registry: 'docker.io', repository: 'user/app', tag: 'v1' }],
  ['docker.io/library/alpine', { registry: 'docker.io', repository: 'library/alpine' }],
  ['a/b/c/d', { registry: 'docker.io', repository: 'a/b/c/d' }],
  ['localhost/foo', { registry: 'localhost', repository: 'foo' }],
  ['localhost:5000/foo/bar:v1', { registry: 'localhost:5000', repository: 'foo/bar', tag: 'v1' }],
  ['127.0.0.1:5000/wasm/filter:1.0.0', { registry: '127.0.0.1:5000', repository: 'wasm/filter', tag: '1.0.0' }],
  ['[::1]:5000/foo', { registry: '[::1]:5000', repository: 'foo' }],
  ['[::1]/foo:tag', { registry: '[::1]', repository: 'foo', tag: 'tag' }],
  ['[2001:DB8::1]:443/x', { registry: '[2001:db8::1]:443', repository: 'x' }],
  ['myhost:5000/app', { registry: 'myhost:5000', repository: 'app' }],
  ['Registry.Example.COM/team/app', { registry: 'registry.example.com', repository: 'team/app' }],
  ['ghcr.io/owner/filter', { registry: 'ghcr.io', repository: 'owner/filter' }],
  ['my-registry.local/a-b/c__d/e.f/g---h', { registry: 'my-registry.local', repository: 'a-b/c__d/e.f/g---h' }],
  ['example.com/app:_under', { registry: 'example.com', repository: 'app', tag: '_under' }],
  ['example.com/app:V1.0-RC_2', { registry: 'example.com', repository: 'app', tag: 'V1.0-RC_2' }],
  [`example.com/app@${SHA256}`, { registry: 'example.com', repository: 'app', digest: SHA256 }],
  [`example.com/app@${SHA512}`, { registry: 'example.com', repository: 'app', digest: SHA512 }],
  [`example.com/app:v1@${SHA256}`, { registry: 'example.com', repository: 'app', tag: 'v1', digest: SHA256 }],
  [`localhost:5000/app:v1@${SHA256}`, { registry: 'localhost:5000', repository: 'app', tag: 'v1', digest: SHA256 }],
  [`alpine@${SHA256}`, { registry: 'docker.io', repository: 'library/alpine', digest: SHA256 }],
  [`example.com/app:${'t'.repeat(128)}`, { registry: 'example.com', repository: 'app', tag: 't'.repeat(128) }],
  // 255 characters exactly: "example.com/" (12) + 243
  [`example.com/${'a'.repeat(243)}`, { registry: 'example.com', repository: 'a'.repeat(243) }],
];

// [input, regexp the error message must match]
const INVALID: Array<[string, RegExp]> = [
  // docker reads a bare host:port as Docker Hub's "image localhost, tag 5000"; nobody means that (issue 11)
  ['localhost:5000', /names a registry but no repository/],
  ['localhost', /names a registry but no repository/],
  ['registry.example.com:443', /names a registry but no repository/],
  ['http://localhost:5000/app:v1', /has no http:\/\/ scheme/],
  ['oci://registry.example.com/app:v1', /has no oci:\/\/ scheme/],
  ['', /empty/],
  ['Foo/bar', /repository name "Foo\/bar" must be lowercase/],
  ['UPPER', /repository name "library\/UPPER" must be lowercase/],
  ['example.com/Team/app', /repository name "Team\/app" must be lowercase/],
  ['example.com/a/../b', /"\.\." path component/],
  ['example.com/a/./b', /"\." path component/],
  ['example.com//app', /empty path component/],
  ['example.com/app/', /empty path component/],
  ['/app', /empty path component/],
  ['example.com/', /repository name is empty/],
  [':tag', /repository name is empty/],
  ['example.com/app:', /tag is empty/],
  ['example.com/app@', /digest after "@" is empty/],
  ['example.com/-app', /path component "-app" is invalid/],
  ['example.com/app-', /path component "app-" is invalid/],
  ['example.com/a..b', /path component "a\.\.b" is invalid/],
  ['example.com/a___b', /path component "a___b" is invalid/],
  ['example.com/a+b', /path component "a\+b" is invalid/],
  ['example.com/app:-tag', /tag "-tag" is invalid/],
  ['example.com/app:.tag', /tag "\.tag" is invalid/],
  ['example.com/app:ta+g', /tag "ta\+g" is invalid/],
  [`example.com/app:${'t'.repeat(129)}`, /tag "t+\.\.\." is 129 characters, longer than 128 characters/],
  [`example.com/${'a'.repeat(244)}`, /is 256 characters, longer than 255 characters/],
  // docker.io/library/ counts towards the limit, as distribution measures the normalised name
  ['a'.repeat(240), /"docker\.io\/library\/a+" is 258 characters, longer than 255/],
  ['x'.repeat(2000), /longer than any valid reference/],
  [`example.com/app@sha256:${'a'.repeat(63)}`, /sha256 needs 64 lowercase hex characters/],
  [`example.com/app@sha256:${'a'.repeat(65)}`, /sha256 needs 64 lowercase hex characters/],
  [`example.com/app@sha256:${'A'.repeat(64)}`, /sha256 needs 64 lowercase hex characters/],
  [`example.com/app@sha512:${'a'.repeat(64)}`, /sha512 needs 128 lowercase hex characters/],
  [`example.com/app@md5:${'a'.repeat(32)}`, /unsupported algorithm "md5"/],
  ['example.com/app@latest', /expected "algorithm:hex"/],
  [`example.com/app@${SHA256}@${SHA256}`, /more than one "@"/],
  ['example.com:/app', /empty port/],
  ['example.com:abc/app', /port "abc" is not a number/],
  ['example.com:70000/app', /port 70000 is out of range/],
  ['example.com:0/app', /port 0 is out of range/],
  ['-bad.com/app', /registry host "-bad\.com" is invalid: label "-bad"/],
  ['bad-.com/app', /label "bad-"/],
  ['a..b.com/app', /empty label/],
  ['.example.com/app', /empty label/],
  ['ex_ample.com/app', /label "ex_ample"/],
  ['[::1/app', /"\[" without a closing "\]"/],
  ['[::g]:5000/app', /not a valid IPv6 address/],
  ['[fe80::1%eth0]/app', /not a valid IPv6 address/],
  ['[::1]x/app', /unexpected characters after "\]"/],
  ['example.com/app name', /whitespace/],
  [' alpine', /whitespace/],
  ['a'.repeat(64), /64-character hexadecimal string is an image ID/],
  ['example.com/café', /path component "café" is invalid/],
];

describe('parseReference: valid references', () => {
  for (const [input, expected] of VALID) {
    it(`parses ${JSON.stringify(input.length > 60 ? `${input.slice(0, 57)}...` : input)}`, () => {
      assert.deepEqual(parseReference(input), expected);
    });
  }
});

describe('parseReference: invalid references', () => {
  for (const [input, message] of INVALID) {
    it(`rejects ${JSON.stringify(input.length > 60 ? `${input.slice(0, 57)}...` : input)}`, () => {
      assert.throws(
        () => parseReference(input),
        (err: unknown) => {
          assert.ok(err instanceof WasmOciError, `expected WasmOciError, got ${String(err)}`);
          assert.equal(err.code, 'E_REFERENCE');
          assert.match(err.message, message);
          return true;
        },
      );
    });
  }

  it('quotes the whole reference in the message', () => {
    assert.throws(() => parseReference('Foo/bar'), { message: 'invalid reference "Foo/bar": repository name "Foo/bar" must be lowercase' });
  });
});

describe('formatReference and helpers', () => {
  it('round-trips every valid reference in canonical form', () => {
    for (const [input] of VALID) {
      const ref = parseReference(input);
      const text = formatReference(ref);
      assert.deepEqual(parseReference(text), ref, `round trip of ${input} via ${text}`);
    }
  });

  it('formats the canonical, fully qualified name', () => {
    assert.equal(formatReference(parseReference('alpine:3')), 'docker.io/library/alpine:3');
    assert.equal(formatReference(parseReference(`[::1]:5000/a:b@${SHA256}`)), `[::1]:5000/a:b@${SHA256}`);
  });

  it('targets the digest before the tag', () => {
    assert.equal(referenceTarget(parseReference(`a.io/x:v1@${SHA256}`)), SHA256);
    assert.equal(referenceTarget(parseReference('a.io/x:v1')), 'v1');
    assert.equal(referenceTarget(parseReference('a.io/x')), undefined);
  });

  it('withTag replaces tag and digest, withDigest pins', () => {
    const ref = parseReference(`a.io/x:v1@${SHA256}`);
    assert.deepEqual(withTag(ref, 'v2'), { registry: 'a.io', repository: 'x', tag: 'v2' });
    assert.deepEqual(withDigest(parseReference('a.io/x:v1'), SHA512), { registry: 'a.io', repository: 'x', tag: 'v1', digest: SHA512 });
    assert.throws(() => withTag(ref, 'bad tag'), { code: 'E_REFERENCE' });
    assert.throws(() => withDigest(ref, 'sha256:abc'), { code: 'E_REFERENCE' });
  });

  it('sends Docker Hub API calls to registry-1.docker.io and nothing else', () => {
    assert.equal(registryApiHost('docker.io'), 'registry-1.docker.io');
    assert.equal(registryApiHost(parseReference('index.docker.io/x/y').registry), 'registry-1.docker.io');
    assert.equal(registryApiHost('localhost:5000'), 'localhost:5000');
    assert.equal(registryApiHost('ghcr.io'), 'ghcr.io');
  });
});

const LAYOUT_VALID: Array<[string, LayoutReference]> = [
  ['layout', { path: 'layout' }],
  ['layout:v1', { path: 'layout', tag: 'v1' }],
  ['./out/layout:1.0.0', { path: './out/layout', tag: '1.0.0' }],
  ['../up/layout', { path: '../up/layout' }],
  ['/abs/path/layout:latest', { path: '/abs/path/layout', tag: 'latest' }],
  ['dir:with:colons/layout', { path: 'dir:with:colons/layout' }],
  ['dir:x/layout:t', { path: 'dir:x/layout', tag: 't' }],
  [`layout@${SHA256}`, { path: 'layout', digest: SHA256 }],
  [`/tmp/a@b/layout@${SHA512}`, { path: '/tmp/a@b/layout', digest: SHA512 }],
  ['/tmp/a@b/layout', { path: '/tmp/a@b/layout' }],
  ['.', { path: '.' }],
  ['.:v1', { path: '.', tag: 'v1' }],
];

const LAYOUT_INVALID: Array<[string, RegExp]> = [
  ['', /empty/],
  [':v1', /layout path before ":" is empty/],
  [`@${SHA256}`, /layout path before "@" is empty/],
  ['layout:', /tag is empty/],
  ['layout@', /digest after "@" is empty/],
  ['layout:bad+tag', /tag "bad\+tag" is invalid/],
  [`layout:${'x'.repeat(129)}`, /longer than 128 characters/],
  ['layout@sha256:1234', /sha256 needs 64 lowercase hex characters/],
];

describe('parseLayoutReference', () => {
  for (const [input, expected] of LAYOUT_VALID) {
    it(`parses ${JSON.stringify(input)}`, () => {
      const ref = parseLayoutReference(input);
      assert.deepEqual(ref, expected);
      assert.deepEqual(parseLayoutReference(formatLayoutReference(ref)), ref);
    });
  }
  for (const [input, message] of LAYOUT_INVALID) {
    it(`rejects ${JSON.stringify(input.length > 60 ? `${input.slice(0, 57)}...` : input)}`, () => {
      assert.throws(() => parseLayoutReference(input), (err: unknown) => {
        assert.ok(err instanceof WasmOciError);
        assert.equal(err.code, 'E_REFERENCE');
        assert.match(err.message, /^invalid OCI layout reference/);
        assert.match(err.message, message);
        return true;
      });
    });
  }
});
