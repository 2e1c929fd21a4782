import { mkdir, stat } from 'node:fs/promises';
import { join, resolve as resolvePath } from 'node:path';
import { isWasmOciError, WasmOciError, type ErrorCode } from '../errors.js';
import { fetchArtifactManifest } from '../operations/manifest.js';
import { backoffDelay, jitteredInterval, systemAgentClock, type AgentClock } from './clock.js';
import { sameFilter, type LoadedConfig, type ResolvedFilter } from './config.js';
import { firstAnswering, type FilterSource } from './mirror.js';
import { pickModuleLayer, writeModuleFile } from './module-file.js';
import { checkRecordedFile, hashFile, readState, removeRecordedFile, writeState, type AgentState, type StateEntry } from './state.js';
import { removeStaleTemps } from './write.js';

/** Opens where a filter can be fetched from, in the order to try: mirrors first, the registry last. */
export type SourceOpener = (filter: ResolvedFilter) => Promise<FilterSource[]>;

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface AgentLogEntry {
  level: LogLevel;
  msg: string;
  filter?: string;
  [field: string]: unknown;
}

/** What one pass over one filter did: for metrics (durations) and logs. */
export interface SyncEvent {
  filter: string;
  result: 'unchanged' | 'updated' | 'failed';
  durationMs: number;
  /** Blob bytes moved in this pass. */
  bytes: number;
  source?: string;
  error?: { code: ErrorCode; message: string };
}

export interface FilterStatus {
  name: string;
  image: string;
  pullSecret?: string;
  rootId?: string;
  /** Absolute path of `DIR/NAME.wasm`. */
  file: string;
  /** The manifest digest the image names now (as last resolved). */
  wantedDigest?: string;
  /** The manifest digest the file in place came from. */
  currentDigest?: string;
  /** sha256 of the file in place. */
  moduleDigest?: string;
  /** In place at the wanted digest, and the last check succeeded. */
  ready: boolean;
  /** Why not ready. */
  reason?: string;
  lastSuccessMs?: number;
  lastAttemptMs?: number;
  /** Failed passes, in total and in a row. */
  failures: number;
  consecutiveFailures: number;
  /** The delay before the next retry while failing; 0 when in place. */
  backoffMs: number;
  lastError?: { code: ErrorCode; message: string };
  /** Blob bytes fetched for this filter since the agent started. */
  bytes: number;
  lastDurationMs?: number;
  /** Where the last successful pass was answered from. */
  source?: string;
  nextCheckMs?: number;
}

export interface AgentStatus {
  configLoaded: boolean;
  configSource?: string;
  configError?: string;
  configReloads: { success: number; failure: number };
  /** Every filter in place at its wanted digest (and a config loaded). */
  ready: boolean;
  filters: FilterStatus[];
}

export interface NodeAgentOptions {
  outputDir: string;
  loadConfig: () => Promise<LoadedConfig>;
  openSources: SourceOpener;
  /** Between checks of one filter, and of the config (the watch's backstop). */
  intervalMs: number;
  /** Fraction of the interval taken off at random (default 0.1). */
  jitter?: number;
  /** Failure backoff: first delay and bound (defaults 1 s, capped at the interval; 5 min). */
  backoffInitialMs?: number;
  backoffMaxMs?: number;
  /** Filters synced at once (default 4). */
  concurrency?: number;
  moduleSizeLimit?: number;
  clock?: AgentClock;
  random?: () => number;
  onLog?: (entry: AgentLogEntry) => void;
  onSync?: (event: SyncEvent) => void;
  /** Between a verified temp file and its rename (tests hold a write here). */
  beforeRename?: (filter: string, tempPath: string) => Promise<void> | void;
}

interface Worker {
  filter: ResolvedFilter;
  status: FilterStatus;
  stop: AbortController;
  /** Ends the current sleep: a reload or a change wants a check now. */
  wake: AbortController;
  done?: Promise<void>;
}

const FILE_SUFFIX = '.wasm';

