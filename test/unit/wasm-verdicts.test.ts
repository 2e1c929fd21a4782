import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MEDIA_TYPES } from '../../src/oci/media-types.js';
import type { Descriptor, ImageManifest } from '../../src/oci/types.js';
import { evaluateConsumers, type ConsumerVerdict, type VerdictInput } from '../../src/wasm/verdicts.js';
import { examplesDir } from '../helpers/paths.js';
import { buildWat } from '../helpers/wat.js';

const exampleBytes = new Uint8Array(await readFile(join(examplesDir, 'example-filter.wasm')));
const runtimeConfig = new Uint8Array(await readFile(join(examplesDir, 'runtime-config.json')));

function desc(mediaType: string, bytes: Uint8Array | string, title?: string): Descriptor {
  const data = typeof bytes === 'string' ? new TextEncoder().encode(bytes) : bytes;
  const d: Descriptor = { mediaType, digest: `sha256:${createHash('sha256').update(data).digest('hex')}`, size: data.length };
  if (title !== undefined) d.annotations = { 'org.opencontainers.image.title': title };
  return d;
}

function manifest(config: Descriptor, layers: Descriptor[], mediaType: string | undefined = MEDIA_TYPES.ociManifest): ImageManifest {
  const m: ImageManifest = { schemaVersion: 2, config, layers };
  if (mediaType !== undefined) m.mediaType = mediaType;
  return m;
}

function byConsumer(verdicts: ConsumerVerdict[]): Record<string, ConsumerVerdict> {
  assert.deepEqual(verdicts.map((v) => v.consumer), ['istio', 'wasme', 'cncf', 'runwasi', 'proxy-wasm']);
  // `targeted` (what inspect --strict gates on) is asserted in its own test below.
  return Object.fromEntries(verdicts.map(({ targeted: _t, ...v }) => [v.consumer, v]));
}

const SOLO_LAYER_REASON = `could not find the layer of type ${MEDIA_TYPES.soloWasmLayer}`;
const ociTarLayer = () => desc(MEDIA_TYPES.ociLayerTarGzip, 'tar.gz bytes');
const ociConfig = () => desc(MEDIA_TYPES.ociConfig, '{"architecture":"wasm","os":"wasip1","rootfs":{"type":"layers","diff_ids":[]}}');

test('solo profile (2 layers): Istio oci variant, wasme, proxy-wasm yes; CNCF no', () => {
  const config = desc(MEDIA_TYPES.soloWasmConfig, runtimeConfig, 'runtime-config.json');
  const layers = [config, desc(MEDIA_TYPES.soloWasmLayer, exampleBytes, 'example-filter.wasm')];
  const v = byConsumer(
    evaluateConsumers({
      manifestMediaType: MEDIA_TYPES.ociManifest,
      manifest: manifest(config, layers),
      config: runtimeConfig,
      module: { bytes: exampleBytes, size: exampleBytes.length, layerIndex: 1, fileName: 'example-filter.wasm' },
    }),
  );
  assert.deepEqual(v.istio, { consumer: 'istio', ok: true, variant: 'oci', reasons: [] });
  // examples/runtime-config.json says abiVersions ["v0.2.1"]: Gloo-only in wasme's ABI registry.
  assert.equal(v.wasme!.ok, true);
  assert.deepEqual(v.wasme!.reasons, []);
  assert.equal(v.wasme!.summary, 'loads it (`wasme deploy istio` only with --ignore-version-check)');
  assert.match(v.wasme!.notes![0]!, /--ignore-version-check/);
  assert.deepEqual(v['proxy-wasm'], { consumer: 'proxy-wasm', ok: true, variant: 'ABI 0.2.1', reasons: [] });
  assert.equal(v.cncf!.ok, false);
  assert.deepEqual(v.cncf!.reasons, [
    `config media type is ${MEDIA_TYPES.soloWasmConfig}, not ${MEDIA_TYPES.cncfWasmConfig}`,
    `has 2 layer(s), 0 of type application/wasm; exactly one application/wasm layer is required`,
  ]);
});

