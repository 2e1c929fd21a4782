import { Command, InvalidArgumentError, Option } from 'commander';
import { resolve as resolvePath } from 'node:path';
import type { AgentLogEntry, AgentStatus, FilterSource, ResolvedFilter } from '../../agent/index.js';
import type { ReadOnlyTarget } from '../../content/interfaces.js';
import type { CredentialFunc } from '../../credentials/types.js';
import { WasmOciError } from '../../errors.js';
import type { RegistryContext } from '../../registry/context.js';
import type { CliContext } from '../context.js';
import { parseDuration } from '../duration.js';
import { addRemoteTransportOptions, collect, positiveInt, type TargetFlags } from '../options.js';
import { credentialsFor, transportOptions } from '../target.js';

interface AgentFlags extends TargetFlags {
  config: string;
  output: string;
  pullSecrets?: string;
  interval: number;
  maxBackoff: number;
  listen?: string;
  once?: boolean;
  cacheDir?: string;
  mirror?: string[];
  logFormat: 'text' | 'json';
  concurrency: number;
  moduleSizeLimit?: number;
}

/** `HOST:PORT`, `[v6]:PORT` or `:PORT` (every interface). */
function parseListen(value: string): { host: string; port: number } {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:\s]*)):(\d{1,5})$/.exec(value.trim());
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) throw new InvalidArgumentError('--listen needs HOST:PORT, [IPv6]:PORT or :PORT.');
  return { host: m[1] ?? (m[2] || '0.0.0.0'), port };
}

/** One log line on stderr: `TIME LEVEL msg key=value ...`, or one JSON object per line. */
function logWriter(ctx: CliContext, format: 'text' | 'json'): (e: AgentLogEntry) => void {
  return (entry) => {
    if (entry.level === 'debug' && !ctx.debug) return;
    const time = new Date().toISOString();
    const { level, msg, ...fields } = entry;
    if (format === 'json') {
      ctx.io.stderr.write(`${JSON.stringify({ time, level, msg, ...fields })}\n`);
      return;
    }
    const kv = Object.entries(fields)
      .filter(([, v]) => v !== undefined && !(Array.isArray(v) && v.length === 0))
      .map(([k, v]) => `${k}=${typeof v === 'string' && !/\s|"/.test(v) ? v : JSON.stringify(v)}`);
    ctx.io.stderr.write(`${time} ${level.toUpperCase()} ${msg}${kv.length ? ` ${kv.join(' ')}` : ''}\n`);
  };
}

function summarize(ctx: CliContext, status: AgentStatus): void {
  for (const f of status.filters) {
    if (f.ready) ctx.out(`In place ${f.name} ${f.currentDigest ?? ''} ${f.file}`);
    else ctx.out(`Not in place ${f.name}: ${f.reason ?? 'unknown'}`);
  }
  ctx.json({
    ready: status.ready,
    filters: status.filters.map((f) => ({
      name: f.name, image: f.image, file: f.file, ready: f.ready,
      ...(f.wantedDigest ? { wantedDigest: f.wantedDigest } : {}),
      ...(f.currentDigest ? { currentDigest: f.currentDigest } : {}),
      ...(f.moduleDigest ? { moduleDigest: f.moduleDigest } : {}),
      ...(f.rootId !== undefined ? { rootId: f.rootId } : {}),
      ...(f.lastError ? { error: f.lastError } : {}),
    })),
  });
}

