import type { ReadOnlyTarget } from '../content/interfaces.js';
import { fetchManifestBytes } from '../copy/copy.js';
import { WasmOciError } from '../errors.js';
import { parseManifestDocument } from '../oci/manifest.js';
import type { Descriptor, ImageIndex, ImageManifest } from '../oci/types.js';

/** A target that can GET a manifest by tag in one request (a registry), instead of HEAD then GET. */
interface ReferenceFetcher {
  fetchReference(reference: string, options?: { signal?: AbortSignal }): Promise<{ descriptor: Descriptor; content: Uint8Array }>;
}

/** Resolves a tag or digest and fetches the manifest it names, bounded and verified. */
export async function fetchManifest(target: ReadOnlyTarget, reference: string, signal?: AbortSignal): Promise<{ descriptor: Descriptor; bytes: Buffer }> {
  if (typeof (target as Partial<ReferenceFetcher>).fetchReference === 'function') {
    const { descriptor, content } = await (target as unknown as ReferenceFetcher).fetchReference(reference, { signal });
    return { descriptor, bytes: Buffer.from(content) };
  }
  const descriptor = await target.resolve(reference, { signal });
  const bytes = await fetchManifestBytes(target, descriptor, signal);
  return { descriptor, bytes };
}

/**
 * The image manifest a reference stands for: the manifest itself, or from an index the Wasm
 * entry (platform architecture `wasm`), else its only entry. Pull and inspect share this rule.
 */
export async function fetchArtifactManifest(
  target: ReadOnlyTarget,
  reference: string,
  signal?: AbortSignal,
): Promise<{ descriptor: Descriptor; manifest: ImageManifest; index?: { descriptor: Descriptor; index: ImageIndex } }> {
  const fetched = await fetchManifest(target, reference, signal);
  const doc = parseManifestDocument(fetched.bytes, fetched.descriptor.mediaType);
  if (doc.kind === 'manifest') return { descriptor: fetched.descriptor, manifest: doc.manifest };
  const entries = doc.index.manifests;
  const child = entries.find((m) => m.platform?.architecture === 'wasm') ?? (entries.length === 1 ? entries[0] : undefined);
  if (!child) {
    throw new WasmOciError('E_UNSUPPORTED', `${reference} is an index with ${entries.length} manifests and none for platform wasm`);
  }
  const inner = parseManifestDocument(await fetchManifestBytes(target, child, signal), child.mediaType);
  if (inner.kind !== 'manifest') throw new WasmOciError('E_UNSUPPORTED', `${reference}: nested indexes are not supported`);
  return { descriptor: child, manifest: inner.manifest, index: { descriptor: fetched.descriptor, index: doc.index } };
}
