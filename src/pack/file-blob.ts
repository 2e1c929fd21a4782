import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { WasmOciError } from '../errors.js';
import type { Content } from '../content/interfaces.js';

/** Checks that `path` is a readable regular file; a missing one is E_FILE_NOT_FOUND naming it. */
export async function statRegularFile(path: string, what = 'file'): Promise<{ size: number }> {
  let st;
  try {
    st = await stat(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      throw new WasmOciError('E_FILE_NOT_FOUND', `${what} ${path} does not exist`, { cause: err });
    }
    throw new WasmOciError('E_INVALID_INPUT', `cannot read ${what} ${path}: ${(err as Error).message}`, { cause: err });
  }
  if (st.isDirectory()) {
    throw new WasmOciError('E_UNSUPPORTED', `${what} ${path} is a directory; push files, not directories`);
  }
  if (!st.isFile()) throw new WasmOciError('E_INVALID_INPUT', `${what} ${path} is not a regular file`);
  return { size: st.size };
}

/** Streams the file once through sha256: constant memory whatever its size. */
export async function digestFile(path: string, signal?: AbortSignal, known?: ReadonlyMap<string, { digest: string; size: number }>): Promise<{ digest: string; size: number }> {
  const hashed = known?.get(path);
  if (hashed) return hashed;
  const hash = createHash('sha256');
  let size = 0;
  const stream = createReadStream(path, { highWaterMark: 128 * 1024, signal });
  try {
    for await (const chunk of stream) {
      hash.update(chunk as Buffer);
      size += (chunk as Buffer).length;
    }
  } catch (err) {
    if (signal?.aborted) throw new WasmOciError('E_CANCELLED', 'cancelled', { cause: err });
    throw new WasmOciError('E_INVALID_INPUT', `cannot read ${path}: ${(err as Error).message}`, { cause: err });
  }
  return { digest: `sha256:${hash.digest('hex')}`, size };
}

/** Reads at most the first `length` bytes (the Wasm header, for sniffing large files). */
export async function readHead(path: string, length: number): Promise<Uint8Array> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(length);
    const { bytesRead } = await fh.read(buf, 0, length, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

/** Content that re-opens the file on every call, from `offset` on (a resumed upload). */
export function fileContent(path: string): Content {
  return (offset?: number): Readable => createReadStream(path, { start: offset ?? 0, highWaterMark: 256 * 1024 });
}