export function agentCommand(getContext: (cmd: Command) => CliContext): Command {
  const cmd = new Command('agent')
    .description('keep a directory of Wasm filter files in sync with a list of references (the node agent of a DaemonSet)')
    .option('--config <path>', '(required) filters to keep: a YAML/JSON file, or a directory as kubelet mounts a ConfigMap (every *.yaml, *.yml, *.json key)')
    .option('-o, --output <dir>', '(required) where each filter is written as NAME.wasm (created if missing)')
    .option('--pull-secrets <dir>', 'mounted kubernetes.io/dockerconfigjson Secrets, one folder each (DIR/NAME/.dockerconfigjson); a filter names its folder as pullSecret')
    .option('--interval <duration>', 'how often each tag is checked, and the config re-read (jittered; e.g. 30s, 1m)', (v) => parseDuration(v, '--interval', 100), 30_000)
    .option('--max-backoff <duration>', 'longest wait between retries of a failing filter', (v) => parseDuration(v, '--max-backoff', 100), 5 * 60_000)
    .option('--listen <host:port>', 'serve /healthz, /readyz and /metrics here (e.g. 127.0.0.1:9090, :9090)')
    .option('--once', 'one pass, then exit: 0 only when every filter is in place (an init container, CI)')
    .option('--cache-dir <dir>', 'content-addressed blob cache (DIR/sha256/<hex>) kept between runs; hits are verified')
    .option('--mirror <registry=url>', 'try this mirror or pull-through cache first for REGISTRY, falling back to it (repeatable)', collect)
    .addOption(new Option('--log-format <format>', 'log lines on stderr').choices(['text', 'json']).default('text'))
    .option('--concurrency <n>', 'filters fetched at once', (v) => positiveInt(v, '--concurrency'), 4)
    .option('--module-size-limit <bytes>', 'largest module accepted (Istio caps it at 256 MiB)', (v) => positiveInt(v, '--module-size-limit'));
  addRemoteTransportOptions(cmd);
  cmd.addHelpText(
    'after',
    `
Config (a file, or a ConfigMap key such as filters.yaml):
  filters:
    - name: example                     # written as OUTPUT/example.wasm
      image: registry.example.com/filters/example:v0.1
      pullSecret: regcred               # optional: --pull-secrets/regcred/.dockerconfigjson
      rootId: example_root              # optional: carried into the status

Signals: SIGHUP re-reads the config; SIGTERM discards a write in progress (no temp file left) and exits 0.

Examples:
  $ wasm-oci agent --config /etc/wasm-oci/filters --output /var/local/lib/wasm-filters --pull-secrets /etc/wasm-oci/secrets --listen :9090
  $ wasm-oci agent --config filters.yaml --output ./filters --once
  $ wasm-oci agent --config filters.yaml -o ./filters --mirror registry.example.com=http://127.0.0.1:5001`,
  );
  cmd.action(async (flags: AgentFlags, self: Command) => {
    const ctx = getContext(self);
    // Checked here, not by commander's requiredOption, so an unknown flag is reported first (cli-ux).
    if (!flags.config) throw new WasmOciError('E_USAGE', 'agent needs --config PATH (a YAML/JSON file or a ConfigMap directory)');
    if (!flags.output) throw new WasmOciError('E_USAGE', 'agent needs -o/--output DIR');
    const agentLib = await import('../../agent/index.js');
    const { createRepository, createRegistryContext } = await import('../../registry/index.js');
    const log = logWriter(ctx, flags.logFormat);
    const configPath = resolvePath(ctx.io.cwd, flags.config);
    const outputDir = resolvePath(ctx.io.cwd, flags.output);
    const secretsDir = flags.pullSecrets !== undefined ? resolvePath(ctx.io.cwd, flags.pullSecrets) : undefined;
    const cacheDir = flags.cacheDir !== undefined ? resolvePath(ctx.io.cwd, flags.cacheDir) : undefined;
    const mirrors = agentLib.mirrorsByRegistry((flags.mirror ?? []).map(agentLib.parseMirror));

    // One registry context (connections, tokens) per endpoint and credential source, for the
    // whole run: a HEAD per interval reuses its connection and its token.
    const contexts = new Map<string, RegistryContext>();
    let storeCredentials: Promise<CredentialFunc> | undefined;
    const credentialSource = (filter: ResolvedFilter): Promise<CredentialFunc> =>
      filter.pullSecret !== undefined
        ? Promise.resolve(agentLib.pullSecretCredentials(secretsDir, filter.pullSecret))
        : (storeCredentials ??= credentialsFor(ctx, flags));
    const contextFor = async (host: string, plainHttp: boolean | undefined, filter: ResolvedFilter): Promise<RegistryContext> => {
      const key = `${host}\0${plainHttp ?? ''}\0${filter.pullSecret ?? ''}`;
      let c = contexts.get(key);
      if (!c) {
        const transport = await transportOptions(flags, host, ctx.io.env);
        c = createRegistryContext({
          registry: host,
          ...transport,
          ...(plainHttp !== undefined ? { plainHttp } : {}),
          credentials: await credentialSource(filter),
          onDebug: ctx.debug ? (line: string) => ctx.trace(line) : undefined,
          onWarning: (m: string) => log({ level: 'warn', msg: m }),
        });
        contexts.set(key, c);
      }
      return c;
    };
    const { withBlobCache } = cacheDir ? await import('../../content/cache.js') : { withBlobCache: undefined };
    const cached = (t: ReadOnlyTarget): ReadOnlyTarget =>
      withBlobCache && cacheDir ? withBlobCache(t, cacheDir, { onWarning: (m) => log({ level: 'warn', msg: m }), onDebug: (l) => log({ level: 'debug', msg: l }) }) : t;
    const openSources = async (filter: ResolvedFilter): Promise<FilterSource[]> => {
      const { registry, repository } = filter.ref;
      const out: FilterSource[] = [];
      for (const m of mirrors.get(registry.toLowerCase()) ?? []) {
        const context = await contextFor(m.url.host, m.url.protocol === 'http:', filter);
        out.push({ kind: 'mirror', endpoint: m.url.origin, target: cached(createRepository({ registry: m.url.host, repository, context })) });
      }
      const context = await contextFor(registry, undefined, filter);
      out.push({ kind: 'registry', endpoint: registry, target: cached(createRepository({ registry, repository, context })) });
      return out;
    };

    let metrics: Awaited<ReturnType<typeof agentLib.createAgentMetrics>> | undefined;
    const agent = new agentLib.NodeAgent({
      outputDir,
      loadConfig: () => agentLib.loadAgentConfig(configPath),
      openSources,
      intervalMs: flags.interval,
      backoffMaxMs: flags.maxBackoff,
      concurrency: flags.concurrency,
      ...(flags.moduleSizeLimit !== undefined ? { moduleSizeLimit: flags.moduleSizeLimit } : {}),
      onLog: log,
      onSync: (e) => metrics?.observe(e),
    });

    const closeAll = async (): Promise<void> => {
      await Promise.all([...contexts.values()].map((c) => c.close().catch(() => undefined)));
    };

    if (flags.once) {
      try {
        const status = await agent.runOnce(ctx.signal);
        summarize(ctx, status);
        // SIGTERM ends the pass early: the brief's contract is exit 0, with nothing half-written.
        if (!status.ready && !ctx.signal.aborted) {
          const failed = status.filters.filter((f) => !f.ready);
          const code = failed.find((f) => f.lastError)?.lastError?.code ?? 'E_INTERNAL';
          throw new WasmOciError(code, `${failed.length} of ${status.filters.length} filters not in place: ${failed.map((f) => `${f.name} (${f.reason ?? 'unknown'})`).join('; ')}`);
        }
      } finally {
        await closeAll();
      }
      return;
    }

    let server: import('node:http').Server | undefined;
    const onHup = (): void => {
      log({ level: 'info', msg: 'SIGHUP: re-reading the config' });
      agent.requestReload();
    };
    process.on('SIGHUP', onHup);
    const watch = await agentLib.watchConfig(configPath, () => agent.requestReload(), (err) => log({ level: 'warn', msg: 'cannot watch the config; re-reading it every interval', error: err.message }));
    try {
      if (flags.listen !== undefined) {
        const { host, port } = parseListen(flags.listen);
        metrics = await agentLib.createAgentMetrics(() => agent.status());
        const { createServer } = await import('node:http');
        const srv = createServer(agentLib.agentHttpHandler(() => agent.status(), metrics));
        server = srv;
        await new Promise<void>((resolve, reject) => {
          srv.once('error', (err) => reject(new WasmOciError('E_USAGE', `--listen ${flags.listen}: ${(err as Error).message}`)));
          srv.listen(port, host, () => resolve());
        });
        const addr = srv.address();
        const shown = typeof addr === 'object' && addr ? `${addr.family === 'IPv6' ? `[${addr.address}]` : addr.address}:${addr.port}` : flags.listen;
        log({ level: 'info', msg: 'listening', address: `http://${shown}`, endpoints: ['/healthz', '/readyz', '/metrics'] });
      }
      log({ level: 'info', msg: 'agent started', config: configPath, output: outputDir, intervalMs: flags.interval });
      await agent.run(ctx.signal);
      log({ level: 'info', msg: 'agent stopped' });
    } finally {
      process.removeListener('SIGHUP', onHup);
      watch.close();
      if (server) {
        server.closeAllConnections();
        await new Promise<void>((r) => server!.close(() => r()));
      }
      await closeAll();
    }
  });
  return cmd;
}
