import { createHash, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { WasmOciError } from '../errors.js';
import { pacedTransfer } from '../content/gc-pacer.js';

export type DigestAlgorithm = 'sha256' | 'sha512';

const HEX_LENGTH: Record<DigestAlgorithm, number> = { sha256: 64, sha512: 128 };

export interface ParsedDigest {
  algorithm: DigestAlgorithm;
  hex: string;
}

/** Parses `alg:hex`, accepting only registered algorithms with the right lowercase hex length. */
export function parseDigest(digest: string): ParsedDigest {
  const i = digest.indexOf(':');
  if (i <= 0) throw new WasmOciError('E_REFERENCE', `invalid digest "${digest}": expected "algorithm:hex"`);
  const algorithm = digest.slice(0, i);
  const hex = digest.slice(i + 1);
  if (algorithm !== 'sha256' && algorithm !== 'sha512') {
    throw new WasmOciError('E_REFERENCE', `invalid digest "${digest}": unsupported algorithm "${algorithm}" (sha256 or sha512)`);
  }
  const want = HEX_LENGTH[algorithm];
  if (hex.length !== want || !/^[a-f0-9]+$/.test(hex)) {
    throw new WasmOciError('E_REFERENCE', `invalid digest "${digest}": ${algorithm} needs ${want} lowercase hex characters`);
  }
  return { algorithm, hex };
}

export function isValidDigest(digest: string): boolean {
  try {
    parseDigest(digest);
    return true;
  } catch {
    return false;
  }
}

export function digestOf(data: Uint8Array | string, algorithm: DigestAlgorithm = 'sha256'): string {
  return `${algorithm}:${createHash(algorithm).update(data).digest('hex')}`;
}

export interface VerifyExpectation {
  /** Expected digest; when absent the stream only computes it (algorithm sha256). */
  digest?: string;
  /** Expected size in bytes; when absent only counted. */
  size?: number;
  /** Bytes already verified before this stream (a resumed download): hashing continues from `hash`. */
  offset?: number;
  hash?: Hash;
}

/**
 * A pass-through stream that hashes and counts what flows through it, and fails with
 * E_SIZE_MISMATCH as soon as more bytes than `size` pass, or at the end when fewer did or the
 * digest differs. Used on every blob read and write so content is verified on the way, once;
 * being on every blob's path, it is also what paces the collection of streamed buffers
 * (content/gc-pacer.ts).
 */
export class VerifyingStream extends Transform {
  readonly algorithm: DigestAlgorithm;
  readonly hash: Hash;
  bytes: number;
  private readonly expected: VerifyExpectation;
  private readonly pacing = pacedTransfer();

  constructor(expected: VerifyExpectation = {}) {
    super();
    this.expected = expected;
    this.algorithm = expected.digest ? parseDigest(expected.digest).algorithm : 'sha256';
    this.hash = expected.hash ?? createHash(this.algorithm);
    this.bytes = expected.offset ?? 0;
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.expected.size !== undefined && this.bytes > this.expected.size) {
      cb(sizeError(this.expected.size, this.bytes, true));
      return;
    }
    this.hash.update(chunk);
    this.pacing.moved(chunk.length);
    cb(null, chunk);
  }

  override _flush(cb: TransformCallback): void {
    this.pacing.end();
    if (this.expected.size !== undefined && this.bytes !== this.expected.size) {
      cb(sizeError(this.expected.size, this.bytes, false));
      return;
    }
    const got = `${this.algorithm}:${this.hash.digest('hex')}`;
    this.computed = got;
    if (this.expected.digest !== undefined && got !== this.expected.digest) {
      cb(new WasmOciError('E_DIGEST_MISMATCH', `digest mismatch: expected ${this.expected.digest}, got ${got}`, { details: { expected: this.expected.digest, actual: got } }));
      return;
    }
    cb();
  }

  override _destroy(err: Error | null, cb: (error: Error | null) => void): void {
    this.pacing.end();
    cb(err);
  }

  /** The computed digest, set once the stream has ended. */
  computed?: string;
}

function sizeError(expected: number, got: number, over: boolean): WasmOciError {
  return new WasmOciError(
    'E_SIZE_MISMATCH',
    over ? `size mismatch: more than the expected ${expected} bytes` : `size mismatch: expected ${expected} bytes, got ${got}`,
    { details: { expected, actual: got } },
  );
}
