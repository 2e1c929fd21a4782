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
import { examplesDir } from '../helpers/paths.js';
import { buildWat } from '../helpers/wat.js';

async function inspectFixture(name: string): Promise<WasmInfo> {
  return inspectWasm(await buildWat(name), { name: `${name}.wasm` });
}

test('a module that imports proxy host functions but exports no ABI version is named for it', async () => {
  const info = await inspectFixture('broken-no-abi');
  assert.ok(info.proxyWasm, 'recognised as a would-be filter from its env.proxy_* imports');
  assert.deepEqual(info.proxyWasm.abiVersions, []);
  assert.deepEqual(info.proxyWasm.problems, [
    'no proxy_abi_version_* export (one of proxy_abi_version_0_1_0, proxy_abi_version_0_2_0, proxy_abi_version_0_2_1)',
  ]);
  assert.equal(info.proxyWasm.allocator, 'proxy_on_memory_allocate');
});

test('a filter without an allocator export is named for it', async () => {
  const info = await inspectFixture('broken-no-allocator');
  assert.equal(info.proxyWasm?.allocator, undefined);
  assert.deepEqual(info.proxyWasm?.problems, ['no allocator export (proxy_on_memory_allocate or malloc)']);
});

test('a filter whose memory is not exported is named for it', async () => {
  const info = await inspectFixture('broken-no-memory');
  assert.deepEqual(info.memories, { count: 1, exported: false });
  assert.equal(info.proxyWasm?.memoryExported, false);
  assert.deepEqual(info.proxyWasm?.problems, ['no exported memory']);
});

test('imports outside the ABI version and WASI are each named', async () => {
  const info = await inspectFixture('broken-unknown-import');
  assert.deepEqual(info.proxyWasm?.abiVersions, ['0_2_1']);
  assert.deepEqual(
    info.proxyWasm?.unknownImports.map((i) => `${i.module}.${i.name}`),
    ['env.foo_bar', 'env.proxy_continue_request', 'custom_host.get_secret'],
  );
  assert.deepEqual(info.proxyWasm?.problems, [
    'imports env.foo_bar, which is not a host function of proxy-wasm ABI 0.2.1',
    'imports env.proxy_continue_request, which is not a host function of proxy-wasm ABI 0.2.1 (it belongs to ABI 0.1.0)',
    'imports custom_host.get_secret from module "custom_host"; proxy-wasm hosts provide only env and WASI (wasi_snapshot_preview1, wasi_unstable)',
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

test('an unknown ABI version export and non-function imports are problems', () => {
  const info: WasmInfo = {
    kind: 'module',
    version: 1,
    size: 100,
    sha256: '0'.repeat(64),
    imports: [{ module: 'env', name: 'memory', kind: 'memory' }],
    exports: [
      { name: 'proxy_abi_version_0_3_0', kind: 'function' },
      { name: 'malloc', kind: 'function' },
      { name: 'memory', kind: 'memory' },
    ],
    memories: { count: 1, exported: true },
    customSections: [],
  };
  assert.deepEqual(checkProxyWasm(info).problems, [
    'exports proxy_abi_version_0_3_0, an ABI version proxy-wasm hosts do not know (known: 0_1_0, 0_2_0, 0_2_1)',
    'no proxy_abi_version_* export (one of proxy_abi_version_0_1_0, proxy_abi_version_0_2_0, proxy_abi_version_0_2_1)',
    'imports memory env.memory; proxy-wasm hosts provide only functions',
  ]);
});

test('a plain WASI module checked as a filter fails every rule it breaks', async () => {
  const info = await inspectFixture('plain-wasi');
  assert.equal(info.proxyWasm, undefined);
  assert.deepEqual(checkProxyWasm(info).problems, [
    'no proxy_abi_version_* export (one of proxy_abi_version_0_1_0, proxy_abi_version_0_2_0, proxy_abi_version_0_2_1)',
    'no allocator export (proxy_on_memory_allocate or malloc)',
  ]);
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