/** A small counting semaphore: at most `n` passes move bytes at once. */
class Limiter {
  private active = 0;
  private readonly queue: Array<() => void> = [];
  constructor(private readonly n: number) {}
  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.active >= this.n) await new Promise<void>((r) => this.queue.push(r));
    this.active++;
    try {
      return await fn();
    } finally {
      this.active--;
      this.queue.shift()?.();
    }
  }
}

function errorInfo(err: unknown): { code: ErrorCode; message: string } {
  if (isWasmOciError(err)) return { code: err.code, message: err.message };
  return { code: 'E_INTERNAL', message: err instanceof Error ? err.message : String(err) };
}

/**
 * The node agent's sync loop (DESIGN.md section 2c): keeps `DIR/NAME.wasm` of every filter of the
 * config equal to the module its image names, written atomically and verified, and removes the
 * files of filters taken out of the config (only files its state file says it wrote).
 *
 * Per filter, one worker: a tag is resolved with one manifest HEAD per interval, and nothing else
 * is asked when the digest is the one in place; a digest reference is fetched once and then only
 * its file is looked at (a stat). A failure keeps the file in place and retries with a growing,
 * jittered backoff. The first check of a filter whose file is already in place is jittered over a
 * whole interval, so the agents of a cluster restarted together do not ask together.
 */
export class NodeAgent {
  private readonly dir: string;
  private readonly clock: AgentClock;
  private readonly random: () => number;
  private readonly limiter: Limiter;
  private readonly workers = new Map<string, Worker>();
  private state: AgentState = { version: 1, files: {} };
  private stateWrite: Promise<void> = Promise.resolve();
  private configLoaded = false;
  private configSource?: string;
  private configError?: string;
  private readonly reloads = { success: 0, failure: 0 };
  private configWake = new AbortController();
  private initialized = false;
  private applying: Promise<void> = Promise.resolve();

  constructor(private readonly options: NodeAgentOptions) {
    this.dir = resolvePath(options.outputDir);
    this.clock = options.clock ?? systemAgentClock;
    this.random = options.random ?? Math.random;
    this.limiter = new Limiter(Math.max(1, options.concurrency ?? 4));
  }

  private log(level: LogLevel, msg: string, fields: Record<string, unknown> = {}): void {
    this.options.onLog?.({ level, msg, ...fields });
  }

  private get backoffInitialMs(): number {
    return this.options.backoffInitialMs ?? Math.min(1000, this.options.intervalMs);
  }

  private get backoffMaxMs(): number {
    return Math.max(this.backoffInitialMs, this.options.backoffMaxMs ?? 5 * 60_000);
  }

  /** A snapshot of what the agent knows, for /readyz, /metrics and --once. */
  status(): AgentStatus {
    const filters = [...this.workers.values()].map((w) => ({ ...w.status }));
    return {
      configLoaded: this.configLoaded,
      ...(this.configSource !== undefined ? { configSource: this.configSource } : {}),
      ...(this.configError !== undefined ? { configError: this.configError } : {}),
      configReloads: { ...this.reloads },
      ready: this.configLoaded && filters.every((f) => f.ready),
      filters,
    };
  }

  /** Re-reads the config now (SIGHUP, a watch event). */
  requestReload(): void {
    this.configWake.abort();
  }

  private async init(): Promise<void> {
    if (this.initialized) return;
    try {
      await mkdir(this.dir, { recursive: true });
    } catch (err) {
      throw new WasmOciError('E_INVALID_INPUT', `cannot create the output directory ${this.dir}: ${(err as Error).message}`, { cause: err });
    }
    const st = await stat(this.dir);
    if (!st.isDirectory()) throw new WasmOciError('E_INVALID_INPUT', `${this.dir} is not a directory`);
    for (const name of await removeStaleTemps(this.dir)) this.log('info', 'removed a temp file an earlier run left', { file: name });
    this.state = await readState(this.dir, (m) => this.log('warn', m));
    this.initialized = true;
  }

  /**
   * Loads the config and applies it: workers started for new filters, restarted for changed
   * ones, stopped (and their files removed) for removed ones. A config that does not load leaves
   * everything as it was and is reported. Resolves true when the config loaded.
   */
  async reloadConfig(start: boolean): Promise<boolean> {
    const run = this.applying.then(() => this.applyConfig(start));
    this.applying = run.then(() => undefined, () => undefined);
    return run;
  }

