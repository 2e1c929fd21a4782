import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lstat, mkdir, readdir, readFile, readlink, symlink, writeFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { extractArtifact } from '../../src/pull/extract.js';
import { extractFromTarLayer } from '../../src/pull/tar-module.js';
import { isWasmOciError } from '../../src/errors.js';
import type { Descriptor, ImageManifest } from '../../src/oci/types.js';
import { MemoryFetcher } from '../helpers/memory-fetcher.js';
import { examplesDir } from '../helpers/paths.js';
import { makeTempDir } from '../helpers/tmp.js';
import { buildTar, type TarEntrySpec } from '../helpers/tar-builder.js';

const TITLE = 'org.opencontainers.image.title';
const moduleBytes = () => readFile(join(examplesDir, 'example-filter.wasm'));

/** Lists every path under `dir` (recursively, symlinks not followed). */
async function tree(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    out.push(e.name);
    if (e.isDirectory()) for (const sub of await tree(join(dir, e.name))) out.push(`${e.name}/${sub}`);
  }
  return out.sort();
}

function manifestOf(fetcher: MemoryFetcher, layers: Descriptor[]): ImageManifest {
  return {
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: fetcher.add(Buffer.from('{}'), 'application/vnd.oci.empty.v1+json'),
    layers,
  };
}

const HOSTILE_TITLES = ['../x', '/abs/x', 'a/../../x', '..', 'C:\\x', 'C:x', '..\\x', 'a\\..\\..\\x', '\\\\host\\share\\x', 'a//b', './x', 'x\u0000y', ''];

for (const title of HOSTILE_TITLES) {
  test(`layer title ${JSON.stringify(title)} is refused with E_UNSAFE_PATH and nothing is written`, async (t) => {
    const sandbox = await makeTempDir(t);
    const parent = join(sandbox, 'parent');
    await mkdir(parent);
    const out = join(parent, 'out');
    const fetcher = new MemoryFetcher();
    // A harmless layer first: it must not be written either, names are checked before any write.
    const manifest = manifestOf(fetcher, [
      fetcher.add(Buffer.from('fine'), 'text/plain', { [TITLE]: 'fine.txt' }),
      fetcher.add(Buffer.from('escaped'), 'text/plain', { [TITLE]: title }),
    ]);
    await assert.rejects(extractArtifact({ manifest, fetcher, outputDir: out }), { code: 'E_UNSAFE_PATH' });
    assert.deepEqual(await tree(sandbox), ['parent']);
    assert.deepEqual(fetcher.fetched, []);
  });
}

test('a directory symlink inside outputDir that leads outside is not followed', async (t) => {
  const sandbox = await makeTempDir(t);
  const out = join(sandbox, 'out');
  const outside = join(sandbox, 'outside');
  await mkdir(out);
  await mkdir(outside);
  await symlink(outside, join(out, 'sub'));
  const fetcher = new MemoryFetcher();
  const manifest = manifestOf(fetcher, [fetcher.add(await moduleBytes(), 'application/wasm', { [TITLE]: 'sub/filter.wasm' })]);
  await assert.rejects(extractArtifact({ manifest, fetcher, outputDir: out }), { code: 'E_UNSAFE_PATH' });
  assert.deepEqual(await readdir(outside), []);
  assert.deepEqual(await tree(out), ['sub']);
});

test('a symlink at the target path is replaced, never written through', async (t) => {
  const sandbox = await makeTempDir(t);
  const out = join(sandbox, 'out');
  await mkdir(out);
  const victim = join(sandbox, 'victim.txt');
  await writeFile(victim, 'precious');
  await symlink(victim, join(out, 'filter.wasm'));
  const fetcher = new MemoryFetcher();
  const bytes = await moduleBytes();
  const manifest = manifestOf(fetcher, [fetcher.add(bytes, 'application/wasm', { [TITLE]: 'filter.wasm' })]);
  await extractArtifact({ manifest, fetcher, outputDir: out });
  assert.equal(await readFile(victim, 'utf8'), 'precious');
  assert.ok((await lstat(join(out, 'filter.wasm'))).isFile());
  assert.deepEqual(await readFile(join(out, 'filter.wasm')), bytes);
});

test('an outputDir that is itself a symlink is resolved once and written into its target', async (t) => {
  const sandbox = await makeTempDir(t);
  const real = join(sandbox, 'real');
  await mkdir(real);
  await symlink(real, join(sandbox, 'link'));
  const fetcher = new MemoryFetcher();
  const manifest = manifestOf(fetcher, [fetcher.add(await moduleBytes(), 'application/wasm', { [TITLE]: 'nested/dir/filter.wasm' })]);
  const r = await extractArtifact({ manifest, fetcher, outputDir: join(sandbox, 'link') });
  assert.equal(r.module?.path, join(real, 'nested', 'dir', 'filter.wasm'));
  assert.deepEqual(await tree(real), ['nested', 'nested/dir', 'nested/dir/filter.wasm']);
  assert.equal(await readlink(join(sandbox, 'link')), real);
});

