import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runCli, type CliResult } from '../helpers/cli.js';
import { startDistribution, type RunningRegistry } from '../helpers/distribution.js';
import { examplesDir } from '../helpers/paths.js';
import { skopeoInspectRaw } from '../helpers/skopeo.js';
import { makeTempDir } from '../helpers/tmp.js';
import { createRegistry } from '../../src/registry/registry.js';

// oras 1.3's write commands (cmd/oras/root/manifest/push.go, fetch_config.go, index/create.go,
// index/update.go, blob/push.go, repo/ls.go) against Distribution 2.8, read back by skopeo.

const FILTER = join(examplesDir, 'example-filter.wasm');
const sha256 = (b: Uint8Array | string) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const EMPTY = '{}';
function ok(r: CliResult, what: string): CliResult {
  assert.equal(r.code, 0, `${what} failed (${r.code}): ${r.stderr}`);
  return r;
}
const P = '--plain-http';
async function pushFilter(reg: RunningRegistry, repoTag: string): Promise<{ digest: string; raw: string }> {
  ok(await runCli(['push', `${reg.host}/${repoTag}`, FILTER, P]), `push ${repoTag}`);
  const raw = await skopeoInspectRaw(`docker://${reg.host}/${repoTag}`, { tlsVerify: false });
  return { digest: sha256(raw), raw };
}
async function status(url: string, accept = 'application/vnd.oci.image.index.v1+json'): Promise<number> {
  const res = await fetch(url, { method: 'HEAD', headers: { accept } });
  return res.status;
}

test('manifest push from a file and from stdin, under several tags; skopeo reads it; a manifest with subject reaches the referrers index', async (t) => {
  const reg = await startDistribution({ mode: 'plain', t });
  const dir = await makeTempDir(t);
  const subject = await pushFilter(reg, 'mp:base');
  // The empty config the manifest below names, pushed as a blob first.
  await writeFile(join(dir, 'empty.json'), EMPTY);
  ok(await runCli(['blob', 'push', `${reg.host}/mp@${sha256(EMPTY)}`, 'empty.json', P], { cwd: dir }), 'blob push of the empty config');
  const manifest = JSON.stringify({
    schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', artifactType: 'application/vnd.example.sig',
    config: { mediaType: 'application/vnd.oci.empty.v1+json', digest: sha256(EMPTY), size: 2 },
    layers: [{ mediaType: 'application/vnd.oci.empty.v1+json', digest: sha256(EMPTY), size: 2 }],
    subject: { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: subject.digest, size: Buffer.byteLength(subject.raw) },
    annotations: { signed: 'yes' },
  });
  await writeFile(join(dir, 'm.json'), manifest);
  const pushed = ok(await runCli(['manifest', 'push', `${reg.host}/mp:s1,s2`, 'm.json', P], { cwd: dir }), 'manifest push');
  assert.match(pushed.stdout, new RegExp(`^Digest: ${sha256(manifest)}$`, 'm'));
  for (const tag of ['s1', 's2']) assert.equal(await skopeoInspectRaw(`docker://${reg.host}/mp:${tag}`, { tlsVerify: false }), manifest, `skopeo reads ${tag}`);
  const index = await (await fetch(`${reg.url}/v2/mp/manifests/${subject.digest.replace(':', '-')}`, { headers: { accept: 'application/vnd.oci.image.index.v1+json' } })).json() as any;
  assert.deepEqual(index.manifests.map((m: any) => [m.digest, m.artifactType, m.annotations?.signed]), [[sha256(manifest), 'application/vnd.example.sig', 'yes']]);
  const disc = JSON.parse(ok(await runCli(['discover', `${reg.host}/mp:base`, P, '--format', 'json']), 'discover').stdout);
  assert.equal(disc.referrers[0].digest, sha256(manifest));

  // stdin, by digest only, with --descriptor.
  const other = manifest.replace('"yes"', '"again"');
  const viaStdin = ok(await runCli(['manifest', 'push', '--descriptor', `${reg.host}/mp`, '-', P], { input: other }), 'manifest push from stdin');
  assert.deepEqual(JSON.parse(viaStdin.stdout), { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: sha256(other), size: Buffer.byteLength(other) });
  assert.equal(await skopeoInspectRaw(`docker://${reg.host}/mp@${sha256(other)}`, { tlsVerify: false }), other);

  // Without a media type anywhere, and with a digest the bytes do not have: refused.
  await writeFile(join(dir, 'bare.json'), JSON.stringify({ schemaVersion: 2, config: { mediaType: 'application/vnd.oci.empty.v1+json', digest: sha256(EMPTY), size: 2 }, layers: [] }));
  const bare = await runCli(['manifest', 'push', `${reg.host}/mp:bare`, 'bare.json', P], { cwd: dir });
  assert.equal(bare.code, 2, bare.stderr);
  assert.match(bare.stderr, /media type is not found via the flag "--media-type"/);
  ok(await runCli(['manifest', 'push', '--media-type', 'application/vnd.oci.image.manifest.v1+json', `${reg.host}/mp:bare`, 'bare.json', P], { cwd: dir }), 'with --media-type');
  const notJson = await runCli(['manifest', 'push', `${reg.host}/mp:x`, '-', P], { input: 'not json' });
  assert.equal(notJson.code, 5, notJson.stderr);

  // To a layout as well.
  ok(await runCli(['manifest', 'push', '--oci-layout', 'lay:v1', 'bare.json', '--media-type', 'application/vnd.oci.image.manifest.v1+json'], { cwd: dir }), 'manifest push to a layout');
  const layIndex = JSON.parse(await readFile(join(dir, 'lay', 'index.json'), 'utf8'));
  assert.equal(layIndex.manifests[0].annotations['org.opencontainers.image.ref.name'], 'v1');
});

