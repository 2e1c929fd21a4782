import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AgentMetrics } from './metrics.js';
import type { AgentStatus } from './sync.js';

/** Why the agent is not ready, one line per filter (or the config), for /readyz's body. */
export function notReadyReasons(status: AgentStatus): string[] {
  const lines: string[] = [];
  if (!status.configLoaded) lines.push(`config: not loaded${status.configError ? `: ${status.configError}` : ''}`);
  for (const f of status.filters) if (!f.ready) lines.push(`${f.name}: ${f.reason ?? 'not in place'}`);
  return lines;
}

/**
 * The agent's HTTP endpoints, as a kubelet probes them: `/healthz` answers while the process
 * serves (liveness: a registry outage must not get the pod restarted), `/readyz` is 200 only when
 * every filter is in place at its wanted digest and 503 naming each one that is not, `/metrics`
 * is the Prometheus text format. GET and HEAD only.
 */
export function agentHttpHandler(status: () => AgentStatus, metrics: AgentMetrics | undefined) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    const path = new URL(req.url ?? '/', 'http://agent').pathname;
    const send = (code: number, body: string, type = 'text/plain; charset=utf-8'): void => {
      res.writeHead(code, { 'content-type': type, 'cache-control': 'no-store', 'content-length': Buffer.byteLength(body) });
      res.end(req.method === 'HEAD' ? undefined : body);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD');
      send(405, 'method not allowed\n');
      return;
    }
    if (path === '/healthz') {
      send(200, 'ok\n');
      return;
    }
    if (path === '/readyz') {
      const s = status();
      if (s.ready) send(200, `ok: ${s.filters.length} filter${s.filters.length === 1 ? '' : 's'} in place\n`);
      else send(503, `not ready:\n${notReadyReasons(s).map((l) => `  ${l}\n`).join('')}`);
      return;
    }
    if (path === '/metrics' && metrics) {
      metrics.render().then(
        ({ contentType, body }) => send(200, body, contentType),
        (err: unknown) => send(500, `metrics failed: ${(err as Error).message}\n`),
      );
      return;
    }
    send(404, 'not found: /healthz, /readyz, /metrics\n');
  };
}