const HOSTILE_TAR_ENTRIES: Array<[string, TarEntrySpec[]]> = [
  ['../plugin.wasm', [{ name: '../plugin.wasm', body: 'x' }]],
  ['/plugin.wasm', [{ name: '/plugin.wasm', body: 'x' }]],
  ['a/../../plugin.wasm', [{ name: 'a/../../plugin.wasm', body: 'x' }]],
  ['symlink plugin.wasm -> /etc/passwd', [{ name: 'plugin.wasm', type: 'symlink', linkname: '/etc/passwd' }]],
  ['hard link plugin.wasm -> ../../etc/passwd', [{ name: 'plugin.wasm', type: 'link', linkname: '../../etc/passwd' }]],
  ['character device plugin.wasm', [{ name: 'plugin.wasm', type: 'character-device' }]],
  ['block device plugin.wasm', [{ name: 'plugin.wasm', type: 'block-device' }]],
  ['fifo plugin.wasm', [{ name: 'plugin.wasm', type: 'fifo' }]],
  ['directory plugin.wasm', [{ name: 'plugin.wasm/', type: 'directory' }]],
  ['symlink runtime-config.json', [{ name: 'runtime-config.json', type: 'symlink', linkname: '../../x' }]],
];

for (const [label, entries] of HOSTILE_TAR_ENTRIES) {
  test(`compat tar entry ${label} is refused and nothing is written`, async (t) => {
    const sandbox = await makeTempDir(t);
    const out = join(sandbox, 'out');
    const fetcher = new MemoryFetcher();
    // A genuine plugin.wasm follows the hostile entry: the pull must still fail as a whole.
    const tgz = await buildTar([...entries, { name: 'other/plugin.wasm', body: await moduleBytes() }]);
    const manifest = manifestOf(fetcher, [fetcher.add(tgz, 'application/vnd.oci.image.layer.v1.tar+gzip')]);
    await assert.rejects(extractArtifact({ manifest, fetcher, outputDir: out }), { code: 'E_UNSAFE_PATH' });
    assert.deepEqual(await tree(sandbox), ['out']);
    assert.deepEqual(await tree(out), []);
  });
}

test('links and devices under other names are skipped, never written', async (t) => {
  const sandbox = await makeTempDir(t);
  const out = join(sandbox, 'out');
  const fetcher = new MemoryFetcher();
  const tgz = await buildTar([
    { name: 'evil', type: 'symlink', linkname: '../../../etc' },
    { name: 'hard', type: 'link', linkname: '/etc/shadow' },
    { name: 'null', type: 'character-device' },
    { name: '../outside.txt', body: 'x' },
    { name: 'plugin.wasm', body: await moduleBytes() },
  ]);
  const manifest = manifestOf(fetcher, [fetcher.add(tgz, 'application/vnd.oci.image.layer.v1.tar+gzip')]);
  const r = await extractArtifact({ manifest, fetcher, outputDir: out });
  assert.deepEqual(await tree(sandbox), ['out', 'out/plugin.wasm']);
  assert.equal(r.module?.name, 'plugin.wasm');
});

// Stores hold bytes that do not match (a corrupted layout, a hostile registry); the Fetcher's
// verifying stream is what catches them, once, and extraction must then leave nothing behind.
test('a blob whose bytes do not match its digest leaves no file (corrupted store)', async (t) => {
  const sandbox = await makeTempDir(t);
  const out = join(sandbox, 'out');
  const fetcher = new MemoryFetcher({ verify: true });
  const good = await moduleBytes();
  const desc = fetcher.add(good, 'application/wasm', { [TITLE]: 'filter.wasm' });
  const tampered = Buffer.from(good);
  tampered[tampered.length - 1]! ^= 0xff;
  fetcher.put(desc.digest, tampered);
  const manifest = manifestOf(fetcher, [fetcher.add(Buffer.from('ok'), 'text/plain', { [TITLE]: 'ok.txt' }), desc]);
  await assert.rejects(extractArtifact({ manifest, fetcher, outputDir: out, concurrency: 1 }), { code: 'E_DIGEST_MISMATCH' });
  // Not even the layer that verified: the pull is all or nothing, and no .partial file remains.
  assert.deepEqual(await tree(out), []);
});

