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
