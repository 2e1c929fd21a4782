import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import type { ReadOnlyTarget, Target } from '../content/interfaces.js';
import { readAll } from '../content/read-all.js';
import { WasmOciError, isWasmOciError } from '../errors.js';
import { ANNOTATIONS, MEDIA_TYPES } from '../oci/media-types.js';
import type { Annotations, Descriptor, ImageManifest } from '../oci/types.js';
import { ANNOTATION_CONFIG_KEY, ANNOTATION_MANIFEST_KEY, type AnnotationSet } from '../pack/annotations.js';
import { RUNTIME_CONFIG_TITLE } from '../pack/profile-solo.js';
import type { PackProfile } from '../pack/types.js';
import { RUNTIME_CONFIG_LIMIT } from '../pack/module-input.js';
import { parseRuntimeConfig } from '../wasm/runtime-config.js';
import { pullArtifact } from './pull.js';
import { pushArtifact, type PushResult } from './push.js';

export interface ConvertArtifactOptions {
  source: ReadOnlyTarget;
  /** Tag or digest of the artifact in `source`. */
  sourceRef: string;
  destination: Target;
  /** Tags for the converted manifest; empty pushes it by digest only. */
  tags: string[];
  /** The format to re-package into (DESIGN.md section 1). */
  profile: PackProfile;
  /** rootIds of a runtime config generated for an artifact that carries none (a cncf source). */
  rootIds?: string[];
  concurrency?: number;
  moduleSizeLimit?: number;
  /** The new manifest's `org.opencontainers.image.created`; now by default. */
  created?: Date;
  /** Where the module is extracted to; os.tmpdir() by default. */
  tempDir?: string;
  signal?: AbortSignal;
  onProgress?: (desc: Descriptor, done: number) => void;
  onBlob?: (desc: Descriptor, action: 'uploaded' | 'exists') => void;
  onWarning?: (message: string) => void;
}

export interface ConvertResult extends PushResult {
  /** The manifest that was converted (the Wasm manifest of an index). */
  source: { descriptor: Descriptor; manifest: ImageManifest };
  /** The module carried over, byte for byte. */
  moduleDigest: string;
  /** Where the runtime config of the new artifact came from. */
  runtimeConfig: 'config' | 'file' | 'generated' | 'none';
}

/**
 * Re-packages an artifact in another format: the module is extracted from the source exactly as
 * `pull` writes it (every format pull reads: solo, compat, cncf, oras-style, Docker, wasm-to-oci)
 * and packed with `profile`, so the module bytes are the same and only the envelope changes.
 *
 * Carried over:
 * - the runtime config, from a config blob of the Solo type (solo, the seed's oras push) or else a
 *   `runtime-config.json` file in the artifact (compat tar, solo layer); it is kept byte for byte
 *   for solo and compat. An artifact with none (cncf) gets one generated from the module and
 *   `rootIds`. An invalid one is dropped with a warning and a valid one generated: converting is
 *   how a user fixes an artifact.
 * - annotations: the manifest's, the config descriptor's, and those of the module's layer (its
 *   title is set anew by the profile).
 *
 * Not carried over, on purpose:
 * - `org.opencontainers.image.created`: the new manifest is a new artifact, created now, as
 *   `oras push` stamps every manifest it builds; keeping the old date would claim a build time for
 *   bytes that did not exist then. The source stays addressable by its digest.
 * - `artifactType`: it names the source's format, which the conversion replaces.
 * - other files of an oras-style artifact (a README layer...): a profile packs one module.
 */
