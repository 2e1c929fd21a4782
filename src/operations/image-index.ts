import { WasmOciError } from '../errors.js';
import type { ReadOnlyTarget } from '../content/interfaces.js';
import { fetchManifestBytes } from '../copy/copy.js';
import { digestOf } from '../oci/digest.js';
import { isIndexMediaType, isManifestMediaType, LIMITS, MEDIA_TYPES } from '../oci/media-types.js';
import type { Annotations, Descriptor, ImageIndex, ImageManifest, Platform } from '../oci/types.js';
import { fetchManifest } from './manifest.js';

/**
 * The index entry of one manifest, as oras's enrichDescriptor
 * (cmd/oras/root/manifest/index/create.go) makes it: the plain descriptor (media type, digest,
 * size, artifactType), with the platform of an image manifest read from its config when the
 * config has `os` or `architecture` (getPlatform; configs over 4 MiB are refused).
 */
async function indexEntry(target: ReadOnlyTarget, reference: string, signal?: AbortSignal): Promise<Descriptor> {
  let fetched;
  try {
    fetched = await fetchManifest(target, reference, signal);
  } catch (err) {
    if (err instanceof WasmOciError && err.code === 'E_NOT_FOUND') throw new WasmOciError('E_NOT_FOUND', `could not find the manifest ${reference}`, { cause: err });
    throw err;
  }
  const { descriptor, bytes } = fetched;
  if (!isManifestMediaType(descriptor.mediaType)) throw new WasmOciError('E_UNSUPPORTED', `${reference} is not a manifest (${descriptor.mediaType})`);
  const entry: Descriptor = { mediaType: descriptor.mediaType, digest: descriptor.digest, size: descriptor.size };
  let manifest: Partial<ImageManifest>;
  try {
    manifest = JSON.parse(bytes.toString('utf8')) as Partial<ImageManifest>;
  } catch (err) {
    throw new WasmOciError('E_MANIFEST_INVALID', `${reference} is not valid JSON`, { cause: err });
  }
  if (typeof manifest.artifactType === 'string') entry.artifactType = manifest.artifactType;
  const config = manifest.config;
  if (config && typeof config.digest === 'string' && typeof config.size === 'number') {
    if (config.size > LIMITS.manifestBytes) throw new WasmOciError('E_SIZE_LIMIT', `the config of ${reference} is ${config.size} bytes, over ${LIMITS.manifestBytes}`);
    const raw = await fetchManifestBytes(target, config, signal);
    try {
      const p = JSON.parse(raw.toString('utf8')) as Partial<Platform>;
      if (p && typeof p === 'object' && (typeof p.architecture === 'string' || typeof p.os === 'string') && (p.architecture || p.os)) {
        const platform: Platform = { architecture: p.architecture ?? '', os: p.os ?? '' };
        if (typeof p['os.version'] === 'string') platform['os.version'] = p['os.version'];
        if (Array.isArray(p['os.features'])) platform['os.features'] = p['os.features'];
        if (typeof p.variant === 'string') platform.variant = p.variant;
        entry.platform = platform;
      }
    } catch {
      /* a config that is not JSON carries no platform (oras ignores it too) */
    }
  }
  return entry;
}

export interface IndexBuild {
  descriptor: Descriptor;
  bytes: Buffer;
  index: ImageIndex;
}

function encode(index: ImageIndex): IndexBuild {
  const bytes = Buffer.from(JSON.stringify(index));
  return { index, bytes, descriptor: { mediaType: index.mediaType ?? MEDIA_TYPES.ociIndex, digest: digestOf(bytes), size: bytes.length } };
}

/** oras manifest index create: an OCI index of the manifests `sources` name, in that order. */
export async function createImageIndex(target: ReadOnlyTarget, sources: readonly string[], options: { artifactType?: string; annotations?: Annotations; signal?: AbortSignal } = {}): Promise<IndexBuild> {
  const manifests: Descriptor[] = [];
  for (const s of sources) manifests.push(await indexEntry(target, s, options.signal));
  const index: ImageIndex = { schemaVersion: 2, mediaType: MEDIA_TYPES.ociIndex, ...(options.artifactType ? { artifactType: options.artifactType } : {}), manifests };
  if (options.annotations && Object.keys(options.annotations).length) index.annotations = options.annotations;
  return encode(index);
}

export interface IndexUpdate {
  add?: readonly string[];
  /** Digests; each must be in the index (oras doRemoveManifests). */
  remove?: readonly string[];
  /** Indexes whose entries are appended. */
  merge?: readonly string[];
  artifactType?: string;
  signal?: AbortSignal;
}

/**
 * oras manifest index update (cmd/oras/root/manifest/index/update.go updateIndex): the index
 * fetched, then removals, additions and merges in that order; the rest of the document is kept.
 */
export async function updateImageIndex(target: ReadOnlyTarget, reference: string, change: IndexUpdate): Promise<IndexBuild & { previous: Descriptor }> {
  const { signal } = change;
  const { descriptor: previous, bytes } = await fetchManifest(target, reference, signal);
  if (!isIndexMediaType(previous.mediaType)) throw new WasmOciError('E_UNSUPPORTED', `${reference} is not an index (${previous.mediaType})`);
  const index = JSON.parse(bytes.toString('utf8')) as ImageIndex;
  if (!Array.isArray(index.manifests)) throw new WasmOciError('E_MANIFEST_INVALID', `${reference} has no manifests list`);
  if (change.artifactType !== undefined) index.artifactType = change.artifactType;
  const remove = new Set(change.remove ?? []);
  for (const d of remove) {
    if (!index.manifests.some((m) => m.digest === d)) throw new WasmOciError('E_NOT_FOUND', `${d} does not exist in the index ${reference}`);
  }
  let manifests = index.manifests.filter((m) => !remove.has(m.digest));
  for (const a of change.add ?? []) manifests.push(await indexEntry(target, a, signal));
  for (const m of change.merge ?? []) {
    const other = await fetchManifest(target, m, signal);
    if (!isIndexMediaType(other.descriptor.mediaType)) throw new WasmOciError('E_UNSUPPORTED', `${m} is not an index`);
    const doc = JSON.parse(other.bytes.toString('utf8')) as ImageIndex;
    manifests = [...manifests, ...(Array.isArray(doc.manifests) ? doc.manifests : [])];
  }
  index.manifests = manifests;
  return { ...encode(index), previous };
}

/** oras manifest fetch-config (cmd/oras/root/manifest/fetch_config.go): the config of an image manifest. */
export async function fetchManifestConfig(target: ReadOnlyTarget, reference: string, signal?: AbortSignal, platform?: Platform): Promise<{ descriptor: Descriptor; bytes: Buffer }> {
  // oras fetch_config.go fetchConfigDesc: oras.FetchBytes with TargetPlatform, then the config of what it found.
  const { descriptor, bytes } = await fetchManifest(target, reference, signal, undefined, platform);
  if (!isManifestMediaType(descriptor.mediaType)) throw new WasmOciError('E_UNSUPPORTED', `${reference} is ${descriptor.mediaType}: fetch-config needs an image manifest`);
  const manifest = JSON.parse(bytes.toString('utf8')) as Partial<ImageManifest>;
  const config = manifest.config;
  if (!config || typeof config.digest !== 'string' || typeof config.size !== 'number') throw new WasmOciError('E_MANIFEST_INVALID', `${reference} has no config descriptor`);
  const plain: Descriptor = { mediaType: config.mediaType, digest: config.digest, size: config.size };
  return { descriptor: plain, bytes: await fetchManifestBytes(target, plain, signal) };
}
