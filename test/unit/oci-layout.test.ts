import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { OciLayoutStore } from '../../src/content/oci-layout.js';
import { readAll } from '../../src/content/read-all.js';
import { copyReference } from '../../src/copy/copy.js';
import { digestOf } from '../../src/oci/digest.js';
import { encodeManifest, descriptorFor } from '../../src/oci/manifest.js';
import { MEDIA_TYPES } from '../../src/oci/media-types.js';
import { isWasmOciError } from '../../src/errors.js';
import { makeTempDir } from '../helpers/tmp.js';

function blob(text: string, mediaType = 'application/octet-stream') {
  const bytes = new TextEncoder().encode(text);
  return { bytes, desc: { mediaType, digest: digestOf(bytes), size: bytes.length } };
}

async function storeArtifact(store: OciLayoutStore, text: string) {
  const config = blob('{}', MEDIA_TYPES.ociEmpty);
  const layer = blob(text, MEDIA_TYPES.cncfWasmLayer);
  await store.push(config.desc, config.bytes);
  await store.push(layer.desc, layer.bytes);
  const manifestBytes = encodeManifest({ schemaVersion: 2, mediaType: MEDIA_TYPES.ociManifest, config: config.desc, layers: [layer.desc] });
  const desc = descriptorFor(manifestBytes, MEDIA_TYPES.ociManifest);
  await store.push(desc, manifestBytes);
  return { desc, manifestBytes, layer };
}

test('a new layout has oci-layout, index.json and blobs/sha256/<hex>; tags resolve', async (t) => {
  const dir = await makeTempDir(t);
  const store = new OciLayoutStore(join(dir, 'store'), { create: true });
  const { desc, layer } = await storeArtifact(store, 'module bytes');
  await store.tag(desc, 'v1');
  assert.deepEqual(JSON.parse(await readFile(join(dir, 'store', 'oci-layout'), 'utf8')), { imageLayoutVersion: '1.0.0' });
  const index = JSON.parse(await readFile(join(dir, 'store', 'index.json'), 'utf8'));
  assert.equal(index.schemaVersion, 2);
  assert.equal(index.manifests.length, 1);
  assert.equal(index.manifests[0].annotations['org.opencontainers.image.ref.name'], 'v1');
  assert.equal(index.manifests[0].digest, desc.digest);
  assert.equal(await readFile(join(dir, 'store', 'blobs', 'sha256', layer.desc.digest.slice(7)), 'utf8'), 'module bytes');
  assert.deepEqual(await store.resolve('v1'), desc);
  assert.deepEqual(await store.resolve(desc.digest), desc);
  assert.deepEqual(await store.tags(), ['v1']);
});

test('retagging replaces the entry; an unknown tag is E_NOT_FOUND naming the tags there', async (t) => {
  const dir = await makeTempDir(t);
  const store = new OciLayoutStore(dir, { create: true });
  const a = await storeArtifact(store, 'a');
  const b = await storeArtifact(store, 'b');
  await store.tag(a.desc, 'latest');
  await store.tag(b.desc, 'latest');
  assert.equal((await store.resolve('latest')).digest, b.desc.digest);
  await assert.rejects(store.resolve('nope'), (err) => isWasmOciError(err, 'E_NOT_FOUND') && /nope/.test(err.message) && /latest/.test(err.hint ?? ''));
});

test('a push whose bytes do not match the digest leaves no blob and no temp file', async (t) => {
  const dir = await makeTempDir(t);
  const store = new OciLayoutStore(dir, { create: true });
  const good = blob('expected');
  await assert.rejects(store.push(good.desc, new TextEncoder().encode('tampered')), (err) => isWasmOciError(err, 'E_DIGEST_MISMATCH'));
  await assert.rejects(store.push(good.desc, new TextEncoder().encode('too long!!')), (err) => isWasmOciError(err, 'E_SIZE_MISMATCH'));
  assert.deepEqual(await readdir(join(dir, 'blobs', 'sha256')), []);
  assert.equal(await store.exists(good.desc), false);
});

test('fetch verifies: a blob corrupted on disk fails with E_DIGEST_MISMATCH', async (t) => {
  const dir = await makeTempDir(t);
  const store = new OciLayoutStore(dir, { create: true });
  const b = blob('original');
  await store.push(b.desc, b.bytes);
  await writeFile(store.blobPath(b.desc.digest), 'modified');
  await assert.rejects(readAll(await store.fetch(b.desc), 1024), (err) => isWasmOciError(err, 'E_DIGEST_MISMATCH'));
});

test('reading a directory that is not a layout is E_NOT_FOUND', async (t) => {
  const dir = await makeTempDir(t);
  await assert.rejects(new OciLayoutStore(join(dir, 'missing')).resolve('v1'), (err) => isWasmOciError(err, 'E_NOT_FOUND'));
});

test('concurrent tags from two stores on one layout keep both (index.json lock)', async (t) => {
  const dir = await makeTempDir(t);
  const s1 = new OciLayoutStore(dir, { create: true });
  const a = await storeArtifact(s1, 'a');
  const b = await storeArtifact(s1, 'b');
  const s2 = new OciLayoutStore(dir, { create: true });
  await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 ? s1 : s2).tag(i % 2 ? a.desc : b.desc, `t${i}`)));
  assert.deepEqual(await s1.tags(), Array.from({ length: 10 }, (_, i) => `t${i}`).sort());
});

test('copy between layouts moves every blob, skips those present, and tags', async (t) => {
  const dir = await makeTempDir(t);
  const src = new OciLayoutStore(join(dir, 'src'), { create: true });
  const dst = new OciLayoutStore(join(dir, 'dst'), { create: true });
  const a = await storeArtifact(src, 'payload');
  await src.tag(a.desc, 'v1');
  const actions: string[] = [];
  await copyReference(src, 'v1', dst, ['v1', 'stable'], { onCopy: (d, action) => actions.push(`${d.mediaType}:${action}`) });
  assert.deepEqual((await dst.tags()).sort(), ['stable', 'v1']);
  assert.equal((await dst.resolve('stable')).digest, a.desc.digest);
  assert.equal(await readFile(dst.blobPath(a.layer.desc.digest), 'utf8'), 'payload');
  assert.equal(actions.filter((x) => x.endsWith(':copied')).length, 3);
  actions.length = 0;
  await copyReference(src, 'v1', dst, ['v2'], { onCopy: (d, action) => actions.push(action) });
  assert.deepEqual(actions, ['skipped', 'skipped', 'skipped']);
});

test('pushUnknown hashes while it writes, stores under the computed digest, and leaves no temp file', async (t) => {
  const dir = await makeTempDir(t);
  const store = new OciLayoutStore(dir, { create: true });
  const { Readable } = await import('node:stream');
  const body = Buffer.from('streamed once');
  const desc = await store.pushUnknown('application/octet-stream', Readable.from([body]), { size: body.length });
  assert.deepEqual(desc, { mediaType: 'application/octet-stream', digest: digestOf(body), size: body.length });
  assert.deepEqual(await readdir(join(dir, 'blobs', 'sha256')), [desc.digest.slice(7)]);
  await assert.rejects(store.pushUnknown('application/octet-stream', Readable.from([body]), { size: 3 }), (err) => isWasmOciError(err, 'E_SIZE_MISMATCH'));
  assert.deepEqual(await readdir(join(dir, 'blobs', 'sha256')), [desc.digest.slice(7)], 'a failed push leaves nothing');
});
