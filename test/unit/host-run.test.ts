import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { WasmOciError } from '../../src/errors.js';
import { runFilterInWorker } from '../../src/host/budget.js';
import { deserializePairs, HeaderMap, serializePairs } from '../../src/host/headers.js';
import { executeScenario, type RunScenario } from '../../src/host/scenario.js';
import { examplesDir } from '../helpers/paths.js';
import { buildProxyWat, watPairs } from '../helpers/proxy-wat.js';

const LOG = '(import "env" "proxy_log" (func $log (param i32 i32 i32) (result i32)))';
const ADD_HEADER = '(import "env" "proxy_add_header_map_value" (func $add (param i32 i32 i32 i32 i32) (result i32)))';

function scenario(extra: Partial<RunScenario> = {}): RunScenario {
  return {
    request: { method: 'GET', path: '/details/123', authority: 'details:9080', headers: [['user-agent', 'test']] },
    response: { status: 200, body: ['upstream body'] },
    ...extra,
  };
}

function header(pairs: [string, string][] | undefined, name: string): string | undefined {
  return pairs?.find(([k]) => k === name)?.[1];
}

async function expectHostError(p: Promise<unknown>, code: string, pattern: RegExp): Promise<WasmOciError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof WasmOciError, String(err));
    assert.equal(err.code, code, err.message);
    assert.match(err.message, pattern);
    return err;
  }
  assert.fail('expected an error');
}

test('the example filter adds resp-header-demo to what the client receives', async () => {
  const bytes = new Uint8Array(await readFile(join(examplesDir, 'example-filter.wasm')));
  const report = await runFilterInWorker(bytes, scenario());
  const stream = report.streams[0]!;
  assert.equal(header(stream.client?.headers, 'resp-header-demo'), 'added by our filter');
  assert.equal(header(stream.upstream?.headers, 'resp-header-demo'), undefined);
  assert.equal(stream.client?.body, 'upstream body');
  assert.deepEqual(report.logs.map((l) => [l.level, l.message]), [['info', 'example-filter: VM started']]);
  assert.equal(report.abiVersion, '0.2.1');
  assert.equal(report.allocator, 'proxy_on_memory_allocate');
});

for (const abi of ['0_1_0', '0_2_0', '0_2_1'] as const) {
  test(`ABI ${abi}: request headers are called with the arity of the version and can add a header`, async () => {
    const params = abi === '0_1_0' ? '(param i32 i32)' : '(param i32 i32 i32)';
    const bytes = await buildProxyWat({
      abi,
      imports: ADD_HEADER,
      body: `(data (i32.const 100) "x-abiv${abi}")
        (func (export "proxy_on_request_headers") ${params} (result i32)
          (drop (call $add (i32.const 0) (i32.const 100) (i32.const 2) (i32.const 102) (i32.const 9)))
          (i32.const 0))`,
    });
    const report = await executeScenario(bytes, scenario());
    assert.equal(report.abiVersion, abi.replaceAll('_', '.'));
    assert.equal(header(report.streams[0]!.upstream?.headers, 'x-'), `abiv${abi}`);
    const call = report.trace.find((t) => t.callback === 'proxy_on_request_headers')!;
    assert.equal(call.args.length, abi === '0_1_0' ? 2 : 3);
  });
}

test('a module importing a host function with the wrong type fails to link with both signatures', async () => {
  // @solo-io/proxy-runtime 0.1.8 binds proxy_get_buffer_status with 5 params; cpp-host's takes 3.
  const bytes = await buildProxyWat({
    imports: '(import "env" "proxy_get_buffer_status" (func (param i32 i32 i32 i32 i32) (result i32)))',
    body: '',
  });
  await expectHostError(executeScenario(bytes, scenario()), 'E_WASM_LINK',
    /import type mismatch: env\.proxy_get_buffer_status, want: i32 i32 i32 i32 i32 -> i32, but host exports: i32 i32 i32 -> i32/);
});

