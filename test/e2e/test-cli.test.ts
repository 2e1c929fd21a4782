import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';
import { examplesDir } from '../helpers/paths.js';
import { buildProxyWat } from '../helpers/proxy-wat.js';
import { makeTempDir } from '../helpers/tmp.js';

const filter = join(examplesDir, 'example-filter.wasm');

const PASSING = `cases:
  - name: adds the demo header
    request: GET /details/123
    requestHeaders: { host: details:9080 }
    response: { status: 200, body: details of 123 }
    expect:
      client:
        status: 200
        headers: { resp-header-demo: added by our filter }
        bodyContains: details of
      upstream: { headersAbsent: [resp-header-demo] }
      localReply: false
      logs: [ { level: info, matches: "VM started" } ]
`;

test('test passes a case that expects resp-header-demo, and fails one expecting another value', async (t) => {
  const dir = await makeTempDir(t);
  await writeFile(join(dir, 'ok.yaml'), PASSING);
  const ok = await runCli(['test', filter, '--cases', join(dir, 'ok.yaml')]);
  assert.equal(ok.code, 0, ok.stdout + ok.stderr);
  assert.match(ok.stdout, /^✓ adds the demo header$/m);
  assert.match(ok.stdout, /^1 passed, 0 failed$/m);

  await writeFile(join(dir, 'bad.yaml'), `${PASSING}  - name: wrong value
    request: GET /details/123
    expect:
      client: { headers: { resp-header-demo: another value } }
`);
  const bad = await runCli(['test', filter, '--cases', join(dir, 'bad.yaml')]);
  assert.equal(bad.code, 1);
  assert.match(bad.stdout, /^✗ wrong value$/m);
  assert.match(bad.stdout, /client header resp-header-demo: expected "another value", got "added by our filter"/);
  assert.match(bad.stdout, /^1 passed, 1 failed$/m);

  const json = await runCli(['test', filter, '--cases', join(dir, 'bad.yaml'), '--format', 'json']);
  assert.equal(json.code, 1);
  const doc = JSON.parse(json.stdout);
  assert.equal(doc.passed, 1);
  assert.equal(doc.failed, 1);
  assert.deepEqual(doc.cases.map((c: { passed: boolean }) => c.passed), [true, false]);
});

test('test checks local reply status, metrics and logs; a trap fails only its case', async (t) => {
  const dir = await makeTempDir(t);
  const wasm = join(dir, 'f.wasm');
  await writeFile(wasm, await buildProxyWat({
    imports: `(import "env" "proxy_send_local_response" (func $reply (param i32 i32 i32 i32 i32 i32 i32 i32) (result i32)))
      (import "env" "proxy_get_header_map_value" (func $get (param i32 i32 i32 i32 i32) (result i32)))
      (import "env" "proxy_define_metric" (func $define (param i32 i32 i32 i32) (result i32)))
      (import "env" "proxy_increment_metric" (func $incr (param i32 i64) (result i32)))
      (import "env" "proxy_log" (func $log (param i32 i32 i32) (result i32)))`,
    body: `(data (i32.const 100) "x-deny")
      (data (i32.const 120) "denied by policy")
      (data (i32.const 140) "requests")
      (data (i32.const 160) "x-trap")
      (func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32)
        (drop (call $define (i32.const 0) (i32.const 140) (i32.const 8) (i32.const 1000)))
        (drop (call $incr (i32.load (i32.const 1000)) (i64.const 1)))
        (if (i32.eqz (call $get (i32.const 0) (i32.const 160) (i32.const 6) (i32.const 1008) (i32.const 1012))) (then (unreachable)))
        (if (i32.eqz (call $get (i32.const 0) (i32.const 100) (i32.const 6) (i32.const 1008) (i32.const 1012)))
          (then
            (drop (call $log (i32.const 3) (i32.const 120) (i32.const 16)))
            (drop (call $reply (i32.const 403) (i32.const 0) (i32.const 0) (i32.const 120) (i32.const 16) (i32.const 0) (i32.const 0) (i32.const -1)))
            (return (i32.const 1))))
        (i32.const 0))`,
  }));
  await writeFile(join(dir, 'cases.yaml'), `defaults:
  request: GET /api
cases:
  - name: denied
    requestHeaders: { x-deny: "1" }
    expect:
      localReply: { status: 403, bodyContains: policy }
      client: { status: 403 }
      upstream: { received: false }
      metrics: { requests: 1 }
      logs: [ { level: warn, matches: "^denied" } ]
  - name: allowed
    expect:
      localReply: false
      upstream: { received: true }
      client: { status: 200 }
  - name: traps
    requestHeaders: { x-trap: "1" }
    expect:
      client: { status: 200 }
  - name: wrong metric
    expect:
      metrics: { requests: 5 }
`);
  const r = await runCli(['test', wasm, '--cases', join(dir, 'cases.yaml')]);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stdout, /^✓ denied$/m);
  assert.match(r.stdout, /^✓ allowed$/m);
  assert.match(r.stdout, /^✗ traps$\n {4}the filter trapped in proxy_on_request_headers/m);
  assert.match(r.stdout, /metric requests: expected 5, got 1/);
  assert.match(r.stdout, /^2 passed, 2 failed$/m);
});

test('a cases file with a mistake is a usage error naming where', async (t) => {
  const dir = await makeTempDir(t);
  await writeFile(join(dir, 'c.yaml'), 'cases:\n  - name: x\n    expect: { client: { header: {} } }\n');
  const r = await runCli(['test', filter, '--cases', join(dir, 'c.yaml')]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /case 1 \(x\)\.expect\.client: unknown expectation "header"/);
});
