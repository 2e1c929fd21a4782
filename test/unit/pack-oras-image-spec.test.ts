// oras push --image-spec and --artifact-platform (cmd/oras/root/push.go PreRunE and runPush,
// cmd/oras/internal/option/spec.go, oras-go pack.go PackManifest): the flag rules in oras's
// words, and the bytes packed.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { WasmOciError } from '../../src/errors.js';
import { parsePlatform } from '../../src/oci/platform.js';
import { orasPackPlan, platformConfigBytes } from '../../src/pack/oras-style.js';
import { pack } from '../../src/pack/pack.js';
import type { PackOptions } from '../../src/pack/types.js';
import { examplesDir } from '../helpers/paths.js';
import { makeTempDir } from '../helpers/tmp.js';

const CREATED = new Date('2024-05-06T07:08:09Z');
const sha = (b: Uint8Array | string) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const EMPTY = sha('{}');

async function inDir(t: TestContext): Promise<void> {
  const dir = await makeTempDir(t);
  await writeFile(join(dir, 'hi.txt'), 'hello');
  await writeFile(join(dir, 'cfg.json'), '{"a":1}');
  const cwd = process.cwd();
  process.chdir(dir);
  t.after(() => process.chdir(cwd));
}

function usage(message: RegExp) {
  return (e: unknown) => e instanceof WasmOciError && e.code === 'E_USAGE' && message.test(e.message);
}

test('the image-spec rules of push.go PreRunE, in its words', () => {
  const config = { path: 'cfg.json' };
  const linux = parsePlatform('linux/amd64');
  assert.deepEqual(orasPackPlan({}), { imageSpec: 'v1.1', artifactType: 'application/vnd.unknown.artifact.v1' });
  assert.deepEqual(orasPackPlan({ manifestConfig: config }), { imageSpec: 'v1.0' }, '--config without --artifact-type switches to v1.0');
  assert.deepEqual(orasPackPlan({ manifestConfig: config, artifactType: 'a/b' }), { imageSpec: 'v1.1', artifactType: 'a/b' });
  assert.deepEqual(orasPackPlan({ imageSpec: 'v1.0', artifactType: 'a/b' }), { imageSpec: 'v1.0', configMediaType: 'a/b' }, 'v1.0: the type goes to the config');
  assert.deepEqual(orasPackPlan({ imageSpec: 'v1.0' }), { imageSpec: 'v1.0', configMediaType: 'application/vnd.unknown.config.v1+json' });
  assert.deepEqual(orasPackPlan({ artifactPlatform: linux }), { imageSpec: 'v1.1', artifactType: 'application/vnd.unknown.artifact.v1' });
  assert.deepEqual(orasPackPlan({ artifactPlatform: linux, imageSpec: 'v1.0' }), { imageSpec: 'v1.0' });
  assert.throws(() => orasPackPlan({ manifestConfig: config, imageSpec: 'v1.1' }), usage(/^missing artifact type for OCI image-spec v1\.1 artifacts$/));
  assert.throws(() => orasPackPlan({ manifestConfig: config, artifactPlatform: linux }), usage(/^--config, --artifact-platform cannot be used at the same time$/));
  assert.throws(() => orasPackPlan({ manifestConfig: config, artifactType: 'a/b', imageSpec: 'v1.0' }), usage(/^--artifact-type and --config cannot both be provided for 1\.0 OCI image$/));
  assert.throws(
    () => orasPackPlan({ artifactPlatform: linux, artifactType: 'a/b', imageSpec: 'v1.0' }),
    usage(/^artifact type cannot be customized for OCI image-spec v1\.0 when platform is specified$/),
  );
  assert.throws(() => orasPackPlan({ imageSpec: 'v2' as never }), usage(/^unknown image specification flag: v2$/));
});