  private async applyConfig(start: boolean): Promise<boolean> {
    let loaded: LoadedConfig;
    try {
      loaded = await this.options.loadConfig();
    } catch (err) {
      this.reloads.failure++;
      const message = errorInfo(err).message;
      if (message !== this.configError) {
        this.log('error', this.configLoaded ? 'config refused; the last good config stays in force' : 'config refused', { error: message });
      }
      this.configError = message;
      return false;
    }
    this.reloads.success++;
    const wasError = this.configError !== undefined;
    this.configError = undefined;
    this.configSource = loaded.source;
    const wanted = new Map(loaded.filters.map((f) => [f.name, f]));
    const added: string[] = [];
    const changed: string[] = [];
    const removed: string[] = [];
    for (const [name, w] of this.workers) {
      const next = wanted.get(name);
      if (!next) removed.push(name);
      else if (!sameFilter(w.filter, next)) changed.push(name);
    }
    for (const name of wanted.keys()) if (!this.workers.has(name)) added.push(name);
    // Files recorded in the state for filters no config names any more (the agent was stopped
    // while they were taken out): removed on the first good config, never before one.
    const orphaned = this.configLoaded ? [] : Object.keys(this.state.files).filter((n) => !wanted.has(n));
    this.configLoaded = true;
    if (added.length || changed.length || removed.length || orphaned.length || wasError) {
      this.log('info', 'config loaded', { source: loaded.source, filters: wanted.size, added, changed, removed: [...removed, ...orphaned] });
    }
    for (const name of [...removed, ...changed]) {
      const w = this.workers.get(name)!;
      w.stop.abort();
      await w.done;
      this.workers.delete(name);
    }
    for (const name of [...removed, ...orphaned]) await this.removeFilterFile(name);
    for (const name of [...changed, ...added]) this.addWorker(wanted.get(name)!, start);
    return true;
  }

  private addWorker(filter: ResolvedFilter, start: boolean): void {
    const w: Worker = {
      filter,
      stop: new AbortController(),
      wake: new AbortController(),
      status: {
        name: filter.name,
        image: filter.image,
        ...(filter.pullSecret !== undefined ? { pullSecret: filter.pullSecret } : {}),
        ...(filter.rootId !== undefined ? { rootId: filter.rootId } : {}),
        file: join(this.dir, `${filter.name}${FILE_SUFFIX}`),
        ready: false,
        reason: 'not checked yet',
        failures: 0,
        consecutiveFailures: 0,
        backoffMs: 0,
        bytes: 0,
      },
    };
    const entry = this.state.files[filter.name];
    if (entry && entry.image === filter.image) {
      w.status.currentDigest = entry.manifestDigest;
      w.status.moduleDigest = entry.digest;
    }
    this.workers.set(filter.name, w);
    if (start) w.done = this.runWorker(w);
  }

  private async removeFilterFile(name: string): Promise<void> {
    const entry = this.state.files[name];
    if (!entry) return;
    try {
      const result = await removeRecordedFile(this.dir, entry);
      if (result === 'foreign') this.log('warn', 'not removing a file the agent did not write', { filter: name, file: entry.file });
      else if (result === 'changed') this.log('warn', 'not removing a file changed since the agent wrote it', { filter: name, file: entry.file });
      else if (result === 'adopted') this.log('info', 'not removing a file the agent found in place and did not write', { filter: name, file: entry.file });
      else if (result === 'removed') this.log('info', 'removed the file of a filter taken out of the config', { filter: name, file: entry.file });
      delete this.state.files[name];
      await this.saveState();
    } catch (err) {
      this.log('error', 'cannot remove the file of a removed filter', { filter: name, file: entry.file, error: errorInfo(err).message });
    }
  }

  private saveState(): Promise<void> {
    const snapshot: AgentState = { version: 1, files: { ...this.state.files } };
    const run = this.stateWrite.then(() => writeState(this.dir, snapshot));
    this.stateWrite = run.catch((err) => this.log('error', 'cannot write the state file', { error: errorInfo(err).message }));
    return run;
  }

