// oras 1.3 flags that scripts use (cmd/oras/root/*.go), against a real Distribution.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runCli, type CliResult } from '../helpers/cli.js';
import { startDistribution } from '../helpers/distribution.js';
import { examplesDir } from '../helpers/paths.js';
import { makeTempDir } from '../helpers/tmp.js';

const FILTER = join(examplesDir, 'example-filter.wasm');

function ok(r: CliResult, what: string): CliResult {
  assert.equal(r.code, 0, `${what} failed (${r.code}): ${r.stderr}`);
  return r;
}

test('repo tags --exclude-digest-tags leaves out sha256-<hex> tags (the referrers tag schema), keeps the rest', async (t) => {
  const reg = await startDistribution({ mode: 'plain', t });
  const repo = `${reg.host}/flags/tags`;
  ok(await runCli(['push', `${repo}:v1`, FILTER, '--plain-http']), 'push');
  // Distribution has no referrers API: attach writes the sha256-<hex> tag index.
  ok(await runCli(['attach', '--plain-http', '--artifact-type', 'application/example', `${repo}:v1`, '-a', 'k=v']), 'attach');
  ok(await runCli(['tag', '--plain-http', `${repo}:v1`, 'sha256-notadigest', 'sha512-ab']), 'tag');
  const all = ok(await runCli(['repo', 'tags', '--plain-http', repo]), 'repo tags').stdout.trim().split('\n');
  assert.ok(all.some((x) => /^sha256-[a-f0-9]{64}$/.test(x)), all.join(' '));
  const kept = ok(await runCli(['repo', 'tags', '--plain-http', '--exclude-digest-tags', repo]), 'repo tags --exclude-digest-tags').stdout.trim().split('\n');
  assert.deepEqual(kept.sort(), ['sha256-notadigest', 'sha512-ab', 'v1'], 'only digest-shaped tags go (oras isDigestTag)');
  const json = JSON.parse(ok(await runCli(['repo', 'tags', '--plain-http', '--exclude-digest-tags', repo, '--format', 'json']), 'json').stdout);
  assert.deepEqual([...json.tags].sort(), ['sha256-notadigest', 'sha512-ab', 'v1']);
});

test('tag --concurrency sets every tag; a bad value is a usage error', async (t) => {
  const reg = await startDistribution({ mode: 'plain', t });
  const repo = `${reg.host}/flags/tag`;
  ok(await runCli(['push', `${repo}:v1`, FILTER, '--plain-http']), 'push');
  const tags = Array.from({ length: 12 }, (_, i) => `t${i}`);
  ok(await runCli(['tag', '--plain-http', '--concurrency', '4', `${repo}:v1`, ...tags]), 'tag --concurrency 4');
  const listed = ok(await runCli(['repo', 'tags', '--plain-http', repo]), 'repo tags').stdout.trim().split('\n');
  assert.deepEqual(listed.sort(), [...tags, 'v1'].sort());
  const bad = await runCli(['tag', '--plain-http', '--concurrency', '0', `${repo}:v1`, 'x']);
  assert.equal(bad.code, 2, bad.stderr);
});

test('pull -k/--keep-old-files fails before writing anything when a file is there; without it the file is replaced', async (t) => {
  const reg = await startDistribution({ mode: 'plain', t });
  const ref = `${reg.host}/flags/keep:v1`;
  ok(await runCli(['push', ref, FILTER, '--plain-http']), 'push');
  const out = await makeTempDir(t);
  await writeFile(join(out, 'example-filter.wasm'), 'mine');
  const kept = await runCli(['pull', ref, '--plain-http', '-o', out, '-k']);
  assert.equal(kept.code, 2, kept.stderr);
  assert.match(kept.stderr, /example-filter\.wasm exists .*--keep-old-files/);
  assert.equal(await readFile(join(out, 'example-filter.wasm'), 'utf8'), 'mine');
  assert.deepEqual((await readdir(out)).sort(), ['example-filter.wasm'], 'not even runtime-config.json was written');
  ok(await runCli(['pull', ref, '--plain-http', '--keep-old-files', '-o', join(out, 'fresh')]), 'pull -k into an empty directory');
  ok(await runCli(['pull', ref, '--plain-http', '-o', out]), 'pull without -k');
  assert.deepEqual(await readFile(join(out, 'example-filter.wasm')), await readFile(FILTER));
});

