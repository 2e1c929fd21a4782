import { MEDIA_TYPES } from '../oci/media-types.js';
import { assembleProfile, fileAnnotations, makeDescriptor } from './manifest-parts.js';
import { loadModule, moduleLayer, resolveRuntimeConfig } from './module-input.js';
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
  return assembleProfile({
    style: 'solo',
    configMediaType: MEDIA_TYPES.soloWasmConfig,
    configBytes,
    layers: (config) => [
      {
        descriptor: makeDescriptor(MEDIA_TYPES.soloWasmConfig, config.digest, config.size, {
          annotations: fileAnnotations(RUNTIME_CONFIG_TITLE, options.annotations, [RUNTIME_CONFIG_TITLE]),
        }),
        content: configBytes,
        name: RUNTIME_CONFIG_TITLE,
      },
      moduleLayer(MEDIA_TYPES.soloWasmLayer, module, options),
    ],
    options,
    created,
    moduleInfo: module.info,
  });
}