test('a blob longer than its descriptor says fails with E_SIZE_MISMATCH and leaves no file', async (t) => {
  const out = join(await makeTempDir(t), 'out');
  const fetcher = new MemoryFetcher({ verify: true });
  const desc = fetcher.add(Buffer.from('short'), 'text/plain', { [TITLE]: 'a.txt' });
  fetcher.put(desc.digest, Buffer.from('short and then a lot more'));
  await assert.rejects(extractArtifact({ manifest: manifestOf(fetcher, [desc]), fetcher, outputDir: out }), { code: 'E_SIZE_MISMATCH' });
  assert.deepEqual(await tree(out), []);
});

test('a compat layer that does not match its digest leaves no plugin.wasm', async (t) => {
  const out = join(await makeTempDir(t), 'out');
  const fetcher = new MemoryFetcher({ verify: false });
  const desc = fetcher.add(await buildTar([{ name: 'plugin.wasm', body: await moduleBytes() }]), 'application/vnd.oci.image.layer.v1.tar+gzip');
  // Same size, other content: the module is unpacked before the end of the stream reveals it.
  fetcher.put(desc.digest, await buildTar([{ name: 'plugin.wasm', body: Buffer.alloc((await moduleBytes()).length, 1) }]));
  const served = fetcher.blobs.get(desc.digest)!;
  desc.size = served.length;
  await assert.rejects(extractArtifact({ manifest: manifestOf(fetcher, [desc]), fetcher, outputDir: out }), { code: 'E_DIGEST_MISMATCH' });
  assert.deepEqual(await tree(out), []);
});

test('gzip bomb: a huge plugin.wasm entry is capped at the module size limit', async (t) => {
  const out = join(await makeTempDir(t), 'out');
  const fetcher = new MemoryFetcher();
  const tgz = await buildTar([{ name: 'plugin.wasm', zeros: 8 * 1024 * 1024 }]);
  assert.ok(tgz.length < 64 * 1024, 'the bomb is small compressed');
  const manifest = manifestOf(fetcher, [fetcher.add(tgz, 'application/vnd.oci.image.layer.v1.tar+gzip')]);
  await assert.rejects(extractArtifact({ manifest, fetcher, outputDir: out, moduleSizeLimit: 64 * 1024 }), { code: 'E_SIZE_LIMIT' });
  assert.deepEqual(await tree(out), []);
});

test('gzip bomb: junk entries beyond the limit stop the decompression too', async (t) => {
  const out = join(await makeTempDir(t), 'out');
  const fetcher = new MemoryFetcher();
  const tgz = await buildTar([
    { name: 'junk.bin', zeros: 24 * 1024 * 1024 },
    { name: 'plugin.wasm', body: await moduleBytes() },
  ]);
  const manifest = manifestOf(fetcher, [fetcher.add(tgz, 'application/vnd.oci.image.layer.v1.tar+gzip')]);
  await assert.rejects(extractArtifact({ manifest, fetcher, outputDir: out, moduleSizeLimit: 64 * 1024 }), { code: 'E_SIZE_LIMIT' });
  assert.deepEqual(await tree(out), []);
});

test('a Wasm layer over the module limit is refused before it is fetched', async (t) => {
  const out = join(await makeTempDir(t), 'out');
  const fetcher = new MemoryFetcher();
  const manifest = manifestOf(fetcher, [fetcher.add(await moduleBytes(), 'application/wasm', { [TITLE]: 'f.wasm' })]);
  await assert.rejects(extractArtifact({ manifest, fetcher, outputDir: out, moduleSizeLimit: 100 }), { code: 'E_SIZE_LIMIT' });
  assert.deepEqual(fetcher.fetched, []);
});

test('two layers with the same title are an invalid manifest', async (t) => {
  const out = join(await makeTempDir(t), 'out');
  const fetcher = new MemoryFetcher();
  const manifest = manifestOf(fetcher, [
    fetcher.add(Buffer.from('a'), 'text/plain', { [TITLE]: 'x.txt' }),
    fetcher.add(Buffer.from('b'), 'text/plain', { [TITLE]: 'x.txt' }),
  ]);
  await assert.rejects(extractArtifact({ manifest, fetcher, outputDir: out }), { code: 'E_MANIFEST_INVALID' });
});

test('a cancelled extraction leaves no file', async (t) => {
  const out = join(await makeTempDir(t), 'out');
  const fetcher = new MemoryFetcher({ chunkSize: 16 });
  const manifest = manifestOf(fetcher, [fetcher.add(await moduleBytes(), 'application/wasm', { [TITLE]: 'f.wasm' })]);
  const controller = new AbortController();
  const run = extractArtifact({ manifest, fetcher, outputDir: out, signal: controller.signal, onProgress: () => controller.abort() });
  await assert.rejects(run, { code: 'E_CANCELLED' });
  assert.deepEqual(await tree(out), []);
});

