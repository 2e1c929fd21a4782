import { WasmOciError } from '../errors.js';
import type { ReadOnlyTarget } from '../content/interfaces.js';
import { readAll } from '../content/read-all.js';
import { isIndexMediaType, isManifestMediaType, LIMITS, MEDIA_TYPES } from '../oci/media-types.js';
import { parseManifestDocument } from '../oci/manifest.js';
import { formatPlatform, platformMatches } from '../oci/platform.js';
import type { Descriptor, Platform } from '../oci/types.js';
// copy.ts imports this module too; only functions cross, called after both have loaded.
import { fetchManifestBytes } from './copy.js';

export interface SelectPlatformOptions {
  signal?: AbortSignal;
  /** The root's bytes when the caller has fetched them already (not fetched again). */
  rootBytes?: Uint8Array;
  /** What the user typed, to name in messages; the root's digest otherwise. */
  reference?: string;
}

/**
 * `--platform` as oras-go applies it (internal/platform/platform.go SelectManifest, reached from
 * oras.Resolve/Fetch with ResolveOptions.TargetPlatform and CopyOptions.WithTargetPlatform):
 * - an index (or Docker manifest list): its first entry whose `platform` matches (Match: OS and
 *   architecture equal, variant and OS version when asked, asked OS features present); none is
 *   "not found";
 * - an image manifest: itself, when the platform in its config matches; the config must be an
 *   image config (application/vnd.oci.image.config.v1+json, or the Docker one for a Docker
 *   manifest: getPlatformFromConfig), anything else cannot say a platform ("unsupported");
 * - anything else: unsupported.
 * The messages keep oras-go's words and add the platform asked for. The index entry is returned
 * whole (platform, annotations), as SelectManifest returns it.
 */
export async function selectPlatformManifest(src: ReadOnlyTarget, root: Descriptor, want: Platform, options: SelectPlatformOptions = {}): Promise<Descriptor> {
  const { signal } = options;
  const what = options.reference ? `${options.reference} (${root.digest})` : root.digest;
  const asked = formatPlatform(want);
  if (isIndexMediaType(root.mediaType)) {
    const bytes = options.rootBytes ?? (await fetchManifestBytes(src, root, signal));
    const doc = parseManifestDocument(bytes, root.mediaType);
    if (doc.kind !== 'index') throw new WasmOciError('E_MANIFEST_INVALID', `${what} is not an index`);
    const found = doc.index.manifests.find((m) => platformMatches(m.platform, want));
    if (found) return found;
    const listed = doc.index.manifests.map((m) => (m.platform ? formatPlatform(m.platform) : '(no platform)'));
    throw new WasmOciError('E_NOT_FOUND', `${what}: no matching manifest was found in the manifest list for platform ${asked}`, {
      hint: listed.length ? `the index lists: ${[...new Set(listed)].join(', ')}` : 'the index lists no manifest',
    });
  }
  if (isManifestMediaType(root.mediaType)) {
    const bytes = options.rootBytes ?? (await fetchManifestBytes(src, root, signal));
    const doc = parseManifestDocument(bytes, root.mediaType);
    if (doc.kind !== 'manifest') throw new WasmOciError('E_MANIFEST_INVALID', `${what} is not an image manifest`);
    const config = doc.manifest.config;
    const expected = root.mediaType === MEDIA_TYPES.ociManifest ? MEDIA_TYPES.ociConfig : MEDIA_TYPES.dockerConfig;
    if (config.mediaType !== expected) {
      throw new WasmOciError('E_UNSUPPORTED', `${what}: fail to recognize platform from unknown config ${config.mediaType}: expect ${expected}`, {
        hint: `only a manifest whose config is ${expected} says its platform; drop --platform to take this manifest as it is`,
      });
    }
    const got = await readConfigPlatform(src, config, signal);
    if (platformMatches(got, want)) return root;
    throw new WasmOciError('E_NOT_FOUND', `${what}: platform in manifest does not match target platform ${asked}`, {
      hint: `its config says ${got.os || '(no os)'}/${got.architecture || '(no architecture)'}${got.variant ? `/${got.variant}` : ''}${got['os.version'] ? `:${got['os.version']}` : ''}`,
    });
  }
  throw new WasmOciError('E_UNSUPPORTED', `${what}: ${root.mediaType}: --platform needs an index or an image manifest`);
}

/**
 * The platform fields of an image config (getPlatformFromConfig: json.Decode into
 * ocispec.Platform; an empty blob is an empty platform, a blob that is not JSON an error).
 */
async function readConfigPlatform(src: ReadOnlyTarget, config: Descriptor, signal?: AbortSignal): Promise<Partial<Platform>> {
  if (config.size > LIMITS.manifestBytes) {
    throw new WasmOciError('E_SIZE_LIMIT', `config ${config.digest} is ${config.size} bytes, over the ${LIMITS.manifestBytes}-byte limit`);
  }
  const text = (await readAll(await src.fetch(config, { signal }), LIMITS.manifestBytes, 'config')).toString('utf8');
  if (text.trim() === '') return {};
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new WasmOciError('E_MANIFEST_INVALID', `config ${config.digest} is not JSON, so it says no platform`, { cause: err });
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    throw new WasmOciError('E_MANIFEST_INVALID', `config ${config.digest} is not a JSON object, so it says no platform`);
  }
  const o = doc as Record<string, unknown>;
  const p: Partial<Platform> = {};
  if (typeof o.architecture === 'string') p.architecture = o.architecture;
  if (typeof o.os === 'string') p.os = o.os;
  if (typeof o.variant === 'string') p.variant = o.variant;
  if (typeof o['os.version'] === 'string') p['os.version'] = o['os.version'];
  if (Array.isArray(o['os.features'])) p['os.features'] = o['os.features'].filter((f): f is string => typeof f === 'string');
  return p;
}

/** oras.Resolve with TargetPlatform: the reference's descriptor, narrowed to the platform's manifest when one is asked. */
export async function resolvePlatform(src: ReadOnlyTarget, reference: string, platform: Platform | undefined, signal?: AbortSignal): Promise<Descriptor> {
  const root = await src.resolve(reference, { signal });
  return platform ? selectPlatformManifest(src, root, platform, { signal, reference }) : root;
}
