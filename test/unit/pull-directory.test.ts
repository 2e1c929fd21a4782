// Directories as oras pushes and pulls them (oras-go content/file): `push REF dir/` packs a
// tar+gzip layer marked io.deis.oras.content.unpack, and pull unpacks it, safely.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { chmod, lstat, mkdir, readdir, readFile, readlink, stat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import tar from 'tar-stream';
import { pack } from '../../src/pack/pack.js';
import { extractArtifact } from '../../src/pull/extract.js';
import { planExtraction } from '../../src/pull/extract-plan.js';
import type { Descriptor, ImageManifest } from '../../src/oci/types.js';
import { MemoryFetcher } from '../helpers/memory-fetcher.js';
import { buildTar, type TarEntrySpec } from '../helpers/tar-builder.js';
import { makeTempDir } from '../helpers/tmp.js';

const TITLE = 'org.opencontainers.image.title';
const UNPACK = 'io.deis.oras.content.unpack';
const TAR_DIGEST = 'io.deis.oras.content.digest';
const sha256 = (b: Uint8Array): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;

/** Every path under `dir`, symlinks not followed, with a mark of its kind. */
async function tree(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isSymbolicLink()) out.push(`${e.name} -> ${await readlink(p)}`);
    else if (e.isDirectory()) {
      out.push(`${e.name}/`);
      for (const sub of await tree(p)) out.push(`${e.name}/${sub}`);
    } else out.push(`${e.name} (${(await readFile(p, 'utf8')).slice(0, 20)})`);
  }
  return out.sort();
}

async function sampleDir(root: string): Promise<string> {
  const dir = join(root, 'site');
  await mkdir(join(dir, 'sub', 'deeper'), { recursive: true });
  await writeFile(join(dir, 'a.txt'), 'alpha');
  await writeFile(join(dir, 'sub', 'b.txt'), 'beta');
  await writeFile(join(dir, 'sub', 'deeper', 'run.sh'), '#!/bin/sh\n');
  await chmod(join(dir, 'sub', 'deeper', 'run.sh'), 0o755);
  await symlink('a.txt', join(dir, 'link'));
  await symlink('../a.txt', join(dir, 'sub', 'up'));
  return dir;
}

async function tarEntries(gz: Buffer): Promise<Array<{ name: string; type: string; uid: number; gid: number; uname?: string; gname?: string; linkname?: string | null }>> {
  const extract = tar.extract();
  const out: Array<{ name: string; type: string; uid: number; gid: number; uname?: string; gname?: string; linkname?: string | null }> = [];
  const done = (async () => {
    for await (const e of extract) {
      out.push({ name: e.header.name, type: e.header.type ?? 'file', uid: e.header.uid ?? -1, gid: e.header.gid ?? -1, uname: e.header.uname, gname: e.header.gname, linkname: e.header.linkname });
      e.resume();
    }
  })();
  extract.end(gunzipSync(gz));
  await done;
  return out;
}

async function blobBytes(content: unknown): Promise<Buffer> {
  const c = typeof content === 'function' ? await (content as () => unknown)() : content;
  if (c instanceof Uint8Array) return Buffer.from(c);
  const chunks: Buffer[] = [];
  for await (const x of c as AsyncIterable<Buffer>) chunks.push(x);
  return Buffer.concat(chunks);
}

