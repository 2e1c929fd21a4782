/**
 * `npm run bench`: wasm-oci against the floor (curl) and the peer (skopeo), in one run, against
 * one CNCF Distribution on loopback. Tools alternate within every iteration (the order rotates)
 * so drift of the machine spreads over all of them.
 *
 *   npm run bench                       filters of 100 KiB and 1 MiB, ten filters in one pull, blobs of
 *                                       1 MiB, 64 MiB, 1 GiB; 5 runs (3 at 1 GiB); 20 start-ups;
 *                                       wasm-oci on Node 20, 22 and 24 side by side
 *   npm run bench -- --quick            skip the 1 GiB blob
 *   npm run bench -- --node 22          one Node version (BENCH_NODE=20,24; `current` = this node)
 *   BENCH_SIZES=1M,64M BENCH_RUNS=3 npm run bench
 *   npm run bench -- --sizes 64M --runs 3 --startup-runs 10
 *   BENCH_BIN=/other/checkout/bin/wasm-oci.js npm run bench    measure another build of the CLI
 *
 * Parts, by name (default: all): `transfer` (everything above) and `agent` (bench/agent.ts: the
 * node agent idle for 5 minutes with 10 filters, and a tag move reaching 50 agents).
 *   npm run bench -- agent                                  the agent part alone (this Node unless --node)
 *   npm run bench -- agent --agent-idle 60 --agents 20      shorter idle, fewer agents
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile, readFile } from 'node:fs/promises';
import { availableParallelism, cpus, loadavg, release, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startDistribution, type RunningRegistry } from '../test/helpers/distribution.js';
import { binPath, examplesDir, repoRoot } from '../test/helpers/paths.js';
import { makePaddedWasm, makeRandomFile, parseSize, sizeLabel, type InputFile } from './inputs.js';
import { DEFAULT_AGENT_BENCH, formatAgentBench, killAgents, runAgentBench, type AgentBenchConfig, type AgentBenchResult } from './agent.js';
import { GNU_TIME, killRunning } from './measure.js';
import { bareNodeFor, evaluateTargets, formatMarkdown, formatTable, formatTargets, type ScenarioKind, type ScenarioResult, type ToolRuns } from './report.js';
import { summarize, type Sample } from './stats.js';
import * as T from './tools.js';

const execFileAsync = promisify(execFile);

interface Config {
  sizes: number[];
  runs: number;
  runsLarge: number;
  startupRuns: number;
  filterSizes: number[];
  /** How many different filters the one-command pull takes. */
  manyFilters: number;
  /** Node major versions (or `current`) that run wasm-oci. */
  nodes: string[];
  /** Which parts run: `transfer`, `agent`. */
  parts: Set<'transfer' | 'agent'>;
  agent: AgentBenchConfig;
}

const PARTS = ['transfer', 'agent'] as const;

function readConfig(argv: string[]): Config {
  const flag = (name: string): string | undefined => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const quick = argv.includes('--quick') || process.env.BENCH_QUICK === '1';
  const sizesSpec = flag('--sizes') ?? process.env.BENCH_SIZES ?? (quick ? '1M,64M' : '1M,64M,1G');
  const sizes = sizesSpec.split(',').filter(Boolean).map(parseSize).sort((a, b) => a - b);
  const runs = Number(flag('--runs') ?? process.env.BENCH_RUNS ?? 5);
  const runsLarge = Number(flag('--runs-large') ?? process.env.BENCH_RUNS_LARGE ?? Math.min(runs, 3));
  const startupRuns = Number(flag('--startup-runs') ?? process.env.BENCH_STARTUP_RUNS ?? 20);
  for (const [k, v] of Object.entries({ runs, runsLarge, startupRuns })) {
    if (!Number.isInteger(v) || v < 1) throw new Error(`${k} must be a positive integer`);
  }
  const filterSizes = (flag('--filter-sizes') ?? process.env.BENCH_FILTER_SIZES ?? '100K,1M').split(',').filter(Boolean).map(parseSize).sort((a, b) => a - b);
  // Bare words name parts; a flag's value is never one (`--sizes 1M` has no bare word).
  const named = argv.filter((a, i) => !a.startsWith('-') && !(i > 0 && argv[i - 1]!.startsWith('--') && !['--quick'].includes(argv[i - 1]!)));
  for (const n of named) if (!(PARTS as readonly string[]).includes(n)) throw new Error(`unknown part "${n}": the parts are ${PARTS.join(', ')}`);
  const parts = new Set<'transfer' | 'agent'>(named.length ? (named as Array<'transfer' | 'agent'>) : PARTS);
  // The agent part alone runs on this Node unless told otherwise (no npx download for it).
  const nodes = (flag('--node') ?? process.env.BENCH_NODE ?? (parts.has('transfer') ? '20,22,24' : 'current')).split(',').map((n) => n.trim()).filter(Boolean);
  const num = (name: string, env: string, dflt: number): number => {
    const v = Number(flag(name) ?? process.env[env] ?? dflt);
    if (!Number.isFinite(v) || v <= 0) throw new Error(`${name} must be a positive number`);
    return v;
  };
  const agent: AgentBenchConfig = {
    ...DEFAULT_AGENT_BENCH,
    idleSeconds: num('--agent-idle', 'BENCH_AGENT_IDLE', DEFAULT_AGENT_BENCH.idleSeconds),
    agents: num('--agents', 'BENCH_AGENTS', DEFAULT_AGENT_BENCH.agents),
    moves: num('--agent-moves', 'BENCH_AGENT_MOVES', DEFAULT_AGENT_BENCH.moves),
  };
  return { sizes, runs, runsLarge, startupRuns, filterSizes, manyFilters: 10, nodes, parts, agent };
}