test('manifest fetch-config prints the config, verified; --descriptor -o FILE writes it and prints the descriptor', async (t) => {
  const reg = await startDistribution({ mode: 'plain', t });
  const dir = await makeTempDir(t);
  const { raw } = await pushFilter(reg, 'cfg:v1');
  const config = JSON.parse(raw).config;
  const out = ok(await runCli(['manifest', 'fetch-config', `${reg.host}/cfg:v1`, P]), 'fetch-config');
  assert.equal(sha256(out.stdout), config.digest);
  const d = ok(await runCli(['manifest', 'fetch-config', '--descriptor', '-o', 'c.json', `${reg.host}/cfg:v1`, P], { cwd: dir }), 'fetch-config --descriptor -o');
  assert.deepEqual(JSON.parse(d.stdout), { mediaType: config.mediaType, digest: config.digest, size: config.size });
  assert.equal(sha256(await readFile(join(dir, 'c.json'))), config.digest);
});

test('manifest index create and index update (--add, --remove, --merge); skopeo reads the index', async (t) => {
  const reg = await startDistribution({ mode: 'plain', t });
  const dir = await makeTempDir(t);
  const a = await pushFilter(reg, 'idx:a');
  ok(await runCli(['push', `${reg.host}/idx:b`, FILTER, P, '--root-id', 'other']), 'push b');
  const b = sha256(await skopeoInspectRaw(`docker://${reg.host}/idx:b`, { tlsVerify: false }));
  const c = await pushFilter(reg, 'idx:c');
  assert.notEqual(a.digest, b);

  const created = ok(await runCli(['manifest', 'index', 'create', `${reg.host}/idx:multi`, 'a', `@${b}`, '-a', 'k=v', '--artifact-type', 'application/vnd.example.set', P]), 'index create');
  const raw = await skopeoInspectRaw(`docker://${reg.host}/idx:multi`, { tlsVerify: false });
  assert.match(created.stdout, new RegExp(`^Digest: ${sha256(raw)}$`, 'm'));
  const index = JSON.parse(raw);
  assert.equal(index.mediaType, 'application/vnd.oci.image.index.v1+json');
  assert.equal(index.artifactType, 'application/vnd.example.set');
  assert.deepEqual(index.annotations, { k: 'v' });
  assert.deepEqual(index.manifests.map((m: any) => m.digest), [a.digest, b]);
  assert.equal(index.manifests[0].size, Buffer.byteLength(a.raw));
  assert.equal(index.manifests[0].artifactType, undefined, 'the plain descriptor of a manifest without artifactType');

  const updated = ok(await runCli(['manifest', 'index', 'update', `${reg.host}/idx:multi`, '--remove', a.digest, '--add', 'c', '--tag', 'multi2', P]), 'index update');
  const raw2 = await skopeoInspectRaw(`docker://${reg.host}/idx:multi2`, { tlsVerify: false });
  assert.equal(await skopeoInspectRaw(`docker://${reg.host}/idx:multi`, { tlsVerify: false }), raw2, 'the index tag moved to the new index');
  assert.match(updated.stdout, new RegExp(`^Digest: ${sha256(raw2)}$`, 'm'));
  assert.deepEqual(JSON.parse(raw2).manifests.map((m: any) => m.digest), [b, c.digest]);
  assert.deepEqual(JSON.parse(raw2).annotations, { k: 'v' }, 'the rest of the index is kept');

  ok(await runCli(['manifest', 'index', 'create', `${reg.host}/idx:one`, 'a', P]), 'index create of one');
  const merged = ok(await runCli(['manifest', 'index', 'update', `${reg.host}/idx:one`, '--merge', 'multi2', '-o', 'merged.json', P], { cwd: dir }), 'index update --merge -o');
  assert.match(merged.stdout, /^Wrote merged.json/m);
  assert.deepEqual(JSON.parse(await readFile(join(dir, 'merged.json'), 'utf8')).manifests.map((m: any) => m.digest), [a.digest, b, c.digest]);
  assert.deepEqual(JSON.parse(await skopeoInspectRaw(`docker://${reg.host}/idx:one`, { tlsVerify: false })).manifests.map((m: any) => m.digest), [a.digest], '-o does not push');

  const missing = await runCli(['manifest', 'index', 'update', `${reg.host}/idx:one`, '--remove', b, P]);
  assert.equal(missing.code, 4, missing.stderr);
  assert.match(missing.stderr, /does not exist in the index/);
  const notManifest = await runCli(['manifest', 'index', 'create', `${reg.host}/idx:bad`, 'multi', P]);
  assert.equal(notManifest.code, 7, notManifest.stderr);
  assert.match(notManifest.stderr, /is not a manifest/);
});

