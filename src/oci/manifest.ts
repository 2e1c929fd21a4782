import { WasmOciError } from '../errors.js';
import { digestOf, parseDigest } from './digest.js';
import { LIMITS, MEDIA_TYPES, isIndexMediaType, isManifestMediaType } from './media-types.js';
import type { Descriptor, ImageIndex, ImageManifest } from './types.js';

/**
 * Decoding of manifest and index documents that arrive from a registry or a layout on disk,
 * i.e. untrusted bytes. Every failure is a WasmOciError naming the JSON path that is wrong;
 * nothing here lets a TypeError or SyntaxError escape.
 */

export type ManifestDocument =
  | { kind: 'manifest'; manifest: ImageManifest; mediaType: string }
  | { kind: 'index'; index: ImageIndex; mediaType: string };

// RFC 6838 restricted-name: media types end up in HTTP headers, so CR/LF and friends must
// never pass (header injection), and image-spec requires this form for mediaType fields.
const MEDIA_TYPE_RE = /^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}\/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}$/;
const BASE64_RE = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

type Json = Record<string, unknown>;

function invalid(problem: string, cause?: unknown): WasmOciError {
  return new WasmOciError('E_MANIFEST_INVALID', problem, { cause });
}

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'string' ? 'a string' : `a ${typeof v}`;
}

/** Strips parameters (`; charset=utf-8`) and case from a Content-Type value. */
export function normalizeContentType(contentType: string | undefined): string | undefined {
  if (contentType === undefined) return undefined;
  const bare = contentType.split(';', 1)[0]!.trim().toLowerCase();
  return bare === '' ? undefined : bare;
}

export function isValidMediaType(mediaType: string): boolean {
  return MEDIA_TYPE_RE.test(mediaType);
}

function checkMediaType(v: unknown, where: string): string {
  if (typeof v !== 'string') throw invalid(`${where} must be a string, got ${describe(v)}`);
  if (!MEDIA_TYPE_RE.test(v)) throw invalid(`${where} "${truncate(v)}" is not a valid media type (type/subtype)`);
  return v;
}

function truncate(s: string): string {
  return s.length > 80 ? `${s.slice(0, 80)}...` : s;
}

function checkAnnotations(v: unknown, where: string): void {
  if (v === undefined) return;
  if (!isObject(v)) throw invalid(`${where} must be an object of strings, got ${describe(v)}`);
  for (const [key, value] of Object.entries(v)) {
    if (typeof value !== 'string') {
      throw invalid(`${where}["${truncate(key)}"] must be a string, got ${describe(value)}`);
    }
  }
}

function checkStringArray(v: unknown, where: string): void {
  if (v === undefined) return;
  if (!Array.isArray(v)) throw invalid(`${where} must be an array of strings, got ${describe(v)}`);
  v.forEach((item, i) => {
    if (typeof item !== 'string') throw invalid(`${where}[${i}] must be a string, got ${describe(item)}`);
  });
}

function checkPlatform(v: unknown, where: string): void {
  if (v === undefined) return;
  if (!isObject(v)) throw invalid(`${where} must be an object, got ${describe(v)}`);
  for (const key of ['architecture', 'os'] as const) {
    if (typeof v[key] !== 'string') throw invalid(`${where}.${key} must be a string, got ${describe(v[key])}`);
  }
  for (const key of ['os.version', 'variant'] as const) {
    if (v[key] !== undefined && typeof v[key] !== 'string') {
      throw invalid(`${where}.${key} must be a string, got ${describe(v[key])}`);
    }
  }
  checkStringArray(v['os.features'], `${where}.os.features`);
}

/** Validates one descriptor object (image-spec descriptor.md) and returns it typed. */
export function validateDescriptor(v: unknown, where = 'descriptor'): Descriptor {
  if (!isObject(v)) throw invalid(`${where} must be an object, got ${describe(v)}`);
  checkMediaType(v.mediaType, `${where}.mediaType`);
  if (typeof v.digest !== 'string') throw invalid(`${where}.digest must be a string, got ${describe(v.digest)}`);
  try {
    parseDigest(v.digest);
  } catch (err) {
    throw invalid(`${where}.digest: ${err instanceof Error ? err.message : String(err)}`, err);
  }
  const size = v.size;
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) {
    throw invalid(`${where}.size must be a non-negative integer, got ${typeof size === 'number' ? String(size) : describe(size)}`);
  }
  checkAnnotations(v.annotations, `${where}.annotations`);
  if (v.artifactType !== undefined) checkMediaType(v.artifactType, `${where}.artifactType`);
  checkStringArray(v.urls, `${where}.urls`);
  if (v.data !== undefined) {
    if (typeof v.data !== 'string' || !BASE64_RE.test(v.data)) throw invalid(`${where}.data must be a base64 string`);
    // image-spec: embedded data MUST match the descriptor's digest and size.
    const bytes = Buffer.from(v.data, 'base64');
    if (bytes.length !== size) throw invalid(`${where}.data is ${bytes.length} bytes but size says ${size}`);
    const algorithm = v.digest.startsWith('sha512:') ? 'sha512' : 'sha256';
    if (digestOf(bytes, algorithm) !== v.digest) throw invalid(`${where}.data does not match ${where}.digest`);
  }
  checkPlatform(v.platform, `${where}.platform`);
  return v as unknown as Descriptor;
}

function checkDescriptorArray(v: unknown, where: string): Descriptor[] {
  if (v === undefined) throw invalid(`${where} is missing`);
  if (!Array.isArray(v)) throw invalid(`${where} must be an array, got ${describe(v)}`);
  return v.map((d, i) => validateDescriptor(d, `${where}[${i}]`));
}

