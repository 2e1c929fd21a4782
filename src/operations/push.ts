import type { Target } from '../content/interfaces.js';
import { mapLimit } from '../content/concurrency.js';
import { tagAll } from '../copy/copy.js';
import type { Descriptor, ImageManifest } from '../oci/types.js';
import { pack } from '../pack/pack.js';
import type { PackOptions } from '../pack/types.js';
import type { WasmInfo } from '../wasm/types.js';

export interface PushArtifactOptions {
  target: Target;
  /** Tags to point at the manifest; empty pushes by digest only. */
  tags: string[];
  pack: PackOptions;
  concurrency?: number;
  signal?: AbortSignal;
  onProgress?: (desc: Descriptor, done: number) => void;
  onBlob?: (desc: Descriptor, action: 'uploaded' | 'exists') => void;
}

export interface PushResult {
  descriptor: Descriptor;
  manifest: ImageManifest;
  manifestBytes: Uint8Array;
  tags: string[];
  blobs: Array<{ descriptor: Descriptor; action: 'uploaded' | 'exists' }>;
  module?: WasmInfo;
}

/**
 * Packs files into an artifact and pushes it: blobs first (in parallel, skipping those the
 * target has), then the manifest, so no tag ever points at a manifest whose blobs are missing.
 */
export async function pushArtifact(options: PushArtifactOptions): Promise<PushResult> {
  const { target, signal } = options;
  const packed = await pack(options.pack);
  try {
    // The solo profile's config is also its first layer: report it under that layer's title.
    const titled = new Map(packed.manifest.layers.map((l) => [l.digest, l]));
    const blobs = packed.blobs.map((b) => ({ ...b, descriptor: titled.get(b.descriptor.digest) ?? b.descriptor }));
    const results = await mapLimit(blobs, options.concurrency ?? 3, async (blob) => {
      if (await target.exists(blob.descriptor, { signal })) {
        options.onBlob?.(blob.descriptor, 'exists');
        return { descriptor: blob.descriptor, action: 'exists' as const };
      }
      await target.push(blob.descriptor, blob.content, { signal, onProgress: options.onProgress });
      options.onBlob?.(blob.descriptor, 'uploaded');
      return { descriptor: blob.descriptor, action: 'uploaded' as const };
    });
    const desc = packed.manifestDescriptor;
    if (options.tags.length === 0) {
      await target.push(desc, packed.manifestBytes, { signal });
    } else {
      await tagAllAfterPush(target, desc, packed.manifestBytes, options.tags, signal);
    }
    return {
      descriptor: desc,
      manifest: packed.manifest,
      manifestBytes: packed.manifestBytes,
      tags: options.tags,
      blobs: results,
      module: packed.moduleInfo,
    };
  } finally {
    await packed.cleanup();
  }
}

async function tagAllAfterPush(target: Target, desc: Descriptor, bytes: Uint8Array, tags: string[], signal?: AbortSignal): Promise<void> {
  // A registry stores the manifest with its first tag in one PUT; a layout stores it, then tags.
  if (!('pushReference' in target)) await target.push(desc, bytes, { signal });
  await tagAll(target, desc, bytes, tags, signal);
}
