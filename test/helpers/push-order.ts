import type { SeenRequest } from './fault-proxy.js';

/**
 * Blobs before the manifest, checked on the fault proxy's own record of the requests and their
 * answers (issue 16 item 1): a registry like Distribution refuses a manifest whose blobs it
 * lacks (MANIFEST_BLOB_UNKNOWN), so "no tag points at missing blobs" asked of it cannot tell a
 * push that sends its manifest too early from one that does not. Here every manifest PUT must
 * arrive after the registry confirmed, to the client, each blob the manifest names.
 */

const DIGEST = /^sha256:[a-f0-9]{64}$/;

/** `NAME` of `/v2/NAME/(blobs|manifests)/…`. */
function repositoryOf(path: string): string | undefined {
  return /^\/v2\/(.+?)\/(?:blobs|manifests)\//.exec(path)?.[1];
}

/**
 * The blob a request shows the registry holds, if its answer reached the client: a 201 to the
 * closing `PUT ?digest=` of an upload (the registry hashed what it got and found that digest), a
 * 201 to a mount, a 200 to a HEAD or GET of the blob. An injected status is no confirmation.
 */
export function confirmedBlob(r: SeenRequest): string | undefined {
  if (r.answeredAt === undefined || r.fault === 'status' || r.fault === 'redirect-blob-to-other-origin') return undefined;
  const query = new URL(r.url, 'http://proxy').searchParams;
  let digest: string | null | undefined;
  if (/\/blobs\/uploads\//.test(r.path)) {
    if (r.method === 'PUT' && r.status === 201) digest = query.get('digest');
    else if (r.method === 'POST' && r.status === 201) digest = query.get('mount') ?? query.get('digest');
  } else {
    const m = /\/blobs\/(sha256:[a-f0-9]{64})$/.exec(r.path);
    if (m && (r.method === 'HEAD' || r.method === 'GET') && r.status === 200) digest = m[1];
  }
  return digest && DIGEST.test(digest) ? digest : undefined;
}

/** The blobs an image manifest names (config and layers); an index names manifests, not blobs. */
function blobsNamed(body: Buffer): string[] | undefined {
  let doc: { config?: { digest?: unknown }; layers?: Array<{ digest?: unknown }> };
  try {
    doc = JSON.parse(body.toString('utf8')) as typeof doc;
  } catch {
    return undefined;
  }
  const all = [doc.config?.digest, ...(doc.layers ?? []).map((l) => l.digest)];
  return [...new Set(all.filter((d): d is string => typeof d === 'string'))];
}

export interface PushOrder {
  /** Manifest PUTs looked at. */
  checked: number;
  /** One line per manifest PUT that came before a blob it names was confirmed. */
  problems: string[];
}

/** Every manifest PUT in `requests` (the proxy's record, in arrival order) against the confirmations answered before it arrived. */
export function blobsBeforeManifest(requests: readonly SeenRequest[]): PushOrder {
  const out: PushOrder = { checked: 0, problems: [] };
  for (const put of requests) {
    if (put.method !== 'PUT' || put.body === undefined || !/\/manifests\//.test(put.path)) continue;
    out.checked++;
    const repository = repositoryOf(put.path);
    const names = blobsNamed(put.body);
    if (names === undefined) {
      out.problems.push(`manifest PUT ${put.path} with a body that is not JSON`);
      continue;
    }
    const confirmed = new Set(requests
      .filter((r) => r.answeredAt !== undefined && r.answeredAt < put.arrivedAt && repositoryOf(r.path) === repository)
      .map(confirmedBlob)
      .filter((d): d is string => d !== undefined));
    const missing = names.filter((d) => !confirmed.has(d));
    if (missing.length > 0) {
      out.problems.push(`manifest PUT ${put.path} arrived before the registry confirmed ${missing.map((d) => d.slice(0, 19)).join(', ')}`);
    }
  }
  return out;
}
