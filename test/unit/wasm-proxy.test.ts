import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { WasmOciError } from '../../src/errors.js';
import { inspectWasm } from '../../src/wasm/inspect.js';
import { checkProxyWasm, proxyWasmHostFunctions } from '../../src/wasm/proxy-wasm.js';
import {
  encodeRuntimeConfig,
  generateRuntimeConfig,
  parseRuntimeConfig,
  WASME_ABI_VERSIONS,
} from '../../src/wasm/runtime-config.js';
import type { WasmInfo } from '../../src/wasm/types.js';
import { v8LinkCheck } from '../../src/host/link-check.js';
import { examplesDir } from '../helpers/paths.js';
import { buildSdkFilter } from '../helpers/sdk-filter.js';
import { buildWat } from '../helpers/wat.js';

async function inspectFixture(name: string): Promise<WasmInfo> {
  return inspectWasm(await buildWat(name), { name: `${name}.wasm` });
}

test('a module that imports proxy host functions but exports no ABI version is named for it', async () => {
  const info = await inspectFixture('broken-no-abi');
  assert.ok(info.proxyWasm, 'recognised as a would-be filter from its env.proxy_* imports');
  assert.deepEqual(info.proxyWasm.abiVersions, []);
  // cpp-host's WasmBase::load stops here, before linking: this is the only problem.
  assert.deepEqual(info.proxyWasm.problems, [
    'Missing or unknown Proxy-Wasm ABI version (no proxy_abi_version_0_1_0, _0_2_0 or _0_2_1 function export)',
  ]);
  assert.equal(info.proxyWasm.allocator, 'proxy_on_memory_allocate');
});

test('a filter without an allocator export is named for it', async () => {
  const info = await inspectFixture('broken-no-allocator');
  assert.equal(info.proxyWasm?.allocator, undefined);
  assert.deepEqual(info.proxyWasm?.problems, ['Wasm module is missing malloc function (it exports neither malloc nor proxy_on_memory_allocate)']);
});

test('a filter whose memory is neither exported nor imported is named for it', async () => {
  const info = await inspectFixture('broken-no-memory');
  assert.deepEqual(info.memories, { count: 1, exported: false });
  assert.equal(info.proxyWasm?.memoryExported, false);
  assert.equal(info.proxyWasm?.problems.length, 1);
  assert.match(info.proxyWasm!.problems[0]!, /^the module neither exports nor imports a memory: V8 links it, but Envoy has none/);
});

test('imports outside the ABI version are each named, as cpp-host names them', async () => {
  const info = await inspectFixture('broken-unknown-import');
  assert.deepEqual(info.proxyWasm?.abiVersions, ['0_2_1']);
  assert.deepEqual(
    info.proxyWasm?.unknownImports.map((i) => `${i.module}.${i.name}`),
    ['env.foo_bar', 'env.proxy_continue_request', 'custom_host.get_secret'],
  );
  assert.deepEqual(info.proxyWasm?.problems, [
    'Failed to load Wasm module due to a missing import: env.foo_bar',
    'Failed to load Wasm module due to a missing import: env.proxy_continue_request (the host registers it for ABI 0.1.0, the module declares 0.2.1)',
    'Failed to load Wasm module due to a missing import: custom_host.get_secret',
  ]);
});

test('host functions are checked against the ABI version the module declares', async () => {
  // proxy_get_configuration exists only in ABI 0.1.0: fine there, refused for 0.2.1.
  const v010 = await inspectFixture('filter-abi-0_1_0');
  assert.deepEqual(v010.proxyWasm?.problems, []);
  const relabelled: WasmInfo = {
    ...v010,
    exports: v010.exports.map((e) => (e.name === 'proxy_abi_version_0_1_0' ? { ...e, name: 'proxy_abi_version_0_2_1' } : e)),
  };
  // Names only (no types given): the name rules still apply.
  const checked = checkProxyWasm(relabelled);
  assert.deepEqual(checked.abiVersions, ['0_2_1']);
  assert.deepEqual(
    checked.unknownImports.map((i) => i.name),
    ['proxy_get_configuration', 'proxy_continue_request'],
  );
  assert.ok(proxyWasmHostFunctions('0_2_1').includes('proxy_get_log_level'));
  assert.ok(!proxyWasmHostFunctions('0_2_0').includes('proxy_get_log_level'));
  assert.ok(proxyWasmHostFunctions('0_1_0').includes('proxy_get_configuration'));
});

