import { createServer, request as httpRequest, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * An in-process HTTP proxy in front of a (plain HTTP) registry, for what no real registry does
 * on demand: resets mid-blob, 429 with Retry-After, stalls, truncated or corrupted bodies, and
 * blob redirects to another origin (as registries do to S3 or a CDN).
 */

export interface RequestInfo {
  method: string;
  /** Path with query, as the client sent it. */
  url: string;
  path: string;
  headers: IncomingHttpHeaders;
}

export type Fault =
  /** Forward status and headers, send `afterBytes` bytes of the body, then destroy the socket. */
  | { kind: 'reset-mid-body'; afterBytes?: number }
  /** Answer with this status without contacting upstream. */
  | { kind: 'status'; status: number; retryAfter?: string | number; headers?: Record<string, string>; body?: string }
  /** Wait `ms` before forwarding (the client sees no bytes meanwhile). */
  | { kind: 'stall'; ms: number }
  /** Drop Content-Length and end cleanly after `afterBytes` (default: half): a short body with no transport error. */
  | { kind: 'truncate'; afterBytes?: number }
  /** 307 to `${to}${path}` (another origin; see startBlobServer). */
  | { kind: 'redirect-blob-to-other-origin'; to: string; status?: 301 | 302 | 303 | 307 | 308 }
  /** Forward everything, flipping one byte at `atByte` (default: the middle, or 0). Length unchanged. */
  | { kind: 'corrupt-body'; atByte?: number }
  /** Forward the body at no more than `bytesPerSecond` (a slow link: a large download takes a while). */
  | { kind: 'throttle'; bytesPerSecond: number };

export interface FaultRule {
  match: (req: RequestInfo) => boolean;
  fault: Fault;
  /** How many matching requests get the fault; unlimited when omitted. */
  times?: number;
}

export interface SeenRequest extends RequestInfo {
  /** The fault injected into this request, if any. */
  fault?: Fault['kind'];
  /** Upstream or injected status. */
  status?: number;
  /** When the request arrived, on the proxy's event counter (shared with `answeredAt`). */
  arrivedAt: number;
  /** When its status line was sent to the client (injected or upstream), on the same counter. */
  answeredAt?: number;
  /** The request body of a manifest PUT (what the client asked the registry to store). */
  body?: Buffer;
}

export interface FaultProxy {
  /** `http://127.0.0.1:PORT` */
  url: string;
  /** `127.0.0.1:PORT` */
  host: string;
  port: number;
  addFault(rule: FaultRule): void;
  clearFaults(): void;
  requests: SeenRequest[];
  readonly faultsInjected: number;
  faultsByKind(): Record<string, number>;
  close(): Promise<void>;
}

/** Matchers for the usual registry paths. */
export const isBlobGet = (r: RequestInfo): boolean => (r.method === 'GET') && /\/blobs\/sha(256|512):/.test(r.path);
export const isManifestRequest = (r: RequestInfo): boolean => /\/manifests\//.test(r.path);
export const isUpload = (r: RequestInfo): boolean => /\/blobs\/uploads\//.test(r.path);

interface ActiveRule { rule: FaultRule; left: number }

export async function startFaultProxy(opts: { upstream: string }): Promise<FaultProxy> {
  const upstream = new URL(opts.upstream);
  if (upstream.protocol !== 'http:') throw new Error('fault proxy: upstream must be plain HTTP');
  const rules: ActiveRule[] = [];
  const requests: SeenRequest[] = [];
  const counts: Record<string, number> = {};
  let faultsInjected = 0;
  /** One counter for arrivals and answers, so "answered before that request arrived" is exact. */
  let events = 0;

  const pickFault = (info: RequestInfo): Fault | undefined => {
    for (const r of rules) {
      if (r.left <= 0) continue;
      if (!r.rule.match(info)) continue;
      r.left--;
      faultsInjected++;
      counts[r.rule.fault.kind] = (counts[r.rule.fault.kind] ?? 0) + 1;
      return r.rule.fault;
    }
    return undefined;
  };

  const forward = (req: IncomingMessage, res: ServerResponse, seen: SeenRequest, fault: Fault | undefined): void => {
    // The Host header is kept: Distribution builds upload Locations from it, so they point back here.
    const up = httpRequest({
      host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers,
    }, (upRes) => {
      seen.status = upRes.statusCode;
      seen.answeredAt = ++events;
      const headers = { ...upRes.headers };
      const total = Number(upRes.headers['content-length'] ?? NaN);
      if (fault?.kind === 'truncate') {
        delete headers['content-length'];
        const limit = fault.afterBytes ?? (Number.isFinite(total) ? Math.floor(total / 2) : 0);
        res.writeHead(upRes.statusCode ?? 502, headers);
        let sent = 0;
        upRes.on('data', (chunk: Buffer) => {
          if (sent >= limit) return;
          const part = chunk.subarray(0, limit - sent);
          sent += part.length;
          res.write(part);
          if (sent >= limit) { upRes.destroy(); res.end(); }
        });
        upRes.on('end', () => res.end());
        return;
      }
      res.writeHead(upRes.statusCode ?? 502, headers);
      if (fault?.kind === 'reset-mid-body') {
        const limit = fault.afterBytes ?? 0;
        let sent = 0;
        const cut = (): void => { upRes.destroy(); res.socket?.destroy(); };
        if (limit === 0) { res.flushHeaders(); setImmediate(cut); return; }
        upRes.on('data', (chunk: Buffer) => {
          if (sent >= limit) return;
          const part = chunk.subarray(0, limit - sent);
          sent += part.length;
          res.write(part);
          if (sent >= limit) setImmediate(cut);
        });
        upRes.on('end', () => { if (sent < limit) res.end(); });
        return;
      }
      if (fault?.kind === 'corrupt-body') {
        const at = fault.atByte ?? (Number.isFinite(total) ? Math.floor(total / 2) : 0);
        let offset = 0;
        upRes.on('data', (chunk: Buffer) => {
          if (at >= offset && at < offset + chunk.length) {
            const copy = Buffer.from(chunk);
            copy[at - offset] = copy[at - offset]! ^ 0xff;
            chunk = copy;
          }
          offset += chunk.length;
          res.write(chunk);
        });
        upRes.on('end', () => res.end());
        return;
      }
      if (fault?.kind === 'throttle') {
        const started = Date.now();
        let sent = 0;
        upRes.on('data', (chunk: Buffer) => {
          sent += chunk.length;
          res.write(chunk);
          const due = started + (sent / fault.bytesPerSecond) * 1000 - Date.now();
          if (due > 0) {
            upRes.pause();
            setTimeout(() => upRes.resume(), due).unref();
          }
        });
        upRes.on('end', () => res.end());
        res.once('close', () => upRes.destroy());
        return;
      }
      upRes.pipe(res);
    });
    up.on('error', () => {
      if (!res.headersSent) { seen.status = 502; seen.answeredAt = ++events; res.writeHead(502); res.end(); } else res.socket?.destroy();
    });
    if (seen.body) {
      // A manifest PUT: the body is kept (for the blobs-before-manifest check) and sent on as is.
      req.on('data', (c: Buffer) => { seen.body = Buffer.concat([seen.body!, c]); up.write(c); });
      req.on('end', () => up.end());
    } else req.pipe(up);
  };

  const server: Server = createServer((req, res) => {
    const url = req.url ?? '/';
    const info: RequestInfo = {
      method: req.method ?? 'GET', url, path: url.split('?')[0]!, headers: { ...req.headers },
    };
    const seen: SeenRequest = { ...info, arrivedAt: ++events };
    if (info.method === 'PUT' && isManifestRequest(info)) seen.body = Buffer.alloc(0);
    requests.push(seen);
    const fault = pickFault(info);
    if (fault) seen.fault = fault.kind;
    switch (fault?.kind) {
      case 'status': {
        seen.status = fault.status;
        seen.answeredAt = ++events;
        const headers: Record<string, string> = { 'content-type': 'application/json', ...fault.headers };
        if (fault.retryAfter !== undefined) headers['retry-after'] = String(fault.retryAfter);
        const body = fault.body ?? JSON.stringify({ errors: [{ code: fault.status === 429 ? 'TOOMANYREQUESTS' : 'UNAVAILABLE', message: `injected ${fault.status}` }] });
        headers['content-length'] = String(Buffer.byteLength(body));
        if (seen.body) req.on('data', (c: Buffer) => { seen.body = Buffer.concat([seen.body!, c]); });
        else req.resume();
        res.writeHead(fault.status, headers);
        res.end(req.method === 'HEAD' ? undefined : body);
        return;
      }
      case 'redirect-blob-to-other-origin': {
        const status = fault.status ?? 307;
        seen.status = status;
        seen.answeredAt = ++events;
        req.resume();
        res.writeHead(status, { location: `${fault.to.replace(/\/$/, '')}${url}`, 'content-length': '0' });
        res.end();
        return;
      }
      case 'stall': {
        const timer = setTimeout(() => { if (!res.destroyed) forward(req, res, seen, undefined); }, fault.ms);
        res.once('close', () => clearTimeout(timer));
        return;
      }
      default:
        forward(req, res, seen, fault);
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    host: `127.0.0.1:${port}`,
    port,
    addFault(rule) { rules.push({ rule, left: rule.times ?? Infinity }); },
    clearFaults() { rules.length = 0; },
    requests,
    get faultsInjected() { return faultsInjected; },
    faultsByKind: () => ({ ...counts }),
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export interface BlobServer {
  /** `http://127.0.0.1:PORT`: a different origin from the registry and the proxy. */
  url: string;
  requests: SeenRequest[];
  /** Serve these bytes for any path ending in `digest`. */
  addBlob(digest: string, bytes: Buffer): void;
  close(): Promise<void>;
}

/**
 * The "other origin" of a blob redirect. It serves blobs it was given, or else fetches the same
 * path from `upstream` (a plain registry without auth), and records every request's headers so
 * a test can assert that no Authorization header crossed origins.
 */
export async function startBlobServer(opts: { upstream?: string } = {}): Promise<BlobServer> {
  const blobs = new Map<string, Buffer>();
  const requests: SeenRequest[] = [];
  const server = createServer((req, res) => {
    const url = req.url ?? '/';
    const path = url.split('?')[0]!;
    const seen: SeenRequest = { method: req.method ?? 'GET', url, path, headers: { ...req.headers }, arrivedAt: requests.length + 1 };
    requests.push(seen);
    req.resume();
    const m = /(sha(?:256|512):[0-9a-f]+)$/.exec(path);
    const bytes = m ? blobs.get(m[1]!) : undefined;
    if (bytes) {
      seen.status = 200;
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(bytes.length) });
      res.end(req.method === 'HEAD' ? undefined : bytes);
      return;
    }
    if (opts.upstream && m) {
      const up = new URL(opts.upstream);
      // Deliberately no client headers forwarded: this origin stands for S3/CDN, which needs none.
      const upReq = httpRequest({ host: up.hostname, port: up.port, method: req.method, path }, (upRes) => {
        seen.status = upRes.statusCode;
        res.writeHead(upRes.statusCode ?? 502, {
          'content-type': 'application/octet-stream',
          ...(upRes.headers['content-length'] ? { 'content-length': upRes.headers['content-length'] } : {}),
        });
        upRes.pipe(res);
      });
      upReq.on('error', () => { if (!res.headersSent) res.writeHead(502); res.end(); });
      upReq.end();
      return;
    }
    seen.status = 404;
    res.writeHead(404);
    res.end();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    addBlob(digest, bytes) { blobs.set(digest, bytes); },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** True when any recorded request carried an Authorization header. */
export function anyAuthorization(requests: SeenRequest[]): boolean {
  return requests.some((r) => r.headers.authorization !== undefined);
}
