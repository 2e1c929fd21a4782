import { randomBytes } from 'node:crypto';
import { open, readdir, rename, rm, stat, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { WasmOciError } from '../errors.js';
import { VerifyingStream } from '../oci/digest.js';

/** `.NAME.wasm.wasm-oci-tmp-<12 hex>`: hidden, so nothing that globs `*.wasm` ever sees one. */
const TEMP_RE = /^\..+\.wasm-oci-tmp-[0-9a-f]{12}$/;

export function tempPathFor(dir: string, fileName: string): string {
  return join(dir, `.${fileName}.wasm-oci-tmp-${randomBytes(6).toString('hex')}`);
}

export function isAgentTempName(name: string): boolean {
  return TEMP_RE.test(name);
}

export interface WrittenFile {
  path: string;
  /** Digest and size of the bytes now in the file. */
  digest: string;
  size: number;
  /** Identity of the file as written, so a later pass can tell it is still ours and unchanged. */
  ino: number;
  mtimeMs: number;
}

export interface AtomicWriteOptions {
  dir: string;
  /** Final base name in `dir`. */
  fileName: string;
  /**
   * Fills the temp file, which it must create exclusively (flag `wx`), and resolves to the
   * digest and size of what it wrote, verified against what was expected.
   */
  fill: (tempPath: string, signal: AbortSignal | undefined) => Promise<{ digest: string; size: number }>;
  signal?: AbortSignal;
  /** Between the verified temp file and the rename (tests stop here to look). */
  beforeRename?: (tempPath: string) => Promise<void> | void;
}

/**
 * Replaces `dir/fileName` so that a reader (Envoy) sees the old file or the new one, whole,
 * never a mix, and never bytes that failed verification. The steps are those of kubelet's
 * atomic writer (pkg/volume/util/atomic_writer.go: write into the same directory, then rename)
 * with the durability steps it leaves to its caller: the temp file is fsynced before the rename,
 * so a crash never leaves the new name on an empty file, and the directory after it, so the
 * rename itself survives one. On any failure or cancel, the temp file is removed and the old
 * file is untouched. A cancel after verification still discards: the next start writes again.
 */
export async function writeAtomically(options: AtomicWriteOptions): Promise<WrittenFile> {
  const finalPath = join(options.dir, options.fileName);
  const tempPath = tempPathFor(options.dir, options.fileName);
  try {
    const { digest, size } = await options.fill(tempPath, options.signal);
    await syncFile(tempPath);
    await options.beforeRename?.(tempPath);
    if (options.signal?.aborted) throw new WasmOciError('E_CANCELLED', 'cancelled before the file was moved into place');
    await rename(tempPath, finalPath);
    await syncDir(options.dir);
    const st = await stat(finalPath);
    return { path: finalPath, digest, size, ino: st.ino, mtimeMs: st.mtimeMs };
  } catch (err) {
    await rm(tempPath, { force: true }).catch(() => undefined);
    throw err;
  }
}

/**
 * Streams `source` into `tempPath` (created exclusively), hashing on the way and failing at the
 * first byte over `size` or at the end on a digest mismatch. The Fetcher contract already
 * verifies; the agent checks again because the file it writes is read by Envoy on every node and
 * the target opener is the caller's (a mirror, a cache, a test double).
 */
export async function streamVerifiedToFile(
  source: Readable,
  tempPath: string,
  expected: { digest: string; size: number },
  signal?: AbortSignal,
  onBytes?: (n: number) => void,
): Promise<{ digest: string; size: number }> {
  let handle: FileHandle | undefined;
  try {
    handle = await open(tempPath, 'wx', 0o644);
    const fh = handle;
    const verify = new VerifyingStream(expected);
    await pipeline(
      source,
      verify,
      async (chunks: AsyncIterable<Buffer>) => {
        for await (const chunk of chunks) {
          await writeAll(fh, chunk);
          onBytes?.(chunk.length);
        }
      },
      signal ? { signal } : {},
    );
    return { digest: verify.computed!, size: verify.bytes };
  } catch (err) {
    source.destroy();
    throw err;
  } finally {
    await handle?.close().catch(() => undefined);
  }
}

async function writeAll(handle: FileHandle, chunk: Buffer): Promise<void> {
  let off = 0;
  while (off < chunk.length) {
    const { bytesWritten } = await handle.write(chunk, off, chunk.length - off);
    off += bytesWritten;
  }
}

async function syncFile(path: string): Promise<void> {
  const h = await open(path, 'r+');
  try {
    await h.sync();
  } finally {
    await h.close();
  }
}

/** fsync of the directory makes a rename durable (POSIX leaves it to the caller). */
export async function syncDir(dir: string): Promise<void> {
  const h = await open(dir, 'r');
  try {
    await h.sync();
  } catch (err) {
    // Some file systems (and platforms) refuse fsync on a directory; the rename still happened.
    if (!['EINVAL', 'EPERM', 'EISDIR', 'EBADF'].includes((err as NodeJS.ErrnoException).code ?? '')) throw err;
  } finally {
    await h.close();
  }
}

/** Removes temp files a killed agent left behind (only names of the agent's own temp pattern). */
export async function removeStaleTemps(dir: string): Promise<string[]> {
  const removed: string[] = [];
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    if (!isAgentTempName(name)) continue;
    await rm(join(dir, name), { force: true }).catch(() => undefined);
    removed.push(name);
  }
  return removed;
}
