import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WasmOciError } from '../../src/errors.js';
import { createProxySelector, parseProxyUrl, proxyConfigFromEnv } from '../../src/registry/proxy-env.js';

// The rules of Go's golang.org/x/net/http/httpproxy (what oras follows), as a user would meet them.

const via = (env: Record<string, string>, url: string): string | undefined => {
  const chosen = createProxySelector(proxyConfigFromEnv(env)).forUrl(new URL(url));
  return chosen ? `${chosen.url.href} ${chosen.variable}` : undefined;
};

test('upper case wins over lower case; https URLs use HTTPS_PROXY only and http URLs HTTP_PROXY only', () => {
  assert.equal(via({ HTTPS_PROXY: 'http://up:1', https_proxy: 'http://low:1' }, 'https://reg.example'), 'http://up:1/ HTTPS_PROXY');
  assert.equal(via({ https_proxy: 'http://low:1' }, 'https://reg.example'), 'http://low:1/ https_proxy');
  assert.equal(via({ HTTP_PROXY: 'http://p:1' }, 'https://reg.example'), undefined, 'no fallback to HTTP_PROXY for https');
  assert.equal(via({ HTTPS_PROXY: 'http://p:1' }, 'http://reg.example'), undefined, 'HTTPS_PROXY is not used for http');
  assert.equal(via({ HTTP_PROXY: 'http://p:1' }, 'http://reg.example:5000'), 'http://p:1/ HTTP_PROXY');
  assert.equal(via({ HTTPS_PROXY: '' , https_proxy: 'http://low:1' }, 'https://reg.example'), 'http://low:1/ https_proxy', 'an empty value counts as unset');
});

test('a bare host:port is an http:// proxy; socks5 and garbage are refused with their codes', () => {
  assert.equal(parseProxyUrl('proxy.corp:3128').href, 'http://proxy.corp:3128/');
  assert.equal(parseProxyUrl('https://proxy.corp').protocol, 'https:');
  assert.throws(() => parseProxyUrl('socks5://127.0.0.1:1080', 'HTTPS_PROXY'), (e: unknown) => e instanceof WasmOciError && e.code === 'E_UNSUPPORTED' && /HTTPS_PROXY/.test(e.message));
  for (const bad of ['http://', ':3128', 'ftp://proxy:21']) {
    assert.throws(() => createProxySelector({ httpsProxy: bad }).forUrl(new URL('https://reg.example')), (e: unknown) => e instanceof WasmOciError && e.code === 'E_INVALID_INPUT', bad);
  }
  assert.equal(createProxySelector({ httpProxy: 'ftp://x:1' }).forUrl(new URL('https://reg.example')), undefined, 'a malformed HTTP_PROXY does not stop https traffic');
});

test('localhost and loopback addresses are never proxied', () => {
  const env = { HTTPS_PROXY: 'http://p:1', HTTP_PROXY: 'http://p:1' };
  for (const url of ['https://localhost:5000', 'http://localhost', 'https://127.0.0.1:5000', 'https://127.9.9.9', 'https://[::1]:5000', 'https://[::ffff:127.0.0.1]']) {
    assert.equal(via(env, url), undefined, url);
  }
  assert.ok(via(env, 'https://10.0.0.1'), 'a private address is not loopback');
  assert.ok(via(env, 'https://[::2]'), '::2 is not loopback');
});

test('NO_PROXY: names and their subdomains, .domain for subdomains only, ports, IPs, CIDRs, *', () => {
  const p = (noProxy: string, url: string): boolean => via({ HTTPS_PROXY: 'http://p:1', NO_PROXY: noProxy }, url) !== undefined;
  assert.equal(p('example.com', 'https://example.com'), false);
  assert.equal(p('example.com', 'https://reg.example.com'), false);
  assert.equal(p('example.com', 'https://notexample.com'), true, 'a suffix that is not a label boundary does not match');
  assert.equal(p('.example.com', 'https://example.com'), true, '.domain matches subdomains only');
  assert.equal(p('.example.com', 'https://reg.example.com'), false);
  assert.equal(p('*.example.com', 'https://reg.example.com'), false);
  assert.equal(p('example.com:5000', 'https://example.com:5000'), false);
  assert.equal(p('example.com:5000', 'https://example.com'), true, 'the port of an entry must match (443 here)');
  assert.equal(p('example.com:443', 'https://example.com'), false, 'the scheme default port counts');
  assert.equal(p('10.1.2.3', 'https://10.1.2.3:5000'), false);
  assert.equal(p('10.1.2.3:80', 'https://10.1.2.3:5000'), true);
  assert.equal(p('10.0.0.0/8', 'https://10.1.2.3'), false);
  assert.equal(p('10.0.0.0/8', 'https://11.1.2.3'), true);
  assert.equal(p('fd00::/8', 'https://[fd00::2]:5000'), false);
  assert.equal(p('[fd00::2]:5000', 'https://[fd00::2]:5000'), false);
  assert.equal(p(' Example.COM , other.org', 'https://reg.example.com'), false, 'entries are trimmed and compared in lower case');
  assert.equal(p('*', 'https://anything.example'), false);
  assert.equal(p('', 'https://anything.example'), true);
  assert.equal(via({ HTTPS_PROXY: 'http://p:1', no_proxy: 'example.com' }, 'https://example.com'), undefined, 'no_proxy in lower case');
});
