/**
 * The few registry calls the benchmark makes itself, outside any measured run: verify that a
 * push landed, and unlink its blobs so the next run cannot be served by a shortcut.
 *
 * Why unlink: skopeo runs as root here and keeps its blob-info cache in
 * /var/lib/containers/cache whatever HOME is; it remembers in which repositories it saw a
 * digest and tries a cross-repository mount (POST ?mount=&from=) before uploading. Distribution
 * honours a mount only when the blob is linked in the `from` repository, so deleting the links
 * after each run makes every mount attempt fail and skopeo upload the bytes like the others.
 */

const MANIFEST_ACCEPT = [
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
].join(', ');

export interface ManifestLike {
  config?: { digest: string };
  layers?: Array<{ digest: string }>;
}

export async function getManifest(base: string, repo: string, ref: string): Promise<ManifestLike> {
  const res = await fetch(`${base}/v2/${repo}/manifests/${ref}`, { headers: { Accept: MANIFEST_ACCEPT } });
  if (res.status !== 200) throw new Error(`GET manifest ${repo}:${ref}: HTTP ${res.status}`);
  return (await res.json()) as ManifestLike;
}

export async function blobSize(base: string, repo: string, digest: string): Promise<number | undefined> {
  const res = await fetch(`${base}/v2/${repo}/blobs/${digest}`, { method: 'HEAD' });
  if (res.status === 404) return undefined;
  if (res.status !== 200) throw new Error(`HEAD blob ${repo}@${digest}: HTTP ${res.status}`);
  return Number(res.headers.get('content-length'));
}

export async function unlinkBlob(base: string, repo: string, digest: string): Promise<void> {
  const res = await fetch(`${base}/v2/${repo}/blobs/${digest}`, { method: 'DELETE' });
  await res.arrayBuffer();
  if (res.status !== 202 && res.status !== 404) throw new Error(`DELETE blob ${repo}@${digest}: HTTP ${res.status}`);
}

/** Every blob digest a manifest references (config and layers), once each. */
export function manifestBlobs(m: ManifestLike): string[] {
  return [...new Set([m.config?.digest, ...(m.layers ?? []).map((l) => l.digest)].filter((d): d is string => !!d))];
}

/** Fails unless `repo:ref` exists and links a blob `digest` of `size` bytes; then unlinks all its blobs. */
export async function verifyAndUnlinkPush(base: string, repo: string, ref: string, expect?: { digest: string; size: number }): Promise<void> {
  const manifest = await getManifest(base, repo, ref);
  const blobs = manifestBlobs(manifest);
  if (expect) {
    if (!blobs.includes(expect.digest)) throw new Error(`${repo}:${ref} does not reference ${expect.digest}`);
    const size = await blobSize(base, repo, expect.digest);
    if (size !== expect.size) throw new Error(`${repo}@${expect.digest}: size ${size}, expected ${expect.size}`);
  }
  for (const d of blobs) await unlinkBlob(base, repo, d);
}