test('an unregistered WASI import and a wrong export signature are refused', async () => {
  const wasi = await buildProxyWat({ imports: '(import "wasi_snapshot_preview1" "proc_raise" (func (param i32) (result i32)))', body: '' });
  await expectHostError(executeScenario(wasi, scenario()), 'E_WASM_LINK', /missing import: wasi_snapshot_preview1\.proc_raise/);
  const badExport = await buildProxyWat({ body: '(func (export "proxy_on_request_headers") (param i32 i32) (result i32) (i32.const 0))' });
  await expectHostError(executeScenario(badExport, scenario()), 'E_WASM_LINK',
    /Bad function signature for: proxy_on_request_headers, want: i32 i32 i32 -> i32, but the module exports: i32 i32 -> i32/);
});

test('a trap is reported with the callback and the Wasm stack, with the logs before it', async () => {
  const bytes = await buildProxyWat({
    imports: LOG,
    body: `(data (i32.const 100) "about to fail")
      (func $inner (unreachable))
      (func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32)
        (drop (call $log (i32.const 3) (i32.const 100) (i32.const 13)))
        (call $inner) (i32.const 0))`,
  });
  const err = await expectHostError(runFilterInWorker(bytes, scenario()), 'E_WASM_TRAP', /trapped in proxy_on_request_headers: unreachable/);
  const stack = err.details?.wasmStack as string[];
  assert.ok(stack.length >= 2, `wasm frames: ${stack.join(' | ')}`);
  const report = err.details?.report as { logs: { message: string }[] };
  assert.deepEqual(report.logs.map((l) => l.message), ['about to fail']);
});

test('an endless loop is stopped within the callback budget, naming the callback', async () => {
  const bytes = await buildProxyWat({ body: '(func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32) (loop $l (br $l)) (i32.const 0))' });
  await expectHostError(runFilterInWorker(bytes, scenario(), { callbackBudgetMs: 200 }), 'E_WASM_TRAP', /proxy_on_request_headers ran past its 200 ms budget/);
});

test('memory grown past the cap stops the filter', async () => {
  const bytes = await buildProxyWat({ body: '(func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32) (drop (memory.grow (i32.const 64))) (i32.const 0))' });
  await expectHostError(runFilterInWorker(bytes, scenario(), { memoryCapBytes: 1024 * 1024 }), 'E_WASM_TRAP', /grew its memory to \d+ bytes in proxy_on_request_headers, over the 1048576-byte cap/);
});

test('a local reply short-circuits the request: the upstream gets nothing, the client the reply', async () => {
  const reply = watPairs([['x-denied-by', 'filter']]);
  const bytes = await buildProxyWat({
    imports: '(import "env" "proxy_send_local_response" (func $reply (param i32 i32 i32 i32 i32 i32 i32 i32) (result i32)))',
    body: `(data (i32.const 100) "denied")
      (data (i32.const 200) "forbidden here")
      (data (i32.const 300) "${reply.data}")
      (func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32)
        (drop (call $reply (i32.const 403) (i32.const 100) (i32.const 6) (i32.const 200) (i32.const 14) (i32.const 300) (i32.const ${reply.size}) (i32.const -1)))
        (i32.const 1))`,
  });
  const report = await executeScenario(bytes, scenario());
  const s = report.streams[0]!;
  assert.equal(s.upstream, undefined);
  assert.equal(s.localReply?.status, 403);
  assert.equal(s.localReply?.details, 'denied');
  assert.equal(header(s.client?.headers, ':status'), '403');
  assert.equal(header(s.client?.headers, 'x-denied-by'), 'filter');
  assert.equal(s.client?.body, 'forbidden here');
});

