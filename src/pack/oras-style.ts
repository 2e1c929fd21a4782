import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { isAbsolute, join, posix } from 'node:path';
import { WasmOciError } from '../errors.js';
import { digestOf } from '../oci/digest.js';
import { ANNOTATIONS, MEDIA_TYPES } from '../oci/media-types.js';
import type { Descriptor, Platform } from '../oci/types.js';
import { inspectWasm, sniffWasm } from '../wasm/inspect.js';
import type { WasmInfo } from '../wasm/types.js';
import { ANNOTATION_CONFIG_KEY } from './annotations.js';
import { writeDirectoryLayer } from './dir-layer.js';
import { digestFile, fileContent, readHead, statRegularFile } from './file-blob.js';
import { encodeGoJson } from './go-json.js';
import { EMPTY_JSON, emptyDescriptor, fileAnnotations, finishArtifact, makeDescriptor, makeManifest, manifestAnnotations } from './manifest-parts.js';
import { INSPECT_LIMIT } from './module-input.js';
import type { ImageSpecVersion, PackedArtifact, PackedBlob, PackOptions } from './types.js';

/** oras-go MediaTypeUnknownConfig: a `--config` file given without a media type. */
export const ORAS_UNKNOWN_CONFIG = 'application/vnd.unknown.config.v1+json';
/** oras-go MediaTypeUnknownArtifact: artifactType of a v1.1 manifest with no config and no --artifact-type. */
export const ORAS_UNKNOWN_ARTIFACT = 'application/vnd.unknown.artifact.v1';
/** A config file is a document, not a blob to stream; oras would take more, we refuse rather than buffer. */
const CONFIG_LIMIT = 4 * 1024 * 1024;

/**
 * The layer title oras gives a file: Go's filepath.Clean of the path as typed, slashes kept
 * (oras cmd/oras/root/file.go loadFiles). A title that would escape the puller's directory is
 * refused here, as oras refuses it without --disable-path-validation (option/packer.go Parse:
 * oras refuses absolute paths; we refuse `..` paths as well). With `allowUnsafe` (that flag)
 * the cleaned path is the title whatever it is; pullers that check paths (oras, wasm-oci) will
 * refuse to write it unless told otherwise.
 */
export function orasTitle(path: string, isDirectory = false, allowUnsafe = false): string {
  let title = posix.normalize(path.replace(/\\/g, '/'));
  // Go's filepath.Clean drops a trailing slash: `dir/` is titled `dir`.
  if (isDirectory && title !== '/') title = title.replace(/\/+$/, '');
  if (title === '.' || title.endsWith('/')) {
    throw new WasmOciError('E_INVALID_INPUT', isDirectory ? `"${path}" names the current directory; push it by its name from its parent` : `"${path}" does not name a file`);
  }
  if (!allowUnsafe && (isAbsolute(path) || title.startsWith('/') || title === '..' || title.startsWith('../'))) {
    throw new WasmOciError('E_INVALID_INPUT', `file path "${path}" is absolute or leaves the current directory; its title would be unsafe to pull`, {
      hint: 'Run the push from the directory that holds the file and name it by a relative path (or, if it is intentional, --disable-path-validation).',
    });
  }
  return title;
}

async function maybeInspect(path: string, size: number): Promise<WasmInfo | undefined> {
  // oras pushes anything; inspection is only a courtesy for the report, never a refusal.
  if (size > INSPECT_LIMIT || sniffWasm(await readHead(path, 8)) === undefined) return undefined;
  try {
    return inspectWasm(new Uint8Array(await readFile(path)), { name: path });
  } catch {
    return undefined;
  }
}

/** What oras push packs: the image-spec version and the manifest's artifactType. */
export interface OrasPackPlan {
  imageSpec: ImageSpecVersion;
  /** v1.1: the manifest's artifactType (none only when a config gives the type); v1.0: undefined. */
  artifactType?: string;
  /** v1.0 without a config file or platform: the media type of the `{}` config (oras-go packManifestV1_0). */
  configMediaType?: string;
}

/**
 * oras push's flag rules (cmd/oras/root/push.go PreRunE, then runPush), in its order and words:
 * - `--config` without `--artifact-type`: v1.0 unless `--image-spec` was given, and an explicit
 *   v1.1 is refused ("missing artifact type");
 * - `--config` and `--artifact-platform` exclude each other;
 * - v1.0 refuses `--config` with `--artifact-type`; v1.1 without either takes
 *   application/vnd.unknown.artifact.v1;
 * - v1.0 with `--artifact-platform` refuses `--artifact-type` (the config's media type is the
 *   image config's, so there is nowhere to put it).
 */