test("the seed's one-layer oras artifact: wasme yes, Istio no with its reasons", () => {
  const config = desc(MEDIA_TYPES.soloWasmConfig, runtimeConfig);
  const layers = [desc(MEDIA_TYPES.soloWasmLayer, exampleBytes, 'example-filter.wasm')];
  const v = byConsumer(
    evaluateConsumers({
      manifestMediaType: MEDIA_TYPES.ociManifest,
      manifest: manifest(config, layers),
      config: runtimeConfig,
      module: { bytes: exampleBytes, size: exampleBytes.length, layerIndex: 0 },
    }),
  );
  assert.equal(v.wasme!.ok, true);
  assert.equal(v['proxy-wasm']!.ok, true);
  assert.deepEqual(v.istio, {
    consumer: 'istio',
    ok: false,
    reasons: [
      `could not parse as compat variant: invalid media type ${MEDIA_TYPES.soloWasmLayer} (expect ${MEDIA_TYPES.ociLayerTarGzip})`,
      'could not parse as oci variant: number of layers must be 2 but got 1',
    ],
  });
});

test('Istio oci variant needs the module media type among its 2 layers', () => {
  const config = desc(MEDIA_TYPES.soloWasmConfig, runtimeConfig);
  const layers = [config, desc(MEDIA_TYPES.legacyWasmLayer, exampleBytes)];
  const v = byConsumer(evaluateConsumers({ manifestMediaType: MEDIA_TYPES.ociManifest, manifest: manifest(config, layers) }));
  assert.equal(v.istio!.ok, false);
  assert.equal(v.istio!.reasons[1], `could not parse as oci variant: ${SOLO_LAYER_REASON}`);
  assert.deepEqual(v.wasme!.reasons, [`no layer of type ${MEDIA_TYPES.soloWasmLayer}`]);
  assert.deepEqual(v['proxy-wasm']!.reasons, ['no Wasm module was found to check'], 'no module given');
});

test('compat profile: Istio compat when the last tar+gzip layer holds plugin.wasm', () => {
  const layers = [ociTarLayer()];
  const input = (fileName: string, layerIndex = 0): VerdictInput => ({
    manifestMediaType: MEDIA_TYPES.ociManifest,
    manifest: manifest(ociConfig(), layers),
    module: { bytes: exampleBytes, size: exampleBytes.length, layerIndex, fromTar: true, fileName },
  });
  const ok = byConsumer(evaluateConsumers(input('plugin.wasm')));
  assert.deepEqual(ok.istio, { consumer: 'istio', ok: true, variant: 'compat', reasons: [] });
  assert.deepEqual(ok.wasme!.reasons, [
    `no layer of type ${MEDIA_TYPES.soloWasmLayer}`,
    `no runtime config: wasme reads it from the first blob of type ${MEDIA_TYPES.soloWasmConfig} (the config, then the layers) and fails with "media type ${MEDIA_TYPES.soloWasmConfig} not found on image"`,
  ]);
  // filepath.Base: a plugin.wasm in a sub-directory counts.
  assert.equal(byConsumer(evaluateConsumers(input('./out/plugin.wasm'))).istio!.ok, true);

  const wrongName = byConsumer(evaluateConsumers(input('filter.wasm')));
  assert.deepEqual(wrongName.istio!.reasons, [
    'could not parse as compat variant: could not extract wasm binary: plugin.wasm not found in the archive',
    'could not parse as oci variant: number of layers must be 2 but got 1',
  ]);
});

test('compat: only the last layer counts, and zero layers are refused', () => {
  const layers = [ociTarLayer(), desc(MEDIA_TYPES.ociLayerTar, 'plain tar')];
  const v = byConsumer(
    evaluateConsumers({
      manifestMediaType: MEDIA_TYPES.ociManifest,
      manifest: manifest(ociConfig(), layers),
      module: { size: 10, layerIndex: 0, fromTar: true, fileName: 'plugin.wasm' },
    }),
  );
  assert.equal(v.istio!.ok, false);
  assert.equal(
    v.istio!.reasons[0],
    `could not parse as compat variant: invalid media type ${MEDIA_TYPES.ociLayerTar} (expect ${MEDIA_TYPES.ociLayerTarGzip})`,
  );
  assert.equal(v.istio!.reasons[1], `could not parse as oci variant: ${SOLO_LAYER_REASON}`);

  const empty = byConsumer(evaluateConsumers({ manifestMediaType: MEDIA_TYPES.ociManifest, manifest: manifest(ociConfig(), []) }));
  assert.deepEqual(empty.istio!.reasons, [
    'could not parse as compat variant: number of layers must be greater than zero',
    'could not parse as oci variant: number of layers must be 2 but got 0',
  ]);
});

