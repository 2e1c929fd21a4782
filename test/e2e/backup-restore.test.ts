import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runCli, type CliResult } from '../helpers/cli.js';
import { startDistribution } from '../helpers/distribution.js';
import { examplesDir } from '../helpers/paths.js';
import { skopeoCopy, skopeoInspectRaw } from '../helpers/skopeo.js';
import { makeTempDir } from '../helpers/tmp.js';

// backup and restore as oras 1.3 (cmd/oras/root/backup.go, restore.go): a repository's tags,
// with or without referrers, to and from a layout folder or a tar of one; skopeo reads what
// backup writes and restore reads what skopeo writes.

const FILTER = join(examplesDir, 'example-filter.wasm');
const P = '--plain-http';
function ok(r: CliResult, what: string): CliResult {
  assert.equal(r.code, 0, `${what} failed (${r.code}): ${r.stderr}`);
  return r;
}

test('backup to a folder and a tar, restore from both and from a layout skopeo wrote, --dry-run (both) and --exclude-referrers', async (t) => {
  const reg = await startDistribution({ mode: 'plain', t });
  const dir = await makeTempDir(t);
  ok(await runCli(['push', `${reg.host}/app:v1`, FILTER, P]), 'push v1');
  ok(await runCli(['push', `${reg.host}/app:v2`, FILTER, P, '--root-id', 'two']), 'push v2');
  await writeFile(join(dir, 'sbom.json'), '{"sbom":1}');
  const sbom = JSON.parse(ok(await runCli(['--format', 'json', 'attach', '--artifact-type', 'application/spdx+json', `${reg.host}/app:v1`, 'sbom.json', P], { cwd: dir }), 'attach').stdout).digest;
  const v1 = await skopeoInspectRaw(`docker://${reg.host}/app:v1`, { tlsVerify: false });
  const v2 = await skopeoInspectRaw(`docker://${reg.host}/app:v2`, { tlsVerify: false });

  // Every tag, no referrers, into a folder: the referrers-schema tag is not a tag to back up.
  const b1 = ok(await runCli(['backup', '-o', 'plain', `${reg.host}/app`, P], { cwd: dir }), 'backup to a folder');
  assert.match(b1.stdout, /^Backed up 2 tags to plain$/m);
  const index = JSON.parse(await readFile(join(dir, 'plain', 'index.json'), 'utf8'));
  assert.deepEqual(index.manifests.map((m: any) => m.annotations['org.opencontainers.image.ref.name']).sort(), ['v1', 'v2']);
  assert.equal(await skopeoInspectRaw(`oci:${join(dir, 'plain')}:v1`), v1, 'skopeo reads the backup folder');
  assert.deepEqual(JSON.parse(ok(await runCli(['discover', '--oci-layout', join(dir, 'plain:v1'), '--format', 'json']), 'discover the folder').stdout).referrers, []);

  const dryBackup = ok(await runCli(['backup', '--dry-run', '--include-referrers', '-o', 'never.tar', `${reg.host}/app:v1`, P], { cwd: dir }), 'backup --dry-run');
  assert.match(dryBackup.stdout, /^Would back up v1 sha256:[a-f0-9]{64} \(\+1 referrer\)$/m);
  assert.ok(!(await readdir(dir)).includes('never.tar'), 'a dry run writes nothing');

  // One tag with its referrers, into a tar.
  const b2 = JSON.parse(ok(await runCli(['--format', 'json', 'backup', '--include-referrers', '-o', 'b.tar', `${reg.host}/app:v1,v2`, P], { cwd: dir }), 'backup to a tar').stdout);
  assert.deepEqual(b2.tags.map((x: any) => [x.tag, x.referrers]), [['v1', [sbom]], ['v2', []]]);
  assert.deepEqual((await readdir(dir)).filter((n) => n.startsWith('.')), [], 'no temp layout or partial tar left');
  assert.equal(await skopeoInspectRaw(`oci-archive:${join(dir, 'b.tar')}:v2`), v2, 'skopeo reads the tar');
  const inTar = JSON.parse(ok(await runCli(['discover', '--oci-layout', 'b.tar:v1', '--format', 'json'], { cwd: dir }), 'discover the tar').stdout);
  assert.deepEqual(inTar.referrers.map((r: any) => r.digest), [sbom]);

  // Dry run: nothing reaches the registry.
  const dry = ok(await runCli(['restore', '--dry-run', '--input', 'b.tar', `${reg.host}/dry`, P], { cwd: dir }), 'restore --dry-run');
  assert.match(dry.stdout, /^Would restore v1 sha256:[a-f0-9]{64} \(\+1 referrer\)$/m);
  assert.equal((await fetch(`${reg.url}/v2/dry/tags/list`)).status, 404, 'the dry run created nothing');

  ok(await runCli(['restore', '--input', 'b.tar', `${reg.host}/restored`, P], { cwd: dir }), 'restore from the tar');
  assert.equal(await skopeoInspectRaw(`docker://${reg.host}/restored:v1`, { tlsVerify: false }), v1);
  assert.equal(await skopeoInspectRaw(`docker://${reg.host}/restored:v2`, { tlsVerify: false }), v2);
  const disc = JSON.parse(ok(await runCli(['discover', `${reg.host}/restored:v1`, P, '--format', 'json']), 'discover restored').stdout);
  assert.deepEqual(disc.referrers.map((r: any) => r.digest), [sbom], 'the referrer is restored and indexed');

  ok(await runCli(['restore', '--exclude-referrers', '--input', 'b.tar', `${reg.host}/noref:v1`, P], { cwd: dir }), 'restore --exclude-referrers');
  assert.deepEqual(JSON.parse(ok(await runCli(['discover', `${reg.host}/noref:v1`, P, '--format', 'json']), 'discover noref').stdout).referrers, []);
  const tags = await (await fetch(`${reg.url}/v2/noref/tags/list`)).json() as any;
  assert.deepEqual(tags.tags, ['v1'], 'only the named tag');

  // A layout skopeo wrote.
  await skopeoCopy(`docker://${reg.host}/app:v2`, `oci:${join(dir, 'sk')}:v2`, { tlsVerify: false });
  ok(await runCli(['restore', '--input', 'sk', `${reg.host}/fromsk`, P], { cwd: dir }), 'restore from the skopeo layout');
  assert.equal(await skopeoInspectRaw(`docker://${reg.host}/fromsk:v2`, { tlsVerify: false }), v2);

  const digestRef = await runCli(['backup', '-o', 'x', `${reg.host}/app@${sbom}`, P], { cwd: dir });
  assert.equal(digestRef.code, 2, digestRef.stderr);
});
