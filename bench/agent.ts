/**
 * The node agent's part of `npm run bench` (`npm run bench -- agent` runs it alone), issue 15:
 *
 *   1. idle: one `wasm-oci agent` process with 10 tag filters at a real 1 s interval for 5 minutes
 *      (300 intervals: the checks of 2.5 hours at the default 30 s), probed the way the rendered
 *      DaemonSet is (/readyz every 5 s, /healthz every 10 s) and scraped (/metrics every 15 s).
 *      Peak RSS over the process's whole life (VmHWM, start-up and the first fetch of every
 *      filter included), RSS at the start and the end of the idle time, CPU time (utime + stime
 *      from /proc/PID/stat) per idle interval. The interval is real, not an injected clock: the
 *      process does exactly what it does in a pod, only more often.
 *   2. tag move: 50 agent processes with 5 tag filters each against one registry, 1 s interval;
 *      a tag moved by one manifest PUT (its blobs pushed beforehand under another tag); the time
 *      from that PUT to the rename of the new file in every agent's directory (inotify on each
 *      directory, the file's bytes checked afterwards). Repeated a few times.
 *
 * Each part runs against its own CNCF Distribution on loopback, and records the machine's load:
 * the 1-minute load average before and after, and how busy all CPUs were (/proc/stat) meanwhile.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { watch, type FSWatcher } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { availableParallelism, loadavg } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { AGENT_NODE_OPTIONS } from '../src/render/agent-daemonset.js';
import { startDistribution, type RunningRegistry } from '../test/helpers/distribution.js';
import { examplesDir } from '../test/helpers/paths.js';
import { makePaddedWasm, sizeLabel } from './inputs.js';

const execFileAsync = promisify(execFile);

export interface AgentBenchConfig {
  /** Part 1: filters of the idle agent, and how long it idles. */
  idleFilters: number;
  idleSeconds: number;
  /** Part 2: agents, filters each, tag moves. */
  agents: number;
  agentFilters: number;
  moves: number;
  intervalSeconds: number;
  /** Size of every filter module. */
  filterBytes: number;
}

export const DEFAULT_AGENT_BENCH: AgentBenchConfig = {
  idleFilters: 10,
  idleSeconds: 300,
  agents: 50,
  agentFilters: 5,
  moves: 3,
  intervalSeconds: 1,
  filterBytes: 1024 * 1024,
};

export interface AgentBenchEnv {
  binPath: string;
  node: string;
  nodeVersion: string;
  /** Scratch root (removed by the caller). */
  work: string;
  /** Clean environment for the agents (throwaway HOME). */
  env: Record<string, string>;
}

export interface MachineLoad {
  loadAverage1mBefore: number;
  loadAverage1mAfter: number;
  /** Share of all CPUs' time that was busy during the part (every process on the machine). */
  cpuBusyPercent: number;
  nproc: number;
}

export interface IdleResult {
  filters: number;
  filterBytes: number;
  intervalSeconds: number;
  idleSeconds: number;
  /** Rounds of checks seen at the registry: manifest HEADs / filters. */
  intervals: number;
  headsPerInterval: number;
  otherRequests: number;
  peakRssKiB: number;
  /** At the end: RSS of anonymous memory (heap, malloc) and of mapped files (mostly the node binary). */
  rssAnonKiB: number;
  rssFileKiB: number;
  bareNode: { rss: number; anon: number; file: number };
  rssIdleStartKiB: number;
  rssIdleEndKiB: number;
  maxSampledIdleRssKiB: number;
  cpuMsTotal: number;
  cpuMsPerInterval: number;
  probes: { readyz: number; healthz: number; metrics: number };
  load: MachineLoad;
}

export interface MoveResult {
  agents: number;
  filtersEach: number;
  intervalSeconds: number;
  filterBytes: number;
  /** Per move: ms from the manifest PUT to each agent's rename, sorted. */
  moves: Array<{ msSorted: number[]; firstMs: number; medianMs: number; p90Ms: number; lastMs: number }>;
  load: MachineLoad;
  /** Sum of VmHWM over the agents at the end, KiB (50 Node processes on one machine). */
  peakRssKiBMax: number;
}

