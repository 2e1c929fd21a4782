// Consumer rules as the upstream code has them (issue 12 item 5), each case an OCI layout written
// by hand (test/helpers/hand-layout.ts) and read through inspectReference. Expected values are
// written out from the cited upstream code, never computed by the code under test.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { OciLayoutStore } from '../../src/content/oci-layout.js';
import { inspectReference, type InspectReferenceOptions } from '../../src/operations/inspect.js';
import type { ConsumerVerdict } from '../../src/wasm/verdicts.js';
import { HandLayout, MT, handImageConfig, handTarGzip, hblob } from '../helpers/hand-layout.js';
import { examplesDir } from '../helpers/paths.js';
import { makeTempDir } from '../helpers/tmp.js';
import { buildWat } from '../helpers/wat.js';

const example = new Uint8Array(await readFile(join(examplesDir, 'example-filter.wasm')));
const runtimeConfig = await readFile(join(examplesDir, 'runtime-config.json'));
const noAbi = await buildWat('broken-no-abi');
const hex = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

async function verdictsOf(dir: string, tag: string, extra: Partial<InspectReferenceOptions> = {}): Promise<Record<string, ConsumerVerdict>> {
  const r = await inspectReference({ target: new OciLayoutStore(dir), reference: tag, ...extra });
  return Object.fromEntries(r.verdicts.map((v) => [v.consumer, v]));
}

async function layout(t: TestContext): Promise<HandLayout> {
  return new HandLayout(join(await makeTempDir(t), 'layout'));
}

const soloConfig = () => hblob(MT.soloConfig, runtimeConfig);

test('Istio: a Docker manifest takes the Docker path only, even when compat would have worked', async (t) => {
  const l = await layout(t);
  const tgz = await handTarGzip([['plugin.wasm', example]]);
  // The layer is OCI-typed: fine for compat, wrong for the Docker path Istio takes for this manifest.
  const m = await l.manifest(handImageConfig([tgz.diffId], MT.dockerConfig), [hblob(MT.tarGzip, tgz.gz)], { mediaType: MT.dockerManifest });
  await l.tag('v1', m);
  const { istio } = await verdictsOf(l.dir, 'v1');
  assert.equal(istio!.ok, false);
  assert.equal(istio!.variant, 'docker');
  assert.deepEqual(istio!.reasons, [`could not extract Wasm file from the image as Docker container invalid media type ${MT.tarGzip} (expect ${MT.dockerLayer})`]);

  const ok = await layout(t);
  const good = await ok.manifest(handImageConfig([tgz.diffId], MT.dockerConfig), [hblob(MT.dockerLayer, tgz.gz)], { mediaType: MT.dockerManifest });
  await ok.tag('v1', good);
  const v = (await verdictsOf(ok.dir, 'v1')).istio!;
  assert.deepEqual([v.ok, v.variant, v.module?.entryName, v.module?.sha256], [true, 'docker', 'plugin.wasm', hex(example)]);
});

test('Istio compat: the first entry whose base name is plugin.wasm wins, and that module is judged', async (t) => {
  const l = await layout(t);
  const tgz = await handTarGzip([
    ['README', Buffer.from('not this')],
    ['old/plugin.wasm', noAbi],
    ['plugin.wasm', example],
  ]);
  const m = await l.manifest(handImageConfig([tgz.diffId]), [hblob(MT.tarGzip, tgz.gz)]);
  await l.tag('v1', m);
  const istio = (await verdictsOf(l.dir, 'v1')).istio!;
  assert.equal(istio.variant, 'compat');
  assert.equal(istio.module?.entryName, 'old/plugin.wasm');
  assert.equal(istio.module?.sha256, hex(noAbi));
  assert.equal(istio.ok, false, 'the module Istio reads has no ABI export');
  assert.equal(istio.summary, 'fetches it (compat variant), but the module fails');
  assert.match(istio.reasons[0]!, /^old\/plugin\.wasm in layer 0: Missing or unknown Proxy-Wasm ABI version/);

  // Reversed order: Istio reads the good one.
  const r = await layout(t);
  const rev = await handTarGzip([['plugin.wasm', example], ['old/plugin.wasm', noAbi]]);
  await r.tag('v1', await r.manifest(handImageConfig([rev.diffId]), [hblob(MT.tarGzip, rev.gz)]));
  const ok = (await verdictsOf(r.dir, 'v1')).istio!;
  assert.deepEqual([ok.ok, ok.module?.entryName, ok.module?.sha256], [true, 'plugin.wasm', hex(example)]);
  assert.equal(ok.summary, 'fetches it (compat variant) and V8 links it');
});

