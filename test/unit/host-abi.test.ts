import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  ABI_VERSIONS,
  abiVersionsProviding,
  expectedExport,
  findHostFunction,
  formatSignature,
  HOST_FUNCTIONS,
  hostFunctionsFor,
  pickAbiVersion,
  pickAllocator,
  WASI_FUNCTION_NAMES,
  WASI_FUNCTION_NAMES_BEFORE_533,
} from '../../src/host/abi.js';
import { proxyWasmHostFunctions } from '../../src/wasm/proxy-wasm.js';
import { examplesDir } from '../helpers/paths.js';

function sigOf(module: string, name: string, abi: '0.1.0' | '0.2.0' | '0.2.1' = '0.2.1'): string | undefined {
  const f = findHostFunction(module, name, abi);
  return f === undefined ? undefined : formatSignature(f.signature);
}

test('host functions carry cpp-host exports.h signatures', () => {
  // The case: the AssemblyScript SDK imports it with 5 params; cpp-host takes 3.
  assert.equal(sigOf('env', 'proxy_get_buffer_status'), 'i32 i32 i32 -> i32');
  assert.equal(sigOf('env', 'proxy_increment_metric'), 'i32 i64 -> i32');
  assert.equal(sigOf('env', 'proxy_record_metric'), 'i32 i64 -> i32');
  assert.equal(sigOf('env', 'proxy_send_local_response'), 'i32 i32 i32 i32 i32 i32 i32 i32 -> i32');
  assert.equal(sigOf('env', 'proxy_http_call'), 'i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 -> i32');
  assert.equal(sigOf('env', 'proxy_done'), 'void -> i32');
  assert.equal(sigOf('env', 'emscripten_notify_memory_growth'), 'i32 -> void');
  assert.equal(sigOf('env', 'pthread_equal'), 'i32 i32 -> i32');
  assert.equal(sigOf('wasi_snapshot_preview1', 'clock_time_get'), 'i32 i64 i32 -> i32');
  assert.equal(sigOf('wasi_unstable', 'proc_exit'), 'i32 -> void');
  assert.equal(sigOf('wasi_snapshot_preview1', 'path_open'), 'i32 i32 i32 i32 i32 i64 i64 i32 i32 -> i32');
  assert.equal(sigOf('wasi_snapshot_preview1', 'fd_seek'), 'i32 i64 i32 i32 -> i32');
});

test('ABI-specific host functions are registered only for their versions', () => {
  assert.deepEqual(abiVersionsProviding('env', 'proxy_continue_request'), ['0.1.0']);
  assert.deepEqual(abiVersionsProviding('env', 'proxy_get_configuration'), ['0.1.0']);
  assert.deepEqual(abiVersionsProviding('env', 'proxy_clear_route_cache'), ['0.1.0']);
  assert.deepEqual(abiVersionsProviding('env', 'proxy_continue_stream'), ['0.2.0', '0.2.1']);
  assert.deepEqual(abiVersionsProviding('env', 'proxy_close_stream'), ['0.2.0', '0.2.1']);
  assert.deepEqual(abiVersionsProviding('env', 'proxy_get_log_level'), ['0.2.1']);
  assert.deepEqual(abiVersionsProviding('env', 'proxy_log'), ['0.1.0', '0.2.0', '0.2.1']);
  assert.deepEqual(abiVersionsProviding('env', 'proxy_not_a_function'), []);
});

test('the env names agree with the static proxy-wasm check for every version', () => {
  for (const abi of ABI_VERSIONS) {
    const env = hostFunctionsFor(abi).filter((f) => f.module === 'env').map((f) => f.name).sort();
    assert.deepEqual(env, proxyWasmHostFunctions(abi.replaceAll('.', '_') as '0_1_0' | '0_2_0' | '0_2_1'), abi);
  }
});

test('exactly the WASI functions cpp-host registers, under both module names', () => {
  assert.equal(WASI_FUNCTION_NAMES.length, 45);
  for (const module of ['wasi_snapshot_preview1', 'wasi_unstable']) {
    const names = HOST_FUNCTIONS.filter((f) => f.module === module).map((f) => f.name);
    assert.deepEqual(names, [...WASI_FUNCTION_NAMES], module);
  }
  assert.equal(findHostFunction('wasi_snapshot_preview1', 'proc_raise', '0.2.1'), undefined);
  assert.equal(findHostFunction('wasi_snapshot_preview1', 'not_a_wasi_function', '0.2.1'), undefined);
  for (const n of WASI_FUNCTION_NAMES_BEFORE_533) assert.ok(WASI_FUNCTION_NAMES.includes(n), n);
  // No duplicates within one module.
  const keys = HOST_FUNCTIONS.map((f) => `${f.module}.${f.name}`);
  assert.equal(new Set(keys).size, keys.length);
});

