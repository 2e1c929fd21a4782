// `push REF dir/` and `pull` of a directory, as oras does them (oras-go content/file), against
// Distribution, with independent tools on the other side: skopeo moves the artifacts, GNU tar
// reads the layer we wrote and writes the layer we read. oras itself is not packaged here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { chmod, mkdir, readdir, readFile, readlink, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runCli, type CliResult } from '../helpers/cli.js';
import { startDistribution } from '../helpers/distribution.js';
import { HandLayout, hblob, MT } from '../helpers/hand-layout.js';
import { skopeoCopy } from '../helpers/skopeo.js';
import { makeTempDir, type CleanupContext } from '../helpers/tmp.js';

const execFileAsync = promisify(execFile);
const sha256 = (b: Uint8Array): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const UNPACK = 'io.deis.oras.content.unpack';
const TAR_DIGEST = 'io.deis.oras.content.digest';
const TITLE = 'org.opencontainers.image.title';

function ok(r: CliResult, what: string): CliResult {
  assert.equal(r.code, 0, `${what} failed (${r.code}): ${r.stderr}`);
  return r;
}

async function tree(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isSymbolicLink()) out.push(`${e.name} -> ${await readlink(p)}`);
    else if (e.isDirectory()) {
      out.push(`${e.name}/`);
      for (const sub of await tree(p)) out.push(`${e.name}/${sub}`);
    } else out.push(`${e.name} ${sha256(await readFile(p)).slice(7, 19)}`);
  }
  return out.sort();
}

/** A directory with nested folders, an executable, a symlink and a file with a space in its name. */
async function site(root: string): Promise<string> {
  const dir = join(root, 'site');
  await mkdir(join(dir, 'assets', 'img'), { recursive: true });
  await writeFile(join(dir, 'index.html'), '<h1>hello</h1>\n');
  await writeFile(join(dir, 'assets', 'app file.js'), 'console.log(1)\n');
  await writeFile(join(dir, 'assets', 'img', 'logo.bin'), Buffer.from([0, 1, 2, 255]));
  await writeFile(join(dir, 'run.sh'), '#!/bin/sh\necho hi\n');
  await chmod(join(dir, 'run.sh'), 0o755);
  await symlink('index.html', join(dir, 'home.html'));
  return dir;
}

async function gunzipSha(path: string): Promise<string> {
  const { stdout } = await execFileAsync('sh', ['-c', 'gzip -dc "$1" | sha256sum', 'sh', path]);
  return `sha256:${stdout.split(' ')[0]}`;
}

async function layoutManifest(layout: string): Promise<{ layers: Array<{ mediaType: string; digest: string; size: number; annotations?: Record<string, string> }> }> {
  const index = JSON.parse(await readFile(join(layout, 'index.json'), 'utf8'));
  return JSON.parse(await readFile(join(layout, 'blobs', 'sha256', index.manifests[0].digest.slice(7)), 'utf8'));
}

