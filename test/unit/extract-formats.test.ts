import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pack, type PackOptions } from '../../src/pack/pack.js';
import { extractArtifact } from '../../src/pull/extract.js';
import type { ImageManifest } from '../../src/oci/types.js';
import { MemoryFetcher } from '../helpers/memory-fetcher.js';
import { examplesDir } from '../helpers/paths.js';
import { makeTempDir, workInTempDir } from '../helpers/tmp.js';
import { buildTar } from '../helpers/tar-builder.js';

const MODULE = join(examplesDir, 'example-filter.wasm');
const RUNTIME_CONFIG = join(examplesDir, 'runtime-config.json');
const sha = (b: Uint8Array) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

/** Packs with our own pack() and serves every blob from memory, as a registry would. */
async function packed(options: PackOptions): Promise<{ manifest: ImageManifest; fetcher: MemoryFetcher }> {
  const a = await pack(options);
  const fetcher = new MemoryFetcher();
  for (const b of a.blobs) await fetcher.addContent(b.descriptor, b.content);
  await a.cleanup();
  return { manifest: a.manifest, fetcher };
}

test('solo: writes runtime-config.json and the module under its title', async (t) => {
  const out = join(await makeTempDir(t), 'out');
  const { manifest, fetcher } = await packed({ files: [{ path: MODULE }], runtimeConfig: RUNTIME_CONFIG });
  const progress: number[] = [];
  const r = await extractArtifact({ manifest, fetcher, outputDir: out, onProgress: (_d, n) => progress.push(n) });
  assert.deepEqual((await readdir(out)).sort(), ['example-filter.wasm', 'runtime-config.json']);
  assert.deepEqual(await readFile(join(out, 'example-filter.wasm')), await readFile(MODULE));
  assert.deepEqual(await readFile(join(out, 'runtime-config.json')), await readFile(RUNTIME_CONFIG));
  assert.equal(r.module?.name, 'example-filter.wasm');
  assert.equal(r.module?.digest, sha(await readFile(MODULE)));
  assert.equal(r.files.length, 2);
  assert.ok(progress.length > 0);
});

test('compat: unpacks plugin.wasm (and runtime-config.json) from the gzip tar layer', async (t) => {
  const dir = await makeTempDir(t);
  const out = join(dir, 'out');
  const { manifest, fetcher } = await packed({ files: [{ path: MODULE }], profile: 'compat', runtimeConfig: RUNTIME_CONFIG, tempDir: dir });
  const r = await extractArtifact({ manifest, fetcher, outputDir: out });
  assert.deepEqual((await readdir(out)).sort(), ['plugin.wasm', 'runtime-config.json']);
  assert.deepEqual(await readFile(join(out, 'plugin.wasm')), await readFile(MODULE));
  assert.equal(r.module?.name, 'plugin.wasm');
  assert.equal(r.module?.digest, sha(await readFile(MODULE)));
});

test('cncf: writes the application/wasm layer under its title', async (t) => {
  const out = join(await makeTempDir(t), 'out');
  const { manifest, fetcher } = await packed({ files: [{ path: MODULE }], profile: 'cncf' });
  const r = await extractArtifact({ manifest, fetcher, outputDir: out });
  assert.deepEqual(await readdir(out), ['example-filter.wasm']);
  assert.equal(r.module?.size, (await readFile(MODULE)).length);
});

test('oras style: the seed artifact (one layer) yields the module; a default-typed .wasm file too', async (t) => {
  const dir = await workInTempDir(t, [MODULE, RUNTIME_CONFIG]);
  const seed = await packed({
    files: [{ path: 'example-filter.wasm', mediaType: 'application/vnd.module.wasm.content.layer.v1+wasm' }],
    manifestConfig: { path: 'runtime-config.json', mediaType: 'application/vnd.module.wasm.config.v1+json' },
  });
  const r1 = await extractArtifact({ ...seed, outputDir: join(dir, 'out1') });
  assert.equal(r1.module?.name, 'example-filter.wasm');
  assert.deepEqual(await readdir(join(dir, 'out1')), ['example-filter.wasm']);

  const plain = await packed({ files: [{ path: 'example-filter.wasm', mediaType: '' }], profile: 'oras' });
  const r2 = await extractArtifact({ ...plain, outputDir: join(dir, 'out2') });
  assert.equal(r2.module?.name, 'example-filter.wasm');
  assert.deepEqual(await readFile(r2.module!.path), await readFile(MODULE));
});

test('untitled layers: legacy wasm-to-oci and solo types become plugin.wasm and runtime-config.json', async (t) => {
  const out = join(await makeTempDir(t), 'out');
  const fetcher = new MemoryFetcher();
  const moduleBytes = await readFile(MODULE);
  const rc = await readFile(RUNTIME_CONFIG);
  const config = fetcher.add(rc, 'application/vnd.module.wasm.config.v1+json');
  const manifest: ImageManifest = {
    schemaVersion: 2,
    config,
    layers: [config, fetcher.add(moduleBytes, 'application/vnd.wasm.content.layer.v1+wasm')],
  };
  const r = await extractArtifact({ manifest, fetcher, outputDir: out });
  assert.deepEqual((await readdir(out)).sort(), ['plugin.wasm', 'runtime-config.json']);
  assert.equal(r.module?.name, 'plugin.wasm');
  assert.deepEqual(await readFile(join(out, 'plugin.wasm')), moduleBytes);
});