export interface AgentBenchResult {
  config: AgentBenchConfig;
  node: string;
  /** NODE_OPTIONS the agents ran with. */
  nodeOptions: string;
  idle: IdleResult;
  move: MoveResult;
}

// ---- /proc readings ---------------------------------------------------------------------------

let clkTck: number | undefined;
async function ticksPerSecond(): Promise<number> {
  if (clkTck === undefined) {
    try {
      clkTck = Number((await execFileAsync('getconf', ['CLK_TCK'])).stdout.trim()) || 100;
    } catch {
      clkTck = 100;
    }
  }
  return clkTck;
}

/** utime + stime of a process, in ms. */
async function cpuMs(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces) in parentheses; utime and stime are fields 14 and 15.
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(rest[11]) + Number(rest[12])) * 1000) / (await ticksPerSecond());
}

async function memKiB(pid: number): Promise<{ rss: number; hwm: number; anon: number; file: number }> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const field = (name: string): number => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { rss: field('VmRSS'), hwm: field('VmHWM'), anon: field('RssAnon'), file: field('RssFile') };
}

/** RSS of a bare `node` doing nothing, on this machine: the floor any Node program starts from. */
async function bareNodeRss(node: string): Promise<{ rss: number; anon: number; file: number }> {
  const { stdout } = await execFileAsync(node, ['-e', "setTimeout(() => process.stdout.write(require('fs').readFileSync('/proc/self/status', 'utf8')), 500)"]);
  const field = (name: string): number => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(stdout)?.[1] ?? NaN);
  return { rss: field('VmRSS'), anon: field('RssAnon'), file: field('RssFile') };
}

/** Busy and total jiffies of all CPUs. */
async function cpuJiffies(): Promise<{ busy: number; total: number }> {
  const line = (await readFile('/proc/stat', 'utf8')).split('\n')[0]!.split(/\s+/).slice(1).map(Number);
  const total = line.reduce((a, b) => a + b, 0);
  const idle = (line[3] ?? 0) + (line[4] ?? 0);
  return { busy: total - idle, total };
}

async function loadMeter(): Promise<() => Promise<MachineLoad>> {
  const before = loadavg()[0]!;
  const j0 = await cpuJiffies();
  return async () => {
    const j1 = await cpuJiffies();
    return {
      loadAverage1mBefore: before,
      loadAverage1mAfter: loadavg()[0]!,
      cpuBusyPercent: (100 * (j1.busy - j0.busy)) / Math.max(1, j1.total - j0.total),
      nproc: availableParallelism(),
    };
  };
}

// ---- agents -----------------------------------------------------------------------------------

interface Agent {
  child: ChildProcess;
  out: string;
  stderr: () => string;
}

const running = new Set<ChildProcess>();

/** Kills every agent still running (Ctrl-C, a failed part). */
export function killAgents(): void {
  for (const child of running) child.kill('SIGKILL');
}

/**
 * NODE_OPTIONS as the rendered DaemonSet sets it (src/render/agent-daemonset.ts), so the figures
 * are those of what `render --kind agent` deploys; BENCH_AGENT_NODE_OPTIONS overrides it (an empty
 * value measures Node's defaults).
 */
export function agentNodeOptions(): string {
  return process.env.BENCH_AGENT_NODE_OPTIONS ?? AGENT_NODE_OPTIONS;
}

function startAgent(benv: AgentBenchEnv, args: string[], out: string): Agent {
  const nodeOptions = agentNodeOptions();
  const env = { ...benv.env, ...(nodeOptions ? { NODE_OPTIONS: nodeOptions } : {}) };
  const child = spawn(benv.node, [benv.binPath, 'agent', ...args], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  running.add(child);
  child.once('exit', () => running.delete(child));
  let err = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => {
    err += d;
    if (err.length > 1 << 20) err = err.slice(-(1 << 19));
  });
  return { child, out, stderr: () => err };
}

