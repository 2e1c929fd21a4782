import ProxyAgentImpl from 'undici/lib/dispatcher/proxy-agent.js';
import PoolImpl from 'undici/lib/dispatcher/pool.js';
import type { Dispatcher } from './undici-core.js';
// For its side effect: the request API on Dispatcher.prototype, which ProxyAgent inherits.
import './undici-core.js';

export interface ProxyAgentOptions {
  insecure?: boolean;
  /** CA bundle (system roots plus --ca-file), for the registry inside the tunnel and for an https:// proxy. */
  ca?: string[];
  /** Client certificate for the registry (mutual TLS inside the tunnel); never shown to the proxy. */
  cert?: string;
  key?: string;
  timeoutMs: number;
}

/**
 * undici's ProxyAgent for one proxy and one kind of target. https targets go through a CONNECT
 * tunnel with TLS to the registry inside it, so the proxy sees the host:port and nothing else;
 * http targets are sent to the proxy in absolute form, as Go's Transport does for an http URL
 * (net/http/transport.go, connectMethod: only https targets are tunnelled) — proxies commonly
 * allow CONNECT to port 443 only, and a plain-HTTP registry usually listens on 5000.
 */
export function createProxyAgent(proxy: URL, targetProtocol: 'http:' | 'https:', opts: ProxyAgentOptions): Dispatcher {
  const timeouts = {
    headersTimeout: opts.timeoutMs,
    bodyTimeout: opts.timeoutMs,
    keepAliveTimeout: 30_000,
    keepAliveMaxTimeout: 600_000,
  };
  const tls = { rejectUnauthorized: !opts.insecure, ...(opts.ca ? { ca: opts.ca } : {}) };
  return new ProxyAgentImpl({
    uri: proxy.href,
    ...timeouts,
    proxyTunnel: targetProtocol === 'https:',
    requestTls: { ...tls, ...(opts.cert !== undefined ? { cert: opts.cert, key: opts.key } : {}) },
    proxyTls: tls,
    // ProxyAgent's own pool for absolute-form requests gets only `connect`: keep our timeouts.
    factory: (origin: string | URL, options: object) => new PoolImpl(origin, { ...timeouts, ...options }),
  });
}