test('pull --config PATH[:mediatype] writes the manifest config at PATH when the media type matches', async (t) => {
  const reg = await startDistribution({ mode: 'plain', t });
  const ref = `${reg.host}/flags/config:v1`;
  ok(await runCli(['push', ref, FILTER, '--plain-http']), 'push');
  const config = ok(await runCli(['manifest', 'fetch-config', ref, '--plain-http']), 'fetch-config').stdout;
  const out = await makeTempDir(t);
  const pulled = ok(await runCli(['pull', ref, '--plain-http', '-o', out, '--config', 'meta/config.json', '--format', 'json']), 'pull --config');
  assert.equal(await readFile(join(out, 'meta', 'config.json'), 'utf8'), config);
  assert.ok(JSON.parse(pulled.stdout).files.some((f: { path: string }) => f.path === join(out, 'meta', 'config.json')), 'listed in files[] as oras lists it');

  const other = await makeTempDir(t);
  ok(await runCli(['pull', ref, '--plain-http', '-o', other, '--config', 'c.json:application/other']), 'pull --config with another media type');
  assert.ok(!(await readdir(other)).includes('c.json'), 'a config of another media type is not written');
  const escape = await runCli(['pull', ref, '--plain-http', '-o', other, '--config', '../c.json']);
  assert.equal(escape.code, 7, escape.stderr);
});

test('attach --config puts the given config blob under the referrer; --platform attaches to the platform\'s manifest of an index', async (t) => {
  const reg = await startDistribution({ mode: 'plain', t });
  const repo = `${reg.host}/flags/attach`;
  const work = await makeTempDir(t);
  ok(await runCli(['push', `${repo}:v1`, FILTER, '--plain-http', '--profile', 'compat']), 'push compat (its config says wasip1/wasm)');
  await writeFile(join(work, 'cfg.json'), '{"tool":"scanner"}');
  await writeFile(join(work, 'sbom.json'), '{}');

  const withType = JSON.parse(ok(await runCli(['attach', '--plain-http', '--artifact-type', 'application/spdx+json', '--config', 'cfg.json:application/vnd.example.config+json', `${repo}:v1`, 'sbom.json', '--format', 'json'], { cwd: work }), 'attach --config').stdout);
  const m1 = JSON.parse(ok(await runCli(['manifest', 'fetch', '--plain-http', `${repo}@${withType.digest}`]), 'fetch').stdout);
  assert.equal(m1.config.mediaType, 'application/vnd.example.config+json');
  assert.equal(m1.config.digest, `sha256:${createHash('sha256').update('{"tool":"scanner"}').digest('hex')}`);
  const blob = ok(await runCli(['blob', 'fetch', '--plain-http', '-o', '-', `${repo}@${m1.config.digest}`]), 'blob fetch').stdout;
  assert.equal(blob, '{"tool":"scanner"}', 'the config blob is in the registry');
  const untyped = JSON.parse(ok(await runCli(['attach', '--plain-http', '--artifact-type', 'application/x', '--config', 'cfg.json', `${repo}:v1`, '-a', 'k=v', '--format', 'json'], { cwd: work }), 'attach --config, no type').stdout);
  const m2 = JSON.parse(ok(await runCli(['manifest', 'fetch', '--plain-http', `${repo}@${untyped.digest}`]), 'fetch').stdout);
  assert.equal(m2.config.mediaType, 'application/vnd.unknown.config.v1+json', 'oras.MediaTypeUnknownConfig');

  const child = ok(await runCli(['resolve', '--plain-http', `${repo}:v1`]), 'resolve').stdout.trim();
  ok(await runCli(['manifest', 'index', 'create', '--plain-http', `${repo}:set`, 'v1']), 'index create');
  const onIndex = JSON.parse(ok(await runCli(['attach', '--plain-http', '--artifact-type', 'application/x', '--platform', 'wasip1/wasm', `${repo}:set`, '-a', 'k=v', '--format', 'json']), 'attach --platform').stdout);
  assert.equal(onIndex.subject, `${repo}@${child}`, 'the subject is the platform\'s manifest, not the index');
  const wrong = await runCli(['attach', '--plain-http', '--artifact-type', 'application/x', '--platform', 'linux/amd64', `${repo}:set`, '-a', 'k=v']);
  assert.equal(wrong.code, 4, wrong.stderr);
  assert.match(wrong.stderr, /no matching manifest was found in the manifest list for platform linux\/amd64/);
  const direct = await runCli(['attach', '--plain-http', '--artifact-type', 'application/x', '--platform', 'linux/amd64', `${repo}:v1`, '-a', 'k=v']);
  assert.equal(direct.code, 4, 'a manifest of another platform is refused');
  ok(await runCli(['attach', '--plain-http', '--artifact-type', 'application/x', '--platform', 'wasip1/wasm', `${repo}:v1`, '-a', 'k=v']), 'a manifest of the platform');
  const bad = await runCli(['attach', '--plain-http', '--artifact-type', 'application/x', '--platform', 'a/b/c/d', `${repo}:v1`, '-a', 'k=v']);
  assert.equal(bad.code, 2, bad.stderr);
});