test('a body buffered across chunks (StopIterationAndBuffer) and rewritten at end of stream', async () => {
  const bytes = await buildProxyWat({
    imports: '(import "env" "proxy_set_buffer_bytes" (func $set (param i32 i32 i32 i32 i32) (result i32)))',
    body: `(data (i32.const 100) "[]")
      (func (export "proxy_on_request_body") (param $ctx i32) (param $size i32) (param $eos i32) (result i32)
        (if (i32.eqz (local.get $eos)) (then (return (i32.const 1))))
        (drop (call $set (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 100) (i32.const 1)))
        (drop (call $set (i32.const 0) (i32.add (local.get $size) (i32.const 1)) (i32.const 0) (i32.const 101) (i32.const 1)))
        (i32.const 0))`,
  });
  const report = await executeScenario(bytes, scenario({ request: { method: 'POST', path: '/', authority: 'a', body: ['one,', 'two,', 'three'] } }));
  assert.equal(report.streams[0]!.upstream?.body, '[one,two,three]');
  const calls = report.trace.filter((t) => t.callback === 'proxy_on_request_body');
  assert.deepEqual(calls.map((c) => [c.args[1], c.args[2], c.status]), [[4, 0, 'StopIterationAndBuffer'], [8, 0, 'StopIterationAndBuffer'], [13, 1, 'Continue']]);
});

test('get_buffer_bytes from past the end answers Ok with an empty buffer (0 written to both pointers), as cpp-host does', async () => {
  // proxy-wasm-cpp-host src/exports.cc get_buffer_bytes: start past the size means length 0, and
  // length 0 writes 0 to ptr_ptr and size_ptr and returns Ok.
  const bytes = await buildProxyWat({
    imports: `${LOG}
      (import "env" "proxy_get_buffer_bytes" (func $get (param i32 i32 i32 i32 i32) (result i32)))`,
    body: `(data (i32.const 100) "empty")
      (func (export "proxy_on_request_body") (param $ctx i32) (param $size i32) (param $eos i32) (result i32)
        (i32.store (i32.const 200) (i32.const 77))
        (i32.store (i32.const 204) (i32.const 77))
        (if (i32.eqz (call $get (i32.const 0) (i32.const 100) (i32.const 10) (i32.const 200) (i32.const 204)))
          (then (if (i32.eqz (i32.or (i32.load (i32.const 200)) (i32.load (i32.const 204))))
            (then (drop (call $log (i32.const 2) (i32.const 100) (i32.const 5)))))))
        (i32.const 0))`,
  });
  const report = await executeScenario(bytes, scenario({ request: { method: 'POST', path: '/', authority: 'a', body: ['short'] } }));
  assert.deepEqual(report.logs.map((l) => l.message), ['empty']);
});

const HTTP_CALL_FILTER = (() => {
  const pairs = watPairs([[':method', 'GET'], [':path', '/check'], [':authority', 'auth']]);
  return {
    imports: `${LOG}
      (import "env" "proxy_http_call" (func $http_call (param i32 i32 i32 i32 i32 i32 i32 i32 i32 i32) (result i32)))
      (import "env" "proxy_get_buffer_bytes" (func $get_buffer (param i32 i32 i32 i32 i32) (result i32)))
      (import "env" "proxy_continue_stream" (func $continue (param i32) (result i32)))`,
    body: `(data (i32.const 100) "auth-cluster")
      (data (i32.const 200) "${pairs.data}")
      (func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32)
        (drop (call $http_call (i32.const 100) (i32.const 12) (i32.const 200) (i32.const ${pairs.size}) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 5000) (i32.const 1000)))
        (i32.const 1))
      (func (export "proxy_on_http_call_response") (param $ctx i32) (param $token i32) (param $nh i32) (param $bs i32) (param $nt i32)
        (if (i32.eqz (local.get $nh)) (then (return)))
        (drop (call $get_buffer (i32.const 4) (i32.const 0) (local.get $bs) (i32.const 1008) (i32.const 1012)))
        (drop (call $log (i32.const 2) (i32.load (i32.const 1008)) (i32.load (i32.const 1012))))
        (drop (call $continue (i32.const 0))))`,
  };
})();

