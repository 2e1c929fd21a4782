import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import tar from 'tar-stream';
import { pack } from '../../src/pack/pack.js';
import { isWasmOciError } from '../../src/errors.js';
import { examplesDir } from '../helpers/paths.js';
import { makeTempDir, workInTempDir } from '../helpers/tmp.js';
import { readContent } from '../helpers/memory-fetcher.js';
import { buildWat } from '../helpers/wat.js';

const MODULE = join(examplesDir, 'example-filter.wasm');
const RUNTIME_CONFIG = join(examplesDir, 'runtime-config.json');
const CREATED = new Date('2024-05-06T07:08:09.123Z');
const CREATED_TEXT = '2024-05-06T07:08:09Z';

const sha = (b: Uint8Array) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const json = (b: Uint8Array) => JSON.parse(Buffer.from(b).toString('utf8'));

async function moduleFacts() {
  const bytes = await readFile(MODULE);
  return { bytes, digest: sha(bytes), size: bytes.length };
}

async function tarEntries(tgz: Buffer) {
  const extract = tar.extract();
  const entries: Array<{ header: tar.Header; body: Buffer }> = [];
  const done = (async () => {
    for await (const entry of extract) {
      const chunks: Buffer[] = [];
      for await (const c of entry) chunks.push(c as Buffer);
      entries.push({ header: entry.header, body: Buffer.concat(chunks) });
    }
  })();
  extract.end(gunzipSync(tgz));
  await done;
  return entries;
}

test('solo: runtime config as config, exactly 2 layers (config again, then the module), generated runtime config', async () => {
  const m = await moduleFacts();
  const a = await pack({ files: [{ path: MODULE }], rootIds: ['my_root'], created: CREATED });
  const configBytes = a.config.bytes;
  assert.deepEqual(json(configBytes), { type: 'envoy_proxy', abiVersions: ['v0.2.1'], config: { rootIds: ['my_root'] } });
  assert.deepEqual(a.manifest, {
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.module.wasm.config.v1+json', digest: sha(configBytes), size: configBytes.length },
    layers: [
      {
        mediaType: 'application/vnd.module.wasm.config.v1+json',
        digest: sha(configBytes),
        size: configBytes.length,
        annotations: { 'org.opencontainers.image.title': 'runtime-config.json' },
      },
      {
        mediaType: 'application/vnd.module.wasm.content.layer.v1+wasm',
        digest: m.digest,
        size: m.size,
        annotations: { 'org.opencontainers.image.title': 'example-filter.wasm' },
      },
    ],
    annotations: { 'org.opencontainers.image.created': CREATED_TEXT },
  });
  // The bytes are the manifest; the descriptor matches them.
  assert.deepEqual(json(a.manifestBytes), a.manifest);
  assert.equal(a.manifestDescriptor.digest, sha(a.manifestBytes));
  assert.equal(a.manifestDescriptor.size, a.manifestBytes.length);
  // Each blob listed once, content matching its descriptor.
  assert.equal(a.blobs.length, 2);
  for (const b of a.blobs) {
    const bytes = await readContent(b.content);
    assert.equal(sha(bytes), b.descriptor.digest);
    assert.equal(bytes.length, b.descriptor.size);
  }
  assert.equal(a.moduleInfo?.proxyWasm?.abiVersions[0], '0_2_1');
  await a.cleanup();
});

test('solo: a user-given runtime config is pushed byte for byte', async () => {
  const a = await pack({ files: [{ path: MODULE }], runtimeConfig: RUNTIME_CONFIG, created: CREATED });
  const given = await readFile(RUNTIME_CONFIG);
  assert.deepEqual(Buffer.from(a.config.bytes), given);
  assert.equal(a.manifest.config.digest, sha(given));
  assert.equal(a.manifest.layers[0]!.digest, sha(given));
});

test('solo: an invalid runtime config file is refused', async (t) => {
  const dir = await makeTempDir(t);
  const bad = join(dir, 'rc.json');
  await writeFile(bad, '{"abiVersions": "nope"}');
  await assert.rejects(pack({ files: [{ path: MODULE }], runtimeConfig: bad }), (e) => isWasmOciError(e, 'E_INVALID_INPUT'));
});