test('Docker v2 manifests take only the Docker path', () => {
  const dockerConfig = desc(MEDIA_TYPES.dockerConfig, '{}');
  const good = byConsumer(
    evaluateConsumers({
      manifestMediaType: MEDIA_TYPES.dockerManifest,
      manifest: manifest(dockerConfig, [desc(MEDIA_TYPES.dockerLayerTarGzip, 'x')], MEDIA_TYPES.dockerManifest),
      module: { bytes: exampleBytes, size: exampleBytes.length, layerIndex: 0, fromTar: true, fileName: 'plugin.wasm' },
    }),
  );
  assert.deepEqual(good.istio, { consumer: 'istio', ok: true, variant: 'docker', reasons: [] });

  // An OCI tar layer in a Docker manifest: Istio does not fall back to compat.
  const ociLayer = byConsumer(
    evaluateConsumers({
      manifestMediaType: MEDIA_TYPES.dockerManifest,
      manifest: manifest(dockerConfig, [ociTarLayer()], MEDIA_TYPES.dockerManifest),
    }),
  );
  assert.deepEqual(ociLayer.istio!.reasons, [
    `could not extract Wasm file from the image as Docker container: invalid media type ${MEDIA_TYPES.ociLayerTarGzip} (expect ${MEDIA_TYPES.dockerLayerTarGzip})`,
  ]);

  const none = byConsumer(
    evaluateConsumers({ manifestMediaType: MEDIA_TYPES.dockerManifest, manifest: manifest(dockerConfig, [], MEDIA_TYPES.dockerManifest) }),
  );
  assert.deepEqual(none.istio!.reasons, [
    'could not extract Wasm file from the image as Docker container: number of layers must be greater than zero',
  ]);
});

test("Istio reads the manifest's own mediaType field before the served type", () => {
  // An OCI manifest without mediaType served as OCI: compat path.
  const v = byConsumer(
    evaluateConsumers({ manifestMediaType: MEDIA_TYPES.ociManifest, manifest: manifest(ociConfig(), [ociTarLayer()], undefined) }),
  );
  assert.deepEqual(v.istio, { consumer: 'istio', ok: true, variant: 'compat', reasons: [] });
});

test('Istio refuses a module over 256 MiB and one without the Wasm magic', () => {
  const config = desc(MEDIA_TYPES.soloWasmConfig, runtimeConfig);
  const layers = [config, desc(MEDIA_TYPES.soloWasmLayer, 'x')];
  const big = byConsumer(
    evaluateConsumers({
      manifestMediaType: MEDIA_TYPES.ociManifest,
      manifest: manifest(config, layers),
      module: { size: 256 * 1024 * 1024 + 1, layerIndex: 1 },
    }),
  );
  assert.equal(big.istio!.ok, false);
  assert.equal(big.istio!.variant, 'oci');
  assert.deepEqual(big.istio!.reasons, [`the module is ${256 * 1024 * 1024 + 1} bytes, over Istio's limit of 268435456 bytes (256 MiB)`]);
  assert.deepEqual(big['proxy-wasm']!.reasons, ['the module was not inspected']);
  const failed = byConsumer(
    evaluateConsumers({
      manifestMediaType: MEDIA_TYPES.ociManifest,
      manifest: manifest(config, layers),
      module: { size: 256 * 1024 * 1024 + 1, layerIndex: 1, error: 'module exceeds the size limit' },
    }),
  );
  assert.deepEqual(failed['proxy-wasm']!.reasons, ['module exceeds the size limit']);

  const notWasm = new TextEncoder().encode('#!/bin/sh\necho hi\n');
  const text = byConsumer(
    evaluateConsumers({
      manifestMediaType: MEDIA_TYPES.ociManifest,
      manifest: manifest(config, layers),
      module: { bytes: notWasm, size: notWasm.length, layerIndex: 1, fileName: 'run.sh' },
    }),
  );
  assert.deepEqual(text.istio!.reasons, ['fetched Wasm binary is invalid: it does not start with the Wasm magic \\0asm and a version']);
  assert.deepEqual(text.wasme!.reasons, [`layer 1 (${MEDIA_TYPES.soloWasmLayer}) does not hold a Wasm binary`]);
  assert.deepEqual(text['proxy-wasm']!.reasons, ['run.sh is not a WebAssembly module: it does not start with \\0asm']);
});