test('Docker v2 image: only plugin.wasm is taken from the last gzip layer, whatever else it holds', async (t) => {
  const out = join(await makeTempDir(t), 'out');
  const fetcher = new MemoryFetcher();
  const moduleBytes = await readFile(MODULE);
  const base = await buildTar([{ name: 'etc/passwd', body: 'root:x:0:0' }]);
  const top = await buildTar([
    { name: 'etc/hosts', body: '127.0.0.1 localhost' },
    { name: 'evil-link', type: 'symlink', linkname: '/etc/passwd' },
    { name: './plugin.wasm', body: moduleBytes },
  ]);
  const manifest: ImageManifest = {
    schemaVersion: 2,
    mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
    config: fetcher.add(Buffer.from('{"architecture":"amd64","os":"linux"}'), 'application/vnd.docker.container.image.v1+json'),
    layers: [
      fetcher.add(base, 'application/vnd.docker.image.rootfs.diff.tar.gzip'),
      fetcher.add(top, 'application/vnd.docker.image.rootfs.diff.tar.gzip'),
    ],
  };
  const warnings: string[] = [];
  const r = await extractArtifact({ manifest, fetcher, outputDir: out, onWarning: (w) => warnings.push(w) });
  assert.deepEqual(await readdir(out), ['plugin.wasm']);
  assert.deepEqual(await readFile(join(out, 'plugin.wasm')), moduleBytes);
  assert.equal(r.module?.digest, sha(moduleBytes));
  // The first layer is not even fetched: Istio looks at the last one only.
  assert.deepEqual(fetcher.fetched, [manifest.layers[1]!.digest]);
  assert.equal(warnings.length, 1);
});

test('an artifact with nothing to write is refused, and nothing is created', async (t) => {
  const dir = await makeTempDir(t);
  const fetcher = new MemoryFetcher();
  const manifest: ImageManifest = {
    schemaVersion: 2,
    config: fetcher.add(Buffer.from('{}'), 'application/vnd.oci.image.config.v1+json'),
    layers: [fetcher.add(Buffer.from('x'), 'application/octet-stream')],
  };
  await assert.rejects(extractArtifact({ manifest, fetcher, outputDir: join(dir, 'out') }), { code: 'E_UNSUPPORTED' });
  assert.deepEqual(await readdir(dir), []);
});

test('an existing file at the target is replaced by the verified one', async (t) => {
  const out = join(await makeTempDir(t), 'out');
  const { manifest, fetcher } = await packed({ files: [{ path: MODULE }], profile: 'cncf' });
  const { mkdir, writeFile } = await import('node:fs/promises');
  await mkdir(out);
  await writeFile(join(out, 'example-filter.wasm'), 'old');
  await extractArtifact({ manifest, fetcher, outputDir: out });
  assert.deepEqual(await readFile(join(out, 'example-filter.wasm')), await readFile(MODULE));
  assert.deepEqual(await readdir(out), ['example-filter.wasm']);
});

test('a second pull into the same directory does not leave the first artifact\'s runtime-config.json beside its module', async (t) => {
  const dir = await makeTempDir(t);
  const out = join(dir, 'out');
  const first = await packed({ files: [{ path: MODULE }], profile: 'compat', runtimeConfig: RUNTIME_CONFIG, tempDir: dir });
  await extractArtifact({ manifest: first.manifest, fetcher: first.fetcher, outputDir: out });
  assert.deepEqual((await readdir(out)).sort(), ['plugin.wasm', 'runtime-config.json']);
  // Another filter, packed without a runtime config: plugin.wasm is replaced, the old config goes.
  const other = Buffer.from(await readFile(MODULE));
  other[other.length - 1] ^= 1;
  const tgz = await buildTar([{ name: 'plugin.wasm', body: other }]);
  const fetcher = new MemoryFetcher();
  const manifest: ImageManifest = {
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: fetcher.add(Buffer.from('{}'), 'application/vnd.oci.image.config.v1+json'),
    layers: [fetcher.add(tgz, 'application/vnd.oci.image.layer.v1.tar+gzip')],
  };
  const warnings: string[] = [];
  await extractArtifact({ manifest, fetcher, outputDir: out, onWarning: (m) => warnings.push(m) });
  assert.deepEqual(await readdir(out), ['plugin.wasm']);
  assert.deepEqual(await readFile(join(out, 'plugin.wasm')), other);
  assert.ok(warnings.some((w) => /removed runtime-config\.json/.test(w)), warnings.join('\n'));
  // A pull that brings its own config replaces it; one without a module leaves it alone.
  await extractArtifact({ manifest: first.manifest, fetcher: first.fetcher, outputDir: out });
  const docs = new MemoryFetcher();
  const notes: ImageManifest = {
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: docs.add(Buffer.from('{}'), 'application/vnd.oci.empty.v1+json'),
    layers: [docs.add(Buffer.from('notes'), 'text/plain', { 'org.opencontainers.image.title': 'NOTES.txt' })],
  };
  await extractArtifact({ manifest: notes, fetcher: docs, outputDir: out });
  assert.deepEqual((await readdir(out)).sort(), ['NOTES.txt', 'plugin.wasm', 'runtime-config.json']);
  assert.deepEqual(await readFile(join(out, 'runtime-config.json')), await readFile(RUNTIME_CONFIG));
});