test('an unknown ABI version export alone is named; an imported memory is no problem', () => {
  const info: WasmInfo = {
    kind: 'module',
    version: 1,
    size: 100,
    sha256: '0'.repeat(64),
    imports: [{ module: 'env', name: 'memory', kind: 'memory' }],
    exports: [
      { name: 'proxy_abi_version_0_3_0', kind: 'function' },
      { name: 'malloc', kind: 'function' },
    ],
    memories: { count: 1, exported: false },
    customSections: [],
  };
  assert.deepEqual(checkProxyWasm(info).problems, [
    'Missing or unknown Proxy-Wasm ABI version (no proxy_abi_version_0_1_0, _0_2_0 or _0_2_1 function export; proxy_abi_version_0_3_0 is not one cpp-host knows)',
  ]);
  const known: WasmInfo = { ...info, exports: [...info.exports, { name: 'proxy_abi_version_0_2_1', kind: 'function' }] };
  assert.deepEqual(checkProxyWasm(known).problems, []);
});

test('a plain WASI module checked as a filter is refused for its missing ABI version', async () => {
  const info = await inspectFixture('plain-wasi');
  assert.equal(info.proxyWasm, undefined);
  assert.deepEqual(checkProxyWasm(info).problems, [
    'Missing or unknown Proxy-Wasm ABI version (no proxy_abi_version_0_1_0, _0_2_0 or _0_2_1 function export)',
  ]);
});

// Before the static check was derived from the host's link rules, it read names only, with its
// own lists: each case below is one where it and the V8 link check (host/link-check.ts) gave
// different answers (the old static answer in the comment). Now both give the same problems and
// the same allocator.
const AGREEMENT_CASES: Array<{ name: string; bytes: () => Promise<Uint8Array>; ok: boolean; allocator?: string; was: string }> = [
  { name: 'imported memory', bytes: () => buildWat('host-imported-memory'), ok: true, allocator: 'malloc', was: 'imports memory env.memory; proxy-wasm hosts provide only functions' },
  { name: 'imported table, unknown ABI marker before a known one', bytes: () => buildWat('agree-unknown-abi-first'), ok: true, allocator: 'malloc', was: 'exports proxy_abi_version_0_3_0, an ABI version proxy-wasm hosts do not know; imports table ...' },
  { name: 'WASI names outside cpp-host\'s list', bytes: () => buildWat('link-unregistered-wasi'), ok: false, allocator: 'malloc', was: 'pass' },
  { name: 'proxy_on_memory_allocate exported before malloc', bytes: () => buildWat('agree-allocator-order'), ok: true, allocator: 'malloc', was: 'allocator proxy_on_memory_allocate' },
  { name: 'malloc (i64) -> i64 and a 0.1.0-arity callback in a 0.2.0 module', bytes: () => buildWat('link-wrong-export-signature'), ok: false, allocator: 'malloc', was: 'pass' },
  { name: 'an imported global', bytes: () => buildWat('link-imported-global'), ok: false, allocator: 'malloc', was: 'imports global ...; proxy-wasm hosts provide only functions' },
  { name: 'a private memory', bytes: () => buildWat('broken-no-memory'), ok: false, allocator: 'proxy_on_memory_allocate', was: 'no exported memory (and V8 linked it)' },
  { name: 'the SDK filter importing proxy_get_buffer_status with 5 params', bytes: () => buildSdkFilter('setBufferStatus'), ok: false, allocator: 'malloc', was: 'pass' },
  { name: 'the example filter', bytes: async () => new Uint8Array(await readFile(join(examplesDir, 'example-filter.wasm'))), ok: true, allocator: 'proxy_on_memory_allocate', was: 'pass' },
];

test('the static check and the V8 link check agree where they used to disagree', { timeout: 240_000 }, async () => {
  for (const c of AGREEMENT_CASES) {
    const bytes = await c.bytes();
    const info = inspectWasm(bytes, { name: c.name });
    const link = await v8LinkCheck(bytes);
    assert.ok(info.proxyWasm, c.name);
    assert.equal(link.ok, c.ok, `${c.name}: ${link.reason ?? ''}`);
    assert.deepEqual(info.proxyWasm.problems, (link.problems ?? []).map((p) => p.message), `${c.name} (the old static check said: ${c.was})`);
    assert.equal(info.proxyWasm.problems.length === 0, c.ok, c.name);
    assert.equal(info.proxyWasm.allocator, c.allocator, c.name);
    assert.equal(link.allocator, c.allocator, c.name);
  }
});

