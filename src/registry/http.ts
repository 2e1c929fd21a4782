import { Readable } from 'node:stream';
import { createRequire } from 'node:module';
import { Agent, type Dispatcher } from './undici-core.js';
import { WasmOciError, isWasmOciError } from '../errors.js';
import { REDACTED, redactHeader, redactUrl } from './redact.js';
import { createConnector, type ResolveRule } from './connection.js';
import { createProxySelector, type ChosenProxy, type ProxyConfig, type ProxyConfigFromEnv } from './proxy-env.js';

/**
 * `--ca-file`'s certificates after Node's bundled CA list: Node's `ca` replaces the system roots,
 * oras's --ca-file adds to them (a public token realm must still verify while the registry uses a
 * private CA). node:tls is loaded only then: undici loads it itself for an https:// registry, and a
 * plain-HTTP or layout command never needs it (a few ms of start-up, issue 14).
 */
const requireBuiltin = createRequire(import.meta.url);
function withSystemRoots(ca: NonNullable<HttpClientOptions['ca']>): string[] {
  return [...(requireBuiltin('node:tls') as typeof import('node:tls')).rootCertificates, String(ca)];
}

/** A body that can be sent again: bytes, or a factory that opens the source anew on each attempt. */
export type BodyFactory = () => Readable | Promise<Readable>;
/** A plain `Readable` can be sent once only: the retry and auth layers never replay it. */
export type RequestBody = Uint8Array | string | BodyFactory | Readable;

export type HttpMethod = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface HttpRequest {
  method: HttpMethod;
  url: string | URL;
  headers?: Record<string, string>;
  body?: RequestBody;
  signal?: AbortSignal;
  /** Read buffer of the response body (undici's default is 64 KiB). */
  highWaterMark?: number;
  /** Sent once, never retried: a best-effort request (cancelling an upload) whose failure nobody waits for. */
  once?: boolean;
}

export interface HttpResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** Must be consumed or discarded (`discardBody`) so the connection can be reused. */
  body: Readable;
  url: URL;
}

export interface HttpClient {
  request(req: HttpRequest): Promise<HttpResponse>;
  close(): Promise<void>;
}

export interface HttpClientOptions {
  /** An undici dispatcher to use instead of the Agent built from the TLS options. */
  dispatcher?: Dispatcher;
  /** Talk HTTP instead of HTTPS (oras `--plain-http`). Also what allows credentials over HTTP. */
  plainHttp?: boolean;
  /** Skip TLS certificate verification (oras `--insecure`). */
  insecure?: boolean;
  /** Extra CA certificates in PEM (oras `--ca-file`). */
  ca?: string | Buffer;
  /** Client certificate and its key in PEM for mutual TLS (oras `--cert-file`/`--key-file`). */
  cert?: string;
  key?: string;
  /** Dial another address for a host:port, the name kept for TLS and Host (oras `--resolve`). */
  resolve?: readonly ResolveRule[];
  /** Sent on every request, registry and token service alike (oras `-H/--header`); lower-case names. */
  headers?: Record<string, string>;
  userAgent?: string;
  /** One line per request and per response, secrets redacted. */
  onDebug?: (line: string) => void;
  /** Longest wait for response headers, and longest silence inside a body (default 60 s). */
  timeoutMs?: number;
  /**
   * Forward proxies for registry and token traffic; `proxyConfigFromEnv(process.env)` gives what
   * HTTPS_PROXY, HTTP_PROXY and NO_PROXY say. Not read from the environment by the library itself.
   * Ignored when `dispatcher` is given. `--resolve` rules apply to direct connections only: through
   * a proxy, the proxy resolves the registry's name.
   */
  proxy?: ProxyConfig & Partial<Pick<ProxyConfigFromEnv, 'sources'>>;
}

/** undici waits 300 s by default; a stalled registry should become a retried network error sooner. */
export const DEFAULT_TIMEOUT_MS = 60_000;

export const DEFAULT_USER_AGENT = 'wasm-oci/0.1';

