import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { OciLayoutStore } from '../../src/content/oci-layout.js';
import { readAll } from '../../src/content/read-all.js';
import { isWasmOciError } from '../../src/errors.js';
import { ANNOTATIONS, MEDIA_TYPES } from '../../src/oci/media-types.js';
import type { ImageManifest } from '../../src/oci/types.js';
import { convertArtifact } from '../../src/operations/convert.js';
import { inspectReference } from '../../src/operations/inspect.js';
import { pullArtifact } from '../../src/operations/pull.js';
import { pushArtifact } from '../../src/operations/push.js';
import type { PackOptions, PackProfile } from '../../src/pack/types.js';
import type { ConsumerVerdict } from '../../src/wasm/verdicts.js';
import { examplesDir } from '../helpers/paths.js';
import { makeTempDir } from '../helpers/tmp.js';

const exampleWasm = join(examplesDir, 'example-filter.wasm');
const runtimeConfigPath = join(examplesDir, 'runtime-config.json');
const sha256 = (b: Uint8Array): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const moduleDigest = sha256(await readFile(exampleWasm));
const runtimeConfigBytes = await readFile(runtimeConfigPath);

const SOURCE_CREATED = new Date('2021-06-01T10:00:00Z');
const CONVERTED_AT = new Date('2025-01-02T03:04:05Z');
const USER_ANNOTATIONS = { 'org.example.team': 'mesh', 'org.opencontainers.image.source': 'https://example.com/filters' };
const PROFILES: PackProfile[] = ['solo', 'compat', 'cncf'];

type SourceKind = PackProfile | 'oras';

/**
 * Pushes the example filter into `store` in one format, with user annotations on the manifest
 * and on the module. `oras` is the seed's command, run from examples/ as a user would:
 * `push REF --manifest-config runtime-config.json:application/vnd.module.wasm.config.v1+json
 *  example-filter.wasm:application/vnd.module.wasm.content.layer.v1+wasm`.
 */
async function pushSource(store: OciLayoutStore, kind: SourceKind, tag: string) {
  const common: Pick<PackOptions, 'created' | 'annotations'> = {
    created: SOURCE_CREATED,
    annotations: { $manifest: USER_ANNOTATIONS, 'example-filter.wasm': { 'org.example.layer-note': 'the filter' } },
  };
  if (kind !== 'oras') {
    return pushArtifact({
      target: store,
      tags: [tag],
      pack: { ...common, profile: kind, files: [{ path: exampleWasm }], runtimeConfig: kind === 'cncf' ? undefined : runtimeConfigPath },
    });
  }
  // oras titles layers with the path as typed: run from examples/, as the seed does.
  const cwd = process.cwd();
  process.chdir(examplesDir);
  try {
    return await pushArtifact({
      target: store,
      tags: [tag],
      pack: {
        ...common,
        manifestConfig: { path: 'runtime-config.json', mediaType: MEDIA_TYPES.soloWasmConfig },
        files: [{ path: 'example-filter.wasm', mediaType: MEDIA_TYPES.soloWasmLayer }],
      },
    });
  } finally {
    process.chdir(cwd);
  }
}

function verdictsOf(verdicts: ConsumerVerdict[]): Record<string, ConsumerVerdict> {
  // summary, notes and module (what the consumer read) are checked in consumer-rules.test.ts.
  return Object.fromEntries(verdicts.map(({ consumer, ok, variant, reasons }) => [consumer, { consumer, ok, ...(variant !== undefined ? { variant } : {}), reasons }]));
}

function assertShape(profile: PackProfile, manifest: ImageManifest): void {
  switch (profile) {
    case 'solo':
      assert.equal(manifest.config.mediaType, MEDIA_TYPES.soloWasmConfig);
      assert.deepEqual(manifest.layers.map((l) => l.mediaType), [MEDIA_TYPES.soloWasmConfig, MEDIA_TYPES.soloWasmLayer]);
      break;
    case 'compat':
      assert.equal(manifest.config.mediaType, MEDIA_TYPES.ociConfig);
      assert.deepEqual(manifest.layers.map((l) => l.mediaType), [MEDIA_TYPES.ociLayerTarGzip]);
      break;
    case 'cncf':
      assert.equal(manifest.config.mediaType, MEDIA_TYPES.cncfWasmConfig);
      assert.deepEqual(manifest.layers.map((l) => l.mediaType), [MEDIA_TYPES.cncfWasmLayer]);
      break;
  }
}

