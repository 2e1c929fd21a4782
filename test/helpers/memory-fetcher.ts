import { createHash } from 'node:crypto';
import { Readable, Transform } from 'node:stream';
import type { Content, Fetcher, TransferOptions } from '../../src/content/interfaces.js';
import { WasmOciError } from '../../src/errors.js';
import { VerifyingStream } from '../../src/oci/digest.js';
import type { Descriptor } from '../../src/oci/types.js';

export interface MemoryFetcherOptions {
  /**
   * Verify what is served against the descriptor, as a real store does (default true). Off, it
   * serves whatever bytes were stored under a digest: a lying registry.
   */
  verify?: boolean;
  /** Bytes per chunk of the served stream (default 64 KiB), so consumers see several chunks. */
  chunkSize?: number;
}

/** A Fetcher over blobs held in memory, for unit tests of code that reads content. */
export class MemoryFetcher implements Fetcher {
  readonly blobs = new Map<string, Uint8Array>();
  /** Digests in the order they were fetched. */
  readonly fetched: string[] = [];
  private readonly verify: boolean;
  private readonly chunkSize: number;

  constructor(options: MemoryFetcherOptions = {}) {
    this.verify = options.verify ?? true;
    this.chunkSize = options.chunkSize ?? 64 * 1024;
  }

  /** Stores bytes under their own digest and returns a descriptor for them. */
  add(bytes: Uint8Array, mediaType: string, annotations?: Record<string, string>): Descriptor {
    const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
    this.blobs.set(digest, bytes);
    const desc: Descriptor = { mediaType, digest, size: bytes.byteLength };
    if (annotations) desc.annotations = annotations;
    return desc;
  }

  /** Stores bytes under any digest (for hostile cases: content that does not match). */
  put(digest: string, bytes: Uint8Array): void {
    this.blobs.set(digest, bytes);
  }

  /** Reads packed content (bytes or a stream factory) and stores it under `desc.digest`. */
  async addContent(desc: Descriptor, content: Content): Promise<void> {
    this.blobs.set(desc.digest, await readContent(content));
  }

  async fetch(desc: Descriptor, options: TransferOptions = {}): Promise<Readable> {
    const bytes = this.blobs.get(desc.digest);
    if (bytes === undefined) throw new WasmOciError('E_NOT_FOUND', `blob ${desc.digest} not found`);
    this.fetched.push(desc.digest);
    const size = this.chunkSize;
    let done = 0;
    const chunks = (function* () {
      for (let i = 0; i < bytes.byteLength; i += size) yield Buffer.from(bytes.subarray(i, i + size));
    })();
    const source = Readable.from(chunks, { objectMode: false });
    const progress = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        done += chunk.length;
        options.onProgress?.(desc, done);
        cb(null, chunk);
      },
    });
    source.on('error', (err) => progress.destroy(err));
    const counted = source.pipe(progress);
    if (!this.verify) return counted;
    const verify = new VerifyingStream({ digest: desc.digest, size: desc.size });
    counted.on('error', (err) => verify.destroy(err));
    return counted.pipe(verify);
  }
}

export async function readContent(content: Content): Promise<Buffer> {
  if (content instanceof Uint8Array) return Buffer.from(content);
  const stream = await content();
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