test('exports the host calls, with their signatures per ABI version', () => {
  assert.equal(formatSignature(expectedExport('malloc', '0.2.1')!.signature), 'i32 -> i32');
  assert.equal(formatSignature(expectedExport('proxy_on_memory_allocate', '0.1.0')!.signature), 'i32 -> i32');
  assert.equal(formatSignature(expectedExport('proxy_on_request_headers', '0.1.0')!.signature), 'i32 i32 -> i32');
  assert.equal(formatSignature(expectedExport('proxy_on_request_headers', '0.2.0')!.signature), 'i32 i32 i32 -> i32');
  assert.equal(formatSignature(expectedExport('proxy_on_response_headers', '0.2.1')!.signature), 'i32 i32 i32 -> i32');
  assert.equal(formatSignature(expectedExport('proxy_on_context_create', '0.2.1')!.signature), 'i32 i32 -> void');
  assert.equal(formatSignature(expectedExport('proxy_on_http_call_response', '0.2.1')!.signature), 'i32 i32 i32 i32 i32 -> void');
  assert.equal(formatSignature(expectedExport('_initialize', '0.2.1')!.signature), 'void -> void');
  assert.equal(formatSignature(expectedExport('main', '0.2.1')!.signature), 'i32 i32 -> i32');
  assert.equal(expectedExport('proxy_on_foreign_function', '0.1.0'), undefined);
  assert.ok(expectedExport('proxy_on_foreign_function', '0.2.0'));
  assert.equal(expectedExport('proxy_abi_version_0_2_1', '0.2.1'), undefined, 'marker exports are never called');
});

test('the ABI is the first known proxy_abi_version_* export; the allocator malloc first', () => {
  assert.equal(pickAbiVersion(['proxy_abi_version_9_9_9', 'proxy_abi_version_0_2_0', 'proxy_abi_version_0_1_0']), '0.2.0');
  assert.equal(pickAbiVersion(['memory', 'malloc']), undefined);
  assert.equal(pickAllocator(['proxy_on_memory_allocate', 'malloc']), 'malloc');
  assert.equal(pickAllocator(['proxy_on_memory_allocate']), 'proxy_on_memory_allocate');
  assert.equal(pickAllocator(['free']), undefined);
});

test('the example filter links against the table of its ABI', async () => {
  const module = await WebAssembly.compile(await readFile(join(examplesDir, 'example-filter.wasm')));
  const fnExports = WebAssembly.Module.exports(module).filter((e) => e.kind === 'function').map((e) => e.name);
  const abi = pickAbiVersion(fnExports);
  assert.equal(abi, '0.2.1');
  assert.equal(pickAllocator(fnExports), 'proxy_on_memory_allocate');
  for (const imp of WebAssembly.Module.imports(module)) {
    assert.ok(findHostFunction(imp.module, imp.name, abi!), `${imp.module}.${imp.name}`);
  }
});

test('v8LinkCheck: the example links; a mistyped import is refused with both types; nothing runs', async () => {
  const { v8LinkCheck } = await import('../../src/host/link-check.js');
  const { buildProxyWat } = await import('../helpers/proxy-wat.js');
  const ok = await v8LinkCheck(new Uint8Array(await readFile(join(examplesDir, 'example-filter.wasm'))));
  assert.deepEqual(ok, { ok: true, depth: 'linked', abiVersion: '0.2.1', allocator: 'proxy_on_memory_allocate' });
  const bad = await v8LinkCheck(await buildProxyWat({ imports: '(import "env" "proxy_get_buffer_status" (func (param i32 i32 i32 i32 i32) (result i32)))', body: '' }));
  assert.equal(bad.ok, false);
  assert.match(bad.reason!, /import type mismatch: env\.proxy_get_buffer_status/);
  const problems = (bad as { problems?: { expected?: string; actual?: string }[] }).problems!;
  assert.deepEqual([problems[0]!.actual, problems[0]!.expected], ['i32 i32 i32 i32 i32 -> i32', 'i32 i32 i32 -> i32']);
  // A start function that loops forever is never run by the check.
  const looping = await buildProxyWat({ body: '(func $s (loop $l (br $l))) (start $s)' });
  assert.equal((await v8LinkCheck(looping)).ok, true);
});

test('memory: a module with neither an imported nor an exported memory is refused, saying V8 links it', async () => {
  const { v8LinkCheck } = await import('../../src/host/link-check.js');
  const { buildWat } = await import('../helpers/wat.js');
  // broken-no-memory defines its memory without exporting it: cpp-host's memory_ stays null.
  const none = await v8LinkCheck(await buildWat('broken-no-memory'));
  assert.equal(none.ok, false);
  assert.equal(none.depth, 'linked');
  assert.match(none.reason!, /^Envoy \(V8\) links the module but cannot run it: the module neither exports nor imports a memory/);
  assert.deepEqual(none.problems!.map((p) => [p.subject, p.afterLink]), [['memory', true]]);
  // An imported memory is the host's own (V8::link creates it): it links.
  const imported = await v8LinkCheck(await buildWat('host-imported-memory'));
  assert.deepEqual(imported, { ok: true, depth: 'linked', abiVersion: '0.2.1', allocator: 'malloc' });
});

test('memory: the host reads an imported memory, so a filter that imports it runs and logs', async () => {
  const { executeScenario } = await import('../../src/host/scenario.js');
  const { buildWat } = await import('../helpers/wat.js');
  const report = await executeScenario(await buildWat('host-imported-memory'), {
    request: { method: 'GET', path: '/', authority: 'a', headers: [] },
    response: { status: 200, body: [] },
  });
  assert.deepEqual(report.logs.map((l) => [l.level, l.message]), [['info', 'imported memory works']]);
});
