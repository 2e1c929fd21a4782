import { WasmOciError } from '../errors.js';
import { mapLimit } from '../content/concurrency.js';
import type { ReferrerLister, Target } from '../content/interfaces.js';
import { readAll } from '../content/read-all.js';
import { digestOf } from '../oci/digest.js';
import { ANNOTATIONS, isIndexMediaType, LIMITS, MEDIA_TYPES } from '../oci/media-types.js';
import { selectPlatformManifest } from '../copy/select-platform.js';
import type { Annotations, Descriptor, ImageManifest, Platform } from '../oci/types.js';
import { ORAS_UNKNOWN_CONFIG, orasTitle } from '../pack/oras-style.js';
import { digestFile, fileContent, statRegularFile } from '../pack/file-blob.js';
import { parseFileRef } from '../pack/file-ref.js';
import { updateReferrersIndex, type IndexStore } from '../registry/referrers-index.js';

/** `--distribution-spec`: how referrers are stored and read (oras's flag values). */
export type ReferrersMode = 'auto' | 'v1.1-referrers-api' | 'v1.1-referrers-tag';

export function parseReferrersMode(value: string | undefined): ReferrersMode {
  if (value === undefined) return 'auto';
  if (value === 'v1.1-referrers-api' || value === 'v1.1-referrers-tag') return value;
  throw new WasmOciError('E_USAGE', `--distribution-spec must be v1.1-referrers-api or v1.1-referrers-tag, not "${value}"`);
}

const EMPTY_JSON = Buffer.from('{}');
/** image-spec's empty descriptor, as oras-go's PackManifest (version 1.1) uses it for config and for a layer-less artifact. */
export const EMPTY_DESCRIPTOR: Descriptor = { mediaType: MEDIA_TYPES.ociEmpty, digest: digestOf(EMPTY_JSON), size: 2, data: 'e30=' };
/** oras's default media type of a file layer (oras-go `oras.DefaultBlobMediaType`). */
const DEFAULT_LAYER_TYPE = 'application/vnd.oci.image.layer.v1.tar';

export interface AttachOptions {
  artifactType: string;
  /** `path[:mediaType]` as oras spells them; relative to `cwd`. */
  files: string[];
  cwd: string;
  manifestAnnotations?: Annotations;
  fileAnnotations?: Record<string, Annotations>;
  mode?: ReferrersMode;
  signal?: AbortSignal;
  /** A fixed creation time (reproducible manifests); otherwise now. */
  created?: string;
  /** oras attach --config `path[:mediaType]`: the referrer's config blob instead of the empty one. */
  config?: string;
  /** `$config` annotations of the annotation file, on the config descriptor. */
  configAnnotations?: Annotations;
  /** oras --disable-path-validation: absolute and `..` file paths are titled as given. */
  disablePathValidation?: boolean;
  /** oras attach --platform: the subject is the manifest of this platform (in an index), or must be of it. */
  platform?: Platform;
  /** oras attach --concurrency (default 5, graphCopyOptions.Concurrency): files uploaded at once. */
  concurrency?: number;
}

export interface AttachResult {
  subject: Descriptor;
  descriptor: Descriptor;
  manifest: Uint8Array;
  /** Whether the `sha256-<hex>` index was updated. */
  indexUpdated: boolean;
}

function isIndexStore(t: object): t is IndexStore {
  return typeof (t as Partial<IndexStore>).fetchReference === 'function' && typeof (t as Partial<IndexStore>).pushReference === 'function';
}

/**
 * oras attach (cmd/oras/root/attach.go runAttach): an image manifest (version 1.1 packing: the
 * empty config, `artifactType`, the empty layer when no file is given) whose `subject` is the
 * resolved subject. On a registry the referrers tag index is updated unless the user said the
 * registry has the referrers API.
 */