test('Istio compat: the 256 MiB limit is on the whole uncompressed tar stream, not on the entry', async (t) => {
  // The limit lowered to 4 KiB stands in for 256 MiB: a 2.5 KiB side file before a module that fits
  // on its own (tar: 512-byte headers, data padded to 512) pushes plugin.wasm past what Istio reads.
  const limit = 4096;
  const padded = await handTarGzip([['big.bin', Buffer.alloc(2560, 1)], ['plugin.wasm', example]]);
  assert.ok(example.length < 1024 && 512 + 2560 + 512 + example.length > limit, 'the example module alone fits the lowered limit');
  const l = await layout(t);
  await l.tag('v1', await l.manifest(handImageConfig([padded.diffId]), [hblob(MT.tarGzip, padded.gz)]));
  const istio = (await verdictsOf(l.dir, 'v1', { istioLimit: limit })).istio!;
  assert.equal(istio.ok, false);
  assert.deepEqual(istio.reasons, [
    'could not parse as compat variant: could not extract wasm binary: failed to read plugin.wasm: unexpected EOF',
    'could not parse as oci variant: number of layers must be 2 but got 1',
  ]);

  const alone = await handTarGzip([['plugin.wasm', example]]);
  const a = await layout(t);
  await a.tag('v1', await a.manifest(handImageConfig([alone.diffId]), [hblob(MT.tarGzip, alone.gz)]));
  assert.equal((await verdictsOf(a.dir, 'v1', { istioLimit: limit })).istio!.ok, true);
});

test('Istio: compat is tried before the oci variant; the oci variant reads the first module-typed layer of exactly 2', async (t) => {
  // Two layers: a Solo module layer (good), then a compat tar (broken module). Compat wins.
  const tgz = await handTarGzip([['plugin.wasm', noAbi]]);
  const both = await layout(t);
  await both.tag('v1', await both.manifest(soloConfig(), [hblob(MT.soloLayer, example, 'good.wasm'), hblob(MT.tarGzip, tgz.gz)]));
  const c = (await verdictsOf(both.dir, 'v1')).istio!;
  assert.deepEqual([c.variant, c.module?.layerIndex, c.module?.sha256, c.ok], ['compat', 1, hex(noAbi), false]);

  // Two Solo module layers: the first one is the module.
  const two = await layout(t);
  await two.tag('v1', await two.manifest(soloConfig(), [hblob(MT.soloLayer, noAbi, 'a.wasm'), hblob(MT.soloLayer, example, 'b.wasm')]));
  const o = (await verdictsOf(two.dir, 'v1')).istio!;
  assert.deepEqual([o.variant, o.module?.layerIndex, o.module?.sha256, o.ok], ['oci', 0, hex(noAbi), false]);
  assert.equal(o.summary, 'fetches it (oci variant), but the module fails');

  // Three layers: neither variant.
  const three = await layout(t);
  await three.tag('v1', await three.manifest(soloConfig(), [hblob(MT.soloConfig, runtimeConfig), hblob(MT.soloLayer, example), hblob(MT.soloLayer, example)]));
  assert.deepEqual((await verdictsOf(three.dir, 'v1')).istio!.reasons, [
    `could not parse as compat variant: invalid media type ${MT.soloLayer} (expect ${MT.tarGzip})`,
    'could not parse as oci variant: number of layers must be 2 but got 3',
  ]);
});

