import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';
import { startDistribution } from '../helpers/distribution.js';
import { padModule } from '../helpers/wasm-padding.js';
import { examplesDir } from '../helpers/paths.js';
import { randomBytes } from 'node:crypto';
import { makeTempDir } from '../helpers/tmp.js';
import { isManifestRequest, startFaultProxy } from '../helpers/fault-proxy.js';
import { ERROR_CODES } from '../../src/errors.js';

// Issue 14: several references in one pull (a CI job or a node agent moving many filters).
test('pull of several references writes each into DIR/<name>/, byte for byte; REF=NAME and --from-file name them', async (t) => {
  const reg = await startDistribution({ mode: 'plain', t });
  const dir = await makeTempDir(t);
  const modules: Buffer[] = [];
  for (const name of ['a', 'b', 'c']) {
    await writeFile(join(dir, `${name}.wasm`), padModule(await readFile(join(examplesDir, 'example-filter.wasm')), randomBytes(1000)));
    modules.push(await readFile(join(dir, `${name}.wasm`)));
    const pushed = await runCli(['push', '--plain-http', `${reg.host}/filters/${name}:v1`, `${name}.wasm`], { cwd: dir });
    assert.equal(pushed.code, 0, pushed.stderr);
  }
  const list = join(dir, 'list.txt');
  await writeFile(list, `# the third one, renamed\n${reg.host}/filters/c:v1=c-canary\n`);
  const out = join(dir, 'out');
  const r = await runCli(['pull', '--plain-http', '--format', 'json', `${reg.host}/filters/a:v1`, `${reg.host}/filters/b:v1=bee`, '--from-file', list, '-o', out]);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual((await readdir(out)).sort(), ['a', 'bee', 'c-canary']);
  assert.deepEqual(await readFile(join(out, 'a', 'a.wasm')), modules[0]);
  assert.deepEqual(await readFile(join(out, 'bee', 'b.wasm')), modules[1]);
  assert.deepEqual(await readFile(join(out, 'c-canary', 'c.wasm')), modules[2]);
  const doc = JSON.parse(r.stdout);
  // oras's reference is NAME@digest; the tag pulled is our extra `tag`.
  assert.deepEqual(doc.artifacts.map((a: { reference: string }) => a.reference.replace(/@sha256:[a-f0-9]{64}$/, '')), [`${reg.host}/filters/a`, `${reg.host}/filters/b`, `${reg.host}/filters/c`]);
  assert.deepEqual(doc.artifacts.map((a: { tag: string }) => a.tag), ['v1', 'v1', 'v1']);
  // Each artifact in its own directory: runtime-config.json files never overwrite each other.
  assert.deepEqual((await readdir(join(out, 'a'))).sort(), ['a.wasm', 'runtime-config.json']);
});

test('two references that would share a directory are refused before anything is fetched', async (t) => {
  const reg = await startDistribution({ mode: 'plain', t });
  const dir = await makeTempDir(t);
  const before = reg.requests().length;
  const r = await runCli(['pull', '--plain-http', `${reg.host}/one/filter:v1`, `${reg.host}/two/filter:v1`, '-o', join(dir, 'out')]);
  assert.equal(r.code, ERROR_CODES.E_USAGE.exitCode, r.stderr);
  assert.match(r.stderr, /would both be written into/);
  assert.equal(reg.requests().length, before, 'no request was sent');
  await assert.rejects(readdir(join(dir, 'out')));
});

// Issue 14: ten small filters are bound by round trips; one pull moves several references at
// once (8) unless --concurrency says otherwise. A proxy holds every manifest answer 400 ms: the
// references whose manifest GET arrived before the first answer went out were in flight together.
test('a pull of several references asks for up to 8 manifests at once; an explicit --concurrency bounds it', async (t) => {
  const reg = await startDistribution({ mode: 'plain', t });
  const dir = await makeTempDir(t);
  const names = Array.from({ length: 10 }, (_, i) => `f${i}`);
  for (const name of names) {
    await writeFile(join(dir, `${name}.wasm`), padModule(await readFile(join(examplesDir, 'example-filter.wasm')), randomBytes(500)));
    const pushed = await runCli(['push', '--plain-http', `${reg.host}/many/${name}:v1`, `${name}.wasm`], { cwd: dir });
    assert.equal(pushed.code, 0, pushed.stderr);
  }
  const proxy = await startFaultProxy({ upstream: reg.url });
  t.after(() => proxy.close());
  const inFlightAtFirstAnswer = async (extra: string[]) => {
    proxy.requests.length = 0;
    proxy.clearFaults();
    proxy.addFault({ match: (r) => r.method === 'GET' && isManifestRequest(r), fault: { kind: 'stall', ms: 400 } });
    const out = join(dir, `out-${extra.join('') || 'default'}`);
    const r = await runCli(['pull', '--plain-http', ...extra, ...names.map((n) => `${proxy.host}/many/${n}:v1`), '-o', out]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual((await readdir(out)).sort(), [...names].sort());
    const manifests = proxy.requests.filter((q) => q.method === 'GET' && isManifestRequest(q));
    assert.equal(manifests.length, 10);
    const firstAnswer = Math.min(...manifests.map((q) => q.answeredAt ?? Infinity));
    return manifests.filter((q) => q.arrivedAt < firstAnswer).length;
  };
  assert.equal(await inFlightAtFirstAnswer([]), 8);
  assert.equal(await inFlightAtFirstAnswer(['--concurrency', '2']), 2);
});
