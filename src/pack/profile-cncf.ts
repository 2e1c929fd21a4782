import { digestOf } from '../oci/digest.js';
import { MEDIA_TYPES } from '../oci/media-types.js';
import type { CncfWasmConfig } from '../oci/types.js';
import { ANNOTATION_CONFIG_KEY } from './annotations.js';
import { fileContent } from './file-blob.js';
import { encodeGoJson } from './go-json.js';
import { fileAnnotations, finishArtifact, formatCreated, makeDescriptor, makeManifest, manifestAnnotations } from './manifest-parts.js';
import { loadModule } from './module-input.js';
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
  const configBytes = encodeGoJson(doc);
  const config = makeDescriptor(MEDIA_TYPES.cncfWasmConfig, digestOf(configBytes), configBytes.byteLength, {
    annotations: options.annotations?.[ANNOTATION_CONFIG_KEY],
  });
  const layer = makeDescriptor(MEDIA_TYPES.cncfWasmLayer, module.digest, module.size, {
    annotations: fileAnnotations(module.title, options.annotations, [modulePath, module.title]),
  });
  const manifest = makeManifest({
    artifactType: options.artifactType,
    config,
    layers: [layer],
    annotations: manifestAnnotations(options.annotations, created),
  });
  return finishArtifact({
    style: 'cncf',
    manifest,
    config: { descriptor: config, bytes: configBytes },
    blobs: [
      { descriptor: config, content: configBytes, name: 'config' },
      { descriptor: layer, content: fileContent(modulePath), name: module.title },
    ],
    moduleInfo: module.info,
  });
}
