import { createHash, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';

/** Pass-through that hashes (sha256) and counts what flows, for blobs we produce ourselves. */
export class HashingStream extends Transform {
  readonly hash: Hash = createHash('sha256');
  bytes = 0;

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.hash.update(chunk);
    this.bytes += chunk.length;
    cb(null, chunk);
  }

  /** `sha256:<hex>`; call once, after the stream has finished. */
  digest(): string {
    return `sha256:${this.hash.digest('hex')}`;
  }
}
