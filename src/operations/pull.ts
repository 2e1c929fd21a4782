import type { ReadOnlyTarget } from '../content/interfaces.js';
import { fetchManifestBytes } from '../copy/copy.js';
import { WasmOciError } from '../errors.js';
import { parseManifestDocument } from '../oci/manifest.js';
import type { Descriptor, ImageManifest } from '../oci/types.js';
import { extractArtifact, type ExtractResult } from '../pull/extract.js';

export interface PullArtifactOptions {
  target: ReadOnlyTarget;
  /** Tag or digest. */
  reference: string;
  outputDir: string;
  concurrency?: number;
  moduleSizeLimit?: number;
  signal?: AbortSignal;
  onProgress?: (desc: Descriptor, done: number) => void;
  onResolved?: (desc: Descriptor) => void;
}

export interface PullResult extends ExtractResult {
  descriptor: Descriptor;
  manifest: ImageManifest;
}

/** Resolves a reference, picks the Wasm manifest of an index, and writes its files safely into `outputDir`. */
export async function pullArtifact(options: PullArtifactOptions): Promise<PullResult> {
  const { target, signal } = options;
  let desc = await target.resolve(options.reference, { signal });
  options.onResolved?.(desc);
  let doc = parseManifestDocument(await fetchManifestBytes(target, desc, signal), desc.mediaType);
  if (doc.kind === 'index') {
    const child = pickWasmManifest(doc.index.manifests);
    if (!child) throw new WasmOciError('E_UNSUPPORTED', `${options.reference} is an index with no manifest to pull`);
    desc = child;
    doc = parseManifestDocument(await fetchManifestBytes(target, desc, signal), desc.mediaType);
    if (doc.kind !== 'manifest') throw new WasmOciError('E_UNSUPPORTED', `${options.reference}: nested indexes are not supported`);
  }
  const result = await extractArtifact({
    manifest: doc.manifest,
    fetcher: target,
    outputDir: options.outputDir,
    moduleSizeLimit: options.moduleSizeLimit,
    concurrency: options.concurrency,
    onProgress: options.onProgress,
    signal,
  });
  return { ...result, descriptor: desc, manifest: doc.manifest };
}

/** A Wasm index entry (platform wasm/wasip1, wasip2) first, else the only entry. */
function pickWasmManifest(manifests: Descriptor[]): Descriptor | undefined {
  return manifests.find((m) => m.platform?.architecture === 'wasm') ?? (manifests.length === 1 ? manifests[0] : undefined);
}
