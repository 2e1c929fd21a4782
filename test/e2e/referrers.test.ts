import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runCli, type CliResult } from '../helpers/cli.js';
import { startDistribution, type RunningRegistry } from '../helpers/distribution.js';
import { examplesDir } from '../helpers/paths.js';
import { skopeoInspectRaw } from '../helpers/skopeo.js';
import { makeTempDir } from '../helpers/tmp.js';

// attach and discover against Distribution 2.8, which has no referrers API: every referrer
// must reach the subject's `sha256-<hex>` index, concurrent attachers included.

const FILTER = join(examplesDir, 'example-filter.wasm');
function ok(r: CliResult, what: string): CliResult {
  assert.equal(r.code, 0, `${what} failed (${r.code}): ${r.stderr}`);
  return r;
}
async function pushFilter(reg: RunningRegistry, repoTag: string): Promise<string> {
  const r = ok(await runCli(['push', `${reg.host}/${repoTag}`, FILTER, '--plain-http', '--root-id', 'my_root_id']), `push ${repoTag}`);
  return /^Digest: (sha256:[a-f0-9]{64})$/m.exec(r.stdout)![1]!;
}
async function tagIndex(reg: RunningRegistry, repo: string, subject: string): Promise<any> {
  const res = await fetch(`${reg.url}/v2/${repo}/manifests/${subject.replace(':', '-')}`, { headers: { accept: 'application/vnd.oci.image.index.v1+json' } });
  assert.equal(res.status, 200, 'the tag-schema index exists');
  return res.json();
}

test('attach writes the tag-schema index; discover reads it (json, tree, table); skopeo reads the referrer; delete unindexes it', async (t) => {
  const reg = await startDistribution({ mode: 'plain', t });
  const dir = await makeTempDir(t);
  const subject = await pushFilter(reg, 'ref:v1');
  await writeFile(join(dir, 'sbom.json'), '{"sbom":true}');
  const att = ok(await runCli(['--format', 'json', 'attach', '--artifact-type', 'application/spdx+json', `${reg.host}/ref:v1`, 'sbom.json:application/spdx+json', '-a', 'k=v', '--plain-http', '--export-manifest', 'm.json'], { cwd: dir }), 'attach');
  const doc = JSON.parse(att.stdout);
  assert.equal(doc.reference, `${reg.host}/ref@${doc.digest}`);
  assert.equal(doc.artifactType, 'application/spdx+json');
  assert.equal(typeof doc.size, 'number');

  const raw = JSON.parse(await skopeoInspectRaw(`docker://${reg.host}/ref@${doc.digest}`, { tlsVerify: false }));
  assert.equal(raw.subject.digest, subject, 'skopeo sees the subject');
  assert.equal(raw.artifactType, 'application/spdx+json');
  assert.equal(raw.config.mediaType, 'application/vnd.oci.empty.v1+json');
  assert.equal(raw.layers[0].mediaType, 'application/spdx+json');
  assert.equal(raw.layers[0].annotations['org.opencontainers.image.title'], 'sbom.json');
  assert.equal(raw.annotations.k, 'v');

  const index = await tagIndex(reg, 'ref', subject);
  assert.deepEqual(index.manifests.map((m: any) => m.digest), [doc.digest]);
  assert.equal(index.manifests[0].artifactType, 'application/spdx+json');

  // A referrer of the referrer: discover walks both levels unless --depth 1.
  const sig = ok(await runCli(['--format', 'json', 'attach', '--artifact-type', 'application/vnd.dev.sig', `${reg.host}/ref@${doc.digest}`, '-a', 'signed=yes', '--plain-http'], { cwd: dir }), 'attach to the referrer');
  const sigDigest = JSON.parse(sig.stdout).digest;
  const disc = JSON.parse(ok(await runCli(['discover', `${reg.host}/ref:v1`, '--plain-http', '--format', 'json']), 'discover').stdout);
  assert.equal(disc.reference, `${reg.host}/ref@${subject}`);
  assert.equal(disc.referrers.length, 1);
  assert.equal(disc.referrers[0].digest, doc.digest);
  assert.equal(disc.referrers[0].referrers[0].digest, sigDigest);
  assert.deepEqual(disc.referrers[0].referrers[0].referrers, []);
  const shallow = JSON.parse(ok(await runCli(['discover', `${reg.host}/ref:v1`, '--plain-http', '--format', 'json', '--depth', '1']), 'discover --depth 1').stdout);
  assert.deepEqual(shallow.referrers[0].referrers, []);
  const filtered = JSON.parse(ok(await runCli(['discover', `${reg.host}/ref:v1`, '--plain-http', '--format', 'json', '--artifact-type', 'other/type']), 'discover --artifact-type').stdout);
  assert.deepEqual(filtered.referrers, []);
  const tree = ok(await runCli(['discover', `${reg.host}/ref:v1`, '--plain-http']), 'discover tree').stdout;
  assert.match(tree, new RegExp(`^${reg.host}/ref@${subject}\n└── application/spdx\\+json\n    └── ${doc.digest}`));
  assert.match(tree, /application\/vnd\.dev\.sig/);
  const table = ok(await runCli(['discover', `${reg.host}/ref:v1`, '--plain-http', '--format', 'table']), 'discover table').stdout;
  assert.match(table, /^Discovered 1 artifact referencing/);
  assert.doesNotMatch(table, /vnd\.dev\.sig/, 'the table shows direct referrers only');

  ok(await runCli(['manifest', 'delete', '-f', `${reg.host}/ref@${doc.digest}`, '--plain-http']), 'delete the referrer');
  assert.deepEqual((await tagIndex(reg, 'ref', subject)).manifests, [], 'the deleted referrer left the index');
});

