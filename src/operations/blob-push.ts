import type { Readable } from 'node:stream';
import { WasmOciError } from '../errors.js';
import { hasUnknownPusher, type Target } from '../content/interfaces.js';
import { parseDigest } from '../oci/digest.js';
import type { Descriptor } from '../oci/types.js';
import { digestFile, fileContent, statRegularFile } from '../pack/file-blob.js';

/** oras blob push's default (cmd/oras/root/blob/push.go, --media-type). */
export const DEFAULT_BLOB_MEDIA_TYPE = 'application/octet-stream';

export type BlobSource = { path: string } | { stream: Readable };

export interface BlobPushOptions {
  /** The digest the reference names (`NAME@sha256:...`): the content must hash to it. */
  digest?: string;
  /** `--size`: the content must have exactly this many bytes (required for a stream). */
  size?: number;
  mediaType?: string;
  signal?: AbortSignal;
  onProgress?: (desc: Descriptor, done: number) => void;
}

/**
 * oras blob push (cmd/oras/root/blob/push.go pushBlob): digest and size are checked before a
 * byte is sent when they can be (a file is hashed first, so a wrong `@digest` or `--size`
 * uploads nothing), a blob the target has is not sent again, and the store verifies both
 * while the bytes stream. From a stream (stdin), `--size` is required as oras requires it;
 * without a digest the target hashes on the way where it can.
 */
export async function pushBlob(target: Target, source: BlobSource, options: BlobPushOptions = {}): Promise<{ descriptor: Descriptor; existed: boolean }> {
  const mediaType = options.mediaType ?? DEFAULT_BLOB_MEDIA_TYPE;
  const { signal } = options;
  if (options.digest) parseDigest(options.digest);
  if (options.size !== undefined && (!Number.isSafeInteger(options.size) || options.size < 0)) throw new WasmOciError('E_USAGE', '--size must be a non-negative integer');
  if ('path' in source) {
    const { size } = await statRegularFile(source.path);
    if (options.size !== undefined && options.size !== size) {
      throw new WasmOciError('E_SIZE_MISMATCH', `${source.path} has ${size} bytes, --size says ${options.size}`);
    }
    const computed = await digestFile(source.path, signal);
    if (options.digest && computed.digest !== options.digest) {
      throw new WasmOciError('E_DIGEST_MISMATCH', `${source.path} has digest ${computed.digest}, the reference says ${options.digest}`, { details: { expected: options.digest, actual: computed.digest } });
    }
    const descriptor: Descriptor = { mediaType, digest: computed.digest, size };
    if (await target.exists(descriptor, { signal })) return { descriptor, existed: true };
    await target.push(descriptor, fileContent(source.path), { signal, onProgress: options.onProgress });
    return { descriptor, existed: false };
  }
  if (options.size === undefined) throw new WasmOciError('E_USAGE', '`--size` must be provided if the blob is read from stdin');
  if (options.digest) {
    const descriptor: Descriptor = { mediaType, digest: options.digest, size: options.size };
    if (await target.exists(descriptor, { signal })) {
      source.stream.resume();
      return { descriptor, existed: true };
    }
    let opened = false;
    await target.push(descriptor, () => {
      // stdin can be read once: a retry cannot replay it.
      if (opened) throw new WasmOciError('E_NETWORK', 'the upload from stdin failed and stdin cannot be read again');
      opened = true;
      return source.stream;
    }, { signal, onProgress: options.onProgress });
    return { descriptor, existed: false };
  }
  if (!hasUnknownPusher(target)) throw new WasmOciError('E_USAGE', 'a blob from stdin needs its digest: NAME@sha256:...');
  const descriptor = await target.pushUnknown(mediaType, source.stream, { signal, size: options.size, onProgress: options.onProgress });
  return { descriptor, existed: false };
}
