import { readFileSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadAgentConfig } from '../../src/agent/config.js';
import { NodeAgent, type AgentLogEntry, type FilterStatus, type NodeAgentOptions, type SyncEvent } from '../../src/agent/sync.js';
import { FakeClock } from './fake-clock.js';
import { MemoryRegistry } from './memory-registry.js';
import { examplesDir } from './paths.js';
import { makeTempDir, type CleanupContext } from './tmp.js';
import { padModule } from './wasm-padding.js';

const BASE_MODULE = readFileSync(join(examplesDir, 'example-filter.wasm'));

/** A valid proxy-wasm module, distinct for each label (a custom section carries it). */
export function moduleFor(label: string): Buffer {
  return padModule(BASE_MODULE, Buffer.from(`module ${label}`));
}

/** A small seeded PRNG (mulberry32): jitter that varies, but the same on every run. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface AgentHarnessOptions extends Partial<Omit<NodeAgentOptions, 'outputDir' | 'loadConfig' | 'openSources' | 'clock'>> {
  /** Share a registry, an output directory or a clock with an earlier harness (an agent restarted). */
  reg?: MemoryRegistry;
  out?: string;
  configPath?: string;
  clock?: FakeClock;
  /** A mirror asked first for every filter (a pull-through cache), the registry after it. */
  mirror?: MemoryRegistry;
}

/**
 * One NodeAgent as the CLI wires it, minus the network: its config read by loadAgentConfig from
 * a real file (or ConfigMap directory), its output a real temp directory, its targets those of a
 * MemoryRegistry, its time a FakeClock. `start()` runs the loop until idle; the clock then moves
 * only through `advance`.
 */
export class AgentHarness {
  readonly logs: AgentLogEntry[] = [];
  readonly syncs: SyncEvent[] = [];
  readonly agent: NodeAgent;
  private readonly abort = new AbortController();
  private running?: Promise<void>;

  constructor(
    readonly reg: MemoryRegistry,
    readonly clock: FakeClock,
    readonly out: string,
    readonly configPath: string,
    options: AgentHarnessOptions,
  ) {
    const { reg: _r, out: _o, configPath: _c, clock: _k, mirror, ...rest } = options;
    this.agent = new NodeAgent({
      intervalMs: 30_000,
      ...rest,
      outputDir: out,
      clock,
      loadConfig: () => loadAgentConfig(configPath),
      openSources: async (filter) => [
        ...(mirror ? [{ kind: 'mirror' as const, endpoint: `http://${mirror.host}`, target: mirror.target(filter.ref.repository) }] : []),
        { kind: 'registry', endpoint: filter.ref.registry, target: reg.target(filter.ref.repository) },
      ],
      onLog: (e) => this.logs.push(e),
      onSync: (e) => this.syncs.push(e),
    });
    // The registry's log is stamped with this agent's time.
    reg.now = () => clock.now();
    if (mirror) mirror.now = () => clock.now();
    // Idle: every filter's worker asleep, and the config loop.
    clock.setIdleCount(() => this.agent.status().filters.length + 1);
  }

  static async create(t: CleanupContext, options: AgentHarnessOptions = {}): Promise<AgentHarness> {
    const dir = options.out === undefined || options.configPath === undefined ? await makeTempDir(t, 'wasm-oci-agent-unit-') : '';
    const out = options.out ?? join(dir, 'filters');
    const configPath = options.configPath ?? join(dir, 'filters.yaml');
    if (options.out === undefined) await mkdir(out);
    const h = new AgentHarness(options.reg ?? new MemoryRegistry(), options.clock ?? new FakeClock(), out, configPath, options);
    t.after(() => h.stop());
    return h;
  }

  /** Writes the config file: `filters` as name -> image (or full entries), or the text given. */
  async writeConfig(filters: Record<string, string> | Array<Record<string, string>> | string): Promise<void> {
    if (typeof filters === 'string') {
      await writeFile(this.configPath, filters);
      return;
    }
    const list = Array.isArray(filters) ? filters : Object.entries(filters).map(([name, image]) => ({ name, image }));
    await writeFile(this.configPath, `${JSON.stringify({ filters: list }, null, 2)}\n`);
  }

  /** Runs the agent's loop and waits until it is idle (the first passes done). */
  async start(): Promise<void> {
    this.running = this.agent.run(this.abort.signal);
    this.running.catch(() => undefined);
    await this.clock.idle();
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await this.running;
  }

  advance(ms: number): Promise<void> {
    return this.clock.advance(ms);
  }

  /** Moves the clock to the filter's next check (and lets that check finish). */
  async advanceToNextCheck(name: string): Promise<void> {
    const next = this.filter(name).nextCheckMs;
    if (next === undefined) throw new Error(`${name} has no next check`);
    await this.clock.advance(Math.max(0, next - this.clock.now()));
  }

  filter(name: string): FilterStatus {
    const f = this.agent.status().filters.find((s) => s.name === name);
    if (!f) throw new Error(`no filter ${name} in the status`);
    return f;
  }

  async file(name: string): Promise<Buffer | undefined> {
    return readFile(join(this.out, name)).catch(() => undefined);
  }
}