test('--artifact-platform is json.Marshal(ocispec.Platform): Go field order, empty fields left out', () => {
  assert.equal(Buffer.from(platformConfigBytes(parsePlatform('linux/arm/v5'))).toString(), '{"architecture":"arm","os":"linux","variant":"v5"}');
  assert.equal(Buffer.from(platformConfigBytes(parsePlatform('windows/amd64:10.0.17763'))).toString(), '{"architecture":"amd64","os":"windows","os.version":"10.0.17763"}');
});

test('v1.1 with --artifact-platform: the platform as an image config, the unknown artifact type, the empty layer when no file', async (t) => {
  await inDir(t);
  const a = await pack({ files: [], profile: 'oras', artifactPlatform: parsePlatform('linux/arm/v5'), created: CREATED });
  const cfg = '{"architecture":"arm","os":"linux","variant":"v5"}';
  assert.equal(
    Buffer.from(a.manifestBytes).toString(),
    '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","artifactType":"application/vnd.unknown.artifact.v1",' +
      `"config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"${sha(cfg)}","size":${cfg.length}},` +
      `"layers":[{"mediaType":"application/vnd.oci.empty.v1+json","digest":"${EMPTY}","size":2,"data":"e30="}],` +
      '"annotations":{"org.opencontainers.image.created":"2024-05-06T07:08:09Z"}}',
  );
  assert.equal(Buffer.from(a.config.bytes).toString(), cfg);
  assert.deepEqual(a.blobs.map((b) => b.descriptor.digest), [sha(cfg), EMPTY], 'the config blob and the empty layer are pushed');
});

test('v1.0: no artifactType; the type is the {} config\'s media type, or the platform config; layers as given, none added', async (t) => {
  await inDir(t);
  const typed = await pack({ files: [{ path: 'hi.txt', mediaType: 'text/plain' }], imageSpec: 'v1.0', artifactType: 'application/vnd.me.config', created: CREATED });
  assert.equal(
    Buffer.from(typed.manifestBytes).toString(),
    '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",' +
      `"config":{"mediaType":"application/vnd.me.config","digest":"${EMPTY}","size":2},` +
      `"layers":[{"mediaType":"text/plain","digest":"${sha('hello')}","size":5,"annotations":{"org.opencontainers.image.title":"hi.txt"}}],` +
      '"annotations":{"org.opencontainers.image.created":"2024-05-06T07:08:09Z"}}',
  );
  assert.equal(typed.manifestDescriptor.artifactType, 'application/vnd.me.config', 'oras-go pushManifest reports the config type');
  const platformed = await pack({ files: [], imageSpec: 'v1.0', artifactPlatform: parsePlatform('linux/amd64'), created: CREATED });
  assert.equal(platformed.manifest.artifactType, undefined);
  assert.equal(platformed.manifest.config.mediaType, 'application/vnd.oci.image.config.v1+json');
  assert.deepEqual(platformed.manifest.layers, [], 'packManifestV1_0: an empty layers array');
  const withConfig = await pack({ files: [{ path: 'hi.txt' }], manifestConfig: { path: 'cfg.json' }, imageSpec: 'v1.0', created: CREATED });
  assert.equal(withConfig.manifest.artifactType, undefined);
  assert.equal(withConfig.manifest.config.mediaType, 'application/vnd.unknown.config.v1+json');
});

test('the profiles refuse --image-spec and --artifact-platform: they set the manifest themselves', async () => {
  const module: PackOptions['files'] = [{ path: join(examplesDir, 'example-filter.wasm') }];
  for (const profile of ['solo', 'compat', 'cncf'] as const) {
    await assert.rejects(pack({ files: module, profile, imageSpec: 'v1.0' }), usage(/--image-spec shapes an oras-style manifest; the \w+ profile sets its manifest itself/), profile);
    await assert.rejects(pack({ files: module, profile, artifactPlatform: parsePlatform('wasip1/wasm') }), usage(/--artifact-platform shapes an oras-style manifest/), profile);
  }
});