test('Istio oci variant: a module layer over the limit is cut at the limit, and the cut module fails', async (t) => {
  const l = await layout(t);
  await l.tag('v1', await l.manifest(soloConfig(), [hblob(MT.soloConfig, runtimeConfig), hblob(MT.soloLayer, example)]));
  const limit = 256;
  const istio = (await verdictsOf(l.dir, 'v1', { istioLimit: limit })).istio!;
  assert.equal(istio.ok, false);
  assert.equal(istio.module?.size, limit);
  assert.deepEqual(istio.notes, [`the module layer is ${example.length} bytes; Istio reads only its first ${limit} bytes (MaxWasmBinarySizeBytes)`]);
  assert.match(istio.reasons[0]!, /V8 cannot compile the module/);
});

test('Istio: an index resolves to its linux/amd64 child as go-containerregistry does, not to the wasm one', async (t) => {
  const l = await layout(t);
  const wasmChild = await l.manifest(soloConfig(), [hblob(MT.soloConfig, runtimeConfig), hblob(MT.soloLayer, example)]);
  const amd64 = await l.manifest(soloConfig(), [hblob(MT.soloConfig, runtimeConfig), hblob(MT.soloLayer, noAbi)]);
  const index = await l.index([{ manifest: wasmChild, platform: { architecture: 'wasm', os: 'wasip1' } }, { manifest: amd64, platform: { architecture: 'amd64', os: 'linux' } }]);
  await l.tag('v1', index);
  const r = await inspectReference({ target: new OciLayoutStore(l.dir), reference: 'v1' });
  assert.equal(r.descriptor.digest, `sha256:${hex(wasmChild.bytes)}`, 'pull and the other verdicts take the wasm child');
  const istio = r.verdicts.find((v) => v.consumer === 'istio')!;
  assert.equal(istio.module?.sha256, hex(noAbi), 'Istio reads the linux/amd64 child');
  assert.equal(istio.ok, false);
  assert.deepEqual(istio.notes, [`the index resolves to its linux/amd64 child sha256:${hex(amd64.bytes)}, as go-containerregistry does for Istio (a child without a platform counts as linux/amd64)`]);

  // A child without a platform counts as linux/amd64.
  const n = await layout(t);
  const only = await n.manifest(soloConfig(), [hblob(MT.soloConfig, runtimeConfig), hblob(MT.soloLayer, example)]);
  const wasmOnly = await n.manifest(soloConfig(), [hblob(MT.soloConfig, runtimeConfig), hblob(MT.soloLayer, noAbi)]);
  await n.tag('v1', await n.index([{ manifest: wasmOnly, platform: { architecture: 'wasm', os: 'wasip1' } }, { manifest: only }]));
  const np = (await verdictsOf(n.dir, 'v1')).istio!;
  assert.deepEqual([np.ok, np.module?.sha256], [true, hex(example)]);

  // Only a wasm child: Istio cannot fetch it.
  const w = await layout(t);
  const child = await w.manifest(soloConfig(), [hblob(MT.soloConfig, runtimeConfig), hblob(MT.soloLayer, example)]);
  await w.tag('v1', await w.index([{ manifest: child, platform: { architecture: 'wasm', os: 'wasip1' } }]));
  const none = (await verdictsOf(w.dir, 'v1')).istio!;
  assert.equal(none.ok, false);
  assert.match(none.reasons[0]!, /^could not fetch image: no child with platform linux\/amd64 in the index \(1 entries\)/);
});

test('Istio: the injected link check decides between "V8 links it" and "the module fails"', async (t) => {
  const l = await layout(t);
  await l.tag('v1', await l.manifest(soloConfig(), [hblob(MT.soloConfig, runtimeConfig), hblob(MT.soloLayer, example)]));
  const seen: string[] = [];
  const refuse = (await verdictsOf(l.dir, 'v1', {
    linkCheck: (bytes) => {
      seen.push(hex(bytes));
      return { ok: false, depth: 'linked', reason: 'LinkError: import env.proxy_get_buffer_status: function signature mismatch' };
    },
  })).istio!;
  assert.deepEqual(seen, [hex(example)], 'the link check got the bytes Istio reads');
  assert.equal(refuse.ok, false);
  assert.equal(refuse.summary, 'fetches it (oci variant), but the module fails');
  assert.deepEqual(refuse.reasons, ['layer 1: LinkError: import env.proxy_get_buffer_status: function signature mismatch']);
  const links = (await verdictsOf(l.dir, 'v1', { linkCheck: async () => ({ ok: true, depth: 'linked' }) })).istio!;
  assert.deepEqual([links.ok, links.summary], [true, 'fetches it (oci variant) and V8 links it']);
});

