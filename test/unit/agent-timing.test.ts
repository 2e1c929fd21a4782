import { test } from 'node:test';
import assert from 'node:assert/strict';
import { digestOf } from '../../src/oci/digest.js';
import { AgentHarness, moduleFor, seededRandom } from '../helpers/agent-harness.js';
import { FakeClock } from '../helpers/fake-clock.js';

// Issue 15: the sync loop's timing (jittered start and interval, backoff), driven by an injected
// clock against an in-memory registry; files in a real temp directory.

const INTERVAL = 30_000;

/** Pushes `n` tag filters f0..f(n-1) and returns the config (name -> image). */
function pushFilters(h: AgentHarness, n: number): Record<string, string> {
  const config: Record<string, string> = {};
  for (let i = 0; i < n; i++) config[`f${i}`] = h.reg.pushModule(`filters/f${i}`, 'v1', moduleFor(`f${i}`)).reference;
  return config;
}

test('agent: a tag is checked with one manifest HEAD per interval, no GET while nothing changed; the interval is jittered shorter (by up to 10%), never longer', async (t) => {
  const h = await AgentHarness.create(t, { intervalMs: INTERVAL, random: seededRandom(1) });
  await h.writeConfig(pushFilters(h, 3));
  const t0 = h.clock.now();
  await h.start();
  for (let i = 0; i < 3; i++) assert.deepEqual(await h.file(`f${i}.wasm`), moduleFor(`f${i}`), `f${i}.wasm holds the pushed module`);
  // Nothing was in place: every filter was fetched at once, not after a jittered wait.
  assert.ok(h.reg.requests.every((r) => r.at === t0), 'the first pass of a fresh node starts at once');
  assert.equal(h.reg.count({ method: 'GET', kind: 'blob' }), 3, 'one blob GET per filter');

  const mark = h.reg.requests.length;
  const sleepMark = h.clock.sleeps.length;
  await h.advance(10 * INTERVAL);
  const idle = h.reg.requests.slice(mark);
  assert.equal(idle.filter((r) => r.method === 'GET').length, 0, 'no GET while nothing changed');
  for (let i = 0; i < 3; i++) {
    const heads = idle.filter((r) => r.repository === `filters/f${i}`);
    assert.ok(heads.every((r) => r.method === 'HEAD' && r.kind === 'manifest' && r.reference === 'v1'));
    // 10 intervals of 27-30 s: 10 or 11 checks, never fewer (a check is never later than one interval).
    assert.ok(heads.length >= 10 && heads.length <= 11, `f${i}: ${heads.length} HEADs in 10 intervals`);
    const gaps = heads.slice(1).map((r, k) => r.at - heads[k]!.at);
    assert.ok(gaps.every((g) => g >= 0.9 * INTERVAL && g <= INTERVAL), `f${i}: gaps between checks ${gaps.join(', ')}`);
  }
  // What the workers asked to wait (the config loop waits exactly one interval; a worker's wait
  // equals it only if random() gave exactly 0).
  const waits = h.clock.sleepsSince(sleepMark).map((s) => s.ms).filter((ms) => ms !== INTERVAL);
  assert.ok(waits.length >= 30);
  assert.ok(waits.every((ms) => ms >= 0.9 * INTERVAL && ms < INTERVAL), `waits ${waits.join(', ')}`);
  assert.ok(Math.max(...waits) - Math.min(...waits) > 0.05 * INTERVAL, 'the waits differ: jitter, not a fixed shorter interval');
  for (let i = 0; i < 3; i++) assert.equal(h.filter(`f${i}`).ready, true);
});

test('agent: restarted with its files in place, it serves them at once and spreads its first checks over an interval, each filter at its own random time', async (t) => {
  const first = await AgentHarness.create(t, { intervalMs: INTERVAL });
  const filters = pushFilters(first, 20);
  await first.writeConfig(filters);
  await first.start();
  await first.stop();

  const clock = new FakeClock(first.clock.now() + 3_600_000);
  const h = await AgentHarness.create(t, { intervalMs: INTERVAL, reg: first.reg, out: first.out, configPath: first.configPath, clock, random: seededRandom(7) });
  const mark = h.reg.requests.length;
  const sleepMark = clock.sleeps.length;
  const t0 = clock.now();
  await h.start();
  assert.equal(h.reg.requests.length, mark, 'nothing asked at start');
  for (const name of Object.keys(filters)) {
    const s = h.filter(name);
    assert.equal(s.ready, true, `${name} is ready from the file in place`);
    assert.equal(s.currentDigest, s.wantedDigest);
  }
  const starts = clock.sleepsSince(sleepMark).map((s) => s.ms).filter((ms) => ms !== INTERVAL);
  assert.equal(starts.length, 20, 'one first wait per filter');
  assert.ok(starts.every((ms) => ms >= 0 && ms < INTERVAL), `first waits ${starts.join(', ')}`);
  assert.ok(Math.max(...starts) - Math.min(...starts) > INTERVAL / 2, `first waits spread over the interval: ${starts.join(', ')}`);
  assert.ok(new Set(starts).size >= 18, 'nearly every filter has its own start');

  await h.advance(INTERVAL);
  const checks = h.reg.requests.slice(mark);
  for (const name of Object.keys(filters)) {
    const mine = checks.filter((r) => r.repository === `filters/${name}`);
    assert.ok(mine.length >= 1, `${name} was checked within one interval`);
    assert.ok(starts.includes(mine[0]!.at - t0), `${name}'s first check came after one of the drawn waits`);
  }
  // The first checks are spread: no more than a few of the 20 in any one second.
  const perSecond = new Map<number, number>();
  for (const ms of starts) perSecond.set(Math.floor(ms / 1000), (perSecond.get(Math.floor(ms / 1000)) ?? 0) + 1);
  assert.ok(Math.max(...perSecond.values()) <= 4, `at most 4 of 20 first checks in one second: ${JSON.stringify([...perSecond])}`);
  assert.equal(checks.filter((r) => r.method === 'GET').length, 0);
});

