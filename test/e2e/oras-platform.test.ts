// oras 1.3's platform and packing flags against a real Distribution, read back by skopeo:
// push --artifact-platform / --image-spec (cmd/oras/root/push.go), --platform on pull, copy,
// discover, resolve, manifest fetch and fetch-config (oras-go internal/platform SelectManifest),
// attach and manifest push --concurrency.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runCli, type CliResult } from '../helpers/cli.js';
import { startDistribution } from '../helpers/distribution.js';
import { examplesDir } from '../helpers/paths.js';
import { skopeoInspectRaw, skopeoRun } from '../helpers/skopeo.js';
import { makeTempDir } from '../helpers/tmp.js';

const FILTER = join(examplesDir, 'example-filter.wasm');
const sha256 = (b: string | Uint8Array) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

function ok(r: CliResult, what: string): CliResult {
  assert.equal(r.code, 0, `${what} failed (${r.code}): ${r.stderr}`);
  return r;
}

/** `skopeo inspect REF` as a client of that platform (--override-os/-arch): what it reads from the config. */
async function skopeoInspectAs(ref: string, os: string, arch: string): Promise<{ Os: string; Architecture: string }> {
  const out = await skopeoRun(async () => ['--override-os', os, '--override-arch', arch, 'inspect', '--tls-verify=false', ref]);
  return JSON.parse(out) as { Os: string; Architecture: string };
}

/** The manifest digest skopeo copies out of REF as a client of that platform (no --all: one instance). */
async function skopeoPick(ref: string, os: string, arch: string, variant: string | undefined, dir: string): Promise<string> {
  await skopeoRun(async () => [
    '--override-os', os, '--override-arch', arch, ...(variant ? ['--override-variant', variant] : []),
    'copy', '--quiet', '--src-tls-verify=false', ref, `oci:${dir}:picked`,
  ]);
  const index = JSON.parse(await readFile(join(dir, 'index.json'), 'utf8')) as { manifests: Array<{ digest: string }> };
  return index.manifests[0]!.digest;
}

