// Hints the CLI adds to errors, checked on synthetic errors where no test can reach the real
// failure: Docker Hub (no traffic may leave loopback) and error codes raised without a hint.
// The failures a local registry can produce are driven for real in test/e2e/cli-hints.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { WasmOciError } from '../../src/errors.js';
import { hintFor, isDockerHub } from '../../src/cli/hints.js';
import { errorDocument, renderError } from '../../src/cli/render-error.js';
import { CliContext, type CliIO } from '../../src/cli/context.js';
import { wantsJson } from '../../src/cli/main.js';

function capture(): { stream: Writable & { isTTY?: boolean }; text(): string } {
  const chunks: string[] = [];
  const stream = new Writable({ write(chunk, _enc, cb) { chunks.push(String(chunk)); cb(); } });
  return { stream, text: () => chunks.join('') };
}

function ioFor(env: NodeJS.ProcessEnv = {}): { io: CliIO; out: () => string; err: () => string } {
  const out = capture();
  const err = capture();
  const io: CliIO = { stdout: out.stream, stderr: err.stream, stdin: process.stdin, env, cwd: process.cwd() };
  return { io, out: out.text, err: err.text };
}

/** What the registry layer raises for a 401 with credentials (src/registry/response-error.ts). */
function unauthorized(registry: string, repository: string): WasmOciError {
  return new WasmOciError('E_AUTH', `${registry} rejected the credentials for user "alice" (UNAUTHORIZED: authentication required)`, {
    status: 401, registryCodes: ['UNAUTHORIZED'], hint: `check the password or run: wasm-oci login ${registry}`,
    details: { registry, repository },
  });
}

test('401 on Docker Hub for a name without a namespace: the hint names library/ and the fix', () => {
  // `wasm-oci push docker.io/myfilter:v1` parses to library/myfilter, the official-images namespace.
  const hint = hintFor(unauthorized('docker.io', 'library/myfilter'));
  assert.ok(hint, 'a hint is given');
  assert.match(hint, /library\/myfilter/);
  assert.match(hint, /docker\.io\/<your-user-or-org>\/myfilter/);
  for (const host of ['registry-1.docker.io', 'index.docker.io']) {
    assert.match(hintFor(unauthorized(host, 'library/x')) ?? '', /library\/x/, host);
  }
  const denied = new WasmOciError('E_FORBIDDEN', 'denied', { status: 403, details: { registry: 'docker.io', repository: 'library/x' } });
  assert.match(hintFor(denied) ?? '', /library\/x/);
});

test('401 on Docker Hub in a user namespace: the hint says Hub hides missing repositories behind 401', () => {
  const hint = hintFor(unauthorized('docker.io', 'alice/myfilter'));
  assert.match(hint ?? '', /does not exist/);
  assert.match(hint ?? '', /wasm-oci login docker\.io/);
  assert.doesNotMatch(hint ?? '', /library\//);
});

test('401 on another registry keeps the registry layer\'s hint; no Docker Hub advice', () => {
  const err = unauthorized('registry.example.com', 'library/myfilter');
  assert.equal(hintFor(err), 'check the password or run: wasm-oci login registry.example.com');
  assert.equal(isDockerHub('registry.example.com'), false);
  assert.equal(isDockerHub('Docker.IO'), true);
});

test('errors raised without a hint get one by code; errors with none that helps stay without', () => {
  assert.match(hintFor(new WasmOciError('E_TLS', 'TLS failure talking to https://h:1: self-signed certificate')) ?? '', /--ca-file.*--insecure/);
  assert.match(hintFor(new WasmOciError('E_NETWORK', 'https://h:1 does not speak HTTPS')) ?? '', /--plain-http/);
  assert.match(hintFor(new WasmOciError('E_REGISTRY', 'registry refused the manifest: HTTP 415', { status: 415 })) ?? '', /--profile compat/);
  assert.equal(hintFor(new WasmOciError('E_DIGEST_MISMATCH', 'blob does not match')), undefined);
  assert.equal(hintFor(new WasmOciError('E_NETWORK', 'connection reset')), undefined);
});

test('renderError: "Error:" line, then "Hint:" line, exit code of the error code; JSON document on stdout with --format json', () => {
  const text = ioFor();
  const code = renderError(new CliContext(text.io, { format: 'text' }), unauthorized('docker.io', 'library/f'));
  assert.equal(code, 3);
  const lines = text.err().trimEnd().split('\n');
  assert.equal(lines.length, 2);
  assert.match(lines[0]!, /^Error: docker\.io rejected the credentials/);
  assert.match(lines[1]!, /^Hint: on Docker Hub a name without a namespace means library\/f/);
  assert.equal(text.out(), '', 'text mode prints errors on stderr only');

  const json = ioFor();
  renderError(new CliContext(json.io, { format: 'json' }), unauthorized('docker.io', 'library/f'));
  const doc = JSON.parse(json.out());
  assert.deepEqual(Object.keys(doc), ['error']);
  assert.equal(doc.error.code, 'E_AUTH');
  assert.equal(doc.error.exitCode, 3);
  assert.equal(doc.error.status, 401);
  assert.deepEqual(doc.error.registryCodes, ['UNAUTHORIZED']);
  assert.match(doc.error.hint, /library\/f/);
  assert.match(json.err(), /^Error: /, 'the message is on stderr in JSON mode too');
});

test('renderError wraps a non-WasmOciError as E_INTERNAL (exit 1) and colours only when asked', () => {
  const plain = ioFor({ NO_COLOR: '1', FORCE_COLOR: undefined });
  assert.equal(renderError(new CliContext(plain.io, { format: 'text' }), new TypeError('boom')), 1);
  assert.equal(plain.err(), 'Error: boom\n');
  const forced = ioFor({ FORCE_COLOR: '1' });
  renderError(new CliContext(forced.io, { format: 'text' }), new TypeError('boom'));
  assert.match(forced.err(), /^\x1b\[31mError:\x1b\[39m boom/);
});

test('errorDocument omits absent optional keys', () => {
  assert.deepEqual(errorDocument(new WasmOciError('E_DIGEST_MISMATCH', 'bad')), { error: { code: 'E_DIGEST_MISMATCH', exitCode: 5, message: 'bad' } });
});

test('wantsJson reads --format json and --format=json, not after --', () => {
  assert.equal(wantsJson(['push', '--format', 'json', 'x']), true);
  assert.equal(wantsJson(['--format=json']), true);
  assert.equal(wantsJson(['--format', 'text']), false);
  assert.equal(wantsJson(['push', '--', '--format', 'json']), false);
});
