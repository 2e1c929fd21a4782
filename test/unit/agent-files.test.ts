import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { notReadyReasons } from '../../src/agent/http.js';
import { STATE_FILE_NAME } from '../../src/agent/state.js';
import { WasmOciError } from '../../src/errors.js';
import { digestOf } from '../../src/oci/digest.js';
import { MEDIA_TYPES } from '../../src/oci/media-types.js';
import { AgentHarness, moduleFor, seededRandom } from '../helpers/agent-harness.js';
import { FakeClock } from '../helpers/fake-clock.js';

// Issue 15: what the agent does to the files of its output directory: a failure keeps the last
// good file, a removed filter loses only a file the agent wrote (its state file says which).

const INTERVAL = 30_000;

async function state(out: string): Promise<Record<string, { file: string; digest: string }>> {
  return (JSON.parse(await readFile(join(out, STATE_FILE_NAME), 'utf8')) as { files: Record<string, { file: string; digest: string }> }).files;
}

test('agent: every kind of failure keeps the last good file whole, leaves no temp file, and shows in the status; the next good artifact replaces it', async (t) => {
  const h = await AgentHarness.create(t, { intervalMs: INTERVAL, random: seededRandom(11) });
  const v1 = h.reg.pushModule('filters/a', 'v1', moduleFor('a1'));
  await h.writeConfig({ a: v1.reference });
  await h.start();
  assert.deepEqual(await h.file('a.wasm'), moduleFor('a1'));
  const ino = (await stat(join(h.out, 'a.wasm'))).ino;

  const faults: Array<{ what: string; code: string; set(): void; clear(): void }> = [
    { what: 'registry down', code: 'E_NETWORK', set: () => h.reg.down(), clear: () => h.reg.up() },
    {
      what: 'credentials refused',
      code: 'E_AUTH',
      set: () => { h.reg.failure = new WasmOciError('E_AUTH', 'registry.test refused the credentials of pull secret "regcred"'); },
      clear: () => h.reg.up(),
    },
    {
      what: 'the tag gone',
      code: 'E_NOT_FOUND',
      set: () => h.reg.untag('filters/a', 'v1'),
      clear: () => h.reg.pushModule('filters/a', 'v1', moduleFor('a1')),
    },
    {
      what: 'the tag moved to an artifact without a module',
      code: 'E_UNSUPPORTED',
      set: () => h.reg.pushArtifact('filters/a', 'v1', [{ mediaType: MEDIA_TYPES.ociLayerTar, bytes: Buffer.from('not a module') }]),
      clear: () => h.reg.pushModule('filters/a', 'v1', moduleFor('a1')),
    },
    {
      what: 'the tag moved, and the module is served with other bytes',
      code: 'E_DIGEST_MISMATCH',
      set: () => {
        h.reg.pushModule('filters/a', 'v1', moduleFor('a2'));
        const bad = Buffer.from(moduleFor('a2'));
        bad[bad.length - 1] ^= 0xff;
        h.reg.corrupt.set(digestOf(moduleFor('a2')), bad);
      },
      clear: () => {
        h.reg.corrupt.clear();
        h.reg.pushModule('filters/a', 'v1', moduleFor('a1'));
      },
    },
  ];
  for (const fault of faults) {
    fault.set();
    await h.advanceToNextCheck('a');
    await h.advanceToNextCheck('a');
    const s = h.filter('a');
    assert.equal(s.ready, false, fault.what);
    assert.equal(s.lastError?.code, fault.code, `${fault.what}: ${s.lastError?.message}`);
    assert.equal(s.consecutiveFailures, 2, fault.what);
    assert.equal(s.currentDigest, v1.manifestDigest, `${fault.what}: the file in place is still the one of v1`);
    assert.deepEqual(notReadyReasons(h.agent.status()), [`a: ${s.reason}`], `${fault.what}: /readyz names the filter`);
    assert.deepEqual(await h.file('a.wasm'), moduleFor('a1'), `${fault.what}: the last good file is in place`);
    assert.equal((await stat(join(h.out, 'a.wasm'))).ino, ino, `${fault.what}: and never rewritten`);
    assert.deepEqual((await readdir(h.out)).sort(), [STATE_FILE_NAME, 'a.wasm'].sort(), `${fault.what}: no temp file left`);
    fault.clear();
    await h.advanceToNextCheck('a');
    assert.equal(h.filter('a').ready, true, `${fault.what}: recovered on its own`);
  }
  assert.equal(h.reg.count({ method: 'GET', kind: 'blob', reference: digestOf(moduleFor('a1')) }), 1, 'the good module was fetched once in all that');

  const v2 = h.reg.pushModule('filters/a', 'v1', moduleFor('a2'));
  await h.advanceToNextCheck('a');
  assert.deepEqual(await h.file('a.wasm'), moduleFor('a2'), 'a good new artifact replaces the file');
  assert.equal(h.filter('a').currentDigest, v2.manifestDigest);
  assert.equal((await state(h.out)).a!.digest, digestOf(moduleFor('a2')));
});