export function headerValue(res: { headers: HttpResponse['headers'] }, name: string): string | undefined {
  const v = res.headers[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
}

export function isReplayable(body: RequestBody | undefined): boolean {
  return body === undefined || typeof body === 'string' || body instanceof Uint8Array || typeof body === 'function';
}

/** Drains a body we do not need so undici can keep the connection alive (bounded: big bodies close it). */
export async function discardBody(body: Readable): Promise<void> {
  const dumpable = body as Readable & { dump?: (opts?: { limit?: number }) => Promise<void> };
  try {
    if (typeof dumpable.dump === 'function') await dumpable.dump({ limit: 128 * 1024 });
    else body.destroy();
  } catch {
    body.destroy();
  }
}

const TLS_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT', 'SELF_SIGNED_CERT_IN_CHAIN', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED', 'CERT_REVOKED', 'CERT_SIGNATURE_FAILURE', 'ERR_TLS_CERT_ALTNAME_INVALID', 'HOSTNAME_MISMATCH',
]);

/** Walks `cause` chains and AggregateErrors (happy eyeballs) collecting error codes and messages. */
function collect(err: unknown, depth = 0, acc: { codes: string[]; messages: string[] } = { codes: [], messages: [] }) {
  if (depth > 5 || err === null || typeof err !== 'object') return acc;
  const e = err as { code?: unknown; message?: unknown; cause?: unknown; errors?: unknown };
  if (typeof e.code === 'string') acc.codes.push(e.code);
  if (typeof e.message === 'string') acc.messages.push(e.message);
  if (Array.isArray(e.errors)) for (const sub of e.errors) collect(sub, depth + 1, acc);
  if (e.cause) collect(e.cause, depth + 1, acc);
  return acc;
}

/** Turns an undici / socket / TLS failure into a WasmOciError with a hint a user can act on. */
export function mapNetworkError(err: unknown, url: URL, plainHttp: boolean, signal?: AbortSignal, via?: ChosenProxy): WasmOciError {
  if (isWasmOciError(err)) return err;
  if (signal?.aborted) return new WasmOciError('E_CANCELLED', 'request cancelled', { cause: err });
  const { codes, messages } = collect(err);
  const text = messages.join('; ');
  const where = `${url.protocol}//${url.host}`;
  const has = (c: string): boolean => codes.includes(c);
  const proxyError = mapProxyError(err, url, codes, text, via);
  if (proxyError) return proxyError;
  if (has('ABORT_ERR') || has('UND_ERR_ABORTED')) return new WasmOciError('E_CANCELLED', 'request cancelled', { cause: err });
  if (has('ERR_SSL_WRONG_VERSION_NUMBER') || has('ERR_SSL_PACKET_LENGTH_TOO_LONG') || /wrong version number|packet length too long/i.test(text)) {
    return new WasmOciError('E_NETWORK', `${where} does not speak HTTPS (the server answered the TLS handshake in plain HTTP)`, {
      cause: err, hint: 'use --plain-http for a registry without TLS', details: { retryable: false },
    });
  }
  if (codes.some((c) => TLS_CODES.has(c) || c.startsWith('ERR_TLS_') || c.startsWith('ERR_SSL_') || c.startsWith('CERT_'))) {
    return new WasmOciError('E_TLS', `TLS failure talking to ${where}: ${messages[0] ?? codes[0]}`, {
      cause: err, hint: 'use --ca-file FILE or --insecure', details: { retryable: false, codes },
    });
  }
  if (has('UND_ERR_REQ_CONTENT_LENGTH_MISMATCH')) {
    return new WasmOciError('E_SIZE_MISMATCH', 'the content to upload does not have the size its descriptor declares', { cause: err, details: { retryable: false } });
  }
  if (has('ECONNREFUSED')) {
    const hint = !plainHttp && url.port === '5000'
      ? `is the registry running at ${url.host}? registries on port 5000 often speak plain HTTP: use --plain-http`
      : `is the registry running at ${url.host}?`;
    return new WasmOciError('E_NETWORK', `connection refused by ${where}`, { cause: err, hint, details: { retryable: false } });
  }
  if (has('ENOTFOUND') || has('EAI_AGAIN')) {
    return new WasmOciError('E_NETWORK', `cannot resolve ${url.hostname}`, { cause: err, details: { retryable: has('EAI_AGAIN') } });
  }
  const hint = !plainHttp && url.port === '5000' ? 'if the registry speaks plain HTTP, use --plain-http' : undefined;
  return new WasmOciError('E_NETWORK', `network error talking to ${where}: ${messages[0] ?? 'unknown error'}`, {
    cause: err, hint, details: { retryable: true, codes },
  });
}