/**
 * The Node binaries to compare. This process's own Node serves its major; the others come from
 * the npm registry's `node` package (`npx -p node@22`), which ships the official binaries.
 */
async function resolveNodes(specs: string[]): Promise<Array<{ label: string; path: string; version: string }>> {
  const out: Array<{ label: string; path: string; version: string }> = [];
  const own = process.version.slice(1).split('.')[0]!;
  for (const spec of specs) {
    let path: string;
    if (spec === 'current' || spec === own) {
      path = process.execPath;
    } else {
      try {
        const { stdout } = await execFileAsync('npx', ['-y', '-p', `node@${spec}`, 'node', '-p', 'process.execPath'], { timeout: 300_000 });
        path = stdout.trim();
      } catch (err) {
        process.stderr.write(`warning: Node ${spec} unavailable (${(err as Error).message.split('\n')[0]}); measured without it\n`);
        continue;
      }
    }
    const { stdout } = await execFileAsync(path, ['-p', 'process.version']);
    out.push({ label: `node${stdout.trim().slice(1).split('.')[0]}`, path, version: stdout.trim() });
  }
  if (out.length === 0) throw new Error(`none of the Node versions ${specs.join(',')} could be run`);
  return out;
}

async function version(cmd: string, args: string[], pick: RegExp = /^(.*)$/m): Promise<string> {
  try {
    const { stdout, stderr } = await execFileAsync(cmd, args);
    return (pick.exec(stdout + stderr)?.[1] ?? (stdout + stderr)).trim();
  } catch (err) {
    return `unavailable (${(err as Error).message.split('\n')[0]})`;
  }
}

async function preflight(transfer: boolean): Promise<void> {
  const missing: string[] = [];
  const tools: ReadonlyArray<readonly [string, readonly string[]]> = transfer
    ? [[GNU_TIME, ['--version']], ['skopeo', ['--version']], ['curl', ['--version']], ['docker-registry', ['--version']]]
    : [['docker-registry', ['--version']]];
  for (const [cmd, args] of tools) {
    try {
      await execFileAsync(cmd, [...args]);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') missing.push(cmd);
    }
  }
  if (missing.length) throw new Error(`missing: ${missing.join(', ')}; run scripts/install-system-deps.sh (Debian packages time, skopeo, curl, docker-registry)`);
  try {
    await readFile(join(repoRoot, 'dist', 'src', 'cli', 'main.js'));
  } catch {
    throw new Error('dist/src/cli/main.js is missing: build first (npm run bench runs tsc)');
  }
}

