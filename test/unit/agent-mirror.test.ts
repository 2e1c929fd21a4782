import { test } from 'node:test';
import assert from 'node:assert/strict';
import { digestOf } from '../../src/oci/digest.js';
import { AgentHarness, moduleFor, seededRandom } from '../helpers/agent-harness.js';
import { MemoryRegistry } from '../helpers/memory-registry.js';

// Issue 15: --mirror, in the library: a mirror is asked first, the registry when the mirror
// fails, and what either serves is verified.

const INTERVAL = 30_000;

async function setup(t: Parameters<typeof AgentHarness.create>[0]) {
  const mirror = new MemoryRegistry('mirror.test');
  const h = await AgentHarness.create(t, { intervalMs: INTERVAL, random: seededRandom(31), mirror });
  const pushed = h.reg.pushModule('filters/a', 'v1', moduleFor('a'));
  // A pull-through cache serves the registry's own manifests and blobs.
  mirror.pushModule('filters/a', 'v1', moduleFor('a'));
  await h.writeConfig({ a: pushed.reference });
  return { h, mirror, pushed };
}

test('agent: with a mirror, the checks and the blob go to the mirror; the registry is not asked', async (t) => {
  const { h, mirror } = await setup(t);
  await h.start();
  assert.deepEqual(await h.file('a.wasm'), moduleFor('a'));
  assert.equal(h.filter('a').source, 'http://mirror.test');
  await h.advance(5 * INTERVAL);
  assert.equal(h.reg.requests.length, 0, 'nothing reached the registry');
  assert.equal(mirror.count({ method: 'GET', kind: 'blob' }), 1);
  assert.ok(mirror.count({ method: 'HEAD', kind: 'manifest' }) >= 6);
});

test('agent: a mirror that is down, or serves other bytes, is passed over for the registry; the file is the verified module either way', async (t) => {
  const { h, mirror } = await setup(t);
  mirror.down();
  await h.start();
  assert.deepEqual(await h.file('a.wasm'), moduleFor('a'));
  assert.equal(h.filter('a').ready, true);
  assert.equal(h.filter('a').source, 'registry.test', 'answered by the registry');
  assert.ok(h.logs.some((l) => l.level === 'warn' && l.msg === 'mirror failed; trying the next source' && l.mirror === 'http://mirror.test'));

  // The tag moves; the mirror is back but serves the new module with other bytes (a bad cache).
  mirror.up();
  h.reg.pushModule('filters/a', 'v1', moduleFor('a2'));
  mirror.pushModule('filters/a', 'v1', moduleFor('a2'));
  const bad = Buffer.from(moduleFor('a2'));
  bad[100] ^= 0x01;
  mirror.corrupt.set(digestOf(moduleFor('a2')), bad);
  const mark = h.reg.requests.length;
  await h.advanceToNextCheck('a');
  assert.deepEqual(await h.file('a.wasm'), moduleFor('a2'), 'the registry\'s verified module, not the mirror\'s bytes');
  assert.equal(h.filter('a').source, 'registry.test');
  assert.equal(h.reg.count({ method: 'GET', kind: 'blob' }, mark), 1);
  assert.ok(h.logs.some((l) => l.msg === 'mirror failed; trying the next source' && /digest|E_DIGEST_MISMATCH|mismatch/i.test(String(l.error))), 'the mismatch is what is logged');
});

test('agent: mirror and registry both down: the registry\'s error is reported, the file stays; the mirror back, it answers again', async (t) => {
  const { h, mirror } = await setup(t);
  await h.start();
  mirror.down();
  h.reg.failure = new (await import('../../src/errors.js')).WasmOciError('E_REGISTRY', 'registry.test answered 503 Service Unavailable');
  await h.advanceToNextCheck('a');
  const s = h.filter('a');
  assert.equal(s.ready, false);
  assert.equal(s.lastError?.code, 'E_REGISTRY', 'the authority\'s error, not the mirror\'s');
  assert.deepEqual(await h.file('a.wasm'), moduleFor('a'));
  mirror.up();
  await h.advanceToNextCheck('a');
  assert.equal(h.filter('a').ready, true);
  assert.equal(h.filter('a').source, 'http://mirror.test');
});
