import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runCli, type CliResult } from '../helpers/cli.js';
import { startDistribution } from '../helpers/distribution.js';
import { examplesDir } from '../helpers/paths.js';
import { skopeoInspectRaw } from '../helpers/skopeo.js';
import { makeTempDir } from '../helpers/tmp.js';

// Issue 11 item 16: manifest fetch and blob fetch with --descriptor -o FILE, --media-type
// lists, a tar of a layout given to --oci-layout, and --help of a subcommand that does not exist,
// each as oras 1.3 does it (cmd/oras/root/manifest/fetch.go, blob/fetch.go, internal/option/target.go).

const execFileAsync = promisify(execFile);
const FILTER = join(examplesDir, 'example-filter.wasm');
const sha256 = (b: Uint8Array) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
function ok(r: CliResult, what: string): CliResult {
  assert.equal(r.code, 0, `${what} failed (${r.code}): ${r.stderr}`);
  return r;
}

test('manifest fetch and blob fetch with --descriptor -o FILE write the content into FILE and print the descriptor', async (t) => {
  const reg = await startDistribution({ mode: 'plain', t });
  const dir = await makeTempDir(t);
  const ref = `${reg.host}/fetch:v1`;
  ok(await runCli(['push', ref, FILTER, '--plain-http']), 'push');
  const raw = await skopeoInspectRaw(`docker://${ref}`, { tlsVerify: false });

  const m = ok(await runCli(['manifest', 'fetch', '--descriptor', '-o', 'm.json', ref, '--plain-http'], { cwd: dir }), 'manifest fetch --descriptor -o');
  assert.equal(await readFile(join(dir, 'm.json'), 'utf8'), raw, 'the file holds the manifest, byte for byte');
  const desc = JSON.parse(m.stdout);
  assert.equal(desc.digest, sha256(Buffer.from(raw)));
  assert.equal(desc.size, Buffer.byteLength(raw));
  assert.equal(desc.mediaType, 'application/vnd.oci.image.manifest.v1+json');
  // --pretty is for the terminal: the file keeps the registry's bytes.
  ok(await runCli(['manifest', 'fetch', '--pretty', '-o', 'p.json', ref, '--plain-http'], { cwd: dir }), 'manifest fetch --pretty -o');
  assert.equal(await readFile(join(dir, 'p.json'), 'utf8'), raw);
  const both = await runCli(['manifest', 'fetch', '--descriptor', '-o', '-', ref, '--plain-http']);
  assert.equal(both.code, 2, 'the descriptor and the content cannot share stdout');

  const layer = JSON.parse(raw).layers.at(-1);
  const b = ok(await runCli(['blob', 'fetch', '--descriptor', '-o', 'f.wasm', `${reg.host}/fetch@${layer.digest}`, '--plain-http'], { cwd: dir }), 'blob fetch --descriptor -o');
  assert.deepEqual(await readFile(join(dir, 'f.wasm')), await readFile(FILTER), 'the file holds the blob');
  const bdesc = JSON.parse(b.stdout);
  assert.equal(bdesc.digest, layer.digest);
  assert.equal(bdesc.size, layer.size);
  const bboth = await runCli(['blob', 'fetch', '--descriptor', '-o', '-', `${reg.host}/fetch@${layer.digest}`, '--plain-http']);
  assert.equal(bboth.code, 2);
});

test('manifest fetch --media-type takes a comma-separated list (and repeats)', async (t) => {
  const reg = await startDistribution({ mode: 'plain', t });
  const ref = `${reg.host}/mt:v1`;
  ok(await runCli(['push', ref, FILTER, '--plain-http']), 'push');
  const list = ok(await runCli(['manifest', 'fetch', '--descriptor', '--media-type', 'application/vnd.docker.distribution.manifest.v2+json,application/vnd.oci.image.manifest.v1+json', ref, '--plain-http']), 'a list with the type');
  assert.equal(JSON.parse(list.stdout).mediaType, 'application/vnd.oci.image.manifest.v1+json');
  ok(await runCli(['manifest', 'fetch', '--media-type', 'application/vnd.oci.image.index.v1+json', '--media-type', 'application/vnd.oci.image.manifest.v1+json', ref, '--plain-http']), 'repeated');
  const other = await runCli(['manifest', 'fetch', '--media-type', 'application/vnd.oci.image.index.v1+json,application/vnd.docker.distribution.manifest.list.v2+json', ref, '--plain-http']);
  // Distribution answers an Accept without the manifest's type with MANIFEST_UNKNOWN, as oras sees it too.
  assert.equal(other.code, 4, other.stderr);
  assert.match(other.stderr, /accept header does not support OCI manifests/);
  // A layout has no Accept: the type is checked against the list here.
  const dir = await makeTempDir(t);
  ok(await runCli(['push', '--oci-layout', 'l:v1', FILTER], { cwd: dir }), 'push to a layout');
  ok(await runCli(['manifest', 'fetch', '--oci-layout', '--media-type', 'a/b,application/vnd.oci.image.manifest.v1+json', 'l:v1'], { cwd: dir }), 'layout, a list with the type');
  const refused = await runCli(['manifest', 'fetch', '--oci-layout', '--media-type', 'a/b,c/d', 'l:v1'], { cwd: dir });
  assert.equal(refused.code, 7, refused.stderr);
  assert.match(refused.stderr, /is application\/vnd\.oci\.image\.manifest\.v1\+json, not a\/b or c\/d/);
});

