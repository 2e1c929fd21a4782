import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Descriptor } from '../../src/oci/types.js';
import { startTestServer, type TestServer } from './http-test-server.js';
import type { CleanupContext } from './tmp.js';

/**
 * A registry that lies on purpose: just enough of the distribution API (`/v2/`, manifests, blobs,
 * uploads, tag list, an optional token endpoint) to serve crafted content, with every request
 * recorded. For the hostile cases of issue 8 that no real registry produces on demand: wrong
 * bytes under a digest, endless manifests, foreign token realms, Locations and Links.
 * One per test, on 127.0.0.1:0, closed when the test ends.
 */

export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';

/** Handles a request before the registry routes do; returns true when it answered. */
export type Interceptor = (req: IncomingMessage, res: ServerResponse, body: Buffer) => boolean | Promise<boolean>;

export interface HostileRegistryOptions {
  /** Repository served (default `hostile/filter`). */
  repository?: string;
  /** Serve HTTPS with this certificate (the client then needs `--ca-file`). */
  tls?: { cert: string; key: string };
  /** Require `Authorization: Basic` with these credentials on every /v2/ route. */
  basic?: { username: string; password: string };
  /**
   * Require `Authorization: Bearer <token>` on every /v2/ route and challenge with `realm`.
   * `realm: 'self'` makes the registry its own token server at `/token` (Basic credentials
   * checked when `username`/`password` are given).
   */
  bearer?: { realm: string | 'self'; token: string; service?: string; username?: string; password?: string };
}

export interface HostileBlobOptions {
  /** Bytes actually served for the digest (a lying registry); default the real bytes. */
  serve?: Uint8Array;
  /** Size written in the descriptor instead of the real size. */
  declaredSize?: number;
  /** Answer GETs of this blob with a 307 to this URL instead of the bytes. */
  redirectTo?: string;
}

export interface HostileRegistry extends TestServer {
  repository: string;
  /** `127.0.0.1:PORT/hostile/filter:TAG` */
  ref(tag: string): string;
  /** Stores a blob and returns its descriptor (digest always of the real bytes). */
  addBlob(bytes: Uint8Array, mediaType: string, annotations?: Record<string, string>, options?: HostileBlobOptions): Descriptor;
  /** Serves `manifest` (object or raw bytes) under `tag` and under its digest. */
  putManifest(tag: string, manifest: object | Uint8Array, mediaType?: string): Descriptor;
  /** An image manifest over `layers` with a small config blob, served under `tag`. */
  putArtifact(tag: string, layers: Descriptor[], config?: { bytes: Uint8Array; mediaType: string }): Descriptor;
  /** Interceptors run first (after authentication, when the registry asks for credentials), in the order added. */
  intercept(fn: Interceptor): void;
  /** Bytes of blobs and manifests pushed to it (`PUT` of an upload or a manifest). */
  pushed: Map<string, Buffer>;
}

export function sha256(bytes: Uint8Array): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

function send(res: ServerResponse, status: number, headers: Record<string, string | number>, body?: Uint8Array | string, head = false): void {
  res.writeHead(status, headers);
  res.end(head ? undefined : body);
}

function distributionError(res: ServerResponse, status: number, code: string, message: string, extra: Record<string, string> = {}): void {
  const body = JSON.stringify({ errors: [{ code, message }] });
  send(res, status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...extra }, body);
}