test('push dir/ to Distribution: skopeo copies it, GNU tar unpacks its layer to the same tree, the tar digest annotation is right; pull gives the tree back', async (t: CleanupContext) => {
  const reg = await startDistribution({ mode: 'plain', t });
  const work = await makeTempDir(t);
  await site(work);
  const ref = `${reg.host}/dirs/site:v1`;
  ok(await runCli(['push', ref, 'site/', '--plain-http'], { cwd: work }), 'push');

  const layout = join(await makeTempDir(t), 'layout');
  await skopeoCopy(`docker://${ref}`, `oci:${layout}:v1`, { src: { tlsVerify: false } });
  const manifest = await layoutManifest(layout);
  assert.equal(manifest.layers.length, 1);
  const layer = manifest.layers[0]!;
  assert.equal(layer.mediaType, 'application/vnd.oci.image.layer.v1.tar+gzip');
  assert.deepEqual(Object.keys(layer.annotations ?? {}).sort(), [TAR_DIGEST, UNPACK, TITLE]);
  assert.equal(layer.annotations![UNPACK], 'true');
  assert.equal(layer.annotations![TITLE], 'site');
  const blob = join(layout, 'blobs', 'sha256', layer.digest.slice(7));
  assert.equal(await gunzipSha(blob), layer.annotations![TAR_DIGEST], 'gzip -dc | sha256sum gives the annotation');
  const byTar = await makeTempDir(t);
  await execFileAsync('tar', ['-xzf', blob, '-C', byTar]);
  assert.deepEqual(await tree(join(byTar, 'site')), await tree(join(work, 'site')), 'GNU tar reads our layer into the same tree');
  const { stdout: listing } = await execFileAsync('tar', ['-tvzf', blob, '--numeric-owner']);
  assert.ok(listing.split('\n').filter(Boolean).every((l) => / 0\/0 /.test(l)), `uid/gid 0 on every entry:\n${listing}`);

  const out = await makeTempDir(t);
  const pulled = ok(await runCli(['pull', ref, '--plain-http', '-o', out, '--format', 'json']), 'pull');
  assert.deepEqual(await tree(join(out, 'site')), await tree(join(work, 'site')));
  const doc = JSON.parse(pulled.stdout);
  assert.equal(doc.files.length, 1);
  assert.equal(doc.files[0].path, `${join(out, 'site')}/`, 'oras\'s JSON: a directory\'s path ends with the separator');
  assert.equal(doc.files[0].annotations[UNPACK], 'true');
});

test('a directory layer GNU tar made, copied to Distribution by skopeo, is unpacked by pull; one with a link out of the directory is refused (exit 7) and writes nothing', async (t: CleanupContext) => {
  const reg = await startDistribution({ mode: 'plain', t });
  const work = await makeTempDir(t);
  await site(work);
  const tgz = join(work, 'site.tgz');
  await execFileAsync('tar', ['-czf', tgz, '-C', work, 'site']);
  const gz = await readFile(tgz);

  const push = async (name: string, bytes: Buffer, tarDigest: string): Promise<string> => {
    const layoutDir = join(await makeTempDir(t), 'hand');
    const layout = new HandLayout(layoutDir);
    const layer = { ...hblob(MT.tarGzip, bytes), annotations: { [TITLE]: 'site', [UNPACK]: 'true', [TAR_DIGEST]: tarDigest } };
    const m = await layout.manifest(hblob('application/vnd.oci.empty.v1+json', '{}'), [layer], { mediaType: MT.ociManifest, artifactType: 'application/vnd.unknown.artifact.v1' });
    await layout.tag('v1', m);
    const ref = `${reg.host}/dirs/${name}:v1`;
    await skopeoCopy(`oci:${layoutDir}:v1`, `docker://${ref}`, { dest: { tlsVerify: false } });
    return ref;
  };

  const ref = await push('gnu', gz, await gunzipSha(tgz));
  const out = await makeTempDir(t);
  ok(await runCli(['pull', ref, '--plain-http', '-o', out]), 'pull');
  assert.deepEqual(await tree(join(out, 'site')), await tree(join(work, 'site')));

  // The same, with a symlink that leaves the directory: GNU tar writes it, pull refuses it.
  await symlink('../../../etc', join(work, 'site', 'escape'));
  const evil = join(work, 'evil.tgz');
  await execFileAsync('tar', ['-czf', evil, '-C', work, 'site']);
  const evilRef = await push('evil', await readFile(evil), await gunzipSha(evil));
  const evilOut = await makeTempDir(t);
  const refused = await runCli(['pull', evilRef, '--plain-http', '-o', evilOut]);
  assert.equal(refused.code, 7, refused.stderr);
  assert.match(refused.stderr, /escape.*outside the directory/);
  assert.deepEqual(await readdir(evilOut), [], 'nothing written, no staging directory left');
});