async function stopAgents(agents: Agent[]): Promise<void> {
  await Promise.all(agents.map((a) => new Promise<void>((resolve) => {
    if (a.child.exitCode !== null || a.child.signalCode !== null) return resolve();
    const timer = setTimeout(() => a.child.kill('SIGKILL'), 10_000);
    a.child.once('exit', () => { clearTimeout(timer); resolve(); });
    a.child.kill('SIGTERM');
  })));
}

function httpGet(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => { body += d; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

async function until(what: string, cond: () => boolean | Promise<boolean>, limitMs: number, agents: Agent[] = []): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!(await cond())) {
    const dead = agents.find((a) => a.child.exitCode !== null);
    if (dead) throw new Error(`an agent exited (${dead.child.exitCode}) while waiting for ${what}:\n${dead.stderr().slice(-2000)}`);
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what} after ${limitMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const sha = (b: Buffer): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;

async function fileDigest(path: string): Promise<string | undefined> {
  try {
    return sha(await readFile(path));
  } catch {
    return undefined;
  }
}

/** Pushes `file` as REPO:TAG with wasm-oci itself (not measured). */
async function push(benv: AgentBenchEnv, reg: RunningRegistry, ref: string, file: string): Promise<void> {
  await execFileAsync(benv.node, [benv.binPath, 'push', '--plain-http', `${reg.host}/${ref}`, file], { env: benv.env, timeout: 120_000 });
}

/** Distinct valid modules of `size` bytes (example-filter.wasm padded with random bytes). */
async function makeModules(dir: string, count: number, size: number, prefix: string): Promise<Array<{ path: string; digest: string }>> {
  await mkdir(dir, { recursive: true });
  const out: Array<{ path: string; digest: string }> = [];
  for (let i = 0; i < count; i++) out.push(await makePaddedWasm(join(examplesDir, 'example-filter.wasm'), join(dir, `${prefix}${i}.wasm`), size));
  return out;
}

function configYaml(host: string, repos: string[]): string {
  return `filters:\n${repos.map((r, i) => `  - name: f${i}\n    image: ${host}/${r}:v1\n`).join('')}`;
}

// ---- part 1: idle -----------------------------------------------------------------------------

async function idlePart(benv: AgentBenchEnv, cfg: AgentBenchConfig, log: (s: string) => void): Promise<IdleResult> {
  const dir = join(benv.work, 'agent-idle');
  const reg = await startDistribution({ mode: 'plain' });
  let agent: Agent | undefined;
  try {
    const modules = await makeModules(join(dir, 'modules'), cfg.idleFilters, cfg.filterBytes, 'idle-');
    const repos = modules.map((_, i) => `bench-agent/idle-f${i}`);
    for (const [i, m] of modules.entries()) await push(benv, reg, `${repos[i]}:v1`, m.path);
    const config = join(dir, 'filters.yaml');
    await writeFile(config, configYaml(reg.host, repos));
    const out = join(dir, 'out');
    await mkdir(out);
    // As the rendered DaemonSet runs it (src/render/agent-daemonset.ts), but at a 1 s interval.
    agent = startAgent(benv, ['--config', config, '--output', out, '--listen', '127.0.0.1:0', '--interval', `${cfg.intervalSeconds}s`, '--log-format', 'json', '--plain-http'], out);
    const a = agent;
    let base = '';
    await until('the agent to listen', () => {
      const m = /"msg":"listening","address":"(http:\/\/[^"]+)"/.exec(a.stderr());
      if (m) base = m[1]!;
      return base !== '';
    }, 30_000, [a]);
    await until('every filter in place (/readyz 200)', async () => (await httpGet(`${base}/readyz`).catch(() => ({ status: 0 }))).status === 200, 120_000, [a]);
    for (const [i, m] of modules.entries()) {
      const got = await fileDigest(join(out, `f${i}.wasm`));
      if (got !== m.digest) throw new Error(`f${i}.wasm is ${got}, expected ${m.digest}`);
    }
    // Let the first passes' garbage settle for one interval, then measure.
    await new Promise((r) => setTimeout(r, cfg.intervalSeconds * 1000));
    const pid = a.child.pid!;
    await reg.flushLog();
    const mark = reg.requests().length;
    const cpu0 = await cpuMs(pid);
    const mem0 = await memKiB(pid);
    const meter = await loadMeter();
    const probes = { readyz: 0, healthz: 0, metrics: 0 };
    let maxRss = mem0.rss;
    const started = Date.now();
    log(`  agent idle: ${cfg.idleFilters} filters, ${cfg.intervalSeconds} s interval, ${cfg.idleSeconds} s:`);
    let lastReport = started;
    for (let s = 1; Date.now() - started < cfg.idleSeconds * 1000; s++) {
      await new Promise((r) => setTimeout(r, Math.max(0, started + s * 1000 - Date.now())));
      if (s % 5 === 0) { await httpGet(`${base}/readyz`); probes.readyz++; }
      if (s % 10 === 0) { await httpGet(`${base}/healthz`); probes.healthz++; }
      if (s % 15 === 0) {
        const m = await httpGet(`${base}/metrics`);
        if (m.status !== 200) throw new Error(`/metrics answered ${m.status}`);
        probes.metrics++;
      }
      maxRss = Math.max(maxRss, (await memKiB(pid)).rss);
      if (Date.now() - lastReport >= 60_000) {
        lastReport = Date.now();
        log(` ${Math.round((Date.now() - started) / 1000)}s`);
      }
      if (a.child.exitCode !== null) throw new Error(`the agent exited (${a.child.exitCode}):\n${a.stderr().slice(-2000)}`);
    }
    const cpu1 = await cpuMs(pid);
    const mem1 = await memKiB(pid);
    const load = await meter();
    await reg.flushLog();
    const idle = reg.requests().slice(mark);
    log('\n');
    const heads = idle.filter((e) => e.method === 'HEAD' && e.path.includes('/manifests/')).length;
    const intervals = heads / cfg.idleFilters;
    return {
      filters: cfg.idleFilters,
      filterBytes: cfg.filterBytes,
      intervalSeconds: cfg.intervalSeconds,
      idleSeconds: cfg.idleSeconds,
      intervals,
      headsPerInterval: heads / Math.max(1, intervals),
      otherRequests: idle.length - heads,
      peakRssKiB: mem1.hwm,
      rssAnonKiB: mem1.anon,
      rssFileKiB: mem1.file,
      bareNode: await bareNodeRss(benv.node),
      rssIdleStartKiB: mem0.rss,
      rssIdleEndKiB: mem1.rss,
      maxSampledIdleRssKiB: maxRss,
      cpuMsTotal: cpu1 - cpu0,
      cpuMsPerInterval: (cpu1 - cpu0) / Math.max(1, intervals),
      probes,
      load,
    };
  } finally {
    if (agent) await stopAgents([agent]);
    await reg.stop().catch(() => undefined);
  }
}

