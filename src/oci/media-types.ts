/** Media types of the OCI image spec, Docker v2, and the Wasm artifact formats of DESIGN.md section 1. */

export const MEDIA_TYPES = {
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  ociLayerTar: 'application/vnd.oci.image.layer.v1.tar',
  ociLayerTarGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  ociEmpty: 'application/vnd.oci.empty.v1+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
  dockerLayerTarGzip: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
  /** Solo.io / wasme / ASM runtime config (the `solo` profile's config). */
  soloWasmConfig: 'application/vnd.module.wasm.config.v1+json',
  /** Solo.io / wasme / ASM / Istio "oci" variant module layer. */
  soloWasmLayer: 'application/vnd.module.wasm.content.layer.v1+wasm',
  /** CNCF TAG Runtime Wasm OCI artifact config. */
  cncfWasmConfig: 'application/vnd.wasm.config.v0+json',
  /** CNCF TAG Runtime Wasm layer. */
  cncfWasmLayer: 'application/wasm',
  /** The older wasm-to-oci / Krustlet layer type. */
  legacyWasmLayer: 'application/vnd.wasm.content.layer.v1+wasm',
  /** oras's default for a file pushed without a media type. */
  orasDefaultLayer: 'application/vnd.oci.image.layer.v1.tar',
} as const;

/** Annotation keys of the OCI image spec. */
export const ANNOTATIONS = {
  title: 'org.opencontainers.image.title',
  created: 'org.opencontainers.image.created',
  refName: 'org.opencontainers.image.ref.name',
  /** oras-go content/file/file.go AnnotationDigest: sha256 of a directory layer's uncompressed tar. */
  orasContentDigest: 'io.deis.oras.content.digest',
  /** oras-go content/file/file.go AnnotationUnpack: `"true"` on a directory layer, unpacked on pull. */
  orasUnpack: 'io.deis.oras.content.unpack',
} as const;

/** Accept header for manifest GET/HEAD: every manifest type we can read. */
export const MANIFEST_ACCEPT = [
  MEDIA_TYPES.ociManifest,
  MEDIA_TYPES.ociIndex,
  MEDIA_TYPES.dockerManifest,
  MEDIA_TYPES.dockerManifestList,
] as const;

export const WASM_LAYER_TYPES: readonly string[] = [
  MEDIA_TYPES.soloWasmLayer,
  MEDIA_TYPES.cncfWasmLayer,
  MEDIA_TYPES.legacyWasmLayer,
];

export const TAR_GZIP_LAYER_TYPES: readonly string[] = [
  MEDIA_TYPES.ociLayerTarGzip,
  MEDIA_TYPES.dockerLayerTarGzip,
];

export function isManifestMediaType(mediaType: string | undefined): boolean {
  return mediaType === MEDIA_TYPES.ociManifest || mediaType === MEDIA_TYPES.dockerManifest;
}

export function isIndexMediaType(mediaType: string | undefined): boolean {
  return mediaType === MEDIA_TYPES.ociIndex || mediaType === MEDIA_TYPES.dockerManifestList;
}

/** Limits from DESIGN.md: manifests 4 MiB (as the distribution spec recommends), error bodies 8 KiB, tokens 128 KiB. */
export const LIMITS = {
  manifestBytes: 4 * 1024 * 1024,
  errorBodyBytes: 8 * 1024,
  tokenBodyBytes: 128 * 1024,
  /** Istio's Wasm image fetcher caps the module at 256 MiB. */
  moduleBytes: 256 * 1024 * 1024,
} as const;
