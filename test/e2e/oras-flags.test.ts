// oras 1.3 flags that scripts use (cmd/oras/root/*.go), against a real Distribution.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { runCli, type CliResult } from '../helpers/cli.js';
import { startDistribution } from '../helpers/distribution.js';
import { examplesDir } from '../helpers/paths.js';

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
