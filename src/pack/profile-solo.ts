import { digestOf } from '../oci/digest.js';
import { MEDIA_TYPES } from '../oci/media-types.js';
import { ANNOTATION_CONFIG_KEY } from './annotations.js';
import { fileContent } from './file-blob.js';
import { fileAnnotations, finishArtifact, makeDescriptor, makeManifest, manifestAnnotations } from './manifest-parts.js';
import { loadModule, resolveRuntimeConfig } from './module-input.js';
import type { PackedArtifact, PackOptions } from './types.js';

export const RUNTIME_CONFIG_TITLE = 'runtime-config.json';

/**
 * Solo.io / wasme format (istio pkg/wasm "oci" variant): config = runtime config, and exactly two
 * layers, the runtime config again then the module. Istio refuses any other layer count.
 */
export async function packSolo(modulePath: string, options: PackOptions, created: Date): Promise<PackedArtifact> {
  const module = await loadModule(modulePath, options);
  const configBytes = await resolveRuntimeConfig({
    path: options.runtimeConfig,
    module,
    rootIds: options.rootIds,
    onWarning: options.onWarning,
  });
  const configDigest = digestOf(configBytes);
  const config = makeDescriptor(MEDIA_TYPES.soloWasmConfig, configDigest, configBytes.byteLength, {
    annotations: options.annotations?.[ANNOTATION_CONFIG_KEY],
  });
  const configLayer = makeDescriptor(MEDIA_TYPES.soloWasmConfig, configDigest, configBytes.byteLength, {
    annotations: fileAnnotations(RUNTIME_CONFIG_TITLE, options.annotations, [RUNTIME_CONFIG_TITLE]),
  });
  const moduleLayer = makeDescriptor(MEDIA_TYPES.soloWasmLayer, module.digest, module.size, {
    annotations: fileAnnotations(module.title, options.annotations, [modulePath, module.title]),
  });
  const manifest = makeManifest({
    artifactType: options.artifactType,
    config,
    layers: [configLayer, moduleLayer],
    annotations: manifestAnnotations(options.annotations, created),
  });
  return finishArtifact({
    style: 'solo',
    manifest,
    config: { descriptor: config, bytes: configBytes },
    blobs: [
      { descriptor: config, content: configBytes, name: RUNTIME_CONFIG_TITLE },
      { descriptor: moduleLayer, content: fileContent(modulePath), name: module.title },
    ],
    moduleInfo: module.info,
  });
}
