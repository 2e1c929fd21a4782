import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadAnnotationFile, loadAnnotations, parseAnnotationFlags } from '../../src/pack/annotations.js';
import { pack } from '../../src/pack/pack.js';
import { parseFileRef } from '../../src/pack/file-ref.js';
import { isWasmOciError } from '../../src/errors.js';
import { examplesDir } from '../helpers/paths.js';
import { makeTempDir } from '../helpers/tmp.js';

const MODULE = join(examplesDir, 'example-filter.wasm');
const CREATED = new Date('2024-05-06T07:08:09Z');

test('parseAnnotationFlags: key=value split at the first "=", errors for no "=" and duplicates', () => {
  assert.deepEqual(parseAnnotationFlags(['a=1', 'b=x=y', 'c=']), { a: '1', b: 'x=y', c: '' });
  assert.throws(() => parseAnnotationFlags(['novalue']), (e) => isWasmOciError(e, 'E_INVALID_INPUT'));
  assert.throws(() => parseAnnotationFlags(['=v']), (e) => isWasmOciError(e, 'E_INVALID_INPUT'));
  assert.throws(() => parseAnnotationFlags(['a=1', 'a=2']), (e) => isWasmOciError(e, 'E_INVALID_INPUT') && e.message.includes('"a"'));
});

test('loadAnnotationFile: oras JSON shape; bad JSON, non-string values and a missing file are refused', async (t) => {
  const dir = await makeTempDir(t);
  const good = join(dir, 'a.json');
  await writeFile(good, JSON.stringify({ $manifest: { k: 'v' }, $config: { c: '1' }, 'example-filter.wasm': { f: '2' } }));
  assert.deepEqual(await loadAnnotationFile(good), { $manifest: { k: 'v' }, $config: { c: '1' }, 'example-filter.wasm': { f: '2' } });
  for (const [name, body] of [['bad.json', '{nope'], ['num.json', '{"$manifest":{"k":1}}'], ['arr.json', '[]'], ['flat.json', '{"$manifest":"v"}']]) {
    const p = join(dir, name!);
    await writeFile(p, body!);
    await assert.rejects(loadAnnotationFile(p), (e) => isWasmOciError(e, 'E_INVALID_INPUT'), name);
  }
  await assert.rejects(loadAnnotationFile(join(dir, 'missing.json')), (e) => isWasmOciError(e, 'E_FILE_NOT_FOUND') && e.message.includes('missing.json'));
  await assert.rejects(loadAnnotations({ flags: ['a=b'], file: good }), (e) => isWasmOciError(e, 'E_INVALID_INPUT'));
  assert.deepEqual(await loadAnnotations({ flags: ['a=b'] }), { $manifest: { a: 'b' } });
});

test('annotations from flags land on the manifest, next to created', async () => {
  const annotations = await loadAnnotations({ flags: ['org.opencontainers.image.source=https://example.com/repo', 'team=mesh'] });
  const a = await pack({ files: [{ path: MODULE }], annotations, created: CREATED });
  assert.deepEqual(a.manifest.annotations, {
    'org.opencontainers.image.created': '2024-05-06T07:08:09Z',
    'org.opencontainers.image.source': 'https://example.com/repo',
    team: 'mesh',
  });
  // Go marshals maps with sorted keys; so do we.
  assert.deepEqual(Object.keys(a.manifest.annotations!), [...Object.keys(a.manifest.annotations!)].sort());
});

test('annotation file: $manifest, $config and per-file entries, in every profile and in oras style', async (t) => {
  const dir = await makeTempDir(t);
  const file = join(dir, 'ann.json');
  await writeFile(file, JSON.stringify({ $manifest: { m: '1' }, $config: { c: '2' }, 'example-filter.wasm': { f: '3' } }));
  const annotations = await loadAnnotations({ file });
  for (const profile of ['solo', 'cncf'] as const) {
    const a = await pack({ files: [{ path: MODULE }], profile, annotations, created: CREATED });
    assert.equal(a.manifest.annotations?.m, '1', profile);
    assert.deepEqual(a.manifest.config.annotations, { c: '2' }, profile);
    const moduleLayer = a.manifest.layers[a.manifest.layers.length - 1]!;
    assert.deepEqual(moduleLayer.annotations, { f: '3', 'org.opencontainers.image.title': 'example-filter.wasm' }, profile);
  }
  await copyFile(MODULE, join(dir, 'example-filter.wasm'));
  const cwd = process.cwd();
  process.chdir(dir);
  t.after(() => process.chdir(cwd));
  const o = await pack({ files: [{ path: 'example-filter.wasm', mediaType: 'application/wasm' }], annotations, created: CREATED });
  assert.deepEqual(o.manifest.config.annotations, { c: '2' });
  assert.deepEqual(o.manifest.layers[0]!.annotations, { f: '3', 'org.opencontainers.image.title': 'example-filter.wasm' });
  // The annotations go into the bytes pushed, not only the object.
  assert.match(Buffer.from(o.manifestBytes).toString(), /"annotations":\{"c":"2"\},"data":"e30="/);
});

test('a user-set created annotation is kept when RFC 3339 and refused otherwise', async () => {
  const ok = await pack({ files: [{ path: MODULE }], annotations: { $manifest: { 'org.opencontainers.image.created': '2020-01-01T00:00:00+02:00' } } });
  assert.equal(ok.manifest.annotations?.['org.opencontainers.image.created'], '2020-01-01T00:00:00+02:00');
  await assert.rejects(
    pack({ files: [{ path: MODULE }], annotations: { $manifest: { 'org.opencontainers.image.created': 'yesterday' } } }),
    (e) => isWasmOciError(e, 'E_INVALID_INPUT'),
  );
});

test('--artifact-type sets the manifest artifactType in a profile', async () => {
  const a = await pack({ files: [{ path: MODULE }], artifactType: 'application/vnd.example.filter', created: CREATED });
  assert.equal(a.manifest.artifactType, 'application/vnd.example.filter');
  assert.equal(a.manifestDescriptor.artifactType, 'application/vnd.example.filter');
});

test('parseFileRef splits at the last colon as oras does', () => {
  assert.deepEqual(parseFileRef('a.wasm'), { path: 'a.wasm' });
  assert.deepEqual(parseFileRef('a.wasm:application/wasm'), { path: 'a.wasm', mediaType: 'application/wasm' });
  assert.deepEqual(parseFileRef('hi:txt:'), { path: 'hi:txt' });
  assert.throws(() => parseFileRef(':application/wasm'), (e) => isWasmOciError(e, 'E_USAGE'));
});

test('mixing a profile with spelled media types or a manifest config is a usage error', async () => {
  await assert.rejects(pack({ files: [{ path: MODULE, mediaType: 'application/wasm' }], profile: 'solo' }), (e) => isWasmOciError(e, 'E_USAGE'));
  await assert.rejects(pack({ files: [{ path: MODULE }], profile: 'cncf', manifestConfig: { path: MODULE } }), (e) => isWasmOciError(e, 'E_USAGE'));
  await assert.rejects(pack({ files: [{ path: MODULE }, { path: MODULE }], profile: 'solo' }), (e) => isWasmOciError(e, 'E_USAGE'));
});

test('oras style refuses a file path that would give an unsafe title', async () => {
  await assert.rejects(pack({ files: [{ path: MODULE, mediaType: 'application/wasm' }] }), (e) => isWasmOciError(e, 'E_INVALID_INPUT'));
  await assert.rejects(pack({ files: [{ path: '../x.wasm', mediaType: 'application/wasm' }] }), (e) => isWasmOciError(e, 'E_INVALID_INPUT'));
});