test('agent: a filter taken out of the config loses its file; foreign files, a foreign file at a filter\'s name and a file replaced by someone else are never touched', async (t) => {
  const h = await AgentHarness.create(t, { intervalMs: INTERVAL, random: seededRandom(13) });
  const images = Object.fromEntries(['a', 'b', 'c', 'other'].map((n) => [n, h.reg.pushModule(`filters/${n}`, 'v1', moduleFor(n)).reference]));
  // What was in the directory before the agent: Envoy's own file, a note, a folder.
  await writeFile(join(h.out, 'other.wasm'), 'a module someone else put here');
  await writeFile(join(h.out, 'README.txt'), 'hands off');
  await mkdir(join(h.out, 'archive'));
  await writeFile(join(h.out, 'archive', 'b.wasm'), 'old');
  await h.writeConfig(images);
  await h.start();
  for (const n of ['a', 'b', 'c']) assert.deepEqual(await h.file(`${n}.wasm`), moduleFor(n));
  const other = h.filter('other');
  assert.equal(other.ready, false);
  assert.equal(other.lastError?.code, 'E_INVALID_INPUT');
  assert.match(other.reason ?? '', /exists and was not written by the agent; it is left alone/);
  assert.equal(await readFile(join(h.out, 'other.wasm'), 'utf8'), 'a module someone else put here');
  assert.deepEqual(Object.keys(await state(h.out)).sort(), ['a', 'b', 'c'], 'the state records what the agent wrote');

  // Someone replaces c.wasm with their own file (a rename over it: another file at the name).
  await writeFile(join(h.out, 'c.tmp'), 'my own c');
  await rename(join(h.out, 'c.tmp'), join(h.out, 'c.wasm'));
  const { c: _c, other: _o, b: _b, ...kept } = images;
  void _c; void _o; void _b;
  await h.writeConfig(kept);
  h.agent.requestReload();
  await h.clock.idle();
  assert.deepEqual(h.agent.status().filters.map((f) => f.name), ['a']);
  assert.equal(await h.file('b.wasm'), undefined, 'b.wasm, which the agent wrote, is removed');
  assert.equal(await readFile(join(h.out, 'c.wasm'), 'utf8'), 'my own c', 'c.wasm, replaced by someone else, is left');
  assert.equal(await readFile(join(h.out, 'other.wasm'), 'utf8'), 'a module someone else put here', 'other.wasm was never the agent\'s');
  assert.equal(await readFile(join(h.out, 'README.txt'), 'utf8'), 'hands off');
  assert.equal(await readFile(join(h.out, 'archive', 'b.wasm'), 'utf8'), 'old');
  assert.deepEqual(await h.file('a.wasm'), moduleFor('a'));
  assert.deepEqual(Object.keys(await state(h.out)), ['a']);
  assert.ok(h.logs.some((l) => l.level === 'warn' && l.filter === 'c' && /not removing/.test(l.msg)), 'the file left alone is logged');
});

