import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';
import { examplesDir } from '../helpers/paths.js';
import { buildProxyWat } from '../helpers/proxy-wat.js';
import { makeTempDir } from '../helpers/tmp.js';

const filter = join(examplesDir, 'example-filter.wasm');

test('run of the example shows, as curl -v, resp-header-demo in the client response', async () => {
  const r = await runCli(['run', filter, '--request', 'GET /details/123', '-H', 'Host: details:9080']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^> GET \/details\/123 HTTP\/1\.1$/m);
  assert.match(r.stdout, /^> host: details:9080$/m);
  assert.match(r.stdout, /^< HTTP\/1\.1 200 OK$/m);
  assert.match(r.stdout, /^< resp-header-demo: added by our filter$/m);
  assert.doesNotMatch(r.stdout, /^> resp-header-demo/m, 'the upstream never sees the response header');
  assert.match(r.stdout, /\[info\] example-filter: VM started/);
  assert.match(r.stdout, /the filter added to the response: resp-header-demo: added by our filter/);
});

test('run --format json: one document with upstream, client, changes and logs', async () => {
  const r = await runCli(['run', filter, '--request', 'POST http://details:9080/x', '--request-body', 'a', '--request-body', 'b', '--response-status', '201', '--format', 'json']);
  assert.equal(r.code, 0, r.stderr);
  const doc = JSON.parse(r.stdout);
  assert.equal(doc.abiVersion, '0.2.1');
  assert.equal(doc.client.status, 201);
  assert.deepEqual(doc.client.changes.added, [['resp-header-demo', 'added by our filter']]);
  assert.equal(doc.upstream.body, 'ab');
  assert.deepEqual(doc.upstream.headers.slice(0, 4), [[':method', 'POST'], [':scheme', 'http'], [':authority', 'details:9080'], [':path', '/x']]);
  assert.equal(doc.localReply, null);
  assert.deepEqual(doc.logs.map((l: { level: string }) => l.level), ['info']);
});

test('run of a layout reference takes the root id from its runtime config', async (t) => {
  const dir = await makeTempDir(t);
  const pushed = await runCli(['push', '--oci-layout', `${join(dir, 'store')}:v1`, filter, '--root-id', 'my_root']);
  assert.equal(pushed.code, 0, pushed.stderr);
  const r = await runCli(['run', '--oci-layout', `${join(dir, 'store')}:v1`, '--format', 'json']);
  assert.equal(r.code, 0, r.stderr);
  const doc = JSON.parse(r.stdout);
  assert.equal(doc.rootId, 'my_root');
  assert.deepEqual(doc.client.changes.added, [['resp-header-demo', 'added by our filter']]);
});

test('a filter Envoy would refuse exits 7 with the link error; a trap exits 7 naming the callback', async (t) => {
  const dir = await makeTempDir(t);
  const bad = join(dir, 'bad.wasm');
  await writeFile(bad, await buildProxyWat({ imports: '(import "env" "proxy_get_buffer_status" (func (param i32 i32 i32 i32 i32) (result i32)))', body: '' }));
  const r = await runCli(['run', bad]);
  assert.equal(r.code, 7);
  assert.match(r.stderr, /import type mismatch: env\.proxy_get_buffer_status, want: i32 i32 i32 i32 i32 -> i32, but host exports: i32 i32 i32 -> i32/);
  const json = await runCli(['run', bad, '--format', 'json']);
  assert.equal(JSON.parse(json.stdout).error.code, 'E_WASM_LINK');

  const trap = join(dir, 'trap.wasm');
  await writeFile(trap, await buildProxyWat({ body: '(func (export "proxy_on_response_headers") (param i32 i32 i32) (result i32) (unreachable))' }));
  const t2 = await runCli(['run', trap]);
  assert.equal(t2.code, 7);
  assert.match(t2.stderr, /trapped in proxy_on_response_headers/);
  assert.match(t2.stdout, /Wasm stack:/);
});

test('bad flags are usage errors (exit 2)', async () => {
  const r = await runCli(['run', filter, '-H', 'no colon']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /-H\/--request-header must be 'Name: value'/);
});