  /**
   * One pass over every filter of the config, then returns the status (for `--once`): each filter
   * is checked once, concurrently; nothing is retried beyond the HTTP layer's own retries.
   */
  async runOnce(signal?: AbortSignal): Promise<AgentStatus> {
    await this.init();
    if (!(await this.reloadConfig(false))) {
      throw new WasmOciError('E_INVALID_INPUT', this.configError ?? 'the config did not load');
    }
    await Promise.all([...this.workers.values()].map((w) => this.limiter.run(() => this.syncFilter(w, signal))));
    return this.status();
  }

  /**
   * Runs until `signal` aborts: the workers, and the config checked every interval and whenever
   * requestReload() is called. On abort, a write in progress is discarded (its temp file removed)
   * and the promise resolves once every worker has stopped.
   */
  async run(signal: AbortSignal): Promise<void> {
    await this.init();
    const onAbort = (): void => {
      for (const w of this.workers.values()) w.stop.abort();
      this.configWake.abort();
    };
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      await this.reloadConfig(true);
      while (!signal.aborted) {
        await this.clock.sleep(this.options.intervalMs, this.configWake.signal);
        if (signal.aborted) break;
        this.configWake = new AbortController();
        await this.reloadConfig(true);
      }
    } finally {
      signal.removeEventListener('abort', onAbort);
      onAbort();
      await Promise.all([...this.workers.values()].map((w) => w.done));
      await this.stateWrite;
    }
  }

  private async runWorker(w: Worker): Promise<void> {
    // In place already: the first check waits a random part of an interval. Missing: at once.
    const entry = this.state.files[w.filter.name];
    const inPlace = entry !== undefined && entry.image === w.filter.image && (await checkRecordedFile(this.dir, entry).catch(() => 'missing')) === 'intact';
    let delay = inPlace ? Math.round(this.options.intervalMs * this.random()) : 0;
    if (inPlace) {
      // The file the state records is there, unchanged: serving it is what a restart should do.
      w.status.ready = true;
      delete w.status.reason;
      w.status.wantedDigest = entry.manifestDigest;
      w.status.nextCheckMs = this.clock.now() + delay;
    }
    while (!w.stop.signal.aborted) {
      if (delay > 0) {
        await this.clock.sleep(delay, AbortSignal.any([w.stop.signal, w.wake.signal]));
        if (w.wake.signal.aborted) w.wake = new AbortController();
      }
      if (w.stop.signal.aborted) break;
      await this.limiter.run(() => this.syncFilter(w, w.stop.signal));
      delay = w.status.ready
        ? jitteredInterval(this.options.intervalMs, this.options.jitter ?? 0.1, this.random)
        : w.status.backoffMs;
      w.status.nextCheckMs = this.clock.now() + delay;
    }
  }

  /** One check of one filter; never throws (the outcome is in the status). */
  private async syncFilter(w: Worker, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return;
    const started = this.clock.now();
    const { filter, status } = w;
    status.lastAttemptMs = started;
    let bytes = 0;
    try {
      const sources = await this.options.openSources(filter);
      const { value, source } = await firstAnswering(sources, (s) => this.syncFrom(w, s, signal, (n) => { bytes += n; }), {
        ...(signal ? { signal } : {}),
        onFallback: (s, err) => this.log('warn', 'mirror failed; trying the next source', { filter: filter.name, mirror: s.endpoint, error: errorInfo(err).message }),
      });
      const now = this.clock.now();
      status.bytes += bytes;
      status.ready = true;
      delete status.reason;
      delete status.lastError;
      status.consecutiveFailures = 0;
      status.backoffMs = 0;
      status.lastSuccessMs = now;
      status.lastDurationMs = now - started;
      status.source = source.endpoint;
      if (value === 'updated') {
        this.log('info', 'filter written', { filter: filter.name, digest: status.currentDigest, file: status.file, source: source.endpoint, bytes });
      }
      this.options.onSync?.({ filter: filter.name, result: value, durationMs: now - started, bytes, source: source.endpoint });
    } catch (err) {
      status.bytes += bytes;
      const now = this.clock.now();
      if (signal?.aborted) {
        this.log('info', 'stopped; the write in progress was discarded', { filter: filter.name });
        return;
      }
      const info = errorInfo(err);
      status.failures++;
      status.consecutiveFailures++;
      status.backoffMs = backoffDelay(status.consecutiveFailures, this.backoffInitialMs, this.backoffMaxMs, this.random);
      status.ready = false;
      status.lastError = info;
      status.reason = `${info.code}: ${info.message}`;
      status.lastDurationMs = now - started;
      this.log(status.consecutiveFailures === 1 ? 'error' : 'warn', 'sync failed; the file in place stays', {
        filter: filter.name, code: info.code, error: info.message, failures: status.consecutiveFailures, retryInMs: status.backoffMs,
      });
      this.options.onSync?.({ filter: filter.name, result: 'failed', durationMs: now - started, bytes, error: info });
    }
  }

  /** The check against one source: resolve, compare, and fetch only when something changed. */
  private async syncFrom(w: Worker, source: FilterSource, signal: AbortSignal | undefined, onBytes: (n: number) => void): Promise<'unchanged' | 'updated'> {
    const { filter, status } = w;
    const fileName = `${filter.name}${FILE_SUFFIX}`;
    const recorded: StateEntry | undefined = this.state.files[filter.name];
    const ours = recorded !== undefined && recorded.file === fileName;
    const target = source.target;

    // A digest reference is never asked about again once its file is in place; a tag costs one HEAD.
    const wanted = filter.pinned ?? (await target.resolve(filter.ref.tag!, signal ? { signal } : {})).digest;
    status.wantedDigest = wanted;
    if (ours && recorded.manifestDigest === wanted) {
      const check = await checkRecordedFile(this.dir, recorded);
      if (check === 'intact') {
        status.currentDigest = wanted;
        status.moduleDigest = recorded.digest;
        if (recorded.image !== filter.image) {
          this.state.files[filter.name] = { ...recorded, image: filter.image };
          await this.saveState();
        }
        return 'unchanged';
      }
      this.log('warn', `the file in place is ${check}; writing it again`, { filter: filter.name, file: status.file });
    }

    const { manifest } = await fetchArtifactManifest(target, wanted, signal);
    const module = pickModuleLayer(manifest, this.options.moduleSizeLimit);
    const finalPath = join(this.dir, fileName);
    if (!ours && (await stat(finalPath).then(() => true, () => false))) {
      // Never overwrite what the agent did not write; a file that is already exactly the module is adopted.
      const existing = module.fromTar ? undefined : await hashFile(finalPath);
      if (existing === undefined || existing !== module.layer.digest) {
        throw new WasmOciError('E_INVALID_INPUT', `${finalPath} exists and was not written by the agent; it is left alone`, {
          hint: 'remove or rename that file, or give the filter another name',
        });
      }
      const st = await stat(finalPath);
      await this.record(filter, { file: fileName, manifestDigest: wanted, digest: existing, size: st.size, ino: st.ino, mtimeMs: st.mtimeMs, adopted: true });
      this.log('info', 'a file with exactly the module\'s bytes is in place; taken as it is (and never removed: the agent did not write it)', { filter: filter.name, file: status.file });
      status.currentDigest = wanted;
      status.moduleDigest = existing;
      return 'unchanged';
    }
    const written = await writeModuleFile({
      target,
      module,
      dir: this.dir,
      fileName,
      ...(this.options.moduleSizeLimit !== undefined ? { moduleSizeLimit: this.options.moduleSizeLimit } : {}),
      ...(signal ? { signal } : {}),
      onBytes,
      ...(this.options.beforeRename ? { beforeRename: (t: string) => this.options.beforeRename!(filter.name, t) } : {}),
    });
    await this.record(filter, { file: fileName, manifestDigest: wanted, digest: written.digest, size: written.size, ino: written.ino, mtimeMs: written.mtimeMs });
    status.currentDigest = wanted;
    status.moduleDigest = written.digest;
    return 'updated';
  }

  private async record(filter: ResolvedFilter, entry: Omit<StateEntry, 'image' | 'writtenAt'>): Promise<void> {
    this.state.files[filter.name] = { ...entry, image: filter.image, writtenAt: new Date(this.clock.now()).toISOString() };
    await this.saveState();
  }
}