/**
 * Failures of the proxy itself, told apart from the registry's: a refused CONNECT (undici aborts
 * the request with "Proxy response (N) !== 200 when HTTP Tunneling"), a 407, and, when a proxy
 * was chosen, a connection refused or a name not resolved (the only host dialled is the proxy).
 */
function mapProxyError(err: unknown, url: URL, codes: string[], text: string, via?: ChosenProxy): WasmOciError | undefined {
  const proxyName = via ? `the proxy ${redactUrl(via.url).replace(/\/$/, '')} (${via.variable})` : 'the proxy';
  const target = `${url.hostname}:${url.port || (url.protocol === 'https:' ? 443 : 80)}`;
  const bypass = via ? `add ${url.hostname} to NO_PROXY to connect directly` : undefined;
  const tunnel = /Proxy response \((\d{3})\) !== 200 when HTTP Tunneling/.exec(text);
  const status = tunnel ? Number(tunnel[1]) : /Proxy Authentication Required \(407\)/.test(text) ? 407 : undefined;
  if (status === 407) {
    return new WasmOciError('E_AUTH', `${proxyName} requires authentication (HTTP 407)`, {
      cause: err, status, hint: `give the proxy's credentials in ${via?.variable ?? 'the proxy URL'}: http://USER:PASSWORD@HOST:PORT`, details: { retryable: false, proxy: true },
    });
  }
  if (status !== undefined) {
    return new WasmOciError('E_NETWORK', `${proxyName} refused to open a tunnel to ${target} (HTTP ${status})`, {
      cause: err, status, hint: bypass ?? 'check what the proxy allows (many allow CONNECT to port 443 only)',
      details: { retryable: status === 502 || status === 503 || status === 504, proxy: true },
    });
  }
  if (!via) return undefined;
  if (codes.includes('UND_ERR_PRX_TLS')) {
    return new WasmOciError('E_TLS', `TLS failure talking to ${proxyName}: ${text}`, { cause: err, hint: 'use --ca-file FILE or --insecure', details: { retryable: false, proxy: true } });
  }
  if (codes.includes('ECONNREFUSED')) {
    return new WasmOciError('E_NETWORK', `connection refused by ${proxyName}, on the way to ${target}`, {
      cause: err, hint: `is the proxy running? or ${bypass}`, details: { retryable: false, proxy: true },
    });
  }
  if (codes.includes('ENOTFOUND') || codes.includes('EAI_AGAIN')) {
    return new WasmOciError('E_NETWORK', `cannot resolve ${proxyName}`, { cause: err, hint: `check ${via.variable}, or ${bypass}`, details: { retryable: codes.includes('EAI_AGAIN'), proxy: true } });
  }
  return undefined;
}

/** Builds the undici Agent: keep-alive connection reuse per origin, TLS options as oras spells them. */
export function createAgent(options: Pick<HttpClientOptions, 'insecure' | 'ca' | 'cert' | 'key' | 'resolve' | 'timeoutMs'> = {}): Agent {
  return new Agent({
    headersTimeout: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    bodyTimeout: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    keepAliveTimeout: 30_000,
    keepAliveMaxTimeout: 600_000,
    connect: createConnector({
      insecure: options.insecure,
      ...(options.ca !== undefined ? { ca: withSystemRoots(options.ca) } : {}),
      cert: options.cert,
      key: options.key,
      resolve: options.resolve,
    }),
  });
}