// ---------------------------------------------------------------------------------------------------
// runtime config

test('generateRuntimeConfig takes abiVersions from the module in wasme spelling and rootIds from options', async () => {
  const example = inspectWasm(new Uint8Array(await readFile(join(examplesDir, 'example-filter.wasm'))));
  assert.deepEqual(generateRuntimeConfig(example, { rootIds: ['my_root_id'] }), {
    type: 'envoy_proxy',
    abiVersions: ['v0.2.1'],
    config: { rootIds: ['my_root_id'] },
  });
  const v020 = await inspectFixture('filter-abi-0_2_0');
  assert.deepEqual(generateRuntimeConfig(v020).abiVersions, ['v0-4689a30309abf31aee9ae36e73d34b1bb182685f']);
  assert.deepEqual(generateRuntimeConfig(v020).config, { rootIds: [] });
  const v010 = await inspectFixture('filter-abi-0_1_0');
  assert.deepEqual(generateRuntimeConfig(v010).abiVersions, [WASME_ABI_VERSIONS['0_1_0']]);
  const plain = await inspectFixture('plain-wasi');
  assert.deepEqual(generateRuntimeConfig(plain).abiVersions, []);
  assert.deepEqual(generateRuntimeConfig(plain, { abiVersions: ['custom'] }).abiVersions, ['custom']);
});

test('the example runtime-config.json parses and matches what generation gives the example', async () => {
  const fromFile = parseRuntimeConfig(new Uint8Array(await readFile(join(examplesDir, 'runtime-config.json'))));
  const example = inspectWasm(new Uint8Array(await readFile(join(examplesDir, 'example-filter.wasm'))));
  assert.deepEqual(fromFile, generateRuntimeConfig(example, { rootIds: ['my_root_id'] }));
});

test('encodeRuntimeConfig round-trips and is stable', () => {
  const config = { type: 'envoy_proxy', abiVersions: ['v0.2.1'], config: { rootIds: ['a', 'b'] } };
  const bytes = encodeRuntimeConfig(config);
  assert.equal(new TextDecoder().decode(bytes), '{"type":"envoy_proxy","abiVersions":["v0.2.1"],"config":{"rootIds":["a","b"]}}');
  assert.deepEqual(parseRuntimeConfig(bytes), config);
});

test('parseRuntimeConfig fills omitted repeated fields and keeps extra config keys', () => {
  assert.deepEqual(parseRuntimeConfig('{"type":"envoy_proxy"}'), { type: 'envoy_proxy', abiVersions: [], config: { rootIds: [] } });
  assert.deepEqual(parseRuntimeConfig('{"type":"envoy_proxy","config":{"rootIds":["r"],"x":1}}').config, { rootIds: ['r'], x: 1 });
});

test('parseRuntimeConfig refuses bad JSON and bad shapes with E_INVALID_INPUT', () => {
  const bad: [string | Uint8Array, RegExp][] = [
    ['not json', /not JSON/],
    ['[]', /expected a JSON object/],
    ['null', /expected a JSON object/],
    ['{}', /"type" must be a non-empty string/],
    ['{"type":""}', /"type" must be a non-empty string/],
    ['{"type":"envoy_proxy","abiVersions":"v0.2.1"}', /"abiVersions" must be an array of strings/],
    ['{"type":"envoy_proxy","abiVersions":[1]}', /"abiVersions" must be an array of strings/],
    ['{"type":"envoy_proxy","config":[]}', /"config" must be an object/],
    ['{"type":"envoy_proxy","config":{"rootIds":"r"}}', /"config.rootIds" must be an array of strings/],
    [new Uint8Array([0x7b, 0xff, 0x7d]), /not UTF-8/],
  ];
  for (const [input, message] of bad) {
    assert.throws(
      () => parseRuntimeConfig(input),
      (err: unknown) => err instanceof WasmOciError && err.code === 'E_INVALID_INPUT' && message.test(err.message),
      String(input),
    );
  }
});