export async function startHostileRegistry(t: CleanupContext, options: HostileRegistryOptions = {}): Promise<HostileRegistry> {
  const repository = options.repository ?? 'hostile/filter';
  const blobs = new Map<string, { bytes: Uint8Array; options: HostileBlobOptions }>();
  const manifests = new Map<string, { bytes: Uint8Array; mediaType: string; digest: string }>();
  const interceptors: Interceptor[] = [];
  const pushed = new Map<string, Buffer>();
  let uploads = 0;
  let server!: TestServer;

  const challenge = (): Record<string, string> => {
    if (options.bearer) {
      const realm = options.bearer.realm === 'self' ? `${server.origin}/token` : options.bearer.realm;
      return { 'www-authenticate': `Bearer realm="${realm}",service="${options.bearer.service ?? 'hostile'}",scope="repository:${repository}:pull"` };
    }
    return { 'www-authenticate': 'Basic realm="hostile"' };
  };

  const authorized = (req: IncomingMessage): boolean => {
    const got = req.headers.authorization;
    if (options.bearer) return got === `Bearer ${options.bearer.token}`;
    if (options.basic) return got === `Basic ${Buffer.from(`${options.basic.username}:${options.basic.password}`).toString('base64')}`;
    return true;
  };

  const handler = async (req: IncomingMessage, res: ServerResponse, body: Buffer): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://placeholder');
    const method = req.method ?? 'GET';
    const head = method === 'HEAD';
    // Authentication comes before the interceptors: a lie is told only to a client that sent the credentials.
    if (url.pathname.startsWith('/v2/') && (options.basic || options.bearer) && !authorized(req)) {
      return distributionError(res, 401, 'UNAUTHORIZED', 'authentication required', challenge());
    }
    for (const fn of interceptors) if (await fn(req, res, body)) return;

    if (url.pathname === '/token' && options.bearer?.realm === 'self') {
      const b = options.bearer;
      if (b.username !== undefined) {
        const want = `Basic ${Buffer.from(`${b.username}:${b.password ?? ''}`).toString('base64')}`;
        if (req.headers.authorization !== want) return distributionError(res, 401, 'UNAUTHORIZED', 'bad credentials');
      }
      const doc = JSON.stringify({ token: b.token, expires_in: 300 });
      return send(res, 200, { 'content-type': 'application/json' }, doc);
    }
    if (!url.pathname.startsWith('/v2/')) return distributionError(res, 404, 'NOT_FOUND', 'not a registry route');
    if (url.pathname === '/v2/') return send(res, 200, { 'content-type': 'application/json', 'docker-distribution-api-version': 'registry/2.0' }, '{}', head);

    const prefix = `/v2/${repository}/`;
    if (!url.pathname.startsWith(prefix)) return distributionError(res, 404, 'NAME_UNKNOWN', 'repository name not known to registry');
    const rest = url.pathname.slice(prefix.length);

    let m = /^manifests\/([^/]+)$/.exec(rest);
    if (m) {
      const reference = decodeURIComponent(m[1]!);
      if (method === 'PUT') {
        const digest = sha256(body);
        pushed.set(digest, body);
        const entry = { bytes: body, mediaType: String(req.headers['content-type'] ?? OCI_MANIFEST), digest };
        manifests.set(digest, entry);
        if (!reference.includes(':')) manifests.set(reference, entry);
        return send(res, 201, { location: `${prefix}manifests/${digest}`, 'docker-content-digest': digest, 'content-length': 0 });
      }
      const entry = manifests.get(reference);
      if (!entry) return distributionError(res, 404, 'MANIFEST_UNKNOWN', 'manifest unknown');
      return send(res, 200, { 'content-type': entry.mediaType, 'content-length': entry.bytes.length, 'docker-content-digest': entry.digest }, entry.bytes, head);
    }

    m = /^blobs\/(sha256:[a-f0-9]{64})$/.exec(rest);
    if (m) {
      const blob = blobs.get(m[1]!);
      if (!blob) return distributionError(res, 404, 'BLOB_UNKNOWN', 'blob unknown to registry');
      if (blob.options.redirectTo && !head) return send(res, 307, { location: blob.options.redirectTo, 'content-length': 0 });
      const served = blob.options.serve ?? blob.bytes;
      return send(res, 200, { 'content-type': 'application/octet-stream', 'content-length': served.length, 'docker-content-digest': m[1]! }, served, head);
    }

    if (rest === 'blobs/uploads/' && method === 'POST') {
      const id = `u${++uploads}`;
      return send(res, 202, { location: `${prefix}blobs/uploads/${id}`, 'docker-upload-uuid': id, range: '0-0', 'content-length': 0 });
    }
    m = /^blobs\/uploads\/([^/]+)$/.exec(rest);
    if (m) {
      const location = `${prefix}blobs/uploads/${m[1]!}`;
      if (method === 'PATCH') return send(res, 202, { location, range: `0-${Math.max(0, body.length - 1)}`, 'content-length': 0 });
      if (method === 'PUT') {
        const digest = url.searchParams.get('digest') ?? '';
        pushed.set(digest, body);
        blobs.set(digest, { bytes: body, options: {} });
        return send(res, 201, { location: `${prefix}blobs/${digest}`, 'docker-content-digest': digest, 'content-length': 0 });
      }
      if (method === 'DELETE') return send(res, 204, {});
    }

    if (rest === 'tags/list') {
      const tags = [...manifests.keys()].filter((k) => !k.includes(':')).sort();
      const doc = JSON.stringify({ name: repository, tags });
      return send(res, 200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(doc) }, doc, head);
    }
    return distributionError(res, 404, 'UNSUPPORTED', `no route for ${method} ${url.pathname}`);
  };

  server = await startTestServer(t, handler, options.tls ? { tls: options.tls } : {});

  const registry: HostileRegistry = {
    ...server,
    close: () => server.close(),
    repository,
    pushed,
    ref: (tag) => `${server.host}/${repository}:${tag}`,
    addBlob(bytes, mediaType, annotations, blobOptions = {}) {
      const digest = sha256(bytes);
      blobs.set(digest, { bytes, options: blobOptions });
      const desc: Descriptor = { mediaType, digest, size: blobOptions.declaredSize ?? bytes.length };
      if (annotations) desc.annotations = annotations;
      return desc;
    },
    putManifest(tag, manifest, mediaType = OCI_MANIFEST) {
      const bytes = manifest instanceof Uint8Array ? manifest : Buffer.from(JSON.stringify(manifest));
      const digest = sha256(bytes);
      const entry = { bytes, mediaType, digest };
      manifests.set(tag, entry);
      manifests.set(digest, entry);
      return { mediaType, digest, size: bytes.length };
    },
    putArtifact(tag, layers, config) {
      const cfg = config ?? { bytes: Buffer.from('{}'), mediaType: 'application/vnd.oci.empty.v1+json' };
      const configDesc = registry.addBlob(cfg.bytes, cfg.mediaType);
      return registry.putManifest(tag, { schemaVersion: 2, mediaType: OCI_MANIFEST, config: configDesc, layers });
    },
    intercept(fn) {
      interceptors.push(fn);
    },
  };
  return registry;
}

/** A second origin (a CDN, a token server, a stranger): answers with `handler`, records everything. */
export async function startOtherOrigin(
  t: CleanupContext,
  handler: (req: IncomingMessage, res: ServerResponse, body: Buffer) => unknown = (_req, res) => {
    res.writeHead(404);
    res.end();
  },
  options: { tls?: { cert: string; key: string } } = {},
): Promise<TestServer> {
  return startTestServer(t, handler, options);
}
