import { createReadStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MEDIA_TYPES } from '../oci/media-types.js';
import type { OciImageConfig } from '../oci/types.js';
import { writeCompatLayer } from './compat-layer.js';
import { fileContent } from './file-blob.js';
import { encodeGoJson } from './go-json.js';
import { assembleProfile, fileAnnotations, formatCreated, makeDescriptor } from './manifest-parts.js';
import { loadModule, resolveRuntimeConfig } from './module-input.js';
import { RUNTIME_CONFIG_TITLE } from './profile-solo.js';
import type { PackedArtifact, PackOptions } from './types.js';

export const COMPAT_MODULE_NAME = 'plugin.wasm';
/** The tar's mtime: fixed, so the same module always gives the same layer digest. */
export const COMPAT_MTIME = new Date(0);

/**
 * Istio "compat" variant: a plain image whose last layer is a gzip tar holding `plugin.wasm`,
 * loadable by anything that takes container images. The layer has no title: it is a filesystem
 * layer, unpacked on pull, not a file.
 */
export async function packCompat(modulePath: string, options: PackOptions, created: Date): Promise<PackedArtifact> {
  const module = await loadModule(modulePath, options);
  const runtimeConfig = await resolveRuntimeConfig({
    path: options.runtimeConfig,
    module,
    rootIds: options.rootIds,
    onWarning: options.onWarning,
  });
  const dir = await mkdtemp(join(options.tempDir ?? tmpdir(), 'wasm-oci-pack-'));
  const cleanup = () => rm(dir, { recursive: true, force: true });
  try {
    const layerPath = join(dir, 'layer.tar.gz');
    const layerInfo = await writeCompatLayer(
      layerPath,
      [
        { name: COMPAT_MODULE_NAME, size: module.size, content: () => createReadStream(modulePath, { highWaterMark: 1024 * 1024 }) },
        { name: RUNTIME_CONFIG_TITLE, size: runtimeConfig.byteLength, content: runtimeConfig },
      ],
      { mtime: COMPAT_MTIME, signal: options.signal },
    );
    // image-spec config.md field order: created, architecture, os, rootfs.
    const doc: OciImageConfig = {
      created: formatCreated(created),
      architecture: 'wasm',
      os: module.kind === 'component' ? 'wasip2' : 'wasip1',
      rootfs: { type: 'layers', diff_ids: [layerInfo.diffId] },
    };
    return assembleProfile({
      style: 'compat',
      configMediaType: MEDIA_TYPES.ociConfig,
      configBytes: encodeGoJson(doc),
      layers: () => [
        {
          descriptor: makeDescriptor(MEDIA_TYPES.ociLayerTarGzip, layerInfo.digest, layerInfo.size, {
            annotations: fileAnnotations(undefined, options.annotations, [modulePath, module.title]),
          }),
          content: fileContent(layerPath),
          name: `${module.title} (tar+gzip)`,
        },
      ],
      options,
      created,
      moduleInfo: module.info,
      cleanup,
    });
  } catch (err) {
    await cleanup();
    throw err;
  }
}
