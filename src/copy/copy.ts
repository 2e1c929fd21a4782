import { WasmOciError } from '../errors.js';
import { hasMounter, hasReferencePusher, type ReadOnlyTarget, type Target } from '../content/interfaces.js';
import { mapLimit } from '../content/concurrency.js';
import { readAll } from '../content/read-all.js';
import { isIndexMediaType, isManifestMediaType, LIMITS } from '../oci/media-types.js';
import { parseManifestDocument } from '../oci/manifest.js';
import type { Descriptor, Platform } from '../oci/types.js';
import { resolvePlatform } from './select-platform.js';

export type BlobAction = 'copied' | 'skipped' | 'mounted';

export interface CopyOptions {
  /** Blobs moved at once (oras's default is 3). */
  concurrency?: number;
  signal?: AbortSignal;
  onProgress?: (desc: Descriptor, done: number) => void;
  /** Called once per node of the graph when its fate is known. */
  onCopy?: (desc: Descriptor, action: BlobAction) => void;
  /** When source and destination are repositories of one registry: the source repository, to mount from. */
  mountFrom?: string;
  /** oras cp --platform (CopyOptions.WithTargetPlatform): copy the platform's manifest of an index, or a manifest only if it is of it. */
  platform?: Platform;
}

/** Fetches a manifest or index into memory, bounded and verified. */
export async function fetchManifestBytes(src: ReadOnlyTarget, desc: Descriptor, signal?: AbortSignal): Promise<Buffer> {
  if (desc.size > LIMITS.manifestBytes) {
    throw new WasmOciError('E_SIZE_LIMIT', `manifest ${desc.digest} is ${desc.size} bytes, over the ${LIMITS.manifestBytes}-byte limit`);
  }
  return readAll(await src.fetch(desc, { signal }), LIMITS.manifestBytes, 'manifest');
}

/** The direct children of a manifest or index: config and layers, or the manifests of an index. */
export function childrenOf(bytes: Uint8Array, desc: Descriptor): Descriptor[] {
  const doc = parseManifestDocument(bytes, desc.mediaType);
  if (doc.kind === 'index') return doc.index.manifests;
  return [doc.manifest.config, ...doc.manifest.layers];
}

/**
 * Copies the graph rooted at `root` from `src` to `dst`: blobs first (in parallel, skipping
 * those `dst` has, mounting where it can), then child manifests, then the root, so a
 * destination never holds a manifest whose blobs are missing. With `tags`, the root is stored
 * under them (on a registry the PUT by tag stores it: no separate PUT by digest).
 */
export async function copyGraph(src: ReadOnlyTarget, dst: Target, root: Descriptor, options: CopyOptions = {}, tags: readonly string[] = []): Promise<Buffer> {
  const bytes = await fetchManifestBytes(src, root, options.signal);
  await copyChildren(src, dst, root, bytes, options);
  const existed = await dst.exists(root, { signal: options.signal });
  await storeRoot(dst, root, bytes, tags, existed, options.signal);
  options.onCopy?.(root, existed ? 'skipped' : 'copied');
  return bytes;
}

/**
 * Stores a manifest whose blobs are all in `dst`, under each tag: a registry stores it with a PUT
 * per tag; a layout (or any target without PUT by tag) stores it once, then tags it.
 */
export async function storeRoot(dst: Target, desc: Descriptor, bytes: Uint8Array, tags: readonly string[], existed = false, signal?: AbortSignal, concurrency = 1): Promise<void> {
  if (tags.length > 0 && hasReferencePusher(dst)) {
    // A registry takes each tag as its own PUT: several at once (oras tag --concurrency).
    await mapLimit(tags, concurrency, (tag, _i, sig) => dst.pushReference(desc, bytes, tag, { signal: sig }), { signal });
    return;
  }
  if (!existed) await dst.push(desc, bytes, { signal });
  for (const tag of tags) await dst.tag(desc, tag, { signal });
}

async function copyChildren(src: ReadOnlyTarget, dst: Target, root: Descriptor, bytes: Uint8Array, options: CopyOptions): Promise<void> {
  const children = dedupe(childrenOf(bytes, root));
  const manifests = children.filter((c) => isManifestMediaType(c.mediaType) || isIndexMediaType(c.mediaType));
  const blobs = children.filter((c) => !manifests.includes(c));
  await mapLimit(blobs, options.concurrency ?? 3, (blob, _i, signal) => copyBlob(src, dst, blob, { ...options, signal }), { signal: options.signal });
  for (const child of manifests) await copyGraph(src, dst, child, options);
}

async function copyBlob(src: ReadOnlyTarget, dst: Target, desc: Descriptor, options: CopyOptions): Promise<void> {
  const { signal } = options;
  if (await dst.exists(desc, { signal })) {
    options.onCopy?.(desc, 'skipped');
    return;
  }
  if (options.mountFrom && hasMounter(dst) && (await dst.mount(desc, options.mountFrom, { signal }))) {
    options.onCopy?.(desc, 'mounted');
    return;
  }
  await dst.push(desc, () => src.fetch(desc, { signal }), { signal, onProgress: options.onProgress });
  options.onCopy?.(desc, 'copied');
}

function dedupe(descs: Descriptor[]): Descriptor[] {
  const seen = new Set<string>();
  return descs.filter((d) => (seen.has(d.digest) ? false : (seen.add(d.digest), true)));
}

export interface CopyResult {
  descriptor: Descriptor;
  tags: string[];
  /** The root's bytes as copied (the caller indexes a referrer from them). */
  bytes?: Buffer;
}

/** Resolves `srcRef` in `src` and copies it to `dst`, tagged with each of `dstTags`. */
export async function copyReference(
  src: ReadOnlyTarget,
  srcRef: string,
  dst: Target,
  dstTags: readonly string[],
  options: CopyOptions = {},
): Promise<CopyResult> {
  const root = await resolvePlatform(src, srcRef, options.platform, options.signal);
  const bytes = await copyGraph(src, dst, root, options, dstTags);
  return { descriptor: root, tags: [...dstTags], bytes };
}
