import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readlink, writeFile } from 'node:fs/promises';
import { createRequire, syncBuiltinESMExports } from 'node:module';
import { join } from 'node:path';
import { loadAgentConfig } from '../../src/agent/config.js';
import { watchConfig } from '../../src/agent/watch.js';
import { AgentHarness, moduleFor, seededRandom } from '../helpers/agent-harness.js';
import { atomicWriterProject } from '../helpers/kube-atomic-writer.js';
import { makeTempDir } from '../helpers/tmp.js';

// Issue 15: the agent's config, re-read on request (SIGHUP, a watch event) and every interval:
// a config that does not load is refused and the last good one stays in force.

const INTERVAL = 30_000;

async function setup(t: Parameters<typeof AgentHarness.create>[0]): Promise<{ h: AgentHarness; images: Record<string, string> }> {
  const h = await AgentHarness.create(t, { intervalMs: INTERVAL, random: seededRandom(23) });
  const images = Object.fromEntries(['a', 'b', 'c'].map((n) => [n, h.reg.pushModule(`filters/${n}`, 'v1', moduleFor(n)).reference]));
  return { h, images };
}

test('agent: a config that does not load is refused with one clear log line; the last good config stays in force, filters still checked and served', async (t) => {
  const { h, images } = await setup(t);
  await h.writeConfig({ a: images.a!, b: images.b! });
  await h.start();
  const bad: Array<{ text: string; says: RegExp }> = [
    { text: 'filters: [ {name: a, image: ', says: /does not parse/ },
    { text: '', says: /is empty/ },
    { text: 'filters: {a: 1}\n', says: /`filters` is not a list/ },
    // (after another error: a refusal is logged when it differs from the one before)
    { text: '# every line commented out\n', says: /is empty/ },
    { text: `filters:\n  - name: a\n    image: ${images.a}\n  - name: a\n    image: ${images.b}\n`, says: /two filters are named "a"/ },
    { text: `filters:\n  - name: a\n    image: ${images.a}\n    pullsecret: x\n`, says: /unknown field "pullsecret"/ },
    { text: 'filters:\n  - name: ../a\n    image: registry.test/filters/a:v1\n', says: /must be a file name/ },
    { text: 'filters:\n  - name: a\n    image: registry.test/filters/a\n', says: /names no tag or digest/ },
  ];
  let failures = 0;
  for (const { text, says } of bad) {
    await writeFile(h.configPath, text);
    const logsBefore = h.logs.length;
    h.agent.requestReload();
    await h.clock.idle();
    failures++;
    const s = h.agent.status();
    assert.match(s.configError ?? '', says, JSON.stringify(text));
    assert.equal(s.configReloads.failure, failures);
    assert.equal(s.configLoaded, true, 'the last good config is still loaded');
    assert.deepEqual(s.filters.map((f) => f.name), ['a', 'b'], `${JSON.stringify(text)}: the last good filters stay`);
    assert.equal(s.ready, true, 'and ready: what is served is still right');
    const refused = h.logs.slice(logsBefore).filter((l) => l.level === 'error');
    assert.equal(refused.length, 1, 'one log line per refused config');
    assert.equal(refused[0]!.msg, 'config refused; the last good config stays in force');
    assert.match(String(refused[0]!.error), says);
    assert.deepEqual(await h.file('a.wasm'), moduleFor('a'));
    assert.deepEqual(await h.file('b.wasm'), moduleFor('b'));
  }
  // The same broken config read again every interval: refused each time, logged once.
  const mark = h.reg.requests.length;
  const logsBefore = h.logs.length;
  await h.advance(3 * INTERVAL);
  assert.ok(h.agent.status().configReloads.failure >= failures + 3, 'the interval re-reads the config');
  assert.equal(h.logs.slice(logsBefore).filter((l) => l.msg.startsWith('config refused')).length, 0, 'an unchanged refusal is not logged again');
  assert.ok(h.reg.count({ method: 'HEAD', repository: 'filters/a' }, mark) >= 3, 'the filters of the last good config are still checked');
  assert.ok(h.reg.count({ method: 'HEAD', repository: 'filters/b' }, mark) >= 3);

  // A good config again: applied, and the refusal cleared.
  await h.writeConfig({ a: images.a!, c: images.c! });
  h.agent.requestReload();
  await h.clock.idle();
  const s = h.agent.status();
  assert.equal(s.configError, undefined);
  assert.deepEqual(s.filters.map((f) => f.name).sort(), ['a', 'c']);
  assert.equal(await h.file('b.wasm'), undefined);
  assert.deepEqual(await h.file('c.wasm'), moduleFor('c'));
});

