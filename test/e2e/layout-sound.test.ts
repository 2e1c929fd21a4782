import { test } from 'node:test';
import assert from 'node:assert/strict';
import { open, readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';
import { examplesDir } from '../helpers/paths.js';
import { skopeoInspectRaw } from '../helpers/skopeo.js';
import { makeTempDir } from '../helpers/tmp.js';
import { ERROR_CODES } from '../../src/errors.js';

// Issue 11 items 3–6: a layout the tool writes stays one the tool (and others) can read.
const filter = join(examplesDir, 'example-filter.wasm');
const digestOf = (stdout: string): string => /^Digest: (sha256:[a-f0-9]{64})$/m.exec(stdout)![1]!;

test('an untagged push is listed in index.json (skopeo reads it by digest); tagging it replaces the bare entry', async (t) => {
  const dir = await makeTempDir(t);
  await writeFile(join(dir, 'hi.txt'), 'hi\n');
  const layout = join(dir, 'l6');
  const pushed = await runCli(['push', '--oci-layout', layout, 'hi.txt:text/plain'], { cwd: dir });
  assert.equal(pushed.code, 0, pushed.stderr);
  const digest = digestOf(pushed.stdout);
  const index = JSON.parse(await readFile(join(layout, 'index.json'), 'utf8'));
  assert.deepEqual(index.manifests.map((m: { digest: string }) => m.digest), [digest]);
  assert.equal(index.manifests[0].annotations?.['org.opencontainers.image.ref.name'], undefined);
  // skopeo (oci transport, no reference: the only manifest listed) finds it; before, it found nothing.
  await skopeoInspectRaw(`oci:${layout}`);
  const tagged = await runCli(['tag', '--oci-layout', `${layout}@${digest}`, 'v1']);
  assert.equal(tagged.code, 0, tagged.stderr);
  const after = JSON.parse(await readFile(join(layout, 'index.json'), 'utf8'));
  assert.equal(after.manifests.length, 1, 'one entry: the tag replaced the bare one');
  assert.equal(after.manifests[0].annotations['org.opencontainers.image.ref.name'], 'v1');
});

test('a manifest over 4 MiB (a 5 MiB --annotation-file) is refused before anything is written; the layout stays usable', async (t) => {
  const dir = await makeTempDir(t);
  const layout = join(dir, 'l3');
  assert.equal((await runCli(['push', '--oci-layout', `${layout}:v0`, filter])).code, 0);
  const ann = join(dir, 'ann.json');
  await writeFile(ann, JSON.stringify({ $manifest: { big: 'x'.repeat(5 * 1024 * 1024) } }));
  const indexBefore = await readFile(join(layout, 'index.json'), 'utf8');
  const r = await runCli(['push', '--oci-layout', `${layout}:v1`, filter, '--annotation-file', ann]);
  assert.equal(r.code, ERROR_CODES.E_SIZE_LIMIT.exitCode, r.stderr);
  assert.match(r.stderr, /over the 4194304-byte limit for manifests/);
  assert.equal(await readFile(join(layout, 'index.json'), 'utf8'), indexBefore, 'index.json unchanged');
  const tags = await runCli(['repo', 'tags', '--oci-layout', layout]);
  assert.equal(tags.code, 0, tags.stderr);
  assert.equal(tags.stdout.trim(), 'v0');
});

test('a lock left by a dead process or an empty lock (a disk-full write) is taken over at once', async (t) => {
  const dir = await makeTempDir(t);
  const layout = join(dir, 'l4');
  assert.equal((await runCli(['push', '--oci-layout', `${layout}:v0`, filter])).code, 0);
  // An empty lock, as a failed write into it leaves, aged past the moment a live writer needs.
  const lock = join(layout, 'index.json.lock');
  await writeFile(lock, '');
  const old = new Date(Date.now() - 5000);
  const h = await open(lock, 'r');
  await h.utimes(old, old);
  await h.close();
  let started = Date.now();
  let r = await runCli(['tag', '--oci-layout', `${layout}:v0`, 'v1']);
  assert.equal(r.code, 0, r.stderr);
  assert.ok(Date.now() - started < 10_000, `tag waited ${Date.now() - started} ms`);
  // A lock whose owner pid no longer exists (pid 2^22 - 1 is above Linux's default pid_max).
  await writeFile(lock, '4194303:deadbeef');
  started = Date.now();
  r = await runCli(['tag', '--oci-layout', `${layout}:v0`, 'v2']);
  assert.equal(r.code, 0, r.stderr);
  assert.ok(Date.now() - started < 10_000, `tag waited ${Date.now() - started} ms`);
  assert.deepEqual((await readdir(layout)).filter((f) => f.endsWith('.lock')), [], 'no lock left');
});

test('a corrupt blob of the right size is not trusted: a re-push heals it and pull gets the right bytes', async (t) => {
  const dir = await makeTempDir(t);
  const layout = join(dir, 'l5');
  const first = await runCli(['push', '--oci-layout', `${layout}:v1`, filter]);
  assert.equal(first.code, 0, first.stderr);
  const module = await readFile(filter);
  const { createHash } = await import('node:crypto');
  const blob = join(layout, 'blobs', 'sha256', createHash('sha256').update(module).digest('hex'));
  const size = (await stat(blob)).size;
  await writeFile(blob, Buffer.alloc(size, 0x41));
  const again = await runCli(['push', '--oci-layout', `${layout}:v2`, filter]);
  assert.equal(again.code, 0, again.stderr);
  assert.doesNotMatch(again.stdout, /Exists\s+example-filter\.wasm/);
  assert.deepEqual(await readFile(blob), module, 'the blob was replaced by the right bytes');
  const out = join(dir, 'out');
  const pulled = await runCli(['pull', '--oci-layout', `${layout}:v1`, '-o', out]);
  assert.equal(pulled.code, 0, pulled.stderr);
  assert.deepEqual(await readFile(join(out, 'example-filter.wasm')), module);
});
