import { createWriteStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip, constants as zlibConstants } from 'node:zlib';
import { WasmOciError } from '../errors.js';
import { VerifyingStream } from '../oci/digest.js';

export interface TarSource {
  /** Entry name in the tar (`plugin.wasm`, `runtime-config.json`). */
  name: string;
  size: number;
  /** Bytes for small entries, or a stream factory for the module. */
  content: Uint8Array | (() => Readable);
}

export interface CompatLayer {
  /** sha256 of the gzip stream: the layer's digest. */
  digest: string;
  size: number;
  /** sha256 of the uncompressed tar: the config's rootfs.diff_ids entry (image-spec config.md). */
  diffId: string;
  uncompressedSize: number;
}

/**
 * Writes the `compat` layer to `path`: a deterministic tar (fixed mtime, mode 0644, uid/gid 0,
 * no user names) gzipped, streamed to disk and hashed on both sides of the gzip on the way, so
 * a module of any size costs constant memory and the bytes pushed are the ones hashed.
 * Istio's compat variant looks for an entry whose base name is `plugin.wasm`
 * (istio pkg/wasm/imagefetcher.go).
 */
export async function writeCompatLayer(
  path: string,
  entries: readonly TarSource[],
  options: { mtime: Date; signal?: AbortSignal },
): Promise<CompatLayer> {
  // Loaded here, not at start-up: only the compat profile writes a tar.
  const { default: tar } = await import('tar-stream');
  const pack = tar.pack();
  const uncompressed = new VerifyingStream();
  const compressed = new VerifyingStream();
  // Level fixed so the same input always gives the same layer digest on the same zlib.
  const gzip = createGzip({ level: zlibConstants.Z_BEST_COMPRESSION });
  const done = pipeline(pack, uncompressed, gzip, compressed, createWriteStream(path, { flags: 'wx', mode: 0o600 }), {
    signal: options.signal,
  });
  const opened: Readable[] = [];
  const writing = (async () => {
    for (const entry of entries) {
      const header = {
        name: entry.name,
        size: entry.size,
        mode: 0o644,
        uid: 0,
        gid: 0,
        uname: '',
        gname: '',
        mtime: options.mtime,
        type: 'file' as const,
      };
      if (entry.content instanceof Uint8Array) {
        const buf = Buffer.from(entry.content);
        await new Promise<void>((resolve, reject) => {
          pack.entry(header, buf, (err) => (err ? reject(err) : resolve()));
        });
      } else {
        const source = entry.content();
        opened.push(source);
        await new Promise<void>((resolve, reject) => {
          const sink = pack.entry(header, (err) => (err ? reject(err) : resolve()));
          source.on('error', reject);
          source.pipe(sink);
        });
      }
    }
    pack.finalize();
  })();
  try {
    await Promise.all([done, writing]);
  } catch (err) {
    for (const s of opened) s.destroy();
    pack.destroy();
    if (err instanceof WasmOciError) throw err;
    if (options.signal?.aborted) throw new WasmOciError('E_CANCELLED', 'cancelled', { cause: err });
    throw new WasmOciError('E_INTERNAL', `cannot build the compat layer: ${(err as Error).message}`, { cause: err });
  }
  return { digest: compressed.computed!, size: compressed.bytes, diffId: uncompressed.computed!, uncompressedSize: uncompressed.bytes };
}