test('wasme refuses a malformed runtime config', () => {
  const bad = new TextEncoder().encode('{"type":"envoy_proxy","abiVersions":"v0.2.1"}');
  const config = desc(MEDIA_TYPES.soloWasmConfig, bad);
  const v = byConsumer(
    evaluateConsumers({
      manifestMediaType: MEDIA_TYPES.ociManifest,
      manifest: manifest(config, [config, desc(MEDIA_TYPES.soloWasmLayer, exampleBytes)]),
      config: bad,
    }),
  );
  assert.deepEqual(v.wasme!.reasons, ['wasme refuses the runtime config: "abiVersions" is not a list of strings']);
});

function cncfInput(configDoc: unknown, layers: Descriptor[], module?: VerdictInput['module']): VerdictInput {
  // oci-wasm's WasmConfig requires `created`; the cases here are about the other fields.
  const configBytes = new TextEncoder().encode(JSON.stringify({ created: '2024-05-01T12:00:00Z', ...(configDoc as object) }));
  const input: VerdictInput = {
    manifestMediaType: MEDIA_TYPES.ociManifest,
    manifest: manifest(desc(MEDIA_TYPES.cncfWasmConfig, configBytes), layers),
    config: configBytes,
  };
  if (module !== undefined) input.module = module;
  return input;
}

test('cncf profile: config v0, exactly one application/wasm layer', () => {
  const layer = desc(MEDIA_TYPES.cncfWasmLayer, exampleBytes, 'example-filter.wasm');
  const module = { bytes: exampleBytes, size: exampleBytes.length, layerIndex: 0 };
  const v = byConsumer(evaluateConsumers(cncfInput({ architecture: 'wasm', os: 'wasip1', layerDigests: [layer.digest] }, [layer], module)));
  // The filter imports no WASI: os wasip1 is rust-oci-wasm's value for any core module, not a claim.
  assert.deepEqual({ ...v.cncf, notes: undefined }, { consumer: 'cncf', ok: true, reasons: [], notes: undefined });
  assert.deepEqual(v.cncf!.notes, ['config os is wasip1, as rust-oci-wasm writes it for any core module; the module imports no WASI (its imports are from env), so it is not a WASI program']);
  assert.equal(v.istio!.ok, false);
  assert.equal(v.wasme!.ok, false);
  assert.equal(v['proxy-wasm']!.ok, true, 'the same module is still a valid filter');

  const two = byConsumer(
    evaluateConsumers(cncfInput({ architecture: 'wasm', os: 'wasip1', layerDigests: [layer.digest, layer.digest] }, [layer, layer])),
  );
  assert.deepEqual(two.cncf!.reasons, ['has 2 layer(s), 2 of type application/wasm; exactly one application/wasm layer is required']);

  const wrongConfig = byConsumer(evaluateConsumers(cncfInput({ architecture: 'amd64', os: 'linux', layerDigests: [] }, [layer])));
  assert.deepEqual(wrongConfig.cncf!.reasons, [
    'config architecture is "amd64", not "wasm"',
    'config os is "linux", not "wasip1" or "wasip2"',
    'config layerDigests do not list the layer digests of the manifest',
  ]);
});

