import type { ReadOnlyTarget } from '../content/interfaces.js';
import { fetchManifestBytes } from '../copy/copy.js';
import { WasmOciError } from '../errors.js';
import { parseManifestDocument } from '../oci/manifest.js';
import type { Descriptor, ImageIndex, ImageManifest, Platform } from '../oci/types.js';
import { selectPlatformManifest } from '../copy/select-platform.js';
import { formatPlatform } from '../oci/platform.js';

/** A target that can GET a manifest by tag in one request (a registry), instead of HEAD then GET. */
interface ReferenceFetcher {
  fetchReference(reference: string, options?: { signal?: AbortSignal; accept?: string }): Promise<{ descriptor: Descriptor; content: Uint8Array }>;
}

/**
 * Resolves a tag or digest and fetches the manifest it names, bounded and verified. With
 * `mediaTypes` (oras manifest fetch --media-type, a list) a registry is asked for those types
 * only (oras-go Repository.ManifestMediaTypes sets the Accept header), and a manifest of
 * another type is refused, since a registry may ignore Accept and a layout has no Accept.
 * With `platform` (oras manifest fetch --platform: oras.FetchBytes with TargetPlatform) the
 * manifest of that platform in an index is fetched instead, and a manifest must be of it
 * (selectPlatformManifest); the media types then apply to what the reference names, as the
 * Accept header of that first request does.
 */
export async function fetchManifest(
  target: ReadOnlyTarget,
  reference: string,
  signal?: AbortSignal,
  mediaTypes?: readonly string[],
  platform?: Platform,
): Promise<{ descriptor: Descriptor; bytes: Buffer }> {
  let result: { descriptor: Descriptor; bytes: Buffer };
  if (typeof (target as Partial<ReferenceFetcher>).fetchReference === 'function') {
    const accept = mediaTypes?.length ? mediaTypes.join(', ') : undefined;
    const { descriptor, content } = await (target as unknown as ReferenceFetcher).fetchReference(reference, { signal, accept });
    result = { descriptor, bytes: Buffer.from(content) };
  } else {
    const descriptor = await target.resolve(reference, { signal });
    result = { descriptor, bytes: await fetchManifestBytes(target, descriptor, signal) };
  }
  if (mediaTypes?.length && !mediaTypes.includes(result.descriptor.mediaType)) {
    throw new WasmOciError('E_UNSUPPORTED', `manifest ${result.descriptor.digest} is ${result.descriptor.mediaType}, not ${mediaTypes.join(' or ')}`);
  }
  if (!platform) return result;
  const selected = await selectPlatformManifest(target, result.descriptor, platform, { signal, rootBytes: result.bytes, reference });
  if (selected.digest === result.descriptor.digest) return result;
  return { descriptor: selected, bytes: await fetchManifestBytes(target, selected, signal) };
}

/**
 * The image manifest a reference stands for: the manifest itself, or from an index the Wasm
 * entry (platform architecture `wasm`), else its only entry. Pull and inspect share this rule.
 * With `platform` (pull --platform) oras's rule replaces it: the index entry of that platform,
 * and a manifest must be of it (selectPlatformManifest).
 */
export async function fetchArtifactManifest(
  target: ReadOnlyTarget,
  reference: string,
  signal?: AbortSignal,
  platform?: Platform,
): Promise<{ descriptor: Descriptor; manifest: ImageManifest; index?: { descriptor: Descriptor; index: ImageIndex } }> {
  const fetched = await fetchManifest(target, reference, signal);
  const doc = parseManifestDocument(fetched.bytes, fetched.descriptor.mediaType);
  const selected = platform ? await selectPlatformManifest(target, fetched.descriptor, platform, { signal, rootBytes: fetched.bytes, reference }) : undefined;
  if (doc.kind === 'manifest') return { descriptor: fetched.descriptor, manifest: doc.manifest };
  const entries = doc.index.manifests;
  const child = selected ?? entries.find((m) => m.platform?.architecture === 'wasm') ?? (entries.length === 1 ? entries[0] : undefined);
  if (!child) {
    const listed = [...new Set(entries.flatMap((m) => (m.platform ? [formatPlatform(m.platform)] : [])))];
    throw new WasmOciError('E_UNSUPPORTED', `${reference} is an index with ${entries.length} manifests and none for platform wasm`, {
      hint: listed.length ? `pick one with --platform (the index lists ${listed.join(', ')})` : 'pull one of its manifests by digest',
    });
  }
  const inner = parseManifestDocument(await fetchManifestBytes(target, child, signal), child.mediaType);
  if (inner.kind !== 'manifest') throw new WasmOciError('E_UNSUPPORTED', `${reference}: nested indexes are not supported`);
  return { descriptor: child, manifest: inner.manifest, index: { descriptor: fetched.descriptor, index: doc.index } };
}
