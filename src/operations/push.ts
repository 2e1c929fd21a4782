import { createReadStream } from 'node:fs';
import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { hasUnknownPusher, type Target } from '../content/interfaces.js';
import { mapLimit } from '../content/concurrency.js';
import { fileStamp, type FileDigestMemo } from '../content/digest-memo.js';
import { isWasmOciError, WasmOciError } from '../errors.js';
import { ANNOTATIONS, LIMITS } from '../oci/media-types.js';
import { storeRoot } from '../copy/copy.js';
import type { Descriptor, ImageManifest } from '../oci/types.js';
import { pack, packStyleOf } from '../pack/pack.js';
import { readHead } from '../pack/file-blob.js';
import { orasTitle } from '../pack/oras-style.js';
import { sniffWasm } from '../wasm/inspect.js';
import type { PackOptions } from '../pack/types.js';
import type { WasmInfo } from '../wasm/types.js';
import type { LinkCheck } from '../wasm/link-check.js';
import { v8LinkCheck } from '../host/link-check.js';
import { INSPECT_LIMIT } from '../pack/module-input.js';

export interface PushArtifactOptions {
  target: Target;
  /** Tags to point at the manifest; empty pushes by digest only. */
  tags: string[];
  pack: PackOptions;
  concurrency?: number;
  signal?: AbortSignal;
  onProgress?: (desc: Descriptor, done: number) => void;
  onBlob?: (desc: Descriptor, action: 'uploaded' | 'exists') => void;
  /**
   * The pre-check of a proxy-wasm module (issue 12 item 4): V8 links it against the host table
   * before anything is sent. A refusal is a warning (pack.onWarning), or with `strict` the error.
   */
  linkCheck?: LinkCheck;
  strict?: boolean;
  /** Digests of big files from earlier pushes: an unchanged one is asked about (HEAD) instead of sent again. */
  digestMemo?: FileDigestMemo;
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
  const { uploaded: early, known } = await pushLargeFilesInOnePass(options);
  const packed = await pack({ ...options.pack, digests: new Map([...known, ...early]) });
  const earlyDigests = new Set([...early.values()].map((d) => d.digest));
  try {
    // Registries (distribution's 4 MiB manifest limit) and every reader, ours included, refuse a
    // bigger manifest: say so before any blob is sent, not after the tag points at it.
    if (packed.manifestBytes.byteLength > LIMITS.manifestBytes) {
      throw new WasmOciError('E_SIZE_LIMIT', `the manifest would be ${packed.manifestBytes.byteLength} bytes, over the ${LIMITS.manifestBytes}-byte limit for manifests`, {
        hint: 'annotations are stored in the manifest: move large data into a file layer instead',
      });
    }
    await precheckLink(options, packed.moduleInfo);
    // The solo profile's config is also its first layer: report it under that layer's title.
    const titled = new Map(packed.manifest.layers.map((l) => [l.digest, l]));
    const blobs = packed.blobs.map((b) => ({ ...b, descriptor: titled.get(b.descriptor.digest) ?? b.descriptor }));
    const results = await mapLimit(blobs, options.concurrency ?? 3, async (blob, _i, blobSignal) => {
      if (earlyDigests.has(blob.descriptor.digest)) return { descriptor: blob.descriptor, action: 'uploaded' as const };
      if (await target.exists(blob.descriptor, { signal: blobSignal })) {
        options.onBlob?.(blob.descriptor, 'exists');
        return { descriptor: blob.descriptor, action: 'exists' as const };
      }
      await target.push(blob.descriptor, blob.content, { signal: blobSignal, onProgress: options.onProgress });
      options.onBlob?.(blob.descriptor, 'uploaded');
      return { descriptor: blob.descriptor, action: 'uploaded' as const };
    }, { signal });
    const desc = packed.manifestDescriptor;
    await storeRoot(target, desc, packed.manifestBytes, options.tags, false, signal);
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

/** Envoy would refuse a module that does not link: say so before the push, not in the mesh. */
async function precheckLink(options: PushArtifactOptions, info: WasmInfo | undefined): Promise<void> {
  if (info?.kind !== 'module' || info.proxyWasm === undefined) return;
  let bytes: Uint8Array | undefined;
  for (const file of options.pack.files) {
    // Only the file pack inspected has the module's size: the others are never read here.
    const size = await stat(file.path).then((s) => s.size, () => -1);
    if (size !== info.size || size > INSPECT_LIMIT) continue;
    const candidate = new Uint8Array(await readFile(file.path));
    if (createHash('sha256').update(candidate).digest('hex') === info.sha256) {
      bytes = candidate;
      break;
    }
  }
  if (bytes === undefined) return;
  const link = await (options.linkCheck ?? v8LinkCheck)(bytes);
  if (link.ok) return;
  const reasons = link.problems && link.problems.length > 0 ? link.problems.map((p) => p.message).join('; ') : link.reason ?? 'V8 refuses to link it';
  if (options.strict) {
    throw new WasmOciError('E_WASM_LINK', `Envoy (V8) refuses the module: ${reasons}`, {
      hint: 'Nothing was pushed. `wasm-oci inspect FILE` shows each import and export Envoy checks.',
    });
  }
  options.pack.onWarning?.(`Envoy (V8) would refuse the module: ${reasons} (push --strict makes this an error)`);
}

/** Files at least this large are uploaded while they are hashed, instead of hashed and then uploaded. */
export const SINGLE_PASS_MIN_BYTES = 64 * 1024 * 1024;

/**
 * Uploads each large file of the artifact in one pass (the target hashes it on the way) before
 * the manifest is built from the digests that come back: a second read of a 1 GiB layer costs as
 * much as a sixth of the upload. The price is no "exists" check for those files (it needs the
 * digest first), except for a file the digest memo knows unchanged since an earlier push: that
 * one takes the ordinary path, HEAD first. A failure here is not fatal: the file then goes the ordinary, retried way.
 * The compat profile is left out: its layer is a tar built from the file, not the file.
 */
async function pushLargeFilesInOnePass(options: PushArtifactOptions): Promise<{ uploaded: Map<string, FileDigest>; known: Map<string, FileDigest> }> {
  const early = new Map<string, FileDigest>();
  const known = new Map<string, FileDigest>();
  const { target, signal } = options;
  if (!hasUnknownPusher(target) || packStyleOf(options.pack) === 'compat') return { uploaded: early, known };
  const style = packStyleOf(options.pack);
  const large: Array<{ path: string; mediaType?: string; size: number }> = [];
  for (const file of options.pack.files) {
    const size = await stat(file.path).then((s) => (s.isFile() ? s.size : 0), () => 0);
    if (size < SINGLE_PASS_MIN_BYTES || large.some((f) => f.path === file.path)) continue;
    // pack() refuses these; they must not be uploaded first (leaving an orphan blob behind).
    if (style === 'oras') orasTitle(file.path, false, options.pack.disablePathValidation === true);
    else if (sniffWasm(await readHead(file.path, 8)) === undefined) continue;
    // Hashed by an earlier push and unchanged since: the ordinary path asks the registry first.
    const memo = await options.digestMemo?.lookup(file.path);
    if (memo !== undefined && memo.size === size) {
      known.set(file.path, memo);
      continue;
    }
    large.push({ ...file, size });
  }
  await mapLimit(large, options.concurrency ?? 3, async (file, _i, fileSignal) => {
    const pending = {
      mediaType: file.mediaType ?? 'application/octet-stream',
      digest: `pending:${file.path}`,
      size: file.size,
      annotations: { [ANNOTATIONS.title]: file.path },
    };
    try {
      const stamp = options.digestMemo ? await fileStamp(file.path) : undefined;
      const desc = await target.pushUnknown(pending.mediaType, createReadStream(file.path, { highWaterMark: 256 * 1024 }), {
        signal: fileSignal,
        size: file.size,
        onProgress: options.onProgress ? (_d, done) => options.onProgress!(pending, done) : undefined,
      });
      early.set(file.path, { digest: desc.digest, size: desc.size });
      if (stamp !== undefined) await options.digestMemo!.remember(file.path, stamp, desc.digest);
      options.onBlob?.(pending, 'uploaded');
    } catch (err) {
      if (fileSignal.aborted || !isWasmOciError(err) || !['E_NETWORK', 'E_REGISTRY'].includes(err.code)) throw err;
      options.pack.onWarning?.(`one-pass upload of ${file.path} failed (${err.message}); uploading it the ordinary way`);
    }
  }, { signal });
  return { uploaded: early, known };
}

interface FileDigest {
  digest: string;
  size: number;
}
