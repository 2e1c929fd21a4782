import type { Readable } from 'node:stream';
import { WasmOciError } from '../errors.js';

/**
 * Reads a small response body (manifest, token, error document) refusing more than `limit` bytes:
 * a registry, a token server or a man in the middle must not make us buffer without bound.
 * `truncate` returns the first `limit` bytes instead of failing (error bodies).
 */
export async function readBounded(body: Readable, limit: number, what: string, truncate = false): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  try {
    for await (const chunk of body) {
      const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array);
      if (total + buf.length > limit) {
        if (truncate) {
          chunks.push(buf.subarray(0, limit - total));
          total = limit;
          break;
        }
        throw new WasmOciError('E_SIZE_LIMIT', `${what} exceeds the limit of ${limit} bytes`, { details: { limit } });
      }
      chunks.push(buf);
      total += buf.length;
    }
  } catch (err) {
    if (err instanceof WasmOciError) throw err;
    // A connection cut after the status line surfaces here, past the retry layer: type it so callers can retry.
    throw new WasmOciError('E_NETWORK', `connection lost while reading the ${what}: ${(err as Error)?.message ?? String(err)}`, { cause: err });
  } finally {
    if (!body.destroyed && !body.readableEnded) body.destroy();
  }
  return Buffer.concat(chunks, total);
}

/** Refuses early when the declared Content-Length is already over the limit. */
export function checkDeclaredLength(contentLength: string | undefined, limit: number, what: string): void {
  if (contentLength === undefined) return;
  const n = Number(contentLength);
  if (Number.isFinite(n) && n > limit) {
    throw new WasmOciError('E_SIZE_LIMIT', `${what} of ${n} bytes exceeds the limit of ${limit} bytes`, { details: { limit, size: n } });
  }
}
