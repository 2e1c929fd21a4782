import type { ReadOnlyTarget } from '../content/interfaces.js';
import type { Descriptor, ImageManifest } from '../oci/types.js';
import { extractArtifact, type ExtractResult } from '../pull/extract.js';
import { fetchArtifactManifest } from './manifest.js';

export interface PullArtifactOptions {
  target: ReadOnlyTarget;
  /** Tag or digest. */
  reference: string;
  outputDir: string;
  concurrency?: number;
  moduleSizeLimit?: number;
  signal?: AbortSignal;
  onProgress?: (desc: Descriptor, done: number) => void;
  onWarning?: (message: string) => void;
}

export interface PullResult extends ExtractResult {
  descriptor: Descriptor;
  manifest: ImageManifest;
}

/** Resolves a reference, picks the Wasm manifest of an index, and writes its files safely into `outputDir`. */
export async function pullArtifact(options: PullArtifactOptions): Promise<PullResult> {
  const { target, signal } = options;
  const { descriptor: desc, manifest } = await fetchArtifactManifest(target, options.reference, signal);
  const result = await extractArtifact({
    manifest,
    fetcher: target,
    outputDir: options.outputDir,
    moduleSizeLimit: options.moduleSizeLimit,
    concurrency: options.concurrency,
    onProgress: options.onProgress,
    onWarning: options.onWarning,
    signal,
  });
  return { ...result, descriptor: desc, manifest };
}