test('blob push checks digest and size before uploading; from stdin with --size', async (t) => {
  const reg = await startDistribution({ mode: 'plain', t });
  const dir = await makeTempDir(t);
  const bytes = await readFile(FILTER);
  const digest = sha256(bytes);
  const wrong = sha256('something else');
  const bad = await runCli(['blob', 'push', `${reg.host}/bp@${wrong}`, FILTER, P]);
  assert.equal(bad.code, 5, bad.stderr);
  assert.equal(await status(`${reg.url}/v2/bp/blobs/${digest}`), 404, 'nothing uploaded under any digest');
  assert.equal(await status(`${reg.url}/v2/bp/blobs/${wrong}`), 404);
  const size = await runCli(['blob', 'push', '--size', '3', `${reg.host}/bp`, FILTER, P]);
  assert.equal(size.code, 5, size.stderr);

  const pushed = ok(await runCli(['blob', 'push', '--descriptor', `${reg.host}/bp@${digest}`, FILTER, P]), 'blob push');
  assert.deepEqual(JSON.parse(pushed.stdout), { mediaType: 'application/octet-stream', digest, size: bytes.length });
  assert.equal(await status(`${reg.url}/v2/bp/blobs/${digest}`), 200);
  const again = ok(await runCli(['blob', 'push', `${reg.host}/bp`, FILTER, P]), 'blob push again');
  assert.match(again.stdout, /^Exists /m);

  const text = 'hello from stdin\n';
  const noSize = await runCli(['blob', 'push', `${reg.host}/bp2@${sha256(text)}`, '-', P], { input: text });
  assert.equal(noSize.code, 2);
  assert.match(noSize.stderr, /--size. must be provided/);
  ok(await runCli(['blob', 'push', '--size', String(text.length), `${reg.host}/bp2@${sha256(text)}`, '-', P], { input: text }), 'blob push from stdin');
  ok(await runCli(['blob', 'fetch', '-o', 'back.txt', `${reg.host}/bp2@${sha256(text)}`, P], { cwd: dir }), 'blob fetch');
  assert.equal(await readFile(join(dir, 'back.txt'), 'utf8'), text);
  const lie = await runCli(['blob', 'push', '--size', String(text.length), `${reg.host}/bp3@${wrong}`, '-', P], { input: text });
  assert.equal(lie.code, 5, lie.stderr);
  assert.equal(await status(`${reg.url}/v2/bp3/blobs/${wrong}`), 404, 'the registry did not take bytes of another digest');
});

test('repo ls lists the catalog (every page), --last and a namespace, as oras', async (t) => {
  const reg = await startDistribution({ mode: 'plain', t });
  const dir = await makeTempDir(t);
  await writeFile(join(dir, 'x.txt'), 'x');
  for (const r of ['alpha', 'team/one', 'team/two', 'zeta']) ok(await runCli(['blob', 'push', `${reg.host}/${r}`, 'x.txt', P], { cwd: dir }), `blob push ${r}`);
  // A repository exists in Distribution's catalog once it has a manifest.
  for (const r of ['alpha', 'team/one', 'team/two', 'zeta']) ok(await runCli(['push', `${reg.host}/${r}:v1`, FILTER, P]), `push ${r}`);
  const all = ok(await runCli(['repo', 'ls', reg.host, P]), 'repo ls');
  assert.deepEqual(all.stdout.trim().split('\n'), ['alpha', 'team/one', 'team/two', 'zeta']);
  const last = ok(await runCli(['repo', 'ls', '--last', 'team/one', reg.host, P]), 'repo ls --last');
  assert.deepEqual(last.stdout.trim().split('\n'), ['team/two', 'zeta']);
  const ns = ok(await runCli(['repo', 'ls', `${reg.host}/team`, P]), 'repo ls namespace');
  assert.deepEqual(ns.stdout.trim().split('\n'), ['one', 'two']);
  const json = JSON.parse(ok(await runCli(['repo', 'ls', `${reg.host}/team`, P, '--format', 'json']), 'repo ls json').stdout);
  assert.deepEqual(json, { registry: reg.host, repositories: ['team/one', 'team/two'] });
  ok(await runCli(['repo', 'list', reg.host, P]), 'oras alias list');

  // One repository per page: the Link header is followed to the end.
  const registry = createRegistry({ registry: reg.host, plainHttp: true });
  try {
    assert.deepEqual(await registry.repositories({ pageSize: 1 }), ['alpha', 'team/one', 'team/two', 'zeta']);
    assert.deepEqual(await registry.repositories({ pageSize: 1, last: 'team/one' }), ['team/two', 'zeta']);
  } finally {
    await registry.close();
  }
  const pages = reg.requests().filter((e) => e.path.startsWith('/v2/_catalog?') && e.path.includes('n=1'));
  assert.ok(pages.length >= 4, `one request per page (${pages.length})`);
});
