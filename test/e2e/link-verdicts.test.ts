import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';
import { examplesDir } from '../helpers/paths.js';
import { writeSdkFilter } from '../helpers/sdk-filter.js';
import { makeTempDir } from '../helpers/tmp.js';
import { buildWat } from '../helpers/wat.js';

// Verdicts from V8 linking against the host table (issue 12 item 4): `inspect --strict` is the CI gate.
const REFUSED = 7;

async function watFile(dir: string, name: string): Promise<string> {
  const path = join(dir, `${name}.wasm`);
  await writeFile(path, await buildWat(name));
  return path;
}

test('inspect --strict: filters that link exit 0 and say V8 links them', async (t) => {
  const dir = await makeTempDir(t, 'link-ok');
  const sdk = await writeSdkFilter('addHeader', join(dir, 'add-header.wasm'));
  for (const file of [join(examplesDir, 'example-filter.wasm'), sdk]) {
    const r = await runCli(['inspect', '--strict', file]);
    assert.equal(r.code, 0, `${file}\n${r.stdout}\n${r.stderr}`);
    assert.match(r.stdout, /✓ proxy-wasm \(Envoy\)\s+V8 links it against the proxy-wasm host \(ABI 0\.2\.[01]\)/);
  }
});

test('inspect --strict: the SDK filter calling proxy_set_buffer_status is refused with the import and both signatures', async (t) => {
  const dir = await makeTempDir(t, 'link-sdk');
  const file = await writeSdkFilter('setBufferStatus', join(dir, 'set-buffer-status.wasm'));
  const r = await runCli(['inspect', '--strict', file]);
  assert.equal(r.code, REFUSED, `${r.stdout}\n${r.stderr}`);
  assert.match(r.stdout, /Envoy \(V8\) refuses it/);
  assert.match(r.stdout, /env\.proxy_get_buffer_status/);
  assert.match(r.stdout, /i32 i32 i32 i32 i32 -> i32/);
  assert.match(r.stdout, /i32 i32 i32 -> i32/);
  // The static "Filter checks" line applies the same link rules: it no longer says pass.
  assert.match(r.stdout, /Filter checks:\s+Failed to load Wasm module due to an import type mismatch: env\.proxy_get_buffer_status/);
  const plain = await runCli(['inspect', file]);
  assert.equal(plain.code, 0, 'without --strict the report is information only');
  const json = await runCli(['inspect', '--strict', '--format', 'json', file]);
  assert.equal(json.code, REFUSED);
  const doc = JSON.parse(json.stdout);
  const envoy = doc.verdicts.find((v: { consumer: string }) => v.consumer === 'proxy-wasm');
  assert.equal(envoy.ok, false);
  assert.equal(envoy.targeted, true);
});

test('inspect --strict: a wrong export signature, an unregistered WASI name and an imported global are refused', async (t) => {
  const dir = await makeTempDir(t, 'link-wat');
  const cases: Array<[string, RegExp]> = [
    ['link-wrong-export-signature', /malloc/],
    ['link-unregistered-wasi', /proc_raise|not_a_wasi_function/],
    ['link-imported-global', /__memory_base/],
  ];
  for (const [name, reason] of cases) {
    const r = await runCli(['inspect', '--strict', await watFile(dir, name)]);
    assert.equal(r.code, REFUSED, `${name}\n${r.stdout}\n${r.stderr}`);
    assert.match(r.stdout, /Envoy \(V8\) refuses it/, name);
    assert.match(r.stdout, reason, name);
  }
});

test('push of a module Envoy would refuse: a warning, and with --strict exit 7 and nothing pushed', async (t) => {
  const dir = await makeTempDir(t, 'link-push');
  const file = await writeSdkFilter('setBufferStatus', join(dir, 'set-buffer-status.wasm'));
  const warned = await runCli(['push', '--oci-layout', `${join(dir, 'warned')}:v1`, file]);
  assert.equal(warned.code, 0, warned.stderr);
  assert.match(warned.stderr, /Envoy \(V8\) would refuse the module: .*env\.proxy_get_buffer_status/);
  const strict = await runCli(['push', '--strict', '--oci-layout', `${join(dir, 'strict')}:v1`, file]);
  assert.equal(strict.code, REFUSED, strict.stderr);
  assert.match(strict.stderr, /Envoy \(V8\) refuses the module: .*i32 i32 i32 i32 i32 -> i32/);
  const tags = await runCli(['repo', 'tags', '--oci-layout', join(dir, 'strict')]);
  assert.doesNotMatch(tags.stdout, /v1/, 'nothing was tagged');
  const ok = await runCli(['push', '--strict', '--oci-layout', `${join(dir, 'ok')}:v1`, join(examplesDir, 'example-filter.wasm')]);
  assert.equal(ok.code, 0, ok.stderr);
  assert.doesNotMatch(ok.stderr, /would refuse/);
});

test('inspect --strict of a reference: Envoy and Istio judge the module by the same V8 link check as inspect FILE', async (t) => {
  const dir = await makeTempDir(t, 'link-ref');
  const file = await writeSdkFilter('setBufferStatus', join(dir, 'set-buffer-status.wasm'));
  const store = join(dir, 'store');
  assert.equal((await runCli(['push', '--oci-layout', `${store}:bad`, file])).code, 0);
  assert.equal((await runCli(['push', '--oci-layout', `${store}:good`, join(examplesDir, 'example-filter.wasm')])).code, 0);

  const bad = await runCli(['inspect', '--strict', '--oci-layout', `${store}:bad`]);
  assert.equal(bad.code, REFUSED, `${bad.stdout}\n${bad.stderr}`);
  assert.match(bad.stdout, /✗ proxy-wasm \(Envoy\)\s+Envoy \(V8\) refuses it/);
  assert.match(bad.stdout, /import type mismatch: env\.proxy_get_buffer_status, want: i32 i32 i32 i32 i32 -> i32, but host exports: i32 i32 i32 -> i32/);
  assert.match(bad.stdout, /✗ Istio \(WasmPlugin oci:\/\/\)\s+fetches it \(oci variant\), but the module fails/);
  assert.doesNotMatch(bad.stdout, /not linked against the host/);
  const doc = JSON.parse((await runCli(['inspect', '--format', 'json', '--oci-layout', `${store}:bad`])).stdout);
  const envoy = doc.verdicts.find((v: { consumer: string }) => v.consumer === 'proxy-wasm');
  assert.deepEqual([envoy.ok, envoy.targeted, envoy.variant], [false, true, 'ABI 0.2.0']);

  const good = await runCli(['inspect', '--strict', '--oci-layout', `${store}:good`]);
  assert.equal(good.code, 0, `${good.stdout}\n${good.stderr}`);
  assert.match(good.stdout, /✓ proxy-wasm \(Envoy\)\s+V8 links it against the proxy-wasm host \(ABI 0\.2\.1\)/);
  assert.match(good.stdout, /✓ Istio \(WasmPlugin oci:\/\/\)\s+fetches it \(oci variant\) and V8 links it$/m);
});
