import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';
import { startDistribution, type AccessLogEntry, type RunningRegistry } from '../helpers/distribution.js';
import { binPath } from '../helpers/paths.js';
import { examplesDir } from '../helpers/paths.js';
import { makeTempDir } from '../helpers/tmp.js';
import { padModule } from '../helpers/wasm-padding.js';

/**
 * Issue 15's load test: 50 agent processes with 5 tag filters each against one real
 * Distribution, at a 1 s interval. Counts what the registry's access log shows per agent per
 * interval, with nothing changed and after one tag moves, and prints the figures.
 */
const AGENTS = 50;
const FILTERS = 5;
const INTERVAL_S = 1;
/** Idle intervals observed (counted by requests, not by the clock). */
const IDLE_INTERVALS = 4;

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

async function pushModule(reg: RunningRegistry, dir: string, ref: string, module: Buffer): Promise<void> {
  const file = join(dir, `push-${randomBytes(4).toString('hex')}.wasm`);
  await writeFile(file, module);
  const r = await runCli(['push', '--plain-http', `${reg.host}/${ref}`, file], { cwd: dir });
  assert.equal(r.code, 0, r.stderr);
}

async function until(what: string, cond: () => Promise<boolean> | boolean, limitMs = 180_000): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function allServe(outs: string[], name: string, wanted: string): Promise<boolean> {
  for (const out of outs) {
    try {
      if (sha(await readFile(join(out, `${name}.wasm`))) !== wanted) return false;
    } catch {
      return false;
    }
  }
  return true;
}

function tally(entries: AccessLogEntry[]): Record<string, number> {
  const t: Record<string, number> = {};
  for (const e of entries) {
    const what = e.path.includes('/manifests/') ? 'manifest' : e.path.includes('/blobs/') ? 'blob' : 'other';
    const key = `${e.method} ${what}`;
    t[key] = (t[key] ?? 0) + 1;
  }
  return t;
}

test(`agent load: ${AGENTS} agents x ${FILTERS} tag filters, ${INTERVAL_S}s interval: idle is one HEAD per filter; a tag move is one manifest GET and one blob GET per agent`, { timeout: 600_000 }, async (t) => {
  const reg = await startDistribution({ mode: 'plain', t });
  const dir = await makeTempDir(t);
  const base = await readFile(join(examplesDir, 'example-filter.wasm'));
  const modules = Array.from({ length: FILTERS }, (_, i) => padModule(base, Buffer.from(`filter ${i}`)));
  for (let i = 0; i < FILTERS; i++) await pushModule(reg, dir, `load/f${i}:v1`, modules[i]!);
  const config = join(dir, 'filters.yaml');
  await writeFile(config, `filters:\n${modules.map((_, i) => `  - name: f${i}\n    image: ${reg.host}/load/f${i}:v1\n`).join('')}`);

  const outs: string[] = [];
  const children: ChildProcess[] = [];
  t.after(async () => {
    await Promise.all(children.map((c) => new Promise<void>((resolve) => {
      if (c.exitCode !== null || c.signalCode !== null) return resolve();
      c.once('exit', () => resolve());
      c.kill('SIGTERM');
    })));
  });
  for (let i = 0; i < AGENTS; i++) {
    const out = join(dir, `node-${i}`);
    await mkdir(out);
    outs.push(out);
    const child = spawn(process.execPath, [binPath, 'agent', '--config', config, '--output', out, '--interval', `${INTERVAL_S}s`, '--plain-http', '--log-format', 'json'], {
      stdio: ['ignore', 'ignore', 'ignore'],
      env: { PATH: process.env.PATH ?? '', HOME: dir, DOCKER_CONFIG: join(dir, 'docker') },
    });
    children.push(child);
  }
  for (let i = 0; i < FILTERS; i++) await until(`every agent serving f${i}`, () => allServe(outs, `f${i}`, sha(modules[i]!)));
  assert.ok(children.every((c) => c.exitCode === null), 'every agent is still running');

  // Idle: from a mark, wait (by count) for IDLE_INTERVALS intervals' worth of HEADs.
  const idleMark = reg.requests().length;
  const idleStart = performance.now();
  await until('idle intervals', () => reg.requests().length - idleMark >= AGENTS * FILTERS * IDLE_INTERVALS);
  const idle = reg.requests().slice(idleMark);
  const intervals = (performance.now() - idleStart) / 1000 / INTERVAL_S;
  const idleTally = tally(idle);
  const heads = idle.filter((e) => e.method === 'HEAD' && e.path.includes('/manifests/'));
  const perFilter = new Map<string, number>();
  for (const e of heads) perFilter.set(e.path, (perFilter.get(e.path) ?? 0) + 1);
  // A figure to print, not to assert: the interval is jittered and the machine shared.
  const idleFigure = heads.length / (AGENTS * intervals);
  console.log(`# agent-load idle: ${idle.length} requests in ${intervals.toFixed(1)} intervals (wall clock) of ${AGENTS} agents: ${JSON.stringify(idleTally)}`);
  console.log(`# agent-load idle: manifest HEADs per agent per interval = ${idleFigure.toFixed(2)} (${FILTERS} tag filters); blob requests = ${idle.filter((e) => e.path.includes('/blobs/')).length}; manifest GETs = ${idle.filter((e) => e.method === 'GET' && e.path.includes('/manifests/')).length}`);
  assert.equal(idle.filter((e) => e.path.includes('/blobs/')).length, 0, 'no blob request while nothing changed');
  assert.equal(idle.filter((e) => e.method === 'GET').length, 0, 'no GET at all while nothing changed');
  assert.equal(heads.length, idle.length, 'every idle request is a manifest HEAD');
  assert.deepEqual([...perFilter.keys()].sort(), modules.map((_, i) => `/v2/load/f${i}/manifests/v1`), 'each tag filter is asked about');

  // Move one tag; wait until every agent serves the new file.
  const moved = padModule(base, Buffer.from('filter 0, version 2'));
  const moveMark = reg.requests().length;
  await pushModule(reg, dir, 'load/f0:v1', moved);
  const pushed = reg.requests().length;
  await until('every agent serving the moved f0', () => allServe(outs, 'f0', sha(moved)));
  // From before the push: an agent may see the new tag while the push is still returning. The
  // push itself sends no GET (it HEADs blobs and PUTs), so every GET here is an agent's.
  const after = reg.requests().slice(moveMark).filter((e) => e.path.startsWith('/v2/load/f0/') && e.method !== 'PUT' && e.method !== 'POST' && e.method !== 'PATCH');
  // (The push's own HEAD of a new blob is a 404; only the agents' GETs are checked below.)
  const manifestGets = after.filter((e) => e.method === 'GET' && e.path.includes('/manifests/')).length;
  const blobGets = after.filter((e) => e.method === 'GET' && e.path.includes('/blobs/')).length;
  console.log(`# agent-load tag move: ${pushed - moveMark} requests during the push (agents' HEADs included), then for f0 (pull side, from before the push) until all ${AGENTS} serve it: ${JSON.stringify(tally(after))}`);
  console.log(`# agent-load tag move: per agent ${(manifestGets / AGENTS).toFixed(2)} manifest GET, ${(blobGets / AGENTS).toFixed(2)} blob GET`);
  assert.equal(manifestGets, AGENTS, 'one manifest GET per agent');
  assert.equal(blobGets, AGENTS, 'one blob GET per agent: the module, nothing else');
  assert.equal(after.filter((e) => e.method === 'GET' && e.status >= 400).length, 0, 'no agent GET failed');
  assert.ok(children.every((c) => c.exitCode === null), 'every agent is still running');
});
