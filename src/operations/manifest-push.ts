import { WasmOciError } from '../errors.js';
import type { Target } from '../content/interfaces.js';
import { storeRoot } from '../copy/copy.js';
import { digestOf } from '../oci/digest.js';
import { isValidMediaType } from '../oci/manifest.js';
import { LIMITS } from '../oci/media-types.js';
import type { Descriptor } from '../oci/types.js';
import { indexIfReferrer, type ReferrersMode } from './referrers.js';

export interface ManifestPushOptions {
  /** `--media-type`; otherwise the document's own `mediaType`. */
  mediaType?: string;
  /** Tags to store it under; none: stored by digest only. */
  tags?: readonly string[];
  mode?: ReferrersMode;
  signal?: AbortSignal;
  /** Tags set at once (oras manifest push --concurrency: TagBytesNOptions.Concurrency); no blob is uploaded. */
  concurrency?: number;
}

export interface ManifestPushResult {
  descriptor: Descriptor;
  /** The manifest names a `subject` and its descriptor went into the tag-schema index. */
  indexUpdated: boolean;
  subject?: string;
}

/**
 * oras manifest push (cmd/oras/root/manifest/push.go pushManifest): the bytes as given (never
 * re-encoded, so the digest is the file's), the media type from the flag or from the
 * document (manifest.ExtractMediaType), stored under every tag. A manifest with `subject` is a
 * referrer: as oras-go's Repository.Push does (manifestStore.indexReferrersForPush), its
 * descriptor goes into the subject's `sha256-<hex>` index when the registry has no referrers API.
 */
export async function pushManifestDocument(target: Target, bytes: Uint8Array, options: ManifestPushOptions = {}): Promise<ManifestPushResult> {
  if (bytes.length > LIMITS.manifestBytes) {
    throw new WasmOciError('E_SIZE_LIMIT', `the manifest is ${bytes.length} bytes, over the ${LIMITS.manifestBytes}-byte limit registries accept`);
  }
  let doc: { mediaType?: unknown; artifactType?: unknown; config?: { mediaType?: unknown }; subject?: { digest?: unknown }; annotations?: unknown };
  try {
    doc = JSON.parse(Buffer.from(bytes).toString('utf8')) as typeof doc;
  } catch (err) {
    throw new WasmOciError('E_MANIFEST_INVALID', 'the manifest is not valid JSON', { cause: err });
  }
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) throw new WasmOciError('E_MANIFEST_INVALID', 'the manifest is not a JSON object');
  const mediaType = options.mediaType ?? (typeof doc.mediaType === 'string' ? doc.mediaType : undefined);
  if (!mediaType) {
    throw new WasmOciError('E_USAGE', 'media type is not found via the flag "--media-type" nor in the manifest', {
      hint: 'specify a valid media type in the manifest JSON or with --media-type',
    });
  }
  if (!isValidMediaType(mediaType)) throw new WasmOciError('E_USAGE', `invalid media type "${mediaType}"`);
  if (typeof doc.mediaType === 'string' && doc.mediaType !== mediaType) {
    throw new WasmOciError('E_MANIFEST_INVALID', `the manifest says its mediaType is ${doc.mediaType}, not ${mediaType}`);
  }
  const descriptor: Descriptor = { mediaType, digest: digestOf(bytes), size: bytes.length };
  const { signal } = options;
  await storeRoot(target, descriptor, bytes, options.tags ?? [], await target.exists(descriptor, { signal }), signal, options.concurrency ?? 1);
  const subject = typeof doc.subject?.digest === 'string' ? doc.subject.digest : undefined;
  const indexUpdated = await indexIfReferrer(target, descriptor, bytes, options.mode ?? 'auto', signal);
  return { descriptor, indexUpdated, ...(subject ? { subject } : {}) };
}