test('compat: image config with diff_ids of the uncompressed tar, one deterministic tar+gzip layer holding plugin.wasm', async () => {
  const m = await moduleFacts();
  const a = await pack({ files: [{ path: MODULE }], profile: 'compat', runtimeConfig: RUNTIME_CONFIG, created: CREATED });
  try {
    assert.equal(a.manifest.mediaType, 'application/vnd.oci.image.manifest.v1+json');
    assert.equal(a.manifest.config.mediaType, 'application/vnd.oci.image.config.v1+json');
    assert.equal(a.manifest.layers.length, 1);
    const layer = a.manifest.layers[0]!;
    assert.equal(layer.mediaType, 'application/vnd.oci.image.layer.v1.tar+gzip');
    assert.deepEqual(a.manifest.annotations, { 'org.opencontainers.image.created': CREATED_TEXT });

    const layerBlob = a.blobs.find((b) => b.descriptor.digest === layer.digest)!;
    const tgz = await readContent(layerBlob.content);
    assert.equal(sha(tgz), layer.digest);
    assert.equal(tgz.length, layer.size);

    const config = json(a.config.bytes);
    assert.deepEqual(config, {
      created: CREATED_TEXT,
      architecture: 'wasm',
      os: 'wasip1',
      rootfs: { type: 'layers', diff_ids: [sha(gunzipSync(tgz))] },
    });
    assert.equal(a.manifest.config.digest, sha(a.config.bytes));

    const entries = await tarEntries(tgz);
    assert.deepEqual(entries.map((e) => e.header.name), ['plugin.wasm', 'runtime-config.json']);
    assert.deepEqual(entries[0]!.body, m.bytes);
    assert.deepEqual(entries[1]!.body, await readFile(RUNTIME_CONFIG));
    for (const e of entries) {
      assert.equal(e.header.type, 'file');
      assert.equal(e.header.mode, 0o644);
      assert.equal(e.header.uid, 0);
      assert.equal(e.header.gid, 0);
      assert.equal(e.header.mtime?.getTime(), 0);
    }

    // Deterministic: packing again (at another time) gives the same layer.
    const again = await pack({ files: [{ path: MODULE }], profile: 'compat', runtimeConfig: RUNTIME_CONFIG, created: new Date() });
    assert.equal(again.manifest.layers[0]!.digest, layer.digest);
    await again.cleanup();
  } finally {
    await a.cleanup();
  }
});

test('compat: cleanup removes the temp layer', async (t) => {
  const dir = await makeTempDir(t);
  const a = await pack({ files: [{ path: MODULE }], profile: 'compat', tempDir: dir, created: CREATED });
  const { readdir } = await import('node:fs/promises');
  assert.equal((await readdir(dir)).length, 1);
  await a.cleanup();
  assert.deepEqual(await readdir(dir), []);
});

test('cncf: wasm config v0 with layerDigests, exactly one application/wasm layer, no artifactType', async () => {
  const m = await moduleFacts();
  const a = await pack({ files: [{ path: MODULE }], profile: 'cncf', created: CREATED });
  assert.deepEqual(json(a.config.bytes), { created: CREATED_TEXT, architecture: 'wasm', os: 'wasip1', layerDigests: [m.digest] });
  assert.deepEqual(a.manifest, {
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.wasm.config.v0+json', digest: sha(a.config.bytes), size: a.config.bytes.length },
    layers: [
      { mediaType: 'application/wasm', digest: m.digest, size: m.size, annotations: { 'org.opencontainers.image.title': 'example-filter.wasm' } },
    ],
    annotations: { 'org.opencontainers.image.created': CREATED_TEXT },
  });
});

test('cncf: a component is wasip2 with its imports and exports', async (t) => {
  const dir = await makeTempDir(t);
  // A minimal component (layer 1, version 0x0d) with no sections.
  const path = join(dir, 'c.wasm');
  await writeFile(path, Buffer.from([0x00, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x01, 0x00]));
  const a = await pack({ files: [{ path }], profile: 'cncf', created: CREATED });
  const config = json(a.config.bytes);
  assert.equal(config.os, 'wasip2');
  assert.deepEqual(config.component, { exports: [], imports: [] });
});

test('oras style: the seed command gives exactly the manifest oras push builds (v1.0 image manifest, one layer)', async (t) => {
  const dir = await workInTempDir(t, [MODULE, RUNTIME_CONFIG]);
  // push REF --manifest-config runtime-config.json:application/vnd.module.wasm.config.v1+json
  //          example-filter.wasm:application/vnd.module.wasm.content.layer.v1+wasm
  const a = await pack({
    files: [{ path: 'example-filter.wasm', mediaType: 'application/vnd.module.wasm.content.layer.v1+wasm' }],
    manifestConfig: { path: 'runtime-config.json', mediaType: 'application/vnd.module.wasm.config.v1+json' },
    created: CREATED,
  });
  assert.equal(a.style, 'oras');
  const m = await moduleFacts();
  const rc = await readFile(RUNTIME_CONFIG);
  const expected =
    '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",' +
    `"config":{"mediaType":"application/vnd.module.wasm.config.v1+json","digest":"${sha(rc)}","size":${rc.length}},` +
    `"layers":[{"mediaType":"application/vnd.module.wasm.content.layer.v1+wasm","digest":"${m.digest}","size":${m.size},` +
    '"annotations":{"org.opencontainers.image.title":"example-filter.wasm"}}],' +
    `"annotations":{"org.opencontainers.image.created":"${CREATED_TEXT}"}}`;
  assert.equal(Buffer.from(a.manifestBytes).toString('utf8'), expected);
  // oras-go's pushManifest reports the config media type as the artifact type of a v1.0 manifest.
  assert.equal(a.manifestDescriptor.artifactType, 'application/vnd.module.wasm.config.v1+json');
  assert.deepEqual(Buffer.from(a.config.bytes), rc);
});

