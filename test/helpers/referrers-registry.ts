import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { startDistribution, type RunningRegistry, type StartDistributionOptions } from './distribution.js';

/**
 * A registry WITH the referrers API (distribution-spec 1.1 "Listing Referrers"), for tests.
 * No registry with that API installs here: Debian has Distribution 2.8 only (zot and
 * Distribution 3 are not packaged) and npm has no OCI registry server. So this is a real
 * Distribution 2.8 behind a small proxy that implements only
 * `GET /v2/<name>/referrers/<digest>`, computed from Distribution's own storage (the manifest
 * revisions of the repository and their blobs), and passes every other request through
 * untouched. Deleted manifests lose their revision link in Distribution, so they drop out.
 */
export interface ReferrersRegistry extends RunningRegistry {
  /** The Distribution behind the proxy (its log shows every proxied request). */
  upstream: RunningRegistry;
  /** How many referrers API requests the proxy answered. */
  referrersRequests(): number;
}

const MANIFEST_LIMIT = 4 * 1024 * 1024;

async function referrersOf(storage: string, repository: string, subject: string, artifactType?: string): Promise<object[]> {
  const v2 = join(storage, 'docker', 'registry', 'v2');
  const revisions = join(v2, 'repositories', repository, '_manifests', 'revisions', 'sha256');
  let hexes: string[];
  try {
    hexes = await readdir(revisions);
  } catch {
    return [];
  }
  const out: object[] = [];
  for (const hex of hexes.sort()) {
    try {
      await stat(join(revisions, hex, 'link'));
    } catch {
      continue; // deleted
    }
    const data = join(v2, 'blobs', 'sha256', hex.slice(0, 2), hex, 'data');
    let bytes: Buffer;
    try {
      if ((await stat(data)).size > MANIFEST_LIMIT) continue;
      bytes = await readFile(data);
    } catch {
      continue;
    }
    let doc: { mediaType?: string; artifactType?: string; config?: { mediaType?: string }; subject?: { digest?: string }; annotations?: Record<string, string> };
    try {
      doc = JSON.parse(bytes.toString('utf8'));
    } catch {
      continue;
    }
    if (doc?.subject?.digest !== subject) continue;
    const type = doc.artifactType ?? doc.config?.mediaType;
    if (artifactType && type !== artifactType) continue;
    out.push({
      mediaType: doc.mediaType ?? 'application/vnd.oci.image.manifest.v1+json', digest: `sha256:${hex}`, size: bytes.length,
      ...(type ? { artifactType: type } : {}), ...(doc.annotations ? { annotations: doc.annotations } : {}),
    });
  }
  return out;
}

export async function startReferrersRegistry(opts: StartDistributionOptions): Promise<ReferrersRegistry> {
  const upstream = await startDistribution({ ...opts, t: undefined });
  let answered = 0;
  const storage = join(upstream.dataDir, 'storage');
  const proxy = (req: IncomingMessage, res: ServerResponse): void => {
    const up = httpRequest({ host: '127.0.0.1', port: upstream.port, method: req.method, path: req.url, headers: req.headers }, (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers);
      r.pipe(res);
    });
    up.on('error', (err) => { res.destroy(err); });
    req.pipe(up);
  };
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://proxy');
    const m = /^\/v2\/(.+)\/referrers\/(sha256:[a-f0-9]{64})$/.exec(url.pathname);
    if (!m || req.method !== 'GET') return proxy(req, res);
    answered++;
    const artifactType = url.searchParams.get('artifactType') ?? undefined;
    referrersOf(storage, m[1]!, m[2]!, artifactType).then((manifests) => {
      const body = JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests });
      res.writeHead(200, {
        'content-type': 'application/vnd.oci.image.index.v1+json',
        'content-length': Buffer.byteLength(body),
        ...(artifactType ? { 'oci-filters-applied': 'artifactType' } : {}),
      });
      res.end(body);
    }, (err: Error) => {
      res.writeHead(500);
      res.end(String(err));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  let stopped: Promise<void> | undefined;
  const reg: ReferrersRegistry = {
    ...upstream,
    host: `127.0.0.1:${port}`,
    port,
    url: `http://127.0.0.1:${port}`,
    upstream,
    referrersRequests: () => answered,
    stop() {
      stopped ??= (async () => {
        server.closeAllConnections();
        await new Promise<void>((r) => server.close(() => r()));
        await upstream.stop();
      })();
      return stopped;
    },
  };
  opts.t?.after(() => reg.stop());
  return reg;
}