function decodeJson(bytes: Uint8Array, what: string): Json {
  if (bytes.byteLength > LIMITS.manifestBytes) {
    throw new WasmOciError(
      'E_SIZE_LIMIT',
      `${what} is ${bytes.byteLength} bytes, over the ${LIMITS.manifestBytes}-byte limit for manifests`,
    );
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch (err) {
    throw invalid(`${what} is not valid UTF-8`, err);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw invalid(`${what} is not valid JSON: ${err instanceof Error ? err.message : String(err)}`, err);
  }
  if (!isObject(doc)) throw invalid(`${what} must be a JSON object, got ${describe(doc)}`);
  return doc;
}

/**
 * Decodes and validates a manifest or index. `mediaType` is the Content-Type it came with
 * (parameters allowed), or the descriptor's mediaType when read from a layout. The kind is
 * taken from the document's own `mediaType` field, else from a manifest-like Content-Type,
 * else from its shape. Generic Content-Types (application/json, octet-stream) are ignored:
 * some registries and static servers send them for manifests.
 */
export function parseManifestDocument(bytes: Uint8Array, mediaType?: string): ManifestDocument {
  const doc = decodeJson(bytes, 'manifest');

  if (doc.schemaVersion === undefined) throw invalid('manifest schemaVersion is missing');
  if (doc.schemaVersion === 1) {
    throw new WasmOciError('E_UNSUPPORTED', 'manifest is Docker image manifest schema 1, which is deprecated and not supported', {
      hint: 'push the image again with a current client so the registry stores a schema 2 or OCI manifest',
    });
  }
  if (doc.schemaVersion !== 2) {
    throw invalid(`manifest schemaVersion must be 2, got ${typeof doc.schemaVersion === 'number' ? String(doc.schemaVersion) : describe(doc.schemaVersion)}`);
  }

  const declared = normalizeContentType(mediaType);
  const declaredKnown = declared !== undefined && (isManifestMediaType(declared) || isIndexMediaType(declared)) ? declared : undefined;

  let field: string | undefined;
  if (doc.mediaType !== undefined) {
    field = checkMediaType(doc.mediaType, 'manifest mediaType');
    if (!isManifestMediaType(field) && !isIndexMediaType(field)) {
      throw new WasmOciError('E_UNSUPPORTED', `unsupported manifest media type "${truncate(field)}"`);
    }
    // A document whose own mediaType disagrees with the Content-Type is one object seen two
    // ways; refuse it rather than guess (same reasoning as the CVE-2021-41190 fix).
    if (declaredKnown !== undefined && declaredKnown !== field) {
      throw invalid(`manifest mediaType "${field}" does not match its Content-Type "${declared}"`);
    }
  }

  const hasManifests = doc.manifests !== undefined;
  const hasImageFields = doc.config !== undefined || doc.layers !== undefined;
  let effective = field ?? declaredKnown;
  if (effective === undefined) {
    if (hasManifests && hasImageFields) {
      throw invalid('manifest is ambiguous: it has both "manifests" and "config"/"layers" and no mediaType');
    }
    if (hasManifests) effective = MEDIA_TYPES.ociIndex;
    else if (hasImageFields) effective = MEDIA_TYPES.ociManifest;
    else throw invalid('manifest has neither "config"/"layers" nor "manifests", and no mediaType');
  }

  checkAnnotations(doc.annotations, 'manifest annotations');
  if (doc.artifactType !== undefined) checkMediaType(doc.artifactType, 'manifest artifactType');
  if (doc.subject !== undefined) validateDescriptor(doc.subject, 'manifest subject');

  if (isIndexMediaType(effective)) {
    // CVE-2021-41190: an index must not also carry image-manifest fields.
    if (hasImageFields) throw invalid('index must not contain "config" or "layers"');
    checkDescriptorArray(doc.manifests, 'index manifests');
    return { kind: 'index', index: doc as unknown as ImageIndex, mediaType: effective };
  }
  if (hasManifests) throw invalid('image manifest must not contain "manifests"');
  if (doc.config === undefined) throw invalid('manifest config is missing');
  validateDescriptor(doc.config, 'manifest config');
  checkDescriptorArray(doc.layers, 'manifest layers');
  return { kind: 'manifest', manifest: doc as unknown as ImageManifest, mediaType: effective };
}

/** Like parseManifestDocument, but requires an image manifest. */
export function parseImageManifest(bytes: Uint8Array, mediaType?: string): ImageManifest {
  const doc = parseManifestDocument(bytes, mediaType);
  if (doc.kind !== 'manifest') throw invalid(`expected an image manifest, got an index (${doc.mediaType})`);
  return doc.manifest;
}

/** Like parseManifestDocument, but requires an index. */
export function parseImageIndex(bytes: Uint8Array, mediaType?: string): ImageIndex {
  const doc = parseManifestDocument(bytes, mediaType);
  if (doc.kind !== 'index') throw invalid(`expected an index, got an image manifest (${doc.mediaType})`);
  return doc.index;
}

/**
 * Serialises a manifest compactly, as oras does. The bytes returned are the ones to digest
 * and push: never re-encode a manifest after computing its descriptor.
 */
export function encodeManifest(obj: ImageManifest | ImageIndex | object): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(obj));
}

/** A descriptor for `bytes`: mediaType, sha256 digest and size first, then `extra` fields. */
export function descriptorFor(
  bytes: Uint8Array,
  mediaType: string,
  extra?: Partial<Omit<Descriptor, 'mediaType' | 'digest' | 'size'>>,
): Descriptor {
  return { mediaType, digest: digestOf(bytes), size: bytes.byteLength, ...extra };
}