test('oras style: no config gives image-spec v1.1 with the empty config and the unknown artifact type; default layer type', async (t) => {
  const dir = await makeTempDir(t);
  const cwd = process.cwd();
  await writeFile(join(dir, 'hi.txt'), 'hello');
  process.chdir(dir);
  t.after(() => process.chdir(cwd));
  const a = await pack({ files: [{ path: './hi.txt', mediaType: '' }], profile: 'oras', created: CREATED });
  const expected =
    '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","artifactType":"application/vnd.unknown.artifact.v1",' +
    '"config":{"mediaType":"application/vnd.oci.empty.v1+json","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2,"data":"e30="},' +
    `"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"${sha(Buffer.from('hello'))}","size":5,` +
    '"annotations":{"org.opencontainers.image.title":"hi.txt"}}],' +
    `"annotations":{"org.opencontainers.image.created":"${CREATED_TEXT}"}}`;
  assert.equal(Buffer.from(a.manifestBytes).toString('utf8'), expected);

  // --artifact-type and no files: the empty descriptor is the one layer.
  const b = await pack({ files: [], profile: 'oras', artifactType: 'application/vnd.example+type', created: CREATED });
  assert.equal(b.manifest.artifactType, 'application/vnd.example+type');
  assert.deepEqual(b.manifest.layers, [
    { mediaType: 'application/vnd.oci.empty.v1+json', digest: 'sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a', size: 2, data: 'e30=' },
  ]);
});

test('oras style: pushes anything (not Wasm accepted); profiles refuse it with E_NOT_WASM', async (t) => {
  const dir = await makeTempDir(t);
  const notWasm = join(dir, 'notes.txt');
  await writeFile(notWasm, 'just text, not a module');
  for (const profile of ['solo', 'compat', 'cncf'] as const) {
    await assert.rejects(pack({ files: [{ path: notWasm }], profile, tempDir: dir }), (e) => isWasmOciError(e, 'E_NOT_WASM'), profile);
  }
  // The default (solo) too.
  await assert.rejects(pack({ files: [{ path: notWasm }] }), (e) => isWasmOciError(e, 'E_NOT_WASM'));
  const cwd = process.cwd();
  process.chdir(dir);
  t.after(() => process.chdir(cwd));
  const a = await pack({ files: [{ path: 'notes.txt', mediaType: 'text/plain' }], created: CREATED });
  assert.equal(a.manifest.layers[0]!.mediaType, 'text/plain');
  assert.equal(a.manifest.layers[0]!.digest, sha(Buffer.from('just text, not a module')));
  assert.equal(a.moduleInfo, undefined);
});

test('a truncated module is refused by profiles', async (t) => {
  const dir = await makeTempDir(t);
  const path = join(dir, 'trunc.wasm');
  const bytes = await readFile(MODULE);
  await writeFile(path, bytes.subarray(0, bytes.length - 10));
  await assert.rejects(pack({ files: [{ path }], profile: 'solo' }), (e) => isWasmOciError(e, 'E_WASM_PARSE'));
});

test('a missing file is E_FILE_NOT_FOUND naming it, in every style', async (t) => {
  const dir = await makeTempDir(t);
  const missing = join(dir, 'nope.wasm');
  for (const profile of ['solo', 'compat', 'cncf'] as const) {
    await assert.rejects(
      pack({ files: [{ path: missing }], profile }),
      (e) => isWasmOciError(e, 'E_FILE_NOT_FOUND') && e.message.includes(missing),
    );
  }
  const cwd = process.cwd();
  process.chdir(dir);
  t.after(() => process.chdir(cwd));
  await assert.rejects(
    pack({ files: [{ path: 'nope.wasm', mediaType: 'application/wasm' }] }),
    (e) => isWasmOciError(e, 'E_FILE_NOT_FOUND') && e.message.includes('nope.wasm'),
  );
  await assert.rejects(
    pack({ files: [], manifestConfig: { path: 'cfg.json' } }),
    (e) => isWasmOciError(e, 'E_FILE_NOT_FOUND') && e.message.includes('cfg.json'),
  );
});

test('a module built with wat2wasm packs in every profile', async (t) => {
  const dir = await makeTempDir(t);
  const wat = join(dir, 'f.wat');
  await writeFile(wat, '(module (memory (export "memory") 1) (func (export "proxy_abi_version_0_1_0")) (func (export "malloc") (param i32) (result i32) i32.const 0))');
  const path = join(dir, 'f.wasm');
  await writeFile(path, await buildWat(wat));
  const solo = await pack({ files: [{ path }], created: CREATED });
  assert.deepEqual(json(solo.config.bytes).abiVersions, ['v0-097b7f2e4cc1fb490cc1943d0d633655ac3c522f']);
  assert.equal(solo.manifest.layers[1]!.annotations?.['org.opencontainers.image.title'], 'f.wasm');
  const compat = await pack({ files: [{ path }], profile: 'compat', tempDir: dir, created: CREATED });
  assert.equal(compat.manifest.layers.length, 1);
  await compat.cleanup();
  const cncf = await pack({ files: [{ path }], profile: 'cncf', created: CREATED });
  assert.equal(cncf.manifest.layers[0]!.mediaType, 'application/wasm');
});
