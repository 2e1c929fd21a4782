import { LIMITS, MEDIA_TYPES } from '../oci/media-types.js';
import type { Descriptor } from '../oci/types.js';

/**
 * The manifests among `entries` (a layout's index.json) whose `subject` is `subject`: a layout
 * has no referrers API, so each listed image manifest is read, as oras-go's OCI store finds
 * predecessors from its graph (content/oci/oci.go Predecessors). Entries come with the
 * referrer's artifactType (or config type) and annotations, as the referrers API gives them.
 */
export async function layoutReferrers(entries: readonly Descriptor[], read: (desc: Descriptor) => Promise<Buffer>, subject: Descriptor, artifactType?: string): Promise<Descriptor[]> {
  const out: Descriptor[] = [];
  const seen = new Set<string>();
  for (const entry of entries) {
    if (seen.has(entry.digest) || entry.mediaType !== MEDIA_TYPES.ociManifest || entry.size > LIMITS.manifestBytes) continue;
    seen.add(entry.digest);
    let doc: { subject?: { digest?: unknown }; artifactType?: unknown; config?: { mediaType?: unknown }; annotations?: Record<string, string> };
    try {
      doc = JSON.parse((await read({ mediaType: entry.mediaType, digest: entry.digest, size: entry.size })).toString('utf8')) as typeof doc;
    } catch {
      continue;
    }
    if (doc?.subject?.digest !== subject.digest) continue;
    const type = typeof doc.artifactType === 'string' ? doc.artifactType : typeof doc.config?.mediaType === 'string' ? doc.config.mediaType : undefined;
    if (artifactType && type !== artifactType) continue;
    out.push({
      mediaType: entry.mediaType, digest: entry.digest, size: entry.size,
      ...(type ? { artifactType: type } : {}),
      ...(doc.annotations && Object.keys(doc.annotations).length ? { annotations: doc.annotations } : {}),
    });
  }
  return out;
}