test('Istio: a binary without the Wasm magic is refused before Envoy sees it (cache.go isValidWasmBinary)', async (t) => {
  const l = await layout(t);
  await l.tag('v1', await l.manifest(soloConfig(), [hblob(MT.soloConfig, runtimeConfig), hblob(MT.soloLayer, 'not wasm at all')]));
  const istio = (await verdictsOf(l.dir, 'v1')).istio!;
  assert.equal(istio.ok, false);
  assert.equal(istio.reasons[0], 'fetched Wasm binary is invalid: layer 1 does not start with the Wasm magic \\0asm and a version');
});

// ---------------------------------------------------------------------------------------------------
// wasme (solo-io/wasme 98e5b0c: pkg/pull/image.go, pkg/config/helpers.go, cli/pkg/abi/version.go,
// cli/pkg/deploy/istio/istio_provider.go)

const rc = (doc: unknown) => hblob(MT.soloConfig, JSON.stringify(doc));

test('wasme: the runtime config is parsed as jsonpb does: proto names accepted, an unknown field refused', async (t) => {
  const cases: Array<[unknown, boolean, RegExp?]> = [
    [{ type: 'envoy_proxy', abi_versions: ['v0.2.1'], config: { root_ids: ['r'] } }, true],
    [{ type: 'envoy_proxy', abiVersions: null, config: null }, true],
    [{ type: 'envoy_proxy', abiVersions: [], rootIds: ['r'] }, false, /^wasme refuses the runtime config: unknown field "rootIds" in config\.Runtime$/],
    [{ type: 'envoy_proxy', config: { rootIds: [], vmId: 'x' } }, false, /^wasme refuses the runtime config: unknown field "vmId" in config\.EnvoyConfig$/],
    [{ type: 'envoy_proxy', abiVersions: 'v0.2.1' }, false, /^wasme refuses the runtime config: "abiVersions" is not a list of strings$/],
    [{ type: 7 }, false, /"type" is not a string/],
  ];
  for (const [doc, ok, reason] of cases) {
    const l = await layout(t);
    const config = rc(doc);
    await l.tag('v1', await l.manifest(config, [config, hblob(MT.soloLayer, example)]));
    const wasme = (await verdictsOf(l.dir, 'v1')).wasme!;
    assert.equal(wasme.ok, ok, `${JSON.stringify(doc)}: ${wasme.reasons.join('; ')}`);
    if (reason !== undefined) assert.ok(wasme.reasons.some((r) => reason.test(r)), `${JSON.stringify(doc)}: ${wasme.reasons.join('; ')}`);
  }
});

test('wasme: no runtime config is a refusal; one given as a layer (not the config) is read', async (t) => {
  const none = await layout(t);
  await none.tag('v1', await none.manifest(hblob(MT.ociConfig, '{}'), [hblob(MT.soloLayer, example)]));
  const refused = (await verdictsOf(none.dir, 'v1')).wasme!;
  assert.equal(refused.ok, false);
  assert.match(refused.reasons.join('\n'), /no runtime config: .*"media type application\/vnd\.module\.wasm\.config\.v1\+json not found on image"/);

  // FetchConfig takes the first child of the type: the manifest's config is another type, layer 0 is one.
  const asLayer = await layout(t);
  await asLayer.tag('v1', await asLayer.manifest(hblob(MT.ociConfig, '{}'), [rc({ type: 'envoy_proxy', abiVersions: [], extra: 1 }), hblob(MT.soloLayer, example)]));
  const read = (await verdictsOf(asLayer.dir, 'v1')).wasme!;
  assert.deepEqual(read.reasons, ['layer 0: wasme refuses the runtime config: unknown field "extra" in config.Runtime']);
});

