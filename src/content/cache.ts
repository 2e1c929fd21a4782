import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, open, rename, rm, type FileHandle } from 'node:fs/promises';
import { createHash, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { pipeline, Transform, type Readable, type TransformCallback } from 'node:stream';
import { isWasmOciError, WasmOciError } from '../errors.js';
import { parseDigest, VerifyingStream } from '../oci/digest.js';
import { isIndexMediaType, isManifestMediaType } from '../oci/media-types.js';
import type { Descriptor } from '../oci/types.js';
import type { ReadOnlyTarget, TransferOptions } from './interfaces.js';

export interface BlobCacheOptions {
  /** A cache entry was unusable (corrupt, unreadable) or could not be written; the fetch went on without it. */
  onWarning?: (message: string) => void;
  /** One line per hit or miss, for `--debug`. */
  onDebug?: (line: string) => void;
}

/**
 * Wraps a source with a content-addressed blob cache, `DIR/<alg>/<hex>`, that CI jobs can keep
 * between runs (DESIGN.md section 6: temp file, verify, rename).
 *
 * - Only blobs (configs and layers) are cached. Manifests go to the source every time: a tag
 *   moves, and the manifest is what says which blobs are current.
 * - A hit is verified, not trusted: the entry is hashed before its first byte is served, because a
 *   consumer that has already received bytes cannot take them back; a corrupt entry is deleted and
 *   the blob fetched from the source instead, so the fetch still succeeds. The same open file is
 *   then served through a VerifyingStream (the second read comes from the page cache).
 * - A miss streams from the source to the caller and, on the way, into a temp file in the cache
 *   directory; the temp file is renamed into place only once the whole blob has passed digest and
 *   size verification. A failed or abandoned transfer leaves no entry behind.
 * - The cache is an optimisation: when it cannot be written (read-only, full disk) the blob is
 *   served from the source and a warning reported.
 */
/** Read size of the check of an entry (one buffer, reused). */
const HASH_READ_BYTES = 256 * 1024;
/** Chunks of an entry served to the caller: small, so few are alive at once (gc-pacer.ts). */
const SERVE_HIGH_WATER_MARK = 64 * 1024;

export function withBlobCache(target: ReadOnlyTarget, cacheDir: string, options: BlobCacheOptions = {}): ReadOnlyTarget {
  return new BlobCache(target, cacheDir, options);
}

/** Where the cache keeps `digest`: `DIR/sha256/<hex>`. */
export function blobCachePath(cacheDir: string, digest: string): string {
  const { algorithm, hex } = parseDigest(digest);
  return join(cacheDir, algorithm, hex);
}

class BlobCache implements ReadOnlyTarget {
  constructor(
    private readonly upstream: ReadOnlyTarget,
    private readonly dir: string,
    private readonly options: BlobCacheOptions,
  ) {}

  resolve(reference: string, options?: { signal?: AbortSignal }): Promise<Descriptor> {
    return this.upstream.resolve(reference, options);
  }

  /** Existence is a question about the source (a repository), not about what this machine has seen. */
  exists(desc: Descriptor, options?: { signal?: AbortSignal }): Promise<boolean> {
    return this.upstream.exists(desc, options);
  }

  async fetch(desc: Descriptor, options: TransferOptions = {}): Promise<Readable> {
    if (isManifestMediaType(desc.mediaType) || isIndexMediaType(desc.mediaType)) return this.upstream.fetch(desc, options);
    const path = blobCachePath(this.dir, desc.digest);
    const hit = await this.openVerified(path, desc, options);
    if (hit) {
      this.options.onDebug?.(`cache hit ${desc.digest} (${path})`);
      return hit;
    }
    this.options.onDebug?.(`cache miss ${desc.digest}`);
    return this.fetchAndStore(path, desc, options);
  }

  /** The entry as a verified stream, or undefined when there is none or it was corrupt (then deleted). */
  private async openVerified(path: string, desc: Descriptor, options: TransferOptions): Promise<Readable | undefined> {
    let handle: FileHandle;
    try {
      handle = await open(path, 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
        this.options.onWarning?.(`cannot read cache entry ${path}: ${(err as Error).message}; fetching from the source`);
      }
      return undefined;
    }
    let served = false;
    try {
      const { size } = await handle.stat();
      if (size !== desc.size) {
        await this.discard(path, desc, `it has ${size} bytes, the descriptor says ${desc.size}`);
        return undefined;
      }
      try {
        await hashEntry(handle, desc, options.signal);
      } catch (err) {
        if (options.signal?.aborted) throw new WasmOciError('E_CANCELLED', 'cancelled', { cause: err });
        if (isWasmOciError(err) && (err.code === 'E_DIGEST_MISMATCH' || err.code === 'E_SIZE_MISMATCH')) {
          await this.discard(path, desc, err.message);
        } else {
          this.options.onWarning?.(`cannot read cache entry ${path}: ${(err as Error).message}; fetching from the source`);
        }
        return undefined;
      }
      // Serve the same open file: a concurrent replacement of the entry cannot swap it under us.
      const file = createReadStream('', { fd: handle, start: 0, autoClose: true, highWaterMark: SERVE_HIGH_WATER_MARK, signal: options.signal });
      served = true;
      const verify = new VerifyingStream({ digest: desc.digest, size: desc.size });
      if (options.onProgress) {
        const onProgress = options.onProgress;
        verify.on('data', () => onProgress(desc, verify.bytes));
      }
      return pipeline(file, verify, () => undefined);
    } finally {
      if (!served) await handle.close().catch(() => undefined);
    }
  }

  private async discard(path: string, desc: Descriptor, why: string): Promise<void> {
    this.options.onWarning?.(`cache entry for ${desc.digest} is corrupt (${why}); removed it and fetching from the source`);
    await rm(path, { force: true });
  }

  private async fetchAndStore(path: string, desc: Descriptor, options: TransferOptions): Promise<Readable> {
    const source = await this.upstream.fetch(desc, options);
    let temp: string | undefined;
    let file: WriteStream | undefined;
    try {
      await mkdir(join(path, '..'), { recursive: true });
      temp = join(path, '..', `.${parseDigest(desc.digest).hex}.${randomBytes(6).toString('hex')}.tmp`);
      file = createWriteStream(temp, { flags: 'wx' });
      await new Promise<void>((resolve, reject) => {
        file!.once('open', () => resolve());
        file!.once('error', reject);
      });
    } catch (err) {
      this.options.onWarning?.(`cannot write to the cache ${this.dir}: ${(err as Error).message}; continuing without caching ${desc.digest}`);
      file?.destroy();
      if (temp) await rm(temp, { force: true });
      return source;
    }
    // The source store verifies what it serves; the cache verifies again, as it must not trust
    // any Fetcher implementation to do so before an entry becomes permanent.
    const verify = new VerifyingStream({ digest: desc.digest, size: desc.size });
    const tee = new CacheTee(file, temp, path, (m) => this.options.onWarning?.(m));
    return pipeline(source, verify, tee, (err) => {
      if (err) void tee.abandon();
    });
  }
}

/**
 * Hashes the entry, reading into one buffer reused for every read (checking a 1 GiB entry
 * allocates nothing more), and fails as a VerifyingStream would: E_SIZE_MISMATCH when the file
 * does not hold `desc.size` bytes, E_DIGEST_MISMATCH when its digest differs.
 */
async function hashEntry(handle: FileHandle, desc: Descriptor, signal: AbortSignal | undefined): Promise<void> {
  const { algorithm } = parseDigest(desc.digest);
  const hash = createHash(algorithm);
  const buf = Buffer.allocUnsafe(HASH_READ_BYTES);
  let position = 0;
  for (;;) {
    if (signal?.aborted) throw new WasmOciError('E_CANCELLED', 'cancelled');
    const { bytesRead } = await handle.read(buf, 0, buf.length, position);
    if (bytesRead === 0) break;
    position += bytesRead;
    if (position > desc.size) break;
    hash.update(buf.subarray(0, bytesRead));
  }
  if (position !== desc.size) {
    throw new WasmOciError('E_SIZE_MISMATCH', `size mismatch: expected ${desc.size} bytes, got ${position > desc.size ? 'more' : position}`, { details: { expected: desc.size, actual: position } });
  }
  const got = `${algorithm}:${hash.digest('hex')}`;
  if (got !== desc.digest) {
    throw new WasmOciError('E_DIGEST_MISMATCH', `digest mismatch: expected ${desc.digest}, got ${got}`, { details: { expected: desc.digest, actual: got } });
  }
}

/**
 * Passes bytes through to the caller and writes each chunk to the temp file first (so the file
 * keeps pace, with backpressure). Placed after the VerifyingStream: its flush runs only when the
 * blob has ended verified, and only then is the temp file renamed into the cache. A write error
 * stops the caching, never the transfer.
 */
class CacheTee extends Transform {
  private caching = true;
  private settled = false;

  constructor(
    private readonly file: WriteStream,
    private readonly temp: string,
    private readonly entry: string,
    private readonly warn: (message: string) => void,
  ) {
    super();
    file.on('error', () => undefined);
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    if (!this.caching) {
      cb(null, chunk);
      return;
    }
    this.file.write(chunk, (err) => {
      if (err) this.stopCaching(err);
      cb(null, chunk);
    });
  }

  override _flush(cb: TransformCallback): void {
    if (!this.caching) {
      cb();
      return;
    }
    this.file.end(() => {
      rename(this.temp, this.entry).then(
        () => {
          this.settled = true;
          cb();
        },
        (err: Error) => {
          this.stopCaching(err);
          cb();
        },
      );
    });
  }

  override _destroy(err: Error | null, cb: (error: Error | null) => void): void {
    void this.abandon().finally(() => cb(err));
  }

  /** Removes the temp file unless it became the entry. Safe to call more than once. */
  async abandon(): Promise<void> {
    if (this.settled) return;
    this.settled = true;
    this.caching = false;
    this.file.destroy();
    await rm(this.temp, { force: true }).catch(() => undefined);
  }

  private stopCaching(err: Error): void {
    if (!this.caching) return;
    this.warn(`cannot write to the cache: ${err.message}; continuing without caching`);
    void this.abandon();
  }
}