test('push of a directory: one tar+gzip layer titled without the slash, marked for unpacking, with the tar digest; entries as oras-go tarDirectory writes them', async (t) => {
  const root = await makeTempDir(t);
  await sampleDir(root);
  const cwd = process.cwd();
  process.chdir(root);
  t.after(() => process.chdir(cwd));
  const packed = await pack({ files: [{ path: './site//' }], created: new Date(0) });
  t.after(() => packed.cleanup());
  assert.equal(packed.style, 'oras', 'a directory means oras style');
  const layer = packed.manifest.layers[0]!;
  assert.equal(layer.mediaType, 'application/vnd.oci.image.layer.v1.tar+gzip');
  assert.equal(layer.annotations?.[TITLE], 'site', 'the cleaned path (Go filepath.Clean), trailing slash dropped');
  assert.equal(layer.annotations?.[UNPACK], 'true');
  const blob = packed.blobs.find((b) => b.descriptor.digest === layer.digest)!;
  const gz = await blobBytes(blob.content);
  assert.equal(sha256(gz), layer.digest);
  assert.equal(gz.length, layer.size);
  assert.equal(layer.annotations?.[TAR_DIGEST], sha256(gunzipSync(gz)), 'the annotation is the uncompressed tar\'s digest');
  const entries = await tarEntries(gz);
  const prefix = layer.annotations![TITLE]!;
  assert.deepEqual(entries.map((e) => `${e.name.slice(prefix.length)} ${e.type}`), [
    ' directory', '/a.txt file', '/link symlink', '/sub directory', '/sub/b.txt file', '/sub/deeper directory', '/sub/deeper/run.sh file', '/sub/up symlink',
  ], 'the root first, then Go filepath.Walk order (sorted, depth first)');
  for (const e of entries) {
    assert.equal(e.uid, 0);
    assert.equal(e.gid, 0);
    assert.ok(!e.uname && !e.gname, 'no user or group names');
  }
  assert.equal(entries.find((e) => e.name.endsWith('/link'))!.linkname, 'a.txt', 'symlinks are stored, not followed');
  assert.deepEqual(planExtraction(packed.manifest).jobs.map((j) => j.kind), ['dir']);
});

test('a directory given as . is refused (its title would be the output directory itself)', async (t) => {
  const root = await makeTempDir(t);
  const cwd = process.cwd();
  process.chdir(root);
  t.after(() => process.chdir(cwd));
  await assert.rejects(pack({ files: [{ path: '.' }] }), { code: 'E_INVALID_INPUT' });
});

/** A manifest with one directory layer built from `entries` (and its own tar digest unless told). */
function dirManifest(fetcher: MemoryFetcher, gz: Buffer, title: string, annotations: Record<string, string> = {}): ImageManifest {
  const layer: Descriptor = fetcher.add(gz, 'application/vnd.oci.image.layer.v1.tar+gzip', {
    [TAR_DIGEST]: sha256(gunzipSync(gz)), [UNPACK]: 'true', [TITLE]: title, ...annotations,
  });
  return { schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: fetcher.add(Buffer.from('{}'), 'application/vnd.oci.empty.v1+json'), layers: [layer] };
}

test('round trip: what push packs, pull unpacks into the same tree (files, modes, symlinks, nested directories)', async (t) => {
  const root = await makeTempDir(t);
  await sampleDir(root);
  const cwd = process.cwd();
  process.chdir(root);
  t.after(() => process.chdir(cwd));
  const packed = await pack({ files: [{ path: 'site/' }], created: new Date(0) });
  t.after(() => packed.cleanup());
  const fetcher = new MemoryFetcher();
  for (const b of packed.blobs) fetcher.blobs.set(b.descriptor.digest, await blobBytes(b.content));
  const out = join(root, 'out');
  const res = await extractArtifact({ manifest: packed.manifest, fetcher, outputDir: out });
  assert.deepEqual(await tree(join(out, 'site')), await tree(join(root, 'site')));
  assert.equal((await stat(join(out, 'site', 'sub', 'deeper', 'run.sh'))).mode & 0o777, 0o755);
  assert.equal((await stat(join(out, 'site', 'a.txt'))).mtimeMs, (await stat(join(root, 'site', 'a.txt'))).mtimeMs - ((await stat(join(root, 'site', 'a.txt'))).mtimeMs % 1000));
  assert.equal(res.files.length, 1);
  assert.equal(res.files[0]!.directory, true);
  assert.equal(res.files[0]!.name, 'site');
});

test('a directory tar from another producer: ./-prefixed names and directory entries with a slash are taken; FIFOs and devices skipped with a warning; setuid dropped; directory modes set after their content', async (t) => {
  const out = join(await makeTempDir(t), 'out');
  const gz = await buildTar([
    { name: './web/', type: 'directory', mode: 0o555 },
    { name: './web/index.html', body: '<h1>', mode: 0o4755 },
    { name: './web/pipe', type: 'fifo' },
    { name: './web/null', type: 'character-device' },
  ]);
  const fetcher = new MemoryFetcher();
  const warnings: string[] = [];
  await extractArtifact({ manifest: dirManifest(fetcher, gz, 'web'), fetcher, outputDir: out, onWarning: (m) => warnings.push(m) });
  assert.deepEqual(await tree(out), ['web/', 'web/index.html (<h1>)']);
  assert.equal((await stat(join(out, 'web', 'index.html'))).mode & 0o7777, 0o755);
  assert.equal((await stat(join(out, 'web'))).mode & 0o777, 0o555);
  assert.match(warnings.join('\n'), /skipped 2 entries/);
  await chmod(join(out, 'web'), 0o755);
});

