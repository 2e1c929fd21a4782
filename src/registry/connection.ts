import { isIP } from 'node:net';
import buildConnectorImpl from 'undici/lib/core/connect.js';
import type { buildConnector } from 'undici';
import { WasmOciError } from '../errors.js';

/** One `--resolve host:port:address[:address_port]` rule. */
export interface ResolveRule {
  host: string;
  port: number;
  address: string;
  addressPort: number;
}

/**
 * Parsed as oras parses it (cmd/oras/internal/option/remote.go, parseResolve): four fields at
 * most, the host port an integer, the address an IP literal, the address port defaulting to the
 * host port. IPv6 addresses are written in brackets (`[::1]`) since the separator is `:`.
 */
export function parseResolve(value: string): ResolveRule {
  const fail = (why: string): never => {
    throw new WasmOciError('E_USAGE', `failed to parse resolve flag "${value}": ${why}`);
  };
  const m = /^([^:]+):(\d+):(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(value);
  if (!m) return fail('expecting host:port:address[:address_port]');
  const address = m[3]!.replace(/^\[(.*)\]$/, '$1');
  if (isIP(address) === 0) fail('invalid IP address');
  const port = Number(m[2]);
  const addressPort = m[4] !== undefined ? Number(m[4]) : port;
  if (port < 1 || port > 65535 || addressPort < 1 || addressPort > 65535) fail('port out of range');
  return { host: m[1]!.toLowerCase(), port, address, addressPort };
}

/**
 * `-H 'Name: value'` as oras reads it (remote.go, parseCustomHeaders): split at the first colon,
 * both sides trimmed, a name required; repeated names keep every value (joined as HTTP allows).
 */
export function parseHeaders(values: readonly string[] = []): Record<string, string> {
  const out: Record<string, string> = {};
  for (const h of values) {
    const colon = h.indexOf(':');
    const name = colon > 0 ? h.slice(0, colon).trim() : '';
    if (!name || !/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name)) {
      throw new WasmOciError('E_USAGE', `invalid header: "${name || h}"`, { hint: 'write -H "Name: value"' });
    }
    const key = name.toLowerCase();
    const value = h.slice(colon + 1).trim();
    out[key] = out[key] !== undefined ? `${out[key]}, ${value}` : value;
  }
  return out;
}

export interface ConnectOptions {
  insecure?: boolean;
  ca?: string[];
  /** Client certificate and key in PEM for mutual TLS (oras `--cert-file`/`--key-file`). */
  cert?: string;
  key?: string;
  resolve?: readonly ResolveRule[];
}

type Connector = buildConnector.connector;

/**
 * undici's connector with our TLS options; a `--resolve` rule swaps only the address dialled,
 * so the URL's host still names the server for SNI, certificate checks and the Host header
 * (what oras's dialer does: it rewrites the dial address, not the request).
 */
export function createConnector(opts: ConnectOptions, timeoutMs?: number): Connector {
  const base = buildConnectorImpl({
    rejectUnauthorized: !opts.insecure,
    ...(opts.ca ? { ca: opts.ca } : {}),
    ...(opts.cert !== undefined ? { cert: opts.cert } : {}),
    ...(opts.key !== undefined ? { key: opts.key } : {}),
    ...(timeoutMs !== undefined ? { timeout: Math.min(timeoutMs, 30_000) } : {}),
  } as buildConnector.BuildOptions);
  const rules = opts.resolve ?? [];
  if (rules.length === 0) return base;
  return ((options, callback) => {
    const port = Number(options.port || (options.protocol === 'https:' ? 443 : 80));
    const hostname = options.hostname.replace(/^\[(.*)\]$/, '$1').toLowerCase();
    // Later rules win, as oras applies them in order.
    const rule = [...rules].reverse().find((r) => r.host === hostname && r.port === port);
    if (!rule) return base(options, callback);
    const servername = options.servername || (isIP(hostname) === 0 ? hostname : undefined);
    return base({ ...options, hostname: rule.address, port: String(rule.addressPort), ...(servername ? { servername } : {}) }, callback);
  }) as Connector;
}
