import { mapLimit } from '../content/concurrency.js';
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

export interface PullManyOptions {
  /** Artifacts pulled at once (each also moves its own blobs in parallel). */
  concurrency?: number;
  signal?: AbortSignal;
}

/**
 * Several artifacts in one run, for CI jobs and node agents that move many filters: the targets
 * share what their caller made them share (one registry context: connections, tokens). The first
 * failure stops the others and is thrown; artifacts already written stay, complete and verified.
 */
export async function pullArtifacts(items: readonly PullArtifactOptions[], options: PullManyOptions = {}): Promise<PullResult[]> {
  const stop = new AbortController();
  const onAbort = (): void => stop.abort(options.signal?.reason);
  options.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    return await mapLimit(items, options.concurrency ?? 4, async (item) => {
      try {
        return await pullArtifact({ ...item, signal: item.signal ? AbortSignal.any([item.signal, stop.signal]) : stop.signal });
      } catch (err) {
        stop.abort(err);
        throw err;
      }
    });
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
  }
}