export function orasPackPlan(options: Pick<PackOptions, 'manifestConfig' | 'artifactType' | 'imageSpec' | 'artifactPlatform'>): OrasPackPlan {
  const config = options.manifestConfig !== undefined;
  const artifactType = options.artifactType || undefined;
  let imageSpec: ImageSpecVersion = options.imageSpec ?? 'v1.1';
  if (options.imageSpec !== undefined && options.imageSpec !== 'v1.0' && options.imageSpec !== 'v1.1') {
    throw new WasmOciError('E_USAGE', `unknown image specification flag: ${String(options.imageSpec)}`, { hint: 'Available options: v1.1, v1.0' });
  }
  if (config && !artifactType) {
    // "switch to v1.0 manifest since artifact type is suggested by OCI v1.1 artifact guidance but is not presented"
    if (options.imageSpec === undefined) imageSpec = 'v1.0';
    else if (options.imageSpec === 'v1.1') {
      throw new WasmOciError('E_USAGE', 'missing artifact type for OCI image-spec v1.1 artifacts', {
        hint: 'set an artifact type via `--artifact-type` or consider image spec v1.0',
      });
    }
  }
  if (config && options.artifactPlatform !== undefined) throw new WasmOciError('E_USAGE', '--config, --artifact-platform cannot be used at the same time');
  if (imageSpec === 'v1.0') {
    if (config && artifactType) throw new WasmOciError('E_USAGE', '--artifact-type and --config cannot both be provided for 1.0 OCI image');
    if (options.artifactPlatform !== undefined && artifactType) {
      throw new WasmOciError('E_USAGE', 'artifact type cannot be customized for OCI image-spec v1.0 when platform is specified', {
        hint: 'consider using image spec v1.1 or remove --artifact-type',
      });
    }
    // oras-go packManifestV1_0 -> packManifestV1_1_RC2: the artifact type is the `{}` config's media type.
    return { imageSpec, ...(config || options.artifactPlatform ? {} : { configMediaType: artifactType ?? ORAS_UNKNOWN_CONFIG }) };
  }
  return { imageSpec, artifactType: artifactType ?? (config ? undefined : ORAS_UNKNOWN_ARTIFACT) };
}

/**
 * The config blob of `--artifact-platform` (push.go runPush: json.Marshal(ocispec.Platform),
 * pushed as application/vnd.oci.image.config.v1+json): the fields in the Go struct's order,
 * empty optional ones left out (omitempty).
 */
export function platformConfigBytes(p: Platform): Uint8Array {
  return encodeGoJson({
    architecture: p.architecture,
    os: p.os,
    ...(p['os.version'] ? { 'os.version': p['os.version'] } : {}),
    ...(p['os.features']?.length ? { 'os.features': p['os.features'] } : {}),
    ...(p.variant ? { variant: p.variant } : {}),
  });
}

/**
 * Exactly what `oras push` (oras 1.3, oras-go PackManifest) builds, by the plan of orasPackPlan:
 * - image-spec v1.0: no artifactType; config = the `--config` file, the platform blob, or `{}`
 *   typed with the artifact type (default application/vnd.unknown.config.v1+json); layers as given;
 * - image-spec v1.1: `artifactType`, config = the file, the platform blob or the empty
 *   descriptor, and the empty descriptor as the only layer when no file is given;
 * - `$config` annotations on the config, layers in command-line order, default type
 *   application/vnd.oci.image.layer.v1.tar, each titled with its cleaned path;
 *   `org.opencontainers.image.created` on the manifest.
 */