test('agent: a file the agent wrote and someone then edited in place is not removed with its filter', async (t) => {
  const h = await AgentHarness.create(t, { intervalMs: INTERVAL, random: seededRandom(17) });
  await h.writeConfig({ a: h.reg.pushModule('filters/a', 'v1', moduleFor('a')).reference, b: h.reg.pushModule('filters/b', 'v1', moduleFor('b')).reference });
  await h.start();
  // Same inode, other bytes (an editor writing in place; or a new file that got the freed inode).
  await writeFile(join(h.out, 'b.wasm'), 'patched by hand');
  await h.writeConfig({ a: h.reg.pushModule('filters/a', 'v1', moduleFor('a')).reference });
  h.agent.requestReload();
  await h.clock.idle();
  assert.equal(await readFile(join(h.out, 'b.wasm'), 'utf8'), 'patched by hand', 'what the agent did not write is not removed');
  assert.deepEqual(Object.keys(await state(h.out)), ['a'], 'and no longer recorded as the agent\'s');
});

test('agent: a file found at a filter\'s name with exactly the module\'s bytes is adopted, not fetched, and not removed later: the agent did not write it', async (t) => {
  const h = await AgentHarness.create(t, { intervalMs: INTERVAL, random: seededRandom(19) });
  const x = h.reg.pushModule('filters/x', 'v1', moduleFor('x'));
  await writeFile(join(h.out, 'x.wasm'), moduleFor('x'));
  await h.writeConfig({ x: x.reference });
  await h.start();
  assert.equal(h.filter('x').ready, true);
  assert.equal(h.reg.count({ method: 'GET', kind: 'blob' }), 0, 'no blob fetched for a file already in place');
  await h.writeConfig({});
  h.agent.requestReload();
  await h.clock.idle();
  assert.deepEqual(await h.file('x.wasm'), moduleFor('x'), 'the adopted file stays: it was there before the agent');
  assert.deepEqual(await state(h.out), {});

  // Once the agent has written the file itself (a tag move), it is the agent's to remove.
  await h.writeConfig({ x: x.reference });
  h.agent.requestReload();
  await h.clock.idle();
  h.reg.pushModule('filters/x', 'v1', moduleFor('x2'));
  await h.advanceToNextCheck('x');
  assert.deepEqual(await h.file('x.wasm'), moduleFor('x2'));
  await h.writeConfig({});
  h.agent.requestReload();
  await h.clock.idle();
  assert.equal(await h.file('x.wasm'), undefined);
});

test('agent: a filter taken out while the agent was stopped loses its file at the first good config after the restart, never before one', async (t) => {
  const first = await AgentHarness.create(t, { intervalMs: INTERVAL });
  const a = first.reg.pushModule('filters/a', 'v1', moduleFor('a')).reference;
  const b = first.reg.pushModule('filters/b', 'v1', moduleFor('b')).reference;
  await first.writeConfig({ a, b });
  await first.start();
  await first.stop();

  await writeFile(first.configPath, 'filters: [ {name: a, image: ');
  const clock = new FakeClock(first.clock.now() + 60_000);
  const h = await AgentHarness.create(t, { intervalMs: INTERVAL, reg: first.reg, out: first.out, configPath: first.configPath, clock });
  await h.start();
  assert.equal(h.agent.status().configLoaded, false);
  assert.deepEqual(await h.file('b.wasm'), moduleFor('b'), 'no config, nothing removed');
  assert.deepEqual(await h.file('a.wasm'), moduleFor('a'));

  await h.writeConfig({ a });
  await h.advance(INTERVAL);
  assert.equal(h.agent.status().configLoaded, true);
  assert.equal(await h.file('b.wasm'), undefined, 'b, recorded in the state and in no config, is removed');
  assert.deepEqual(await h.file('a.wasm'), moduleFor('a'));
  assert.deepEqual(Object.keys(await state(h.out)), ['a']);
});