test('--disable-path-validation lets push and attach take an absolute path as the title (oras option/packer.go); pull still refuses to write it', async (t) => {
  const reg = await startDistribution({ mode: 'plain', t });
  const repo = `${reg.host}/flags/paths`;
  const work = await makeTempDir(t);
  await mkdir(join(work, 'docs'));
  await writeFile(join(work, 'docs', 'notes.txt'), 'notes');
  const abs = join(work, 'docs', 'notes.txt');

  const refused = await runCli(['push', '--plain-http', `${repo}:abs`, `${abs}:text/plain`]);
  assert.equal(refused.code, 2, refused.stderr);
  assert.match(refused.stderr, /--disable-path-validation/);
  const pushed = JSON.parse(ok(await runCli(['push', '--plain-http', '--disable-path-validation', `${repo}:abs`, `${abs}:text/plain`, '--format', 'json']), 'push --disable-path-validation').stdout);
  assert.equal(pushed.blobs.find((b: { title?: string }) => b.title !== undefined).title, abs);
  const out = await makeTempDir(t);
  const pulled = await runCli(['pull', '--plain-http', `${repo}:abs`, '-o', out]);
  assert.equal(pulled.code, 7, `an absolute title is never written: ${pulled.stderr}`);
  assert.deepEqual(await readdir(out), []);

  ok(await runCli(['push', '--plain-http', `${repo}:v1`, FILTER]), 'push');
  const att = JSON.parse(ok(await runCli(['attach', '--plain-http', '--artifact-type', 'text/x', `${repo}:v1`, 'docs/notes.txt', '--format', 'json'], { cwd: work }), 'attach docs/notes.txt').stdout);
  const m = JSON.parse(ok(await runCli(['manifest', 'fetch', '--plain-http', `${repo}@${att.digest}`]), 'fetch').stdout);
  assert.equal(m.layers[0].annotations['org.opencontainers.image.title'], 'docs/notes.txt', 'titled with the cleaned path as typed, as oras loadFiles does');
  const absAttach = await runCli(['attach', '--plain-http', '--artifact-type', 'text/x', `${repo}:v1`, abs]);
  assert.equal(absAttach.code, 2, absAttach.stderr);
  ok(await runCli(['attach', '--plain-http', '--artifact-type', 'text/x', '--disable-path-validation', `${repo}:v1`, abs]), 'attach --disable-path-validation');
});

test('--oci-layout-path PATH takes the layout from the flag and only the tag or digest from the argument; not with --oci-layout', async (t) => {
  const work = await makeTempDir(t);
  const lay = join(work, 'lay');
  ok(await runCli(['push', '--oci-layout-path', lay, 'v1,latest', FILTER]), 'push --oci-layout-path');
  const digest = ok(await runCli(['resolve', '--oci-layout-path', lay, 'latest']), 'resolve').stdout.trim();
  assert.match(digest, /^sha256:[a-f0-9]{64}$/);
  const out = join(work, 'out');
  ok(await runCli(['pull', '--oci-layout-path', lay, digest, '-o', out]), 'pull by digest');
  assert.deepEqual(await readFile(join(out, 'example-filter.wasm')), await readFile(FILTER));
  const tags = ok(await runCli(['repo', 'tags', '--oci-layout-path', lay, '']), 'repo tags').stdout.trim().split('\n');
  assert.deepEqual(tags.sort(), ['latest', 'v1']);
  const copied = join(work, 'copy');
  ok(await runCli(['copy', '--from-oci-layout-path', lay, 'v1', '--to-oci-layout-path', copied, 'v2']), 'copy between layout paths');
  assert.equal(ok(await runCli(['resolve', '--oci-layout', `${copied}:v2`]), 'resolve copy').stdout.trim(), digest);
  const both = await runCli(['resolve', '--oci-layout', '--oci-layout-path', lay, 'v1']);
  assert.equal(both.code, 2, both.stderr);
  assert.match(both.stderr, /cannot be used together/);
});

test('pull -T/--allow-path-traversal is refused with exit 7 and says why, before anything is fetched', async (t) => {
  const out = await makeTempDir(t);
  for (const flag of ['-T', '--allow-path-traversal']) {
    const r = await runCli(['pull', flag, 'localhost:1/never:v1', '-o', out]);
    assert.equal(r.code, 7, r.stderr);
    assert.match(r.stderr, /never writes outside the output directory/);
  }
  assert.deepEqual(await readdir(out), []);
});