export async function convertArtifact(options: ConvertArtifactOptions): Promise<ConvertResult> {
  const { signal } = options;
  const dir = await mkdtemp(join(options.tempDir ?? tmpdir(), 'wasm-oci-convert-'));
  try {
    const filesDir = join(dir, 'files');
    await mkdir(filesDir);
    const pulled = await pullArtifact({
      target: options.source,
      reference: options.sourceRef,
      outputDir: filesDir,
      concurrency: options.concurrency,
      moduleSizeLimit: options.moduleSizeLimit,
      signal,
    });
    const { manifest } = pulled;
    if (!pulled.module) {
      throw new WasmOciError('E_UNSUPPORTED', `${options.sourceRef} holds no Wasm module to convert`, {
        hint: 'Inspect it with `wasm-oci inspect REF` to see its layers.',
      });
    }
    const modulePath = pulled.module.path;
    const moduleLayer = manifest.layers.find((l) => l.digest === pulled.module!.digest)
      ?? manifest.layers.find((l) => l.digest === pulled.files.find((f) => f.path === modulePath)?.layerDigest);

    const dropped = pulled.files.filter((f) => f.path !== modulePath && basename(f.name) !== RUNTIME_CONFIG_TITLE);
    for (const f of dropped) options.onWarning?.(`${f.name} is not carried over: the ${options.profile} profile packs the module alone`);

    if (options.profile === 'cncf' && options.rootIds?.length) {
      options.onWarning?.('--root-id is ignored: the cncf profile carries no runtime config');
    }
    let runtimeConfig: ConvertResult['runtimeConfig'] = 'none';
    let runtimeConfigPath: string | undefined;
    if (options.profile !== 'cncf') {
      const found = await findRuntimeConfig(options.source, manifest, pulled.files, signal);
      if (found && isValidRuntimeConfig(found.bytes, found.origin, options.onWarning)) {
        runtimeConfigPath = join(dir, RUNTIME_CONFIG_TITLE);
        await writeFile(runtimeConfigPath, found.bytes);
        runtimeConfig = found.kind;
      } else {
        runtimeConfig = 'generated';
      }
    }

    const result = await pushArtifact({
      target: options.destination,
      tags: options.tags,
      pack: {
        profile: options.profile,
        files: [{ path: modulePath }],
        runtimeConfig: runtimeConfigPath,
        rootIds: options.rootIds,
        annotations: carriedAnnotations(manifest, moduleLayer, modulePath),
        created: options.created,
        tempDir: dir,
        signal,
        onWarning: options.onWarning,
      },
      concurrency: options.concurrency,
      signal,
      onProgress: options.onProgress,
      onBlob: options.onBlob,
    });
    return {
      ...result,
      source: { descriptor: pulled.descriptor, manifest },
      moduleDigest: pulled.module.digest,
      runtimeConfig,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

interface FoundRuntimeConfig {
  bytes: Uint8Array;
  kind: 'config' | 'file';
  origin: string;
}

/** The Solo-typed config blob first (what Istio/wasme read), else a `runtime-config.json` file pulled. */
async function findRuntimeConfig(
  source: ReadOnlyTarget,
  manifest: ImageManifest,
  files: ReadonlyArray<{ path: string; name: string; size: number }>,
  signal?: AbortSignal,
): Promise<FoundRuntimeConfig | undefined> {
  if (manifest.config.mediaType === MEDIA_TYPES.soloWasmConfig) {
    if (manifest.config.size > RUNTIME_CONFIG_LIMIT) {
      throw new WasmOciError('E_SIZE_LIMIT', `the runtime config ${manifest.config.digest} is ${manifest.config.size} bytes, over the ${RUNTIME_CONFIG_LIMIT}-byte limit`);
    }
    const bytes = await readAll(await source.fetch(manifest.config, { signal }), RUNTIME_CONFIG_LIMIT, 'runtime config');
    return { bytes, kind: 'config', origin: `config ${manifest.config.digest}` };
  }
  const file = files.find((f) => basename(f.name) === RUNTIME_CONFIG_TITLE);
  if (file === undefined || file.size > RUNTIME_CONFIG_LIMIT) return undefined;
  return { bytes: new Uint8Array(await readFile(file.path)), kind: 'file', origin: `file ${file.name}` };
}

function isValidRuntimeConfig(bytes: Uint8Array, origin: string, onWarning?: (m: string) => void): boolean {
  try {
    parseRuntimeConfig(bytes);
    return true;
  } catch (err) {
    onWarning?.(`the runtime config (${origin}) is not carried over: ${isWasmOciError(err) ? err.message : String(err)}; a new one is generated`);
    return false;
  }
}

function without(annotations: Annotations | undefined, key: string): Annotations | undefined {
  if (!annotations) return undefined;
  const { [key]: _dropped, ...rest } = annotations;
  return Object.keys(rest).length ? rest : undefined;
}

/** The source's annotations in oras's annotation-file shape, as pack takes them. */
function carriedAnnotations(manifest: ImageManifest, moduleLayer: Descriptor | undefined, modulePath: string): AnnotationSet {
  const set: AnnotationSet = {};
  const onManifest = without(manifest.annotations, ANNOTATIONS.created);
  if (onManifest) set[ANNOTATION_MANIFEST_KEY] = onManifest;
  if (manifest.config.annotations && Object.keys(manifest.config.annotations).length) set[ANNOTATION_CONFIG_KEY] = { ...manifest.config.annotations };
  const onModule = without(moduleLayer?.annotations, ANNOTATIONS.title);
  if (onModule) set[modulePath] = onModule;
  const configLayer = manifest.layers.find((l) => l !== moduleLayer && l.annotations?.[ANNOTATIONS.title] === RUNTIME_CONFIG_TITLE);
  const onConfigLayer = without(configLayer?.annotations, ANNOTATIONS.title);
  if (onConfigLayer) set[RUNTIME_CONFIG_TITLE] = onConfigLayer;
  return set;
}
