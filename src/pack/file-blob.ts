import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, stat, type FileHandle } from 'node:fs/promises';
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

/** Read size of digestFile: one buffer, reused for every read. */
const DIGEST_READ_BYTES = 256 * 1024;

/**
 * Reads the file once through sha256 into one buffer reused for every read: memory is that
 * buffer whatever the file's size, and a 1 GiB file leaves no garbage for the collector.
 */
export async function digestFile(path: string, signal?: AbortSignal, known?: ReadonlyMap<string, { digest: string; size: number }>): Promise<{ digest: string; size: number }> {
  const hashed = known?.get(path);
  if (hashed) return hashed;
  const hash = createHash('sha256');
  let size = 0;
  let fh: FileHandle | undefined;
  try {
    fh = await open(path, 'r');
    const buf = Buffer.allocUnsafe(DIGEST_READ_BYTES);
    for (;;) {
      if (signal?.aborted) throw new WasmOciError('E_CANCELLED', 'cancelled');
      const { bytesRead } = await fh.read(buf, 0, buf.length, null);
      if (bytesRead === 0) break;
      hash.update(buf.subarray(0, bytesRead));
      size += bytesRead;
    }
  } catch (err) {
    if (signal?.aborted) throw new WasmOciError('E_CANCELLED', 'cancelled', { cause: err });
    throw new WasmOciError('E_INVALID_INPUT', `cannot read ${path}: ${(err as Error).message}`, { cause: err });
  } finally {
    await fh?.close().catch(() => undefined);
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