export async function packOrasStyle(options: PackOptions, created: Date): Promise<PackedArtifact> {
  const blobs: PackedBlob[] = [];
  let configDesc: Descriptor;
  let configBytes: Uint8Array;
  const configAnnotations = options.annotations?.[ANNOTATION_CONFIG_KEY];
  const plan = orasPackPlan(options);
  const v1_0 = plan.imageSpec === 'v1.0';

  if (options.manifestConfig) {
    const { path, mediaType } = options.manifestConfig;
    const { size } = await statRegularFile(path, 'manifest config');
    if (size > CONFIG_LIMIT) throw new WasmOciError('E_SIZE_LIMIT', `manifest config ${path} is ${size} bytes, over the ${CONFIG_LIMIT}-byte limit`);
    configBytes = new Uint8Array(await readFile(path));
    configDesc = makeDescriptor(mediaType || ORAS_UNKNOWN_CONFIG, digestOf(configBytes), configBytes.byteLength, {
      annotations: configAnnotations,
    });
  } else if (options.artifactPlatform) {
    configBytes = platformConfigBytes(options.artifactPlatform);
    configDesc = makeDescriptor(MEDIA_TYPES.ociConfig, digestOf(configBytes), configBytes.byteLength, { annotations: configAnnotations });
  } else if (plan.configMediaType !== undefined) {
    // packManifestV1_1_RC2: `{}` under the type given (NewDescriptorFromBytes: no inlined data).
    configBytes = EMPTY_JSON;
    configDesc = makeDescriptor(plan.configMediaType, digestOf(EMPTY_JSON), EMPTY_JSON.byteLength, { annotations: configAnnotations });
  } else {
    configBytes = EMPTY_JSON;
    configDesc = emptyDescriptor(configAnnotations);
  }
  blobs.push({ descriptor: configDesc, content: configBytes, name: options.manifestConfig?.path ?? 'config' });

  const titles = new Set<string>();
  const layers: Descriptor[] = [];
  let moduleInfo: WasmInfo | undefined;
  let tempDir: string | undefined;
  const cleanup = async (): Promise<void> => {
    if (tempDir) await rm(tempDir, { recursive: true, force: true });
  };
  try {
    for (const file of options.files) {
      const isDirectory = await stat(file.path).then((st) => st.isDirectory(), () => false);
      const title = orasTitle(file.path, isDirectory, options.disablePathValidation === true);
      if (titles.has(title)) throw new WasmOciError('E_INVALID_INPUT', `file "${title}" is given twice`);
      titles.add(title);
      if (isDirectory) {
        // oras-go content/file/file.go Add -> descriptorFromDir: a tar+gzip of the directory,
        // titled with its cleaned path, marked to be unpacked, with the tar's own digest.
        tempDir ??= await mkdtemp(join(options.tempDir ?? tmpdir(), 'wasm-oci-pack-'));
        const layerPath = join(tempDir, `dir-${layers.length}.tar.gz`);
        const dir = await writeDirectoryLayer(layerPath, file.path, title, { signal: options.signal });
        const layer = makeDescriptor(file.mediaType || MEDIA_TYPES.ociLayerTarGzip, dir.digest, dir.size, {
          annotations: { [ANNOTATIONS.orasContentDigest]: dir.tarDigest, [ANNOTATIONS.orasUnpack]: 'true', ...fileAnnotations(title, options.annotations, [file.path, title]) },
        });
        layers.push(layer);
        blobs.push({ descriptor: layer, content: fileContent(layerPath), name: `${title}/` });
        continue;
      }
      const { size: statSize } = await statRegularFile(file.path, 'file');
      // The first Wasm file is inspected for the report; its inspection hashes it too, so one read does both.
      const info = moduleInfo === undefined && !options.digests?.has(file.path) ? await maybeInspect(file.path, statSize) : undefined;
      const { digest, size } = info ? { digest: `sha256:${info.sha256}`, size: info.size } : await digestFile(file.path, options.signal, options.digests);
      moduleInfo ??= info;
      const layer = makeDescriptor(file.mediaType || MEDIA_TYPES.orasDefaultLayer, digest, size, {
        annotations: fileAnnotations(title, options.annotations, [file.path, title]),
      });
      layers.push(layer);
      blobs.push({ descriptor: layer, content: fileContent(file.path), name: title });
    }
    return finishOras(options, created, { v1_0, artifactType: plan.artifactType, configDesc, configBytes, layers, blobs, moduleInfo, cleanup });
  } catch (err) {
    await cleanup();
    throw err;
  }
}

function finishOras(
  options: PackOptions,
  created: Date,
  parts: { v1_0: boolean; artifactType?: string; configDesc: Descriptor; configBytes: Uint8Array; layers: Descriptor[]; blobs: PackedBlob[]; moduleInfo?: WasmInfo; cleanup: () => Promise<void> },
): PackedArtifact {
  const { v1_0, artifactType, configDesc, configBytes, layers, blobs, moduleInfo, cleanup } = parts;
  if (!v1_0 && layers.length === 0) {
    // oras-go packManifestV1_1: the empty descriptor as the single layer.
    const empty = emptyDescriptor();
    layers.push(empty);
    blobs.push({ descriptor: empty, content: EMPTY_JSON, name: 'empty' });
  }

  const manifest = makeManifest({
    artifactType,
    config: configDesc,
    layers,
    annotations: manifestAnnotations(options.annotations, created),
  });
  return finishArtifact({
    style: 'oras',
    manifest,
    config: { descriptor: configDesc, bytes: configBytes },
    blobs,
    moduleInfo,
    cleanup,
  });
}
