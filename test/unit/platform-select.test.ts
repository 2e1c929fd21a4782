// --platform selection as oras-go applies it (internal/platform/platform.go SelectManifest),
// on layouts written by hand, and the operations that take it (fetch, fetch-config, pull's
// manifest choice, copy).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OciLayoutStore } from '../../src/content/oci-layout.js';
import { copyReference } from '../../src/copy/copy.js';
import { resolvePlatform, selectPlatformManifest } from '../../src/copy/select-platform.js';
import { WasmOciError } from '../../src/errors.js';
import { parsePlatform } from '../../src/oci/platform.js';
import { fetchManifestConfig } from '../../src/operations/image-index.js';
import { fetchArtifactManifest, fetchManifest } from '../../src/operations/manifest.js';
import { HandLayout, MT, hblob, sha256 } from '../helpers/hand-layout.js';
import { makeTempDir } from '../helpers/tmp.js';

function failsWith(code: string, message: RegExp) {
  return (e: unknown) => {
    assert.ok(e instanceof WasmOciError, String(e));
    assert.equal(e.code, code, e.message);
    assert.match(e.message, message);
    return true;
  };
}

/** An index of three image manifests (wasm, linux/arm/v6, linux/arm/v7), each config saying its platform. */
async function multiPlatform(dir: string) {
  const l = new HandLayout(dir);
  const layer = hblob(MT.wasm, 'module');
  const wasm = await l.manifest(hblob(MT.ociConfig, '{"architecture":"wasm","os":"wasip1"}'), [layer]);
  const v6 = await l.manifest(hblob(MT.ociConfig, '{"architecture":"arm","os":"linux","variant":"v6"}'), [layer]);
  const v7 = await l.manifest(hblob(MT.ociConfig, '{"architecture":"arm","os":"linux","variant":"v7"}'), [layer]);
  const index = await l.index([
    { manifest: wasm, platform: { architecture: 'wasm', os: 'wasip1' } },
    { manifest: v6, platform: { architecture: 'arm', os: 'linux', variant: 'v6' } },
    { manifest: v7, platform: { architecture: 'arm', os: 'linux', variant: 'v7' } },
  ]);
  const solo = await l.manifest(hblob(MT.soloConfig, '{"architecture":"wasm","os":"wasip1"}'), [layer]);
  const docker = await l.manifest(hblob(MT.dockerConfig, '{"architecture":"amd64","os":"linux"}'), [hblob(MT.dockerLayer, 'x')], { mediaType: MT.dockerManifest });
  const dockerWrongConfig = await l.manifest(hblob(MT.ociConfig, '{"architecture":"amd64","os":"linux"}'), [hblob(MT.dockerLayer, 'x')], { mediaType: MT.dockerManifest });
  const notJson = await l.manifest(hblob(MT.ociConfig, 'not json'), [layer]);
  await l.tag('set', index);
  await l.tag('v7', v7);
  await l.tag('solo', solo);
  await l.tag('docker', docker);
  await l.tag('docker-wrong', dockerWrongConfig);
  await l.tag('not-json', notJson);
  return { store: new OciLayoutStore(dir), wasm, v6, v7, index };
}

test('in an index the first entry whose platform matches is taken, whole (platform included); a variant narrows it', async (t) => {
  const { store, v6, v7 } = await multiPlatform(await makeTempDir(t));
  const any = await resolvePlatform(store, 'set', parsePlatform('linux/arm'));
  assert.equal(any.digest, sha256(v6.bytes), 'without a variant the first arm entry');
  assert.deepEqual(any.platform, { architecture: 'arm', os: 'linux', variant: 'v6' }, 'the index entry as SelectManifest returns it');
  assert.equal((await resolvePlatform(store, 'set', parsePlatform('linux/arm/v7'))).digest, sha256(v7.bytes));
  assert.equal((await resolvePlatform(store, 'set', undefined)).mediaType, MT.ociIndex, 'no platform: the index itself');
});

test('no entry of the platform: not found (exit 4) in oras-go\'s words, with the platforms the index lists', async (t) => {
  const { store } = await multiPlatform(await makeTempDir(t));
  await assert.rejects(resolvePlatform(store, 'set', parsePlatform('linux/arm64')), (e: unknown) => {
    failsWith('E_NOT_FOUND', /no matching manifest was found in the manifest list for platform linux\/arm64/)(e);
    assert.match((e as WasmOciError).hint ?? '', /wasip1\/wasm, linux\/arm\/v6, linux\/arm\/v7/);
    return true;
  });
});