test('agent: a failing filter backs off with jitter, doubling to its bound; the file stays; one success resets the backoff', async (t) => {
  const initial = 1000;
  const bound = 60_000;
  const h = await AgentHarness.create(t, { intervalMs: INTERVAL, backoffInitialMs: initial, backoffMaxMs: bound, random: seededRandom(3) });
  const { reference } = h.reg.pushModule('filters/a', 'v1', moduleFor('a'));
  await h.writeConfig({ a: reference });
  await h.start();
  assert.equal(h.filter('a').ready, true);

  h.reg.down();
  // The next check (within an interval) fails; from then on the agent waits its backoff.
  await h.advanceToNextCheck('a');
  assert.equal(h.filter('a').consecutiveFailures, 1);
  const delays: number[] = [];
  const attempts: number[] = [h.filter('a').lastAttemptMs!];
  for (let k = 1; k <= 12; k++) {
    const s = h.filter('a');
    assert.equal(s.consecutiveFailures, k);
    assert.equal(s.ready, false);
    assert.match(s.reason ?? '', /^E_NETWORK: .*ECONNREFUSED/);
    assert.deepEqual(await h.file('a.wasm'), moduleFor('a'), `after ${k} failures the last good file is still in place`);
    delays.push(s.backoffMs);
    await h.advanceToNextCheck('a');
    attempts.push(h.filter('a').lastAttemptMs!);
  }
  delays.forEach((d, i) => {
    const nominal = Math.min(bound, initial * 2 ** i);
    assert.ok(d >= nominal / 2 && d <= nominal, `retry ${i + 1}: ${d} ms within [${nominal / 2}, ${nominal}]`);
  });
  // The agent really waited each delay: the registry saw the retries that far apart.
  assert.deepEqual(attempts.slice(1).map((a, i) => a - attempts[i]!), delays);
  const capped = delays.slice(7);
  assert.ok(capped.every((d) => d >= bound / 2 && d <= bound), `at the bound: ${capped.join(', ')}`);
  assert.ok(new Set(capped).size > 1, 'jittered at the bound too');
  assert.equal(h.filter('a').failures, 13);

  h.reg.up();
  await h.advanceToNextCheck('a');
  const ok = h.filter('a');
  assert.equal(ok.ready, true);
  assert.equal(ok.consecutiveFailures, 0);
  assert.equal(ok.backoffMs, 0);
  const next = ok.nextCheckMs! - ok.lastAttemptMs!;
  assert.ok(next >= 0.9 * INTERVAL && next <= INTERVAL, `back to the interval: ${next}`);

  h.reg.down();
  await h.advanceToNextCheck('a');
  const again = h.filter('a');
  assert.equal(again.consecutiveFailures, 1);
  assert.ok(again.backoffMs >= initial / 2 && again.backoffMs <= initial, `the backoff starts over: ${again.backoffMs}`);
  assert.equal(again.failures, 14);
});

test('agent: a digest reference is fetched once, then never asked about again: not over a hundred intervals, not after a restart, not while the registry is down', async (t) => {
  const h = await AgentHarness.create(t, { intervalMs: INTERVAL, random: seededRandom(5) });
  const pinned = h.reg.pushModule('filters/p', undefined, moduleFor('p'));
  const tagged = h.reg.pushModule('filters/t', 'v1', moduleFor('t'));
  await h.writeConfig({ p: pinned.reference, t: tagged.reference });
  await h.start();
  assert.deepEqual(await h.file('p.wasm'), moduleFor('p'));
  const firstPass = h.reg.requests.filter((r) => r.repository === 'filters/p');
  assert.deepEqual(firstPass.map((r) => `${r.method} ${r.kind} ${r.reference}`), [
    `GET manifest ${pinned.manifestDigest}`,
    `GET blob ${digestOf(moduleFor('p'))}`,
  ], 'no HEAD for a digest: one manifest GET and the module');

  const mark = h.reg.requests.length;
  await h.advance(100 * INTERVAL);
  assert.equal(h.reg.count({ repository: 'filters/p' }, mark), 0, 'nothing asked about the digest filter');
  assert.ok(h.reg.count({ repository: 'filters/t', method: 'HEAD' }, mark) >= 100, 'the tag filter beside it is checked every interval');
  assert.equal(h.filter('p').ready, true);
  assert.ok(h.filter('p').lastSuccessMs! > h.clock.now() - INTERVAL, 'its file is still looked at');

  await h.stop();
  const clock = new FakeClock(h.clock.now() + 60_000);
  const again = await AgentHarness.create(t, { intervalMs: INTERVAL, reg: h.reg, out: h.out, configPath: h.configPath, clock });
  const mark2 = h.reg.requests.length;
  h.reg.down();
  await again.start();
  await again.advance(10 * INTERVAL);
  assert.equal(h.reg.count({ repository: 'filters/p' }, mark2), 0, 'nothing asked after a restart either');
  assert.equal(again.filter('p').ready, true, 'a registry outage does not touch a digest filter in place');
  assert.equal(again.filter('t').ready, false, 'while the tag filter beside it fails');
  assert.deepEqual(await again.file('p.wasm'), moduleFor('p'));
  assert.deepEqual(await again.file('t.wasm'), moduleFor('t'));
});