const HOSTILE: Array<[string, TarEntrySpec[], string]> = [
  ['an entry outside the titled directory', [{ name: 'site/', type: 'directory' }, { name: 'other/x', body: 'x' }], 'E_UNSAFE_PATH'],
  ['a .. entry', [{ name: 'site/../x', body: 'x' }], 'E_UNSAFE_PATH'],
  ['an absolute entry', [{ name: '/site/x', body: 'x' }], 'E_UNSAFE_PATH'],
  ['an absolute symlink', [{ name: 'site/l', type: 'symlink', linkname: '/etc/passwd' }], 'E_UNSAFE_PATH'],
  ['a symlink climbing out', [{ name: 'site/l', type: 'symlink', linkname: '../../outside' }], 'E_UNSAFE_PATH'],
  ['a symlink to the parent of the directory', [{ name: 'site/sub/l', type: 'symlink', linkname: '../../x' }], 'E_UNSAFE_PATH'],
  ['symlinks that climb out through each other', [
    { name: 'site/a', type: 'symlink', linkname: '.' },
    { name: 'site/b', type: 'symlink', linkname: 'a/a/../..' },
  ], 'E_UNSAFE_PATH'],
  ['a file written through a symlink the tar made', [
    { name: 'site/sub/', type: 'directory' },
    { name: 'site/l', type: 'symlink', linkname: 'sub' },
    { name: 'site/l/x', body: 'x' },
  ], 'E_UNSAFE_PATH'],
  ['a hard link', [{ name: 'site/a', body: 'a' }, { name: 'site/h', type: 'link', linkname: 'site/a' }], 'E_UNSAFE_PATH'],
  ['a file where the directory itself goes', [{ name: 'site', body: 'not a dir' }], 'E_UNSAFE_PATH'],
  ['a backslash name', [{ name: 'site\\..\\x', body: 'x' }], 'E_UNSAFE_PATH'],
];

for (const [what, entries, code] of HOSTILE) {
  test(`directory layer with ${what}: ${code}, nothing written`, async (t) => {
    const sandbox = await makeTempDir(t);
    const out = join(sandbox, 'out');
    const fetcher = new MemoryFetcher();
    await assert.rejects(extractArtifact({ manifest: dirManifest(fetcher, await buildTar(entries), 'site'), fetcher, outputDir: out }), { code });
    assert.deepEqual(await tree(sandbox), ['out/'], 'no staging directory, no file, nothing beside the output directory');
  });
}

test('the tar digest annotation is checked: a layer whose tar is not the one announced writes nothing', async (t) => {
  const sandbox = await makeTempDir(t);
  const out = join(sandbox, 'out');
  const fetcher = new MemoryFetcher();
  const gz = await buildTar([{ name: 'site/a.txt', body: 'a' }]);
  const other = sha256(Buffer.from('another tar'));
  await assert.rejects(extractArtifact({ manifest: dirManifest(fetcher, gz, 'site', { [TAR_DIGEST]: other }), fetcher, outputDir: out }), { code: 'E_DIGEST_MISMATCH' });
  assert.deepEqual(await tree(sandbox), ['out/']);
  await assert.rejects(extractArtifact({ manifest: dirManifest(fetcher, gz, 'site', { [TAR_DIGEST]: 'md5:abc' }), fetcher, outputDir: out }), { code: 'E_MANIFEST_INVALID' });
  // Without the annotation (it is optional in oras-go), the layer digest alone guards it.
  const m = dirManifest(fetcher, gz, 'site');
  delete m.layers[0]!.annotations![TAR_DIGEST];
  await extractArtifact({ manifest: m, fetcher, outputDir: out });
  assert.deepEqual(await tree(out), ['site/', 'site/a.txt (a)']);
});