test('a manifest is taken only when its image config says the platform; another platform is not found', async (t) => {
  const { store, v7 } = await multiPlatform(await makeTempDir(t));
  assert.equal((await resolvePlatform(store, 'v7', parsePlatform('linux/arm/v7'))).digest, sha256(v7.bytes));
  assert.equal((await resolvePlatform(store, 'v7', parsePlatform('linux/arm'))).digest, sha256(v7.bytes), 'a variant not asked for does not matter');
  await assert.rejects(resolvePlatform(store, 'v7', parsePlatform('linux/arm/v6')), failsWith('E_NOT_FOUND', /platform in manifest does not match target platform linux\/arm\/v6/));
  const docker = await resolvePlatform(store, 'docker', parsePlatform('linux/amd64'));
  assert.equal(docker.mediaType, MT.dockerManifest, 'a Docker manifest reads the Docker config');
});

test('a manifest whose config is not an image config cannot say a platform: unsupported (exit 7), as getPlatformFromConfig', async (t) => {
  const { store } = await multiPlatform(await makeTempDir(t));
  await assert.rejects(
    resolvePlatform(store, 'solo', parsePlatform('wasip1/wasm')),
    failsWith('E_UNSUPPORTED', /fail to recognize platform from unknown config application\/vnd\.module\.wasm\.config\.v1\+json: expect application\/vnd\.oci\.image\.config\.v1\+json/),
  );
  await assert.rejects(resolvePlatform(store, 'docker-wrong', parsePlatform('linux/amd64')), failsWith('E_UNSUPPORTED', /expect application\/vnd\.docker\.container\.image\.v1\+json/));
  await assert.rejects(resolvePlatform(store, 'not-json', parsePlatform('linux/amd64')), failsWith('E_MANIFEST_INVALID', /not JSON/));
  const blob = { mediaType: 'application/octet-stream', digest: sha256('x'), size: 1 };
  await assert.rejects(selectPlatformManifest(store, blob, parsePlatform('linux/amd64')), failsWith('E_UNSUPPORTED', /needs an index or an image manifest/));
});

test('fetchManifest and fetchManifestConfig with a platform return the platform\'s manifest and its config', async (t) => {
  const { store, v7 } = await multiPlatform(await makeTempDir(t));
  const m = await fetchManifest(store, 'set', undefined, undefined, parsePlatform('linux/arm/v7'));
  assert.equal(m.descriptor.digest, sha256(v7.bytes));
  assert.deepEqual(m.bytes, v7.bytes);
  const c = await fetchManifestConfig(store, 'set', undefined, parsePlatform('linux/arm/v7'));
  assert.equal(c.bytes.toString(), '{"architecture":"arm","os":"linux","variant":"v7"}');
  await assert.rejects(fetchManifestConfig(store, 'set', undefined, parsePlatform('windows/amd64')), failsWith('E_NOT_FOUND', /no matching manifest/));
});

test('pull\'s choice: the wasm entry by default, the platform\'s entry with --platform', async (t) => {
  const { store, wasm, v6 } = await multiPlatform(await makeTempDir(t));
  assert.equal((await fetchArtifactManifest(store, 'set')).descriptor.digest, sha256(wasm.bytes));
  const chosen = await fetchArtifactManifest(store, 'set', undefined, parsePlatform('linux/arm/v6'));
  assert.equal(chosen.descriptor.digest, sha256(v6.bytes));
  assert.equal(chosen.manifest.config.mediaType, MT.ociConfig);
  await assert.rejects(fetchArtifactManifest(store, 'set', undefined, parsePlatform('linux/s390x')), failsWith('E_NOT_FOUND', /linux\/s390x/));
});

test('copyReference with a platform copies that manifest alone, tagged on the destination', async (t) => {
  const { store, v7 } = await multiPlatform(await makeTempDir(t));
  const dst = new OciLayoutStore(await makeTempDir(t), { create: true });
  const r = await copyReference(store, 'set', dst, ['arm'], { platform: parsePlatform('linux/arm/v7') });
  assert.equal(r.descriptor.digest, sha256(v7.bytes));
  const there = await dst.resolve('arm');
  assert.equal(there.digest, sha256(v7.bytes));
  assert.equal(there.mediaType, MT.ociManifest, 'the manifest, not the index');
});