// ---- part 2: a tag move reaching 50 agents -------------------------------------------------------

const MANIFEST_ACCEPT = 'application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json';

async function movePart(benv: AgentBenchEnv, cfg: AgentBenchConfig, log: (s: string) => void): Promise<MoveResult> {
  const dir = join(benv.work, 'agent-move');
  const reg = await startDistribution({ mode: 'plain' });
  const agents: Agent[] = [];
  const watchers: FSWatcher[] = [];
  try {
    const modules = await makeModules(join(dir, 'modules'), cfg.agentFilters, cfg.filterBytes, 'f-');
    const repos = modules.map((_, i) => `bench-agent/move-f${i}`);
    for (const [i, m] of modules.entries()) await push(benv, reg, `${repos[i]}:v1`, m.path);
    // The versions f0 will move to, pushed beforehand under their own tags: the move is one PUT.
    const next = await makeModules(join(dir, 'next'), cfg.moves, cfg.filterBytes, 'next-');
    const nextManifests: Array<{ bytes: Buffer; type: string; digest: string }> = [];
    for (const [k, m] of next.entries()) {
      await push(benv, reg, `${repos[0]}:next-${k}`, m.path);
      const res = await fetch(`${reg.url}/v2/${repos[0]}/manifests/next-${k}`, { headers: { Accept: MANIFEST_ACCEPT } });
      if (res.status !== 200) throw new Error(`GET manifest next-${k}: ${res.status}`);
      nextManifests.push({ bytes: Buffer.from(await res.arrayBuffer()), type: res.headers.get('content-type') ?? 'application/vnd.oci.image.manifest.v1+json', digest: m.digest });
    }
    const config = join(dir, 'filters.yaml');
    await writeFile(config, configYaml(reg.host, repos));
    log(`  agent tag move: starting ${cfg.agents} agents (${cfg.agentFilters} filters each, ${cfg.intervalSeconds} s interval)\n`);
    for (let i = 0; i < cfg.agents; i++) {
      const out = join(dir, `node-${i}`);
      await mkdir(out);
      agents.push(startAgent(benv, ['--config', config, '--output', out, '--interval', `${cfg.intervalSeconds}s`, '--log-format', 'json', '--plain-http'], out));
    }
    const allAt = async (name: string, digest: string): Promise<boolean> => {
      for (const a of agents) if ((await fileDigest(join(a.out, name))) !== digest) return false;
      return true;
    };
    for (const [i, m] of modules.entries()) await until(`every agent serving f${i}`, () => allAt(`f${i}.wasm`, m.digest), 300_000, agents);
    // One more interval for every agent's first passes to be over.
    await new Promise((r) => setTimeout(r, 2000 * cfg.intervalSeconds));

    // inotify on every agent's directory: the time the new f0.wasm was renamed into place.
    let seen = new Map<number, number>();
    let t0 = 0;
    agents.forEach((a, i) => {
      const w = watch(a.out, { persistent: false }, (_event, file) => {
        if (file === 'f0.wasm' && t0 > 0 && !seen.has(i)) seen.set(i, performance.now() - t0);
      });
      watchers.push(w);
    });
    const meter = await loadMeter();
    const moves: MoveResult['moves'] = [];
    for (const [k, m] of nextManifests.entries()) {
      seen = new Map();
      t0 = performance.now();
      const res = await fetch(`${reg.url}/v2/${repos[0]}/manifests/v1`, { method: 'PUT', headers: { 'Content-Type': m.type }, body: m.bytes });
      await res.arrayBuffer();
      if (res.status !== 201) throw new Error(`PUT manifest v1 (move ${k + 1}): ${res.status}`);
      await until(`every agent renaming the moved f0 into place (move ${k + 1})`, () => seen.size === agents.length, 120_000, agents);
      await until(`every agent serving the moved f0 (move ${k + 1})`, () => allAt('f0.wasm', m.digest), 30_000, agents);
      const ms = [...seen.values()].sort((a, b) => a - b);
      const at = (q: number): number => ms[Math.min(ms.length - 1, Math.floor(q * ms.length))]!;
      moves.push({ msSorted: ms, firstMs: ms[0]!, medianMs: at(0.5), p90Ms: at(0.9), lastMs: ms[ms.length - 1]! });
      log(`  move ${k + 1}: every agent serving the new f0 after ${(ms[ms.length - 1]! / 1000).toFixed(2)} s\n`);
      t0 = 0;
      // Apart by a few intervals, so the next move starts from a settled fleet.
      await new Promise((r) => setTimeout(r, 3000 * cfg.intervalSeconds));
    }
    const load = await meter();
    let peak = 0;
    for (const a of agents) peak = Math.max(peak, (await memKiB(a.child.pid!)).hwm);
    return { agents: cfg.agents, filtersEach: cfg.agentFilters, intervalSeconds: cfg.intervalSeconds, filterBytes: cfg.filterBytes, moves, load, peakRssKiBMax: peak };
  } finally {
    for (const w of watchers) w.close();
    await stopAgents(agents);
    await reg.stop().catch(() => undefined);
  }
}

