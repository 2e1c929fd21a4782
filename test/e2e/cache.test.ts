// `pull --cache-dir` against the real Distribution registry: the access log is the witness of
// what was fetched over the network.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runCli, type CliResult } from '../helpers/cli.js';
import { countRequests, startDistribution, type RunningRegistry } from '../helpers/distribution.js';
import { examplesDir } from '../helpers/paths.js';
import { skopeoInspectRaw, skopeoOptsFor } from '../helpers/skopeo.js';
import { makeTempDir } from '../helpers/tmp.js';

const exampleWasm = join(examplesDir, 'example-filter.wasm');
const exampleBytes = await readFile(exampleWasm);
const sha256 = (b: Uint8Array | string): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const moduleDigest = sha256(exampleBytes);

function ok(r: CliResult, what: string): CliResult {
  assert.equal(r.code, 0, `${what} failed (${r.code}):\n${r.stdout}\n${r.stderr}`);
  return r;
}

/** Pushes the example filter (solo) and returns the manifest digest and its blob digests, as skopeo reads them. */
async function pushExample(reg: RunningRegistry, repo: string): Promise<{ ref: string; blobs: string[] }> {
  ok(await runCli(['push', '--plain-http', `${reg.host}/${repo}:v1`, exampleWasm, '--runtime-config', join(examplesDir, 'runtime-config.json')]), 'push');
  const raw = await skopeoInspectRaw(`docker://${reg.host}/${repo}:v1`, skopeoOptsFor(reg));
  const manifest = JSON.parse(raw) as { layers: Array<{ digest: string }> };
  return { ref: `${reg.host}/${repo}@${sha256(raw)}`, blobs: [...new Set(manifest.layers.map((l) => l.digest))].sort() };
}

const blobGets = (reg: RunningRegistry, digest = ''): Promise<number> =>
  countRequests(reg, { method: 'GET', pathIncludes: `/blobs/${digest}` });

test('a second pull --cache-dir of the same digest sends no blob GET to the registry', async (t) => {
  const reg = await startDistribution({ mode: 'plain', t });
  const dir = await makeTempDir(t);
  const cache = join(dir, 'cache');
  const { ref, blobs } = await pushExample(reg, 'cache/example');
  assert.equal(blobs.length, 2, 'solo: runtime config and module');

  const before = await blobGets(reg);
  ok(await runCli(['pull', '--plain-http', ref, '-o', join(dir, 'out1'), '--cache-dir', cache]), 'first pull');
  assert.equal(await blobGets(reg) - before, 2, 'the first pull fetches both blobs');
  assert.deepEqual((await readdir(join(cache, 'sha256'))).sort(), blobs.map((d) => d.slice(7)), 'DIR/sha256/<hex> per blob, nothing else');

  const blobsBefore = await blobGets(reg);
  const manifestsBefore = await countRequests(reg, { method: 'GET', pathIncludes: '/manifests/' });
  const second = ok(await runCli(['pull', '--plain-http', ref, '-o', join(dir, 'out2'), '--cache-dir', cache]), 'second pull');
  assert.equal(await blobGets(reg) - blobsBefore, 0, 'no blob GET on the second pull');
  assert.ok(await countRequests(reg, { method: 'GET', pathIncludes: '/manifests/' }) > manifestsBefore, 'the manifest still comes from the registry');
  assert.match(second.stdout, new RegExp(`Digest: ${ref.split('@')[1]}`));
  assert.deepEqual(await readFile(join(dir, 'out2', 'example-filter.wasm')), exampleBytes);
  assert.deepEqual(await readFile(join(dir, 'out2', 'runtime-config.json')), await readFile(join(dir, 'out1', 'runtime-config.json')));

  // The same cache through the environment variable.
  const envBefore = await blobGets(reg);
  ok(await runCli(['pull', '--plain-http', ref, '-o', join(dir, 'out3')], { env: { WASM_OCI_CACHE_DIR: cache } }), 'pull with WASM_OCI_CACHE_DIR');
  assert.equal(await blobGets(reg) - envBefore, 0, 'WASM_OCI_CACHE_DIR is the cache when --cache-dir is absent');
  assert.deepEqual(await readFile(join(dir, 'out3', 'example-filter.wasm')), exampleBytes);
});

test('a corrupted cache entry is detected and fetched again from the registry; the pull succeeds', async (t) => {
  const reg = await startDistribution({ mode: 'plain', t });
  const dir = await makeTempDir(t);
  const cache = join(dir, 'cache');
  const { ref } = await pushExample(reg, 'cache/corrupt');
  ok(await runCli(['pull', '--plain-http', ref, '-o', join(dir, 'out1'), '--cache-dir', cache]), 'first pull');

  const entry = join(cache, 'sha256', moduleDigest.slice(7));
  const corrupted = Buffer.from(await readFile(entry));
  corrupted[100] ^= 0x01;
  await writeFile(entry, corrupted);

  const moduleBefore = await blobGets(reg, moduleDigest);
  const allBefore = await blobGets(reg);
  const r = ok(await runCli(['pull', '--plain-http', ref, '-o', join(dir, 'out2'), '--cache-dir', cache]), 'pull over a corrupt entry');
  assert.equal(await blobGets(reg, moduleDigest) - moduleBefore, 1, 'the corrupted blob is fetched again');
  assert.equal(await blobGets(reg) - allBefore, 1, 'and only that one');
  assert.match(r.stderr, new RegExp(`cache entry for ${moduleDigest} is corrupt`));
  assert.deepEqual(await readFile(join(dir, 'out2', 'example-filter.wasm')), exampleBytes, 'the module written is the genuine one');
  assert.equal(sha256(await readFile(entry)), moduleDigest, 'the entry is repaired');

  const after = await blobGets(reg);
  ok(await runCli(['pull', '--plain-http', ref, '-o', join(dir, 'out3'), '--cache-dir', cache]), 'pull after repair');
  assert.equal(await blobGets(reg) - after, 0, 'the repaired entry serves the next pull');
});
