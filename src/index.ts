/**
 * wasm-oci as a library: everything the CLI does, callable from TypeScript. Nothing here prints
 * or exits; progress and warnings come back through callbacks.
 */
export * from './errors.js';
export * from './oci/media-types.js';
export type * from './oci/types.js';
export { parseDigest, isValidDigest, digestOf, VerifyingStream, type DigestAlgorithm } from './oci/digest.js';
export { parseManifestDocument, parseImageManifest, parseImageIndex, encodeManifest, descriptorFor, type ManifestDocument } from './oci/manifest.js';
export { parseReference, formatReference, registryApiHost } from './reference/reference.js';
export { parseLayoutReference, formatLayoutReference } from './reference/layout-reference.js';
export type { Reference, LayoutReference } from './reference/types.js';
export type * from './content/interfaces.js';
export { OciLayoutStore } from './content/oci-layout.js';
export { withBlobCache } from './content/cache.js';
export { copyGraph, copyReference, type CopyOptions, type CopyResult } from './copy/copy.js';
export { pack } from './pack/pack.js';
export type { PackOptions, PackedArtifact, PackProfile, PackStyle } from './pack/types.js';
export { extractArtifact, type ExtractOptions, type ExtractResult } from './pull/extract.js';
export { pushArtifact, type PushArtifactOptions, type PushResult } from './operations/push.js';
export { pullArtifact, type PullArtifactOptions, type PullResult } from './operations/pull.js';
export { inspectFile, inspectReference, type InspectReferenceResult } from './operations/inspect.js';
export { convertArtifact } from './operations/convert.js';
export { inspectWasm, sniffWasm } from './wasm/inspect.js';
export { checkProxyWasm } from './wasm/proxy-wasm.js';
export { generateRuntimeConfig, parseRuntimeConfig } from './wasm/runtime-config.js';
export { evaluateConsumers, type ConsumerVerdict } from './wasm/verdicts.js';
export type * from './wasm/types.js';
export { createRepository, createRegistry, type RemoteRepository, type RepositoryOptions } from './registry/index.js';
export { proxyConfigFromEnv, type ProxyConfig } from './registry/proxy-env.js';
export { createCredentialStore, login, logout } from './credentials/index.js';
export type { Credential, CredentialFunc } from './credentials/types.js';
export * from './render/index.js';