export async function runAgentBench(benv: AgentBenchEnv, cfg: AgentBenchConfig, log: (s: string) => void): Promise<AgentBenchResult> {
  const idle = await idlePart(benv, cfg, log);
  const move = await movePart(benv, cfg, log);
  return { config: cfg, node: benv.nodeVersion, nodeOptions: agentNodeOptions(), idle, move };
}

// ---- report -------------------------------------------------------------------------------------

const mib = (kib: number): string => `${(kib / 1024).toFixed(1)} MiB`;
const secs = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;

function loadLine(l: MachineLoad): string {
  return `machine: ${l.nproc} CPUs, load average ${l.loadAverage1mBefore.toFixed(1)} before / ${l.loadAverage1mAfter.toFixed(1)} after, all CPUs ${l.cpuBusyPercent.toFixed(0)}% busy meanwhile (every process)`;
}

/** DESIGN.md / issue 15 target: the agent under 64 MiB with 10 filters idle. */
export const AGENT_RSS_TARGET_KIB = 64 * 1024;

export function formatAgentBench(r: AgentBenchResult): string {
  const i = r.idle;
  const m = r.move;
  const lasts = m.moves.map((x) => x.lastMs);
  return [
    `Agent (issue 15), node ${r.node}, NODE_OPTIONS=${r.nodeOptions || '(none)'} (as rendered unless BENCH_AGENT_NODE_OPTIONS); filters of ${sizeLabel(i.filterBytes)}:`,
    `  idle: ${i.filters} tag filters, real ${i.intervalSeconds} s interval for ${i.idleSeconds} s = ${i.intervals.toFixed(0)} intervals (as ${((i.intervals * 30) / 3600).toFixed(1)} h at 30 s); probed /readyz x${i.probes.readyz}, /healthz x${i.probes.healthz}, scraped /metrics x${i.probes.metrics}`,
    `    peak RSS ${mib(i.peakRssKiB)} (VmHWM, whole life: start-up and first fetch included); RSS ${mib(i.rssIdleStartKiB)} at idle start, ${mib(i.rssIdleEndKiB)} at the end, ${mib(i.maxSampledIdleRssKiB)} highest sampled while idle`,
    `    at the end ${mib(i.rssAnonKiB)} anonymous (heap, malloc) + ${mib(i.rssFileKiB)} mapped files (the node binary's pages); a bare \`node\` here: ${mib(i.bareNode.rss)} (${mib(i.bareNode.anon)} + ${mib(i.bareNode.file)})`,
    `    target peak RSS < ${mib(AGENT_RSS_TARGET_KIB)}: ${i.peakRssKiB < AGENT_RSS_TARGET_KIB ? 'PASS' : 'FAIL'}`,
    `    CPU ${i.cpuMsTotal.toFixed(0)} ms in ${i.idleSeconds} s = ${i.cpuMsPerInterval.toFixed(2)} ms per idle interval (${i.headsPerInterval.toFixed(1)} manifest HEADs each; ${i.otherRequests} other registry requests in all)`,
    `    ${loadLine(i.load)}`,
    `  tag move: ${m.agents} agents x ${m.filtersEach} tag filters, ${m.intervalSeconds} s interval; time from the manifest PUT to the new file renamed into place, per move:`,
    ...m.moves.map((x, k) => `    move ${k + 1}: first ${secs(x.firstMs)}, median ${secs(x.medianMs)}, 90% ${secs(x.p90Ms)}, every one of ${m.agents}: ${secs(x.lastMs)}`),
    `    every agent serving the new file: ${secs(Math.min(...lasts))} to ${secs(Math.max(...lasts))} (bound: one interval, ${m.intervalSeconds} s, plus the fetch; at 30 s expect up to ~30 s)`,
    `    highest agent peak RSS among the ${m.agents}: ${mib(m.peakRssKiBMax)}`,
    `    ${loadLine(m.load)}`,
  ].join('\n');
}