test('wasme deploy istio: abiVersions v0.2.1 are Gloo-only in its ABI registry; the verdict says so and names --ignore-version-check', async (t) => {
  const expectations: Array<[string[], RegExp, string | undefined]> = [
    [['v0.2.1'], /^`wasme deploy istio` refuses it on every Istio version .*v0\.2\.1 for Gloo 1\.6\.x only; `wasme deploy istio --ignore-version-check` skips that check/, 'loads it (`wasme deploy istio` only with --ignore-version-check)'],
    [['v0-4689a30309abf31aee9ae36e73d34b1bb182685f'], /^`wasme deploy istio` accepts abiVersions v0-4689a30309abf31aee9ae36e73d34b1bb182685f on Istio 1\.7\.x, 1\.8\.x only/, undefined],
    [['v0-097b7f2e4cc1fb490cc1943d0d633655ac3c522f'], /on Istio 1\.5\.x, 1\.6\.x only/, undefined],
    [['v9.9.9'], /refuses it on every Istio version .*does not know v9\.9\.9/, 'loads it (`wasme deploy istio` only with --ignore-version-check)'],
    [[], /lists no abiVersions: `wasme deploy istio` skips its ABI check/, undefined],
  ];
  for (const [abiVersions, note, summary] of expectations) {
    const l = await layout(t);
    const config = rc({ type: 'envoy_proxy', abiVersions, config: { rootIds: [] } });
    await l.tag('v1', await l.manifest(config, [config, hblob(MT.soloLayer, example)]));
    const wasme = (await verdictsOf(l.dir, 'v1')).wasme!;
    assert.equal(wasme.ok, true, 'the format is fine; ASM and wasme with --ignore-version-check take it');
    assert.ok(wasme.notes?.some((n) => note.test(n)), `${abiVersions}: ${JSON.stringify(wasme.notes)}`);
    assert.equal(wasme.summary, summary, String(abiVersions));
  }
});

// ---------------------------------------------------------------------------------------------------
// CNCF: wasm-pkg-client and wkg through rust-oci-wasm (src/client.rs, src/config.rs); runwasi
// (crates/containerd-shim-wasm/src/containerd/client.rs load_modules, shim.rs, containerd-shim-wasmtime
// instance.rs execute_module)

const plainWasi = await buildWat('plain-wasi');
const gojs = await buildWat('plain-gojs');
const cncfConfig = (layer: Uint8Array, extra: Record<string, unknown> = {}) =>
  hblob(MT.cncfConfig, JSON.stringify({ created: '2024-05-01T12:00:00Z', architecture: 'wasm', os: 'wasip1', layerDigests: [`sha256:${hex(layer)}`], ...extra }));

test('CNCF: the artifact rust-oci-wasm writes for a WASI command: wkg and runwasi take it, wasip1 claimed', async (t) => {
  const l = await layout(t);
  await l.tag('v1', await l.manifest(cncfConfig(plainWasi), [hblob(MT.wasm, plainWasi, 'app.wasm')]));
  const v = await verdictsOf(l.dir, 'v1');
  assert.deepEqual([v.cncf!.ok, v.cncf!.variant, v.cncf!.reasons, v.cncf!.targeted], [true, 'wasip1', [], true]);
  assert.deepEqual([v.runwasi!.ok, v.runwasi!.variant, v.runwasi!.reasons, v.runwasi!.targeted], [true, 'WASI preview 1 command', [], true]);
});

test('CNCF: wasm-pkg-client needs the manifest mediaType field and a WasmConfig with created', async (t) => {
  const noField = await layout(t);
  await noField.tag('v1', await noField.manifest(cncfConfig(plainWasi), [hblob(MT.wasm, plainWasi)], {}));
  const a = await verdictsOf(noField.dir, 'v1');
  assert.equal(a.cncf!.ok, false);
  assert.deepEqual(a.cncf!.reasons, [`the manifest has no "mediaType" field: wasm-pkg-client (oci-wasm pull_manifest_and_config) needs "mediaType": "${MT.ociManifest}" in it`]);
  assert.equal(a.runwasi!.ok, true, 'runwasi reads the manifest through containerd, not this field');

  for (const [extra, reason] of [
    [{ created: undefined }, 'missing field `created`'],
    [{ created: 'yesterday' }, '`created` is "yesterday", not an RFC 3339 date-time'],
    [{ layerDigests: undefined }, 'missing field `layerDigests`'],
    [{ component: { exports: [] } }, '`component.imports` is missing or not a list of strings'],
  ] as const) {
    const l = await layout(t);
    await l.tag('v1', await l.manifest(cncfConfig(plainWasi, extra), [hblob(MT.wasm, plainWasi)]));
    const c = (await verdictsOf(l.dir, 'v1')).cncf!;
    assert.equal(c.ok, false, reason);
    assert.ok(c.reasons.includes(`wasm-pkg-client cannot read the config as oci-wasm's WasmConfig: ${reason}`), c.reasons.join('; '));
  }
  // serde ignores fields WasmConfig does not declare, and author may be null.
  const extraFields = await layout(t);
  await extraFields.tag('v1', await extraFields.manifest(cncfConfig(plainWasi, { author: null, 'x-note': 1 }), [hblob(MT.wasm, plainWasi)]));
  assert.equal((await verdictsOf(extraFields.dir, 'v1')).cncf!.ok, true);
});