test('a directory where a file goes refuses the pull before any file is moved into place', async (t) => {
  const out = join(await makeTempDir(t), 'out');
  const { mkdir } = await import('node:fs/promises');
  await mkdir(join(out, 'b.txt'), { recursive: true });
  const fetcher = new MemoryFetcher();
  const a = fetcher.add(Buffer.from('first'), 'text/plain', { [TITLE]: 'a.txt' });
  const b = fetcher.add(Buffer.from('second'), 'text/plain', { [TITLE]: 'b.txt' });
  await assert.rejects(extractArtifact({ manifest: manifestOf(fetcher, [a, b]), fetcher, outputDir: out }), { code: 'E_INVALID_INPUT' });
  assert.deepEqual(await tree(out), ['b.txt'], 'a.txt was not written, nor anything inside b.txt: the pull is all or nothing');
});

test('the module size limit applies to every module layer and its hint names the flag', async (t) => {
  const out = join(await makeTempDir(t), 'out');
  const plain = new MemoryFetcher();
  const plainManifest = manifestOf(plain, [plain.add(await moduleBytes(), 'application/vnd.module.wasm.content.layer.v1+wasm', { [TITLE]: 'f.wasm' })]);
  const inTar = new MemoryFetcher();
  const tarManifest = manifestOf(inTar, [inTar.add(await buildTar([{ name: 'plugin.wasm', body: await moduleBytes() }]), 'application/vnd.oci.image.layer.v1.tar+gzip')]);
  for (const [manifest, fetcher] of [[plainManifest, plain], [tarManifest, inTar]] as const) {
    await assert.rejects(extractArtifact({ manifest, fetcher, outputDir: out, moduleSizeLimit: 100 }), (err: unknown) => {
      assert.ok(isWasmOciError(err) && err.code === 'E_SIZE_LIMIT', String(err));
      assert.match(err.message, /over the limit of 100 bytes/);
      assert.match(err.hint ?? '', /--module-size-limit BYTES/);
      return true;
    });
  }
});

test('a compat layer that fails while plugin.wasm\'s temp file is being created ends the extraction with the layer\'s error instead of hanging', async (t) => {
  // A slow file system (a busy disk, NFS): open() takes 200 ms. Meanwhile the rest of the layer
  // arrives and its gzip trailer fails the CRC check, so tar-stream destroys the entry; a pipeline
  // attached to a destroyed entry afterwards never settled, and the pull hung forever (seen as the
  // fuzz-tar suite's "Promise resolution is still pending" on CI).
  const fsp = await import('node:fs/promises');
  const { syncBuiltinESMExports } = await import('node:module');
  const realOpen = fsp.default.open;
  t.mock.method(fsp.default, 'open', async (...args: Parameters<typeof realOpen>) => {
    await new Promise((resolve) => setTimeout(resolve, 200));
    return realOpen(...args);
  });
  syncBuiltinESMExports();
  t.after(() => {
    t.mock.restoreAll();
    syncBuiltinESMExports();
  });
  const dir = await makeTempDir(t);
  // Stored (level 0) deflate blocks: the tar header comes out of gunzip as soon as it comes in.
  const tgz = gzipSync(await buildTar([{ name: 'plugin.wasm', body: await moduleBytes() }], { gzip: false }), { level: 0 });
  tgz[tgz.length - 8] ^= 0xff; // the gzip trailer's CRC32
  const desc: Descriptor = { mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: `sha256:${createHash('sha256').update(tgz).digest('hex')}`, size: tgz.length };
  const source = new Readable({ read() {} });
  source.push(tgz.subarray(0, 1024)); // the tar header and the start of the module
  setTimeout(() => {
    source.push(tgz.subarray(1024));
    source.push(null);
  }, 50);
  const outcome = await Promise.race([
    extractFromTarLayer(source, desc, { wantModule: true, wantRuntimeConfig: false, moduleSizeLimit: 1 << 20, tempFor: (n) => join(dir, `.${n}.tmp`) }).then(
      () => 'extracted',
      (err: unknown) => (err instanceof Error ? `${(err as NodeJS.ErrnoException).code ?? err.name}: ${err.message}` : String(err)),
    ),
    new Promise<string>((resolve) => setTimeout(() => resolve('still pending after 5 s'), 5000).unref()),
  ]);
  assert.match(outcome, /^Z_DATA_ERROR: incorrect data check/);
  // The temp file was created before the failure was seen; the caller's cleanup removes it.
  assert.deepEqual(await tree(dir), ['.plugin.wasm.tmp']);
});