for (const from of ['solo', 'compat', 'cncf', 'oras'] as const) {
  test(`${from} converts into each profile: same module bytes, annotations kept, created renewed, the profile's consumer loads it`, async (t) => {
    const dir = await makeTempDir(t);
    const src = new OciLayoutStore(join(dir, 'src'), { create: true });
    const dst = new OciLayoutStore(join(dir, 'dst'), { create: true });
    const source = await pushSource(src, from, 'v1');

    for (const to of PROFILES) {
      const warnings: string[] = [];
      const result = await convertArtifact({
        source: src,
        sourceRef: 'v1',
        destination: dst,
        tags: [to],
        profile: to,
        rootIds: ['from_flag'],
        created: CONVERTED_AT,
        tempDir: dir,
        onWarning: (m) => warnings.push(m),
      });
      const what = `${from} -> ${to}`;
      assert.equal(result.source.descriptor.digest, source.descriptor.digest, what);
      assert.equal(result.moduleDigest, moduleDigest, `${what}: the module extracted is the example filter`);
      assert.equal((await dst.resolve(to)).digest, result.descriptor.digest, `${what}: tagged in the destination`);
      assertShape(to, result.manifest);

      // Annotations: the user's kept, created is the conversion's, the module layer's note kept.
      assert.deepEqual(result.manifest.annotations, { ...USER_ANNOTATIONS, [ANNOTATIONS.created]: '2025-01-02T03:04:05Z' }, what);
      const moduleLayer = result.manifest.layers.at(-1)!;
      assert.equal(moduleLayer.annotations?.['org.example.layer-note'], 'the filter', `${what}: module layer annotation kept`);

      // Same module bytes, read back as pull writes them.
      const out = join(dir, `out-${from}-${to}`);
      const pulled = await pullArtifact({ target: dst, reference: to, outputDir: out });
      assert.equal(pulled.module?.digest, moduleDigest, `${what}: pulled module has the same sha256`);

      // Runtime config: carried over where the source had one, generated (with --root-id) where not.
      if (to !== 'cncf') {
        const rc = JSON.parse(await readFile(join(out, 'runtime-config.json'), 'utf8')) as { config: { rootIds: string[] } };
        if (from === 'cncf') {
          assert.equal(result.runtimeConfig, 'generated', what);
          assert.deepEqual(rc.config.rootIds, ['from_flag'], what);
        } else {
          assert.notEqual(result.runtimeConfig, 'generated', what);
          assert.deepEqual(await readFile(join(out, 'runtime-config.json')), runtimeConfigBytes, `${what}: runtime config byte for byte`);
          assert.match(warnings.join('\n'), /--root-id is ignored/, `${what}: the flag does not silently override the carried config`);
        }
      }

      const inspected = verdictsOf((await inspectReference({ target: dst, reference: to })).verdicts);
      if (to === 'solo') {
        assert.deepEqual(inspected.istio, { consumer: 'istio', ok: true, variant: 'oci', reasons: [] }, what);
        assert.equal(inspected.wasme!.ok, true, what);
      } else if (to === 'compat') {
        assert.deepEqual(inspected.istio, { consumer: 'istio', ok: true, variant: 'compat', reasons: [] }, what);
      } else {
        // The example filter imports no WASI: the config's os wasip1 is not claimed as its variant.
        assert.deepEqual(inspected.cncf, { consumer: 'cncf', ok: true, reasons: [] }, what);
      }
      assert.equal(inspected['proxy-wasm']!.ok, true, what);
    }
    assert.deepEqual((await readdir(dir)).sort(), ['dst', 'src', ...PROFILES.map((p) => `out-${from}-${p}`)].sort(), 'no temp dir is left');
  });
}