/** Runs `iterations` rounds; in round i the tools go in an order rotated by i. A tool that fails stops. */
async function alternate(
  kind: ScenarioKind,
  title: string,
  sizeBytes: number | undefined,
  iterations: number,
  tools: Array<{ name: string; run: (i: number) => Promise<Sample> }>,
): Promise<ScenarioResult> {
  const runs: ToolRuns[] = tools.map((t) => ({ tool: t.name, samples: [] }));
  process.stderr.write(`${title}:`);
  for (let i = 0; i < iterations; i++) {
    for (let k = 0; k < tools.length; k++) {
      const j = (i + k) % tools.length;
      const r = runs[j]!;
      if (r.error) continue;
      try {
        r.samples.push(await tools[j]!.run(i));
      } catch (err) {
        r.error = (err as Error).message;
        process.stderr.write(`\n  ${r.tool} failed: ${r.error.split('\n').slice(0, 3).join(' | ')}\n`);
      }
    }
    process.stderr.write(` ${i + 1}`);
  }
  process.stderr.write('\n');
  return { kind, title, ...(sizeBytes !== undefined ? { sizeBytes } : {}), tools: runs };
}

function stamp(d: Date): string {
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${d.getFullYear()}${p(d.getMonth() + 1)}${p(d.getDate())}-${p(d.getHours())}${p(d.getMinutes())}${p(d.getSeconds())}`;
}

async function main(): Promise<number> {
  const config = readConfig(process.argv.slice(2));
  await preflight(config.parts.has('transfer'));
  const started = new Date();
  const loadBefore = loadavg()[0]!;
  if (loadBefore > availableParallelism() / 2) {
    process.stderr.write(`warning: load average ${loadBefore.toFixed(1)} on ${availableParallelism()} CPUs; timings will be noisy (memory figures are not affected)\n`);
  }
  const runId = stamp(started).replace('-', '');

  let registry: RunningRegistry | undefined;
  let work: string | undefined;
  let cleaning: Promise<void> | undefined;
  const cleanup = (): Promise<void> => {
    cleaning ??= (async () => {
      killRunning();
      killAgents();
      await registry?.stop().catch(() => {});
      if (work) await rm(work, { recursive: true, force: true });
    })();
    return cleaning;
  };
  const onSignal = (sig: NodeJS.Signals): void => {
    process.stderr.write(`\n${sig}: cleaning up\n`);
    void cleanup().finally(() => process.exit(sig === 'SIGINT' ? 130 : 143));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  try {
    work = await mkdtemp(join(tmpdir(), 'wasm-oci-bench-'));
    const inputsDir = join(work, 'inputs');
    const home = join(work, 'home');
    await mkdir(inputsDir);
    await mkdir(home);
    const baseEnv: Record<string, string> = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home, TMPDIR: work };
    const wasmOciEnv = { ...baseEnv, DOCKER_CONFIG: join(home, '.docker'), CI: 'true' };

    const nodes = await resolveNodes(config.nodes);
    let results: ScenarioResult[] = [];
    let targets: ReturnType<typeof evaluateTargets> = [];
    let mounts = 0;
    if (config.parts.has('transfer')) {
      process.stderr.write(`making inputs in ${inputsDir}\n`);
      const blobs: InputFile[] = [];
      for (const size of config.sizes) {
        blobs.push(await makeRandomFile(join(inputsDir, `blob-${sizeLabel(size).replace(' ', '')}.bin`), size));
      }
      const filterName = (size: number): string => `filter-${sizeLabel(size).replace(' ', '')}.wasm`;
      const filters: InputFile[] = [];
      for (const size of config.filterSizes) {
        filters.push(await makePaddedWasm(join(examplesDir, 'example-filter.wasm'), join(inputsDir, filterName(size)), size));
      }
      // Ten different filters (different bytes, so ten different blobs) for the one-command pull.
      const manyDir = join(inputsDir, 'many');
      await mkdir(manyDir);
      const many: InputFile[] = [];
      for (let i = 0; i < config.manyFilters; i++) {
        await mkdir(join(manyDir, String(i)));
        many.push(await makePaddedWasm(join(examplesDir, 'example-filter.wasm'), join(manyDir, String(i), 'filter.wasm'), 100 * 1024));
      }

      registry = await startDistribution({ mode: 'plain' });
      const env: T.BenchEnv = {
        host: registry.host,
        base: registry.url,
        binPath: process.env.BENCH_BIN ?? binPath,
        node: nodes[0]!.path,
        work,
        wasmOciEnv,
        skopeoEnv: baseEnv,
        timeoutMs: 15 * 60_000,
      };
      process.stderr.write(`Distribution at ${registry.url}\n`);

      // Layouts for skopeo to push from (built by wasm-oci; not measured).
      const layouts = new Map<InputFile, string>();
      await mkdir(join(work, 'layouts'), { recursive: true });
      for (const [i, b] of [...blobs, ...filters, ...many].entries()) {
        const layout = join(work, 'layouts', String(i));
        await T.buildLayout(env, layout, b, blobs.includes(b) ? T.LAYER_TAR : undefined);
        layouts.set(b, layout);
      }
      // One wasm-oci per Node version; named by version only when there are several.
      const variants = nodes.map((n) => ({ name: nodes.length > 1 ? `wasm-oci@${n.label}` : 'wasm-oci', env: { ...env, node: n.path }, node: n }));

      results.push(await alternate('startup', 'start-up', undefined, config.startupRuns, variants.flatMap((v) => [
        { name: v.name, run: () => T.wasmOciVersion(v.env) },
        { name: bareNodeFor(v.name), run: () => T.nodeBare(v.env) },
      ])));

      // Every push runs before any pull is seeded: skopeo's blob-info cache learns repositories
      // from pulls too, and would mount from them (see registry-http.ts).
      // A tool's name goes into the repository name: `wasm-oci@node20` would make the reference a
      // digest reference (`NAME@ALG:HEX`), so anything a repository path cannot hold becomes `-`.
      const repo = (what: string, tool: string, i: number): string => `bench/${what}-${tool.replace(/[^a-z0-9._-]+/g, '-')}-${runId}-${i}`;
      for (const f of filters) {
        const fl = sizeLabel(f.size).replace(' ', '').toLowerCase();
        results.push(await alternate('filter-push', `push ${sizeLabel(f.size)} filter (solo)`, f.size, config.runs, [
          ...variants.map((v) => ({ name: v.name, run: (i: number) => T.wasmOciPush(v.env, repo(`filter${fl}`, v.name, i), f) })),
          { name: 'skopeo', run: (i: number) => T.skopeoPush(env, repo(`filter${fl}`, 'skopeo', i), layouts.get(f)!, f) },
        ]));
      }
      for (const b of blobs) {
        const label = sizeLabel(b.size).replace(' ', '');
        const rl = label.toLowerCase();
        const n = b.size >= 1024 ** 3 ? config.runsLarge : config.runs;
        results.push(await alternate('push', `push ${sizeLabel(b.size)}`, b.size, n, [
          ...variants.map((v) => ({ name: v.name, run: (i: number) => T.wasmOciPush(v.env, repo(`push${rl}`, v.name, i), b, T.LAYER_TAR) })),
          { name: 'skopeo', run: (i: number) => T.skopeoPush(env, repo(`push${rl}`, 'skopeo', i), layouts.get(b)!, b) },
          { name: 'curl', run: (i: number) => T.curlPush(env, repo(`push${rl}`, 'curl', i), b) },
        ]));
      }
      mounts = registry.requests().filter((r) => r.method === 'POST' && r.path.includes('mount=') && r.status === 201).length;

      const src = (what: string): string => `bench/src-${what}-${runId}`;
      for (const f of filters) {
        const fl = `filter${sizeLabel(f.size).replace(' ', '').toLowerCase()}`;
        await T.seedRepo(env, layouts.get(f)!, src(fl));
        results.push(await alternate('filter-pull', `pull ${sizeLabel(f.size)} filter (solo)`, f.size, config.runs, [
          ...variants.map((v) => ({ name: v.name, run: (i: number) => T.wasmOciPull(v.env, src(fl), f, filterName(f.size), i === 0) })),
          { name: 'skopeo', run: (i: number) => T.skopeoPull(env, src(fl), f, i === 0) },
        ]));
      }
      const manyRepos = many.map((_, i) => `bench/many-${runId}/f${i}`);
      for (const [i, f] of many.entries()) await T.seedRepo(env, layouts.get(f)!, manyRepos[i]!);
      results.push(await alternate('multi-pull', `pull ${many.length} filters of 100 KiB`, undefined, config.runs, [
        ...variants.map((v) => ({ name: v.name, run: (i: number) => T.wasmOciPullMany(v.env, manyRepos, many, 'filter.wasm', i === 0) })),
        { name: 'skopeo x10 parallel', run: (i: number) => T.skopeoPullParallel(env, manyRepos, many, i === 0) },
      ]));
      for (const b of blobs) {
        const label = sizeLabel(b.size).replace(' ', '');
        const rl = label.toLowerCase();
        const n = b.size >= 1024 ** 3 ? config.runsLarge : config.runs;
        await T.seedRepo(env, layouts.get(b)!, src(rl));
        results.push(await alternate('pull', `pull ${sizeLabel(b.size)}`, b.size, n, [
          ...variants.map((v) => ({ name: v.name, run: (i: number) => T.wasmOciPull(v.env, src(rl), b, `blob-${label}.bin`, i === 0) })),
          { name: 'skopeo', run: (i: number) => T.skopeoPull(env, src(rl), b, i === 0) },
          { name: 'curl', run: (i: number) => T.curlPull(env, src(rl), b, i === 0) },
        ]));
      }

      const largest = config.sizes[config.sizes.length - 1]!;
      targets = evaluateTargets(results, largest);
    }
    let agent: AgentBenchResult | undefined;
    if (config.parts.has('agent')) {
      process.stderr.write('agent part (bench/agent.ts)\n');
      agent = await runAgentBench(
        { binPath: process.env.BENCH_BIN ?? binPath, node: nodes[0]!.path, nodeVersion: nodes[0]!.version, work, env: wasmOciEnv },
        config.agent,
        (s) => process.stderr.write(s),
      );
    }
    const versions = {
      node: nodes.map((n) => n.version).join(', '),
      wasmOci: JSON.parse(await readFile(join(repoRoot, 'package.json'), 'utf8')).version as string,
      skopeo: await version('skopeo', ['--version']),
      curl: await version('curl', ['--version']),
      distribution: await version('docker-registry', ['--version']),
    };
    const machine = {
      nproc: availableParallelism(),
      cpu: cpus()[0]?.model ?? 'unknown',
      memoryBytes: totalmem(),
      memory: `${(totalmem() / 1024 ** 3).toFixed(1)} GiB`,
      kernel: release(),
      loadAverage1m: { before: loadBefore, after: loadavg()[0]! },
    };

    const out = [
      '',
      `wasm-oci benchmark, ${started.toISOString()}; ${machine.nproc} CPUs (${machine.cpu}), ${machine.memory} RAM; load average ${loadBefore.toFixed(1)} before, ${machine.loadAverage1m.after.toFixed(1)} after`,
      `node ${versions.node}; ${versions.skopeo}; ${versions.curl.split(' ').slice(0, 2).join(' ')}; ${versions.distribution}`,
      ...(config.parts.has('transfer') ? [
        `runs: ${config.runs} per tool (${config.runsLarge} at 1 GiB), ${config.startupRuns} start-ups; tools alternate; curl push = POST + monolithic PUT (two processes)`,
        '',
        formatTable(results),
        '',
        'Targets (DESIGN.md section 6):',
        formatTargets(targets),
        ...(mounts ? ['', `WARNING: ${mounts} cross-repository mounts succeeded; skopeo push times are not uploads`] : []),
      ] : []),
      ...(agent ? ['', formatAgentBench(agent)] : []),
      '',
    ].join('\n');
    process.stdout.write(out);

    const resultsDir = join(repoRoot, 'bench', 'results');
    await mkdir(resultsDir, { recursive: true });
    const file = join(resultsDir, `bench-${config.parts.has('transfer') ? '' : 'agent-'}${stamp(started)}.json`);
    await writeFile(file, JSON.stringify({
      date: started.toISOString(),
      machine,
      versions,
      config: { ...config, parts: [...config.parts], nodes: nodes.map((n) => ({ version: n.version, path: n.path })), bin: process.env.BENCH_BIN ?? binPath, curlPush: 'POST + monolithic PUT, both timed', crossRepoMounts: mounts },
      scenarios: results.map((s) => ({ ...s, tools: s.tools.map((t) => ({ ...t, summary: t.samples.length ? summarize(t.samples) : undefined })) })),
      targets,
      markdown: formatMarkdown(results),
      ...(agent ? { agent } : {}),
    }, null, 2) + '\n');
    process.stdout.write(`results written to ${file}\n`);
    const failedTool = results.some((s) => s.tools.some((t) => t.error));
    return failedTool ? 1 : 0;
  } finally {
    await cleanup();
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
  }
}

main().then(
  (code) => { process.exitCode = code; },
  (err) => {
    process.stderr.write(`bench failed: ${(err as Error).stack ?? err}\n`);
    process.exitCode = 1;
  },
);