test('http_call is dispatched, answered by the stub, and the filter resumes the request', async () => {
  const bytes = await buildProxyWat(HTTP_CALL_FILTER);
  const report = await executeScenario(bytes, scenario({ httpCallResponses: [{ status: 200, body: 'allowed' }] }));
  assert.equal(report.httpCalls.length, 1);
  const call = report.httpCalls[0]!;
  assert.equal(call.upstream, 'auth-cluster');
  assert.equal(header(call.headers, ':path'), '/check');
  assert.equal(call.timeoutMs, 5000);
  assert.equal(call.response?.status, 200);
  assert.deepEqual(report.logs.map((l) => [l.level, l.message, l.callback]), [['info', 'allowed', 'proxy_on_http_call_response']]);
  assert.ok(report.streams[0]!.upstream, 'the request reached the upstream after the filter resumed it');
  assert.equal(report.streams[0]!.client?.body, 'upstream body');
});

test('without a stub the call fails and the stopped request never reaches the upstream', async () => {
  const bytes = await buildProxyWat(HTTP_CALL_FILTER);
  const report = await executeScenario(bytes, scenario());
  assert.equal(report.streams[0]!.upstream, undefined);
  assert.match(report.streams[0]!.stopped ?? '', /proxy_on_request_headers returned StopIteration and the filter never resumed/);
});

test('a tick counts a metric and writes shared data that a stream reads', async () => {
  const bytes = await buildProxyWat({
    imports: `${ADD_HEADER}
      (import "env" "proxy_set_tick_period_milliseconds" (func $tick_period (param i32) (result i32)))
      (import "env" "proxy_define_metric" (func $define (param i32 i32 i32 i32) (result i32)))
      (import "env" "proxy_increment_metric" (func $incr (param i32 i64) (result i32)))
      (import "env" "proxy_set_shared_data" (func $set_shared (param i32 i32 i32 i32 i32) (result i32)))
      (import "env" "proxy_get_shared_data" (func $get_shared (param i32 i32 i32 i32 i32) (result i32)))`,
    body: `(data (i32.const 100) "ticks")
      (data (i32.const 110) "from-tick")
      (data (i32.const 120) "yes")
      (data (i32.const 130) "x-shared")
      (func (export "proxy_on_vm_start") (param i32 i32) (result i32)
        (drop (call $tick_period (i32.const 1000))) (i32.const 1))
      (func (export "proxy_on_tick") (param i32)
        (drop (call $define (i32.const 0) (i32.const 100) (i32.const 5) (i32.const 1000)))
        (drop (call $incr (i32.load (i32.const 1000)) (i64.const 2)))
        (drop (call $set_shared (i32.const 110) (i32.const 9) (i32.const 120) (i32.const 3) (i32.const 0))))
      (func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32)
        (if (i32.eqz (call $get_shared (i32.const 110) (i32.const 9) (i32.const 1008) (i32.const 1012) (i32.const 1016)))
          (then (drop (call $add (i32.const 0) (i32.const 130) (i32.const 8) (i32.load (i32.const 1008)) (i32.load (i32.const 1012))))))
        (i32.const 0))`,
  });
  const report = await executeScenario(bytes, scenario({ ticks: 2 }));
  assert.equal(report.tickPeriodMs, 1000);
  assert.equal(report.ticks, 2);
  assert.deepEqual(report.metrics, [{ name: 'ticks', type: 'counter', value: 4 }]);
  assert.deepEqual(report.sharedData, [{ key: '\0from-tick', value: 'yes', cas: 2 }]);
  assert.equal(header(report.streams[0]!.upstream?.headers, 'x-shared'), 'yes');
});

test('header maps: lowercase names, pseudo-headers first, repeated values, pairs round trip', () => {
  const m = new HeaderMap([['X-A', '1'], [':path', '/'], ['x-a', '2']]);
  assert.deepEqual(m.pairs(), [[':path', '/'], ['x-a', '1'], ['x-a', '2']]);
  assert.equal(m.get('X-A'), '1');
  m.replace('x-a', '3');
  assert.deepEqual(m.getAll('x-a'), ['3']);
  const bytes = serializePairs([['a', 'bc'], ['', '']]);
  assert.deepEqual([...bytes.subarray(0, 4)], [2, 0, 0, 0]);
  assert.deepEqual(deserializePairs(bytes), [['a', 'bc'], ['', '']]);
  assert.equal(deserializePairs(new Uint8Array([5, 0, 0, 0])), undefined);
});
