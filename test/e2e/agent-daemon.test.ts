import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { lstat, mkdir, readFile, readdir, readlink, stat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { metricValue, startAgent, waitFor, type AgentProcess } from '../helpers/agent-process.js';
import { runCli } from '../helpers/cli.js';
import { startDistribution, type RunningRegistry } from '../helpers/distribution.js';
import { isBlobGet, startFaultProxy } from '../helpers/fault-proxy.js';
import { startHashReader } from '../helpers/hash-reader.js';
import { atomicWriterProject } from '../helpers/kube-atomic-writer.js';
import { examplesDir } from '../helpers/paths.js';
import { testPassword } from '../helpers/secrets.js';
import { makeTempDir } from '../helpers/tmp.js';
import { padModule } from '../helpers/wasm-padding.js';

// Issue 15: `wasm-oci agent` as the DaemonSet runs it (no --once), against real CNCF Distribution.
// Every wait is a poll with a deadline (waitFor), never a fixed sleep.

const sha256 = (b: Uint8Array): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;

/** A valid module, distinct from every other one made here (a random custom section of `extraBytes`). */
async function makeModule(extraBytes = 1000): Promise<Buffer> {
  return padModule(await readFile(join(examplesDir, 'example-filter.wasm')), randomBytes(extraBytes));
}

/** Pushes `module` as REPO:TAG with wasm-oci push; resolves to the manifest digest. */
async function pushModule(reg: RunningRegistry, dir: string, ref: string, module: Buffer, password = reg.password): Promise<string> {
  const file = join(dir, `push-${randomBytes(4).toString('hex')}.wasm`);
  await writeFile(file, module);
  const auth = reg.username !== undefined ? ['-u', reg.username, '-p', password!] : [];
  const r = await runCli(['push', ...(reg.tls ? ['--ca-file', reg.caFile!] : ['--plain-http']), ...auth, '--format', 'json', `${reg.host}/${ref}`, file], { cwd: dir });
  assert.equal(r.code, 0, r.stderr);
  return (JSON.parse(r.stdout) as { digest: string }).digest;
}

/** sha256 of the file, or undefined while it does not exist. */
async function fileDigest(path: string): Promise<string | undefined> {
  return readFile(path).then(sha256, () => undefined);
}

/** Waits until /readyz answers `status`; resolves to its body. */
async function readyz(agent: AgentProcess, status: number, what: string, timeoutMs = 30_000): Promise<string> {
  const r = await waitFor(`/readyz ${status} (${what})`, async () => {
    const got = await agent.get('/readyz');
    return got.status === status ? got : undefined;
  }, timeoutMs);
  return r.body;
}

/** `filters:` YAML for name -> image (and optional pull secret). */
function filtersYaml(filters: Array<{ name: string; image: string; pullSecret?: string }>): string {
  return `filters:\n${filters.map((f) => `  - name: ${f.name}\n    image: ${f.image}\n${f.pullSecret ? `    pullSecret: ${f.pullSecret}\n` : ''}`).join('')}`;
}

test('agent daemon, ConfigMap volume: filters appear byte for byte; a ..data swap that adds, changes and removes filters is followed; a foreign file stays', async (t) => {
  const reg = await startDistribution({ mode: 'plain', t });
  const dir = await makeTempDir(t);
  const [a1, a2, b, g, d] = await Promise.all([makeModule(), makeModule(), makeModule(), makeModule(), makeModule()]);
  await pushModule(reg, dir, 'filters/a:v1', a1);
  await pushModule(reg, dir, 'filters/a:v2', a2);
  await pushModule(reg, dir, 'filters/b:v1', b);
  const gDigest = await pushModule(reg, dir, 'filters/g:v1', g);
  await pushModule(reg, dir, 'filters/d:v1', d);

  // The ConfigMap volume: two keys of filters and one key that is not a document.
  const cm = join(dir, 'configmap');
  await mkdir(cm);
  const firstTs = await atomicWriterProject(cm, {
    'filters.yaml': filtersYaml([{ name: 'alpha', image: `${reg.host}/filters/a:v1` }, { name: 'beta', image: `${reg.host}/filters/b:v1` }]),
    'extra.json': JSON.stringify({ filters: [{ name: 'gamma', image: `${reg.host}/filters/g@${gDigest}` }] }),
    README: 'not a config document',
  });
  // What kubelet leaves: `..data` -> `..<UTC timestamp>.<random>`, each key a link through `..data`.
  assert.match(firstTs!, /^\.\.\d{4}_\d{2}_\d{2}_\d{2}_\d{2}_\d{2}\.\w+$/);
  assert.equal(await readlink(join(cm, '..data')), firstTs);
  assert.equal(await readlink(join(cm, 'filters.yaml')), '..data/filters.yaml');
  assert.ok((await lstat(join(cm, 'extra.json'))).isSymbolicLink());

  const out = join(dir, 'out');
  await mkdir(out);
  const foreign = join(out, 'someone-else.wasm');
  await writeFile(foreign, 'not the agent\'s');
  const foreignBefore = await stat(foreign);

  // A long interval: only the watch of the directory can make the agent see the swap in time.
  const agent = await startAgent(['--config', cm, '--output', out, '--interval', '10m', '--plain-http', '--listen', '127.0.0.1:0'], { t });
  assert.match(await readyz(agent, 200, 'the first config in place'), /3 filters in place/);
  assert.deepEqual(await readFile(join(out, 'alpha.wasm')), a1);
  assert.deepEqual(await readFile(join(out, 'beta.wasm')), b);
  assert.deepEqual(await readFile(join(out, 'gamma.wasm')), g);

  // The swap: alpha changes tag, beta and the whole extra.json key (gamma) go, delta comes.
  const swapped = Date.now();
  const secondTs = await atomicWriterProject(cm, {
    'filters.yaml': filtersYaml([{ name: 'alpha', image: `${reg.host}/filters/a:v2` }, { name: 'delta', image: `${reg.host}/filters/d:v1` }]),
    README: 'not a config document',
  });
  assert.notEqual(secondTs, firstTs);
  assert.deepEqual((await readdir(cm)).sort(), ['..data', secondTs!, 'README', 'filters.yaml'].sort(), 'the old timestamped dir and the removed key are gone, as kubelet leaves it');
  await waitFor('the swap followed: alpha at v2, delta written, beta and gamma removed', async () => {
    const names = (await readdir(out)).sort().join(',');
    return names === '.wasm-oci-agent-state.json,alpha.wasm,delta.wasm,someone-else.wasm' && (await fileDigest(join(out, 'alpha.wasm'))) === sha256(a2);
  });
  const followedMs = Date.now() - swapped;
  assert.deepEqual(await readFile(join(out, 'alpha.wasm')), a2);
  assert.deepEqual(await readFile(join(out, 'delta.wasm')), d);
  assert.match(await readyz(agent, 200, 'the swapped config in place'), /2 filters in place/);
  const foreignAfter = await stat(foreign);
  assert.equal(await readFile(foreign, 'utf8'), 'not the agent\'s');
  assert.equal(foreignAfter.ino, foreignBefore.ino);
  assert.equal(foreignAfter.mtimeMs, foreignBefore.mtimeMs);
  const loaded = await waitFor('the log line of the swap', () => /^.* config loaded .* filters=2 (.*)$/m.exec(agent.stderr())?.[1]);
  assert.match(loaded, /added=\["delta"\] changed=\["alpha"\] removed=\["(gamma","beta|beta","gamma)"\]/, agent.stderr());
  console.log(`# agent-daemon configmap: ..data swap followed in ${followedMs} ms (interval 10m: by the watch)`);

  assert.equal(await agent.stop('SIGTERM'), 0, agent.stderr());
});

test('agent daemon, tag moved: the file changes within one interval, and a reader hashing it in a tight loop only ever sees the old or the new module whole', async (t) => {
  const reg = await startDistribution({ mode: 'plain', t });
  const dir = await makeTempDir(t);
  // A few MiB each, so that a write that is not atomic would be caught half done by the reader.
  const [oldModule, newModule] = await Promise.all([makeModule(4 * 1024 * 1024), makeModule(4 * 1024 * 1024)]);
  const [oldDigest, newDigest] = [sha256(oldModule), sha256(newModule)];
  await pushModule(reg, dir, 'filters/m:v1', oldModule);
  const config = join(dir, 'filters.yaml');
  await writeFile(config, filtersYaml([{ name: 'moving', image: `${reg.host}/filters/m:v1` }]));
  const out = join(dir, 'out');
  const file = join(out, 'moving.wasm');
  const intervalMs = 1000;
  const agent = await startAgent(['--config', config, '--output', out, '--interval', `${intervalMs}ms`, '--plain-http', '--listen', '127.0.0.1:0'], { t });
  await waitFor('the first version in place', async () => (await fileDigest(file)) === oldDigest);

  const reader = startHashReader(file);
  t.after(() => reader.stop().catch(() => undefined));
  const moves: Array<{ to: string; ms: number; headsBeforeFetch: number }> = [];
  // Three moves: to the new module, back to the old one, to the new one again.
  for (const [module, digest] of [[newModule, newDigest], [oldModule, oldDigest], [newModule, newDigest]] as const) {
    const readsBefore = reader.readsSoFar();
    const mark = reg.requests().length;
    await pushModule(reg, dir, 'filters/m:v1', module);
    const pushed = Date.now();
    await waitFor(`the file to become ${digest}`, async () => (await fileDigest(file)) === digest);
    const ms = Date.now() - pushed;
    // On the registry's record: after the push's manifest PUT, the agent's first HEAD already sees
    // the move (one HEAD, then the manifest GET), never an interval that missed it.
    await reg.flushLog();
    const after = reg.requests().slice(mark);
    const put = after.findIndex((e) => e.method === 'PUT' && e.path === '/v2/filters/m/manifests/v1');
    const get = after.findIndex((e, i) => i > put && e.method === 'GET' && e.path.startsWith('/v2/filters/m/manifests/'));
    assert.ok(put >= 0 && get > put, JSON.stringify(after));
    const headsBeforeFetch = after.slice(put + 1, get).filter((e) => e.method === 'HEAD' && e.path === '/v2/filters/m/manifests/v1').length;
    moves.push({ to: digest.slice(7, 19), ms, headsBeforeFetch });
    assert.ok(headsBeforeFetch <= 2, `the move was seen by the first check after it (${headsBeforeFetch} HEADs before the fetch)`);
    assert.ok(ms < intervalMs + 2000, `the file changed ${ms} ms after the push: within one interval (${intervalMs} ms) and the fetch`);
    await waitFor('the reader to read the moved file', () => reader.readsSoFar() > readsBefore + 10);
  }
  const tally = await reader.stop();
  console.log(`# agent-daemon tag move: ${JSON.stringify(moves)}; reader: ${tally.reads} whole reads, ${tally.missing} missing, ${JSON.stringify(Object.fromEntries(Object.entries(tally.byHash).map(([h, n]) => [h.slice(7, 19), n])))}`);
  assert.equal(tally.missing, 0, 'the file never disappeared');
  assert.deepEqual(Object.keys(tally.byHash).filter((h) => h !== oldDigest && h !== newDigest), [], 'every read was the old or the new module, whole');
  assert.ok((tally.byHash[oldDigest] ?? 0) > 0 && (tally.byHash[newDigest] ?? 0) > 0, 'the reader saw both versions');
  assert.ok(tally.reads >= 100, `the reader read ${tally.reads} times`);
  assert.match(await readyz(agent, 200, 'in place after the moves'), /1 filter in place/);
  assert.equal(await agent.stop('SIGTERM'), 0, agent.stderr());
});

/** The JSON log lines of an agent run with --log-format json. */
function jsonLog(agent: AgentProcess): Array<Record<string, unknown>> {
  return agent.stderr().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
}

test('agent daemon, registry stopped: the file stays, /readyz names the filter, failures rise in /metrics, the backoff grows; the registry back on its port: the agent recovers by itself', async (t) => {
  const reg = await startDistribution({ mode: 'plain', t });
  const dir = await makeTempDir(t);
  const module = await makeModule();
  await pushModule(reg, dir, 'filters/a:v1', module);
  const config = join(dir, 'filters.yaml');
  await writeFile(config, filtersYaml([{ name: 'alpha', image: `${reg.host}/filters/a:v1` }]));
  const out = join(dir, 'out');
  const file = join(out, 'alpha.wasm');
  const agent = await startAgent(['--config', config, '--output', out, '--interval', '1s', '--max-backoff', '4s', '--plain-http', '--listen', '127.0.0.1:0', '--log-format', 'json'], { t });
  await readyz(agent, 200, 'alpha in place');
  const before = await stat(file);
  const metrics = async (): Promise<string> => (await agent.get('/metrics')).body;
  assert.equal(metricValue(await metrics(), 'wasm_oci_agent_filter_sync_failures_total', { filter: 'alpha' }), 0);

  await reg.halt();
  const down = Date.now();
  const notReady = await readyz(agent, 503, 'the outage noticed');
  assert.match(notReady, /^not ready:\n {2}alpha: E_\w+: /, notReady);
  // Four failures in a row: the backoff is read from the log lines and from /metrics.
  const scrape = await waitFor('four failures in a row', async () => {
    const m = await metrics();
    return (metricValue(m, 'wasm_oci_agent_filter_consecutive_failures', { filter: 'alpha' }) ?? 0) >= 4 ? m : undefined;
  }, 60_000);
  assert.ok(metricValue(scrape, 'wasm_oci_agent_filter_sync_failures_total', { filter: 'alpha' })! >= 4);
  assert.equal(metricValue(scrape, 'wasm_oci_agent_filter_ready', { filter: 'alpha' }), 0);
  assert.equal(metricValue(scrape, 'wasm_oci_agent_ready'), 0);
  const failed = await waitFor('four failures logged', () => {
    const lines = jsonLog(agent).filter((e) => e.msg === 'sync failed; the file in place stays');
    return lines.length >= 4 ? lines : undefined;
  });
  const retry = (n: number): number => failed.find((e) => e.failures === n)!.retryInMs as number;
  // Doubling from 1 s with equal jitter: the 1st is in [0.5, 1] s, the 2nd in [1, 2] s, the 3rd in
  // [2, 4] s; the 4th would be [4, 8] s but --max-backoff 4s bounds it to [2, 4] s.
  assert.ok(retry(1) <= 1000 && retry(2) >= 1000 && retry(2) <= 2000 && retry(3) >= 2000 && retry(3) <= 4000, JSON.stringify(failed));
  assert.ok(retry(4) >= 2000 && retry(4) <= 4000, JSON.stringify(failed));
  assert.match(notReady, /connection refused/);
  assert.ok(metricValue(scrape, 'wasm_oci_agent_filter_backoff_seconds', { filter: 'alpha' })! >= 2, scrape);
  // Through all of it, the file in place is the one written before, untouched.
  const during = await stat(file);
  assert.deepEqual(await readFile(file), module);
  assert.equal(during.ino, before.ino);
  assert.equal(during.mtimeMs, before.mtimeMs);
  const downMs = Date.now() - down;

  await reg.restart();
  const back = Date.now();
  const mark = reg.requests().length;
  assert.match(await readyz(agent, 200, 'recovered on its own', 30_000), /1 filter in place/);
  const recoveredMs = Date.now() - back;
  const m = await metrics();
  assert.equal(metricValue(m, 'wasm_oci_agent_filter_consecutive_failures', { filter: 'alpha' }), 0);
  assert.equal(metricValue(m, 'wasm_oci_agent_filter_backoff_seconds', { filter: 'alpha' }), 0);
  assert.ok(metricValue(m, 'wasm_oci_agent_filter_sync_failures_total', { filter: 'alpha' })! >= 3, 'the failure count stays');
  const after = await stat(file);
  assert.equal(after.ino, before.ino, 'the unchanged digest moved no blob: the file is the same one');
  assert.equal(after.mtimeMs, before.mtimeMs);
  await reg.flushLog();
  assert.deepEqual(reg.requests().slice(mark).filter((e) => e.path.includes('/blobs/')), [], 'no blob fetched after the restart');
  console.log(`# agent-daemon registry outage: ${failed.length} failures logged in ${downMs} ms, retryInMs ${JSON.stringify(failed.map((e) => e.retryInMs))}; ready again ${recoveredMs} ms after the restart`);
  assert.equal(await agent.stop('SIGTERM'), 0, agent.stderr());
});

test('agent daemon, SIGTERM during a large download: exit 0 at once, no temp file left, the old file in place untouched', async (t) => {
  const reg = await startDistribution({ mode: 'plain', t });
  // A slow link: every blob comes at 4 MiB/s, so a 48 MiB module takes 12 s to arrive.
  const slow = await startFaultProxy({ upstream: reg.url });
  t.after(() => slow.close());
  const bytesPerSecond = 4 * 1024 * 1024;
  slow.addFault({ match: isBlobGet, fault: { kind: 'throttle', bytesPerSecond } });
  const dir = await makeTempDir(t);
  const small = await makeModule();
  const big = await makeModule(48 * 1024 * 1024);
  await pushModule(reg, dir, 'filters/big:v1', small);
  const config = join(dir, 'filters.yaml');
  await writeFile(config, filtersYaml([{ name: 'big', image: `${slow.host}/filters/big:v1` }]));
  const out = join(dir, 'out');
  const file = join(out, 'big.wasm');
  const agent = await startAgent(['--config', config, '--output', out, '--interval', '1s', '--plain-http'], { t });
  await waitFor('the small version in place', async () => (await fileDigest(file)) === sha256(small));
  const before = await stat(file);

  await pushModule(reg, dir, 'filters/big:v1', big);
  // The download under way: the agent's hidden temp file in the output directory, growing.
  const temp = await waitFor('the temp file of the big module to hold 4 MiB', async () => {
    for (const name of await readdir(out)) {
      if (!name.startsWith('.big.wasm.')) continue;
      const st = await stat(join(out, name)).catch(() => undefined);
      if (st && st.size >= 4 * 1024 * 1024) return { name, size: st.size };
    }
    return undefined;
  }, 30_000);
  assert.ok(temp.size < big.length, 'stopped mid-download');
  const signalled = Date.now();
  const code = await agent.stop('SIGTERM');
  const exitMs = Date.now() - signalled;
  assert.equal(code, 0, agent.stderr());
  assert.deepEqual((await readdir(out)).sort(), ['.wasm-oci-agent-state.json', 'big.wasm'], 'no temp file left');
  const after = await stat(file);
  assert.deepEqual(await readFile(file), small, 'the file in place is the old module');
  assert.equal(after.ino, before.ino);
  assert.match(agent.stderr(), /stopped; the write in progress was discarded filter=big/);
  // Well before the download could have finished (12 s at the throttled rate).
  assert.ok(exitMs < 5000, `exited ${exitMs} ms after SIGTERM`);
  console.log(`# agent-daemon SIGTERM: temp file at ${temp.size} of ${big.length} bytes; exit 0 after ${exitMs} ms`);
});

/** Access-log lines (method, path, status, user agent) of a Distribution, from its combined-format log. */
function accessLog(reg: RunningRegistry): Array<{ method: string; path: string; status: number; agent: string }> {
  const re = /^\S+ - \S+ \[[^\]]+\] "([A-Z]+) (\S+) HTTP\/[\d.]+" (\d{3}) \S+ "[^"]*" "([^"]*)"/gm;
  return [...reg.logs().matchAll(re)].map((m) => ({ method: m[1]!, path: m[2]!, status: Number(m[3]), agent: m[4]! }));
}

test('agent daemon, --mirror to Distribution as a pull-through cache: blobs come through it; with it stopped the agent falls back to the registry', async (t) => {
  const upstream = await startDistribution({ mode: 'plain', t });
  const mirror = await startDistribution({ mode: 'plain', proxyRemoteUrl: upstream.url, t });
  const dir = await makeTempDir(t);
  const [first, second] = await Promise.all([makeModule(), makeModule()]);
  const firstDigest = await pushModule(upstream, dir, 'filters/m:v1', first);
  const config = join(dir, 'filters.yaml');
  await writeFile(config, filtersYaml([{ name: 'mirrored', image: `${upstream.host}/filters/m:v1` }]));
  const out = join(dir, 'out');
  const file = join(out, 'mirrored.wasm');
  const agent = await startAgent(['--config', config, '--output', out, '--interval', '1s', '--plain-http', '--mirror', `${upstream.host}=${mirror.url}`, '--listen', '127.0.0.1:0', '--log-format', 'json'], { t });
  await waitFor('the first version in place', async () => (await fileDigest(file)) === sha256(first));
  // The log line comes after the rename: waited for, not read at once.
  const written = (digest: string): Promise<Record<string, unknown>> =>
    waitFor(`the log line of ${digest} written`, () => jsonLog(agent).find((e) => e.msg === 'filter written' && e.digest === digest));
  assert.equal((await written(firstDigest)).source, mirror.url, 'written from the mirror');

  // The mirror's log: the agent's blob GET. The registry's: the same blob, fetched by the mirror only.
  await Promise.all([mirror.flushLog(), upstream.flushLog()]);
  const firstBlob = `/v2/filters/m/blobs/${sha256(first)}`;
  const isOurs = (ua: string): boolean => ua.startsWith('wasm-oci/');
  assert.deepEqual(accessLog(mirror).filter((e) => e.path === firstBlob).map((e) => `${e.method} ${e.status} ${isOurs(e.agent) ? 'agent' : e.agent}`), ['GET 200 agent']);
  const upstreamFirst = accessLog(upstream).filter((e) => e.path === firstBlob && e.method === 'GET');
  assert.ok(upstreamFirst.length >= 1 && upstreamFirst.every((e) => !isOurs(e.agent)), `the registry served the blob to the mirror only: ${JSON.stringify(upstreamFirst)}`);

  // The mirror stopped, the tag moved: the agent falls back to the registry itself.
  await mirror.halt();
  const secondDigest = await pushModule(upstream, dir, 'filters/m:v1', second);
  const moved = Date.now();
  await waitFor('the second version in place, from the registry', async () => (await fileDigest(file)) === sha256(second));
  const fallbackMs = Date.now() - moved;
  assert.equal((await written(secondDigest)).source, upstream.host, 'written from the registry');
  await waitFor('the fallback logged', () => jsonLog(agent).some((e) => e.msg === 'mirror failed; trying the next source' && e.mirror === mirror.url));
  await upstream.flushLog();
  const secondBlob = accessLog(upstream).filter((e) => e.path === `/v2/filters/m/blobs/${sha256(second)}` && e.method === 'GET');
  assert.deepEqual(secondBlob.map((e) => `${e.status} ${isOurs(e.agent) ? 'agent' : e.agent}`), ['200 agent']);
  assert.match(await readyz(agent, 200, 'in place from the registry'), /1 filter in place/);
  console.log(`# agent-daemon mirror: first blob via the pull-through cache; mirror stopped, tag moved: served from the registry after ${fallbackMs} ms`);
  assert.equal(await agent.stop('SIGTERM'), 0, agent.stderr());
});

test('agent daemon, TLS + htpasswd registry through a mounted pull secret: the filter naming it is pulled; one without it, or naming a secret not mounted, fails and shows in the status', async (t) => {
  const password = testPassword('agent');
  const reg = await startDistribution({ mode: 'tls-htpasswd', username: 'puller', password, t });
  const dir = await makeTempDir(t);
  const module = await makeModule();
  await pushModule(reg, dir, 'private/f:v1', module);

  // --pull-secrets DIR: one folder per Secret volume, projected by kubelet like a ConfigMap.
  const secrets = join(dir, 'secrets');
  await mkdir(join(secrets, 'regcred'), { recursive: true });
  const dockerconfigjson = JSON.stringify({ auths: { [reg.host]: { auth: Buffer.from(`puller:${password}`).toString('base64') } } });
  await atomicWriterProject(join(secrets, 'regcred'), { '.dockerconfigjson': dockerconfigjson });
  assert.equal(await readlink(join(secrets, 'regcred', '.dockerconfigjson')), '..data/.dockerconfigjson');

  const image = `${reg.host}/private/f:v1`;
  const config = join(dir, 'filters.yaml');
  await writeFile(config, filtersYaml([
    { name: 'with-secret', image, pullSecret: 'regcred' },
    { name: 'without-secret', image },
    { name: 'unmounted-secret', image, pullSecret: 'absent' },
  ]));
  const out = join(dir, 'out');
  const agent = await startAgent(['--config', config, '--output', out, '--interval', '1s', '--ca-file', reg.caFile!, '--pull-secrets', secrets, '--listen', '127.0.0.1:0'], { t });
  await waitFor('the filter with the secret in place', async () => (await fileDigest(join(out, 'with-secret.wasm'))) === sha256(module));
  // The status is updated after the rename (state file first): /readyz is waited for too.
  const body = await waitFor('/readyz naming both failing filters, and only them', async () => {
    const r = await agent.get('/readyz');
    return r.status === 503 && /without-secret: /.test(r.body) && /unmounted-secret: /.test(r.body) && !/(^|\s)with-secret: /.test(r.body) ? r.body : undefined;
  });
  assert.match(body, /without-secret: E_AUTH: /, body);
  assert.match(body, /unmounted-secret: E_CREDENTIALS: pull secret "absent": cannot read .*absent\/\.dockerconfigjson: no such file/, body);
  const m = (await agent.get('/metrics')).body;
  assert.equal(metricValue(m, 'wasm_oci_agent_filter_ready', { filter: 'with-secret' }), 1);
  assert.equal(metricValue(m, 'wasm_oci_agent_filter_ready', { filter: 'without-secret' }), 0);
  assert.equal(metricValue(m, 'wasm_oci_agent_filter_ready', { filter: 'unmounted-secret' }), 0);
  assert.ok(metricValue(m, 'wasm_oci_agent_filter_sync_failures_total', { filter: 'without-secret' })! >= 1);
  assert.deepEqual((await readdir(out)).sort(), ['.wasm-oci-agent-state.json', 'with-secret.wasm'], 'nothing written for the failing filters');
  // The registry refused the requests that came without credentials.
  await reg.flushLog();
  assert.ok(reg.requests().some((e) => e.path === '/v2/private/f/manifests/v1' && e.status === 401));
  for (const form of [password, Buffer.from(`puller:${password}`).toString('base64')]) {
    assert.ok(!agent.stderr().includes(form) && !agent.stdout().includes(form), 'the password is never logged');
  }
  console.log(`# agent-daemon pull secret: /readyz says ${JSON.stringify(body)}`);
  assert.equal(await agent.stop('SIGTERM'), 0, agent.stderr());
});

test('agent daemon, --config naming one key of a ConfigMap volume (KEY -> ..data/KEY): a ..data swap is seen by the watch', async (t) => {
  const reg = await startDistribution({ mode: 'plain', t });
  const dir = await makeTempDir(t);
  const [one, two] = await Promise.all([makeModule(), makeModule()]);
  await pushModule(reg, dir, 'filters/one:v1', one);
  await pushModule(reg, dir, 'filters/two:v1', two);
  const cm = join(dir, 'configmap');
  await mkdir(cm);
  await atomicWriterProject(cm, { 'filters.yaml': filtersYaml([{ name: 'one', image: `${reg.host}/filters/one:v1` }]) });
  const out = join(dir, 'out');
  // A long interval: only the watch can make the agent see the swap in time.
  const agent = await startAgent(['--config', join(cm, 'filters.yaml'), '--output', out, '--interval', '10m', '--plain-http', '--listen', '127.0.0.1:0'], { t });
  assert.match(await readyz(agent, 200, 'the first config in place'), /1 filter in place/);
  assert.deepEqual(await readFile(join(out, 'one.wasm')), one);

  // kubelet never touches the key's own link: only ..data is swapped under it.
  await atomicWriterProject(cm, { 'filters.yaml': filtersYaml([{ name: 'two', image: `${reg.host}/filters/two:v1` }]) });
  await waitFor('the swap followed: two written, one removed', async () =>
    (await readdir(out)).sort().join(',') === '.wasm-oci-agent-state.json,two.wasm' && (await fileDigest(join(out, 'two.wasm'))) === sha256(two));
  assert.equal(await agent.stop('SIGTERM'), 0, agent.stderr());
});

test('agent daemon, SIGHUP: re-reads a config no watch can see; one that does not parse is refused with a log line and the last good one stays in force', async (t) => {
  const reg = await startDistribution({ mode: 'plain', t });
  const dir = await makeTempDir(t);
  const [one, two] = await Promise.all([makeModule(), makeModule()]);
  await pushModule(reg, dir, 'filters/one:v1', one);
  await pushModule(reg, dir, 'filters/two:v1', two);
  // --config is a link to a file in another directory: an edit there makes no event where the
  // agent watches (the link's directory), and the interval is long, so only SIGHUP reloads.
  await mkdir(join(dir, 'elsewhere'));
  const real = join(dir, 'elsewhere', 'filters.yaml');
  await writeFile(real, filtersYaml([{ name: 'one', image: `${reg.host}/filters/one:v1` }]));
  const link = join(dir, 'filters.yaml');
  await symlink(real, link);
  const out = join(dir, 'out');
  const agent = await startAgent(['--config', link, '--output', out, '--interval', '10m', '--plain-http', '--listen', '127.0.0.1:0'], { t });
  await readyz(agent, 200, 'the first config in place');
  const metrics = async (): Promise<string> => (await agent.get('/metrics')).body;
  assert.equal(metricValue(await metrics(), 'wasm_oci_agent_config_last_reload_successful'), 1);

  await writeFile(real, 'filters:\n  - name: one\n    image: [\n');
  agent.child.kill('SIGHUP');
  await waitFor('the refusal logged', () => /ERROR config refused; the last good config stays in force error=.*does not parse/.test(agent.stderr()));
  await waitFor('the refusal in /metrics', async () => metricValue(await metrics(), 'wasm_oci_agent_config_last_reload_successful') === 0);
  assert.equal(metricValue(await metrics(), 'wasm_oci_agent_config_reloads_total', { result: 'failure' }), 1);
  assert.match(await readyz(agent, 200, 'still serving the last good config'), /1 filter in place/);
  assert.deepEqual(await readFile(join(out, 'one.wasm')), one);

  await writeFile(real, filtersYaml([{ name: 'two', image: `${reg.host}/filters/two:v1` }]));
  agent.child.kill('SIGHUP');
  await waitFor('the good config followed: two written, one removed', async () =>
    (await readdir(out)).sort().join(',') === '.wasm-oci-agent-state.json,two.wasm' && (await fileDigest(join(out, 'two.wasm'))) === sha256(two));
  assert.equal(metricValue(await metrics(), 'wasm_oci_agent_config_last_reload_successful'), 1);
  assert.equal((agent.stderr().match(/INFO SIGHUP: re-reading the config/g) ?? []).length, 2);
  assert.equal(await agent.stop('SIGTERM'), 0, agent.stderr());
});

test('agent daemon, pull secret rotated with the registry\'s password: the agent reads the new secret by itself, no restart', async (t) => {
  const oldPassword = testPassword('old');
  const newPassword = testPassword('new');
  const reg = await startDistribution({ mode: 'tls-htpasswd', username: 'puller', password: oldPassword, t });
  const dir = await makeTempDir(t);
  const [first, second] = await Promise.all([makeModule(), makeModule()]);
  await pushModule(reg, dir, 'private/f:v1', first);
  const secret = join(dir, 'secrets', 'regcred');
  await mkdir(secret, { recursive: true });
  const project = (password: string): Promise<string | undefined> => atomicWriterProject(secret, {
    '.dockerconfigjson': JSON.stringify({ auths: { [reg.host]: { auth: Buffer.from(`puller:${password}`).toString('base64') } } }),
  });
  await project(oldPassword);
  const config = join(dir, 'filters.yaml');
  await writeFile(config, filtersYaml([{ name: 'private', image: `${reg.host}/private/f:v1`, pullSecret: 'regcred' }]));
  const out = join(dir, 'out');
  const file = join(out, 'private.wasm');
  const agent = await startAgent(['--config', config, '--output', out, '--interval', '1s', '--max-backoff', '2s', '--ca-file', reg.caFile!, '--pull-secrets', join(dir, 'secrets'), '--listen', '127.0.0.1:0'], { t });
  await readyz(agent, 200, 'in place with the old password');

  // The registry's password changes (its htpasswd file rewritten, the registry restarted).
  await reg.halt();
  const { stdout } = await promisify(execFile)('htpasswd', ['-Bbn', 'puller', newPassword]);
  await writeFile(join(reg.dataDir, 'htpasswd'), stdout);
  await reg.restart();
  assert.match(await readyz(agent, 503, 'the old password refused'), /private: E_AUTH: /);
  assert.deepEqual(await readFile(file), first, 'the file in place stays');

  // kubelet projects the rotated Secret; the tag moves, pushed with the new password.
  await project(newPassword);
  await pushModule(reg, dir, 'private/f:v1', second, newPassword);
  await waitFor('the new version in place, pulled with the rotated secret', async () => (await fileDigest(file)) === sha256(second));
  assert.match(await readyz(agent, 200, 'in place with the new password'), /1 filter in place/);
  assert.equal(await agent.stop('SIGTERM'), 0, agent.stderr());
});
