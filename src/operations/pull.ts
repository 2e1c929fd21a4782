import { mapLimit } from '../content/concurrency.js';
import type { ReadOnlyTarget } from '../content/interfaces.js';
import type { Descriptor, ImageManifest, Platform } from '../oci/types.js';
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
  /** oras pull --include-subject: the subject of the artifact (and its subject...) into the same directory. */
  includeSubject?: boolean;
  /** oras pull -k/--keep-old-files. */
  keepOldFiles?: boolean;
  /** oras pull --config PATH[:mediatype]: the artifact's config written at PATH (not its subjects'). */
  configFile?: { name: string; mediaType?: string };
  /**
   * oras pull --platform (CopyOptions.WithTargetPlatform): the index entry of this platform
   * instead of the Wasm entry, and a manifest must be of it. Subjects are taken as they are.
   */
  platform?: Platform;
}

export interface PullResult extends ExtractResult {
  descriptor: Descriptor;
  manifest: ImageManifest;
  /** With includeSubject: what each subject in the chain wrote, nearest first. */
  subjects?: PullResult[];
}

/** Resolves a reference, picks the Wasm manifest of an index, and writes its files safely into `outputDir`. */
export async function pullArtifact(options: PullArtifactOptions): Promise<PullResult> {
  const { target, signal } = options;
  const { descriptor: desc, manifest } = await fetchArtifactManifest(target, options.reference, signal, options.platform);
  const result = await extractArtifact({
    manifest,
    fetcher: target,
    outputDir: options.outputDir,
    moduleSizeLimit: options.moduleSizeLimit,
    concurrency: options.concurrency,
    onProgress: options.onProgress,
    onWarning: options.onWarning,
    signal,
    keepOldFiles: options.keepOldFiles,
    configFile: options.configFile,
  });
  const pulled: PullResult = { ...result, descriptor: desc, manifest };
  if (!options.includeSubject) return pulled;
  // oras cmd/oras/root/pull.go (doPull, FindSuccessors): with --include-subject the subject is
  // one more node to pull, recursively. Each digest once: a subject chain a registry makes
  // cyclic ends.
  pulled.subjects = [];
  const visited = new Set([desc.digest]);
  for (let subject = manifest.subject; subject && !visited.has(subject.digest); ) {
    visited.add(subject.digest);
    // oras takes the config of the first manifest only (getConfigOnce).
    const next = await pullArtifact({ ...options, reference: subject.digest, includeSubject: false, configFile: undefined, platform: undefined });
    pulled.subjects.push(next);
    subject = next.manifest.subject;
  }
  return pulled;
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
  return mapLimit(
    items,
    options.concurrency ?? 4,
    (item, _i, signal) => pullArtifact({ ...item, signal: item.signal ? AbortSignal.any([item.signal, signal]) : signal }),
    { signal: options.signal },
  );
}
