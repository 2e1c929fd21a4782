import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { blobCachePath, withBlobCache } from '../../src/content/cache.js';
import type { ReadOnlyTarget, TransferOptions } from '../../src/content/interfaces.js';
import { OciLayoutStore } from '../../src/content/oci-layout.js';
import { readAll } from '../../src/content/read-all.js';
import { isWasmOciError } from '../../src/errors.js';
import { isIndexMediaType, isManifestMediaType, MEDIA_TYPES } from '../../src/oci/media-types.js';
import type { Descriptor } from '../../src/oci/types.js';
import { pullArtifact } from '../../src/operations/pull.js';
import { pushArtifact } from '../../src/operations/push.js';
import { MemoryFetcher } from '../helpers/memory-fetcher.js';
import { examplesDir } from '../helpers/paths.js';
import { makeTempDir } from '../helpers/tmp.js';

const exampleWasm = join(examplesDir, 'example-filter.wasm');
const sha256 = (b: Uint8Array): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const exampleDigest = sha256(await readFile(exampleWasm));

/** A layout store that counts what is fetched from it: the "registry" of these tests. */
class CountingTarget implements ReadOnlyTarget {
  readonly blobFetches: string[] = [];
  readonly manifestFetches: string[] = [];
  constructor(private readonly inner: ReadOnlyTarget) {}
  resolve(reference: string): Promise<Descriptor> {
    return this.inner.resolve(reference);
  }
  exists(desc: Descriptor): Promise<boolean> {
    return this.inner.exists(desc);
  }
  fetch(desc: Descriptor, options?: TransferOptions): Promise<Readable> {
    if (isManifestMediaType(desc.mediaType) || isIndexMediaType(desc.mediaType)) this.manifestFetches.push(desc.digest);
    else this.blobFetches.push(desc.digest);
    return this.inner.fetch(desc, options);
  }
}

async function soloArtifactInLayout(dir: string) {
  const store = new OciLayoutStore(join(dir, 'registry'), { create: true });
  const pushed = await pushArtifact({
    target: store,
    tags: ['v1'],
    pack: { profile: 'solo', files: [{ path: exampleWasm }], runtimeConfig: join(examplesDir, 'runtime-config.json') },
  });
  return { store, pushed, blobDigests: [...new Set(pushed.manifest.layers.map((l) => l.digest))].sort() };
}

/** The stream has emitted 'close': the cache removes an abandoned temp file before it does. */
async function closed(stream: Readable): Promise<void> {
  if (!stream.closed) await once(stream, 'close');
}

async function cacheEntries(cacheDir: string): Promise<string[]> {
  const names = await readdir(join(cacheDir, 'sha256')).catch(() => [] as string[]);
  return names.sort();
}

test('second pull with the cache fetches no blob from the source, writes the same files, and the cache holds only blobs', async (t) => {
  const dir = await makeTempDir(t);
  const { store, pushed, blobDigests } = await soloArtifactInLayout(dir);
  const cacheDir = join(dir, 'cache');

  const first = new CountingTarget(store);
  const r1 = await pullArtifact({ target: withBlobCache(first, cacheDir), reference: 'v1', outputDir: join(dir, 'out1') });
  assert.deepEqual([...first.blobFetches].sort(), blobDigests, 'a cold cache fetches every blob once');
  assert.deepEqual(await cacheEntries(cacheDir), blobDigests.map((d) => d.slice(7)), 'DIR/sha256/<hex> for each blob, no temp files, no manifest');
  for (const d of blobDigests) {
    assert.equal(sha256(await readFile(blobCachePath(cacheDir, d))), d, 'each entry holds the bytes of its digest');
  }

  const second = new CountingTarget(store);
  const warnings: string[] = [];
  const r2 = await pullArtifact({
    target: withBlobCache(second, cacheDir, { onWarning: (m) => warnings.push(m) }),
    reference: 'v1',
    outputDir: join(dir, 'out2'),
  });
  assert.deepEqual(second.blobFetches, [], 'a warm cache fetches no blob from the source');
  assert.deepEqual(second.manifestFetches, [pushed.descriptor.digest], 'the manifest is always fetched from the source');
  assert.deepEqual(warnings, []);
  assert.equal(r2.module?.digest, exampleDigest);
  assert.deepEqual(r2.files.map((f) => [f.name, f.digest]), r1.files.map((f) => [f.name, f.digest]));
  assert.deepEqual(await readFile(join(dir, 'out2', 'example-filter.wasm')), await readFile(exampleWasm));
});