test('cncf: wasip2 needs a component, wasip1 a core module', async () => {
  const core = await buildWat('plain-wasi');
  const layer = desc(MEDIA_TYPES.cncfWasmLayer, core);
  const v = byConsumer(
    evaluateConsumers(
      cncfInput({ architecture: 'wasm', os: 'wasip2', layerDigests: [layer.digest] }, [layer], { bytes: core, size: core.length, layerIndex: 0 }),
    ),
  );
  assert.deepEqual(v.cncf!.reasons, ['config os is wasip2 but the layer is a core module, not a component']);
  assert.deepEqual(v['proxy-wasm']!.reasons, [
    'Missing or unknown Proxy-Wasm ABI version (no proxy_abi_version_0_1_0, _0_2_0 or _0_2_1 function export)',
  ]);

  // A minimal component: header and nothing else.
  const component = new Uint8Array([0x00, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x01, 0x00]);
  const cLayer = desc(MEDIA_TYPES.cncfWasmLayer, component);
  const p2 = byConsumer(
    evaluateConsumers(
      cncfInput({ architecture: 'wasm', os: 'wasip2', layerDigests: [cLayer.digest] }, [cLayer], {
        bytes: component,
        size: component.length,
        layerIndex: 0,
      }),
    ),
  );
  assert.deepEqual(p2.cncf, { consumer: 'cncf', ok: true, variant: 'wasip2', reasons: [] });
  assert.equal(p2['proxy-wasm']!.ok, false);
  assert.ok(p2['proxy-wasm']!.reasons.includes('is a component; proxy-wasm hosts load only core modules'));

  const p1 = byConsumer(
    evaluateConsumers(
      cncfInput({ architecture: 'wasm', os: 'wasip1', layerDigests: [cLayer.digest] }, [cLayer], {
        bytes: component,
        size: component.length,
        layerIndex: 0,
      }),
    ),
  );
  assert.deepEqual(p1.cncf!.reasons, ['config os is wasip1 but the layer is a component']);
});

test('proxy-wasm verdict names each broken rule of the module', async () => {
  const config = desc(MEDIA_TYPES.soloWasmConfig, runtimeConfig);
  for (const [fixture, problem] of [
    ['broken-no-abi', /^Missing or unknown Proxy-Wasm ABI version/],
    ['broken-no-allocator', /^Wasm module is missing malloc function/],
    ['broken-no-memory', /^the module neither exports nor imports a memory/],
    ['broken-unknown-import', /^Failed to load Wasm module due to a missing import: env\.foo_bar$/],
  ] as const) {
    const bytes = await buildWat(fixture);
    const v = byConsumer(
      evaluateConsumers({
        manifestMediaType: MEDIA_TYPES.ociManifest,
        manifest: manifest(config, [config, desc(MEDIA_TYPES.soloWasmLayer, bytes)]),
        module: { bytes, size: bytes.length, layerIndex: 1 },
      }),
    );
    assert.equal(v['proxy-wasm']!.ok, false, fixture);
    assert.ok(v['proxy-wasm']!.reasons.some((r) => problem.test(r)), `${fixture}: ${v['proxy-wasm']!.reasons.join('; ')}`);
    assert.equal(v.istio!.ok, true, `${fixture}: Istio's fetcher does not look inside the module`);
  }
});

test('targeted: a solo artifact holding a filter targets Istio, wasme and Envoy, not CNCF', async () => {
  const wasm = await readFile(join(examplesDir, 'example-filter.wasm'));
  const rc = '{"type":"envoy_proxy","abiVersions":["v0.2.1"],"config":{"rootIds":[]}}';
  const solo = evaluateConsumers({
    manifestMediaType: MEDIA_TYPES.ociManifest,
    manifest: manifest(desc(MEDIA_TYPES.soloWasmConfig, rc), [desc(MEDIA_TYPES.soloWasmConfig, rc, 'runtime-config.json'), desc(MEDIA_TYPES.soloWasmLayer, wasm, 'f.wasm')]),
    module: { bytes: wasm, size: wasm.length, layerIndex: 1, fileName: 'f.wasm' },
    config: new TextEncoder().encode(rc),
  } as VerdictInput);
  assert.deepEqual(solo.filter((v) => v.targeted).map((v) => v.consumer), ['istio', 'wasme', 'proxy-wasm']);
});
