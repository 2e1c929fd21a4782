import type { ReadOnlyTarget } from '../content/interfaces.js';
import { WasmOciError } from '../errors.js';
import { LIMITS } from '../oci/media-types.js';
import type { Descriptor, ImageManifest } from '../oci/types.js';
import { planExtraction, type ExtractJob } from '../pull/extract-plan.js';
import { extractFromTarLayer, loadTarStream } from '../pull/tar-module.js';
import { streamVerifiedToFile, writeAtomically, type WrittenFile } from './write.js';

/** The layer the module comes from, picked by pull's own rule (every format pull reads). */
export interface ModuleSource {
  layer: Descriptor;
  /** A gzip tar to take `plugin.wasm` from (the compat variant), instead of the layer itself. */
  fromTar: boolean;
}

/**
 * Which layer holds the module, by planExtraction (src/pull/extract-plan.ts): the first Wasm
 * layer, else plugin.wasm from a last gzip tar layer, else the first titled `*.wasm` file. An
 * artifact without one is refused; so is a module layer over `moduleSizeLimit`.
 */
export function pickModuleLayer(manifest: ImageManifest, moduleSizeLimit: number = LIMITS.moduleBytes): ModuleSource {
  const plan = planExtraction(manifest);
  const job = plan.jobs.find((j: ExtractJob) => (j.kind === 'file' ? j.isModule : j.kind === 'tar' && j.wantModule));
  if (!job) {
    throw new WasmOciError('E_UNSUPPORTED', 'the artifact has no Wasm module: no Wasm layer, no gzip tar with plugin.wasm, no titled *.wasm file', {
      hint: 'Inspect it with `wasm-oci inspect REF` to see its layers.',
    });
  }
  if (job.kind === 'file' && job.desc.size > moduleSizeLimit) {
    throw new WasmOciError('E_SIZE_LIMIT', `the module layer is ${job.desc.size} bytes, over the limit of ${moduleSizeLimit}`);
  }
  return { layer: job.desc, fromTar: job.kind === 'tar' };
}

export interface WriteModuleOptions {
  target: ReadOnlyTarget;
  module: ModuleSource;
  dir: string;
  fileName: string;
  moduleSizeLimit?: number;
  signal?: AbortSignal;
  onBytes?: (n: number) => void;
  beforeRename?: (tempPath: string) => Promise<void> | void;
}

/** Fetches the module's layer and writes the module to `dir/fileName` atomically, verified on the way. */
export async function writeModuleFile(options: WriteModuleOptions): Promise<WrittenFile> {
  const { target, module, signal } = options;
  const limit = options.moduleSizeLimit ?? LIMITS.moduleBytes;
  return writeAtomically({
    dir: options.dir,
    fileName: options.fileName,
    signal,
    beforeRename: options.beforeRename,
    fill: async (tempPath, sig) => {
      if (!module.fromTar) {
        const source = await target.fetch(module.layer, { signal: sig });
        return streamVerifiedToFile(source, tempPath, { digest: module.layer.digest, size: module.layer.size }, sig, options.onBytes);
      }
      // Loaded before the stream opens: bytes flowing during an await would be lost.
      await loadTarStream();
      let seen = 0;
      const onProgress = (_d: Descriptor, done: number): void => {
        options.onBytes?.(done - seen);
        seen = done;
      };
      const source = await target.fetch(module.layer, { signal: sig, onProgress });
      const entries = await extractFromTarLayer(source, module.layer, {
        wantModule: true,
        wantRuntimeConfig: false,
        moduleSizeLimit: limit,
        tempFor: () => tempPath,
        ...(sig ? { signal: sig } : {}),
      });
      const entry = entries.find((e) => e.name === 'plugin.wasm');
      if (!entry) throw new WasmOciError('E_UNSUPPORTED', `the last layer ${module.layer.digest} is a gzip tar without plugin.wasm`);
      return { digest: entry.digest, size: entry.size };
    },
  });
}