test('--oci-layout reads a tar of a layout as oras does, and refuses to write one clearly', async (t) => {
  const dir = await makeTempDir(t);
  const layout = join(dir, 'layout');
  const pushed = ok(await runCli(['push', '--oci-layout', `${layout}:v1`, FILTER]), 'push to the layout');
  const digest = /^Digest: (sha256:[a-f0-9]{64})$/m.exec(pushed.stdout)![1]!;
  await execFileAsync('tar', ['-cf', join(dir, 'layout.tar'), '-C', layout, '.']);
  const before = await readFile(join(dir, 'layout.tar'));

  const m = ok(await runCli(['manifest', 'fetch', '--oci-layout', 'layout.tar:v1'], { cwd: dir }), 'manifest fetch from the tar');
  assert.equal(sha256(Buffer.from(m.stdout)), digest);
  ok(await runCli(['pull', '--oci-layout', 'layout.tar:v1', '-o', 'out'], { cwd: dir }), 'pull from the tar');
  assert.deepEqual(await readFile(join(dir, 'out', 'example-filter.wasm')), await readFile(FILTER));
  const tags = ok(await runCli(['repo', 'tags', '--oci-layout', 'layout.tar'], { cwd: dir }), 'repo tags of the tar');
  assert.equal(tags.stdout.trim(), 'v1');
  const wasmLayer = JSON.parse(m.stdout).layers.at(-1).digest;
  ok(await runCli(['blob', 'fetch', '--oci-layout', '-o', 'blob.bin', `layout.tar@${wasmLayer}`], { cwd: dir }), 'blob fetch from the tar');
  assert.equal(sha256(await readFile(join(dir, 'blob.bin'))), wasmLayer);
  ok(await runCli(['copy', '--from-oci-layout', '--to-oci-layout', 'layout.tar:v1', 'copied:v2'], { cwd: dir }), 'copy from the tar to a folder');
  assert.equal(JSON.parse(await readFile(join(dir, 'copied', 'index.json'), 'utf8')).manifests[0].digest, digest);

  for (const args of [['push', '--oci-layout', 'layout.tar:v2', FILTER], ['tag', '--oci-layout', 'layout.tar:v1', 'v3']]) {
    const w = await runCli(args, { cwd: dir });
    assert.equal(w.code, 7, `${args[0]}: ${w.stderr}`);
    assert.doesNotMatch(w.stderr, /ENOTDIR/);
    assert.match(w.stderr, /tar archive of an OCI layout.*only reads/);
  }
  assert.deepEqual(await readFile(join(dir, 'layout.tar')), before, 'the tar is untouched');

  await writeFile(join(dir, 'notes.txt'), 'not a tar at all, just some text that is long enough '.repeat(20));
  const bad = await runCli(['manifest', 'fetch', '--oci-layout', 'notes.txt:v1'], { cwd: dir });
  assert.equal(bad.code, 2, bad.stderr);
  assert.match(bad.stderr, /does not look like a tar archive/);
  assert.doesNotMatch(bad.stderr, /ENOTDIR/);
  assert.ok((await stat(join(dir, 'notes.txt'))).isFile());
  assert.deepEqual((await readdir(dir)).sort(), ['blob.bin', 'copied', 'layout', 'layout.tar', 'notes.txt', 'out']);
});

test('--help of a subcommand that does not exist is a usage error, not the parent help with exit 0', async () => {
  for (const args of [['repo', 'nosuch', '--help'], ['manifest', 'nosuch', '-h'], ['blob', 'nosuch', '--help'], ['nosuch', '--help']]) {
    const r = await runCli(args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stdout}`);
    assert.match(r.stderr, /unknown command 'nosuch'/);
    assert.doesNotMatch(r.stdout, /Usage:/, 'no help text as if the command existed');
  }
  const json = await runCli(['--format', 'json', 'repo', 'nosuch', '--help']);
  assert.equal(JSON.parse(json.stdout).error.code, 'E_USAGE');
  // Real subcommands and aliases keep their help.
  for (const args of [['repo', 'tags', '--help'], ['manifest', 'get', '--help'], ['help', 'repo'], ['--format', 'json', 'repo', '--help']]) {
    const r = await runCli(args);
    assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stdout, /Usage:/);
  }
});