test('a corrupted cache entry (same size, one byte flipped) is detected, removed and fetched again: the pull succeeds', async (t) => {
  const dir = await makeTempDir(t);
  const { store } = await soloArtifactInLayout(dir);
  const cacheDir = join(dir, 'cache');
  await pullArtifact({ target: withBlobCache(store, cacheDir), reference: 'v1', outputDir: join(dir, 'out1') });

  const entry = blobCachePath(cacheDir, exampleDigest);
  const bytes = await readFile(entry);
  bytes[bytes.length >> 1] ^= 0xff;
  await writeFile(entry, bytes);

  const counting = new CountingTarget(store);
  const warnings: string[] = [];
  const result = await pullArtifact({
    target: withBlobCache(counting, cacheDir, { onWarning: (m) => warnings.push(m) }),
    reference: 'v1',
    outputDir: join(dir, 'out2'),
  });
  assert.deepEqual(counting.blobFetches, [exampleDigest], 'only the corrupted blob comes from the source again');
  assert.equal(result.module?.digest, exampleDigest);
  assert.deepEqual(await readFile(join(dir, 'out2', 'example-filter.wasm')), await readFile(exampleWasm), 'the module written is the right one');
  assert.equal(warnings.length, 1);
  assert.match(warnings[0]!, new RegExp(`cache entry for ${exampleDigest} is corrupt.*digest mismatch`));
  assert.equal(sha256(await readFile(entry)), exampleDigest, 'the entry is repaired by the re-fetch');

  const third = new CountingTarget(store);
  await pullArtifact({ target: withBlobCache(third, cacheDir), reference: 'v1', outputDir: join(dir, 'out3') });
  assert.deepEqual(third.blobFetches, [], 'the repaired entry is a hit');
});

test('a truncated cache entry (wrong size) is detected and fetched again', async (t) => {
  const dir = await makeTempDir(t);
  const { store } = await soloArtifactInLayout(dir);
  const cacheDir = join(dir, 'cache');
  await pullArtifact({ target: withBlobCache(store, cacheDir), reference: 'v1', outputDir: join(dir, 'out1') });
  const entry = blobCachePath(cacheDir, exampleDigest);
  await writeFile(entry, (await readFile(entry)).subarray(0, 10));

  const counting = new CountingTarget(store);
  const warnings: string[] = [];
  const result = await pullArtifact({
    target: withBlobCache(counting, cacheDir, { onWarning: (m) => warnings.push(m) }),
    reference: 'v1',
    outputDir: join(dir, 'out2'),
  });
  assert.deepEqual(counting.blobFetches, [exampleDigest]);
  assert.equal(result.module?.digest, exampleDigest);
  assert.match(warnings.join('\n'), /has 10 bytes/);
  assert.equal((await stat(entry)).size, (await stat(exampleWasm)).size);
});

/** A source whose blobs come from a MemoryFetcher that serves whatever it holds, unverified. */
function lyingSource(memory: MemoryFetcher): ReadOnlyTarget {
  return {
    resolve: async () => {
      throw new Error('not used');
    },
    exists: async () => true,
    fetch: (desc, options) => memory.fetch(desc, options),
  };
}

test('a blob that fails verification on the way in never becomes a cache entry', async (t) => {
  const cacheDir = await makeTempDir(t);
  const memory = new MemoryFetcher({ verify: false, chunkSize: 16 });
  const good = new TextEncoder().encode('the bytes the descriptor names, several chunks long');
  const desc = memory.add(good, MEDIA_TYPES.cncfWasmLayer);
  memory.put(desc.digest, new TextEncoder().encode('other bytes of the very same length, several chunks!'.slice(0, good.length)));

  const stream = await withBlobCache(lyingSource(memory), cacheDir).fetch(desc);
  await assert.rejects(readAll(stream, 1 << 20), (err: unknown) => isWasmOciError(err) && err.code === 'E_DIGEST_MISMATCH');
  await closed(stream);
  assert.deepEqual(await cacheEntries(cacheDir), [], 'no entry and no temp file is left');
});

test('a transfer abandoned by its reader leaves no partial entry; a complete one is a hit afterwards', async (t) => {
  const cacheDir = await makeTempDir(t);
  const memory = new MemoryFetcher({ chunkSize: 1024 });
  const bytes = new Uint8Array(64 * 1024).map((_, i) => i * 7);
  const desc = memory.add(bytes, MEDIA_TYPES.cncfWasmLayer);
  const cached = withBlobCache(lyingSource(memory), cacheDir);

  const stream = await cached.fetch(desc);
  await new Promise<void>((resolve) => stream.once('data', () => resolve()));
  stream.destroy();
  await closed(stream);
  assert.deepEqual(await cacheEntries(cacheDir), [], 'the temp file of the abandoned transfer is removed');

  assert.deepEqual(await readAll(await cached.fetch(desc), 1 << 20), Buffer.from(bytes));
  assert.deepEqual(await cacheEntries(cacheDir), [desc.digest.slice(7)]);
  const progress: number[] = [];
  const hit = await readAll(await cached.fetch(desc, { onProgress: (_d, done) => progress.push(done) }), 1 << 20);
  assert.deepEqual(hit, Buffer.from(bytes));
  assert.equal(memory.fetched.length, 2, 'the third fetch was served by the cache');
  assert.equal(progress.at(-1), bytes.length, 'a hit reports progress like a transfer');
});

test('manifests are never cached: a moved tag is seen at once', async (t) => {
  const cacheDir = await makeTempDir(t);
  const memory = new MemoryFetcher();
  const manifest = memory.add(new TextEncoder().encode('{"schemaVersion":2}'), MEDIA_TYPES.ociManifest);
  const cached = withBlobCache(lyingSource(memory), cacheDir);
  await readAll(await cached.fetch(manifest), 1 << 20);
  await readAll(await cached.fetch(manifest), 1 << 20);
  assert.equal(memory.fetched.length, 2);
  assert.deepEqual(await cacheEntries(cacheDir), []);
});