function debugHeaders(headers: Record<string, string>, custom: Record<string, string>): string {
  // -H headers are shown by name only: nothing tells a harmless value from an API key.
  const shown = Object.entries(headers)
    .filter(([k]) => /^(authorization|range|content-range|content-type|content-length)$/i.test(k) || k in custom)
    .map(([k, v]) => `${k.toLowerCase()}: ${k in custom && !/^(range|content-range|content-type|content-length)$/.test(k) ? (k === 'authorization' ? redactHeader(k, v) : REDACTED) : redactHeader(k, v)}`);
  return shown.length ? ` [${shown.join(', ')}]` : '';
}

/**
 * The bottom layer: one HTTP exchange over undici, no redirects followed (the repository follows
 * them itself so it can drop Authorization across origins), errors mapped, debug lines redacted.
 */
export function createHttpClient(options: HttpClientOptions = {}): HttpClient {
  const injected = options.dispatcher;
  const selector = !injected && options.proxy ? createProxySelector(options.proxy) : undefined;
  let direct: Agent | undefined;
  // One ProxyAgent per proxy and target scheme (tunnel for https, absolute form for http).
  const proxied = new Map<string, Promise<Dispatcher>>();
  const route = async (url: URL): Promise<{ dispatcher: Dispatcher; via?: ChosenProxy }> => {
    if (injected) return { dispatcher: injected };
    const via = selector?.forUrl(url);
    if (!via) return { dispatcher: (direct ??= createAgent(options)) };
    const scheme = url.protocol === 'https:' ? 'https:' : 'http:';
    const key = `${scheme} ${via.url.href}`;
    let agent = proxied.get(key);
    if (!agent) {
      agent = import('./proxy-dispatcher.js').then(({ createProxyAgent }) => createProxyAgent(via.url, scheme, {
        insecure: options.insecure,
        ...(options.ca !== undefined ? { ca: withSystemRoots(options.ca) } : {}),
        cert: options.cert,
        key: options.key,
        timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      }));
      proxied.set(key, agent);
    }
    return { dispatcher: await agent, via };
  };
  const userAgent = options.userAgent ?? DEFAULT_USER_AGENT;
  const plainHttp = options.plainHttp ?? false;
  const debug = options.onDebug;
  const custom = lowerKeys(options.headers ?? {});

  return {
    async request(req: HttpRequest): Promise<HttpResponse> {
      const url = new URL(String(req.url));
      // The request's own headers win: a -H cannot replace the protocol's Accept or Range.
      const headers: Record<string, string> = { 'user-agent': userAgent, ...custom, ...lowerKeys(req.headers ?? {}) };
      if (req.signal?.aborted) throw new WasmOciError('E_CANCELLED', 'request cancelled');
      // Routed before the body is opened: nothing to close if the proxy module fails to load.
      const { dispatcher, via } = await route(url);
      let body: string | Uint8Array | Readable | undefined;
      if (typeof req.body === 'function') body = await req.body();
      else body = req.body;
      const started = Date.now();
      const through = via ? ` via proxy ${redactUrl(via.url).replace(/\/$/, '')} (${via.variable})` : '';
      debug?.(`> ${req.method} ${redactUrl(url)}${debugHeaders(headers, custom)}${through}`);
      try {
        const res = await dispatcher.request({
          origin: url.origin,
          path: `${url.pathname}${url.search}`,
          method: req.method,
          headers,
          body: body ?? null,
          signal: req.signal ?? null,
          highWaterMark: req.highWaterMark,
        });
        debug?.(`< ${res.statusCode} ${req.method} ${redactUrl(url)} (${Date.now() - started} ms)`);
        return { status: res.statusCode, headers: res.headers, body: res.body, url };
      } catch (err) {
        if (body instanceof Readable) body.destroy();
        const mapped = mapNetworkError(err, url, plainHttp, req.signal, via);
        debug?.(`< ${mapped.code} ${req.method} ${redactUrl(url)} (${Date.now() - started} ms): ${mapped.message}`);
        throw mapped;
      }
    },
    async close(): Promise<void> {
      const own: Dispatcher[] = [...(direct ? [direct] : []), ...(await Promise.all(proxied.values()))];
      await Promise.all(own.map((d) => d.close()));
    },
  };
}

function lowerKeys(h: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h)) out[k.toLowerCase()] = v;
  return out;
}