test('five attach processes at once to one subject under the tag schema: no referrer is lost', async (t) => {
  const reg = await startDistribution({ mode: 'plain', t });
  const dir = await makeTempDir(t);
  const subject = await pushFilter(reg, 'race:v1');
  const runs = await Promise.all(Array.from({ length: 5 }, (_, i) =>
    runCli(['--format', 'json', 'attach', '--artifact-type', `test/n${i}`, `${reg.host}/race:v1`, '-a', `n=${i}`, '--plain-http'], { cwd: dir })));
  const digests = runs.map((r, i) => JSON.parse(ok(r, `attach ${i}`).stdout).digest as string).sort();
  const index = await tagIndex(reg, 'race', subject);
  assert.deepEqual(index.manifests.map((m: any) => m.digest).sort(), digests);
});

test("oras's aliases reach the same commands; version prints the package's and Node's versions", async (t) => {
  const reg = await startDistribution({ mode: 'plain', t });
  const digest = await pushFilter(reg, 'alias:v1');
  assert.equal(ok(await runCli(['digest', `${reg.host}/alias:v1`, '--plain-http']), 'digest').stdout.trim(), digest);
  assert.equal(ok(await runCli(['cp', `${reg.host}/alias:v1`, `${reg.host}/alias:v2`, '--plain-http']), 'cp').code, 0);
  assert.match(ok(await runCli(['repo', 'show-tags', `${reg.host}/alias`, '--plain-http']), 'show-tags').stdout, /^v1\nv2\n$/);
  assert.match(ok(await runCli(['manifest', 'get', `${reg.host}/alias:v1`, '--plain-http']), 'manifest get').stdout, /"schemaVersion":\s*2/);
  const { readFile } = await import('node:fs/promises');
  const { repoRoot } = await import('../helpers/paths.js');
  const pkg = JSON.parse(await readFile(join(repoRoot, 'package.json'), 'utf8'));
  const v = JSON.parse(ok(await runCli(['version', '--format', 'json']), 'version').stdout);
  assert.equal(v.version, pkg.version);
  assert.equal(v.nodeVersion, process.version);
  assert.match(ok(await runCli(['version']), 'version text').stdout, new RegExp(`^Version: +${pkg.version.replace(/\./g, '\\.')}\nNode version: +${process.version}`));
});

test('blob delete -f removes a blob from the registry; without -f it refuses', async (t) => {
  const reg = await startDistribution({ mode: 'plain', t });
  const digest = await pushFilter(reg, 'blobdel:v1');
  const m = await (await fetch(`${reg.url}/v2/blobdel/manifests/${digest}`, { headers: { accept: 'application/vnd.oci.image.manifest.v1+json' } })).json() as any;
  const layer = m.layers[m.layers.length - 1].digest as string;
  const refused = await runCli(['blob', 'delete', `${reg.host}/blobdel@${layer}`, '--plain-http']);
  assert.equal(refused.code, 2, refused.stderr);
  assert.equal((await fetch(`${reg.url}/v2/blobdel/blobs/${layer}`, { method: 'HEAD' })).status, 200);
  ok(await runCli(['blob', 'rm', '-f', `${reg.host}/blobdel@${layer}`, '--plain-http']), 'blob rm -f');
  assert.equal((await fetch(`${reg.url}/v2/blobdel/blobs/${layer}`, { method: 'HEAD' })).status, 404);
});