test('CNCF: never wasip1 for a module that imports no WASI (a proxy-wasm filter, Go js/wasm); runwasi refuses both, targeted only for the non-filter', async (t) => {
  for (const [bytes, from, filter] of [[example, 'env', true], [gojs, 'gojs', false]] as const) {
    const l = await layout(t);
    await l.tag('v1', await l.manifest(cncfConfig(bytes), [hblob(MT.wasm, bytes)]));
    const v = await verdictsOf(l.dir, 'v1');
    assert.equal(v.cncf!.ok, true, from);
    assert.equal(v.cncf!.variant, undefined, `${from}: no wasip1 claim`);
    assert.deepEqual(v.cncf!.notes, [`config os is wasip1, as rust-oci-wasm writes it for any core module; the module imports no WASI (its imports are from ${from}), so it is not a WASI program`]);
    assert.equal(v.runwasi!.ok, false, from);
    assert.match(v.runwasi!.reasons.join('\n'), new RegExp(`the module imports ${from}\\.[^:]+: runwasi's Wasmtime links a core module with wasi_snapshot_preview1 only`));
    assert.match(v.runwasi!.reasons.join('\n'), /exports no _start/);
    // A filter in the CNCF format is made for Envoy: runwasi's refusal does not fail --strict.
    assert.equal(v.runwasi!.targeted, !filter, from);
    assert.equal(v['proxy-wasm']!.targeted, filter, from);
  }
});

test('runwasi: the config architecture must be wasm (any config type) and a layer application/wasm or the component layer type', async (t) => {
  const amd64 = await layout(t);
  await amd64.tag('v1', await amd64.manifest(handImageConfig([], MT.ociConfig, { architecture: 'amd64', os: 'linux' }), [hblob(MT.wasm, plainWasi)]));
  assert.deepEqual((await verdictsOf(amd64.dir, 'v1')).runwasi!.reasons, ['config architecture is "amd64": runwasi takes it for an ordinary container image ("manifest is not in WASM OCI image format")']);

  const tgz = await handTarGzip([['plugin.wasm', plainWasi]]);
  const tarOnly = await layout(t);
  await tarOnly.tag('v1', await tarOnly.manifest(handImageConfig([tgz.diffId]), [hblob(MT.tarGzip, tgz.gz)]));
  assert.match((await verdictsOf(tarOnly.dir, 'v1')).runwasi!.reasons.join('\n'), /^no layer of type application\/vnd\.bytecodealliance\.wasm\.component\.layer\.v0\+wasm or application\/wasm: runwasi finds no Wasm layer/);

  // An OCI image config (not the CNCF one) with architecture wasm and an application/wasm layer: runwasi runs it, wkg does not take it.
  const image = await layout(t);
  await image.tag('v1', await image.manifest(handImageConfig([]), [hblob(MT.wasm, plainWasi)]));
  const v = await verdictsOf(image.dir, 'v1');
  assert.deepEqual([v.runwasi!.ok, v.cncf!.ok], [true, false]);

  const noPlatform = await layout(t);
  await noPlatform.tag('v1', await noPlatform.manifest(hblob('application/vnd.wasm.config.v1+json', '{}'), [hblob(MT.wasm, plainWasi)]));
  assert.match((await verdictsOf(noPlatform.dir, 'v1')).runwasi!.reasons[0]!, /the config is not a platform/);
});