test('push --artifact-platform writes the platform as the image config; skopeo reads it; --image-spec v1.0 puts the type in the config', async (t) => {
  const reg = await startDistribution({ mode: 'plain', t });
  const repo = `${reg.host}/plat/push`;
  const work = await makeTempDir(t);
  await writeFile(join(work, 'hi.txt'), 'hello');

  const pushed = JSON.parse(ok(await runCli(['push', '--plain-http', '--artifact-platform', 'linux/arm/v5', `${repo}:arm`, 'hi.txt:text/plain', '--format', 'json'], { cwd: work }), 'push --artifact-platform').stdout);
  const raw = await skopeoInspectRaw(`docker://${repo}:arm`, { tlsVerify: false });
  assert.equal(sha256(raw), pushed.digest, 'skopeo reads the manifest push reported');
  const manifest = JSON.parse(raw);
  assert.equal(manifest.artifactType, 'application/vnd.unknown.artifact.v1', 'v1.1 without --artifact-type: oras.MediaTypeUnknownArtifact');
  assert.equal(manifest.config.mediaType, 'application/vnd.oci.image.config.v1+json');
  const config = await skopeoInspectRaw(`docker://${repo}:arm`, { tlsVerify: false, config: true });
  assert.equal(config, '{"architecture":"arm","os":"linux","variant":"v5"}', 'json.Marshal(ocispec.Platform), byte for byte');
  const seen = await skopeoInspectAs(`docker://${repo}:arm`, 'linux', 'arm');
  assert.deepEqual([seen.Os, seen.Architecture], ['linux', 'arm'], 'skopeo sees the platform in the config');

  ok(await runCli(['push', '--plain-http', '--image-spec', 'v1.0', '--artifact-type', 'application/vnd.me.config', `${repo}:v10`, 'hi.txt'], { cwd: work }), 'push --image-spec v1.0');
  const v10 = JSON.parse(await skopeoInspectRaw(`docker://${repo}:v10`, { tlsVerify: false }));
  assert.equal(v10.artifactType, undefined, 'a v1.0 manifest has no artifactType');
  assert.deepEqual([v10.config.mediaType, v10.config.digest], ['application/vnd.me.config', sha256('{}')]);

  const refused: Array<[string[], RegExp]> = [
    [['--image-spec', 'v1.1', '--config', 'hi.txt'], /missing artifact type for OCI image-spec v1\.1 artifacts/],
    [['--config', 'hi.txt', '--artifact-platform', 'linux/amd64'], /--config, --artifact-platform cannot be used at the same time/],
    [['--image-spec', 'v1.0', '--artifact-platform', 'linux/amd64', '--artifact-type', 'a/b'], /artifact type cannot be customized for OCI image-spec v1\.0 when platform is specified/],
    [['--image-spec', 'v1.0', '--config', 'hi.txt', '--artifact-type', 'a/b'], /--artifact-type and --config cannot both be provided for 1\.0 OCI image/],
    [['--image-spec', 'v2'], /unknown image specification flag: v2/],
    [['--profile', 'compat', '--artifact-platform', 'wasip1/wasm'], /--profile cannot be combined with --artifact-platform/],
  ];
  for (const [flags, message] of refused) {
    const r = await runCli(['push', '--plain-http', ...flags, `${repo}:no`, flags.includes('--profile') ? FILTER : 'hi.txt'], { cwd: work });
    assert.equal(r.code, 2, `${flags.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message, flags.join(' '));
  }
  const tags = ok(await runCli(['repo', 'tags', '--plain-http', repo]), 'repo tags').stdout.trim().split('\n');
  assert.deepEqual(tags.sort(), ['arm', 'v10'], 'a refused push wrote nothing');
});

test('--platform picks the manifest of an index on pull, copy, discover, resolve, manifest fetch and fetch-config; skopeo picks the same', async (t) => {
  const reg = await startDistribution({ mode: 'plain', t });
  const repo = `${reg.host}/plat/set`;
  const work = await makeTempDir(t);
  await writeFile(join(work, 'arm.txt'), 'for arm');
  await writeFile(join(work, 'amd.txt'), 'for amd64');
  ok(await runCli(['push', '--plain-http', '--artifact-platform', 'linux/arm/v7', `${repo}:arm`, 'arm.txt:text/plain'], { cwd: work }), 'push arm');
  ok(await runCli(['push', '--plain-http', '--artifact-platform', 'linux/amd64', `${repo}:amd`, 'amd.txt:text/plain'], { cwd: work }), 'push amd64');
  ok(await runCli(['manifest', 'index', 'create', '--plain-http', `${repo}:set`, 'arm', 'amd']), 'index create');
  const arm = ok(await runCli(['resolve', '--plain-http', `${repo}:arm`]), 'resolve arm').stdout.trim();
  const amd = ok(await runCli(['resolve', '--plain-http', `${repo}:amd`]), 'resolve amd').stdout.trim();
  const index = ok(await runCli(['resolve', '--plain-http', `${repo}:set`]), 'resolve set').stdout.trim();

  assert.equal(ok(await runCli(['resolve', '--plain-http', '--platform', 'linux/amd64', `${repo}:set`]), 'resolve --platform').stdout.trim(), amd);
  assert.equal(await skopeoPick(`docker://${repo}:set`, 'linux', 'amd64', undefined, join(work, 'sk-amd')), amd, 'skopeo, as a linux/amd64 client, picks the same manifest');
  assert.equal(await skopeoPick(`docker://${repo}:set`, 'linux', 'arm', 'v7', join(work, 'sk-arm')), arm, 'and as a linux/arm/v7 client');
  assert.equal(ok(await runCli(['resolve', '--plain-http', '--platform', 'linux/arm/v7', `${repo}:set`]), 'resolve arm/v7').stdout.trim(), arm);
  assert.equal(ok(await runCli(['resolve', '--plain-http', '--platform', 'linux/amd64', `${repo}:amd`]), 'resolve a manifest of the platform').stdout.trim(), amd);

  const fetched = ok(await runCli(['manifest', 'fetch', '--plain-http', '--platform', 'linux/arm', `${repo}:set`]), 'manifest fetch --platform').stdout;
  assert.equal(sha256(fetched), arm);
  const desc = JSON.parse(ok(await runCli(['manifest', 'fetch', '--plain-http', '--descriptor', '--platform', 'linux/arm', `${repo}:set`]), 'fetch --descriptor').stdout);
  assert.deepEqual([desc.digest, desc.platform], [arm, { architecture: 'arm', os: 'linux', variant: 'v7' }], 'the index entry, as oras prints it');
  const config = ok(await runCli(['manifest', 'fetch-config', '--plain-http', '--platform', 'linux/amd64', `${repo}:set`]), 'fetch-config --platform').stdout;
  assert.equal(config, '{"architecture":"amd64","os":"linux"}');

  const out = await makeTempDir(t);
  const pulled = JSON.parse(ok(await runCli(['pull', '--plain-http', '--platform', 'linux/amd64', `${repo}:set`, '-o', out, '--format', 'json']), 'pull --platform').stdout);
  assert.equal(pulled.digest, amd);
  assert.deepEqual(await readdir(out), ['amd.txt']);
  assert.equal(await readFile(join(out, 'amd.txt'), 'utf8'), 'for amd64');
  const noWasm = await runCli(['pull', '--plain-http', `${repo}:set`, '-o', await makeTempDir(t)]);
  assert.equal(noWasm.code, 7, 'without --platform pull still wants the wasm entry');
  assert.match(noWasm.stderr, /pick one with --platform \(the index lists linux\/arm\/v7, linux\/amd64\)/);

  ok(await runCli(['copy', '--plain-http', '--platform', 'linux/arm/v7', `${repo}:set`, `${reg.host}/plat/copy:arm`]), 'copy --platform');
  const copied = await skopeoInspectRaw(`docker://${reg.host}/plat/copy:arm`, { tlsVerify: false });
  assert.equal(sha256(copied), arm, 'the destination holds the arm manifest, not the index');

  ok(await runCli(['attach', '--plain-http', '--artifact-type', 'application/x.scan', '--platform', 'linux/amd64', `${repo}:set`, '-a', 'k=v']), 'attach to amd64');
  const tree = JSON.parse(ok(await runCli(['discover', '--plain-http', '--platform', 'linux/amd64', `${repo}:set`, '--format', 'json']), 'discover --platform').stdout);
  assert.equal(tree.digest, amd);
  assert.deepEqual(tree.referrers.map((r: { artifactType: string }) => r.artifactType), ['application/x.scan']);
  const onIndex = JSON.parse(ok(await runCli(['discover', '--plain-http', `${repo}:set`, '--format', 'json']), 'discover').stdout);
  assert.deepEqual([onIndex.digest, onIndex.referrers], [index, []], 'the index itself has no referrer');

  // No entry of the platform, and a manifest of another one: not found (exit 4), in oras-go's words.
  const none = await runCli(['resolve', '--plain-http', '--platform', 'linux/s390x', `${repo}:set`]);
  assert.equal(none.code, 4, none.stderr);
  assert.match(none.stderr, /no matching manifest was found in the manifest list for platform linux\/s390x/);
  for (const args of [['pull', '-o', await makeTempDir(t)], ['copy', `${reg.host}/plat/copy:no`], ['manifest', 'fetch'], ['manifest', 'fetch-config'], ['discover']]) {
    const src = `${repo}:arm`;
    const full = args[0] === 'copy' ? ['copy', '--plain-http', '--platform', 'linux/amd64', src, args[1]!] : [...args, '--plain-http', '--platform', 'linux/amd64', src];
    const r = await runCli(full);
    assert.equal(r.code, 4, `${args[0]}: ${r.stderr}`);
    assert.match(r.stderr, /platform in manifest does not match target platform linux\/amd64/, args.join(' '));
  }
  ok(await runCli(['push', '--plain-http', `${repo}:solo`, FILTER]), 'push solo');
  const solo = await runCli(['resolve', '--plain-http', '--platform', 'wasip1/wasm', `${repo}:solo`]);
  assert.equal(solo.code, 7, 'a config that is not an image config says no platform');
  assert.match(solo.stderr, /fail to recognize platform from unknown config application\/vnd\.module\.wasm\.config\.v1\+json/);
  const bad = await runCli(['pull', '--plain-http', '--platform', 'a/b/c/d', `${repo}:set`]);
  assert.equal(bad.code, 2, bad.stderr);
});

test('attach --concurrency uploads every file; manifest push --concurrency sets every tag; 0 is a usage error', async (t) => {
  const reg = await startDistribution({ mode: 'plain', t });
  const repo = `${reg.host}/plat/conc`;
  const work = await makeTempDir(t);
  const names = Array.from({ length: 6 }, (_, i) => `f${i}.txt`);
  for (const n of names) await writeFile(join(work, n), `file ${n}`);
  ok(await runCli(['push', '--plain-http', `${repo}:v1`, FILTER]), 'push');
  const att = JSON.parse(ok(await runCli(['attach', '--plain-http', '--concurrency', '3', '--artifact-type', 'application/x', `${repo}:v1`, ...names, '--format', 'json'], { cwd: work }), 'attach --concurrency').stdout);
  const m = JSON.parse(await skopeoInspectRaw(`docker://${repo}@${att.digest}`, { tlsVerify: false }));
  assert.deepEqual(m.layers.map((l: { annotations: Record<string, string> }) => l.annotations['org.opencontainers.image.title']), names, 'layers in command-line order');
  for (const l of m.layers as Array<{ digest: string }>) {
    const blob = ok(await runCli(['blob', 'fetch', '--plain-http', '-o', '-', `${repo}@${l.digest}`]), 'blob fetch').stdout;
    assert.equal(sha256(blob), l.digest, 'each file is in the registry');
  }

  const manifest = await skopeoInspectRaw(`docker://${repo}:v1`, { tlsVerify: false });
  await writeFile(join(work, 'm.json'), manifest);
  const tags = Array.from({ length: 7 }, (_, i) => `t${i}`);
  ok(await runCli(['manifest', 'push', '--plain-http', '--concurrency', '4', `${repo}:${tags.join(',')}`, 'm.json'], { cwd: work }), 'manifest push --concurrency');
  for (const tag of tags) assert.equal(await skopeoInspectRaw(`docker://${repo}:${tag}`, { tlsVerify: false }), manifest, tag);

  for (const args of [['attach', '--artifact-type', 'application/x', `${repo}:v1`, 'f0.txt'], ['manifest', 'push', `${repo}:x`, 'm.json']]) {
    const r = await runCli([...args, '--plain-http', '--concurrency', '0'], { cwd: work });
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /--concurrency needs a positive integer/);
  }
});
