/** OCI image-spec types (v1.1) as the library uses them. */

export type Annotations = Record<string, string>;

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Annotations;
  artifactType?: string;
  urls?: string[];
  data?: string;
  platform?: Platform;
}

export interface Platform {
  architecture: string;
  os: string;
  'os.version'?: string;
  'os.features'?: string[];
  variant?: string;
}

export interface ImageManifest {
  schemaVersion: 2;
  mediaType?: string;
  artifactType?: string;
  config: Descriptor;
  layers: Descriptor[];
  subject?: Descriptor;
  annotations?: Annotations;
}

export interface ImageIndex {
  schemaVersion: 2;
  mediaType?: string;
  artifactType?: string;
  manifests: Descriptor[];
  subject?: Descriptor;
  annotations?: Annotations;
}

/** The Solo / wasme runtime config carried by the `solo` profile. */
export interface RuntimeConfig {
  type: string;
  abiVersions: string[];
  config: { rootIds: string[] } & Record<string, unknown>;
}

/** The CNCF TAG Runtime `application/vnd.wasm.config.v0+json` config. */
export interface CncfWasmConfig {
  created?: string;
  author?: string;
  architecture: 'wasm';
  os: 'wasip1' | 'wasip2' | string;
  layerDigests: string[];
  component?: {
    exports?: string[];
    imports?: string[];
    target?: string | null;
  };
}

/** Minimal OCI image config used by the `compat` profile. */
export interface OciImageConfig {
  created?: string;
  architecture: string;
  os: string;
  config?: Record<string, unknown>;
  rootfs: { type: 'layers'; diff_ids: string[] };
}