export async function attachArtifact(target: Target, subjectRef: string, options: AttachOptions): Promise<AttachResult> {
  if (!options.artifactType) throw new WasmOciError('E_USAGE', 'attach needs --artifact-type');
  const { signal } = options;
  const resolved = await target.resolve(subjectRef, { signal });
  // attach.go: oras.Resolve with TargetPlatform; the subject field keeps only the three descriptor fields.
  const selected = options.platform ? await selectPlatformManifest(target, resolved, options.platform, { signal, reference: subjectRef }) : resolved;
  const subject: Descriptor = { mediaType: selected.mediaType, digest: selected.digest, size: selected.size };
  // Every title is checked before the first upload: a refused path uploads nothing.
  const files = options.files.map((ref) => {
    const { path, mediaType } = parseFileRef(ref);
    // oras loadFiles: the cleaned path as typed is the title (option/packer.go refuses absolute ones).
    return { path, mediaType, title: orasTitle(path, false, options.disablePathValidation === true), full: path.startsWith('/') ? path : `${options.cwd}/${path}` };
  });
  // Uploaded `concurrency` at a time; the layers keep the command line's order.
  const layers = await mapLimit(files, options.concurrency ?? 5, async ({ path, mediaType, title, full }, _i, sig) => {
    await statRegularFile(full);
    const { digest, size } = await digestFile(full, sig);
    const desc: Descriptor = {
      mediaType: mediaType ?? DEFAULT_LAYER_TYPE, digest, size,
      annotations: { ...(options.fileAnnotations?.[path] ?? {}), [ANNOTATIONS.title]: title },
    };
    if (!(await target.exists(desc, { signal: sig }))) await target.push(desc, fileContent(full), { signal: sig });
    return desc;
  }, { signal });
  let config = EMPTY_DESCRIPTOR;
  if (options.config !== undefined) {
    // attach.go runAttach: fileref.Parse(--config, oras.MediaTypeUnknownConfig), `$config` annotations on it.
    const { path, mediaType } = parseFileRef(options.config);
    const full = path.startsWith('/') ? path : `${options.cwd}/${path}`;
    await statRegularFile(full, 'config');
    const { digest, size } = await digestFile(full, signal);
    config = { mediaType: mediaType ?? ORAS_UNKNOWN_CONFIG, digest, size, ...(options.configAnnotations && Object.keys(options.configAnnotations).length ? { annotations: options.configAnnotations } : {}) };
    if (!(await target.exists(config, { signal }))) await target.push(config, fileContent(full), { signal });
  }
  if (layers.length === 0 || config === EMPTY_DESCRIPTOR) {
    if (!(await target.exists(EMPTY_DESCRIPTOR, { signal }))) await target.push(EMPTY_DESCRIPTOR, EMPTY_JSON, { signal });
  }
  const manifest: ImageManifest = {
    schemaVersion: 2,
    mediaType: MEDIA_TYPES.ociManifest,
    artifactType: options.artifactType,
    config,
    layers: layers.length ? layers : [EMPTY_DESCRIPTOR],
    subject: { mediaType: subject.mediaType, digest: subject.digest, size: subject.size },
    annotations: { [ANNOTATIONS.created]: options.created ?? new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'), ...(options.manifestAnnotations ?? {}) },
  };
  const bytes = Buffer.from(JSON.stringify(manifest));
  const descriptor: Descriptor = { mediaType: MEDIA_TYPES.ociManifest, digest: digestOf(bytes), size: bytes.length, artifactType: options.artifactType, annotations: manifest.annotations };
  await target.push({ mediaType: descriptor.mediaType, digest: descriptor.digest, size: descriptor.size }, bytes, { signal });
  const indexUpdated = await indexReferrer(target, subject.digest, descriptor, options.mode ?? 'auto', signal);
  return { subject, descriptor, manifest: bytes, indexUpdated };
}

/**
 * After a manifest with `subject` is stored: under the tag schema (Distribution 2.8, or
 * `--distribution-spec v1.1-referrers-tag`) its descriptor goes into the subject's index.
 * With the referrers API the registry indexes it itself.
 */
export async function indexReferrer(target: object, subjectDigest: string, referrer: Descriptor, mode: ReferrersMode, signal?: AbortSignal): Promise<boolean> {
  if (mode === 'v1.1-referrers-api' || !isIndexStore(target)) return false;
  if (mode === 'auto' && (await hasReferrersApi(target, subjectDigest, signal))) return false;
  const entry: Descriptor = { mediaType: referrer.mediaType, digest: referrer.digest, size: referrer.size };
  if (referrer.artifactType) entry.artifactType = referrer.artifactType;
  if (referrer.annotations && Object.keys(referrer.annotations).length) entry.annotations = referrer.annotations;
  await updateReferrersIndex(target, subjectDigest, { add: entry, signal });
  return true;
}

/**
 * After any manifest is stored (copy, manifest push): when it names a `subject` it is a
 * referrer, and under the tag schema its descriptor goes into the subject's index, as oras-go's
 * Repository.Push does for every manifest (manifestStore.indexReferrersForPush).
 */
export async function indexIfReferrer(target: object, desc: Descriptor, bytes: Uint8Array, mode: ReferrersMode, signal?: AbortSignal): Promise<boolean> {
  let doc: { subject?: { digest?: unknown }; artifactType?: unknown; config?: { mediaType?: unknown }; annotations?: unknown };
  try {
    doc = JSON.parse(Buffer.from(bytes).toString('utf8')) as typeof doc;
  } catch {
    return false;
  }
  const subject = typeof doc?.subject?.digest === 'string' ? doc.subject.digest : undefined;
  if (!subject) return false;
  const artifactType = typeof doc.artifactType === 'string' ? doc.artifactType : typeof doc.config?.mediaType === 'string' ? doc.config.mediaType : undefined;
  const annotations = doc.annotations && typeof doc.annotations === 'object' && !Array.isArray(doc.annotations) ? (doc.annotations as Annotations) : undefined;
  const entry: Descriptor = { mediaType: desc.mediaType, digest: desc.digest, size: desc.size, ...(artifactType ? { artifactType } : {}), ...(annotations ? { annotations } : {}) };
  return indexReferrer(target, subject, entry, mode, signal);
}

/** Removes a deleted referrer from its subject's tag index (no-op with the referrers API). */
export async function unindexReferrer(target: object, subjectDigest: string, referrerDigest: string, mode: ReferrersMode, signal?: AbortSignal): Promise<boolean> {
  if (mode === 'v1.1-referrers-api' || !isIndexStore(target)) return false;
  if (mode === 'auto' && (await hasReferrersApi(target, subjectDigest, signal))) return false;
  await updateReferrersIndex(target, subjectDigest, { remove: referrerDigest, signal });
  return true;
}

async function hasReferrersApi(target: object, subjectDigest: string, signal?: AbortSignal): Promise<boolean> {
  const probe = (target as { referrersApi?: (d: string, o?: { signal?: AbortSignal }) => Promise<boolean> }).referrersApi;
  return typeof probe === 'function' ? probe.call(target, subjectDigest, { signal }) : false;
}

export interface DiscoverNode extends Descriptor {
  referrers: DiscoverNode[];
}

/**
 * oras discover (cmd/oras/root/discover.go fetchAllReferrers): referrers of referrers down to
 * `depth` (0: all levels), each digest visited once so a cyclic graph a hostile registry
 * crafts ends.
 */
export async function discoverReferrers(target: ReferrerLister, subject: Descriptor, options: { artifactType?: string; depth?: number; signal?: AbortSignal } = {}): Promise<DiscoverNode> {
  const visited = new Set<string>();
  const walk = async (desc: Descriptor, depth: number): Promise<DiscoverNode> => {
    const node: DiscoverNode = { ...desc, referrers: [] };
    if (visited.has(desc.digest)) return node;
    visited.add(desc.digest);
    const list = await target.referrers({ mediaType: desc.mediaType, digest: desc.digest, size: desc.size }, { artifactType: options.artifactType, signal: options.signal });
    for (const r of list) {
      node.referrers.push(depth === 1 ? { ...r, referrers: [] } : await walk(r, depth > 0 ? depth - 1 : 0));
    }
    return node;
  };
  return walk(subject, options.depth ?? 0);
}
