import assert from 'node:assert/strict';
import test from 'node:test';
import { buildSdkFilter } from '../helpers/sdk-filter.js';

// The filters the link tests use are built here, at test time, by the real AssemblyScript SDK
// (@solo-io/proxy-runtime 0.1.8, asc 0.14.9): these checks say the build gave what the tests expect.
test('SDK filters build with @solo-io/proxy-runtime 0.1.8 and asc 0.14.9', { timeout: 240_000 }, async () => {
  const add = new WebAssembly.Module(await buildSdkFilter('addHeader'));
  const addImports = WebAssembly.Module.imports(add).map((i) => `${i.module}.${i.name}`);
  assert.ok(addImports.includes('env.proxy_add_header_map_value'), addImports.join(', '));
  const addExports = WebAssembly.Module.exports(add).map((e) => e.name);
  for (const e of ['proxy_abi_version_0_2_0', 'malloc', 'memory', 'proxy_on_response_headers']) assert.ok(addExports.includes(e), e);

  const setBuf = new WebAssembly.Module(await buildSdkFilter('setBufferStatus'));
  const setImports = WebAssembly.Module.imports(setBuf).map((i) => `${i.module}.${i.name}`);
  // The SDK binds its proxy_set_buffer_status to this import name (assembly/imports.ts).
  assert.ok(setImports.includes('env.proxy_get_buffer_status'), setImports.join(', '));
});