test('agent: an explicit empty list removes every filter (only an empty document is refused)', async (t) => {
  const { h, images } = await setup(t);
  await h.writeConfig({ a: images.a! });
  await h.start();
  await writeFile(h.configPath, 'filters: []\n');
  h.agent.requestReload();
  await h.clock.idle();
  assert.equal(h.agent.status().configError, undefined);
  assert.deepEqual(h.agent.status().filters, []);
  assert.equal(await h.file('a.wasm'), undefined);
});

test('agent: requestReload (what SIGHUP calls) applies a changed config at once, with the clock standing still; without it the interval picks the change up', async (t) => {
  const { h, images } = await setup(t);
  await h.writeConfig({ a: images.a! });
  await h.start();
  const t0 = h.clock.now();

  await h.writeConfig({ a: images.a!, b: images.b! });
  h.agent.requestReload();
  await h.clock.idle();
  assert.equal(h.clock.now(), t0, 'no time has passed');
  assert.deepEqual(await h.file('b.wasm'), moduleFor('b'), 'the added filter is written on the reload');
  assert.ok(h.logs.some((l) => l.msg === 'config loaded' && (l.added as string[]).includes('b')));

  // A changed image: the filter's worker restarts on the new one at once.
  const b2 = h.reg.pushModule('filters/b', 'v2', moduleFor('b2')).reference;
  await h.writeConfig({ a: images.a!, b: b2 });
  h.agent.requestReload();
  await h.clock.idle();
  assert.deepEqual(await h.file('b.wasm'), moduleFor('b2'));
  assert.equal(h.filter('b').image, b2);

  // No reload asked for: the config loop re-reads the file once per interval.
  await h.writeConfig({ b: b2 });
  await h.advance(INTERVAL - 1);
  assert.deepEqual(await h.file('a.wasm'), moduleFor('a'), 'not yet');
  await h.advance(1);
  assert.equal(await h.file('a.wasm'), undefined, 'within one interval');
  assert.deepEqual(h.agent.status().filters.map((f) => f.name), ['b']);
});

test('agent: a ConfigMap directory updated as kubelet updates it reaches the agent through watchConfig and requestReload, with the clock standing still', async (t) => {
  const h = await AgentHarness.create(t, { intervalMs: INTERVAL, random: seededRandom(29), configPath: join(await makeTempDir(t), 'config') });
  await mkdir(h.configPath);
  const images = Object.fromEntries(['a', 'b'].map((n) => [n, h.reg.pushModule(`filters/${n}`, 'v1', moduleFor(n)).reference]));
  const yaml = (names: string[]): string => `filters:\n${names.map((n) => `  - name: ${n}\n    image: ${images[n]}\n`).join('')}`;
  await atomicWriterProject(h.configPath, { 'filters.yaml': yaml(['a']) });
  await h.start();
  assert.deepEqual(await h.file('a.wasm'), moduleFor('a'));
  const watch = await watchConfig(h.configPath, () => h.agent.requestReload(), (err) => assert.fail(err), 20);
  t.after(() => watch.close());

  const t0 = h.clock.now();
  await atomicWriterProject(h.configPath, { 'filters.yaml': yaml(['b']) });
  const deadline = Date.now() + 10_000;
  while ((await h.file('b.wasm')) === undefined || (await h.file('a.wasm')) !== undefined) {
    assert.ok(Date.now() < deadline, 'the ..data swap was followed within 10 s of real time');
    await new Promise((r) => setTimeout(r, 20));
  }
  await h.clock.idle();
  assert.equal(h.clock.now(), t0, 'by the watch, not the interval');
  assert.deepEqual(await h.file('b.wasm'), moduleFor('b'));
  assert.match(h.agent.status().configSource ?? '', /\.\.\d{4}_\d\d_\d\d_\d\d_\d\d_\d\d\./, 'read from the timestamped folder ..data points at');
});

