import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';
import { countRequestsNow, startDistribution, type RunningRegistry } from '../helpers/distribution.js';
import { padModule } from '../helpers/wasm-padding.js';
import { examplesDir } from '../helpers/paths.js';
import { makeTempDir } from '../helpers/tmp.js';
import { ERROR_CODES } from '../../src/errors.js';

// Issue 15: the node agent, `wasm-oci agent`, against real CNCF Distribution.

const sha256 = (b: Uint8Array): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;

/** A valid module, distinct from every other one made here (a random custom section). */
async function makeModule(extraBytes = 1000): Promise<Buffer> {
  return padModule(await readFile(join(examplesDir, 'example-filter.wasm')), randomBytes(extraBytes));
}

/** Pushes `module` as REPO:TAG with wasm-oci push; resolves to the manifest digest. */
async function pushModule(reg: RunningRegistry, dir: string, ref: string, module: Buffer, extra: string[] = []): Promise<string> {
  const file = join(dir, `push-${randomBytes(4).toString('hex')}.wasm`);
  await writeFile(file, module);
  const r = await runCli(['push', ...(reg.tls ? ['--ca-file', reg.caFile!] : ['--plain-http']), ...extra, '--format', 'json', `${reg.host}/${ref}`, file], { cwd: dir });
  assert.equal(r.code, 0, r.stderr);
  return (JSON.parse(r.stdout) as { digest: string }).digest;
}

test('agent --once writes every filter byte for byte, then a second pass asks one HEAD per tag and nothing for a digest', async (t) => {
  const reg = await startDistribution({ mode: 'plain', t });
  const dir = await makeTempDir(t);
  const a = await makeModule();
  const b = await makeModule();
  await pushModule(reg, dir, 'filters/a:v1', a);
  const bDigest = await pushModule(reg, dir, 'filters/b:v1', b);
  const out = join(dir, 'out');
  const config = join(dir, 'filters.yaml');
  await writeFile(config, `filters:\n  - name: alpha\n    image: ${reg.host}/filters/a:v1\n  - name: beta\n    image: ${reg.host}/filters/b@${bDigest}\n    rootId: beta_root\n`);

  const first = await runCli(['agent', '--config', config, '--output', out, '--once', '--plain-http', '--format', 'json']);
  assert.equal(first.code, 0, first.stderr);
  assert.deepEqual(await readFile(join(out, 'alpha.wasm')), a);
  assert.deepEqual(await readFile(join(out, 'beta.wasm')), b);
  const doc = JSON.parse(first.stdout) as { ready: boolean; filters: Array<{ name: string; moduleDigest: string; currentDigest: string; rootId?: string }> };
  assert.equal(doc.ready, true);
  assert.equal(doc.filters.find((f) => f.name === 'alpha')!.moduleDigest, sha256(a));
  assert.equal(doc.filters.find((f) => f.name === 'beta')!.currentDigest, bDigest);
  assert.equal(doc.filters.find((f) => f.name === 'beta')!.rootId, 'beta_root');
  // Nothing but the filters and the agent's own state file (no temp file left).
  assert.deepEqual((await readdir(out)).sort(), ['.wasm-oci-agent-state.json', 'alpha.wasm', 'beta.wasm']);

  const before = reg.requests().length;
  const second = await runCli(['agent', '--config', config, '--output', out, '--once', '--plain-http']);
  assert.equal(second.code, 0, second.stderr);
  const entries = await waitForLogged(reg, before + 1);
  assert.deepEqual(entries.map((e) => `${e.method} ${e.path}`), ['HEAD /v2/filters/a/manifests/v1'], 'one HEAD for the tag, nothing for the digest reference');
});

/** The registry's access-log entries after index `from`, once at least `count` exist (Distribution logs after answering). */
async function waitForLogged(reg: RunningRegistry, count: number, from = count - 1): Promise<ReturnType<RunningRegistry['requests']>> {
  const deadline = Date.now() + 5000;
  while (reg.requests().length < count && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  // Let a request that should not have happened show up too, if it is in flight.
  await new Promise((r) => setTimeout(r, 200));
  return reg.requests().slice(from).filter((e) => e.path !== '/v2/');
}

test('agent --once: exit 0 only when every filter is in place; the others are still written; a foreign file is never touched', async (t) => {
  const reg = await startDistribution({ mode: 'plain', t });
  const dir = await makeTempDir(t);
  const a = await makeModule();
  await pushModule(reg, dir, 'filters/a:v1', a);
  const out = join(dir, 'out');
  const { mkdir } = await import('node:fs/promises');
  await mkdir(out);
  const foreign = join(out, 'someone-else.wasm');
  await writeFile(foreign, 'not ours');
  const foreignBefore = await stat(foreign);
  const config = join(dir, 'filters.json');
  await writeFile(config, JSON.stringify({ filters: [{ name: 'alpha', image: `${reg.host}/filters/a:v1` }, { name: 'missing', image: `${reg.host}/filters/nope:v1` }] }));

  const r = await runCli(['agent', '--config', config, '--output', out, '--once', '--plain-http']);
  assert.equal(r.code, ERROR_CODES.E_NOT_FOUND.exitCode, r.stderr);
  assert.match(r.stderr, /1 of 2 filters not in place: missing/);
  assert.match(r.stdout, /^In place alpha /m);
  assert.match(r.stdout, /^Not in place missing: E_NOT_FOUND/m);
  assert.deepEqual(await readFile(join(out, 'alpha.wasm')), a);

  // The filter taken out of the config: its file goes; the foreign file stays as it was.
  await writeFile(config, JSON.stringify({ filters: [] }));
  const again = await runCli(['agent', '--config', config, '--output', out, '--once', '--plain-http']);
  assert.equal(again.code, 0, again.stderr);
  assert.deepEqual((await readdir(out)).sort(), ['.wasm-oci-agent-state.json', 'someone-else.wasm']);
  const foreignAfter = await stat(foreign);
  assert.equal(await readFile(foreign, 'utf8'), 'not ours');
  assert.equal(foreignAfter.mtimeMs, foreignBefore.mtimeMs);
  assert.equal(foreignAfter.ino, foreignBefore.ino);

  // A filter named like the foreign file is refused, and the file is left alone.
  await writeFile(config, JSON.stringify({ filters: [{ name: 'someone-else', image: `${reg.host}/filters/a:v1` }] }));
  const clash = await runCli(['agent', '--config', config, '--output', out, '--once', '--plain-http']);
  assert.equal(clash.code, ERROR_CODES.E_INVALID_INPUT.exitCode, clash.stderr);
  assert.match(clash.stdout, /exists and was not written by the agent/);
  assert.equal(await readFile(foreign, 'utf8'), 'not ours');

  // A config that does not parse: a usage-class error, nothing written.
  await writeFile(config, '{"filters": [');
  const bad = await runCli(['agent', '--config', config, '--output', out, '--once', '--plain-http']);
  assert.equal(bad.code, ERROR_CODES.E_INVALID_INPUT.exitCode, bad.stderr);
  assert.match(bad.stderr, /config refused/);
  assert.equal(countRequestsNow(reg, { method: 'GET', pathIncludes: '/filters/a/blobs/' }), 1, 'the blob was fetched once in all these runs');
});
