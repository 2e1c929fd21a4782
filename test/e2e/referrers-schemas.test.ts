import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runCli, type CliResult } from '../helpers/cli.js';
import { startDistribution, type RunningRegistry } from '../helpers/distribution.js';
import { examplesDir } from '../helpers/paths.js';
import { startReferrersRegistry } from '../helpers/referrers-registry.js';
import { skopeoInspectRaw } from '../helpers/skopeo.js';
import { makeTempDir } from '../helpers/tmp.js';
import type { CleanupContext } from '../helpers/tmp.js';

// The referrers suite against both schemas of distribution-spec 1.1: Distribution 2.8 (no
// referrers API: the `sha256-<hex>` tag index) and Distribution behind the test helper that
// answers the referrers API (test/helpers/referrers-registry.ts; no registry with the API is
// installable here). Attach, manifest push with subject, discover, copy -r, delete.

const FILTER = join(examplesDir, 'example-filter.wasm');
const P = '--plain-http';
function ok(r: CliResult, what: string): CliResult {
  assert.equal(r.code, 0, `${what} failed (${r.code}): ${r.stderr}`);
  return r;
}
function tree(doc: any): string[] {
  const out: string[] = [];
  const walk = (n: any, depth: number) => { for (const r of n.referrers) { out.push(`${depth}:${r.artifactType}:${r.digest}`); walk(r, depth + 1); } };
  walk(doc, 0);
  return out.sort();
}
async function tagIndexStatus(reg: RunningRegistry, repo: string, subject: string): Promise<number> {
  const res = await fetch(`${reg.url}/v2/${repo}/manifests/${subject.replace(':', '-')}`, { method: 'HEAD', headers: { accept: 'application/vnd.oci.image.index.v1+json' } });
  return res.status;
}

const SCHEMAS: Array<{ name: string; start: (t: CleanupContext) => Promise<RunningRegistry & { referrersRequests?: () => number }>; api: boolean }> = [
  { name: 'tag schema (Distribution 2.8)', start: (t) => startDistribution({ mode: 'plain', t }), api: false },
  { name: 'referrers API (Distribution behind the referrers helper)', start: (t) => startReferrersRegistry({ mode: 'plain', t }), api: true },
];

for (const schema of SCHEMAS) {
  test(`referrers, ${schema.name}: attach, manifest push with subject, discover, copy -r, delete`, async (t) => {
    const reg = await schema.start(t);
    const dir = await makeTempDir(t);
    ok(await runCli(['push', `${reg.host}/s:v1`, FILTER, P]), 'push');
    const subject = `sha256:${(await import('node:crypto')).createHash('sha256').update(await skopeoInspectRaw(`docker://${reg.host}/s:v1`, { tlsVerify: false })).digest('hex')}`;
    await writeFile(join(dir, 'sbom.json'), '{"sbom":1}');
    const att = JSON.parse(ok(await runCli(['--format', 'json', 'attach', '--artifact-type', 'application/spdx+json', `${reg.host}/s:v1`, 'sbom.json', P], { cwd: dir }), 'attach').stdout);
    assert.equal(att.referrersIndexUpdated, !schema.api, 'the tag index is written only without the API');
    assert.equal(await tagIndexStatus(reg, 's', subject), schema.api ? 404 : 200);

    // manifest push of a referrer of the sbom (a signature), from stdin.
    const sbomRaw = await skopeoInspectRaw(`docker://${reg.host}/s@${att.digest}`, { tlsVerify: false });
    const empty = { mediaType: 'application/vnd.oci.empty.v1+json', digest: 'sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a', size: 2 };
    const sig = JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', artifactType: 'application/vnd.dev.sig', config: empty, layers: [empty], subject: { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: att.digest, size: Buffer.byteLength(sbomRaw) } });
    const sigDigest = JSON.parse(ok(await runCli(['--format', 'json', 'manifest', 'push', `${reg.host}/s`, '-', P], { input: sig }), 'manifest push with subject').stdout).digest;

    const disc = JSON.parse(ok(await runCli(['discover', `${reg.host}/s:v1`, P, '--format', 'json']), 'discover').stdout);
    const expected = [`0:application/spdx+json:${att.digest}`, `1:application/vnd.dev.sig:${sigDigest}`];
    assert.deepEqual(tree(disc), expected);
    const filtered = JSON.parse(ok(await runCli(['discover', `${reg.host}/s:v1`, P, '--format', 'json', '--artifact-type', 'other/type']), 'discover filtered').stdout);
    assert.deepEqual(filtered.referrers, []);
    if (schema.api) assert.ok(reg.referrersRequests!() > 0, 'discover asked the referrers API');

    ok(await runCli(['copy', '-r', `${reg.host}/s:v1`, `${reg.host}/d:v1`, P]), 'copy -r');
    assert.deepEqual(tree(JSON.parse(ok(await runCli(['discover', `${reg.host}/d:v1`, P, '--format', 'json']), 'discover the copy').stdout)), expected);
    assert.equal(await tagIndexStatus(reg, 'd', subject), schema.api ? 404 : 200);

    ok(await runCli(['manifest', 'delete', '-f', `${reg.host}/s@${sigDigest}`, P]), 'delete the signature');
    assert.deepEqual(tree(JSON.parse(ok(await runCli(['discover', `${reg.host}/s:v1`, P, '--format', 'json']), 'discover after delete').stdout)), [`0:application/spdx+json:${att.digest}`]);
  });
}