test('the layer itself is verified: bytes that do not match its digest write nothing', async (t) => {
  const sandbox = await makeTempDir(t);
  const out = join(sandbox, 'out');
  const fetcher = new MemoryFetcher({ verify: false });
  const gz = await buildTar([{ name: 'site/a.txt', body: 'a' }]);
  const m = dirManifest(fetcher, gz, 'site');
  fetcher.blobs.set(m.layers[0]!.digest, await buildTar([{ name: 'site/a.txt', body: 'EVIL' }]));
  m.layers[0]!.annotations![TAR_DIGEST] = sha256(gunzipSync(fetcher.blobs.get(m.layers[0]!.digest)!));
  await assert.rejects(extractArtifact({ manifest: m, fetcher, outputDir: out }), (e: unknown) => ['E_DIGEST_MISMATCH', 'E_SIZE_MISMATCH'].includes((e as { code?: string }).code ?? ''));
  assert.deepEqual(await tree(sandbox), ['out/']);
});

test('a gzip bomb stops at the size limit and leaves nothing', async (t) => {
  const sandbox = await makeTempDir(t);
  const out = join(sandbox, 'out');
  const fetcher = new MemoryFetcher();
  const gz = await buildTar([{ name: 'site/zeros', zeros: 8 * 1024 * 1024 }]);
  assert.ok(gz.length < 64 * 1024);
  await assert.rejects(extractArtifact({ manifest: dirManifest(fetcher, gz, 'site'), fetcher, outputDir: out, moduleSizeLimit: 1024 }), { code: 'E_SIZE_LIMIT' });
  assert.deepEqual(await tree(sandbox), ['out/']);
});

test('pulling over an existing directory merges as oras does; a symlink inside it is never written through; a symlink at its place is replaced; a file there is refused', async (t) => {
  const sandbox = await makeTempDir(t);
  const out = join(sandbox, 'out');
  const outside = join(sandbox, 'outside');
  await mkdir(outside);
  const gz = await buildTar([
    { name: 'site/', type: 'directory' },
    { name: 'site/a.txt', body: 'new' },
    { name: 'site/sub/', type: 'directory' },
    { name: 'site/sub/b.txt', body: 'b' },
  ]);
  const fetcher = new MemoryFetcher();

  await mkdir(join(out, 'site'), { recursive: true });
  await writeFile(join(out, 'site', 'a.txt'), 'old');
  await writeFile(join(out, 'site', 'keep.txt'), 'mine');
  await extractArtifact({ manifest: dirManifest(fetcher, gz, 'site'), fetcher, outputDir: out });
  assert.deepEqual(await tree(join(out, 'site')), ['a.txt (new)', 'keep.txt (mine)', 'sub/', 'sub/b.txt (b)']);

  await writeFile(join(out, 'site', 'sub', 'b.txt'), 'edited');
  await writeFile(join(out, 'site', 'a.txt'), 'edited');
  const { rm } = await import('node:fs/promises');
  await rm(join(out, 'site', 'sub'), { recursive: true });
  await symlink(outside, join(out, 'site', 'sub'));
  await assert.rejects(extractArtifact({ manifest: dirManifest(fetcher, gz, 'site'), fetcher, outputDir: out }), { code: 'E_UNSAFE_PATH' });
  assert.deepEqual(await readdir(outside), [], 'nothing written through the symlink');
  assert.equal(await readFile(join(out, 'site', 'a.txt'), 'utf8'), 'edited', 'checked in full before anything moved');
  assert.deepEqual((await readdir(out)).filter((n) => n.startsWith('.')), [], 'no staging directory left');

  await rm(join(out, 'site'), { recursive: true });
  await symlink(outside, join(out, 'site'));
  await extractArtifact({ manifest: dirManifest(fetcher, gz, 'site'), fetcher, outputDir: out });
  assert.ok((await lstat(join(out, 'site'))).isDirectory(), 'the symlink was replaced');
  assert.deepEqual(await readdir(outside), []);

  await rm(join(out, 'site'), { recursive: true });
  await writeFile(join(out, 'site'), 'a file');
  await assert.rejects(extractArtifact({ manifest: dirManifest(fetcher, gz, 'site'), fetcher, outputDir: out }), { code: 'E_INVALID_INPUT' });
  assert.equal(await readFile(join(out, 'site'), 'utf8'), 'a file');
});
