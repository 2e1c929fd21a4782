import type { Readable } from 'node:stream';
import { WasmOciError } from '../errors.js';

/** Reads a small document (manifest, config, token) into memory, refusing more than `limit` bytes. */
export async function readAll(stream: Readable, limit: number, what = 'content'): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  try {
    for await (const chunk of stream) {
      const buf = chunk as Buffer;
      total += buf.length;
      if (total > limit) {
        throw new WasmOciError('E_SIZE_LIMIT', `${what} exceeds the limit of ${limit} bytes`);
      }
      chunks.push(buf);
    }
  } finally {
    stream.destroy();
  }
  return Buffer.concat(chunks, total);
}
