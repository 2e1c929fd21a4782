import type { Content } from '../content/interfaces.js';
import type { Descriptor, ImageManifest, Platform } from '../oci/types.js';
import type { WasmInfo } from '../wasm/types.js';
import type { AnnotationSet } from './annotations.js';

/** The Wasm artifact formats of DESIGN.md section 1. */
export type PackProfile = 'solo' | 'compat' | 'cncf';
/** oras's --image-spec values (cmd/oras/internal/option/spec.go ImageSpecV1_1, ImageSpecV1_0). */
export type ImageSpecVersion = 'v1.1' | 'v1.0';

/** A profile, or `oras`: exactly what `oras push` builds from files the user spelled out. */
export type PackStyle = PackProfile | 'oras';

export interface PackFile {
  path: string;
  /** oras style only: the layer media type (`file:type`); oras's default when absent. */
  mediaType?: string;
}

export interface PackOptions {
  /** The module (profiles: exactly one file), or every layer in order (oras style). */
  files: PackFile[];
  /**
   * Default: `oras` when a file spells a media type or `manifestConfig` is given (the user
   * typed oras syntax), else `solo`.
   */
  profile?: PackStyle;
  /** oras `--config`/`--manifest-config file[:type]`; oras style only. */
  manifestConfig?: PackFile;
  /** A runtime config file for `solo`/`compat`; generated from the module when absent. */
  runtimeConfig?: string;
  /** `--root-id`: rootIds of a generated runtime config. */
  rootIds?: string[];
  /** oras's annotation map: `$manifest`, `$config`, and per file (keyed by the path as given or the title). */
  annotations?: AnnotationSet;
  /** `--artifact-type`: the manifest's artifactType. */
  artifactType?: string;
  /**
   * oras push `--image-spec` (oras style only): `v1.1` packs `artifactType` with the empty
   * config, `v1.0` puts the type in the config's media type. Unset: v1.1, or v1.0 when a
   * manifest config is given without an artifact type (oras's rule).
   */
  imageSpec?: ImageSpecVersion;
  /** oras push `--artifact-platform` (oras style only): the platform, written as the image config blob. */
  artifactPlatform?: Platform;
  /** The creation time; defaults to `clock()`. */
  created?: Date;
  clock?: () => Date;
  /** Where the compat layer is built; os.tmpdir() by default. */
  tempDir?: string;
  signal?: AbortSignal;
  onWarning?: (message: string) => void;
  /** oras --disable-path-validation: absolute and `..` paths are titled as given (oras style). */
  disablePathValidation?: boolean;
  /** Files already hashed (while they were uploaded in one pass), by path as given: not read again. */
  digests?: ReadonlyMap<string, { digest: string; size: number }>;
}

export interface PackedBlob {
  descriptor: Descriptor;
  content: Content;
  /** The file name it came from, for progress output. */
  name?: string;
}

export interface PackedArtifact {
  style: PackStyle;
  manifest: ImageManifest;
  /** The exact bytes to push: digest them, never re-encode `manifest`. */
  manifestBytes: Uint8Array;
  /** Manifest descriptor with artifactType and annotations copied in, as oras-go's pushManifest does. */
  manifestDescriptor: Descriptor;
  config: { descriptor: Descriptor; bytes: Uint8Array };
  /** Every blob the manifest references (config included), each once, in manifest order. */
  blobs: PackedBlob[];
  /** Inspection of the module, when there is one and it was small enough to inspect. */
  moduleInfo?: WasmInfo;
  /** Removes temp files (the compat layer). Safe to call twice. */
  cleanup(): Promise<void>;
}
