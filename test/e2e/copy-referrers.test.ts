import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runCli, type CliResult } from '../helpers/cli.js';
import { startDistribution } from '../helpers/distribution.js';
import { examplesDir } from '../helpers/paths.js';
import { skopeoInspectRaw } from '../helpers/skopeo.js';
import { makeTempDir } from '../helpers/tmp.js';

// copy -r as oras cp -r (cmd/oras/root/cp.go, ExtendedCopy): the artifact, its referrers and
// theirs, into registries (tag schema on Distribution 2.8) and layouts, and back.

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

test('copy -r copies referrers of every level, registry to registry, to a layout and back; without -r none', async (t) => {
  const reg = await startDistribution({ mode: 'plain', t });
  const dir = await makeTempDir(t);
  ok(await runCli(['push', `${reg.host}/src:v1`, FILTER, P]), 'push');
  await writeFile(join(dir, 'sbom.json'), '{"sbom":1}');
  const sbom = JSON.parse(ok(await runCli(['--format', 'json', 'attach', '--artifact-type', 'application/spdx+json', `${reg.host}/src:v1`, 'sbom.json', P], { cwd: dir }), 'attach sbom').stdout).digest;
  ok(await runCli(['attach', '--artifact-type', 'application/vnd.dev.sig', `${reg.host}/src@${sbom}`, '-a', 'signed=yes', P]), 'attach a signature to the sbom');
  const expected = tree(JSON.parse(ok(await runCli(['discover', `${reg.host}/src:v1`, P, '--format', 'json']), 'discover src').stdout));
  assert.equal(expected.length, 2);

  ok(await runCli(['copy', `${reg.host}/src:v1`, `${reg.host}/plain:v1`, P]), 'copy without -r');
  assert.deepEqual(JSON.parse(ok(await runCli(['discover', `${reg.host}/plain:v1`, P, '--format', 'json']), 'discover plain').stdout).referrers, []);

  // A referrer copied on its own (by digest, without -r) reaches the destination's index too.
  ok(await runCli(['copy', `${reg.host}/plain@${sbom}`.replace('/plain@', '/src@'), `${reg.host}/plain`, P]), 'copy the sbom alone');
  const alone = JSON.parse(ok(await runCli(['discover', `${reg.host}/plain:v1`, P, '--format', 'json', '--depth', '1']), 'discover plain again').stdout);
  assert.deepEqual(alone.referrers.map((r: any) => [r.digest, r.artifactType]), [[sbom, 'application/spdx+json']]);

  const copied = ok(await runCli(['copy', '-r', `${reg.host}/src:v1`, `${reg.host}/dst:v1`, P]), 'copy -r');
  assert.match(copied.stdout, /^Referrers: 2 copied$/m);
  assert.deepEqual(tree(JSON.parse(ok(await runCli(['discover', `${reg.host}/dst:v1`, P, '--format', 'json']), 'discover dst').stdout)), expected);
  // skopeo reads the copied referrer, subject intact.
  const raw = JSON.parse(await skopeoInspectRaw(`docker://${reg.host}/dst@${sbom}`, { tlsVerify: false }));
  assert.equal(raw.artifactType, 'application/spdx+json');

  ok(await runCli(['copy', '-r', '--to-oci-layout', `${reg.host}/src:v1`, join(dir, 'lay:v1'), P]), 'copy -r to a layout');
  assert.deepEqual(tree(JSON.parse(ok(await runCli(['discover', '--oci-layout', join(dir, 'lay:v1'), '--format', 'json']), 'discover the layout').stdout)), expected);
  ok(await runCli(['attach', '--oci-layout', '--artifact-type', 'application/vnd.local', join(dir, 'lay:v1'), '-a', 'k=v']), 'attach in the layout');
  const inLayout = tree(JSON.parse(ok(await runCli(['discover', '--oci-layout', join(dir, 'lay:v1'), '--format', 'json']), 'discover the layout again').stdout));
  assert.equal(inLayout.filter((l) => l.startsWith('0:application/vnd.local:')).length, 1);
  ok(await runCli(['manifest', 'delete', '-f', '--oci-layout', `${join(dir, 'lay')}@${inLayout.find((l) => l.includes('vnd.local'))!.split(':').slice(2).join(':')}`]), 'delete it');
  assert.deepEqual(tree(JSON.parse(ok(await runCli(['discover', '--oci-layout', join(dir, 'lay:v1'), '--format', 'json']), 'discover after').stdout)), expected);
  ok(await runCli(['copy', '-r', '--from-oci-layout', join(dir, 'lay:v1'), `${reg.host}/back:v1`, P]), 'copy -r from the layout');
  assert.deepEqual(tree(JSON.parse(ok(await runCli(['discover', `${reg.host}/back:v1`, P, '--format', 'json']), 'discover back').stdout)), expected);

  // A referrer deleted from the copy leaves the copy's tag index (and only there).
  ok(await runCli(['manifest', 'delete', '-f', `${reg.host}/back@${sbom}`, P]), 'delete the copied sbom');
  const after = tree(JSON.parse(ok(await runCli(['discover', `${reg.host}/back:v1`, P, '--format', 'json']), 'discover after delete').stdout));
  assert.ok(!after.some((l) => l.includes(sbom)), 'the deleted referrer is no longer listed');
  assert.deepEqual(tree(JSON.parse(ok(await runCli(['discover', `${reg.host}/src:v1`, P, '--format', 'json']), 'discover src again').stdout)), expected);
});

test('pull --include-subject writes the referrer and its subject chain into one directory, as oras', async (t) => {
  const reg = await startDistribution({ mode: 'plain', t });
  const dir = await makeTempDir(t);
  ok(await runCli(['push', `${reg.host}/ps:v1`, FILTER, P]), 'push');
  await writeFile(join(dir, 'sbom.json'), '{"sbom":1}');
  await writeFile(join(dir, 'sig.txt'), 'signature');
  const sbom = JSON.parse(ok(await runCli(['--format', 'json', 'attach', '--artifact-type', 'application/spdx+json', `${reg.host}/ps:v1`, 'sbom.json', P], { cwd: dir }), 'attach sbom').stdout).digest;
  const sig = JSON.parse(ok(await runCli(['--format', 'json', 'attach', '--artifact-type', 'application/vnd.dev.sig', `${reg.host}/ps@${sbom}`, 'sig.txt', P], { cwd: dir }), 'attach sig').stdout).digest;

  ok(await runCli(['pull', `${reg.host}/ps@${sig}`, '-o', 'only', P], { cwd: dir }), 'pull without --include-subject');
  const { readdir, readFile } = await import('node:fs/promises');
  assert.deepEqual((await readdir(join(dir, 'only'))).sort(), ['sig.txt']);
  const r = ok(await runCli(['--format', 'json', 'pull', '--include-subject', `${reg.host}/ps@${sig}`, '-o', 'all', P], { cwd: dir }), 'pull --include-subject');
  const names = (await readdir(join(dir, 'all'))).sort();
  for (const n of ['sig.txt', 'sbom.json', 'example-filter.wasm']) assert.ok(names.includes(n), `${n} in ${names.join(', ')}`);
  assert.deepEqual(await readFile(join(dir, 'all', 'example-filter.wasm')), await readFile(FILTER));
  const doc = JSON.parse(r.stdout);
  assert.equal(doc.subjects.length, 2);
  assert.equal(doc.subjects[0], `${reg.host}/ps@${sbom}`);
  assert.ok(doc.files.some((f: any) => f.path.endsWith('example-filter.wasm')));
});
