import { MEDIA_TYPES } from '../oci/media-types.js';
import type { CncfWasmConfig } from '../oci/types.js';
import { encodeGoJson } from './go-json.js';
import { assembleProfile, formatCreated } from './manifest-parts.js';
import { loadModule, moduleLayer } from './module-input.js';
import type { PackedArtifact, PackOptions } from './types.js';

/**
 * CNCF TAG Runtime Wasm OCI artifact (as bytecodealliance/rust-oci-wasm writes it for wkg and
 * runwasi): config `application/vnd.wasm.config.v0+json` with `layerDigests` in layer order and,
 * for components, `component.exports/imports`; exactly one `application/wasm` layer. The manifest
 * carries no artifactType unless the user asks for one.
 */
export async function packCncf(modulePath: string, options: PackOptions, created: Date): Promise<PackedArtifact> {
  const module = await loadModule(modulePath, options);
  const isComponent = module.kind === 'component';
  // Field order of rust-oci-wasm's WasmConfig (serde), so tools comparing bytes see the familiar shape.
  const doc: CncfWasmConfig = {
    created: formatCreated(created),
    architecture: 'wasm',
    os: isComponent ? 'wasip2' : 'wasip1',
    layerDigests: [module.digest],
  };
  if (isComponent) {
    doc.component = {
      exports: (module.info?.exports ?? []).map((e) => e.name),
      imports: (module.info?.imports ?? []).map((i) => i.name),
    };
  }
  return assembleProfile({
    style: 'cncf',
    configMediaType: MEDIA_TYPES.cncfWasmConfig,
    configBytes: encodeGoJson(doc),
    layers: () => [
      moduleLayer(MEDIA_TYPES.cncfWasmLayer, module, options),
    ],
    options,
    created,
    moduleInfo: module.info,
  });
}
