import type { AgentStatus, SyncEvent } from './sync.js';

/** The Prometheus view of the agent: rendered from its status at each scrape. */
export interface AgentMetrics {
  /** Feed of finished passes (the duration histogram needs each one). */
  observe(event: SyncEvent): void;
  render(): Promise<{ contentType: string; body: string }>;
}

const SYNC_RESULTS = ['unchanged', 'updated', 'failed'] as const;

/**
 * prom-client is loaded here, on the agent's first use, so no other command pays for it at start.
 * Gauges and counters read the status when scraped (prom-client's `collect`), so they can never
 * disagree with /readyz; the duration histogram is fed per pass. Series of filters taken out of
 * the config disappear with them. Node's default process metrics (RSS, CPU, event loop lag) are
 * on the same registry: the memory budget of DESIGN.md section 6 is read from them.
 */
export async function createAgentMetrics(status: () => AgentStatus): Promise<AgentMetrics> {
  const client = (await import('prom-client')).default;
  const registry = new client.Registry();
  client.collectDefaultMetrics({ register: registry });
  const registers = [registry];
  const perFilter = (set: (f: AgentStatus['filters'][number]) => void) => {
    for (const f of status().filters) set(f);
  };

  const seen = new Set<string>();
  const hist = new client.Histogram({
    name: 'wasm_oci_agent_sync_duration_seconds',
    help: 'Duration of one sync pass of a filter (a HEAD when unchanged; manifest and blob when updated).',
    labelNames: ['filter', 'result'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers,
    // Pruned of filters that left the config in its own collect, so the scrape right after a
    // removal already leaves them out (pruning from a metric rendered later left one stale scrape).
    collect() {
      const names = new Set(status().filters.map((f) => f.name));
      for (const n of seen) {
        if (names.has(n)) continue;
        for (const result of SYNC_RESULTS) this.remove({ filter: n, result });
        seen.delete(n);
      }
    },
  });

  new client.Gauge({
    name: 'wasm_oci_agent_ready',
    help: '1 when a config is loaded and every filter is in place at its wanted digest.',
    registers,
    collect() {
      this.set(status().ready ? 1 : 0);
    },
  });
  new client.Gauge({
    name: 'wasm_oci_agent_config_loaded',
    help: '1 once a config has loaded; the last good one stays in force after a refused reload.',
    registers,
    collect() {
      this.set(status().configLoaded ? 1 : 0);
    },
  });
  new client.Gauge({
    name: 'wasm_oci_agent_config_last_reload_successful',
    help: '1 when the last read of the config was accepted, 0 when it was refused.',
    registers,
    collect() {
      this.set(status().configError === undefined ? 1 : 0);
    },
  });
  new client.Counter({
    name: 'wasm_oci_agent_config_reloads_total',
    help: 'Reads of the config, by result.',
    labelNames: ['result'] as const,
    registers,
    collect() {
      const r = status().configReloads;
      this.reset();
      this.inc({ result: 'success' }, r.success);
      this.inc({ result: 'failure' }, r.failure);
    },
  });
  new client.Gauge({
    name: 'wasm_oci_agent_filter_ready',
    help: '1 when the filter file is in place at the wanted digest and the last check succeeded.',
    labelNames: ['filter'] as const,
    registers,
    collect() {
      this.reset();
      perFilter((f) => this.set({ filter: f.name }, f.ready ? 1 : 0));
    },
  });
  new client.Gauge({
    name: 'wasm_oci_agent_filter_wanted_digest_info',
    help: 'The manifest digest the filter image names, as last resolved (value 1).',
    labelNames: ['filter', 'image', 'digest'] as const,
    registers,
    collect() {
      this.reset();
      perFilter((f) => { if (f.wantedDigest) this.set({ filter: f.name, image: f.image, digest: f.wantedDigest }, 1); });
    },
  });
  new client.Gauge({
    name: 'wasm_oci_agent_filter_current_digest_info',
    help: 'The manifest digest the file in place came from (value 1).',
    labelNames: ['filter', 'digest', 'module_digest'] as const,
    registers,
    collect() {
      this.reset();
      perFilter((f) => { if (f.currentDigest) this.set({ filter: f.name, digest: f.currentDigest, module_digest: f.moduleDigest ?? '' }, 1); });
    },
  });
  new client.Gauge({
    name: 'wasm_oci_agent_filter_last_success_timestamp_seconds',
    help: 'When the last check of the filter succeeded (Unix time).',
    labelNames: ['filter'] as const,
    registers,
    collect() {
      this.reset();
      perFilter((f) => { if (f.lastSuccessMs !== undefined) this.set({ filter: f.name }, f.lastSuccessMs / 1000); });
    },
  });
  new client.Counter({
    name: 'wasm_oci_agent_filter_sync_failures_total',
    help: 'Failed checks of the filter since the agent started.',
    labelNames: ['filter'] as const,
    registers,
    collect() {
      this.reset();
      perFilter((f) => this.inc({ filter: f.name }, f.failures));
    },
  });
  new client.Gauge({
    name: 'wasm_oci_agent_filter_consecutive_failures',
    help: 'Failed checks in a row (0 once a check succeeds).',
    labelNames: ['filter'] as const,
    registers,
    collect() {
      this.reset();
      perFilter((f) => this.set({ filter: f.name }, f.consecutiveFailures));
    },
  });
  new client.Gauge({
    name: 'wasm_oci_agent_filter_backoff_seconds',
    help: 'Delay before the next retry of a failing filter (0 when in place).',
    labelNames: ['filter'] as const,
    registers,
    collect() {
      this.reset();
      perFilter((f) => this.set({ filter: f.name }, f.backoffMs / 1000));
    },
  });
  new client.Counter({
    name: 'wasm_oci_agent_filter_bytes_total',
    help: 'Blob bytes fetched for the filter since the agent started.',
    labelNames: ['filter'] as const,
    registers,
    collect() {
      this.reset();
      perFilter((f) => this.inc({ filter: f.name }, f.bytes));
    },
  });

  return {
    observe(event) {
      seen.add(event.filter);
      hist.observe({ filter: event.filter, result: event.result }, event.durationMs / 1000);
    },
    async render() {
      return { contentType: registry.contentType, body: await registry.metrics() };
    },
  };
}
