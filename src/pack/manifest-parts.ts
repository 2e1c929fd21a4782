import { WasmOciError } from '../errors.js';
import { digestOf } from '../oci/digest.js';
import { ANNOTATIONS, MEDIA_TYPES } from '../oci/media-types.js';
import type { Annotations, Descriptor, ImageManifest } from '../oci/types.js';
import { ANNOTATION_CONFIG_KEY, ANNOTATION_MANIFEST_KEY, type AnnotationSet } from './annotations.js';
import { encodeGoJson, sortedMap } from './go-json.js';
import type { PackedArtifact, PackedBlob, PackOptions, PackStyle } from './types.js';
import type { WasmInfo } from '../wasm/types.js';

/** RFC 3339 in UTC with whole seconds: Go's `time.Now().UTC().Format(time.RFC3339)`, as oras writes it. */
export function formatCreated(date: Date): string {
  if (Number.isNaN(date.getTime())) throw new WasmOciError('E_INVALID_INPUT', 'the creation time is not a valid date');
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

const RFC3339_RE = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

/** Go's time.Parse(time.RFC3339, s) acceptance, enough to refuse what oras refuses. */
export function isRfc3339(s: string): boolean {
  const m = RFC3339_RE.exec(s);
  if (!m) return false;
  const [month, day, hour, minute, second] = [m[2], m[3], m[4], m[5], m[6]].map(Number) as [number, number, number, number, number];
  return month >= 1 && month <= 12 && day >= 1 && day <= 31 && hour <= 23 && minute <= 59 && second <= 59 && !Number.isNaN(Date.parse(s));
}

/**
 * Manifest annotations: the user's `$manifest` entries plus `org.opencontainers.image.created`
 * unless the user set it, in which case it must be RFC 3339 (oras-go ensureAnnotationCreated).
 */
export function manifestAnnotations(set: AnnotationSet | undefined, created: Date): Annotations {
  const user = set?.[ANNOTATION_MANIFEST_KEY] ?? {};
  const given = user[ANNOTATIONS.created];
  if (given !== undefined) {
    if (!isRfc3339(given)) {
      throw new WasmOciError('E_INVALID_INPUT', `annotation ${ANNOTATIONS.created} "${given}" is not an RFC 3339 date and time`, {
        hint: 'Use a value such as 2024-01-02T15:04:05Z.',
      });
    }
    return sortedMap(user);
  }
  return sortedMap({ ...user, [ANNOTATIONS.created]: formatCreated(created) });
}

/** Annotations for a file layer: title first, then the user's entries for any of `keys` (earlier keys win). */
export function fileAnnotations(title: string | undefined, set: AnnotationSet | undefined, keys: readonly string[]): Annotations | undefined {
  const out: Annotations = title === undefined ? {} : { [ANNOTATIONS.title]: title };
  for (const key of [...keys].reverse()) Object.assign(out, set?.[key]);
  return Object.keys(out).length === 0 ? undefined : sortedMap(out);
}

/** A descriptor with fields in image-spec Go struct order, empty ones left out (omitempty). */
export function makeDescriptor(
  mediaType: string,
  digest: string,
  size: number,
  extra: { annotations?: Annotations; data?: string; artifactType?: string } = {},
): Descriptor {
  const d: Descriptor = { mediaType, digest, size };
  if (extra.annotations && Object.keys(extra.annotations).length > 0) d.annotations = sortedMap(extra.annotations);
  if (extra.data !== undefined) d.data = extra.data;
  if (extra.artifactType !== undefined) d.artifactType = extra.artifactType;
  return d;
}

/** The image-spec v1.1 empty descriptor (`{}`), with its data inlined as oras-go's DescriptorEmptyJSON. */
export const EMPTY_JSON = new TextEncoder().encode('{}');
export function emptyDescriptor(annotations?: Annotations): Descriptor {
  return makeDescriptor(MEDIA_TYPES.ociEmpty, digestOf(EMPTY_JSON), EMPTY_JSON.byteLength, {
    annotations,
    data: Buffer.from(EMPTY_JSON).toString('base64'),
  });
}

export function makeManifest(parts: {
  artifactType?: string;
  config: Descriptor;
  layers: Descriptor[];
  annotations?: Annotations;
}): ImageManifest {
  return {
    schemaVersion: 2,
    mediaType: MEDIA_TYPES.ociManifest,
    ...(parts.artifactType ? { artifactType: parts.artifactType } : {}),
    config: parts.config,
    layers: parts.layers,
    ...(parts.annotations && Object.keys(parts.annotations).length > 0 ? { annotations: parts.annotations } : {}),
  };
}

/** Keeps the first blob of each digest: the solo profile lists the config blob twice. */
function uniqueBlobs(blobs: readonly PackedBlob[]): PackedBlob[] {
  const seen = new Set<string>();
  return blobs.filter((b) => (seen.has(b.descriptor.digest) ? false : (seen.add(b.descriptor.digest), true)));
}

export function finishArtifact(parts: {
  style: PackStyle;
  manifest: ImageManifest;
  config: { descriptor: Descriptor; bytes: Uint8Array };
  blobs: PackedBlob[];
  moduleInfo?: WasmInfo;
  cleanup?: () => Promise<void>;
}): PackedArtifact {
  const manifestBytes = encodeGoJson(parts.manifest);
  // oras-go pushManifest: the returned descriptor carries the manifest's artifactType (the
  // config media type for image-spec v1.0 manifests) and annotations.
  const manifestDescriptor = makeDescriptor(MEDIA_TYPES.ociManifest, digestOf(manifestBytes), manifestBytes.byteLength, {
    annotations: parts.manifest.annotations,
    artifactType: parts.manifest.artifactType ?? parts.manifest.config.mediaType,
  });
  let cleaned = false;
  const artifact: PackedArtifact = {
    style: parts.style,
    manifest: parts.manifest,
    manifestBytes,
    manifestDescriptor,
    config: parts.config,
    blobs: uniqueBlobs(parts.blobs),
    async cleanup() {
      if (cleaned) return;
      cleaned = true;
      await parts.cleanup?.();
    },
  };
  if (parts.moduleInfo) artifact.moduleInfo = parts.moduleInfo;
  return artifact;
}

/**
 * The common tail of the solo, compat and cncf profiles: the config descriptor (with the user's
 * `$config` annotations), the manifest (artifactType, `$manifest` annotations and created), and the
 * artifact with the config blob first, then the layers' blobs.
 */
export function assembleProfile(parts: {
  style: PackStyle;
  configMediaType: string;
  configBytes: Uint8Array;
  /** Layers in manifest order; a layer whose digest is the config's reuses the config blob. */
  layers: (config: Descriptor) => PackedBlob[];
  options: Pick<PackOptions, 'annotations' | 'artifactType'>;
  created: Date;
  moduleInfo?: WasmInfo;
  cleanup?: () => Promise<void>;
}): PackedArtifact {
  const { configBytes, options } = parts;
  const config = makeDescriptor(parts.configMediaType, digestOf(configBytes), configBytes.byteLength, {
    annotations: options.annotations?.[ANNOTATION_CONFIG_KEY],
  });
  const layers = parts.layers(config);
  const manifest = makeManifest({
    artifactType: options.artifactType,
    config,
    layers: layers.map((l) => l.descriptor),
    annotations: manifestAnnotations(options.annotations, parts.created),
  });
  return finishArtifact({
    style: parts.style,
    manifest,
    config: { descriptor: config, bytes: configBytes },
    blobs: [{ descriptor: config, content: configBytes, name: 'config' }, ...layers],
    moduleInfo: parts.moduleInfo,
    cleanup: parts.cleanup,
  });
}