test("the seed's one-layer oras artifact: Istio refuses it; converted to solo, Istio loads it", async (t) => {
  const dir = await makeTempDir(t);
  const store = new OciLayoutStore(join(dir, 'layout'), { create: true });
  const seed = await pushSource(store, 'oras', 'asm-test');
  assert.equal(seed.manifest.layers.length, 1);
  assert.equal(seed.manifest.config.mediaType, MEDIA_TYPES.soloWasmConfig);

  const before = verdictsOf((await inspectReference({ target: store, reference: 'asm-test' })).verdicts);
  assert.equal(before.wasme!.ok, true, 'ASM/wasme load the seed artifact');
  assert.equal(before.istio!.ok, false);
  assert.ok(before.istio!.reasons.some((r) => r.includes('number of layers must be 2 but got 1')), before.istio!.reasons.join('; '));

  const converted = await convertArtifact({ source: store, sourceRef: 'asm-test', destination: store, tags: ['asm-test-solo'], profile: 'solo' });
  const after = verdictsOf((await inspectReference({ target: store, reference: 'asm-test-solo' })).verdicts);
  assert.deepEqual(after.istio, { consumer: 'istio', ok: true, variant: 'oci', reasons: [] });
  assert.equal(after.wasme!.ok, true);
  // Istio reads the module as layer 2 of 2, the same blob as the seed's only layer.
  assert.equal(converted.manifest.layers[1]!.digest, seed.manifest.layers[0]!.digest);
  assert.equal(converted.manifest.config.digest, seed.manifest.config.digest, 'the runtime config blob is the seed config, byte for byte');
  const created = converted.manifest.annotations?.[ANNOTATIONS.created];
  assert.ok(created && created !== seed.manifest.annotations?.[ANNOTATIONS.created], 'a new created time');
  const configBytes = await readAll(await store.fetch(converted.manifest.config), 1 << 20);
  assert.deepEqual(JSON.parse(configBytes.toString('utf8')).config.rootIds, ['my_root_id']);
});

test('converting an artifact without a Wasm module is refused with E_UNSUPPORTED; an invalid runtime config is replaced with a warning', async (t) => {
  const dir = await makeTempDir(t);
  const store = new OciLayoutStore(join(dir, 'layout'), { create: true });
  const notes = join(dir, 'notes.txt');
  await writeFile(notes, 'no module here');
  const cwd = process.cwd();
  process.chdir(dir);
  try {
    await pushArtifact({ target: store, tags: ['notes'], pack: { files: [{ path: 'notes.txt', mediaType: 'text/plain' }] } });
  } finally {
    process.chdir(cwd);
  }
  await assert.rejects(
    convertArtifact({ source: store, sourceRef: 'notes', destination: store, tags: ['x'], profile: 'solo' }),
    (err: unknown) => isWasmOciError(err) && err.code === 'E_UNSUPPORTED',
  );

  // A seed-style artifact whose Solo config is not a runtime config.
  const badConfig = join(dir, 'bad.json');
  await writeFile(badConfig, '{"not":"a runtime config"}');
  process.chdir(examplesDir);
  try {
    await pushArtifact({
      target: store,
      tags: ['bad'],
      pack: { manifestConfig: { path: badConfig, mediaType: MEDIA_TYPES.soloWasmConfig }, files: [{ path: 'example-filter.wasm', mediaType: MEDIA_TYPES.soloWasmLayer }] },
    });
  } finally {
    process.chdir(cwd);
  }
  const warnings: string[] = [];
  const fixed = await convertArtifact({
    source: store, sourceRef: 'bad', destination: store, tags: ['fixed'], profile: 'solo', rootIds: ['r1'], onWarning: (m) => warnings.push(m),
  });
  assert.equal(fixed.runtimeConfig, 'generated');
  assert.match(warnings.join('\n'), /runtime config .* is not carried over/);
  const v = verdictsOf((await inspectReference({ target: store, reference: 'fixed' })).verdicts);
  assert.equal(v.wasme!.ok, true, v.wasme!.reasons.join('; '));
  assert.equal(v.istio!.ok, true);
});