test('agent: --config naming one key of a ConfigMap volume (KEY -> ..data/KEY) follows a ..data swap through watchConfig, though the key\'s own link never changes', async (t) => {
  const volume = join(await makeTempDir(t), 'config');
  await mkdir(volume);
  const h = await AgentHarness.create(t, { intervalMs: INTERVAL, random: seededRandom(31), configPath: join(volume, 'filters.yaml') });
  const images = Object.fromEntries(['a', 'b'].map((n) => [n, h.reg.pushModule(`filters/${n}`, 'v1', moduleFor(n)).reference]));
  const yaml = (names: string[]): string => `filters:\n${names.map((n) => `  - name: ${n}\n    image: ${images[n]}\n`).join('')}`;
  await atomicWriterProject(volume, { 'filters.yaml': yaml(['a']) });
  await h.start();
  assert.deepEqual(await h.file('a.wasm'), moduleFor('a'));
  const watch = await watchConfig(h.configPath, () => h.agent.requestReload(), (err) => assert.fail(err), 20);
  t.after(() => watch.close());

  const t0 = h.clock.now();
  await atomicWriterProject(volume, { 'filters.yaml': yaml(['b']) });
  const deadline = Date.now() + 10_000;
  while ((await h.file('b.wasm')) === undefined || (await h.file('a.wasm')) !== undefined) {
    assert.ok(Date.now() < deadline, 'the ..data swap was followed within 10 s of real time');
    await new Promise((r) => setTimeout(r, 20));
  }
  await h.clock.idle();
  assert.equal(h.clock.now(), t0, 'by the watch, not the interval');
});

test('agent: a ConfigMap directory swapped by kubelet between resolving ..data and reading the folder is read again, from the new folder', async (t) => {
  const volume = await makeTempDir(t);
  const doc = (name: string, v: number): string => `filters:\n  - name: ${name}\n    image: registry.test/filters/${name}:v${v}\n`;
  await atomicWriterProject(volume, { 'a.yaml': doc('a', 1), 'b.yaml': doc('b', 1) });
  // The fault: the first listing of a timestamped folder waits for a whole kubelet update, which
  // ends by removing that folder (AtomicWriter.Write step 12). fs/promises is patched and the
  // agent's ESM bindings synced (module.syncBuiltinESMExports), so the agent's own readdir waits.
  const require = createRequire(import.meta.url);
  const fsp = require('node:fs/promises') as typeof import('node:fs/promises');
  const original = fsp.readdir;
  let swapped = 0;
  (fsp as { readdir: unknown }).readdir = async (...args: Parameters<typeof original>) => {
    if (swapped === 0 && String(args[0]).includes('/..20')) {
      swapped++;
      await atomicWriterProject(volume, { 'a.yaml': doc('a', 2), 'b.yaml': doc('b', 2) });
    }
    return original(...args);
  };
  syncBuiltinESMExports();
  t.after(() => {
    (fsp as { readdir: unknown }).readdir = original;
    syncBuiltinESMExports();
  });
  const { filters, source } = await loadAgentConfig(volume);
  assert.equal(swapped, 1, 'the swap happened mid-read');
  assert.deepEqual(filters.map((f) => f.image), ['registry.test/filters/a:v2', 'registry.test/filters/b:v2'], 'the new version, whole');
  assert.ok(source.includes(await readlink(join(volume, '..data'))), source);
});
