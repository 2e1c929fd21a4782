import { open, type FileHandle } from 'node:fs/promises';
import { posix } from 'node:path';
import { Transform, type TransformCallback, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { WasmOciError } from '../errors.js';
import { VerifyingStream } from '../oci/digest.js';
import type { Descriptor } from '../oci/types.js';
import { MODULE_FILE_NAME, RUNTIME_CONFIG_FILE_NAME } from './extract-plan.js';
import { moduleOverLimit } from './module-limit.js';
import { safeRelativeSegments } from './safe-path.js';

let tarStream: typeof import('tar-stream') | undefined;

/**
 * tar-stream is loaded only by the pulls that meet a tar layer (most never do). Callers load it
 * BEFORE opening the layer's stream: an await between opening a stream that already flows and
 * piping it would drop the bytes that pass in between.
 */
export async function loadTarStream(): Promise<typeof import('tar-stream')> {
  tarStream ??= (await import('tar-stream')).default;
  return tarStream;
}

/** A runtime config is tiny; a bigger entry of that name is not one. */
export const TAR_RUNTIME_CONFIG_LIMIT = 1024 * 1024;
/** Tar headers, padding and small side entries allowed on top of the module limit. */
export const TAR_OVERHEAD_ALLOWANCE = 4 * 1024 * 1024;

export interface TarEntryOut {
  /** MODULE_FILE_NAME or RUNTIME_CONFIG_FILE_NAME. */
  name: string;
  tempPath: string;
  digest: string;
  size: number;
}

/** Fails with E_SIZE_LIMIT once more than `limit` bytes have passed: the gzip bomb guard. */
export class ByteLimit extends Transform {
  private seen = 0;
  constructor(private readonly limit: number, private readonly what: string) {
    super();
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.seen += chunk.length;
    if (this.seen > this.limit) {
      cb(new WasmOciError('E_SIZE_LIMIT', `${this.what} exceeds ${this.limit} bytes`, { hint: 'If the module is really this large, pass --module-size-limit BYTES.' }));
      return;
    }
    cb(null, chunk);
  }
}

const REGULAR = new Set(['file', 'contiguous-file']);

/**
 * Unpacks `plugin.wasm` and `runtime-config.json` (matched by base name, as Istio's image fetcher
 * does) from a gzip tar layer into temp files created by `tempFor`. The compressed stream is
 * verified against the layer descriptor; the decompressed stream is capped (module limit plus a
 * small allowance), so a gzip bomb stops early. An entry of a wanted name that is a link, device
 * or directory, or whose path is absolute or climbs with `..`, is refused: never written.
 * Entries of other names are read past and dropped. The first entry of each name wins.
 */
export async function extractFromTarLayer(
  source: Readable,
  desc: Descriptor,
  options: {
    wantModule: boolean;
    wantRuntimeConfig: boolean;
    moduleSizeLimit: number;
    tempFor: (name: string) => string;
    signal?: AbortSignal;
  },
): Promise<TarEntryOut[]> {
  const verify = new VerifyingStream({ digest: desc.digest, size: desc.size });
  const limit = new ByteLimit(options.moduleSizeLimit + TAR_OVERHEAD_ALLOWANCE, `the uncompressed layer ${desc.digest}`);
  const extract = (await loadTarStream()).extract();
  const done = pipeline(source, verify, createGunzip(), limit, extract, { signal: options.signal });
  const out: TarEntryOut[] = [];
  const consume = (async () => {
    for await (const entry of extract) {
      const header = entry.header;
      const name = header.name.replace(/\/+$/, '');
      const base = posix.basename(name.replace(/\\/g, '/'));
      const wanted =
        (base === MODULE_FILE_NAME && options.wantModule) || (base === RUNTIME_CONFIG_FILE_NAME && options.wantRuntimeConfig);
      if (!wanted || out.some((o) => o.name === base)) {
        entry.resume();
        continue;
      }
      safeRelativeSegments(name.replace(/^\.\//, ''));
      if (!REGULAR.has(header.type ?? 'file')) {
        throw new WasmOciError('E_UNSAFE_PATH', `refused tar entry "${name}": it is a ${header.type}, not a regular file`, {
          hint: 'Links and devices in a layer are never written.',
        });
      }
      const max = base === MODULE_FILE_NAME ? options.moduleSizeLimit : TAR_RUNTIME_CONFIG_LIMIT;
      if ((header.size ?? 0) > max) {
        if (base === MODULE_FILE_NAME) throw moduleOverLimit(`tar entry "${name}"`, header.size ?? 0, max);
        throw new WasmOciError('E_SIZE_LIMIT', `tar entry "${name}" is ${header.size} bytes, over the limit of ${max}`);
      }
      const tempPath = options.tempFor(base);
      const hash = new VerifyingStream();
      // Created before any byte moves, so the caller's cleanup never runs before the file exists.
      const handle = await openForEntry(entry, extract, tempPath, 0o644);
      await pipeline(entry, new ByteLimit(max, `tar entry "${name}"`), hash, handle.createWriteStream());
      out.push({ name: base, tempPath, digest: hash.computed!, size: hash.bytes });
    }
  })();
  await settleTarRead(done, consume, source, extract, desc);
  return out;
}

/**
 * Opens `path` ('wx') for the bytes of a tar entry. While the open is pending the layer may fail
 * (a bad CRC at the gzip trailer, a dropped connection): tar-stream then destroys the entry, and a
 * pipeline attached to an already destroyed streamx stream never settles, which would hang the
 * pull forever. So the entry is checked once the file exists.
 */
export async function openForEntry(entry: { destroyed: boolean }, extract: { destroyed: boolean }, path: string, mode: number): Promise<FileHandle> {
  const handle = await open(path, 'wx', mode);
  if (entry.destroyed || extract.destroyed) {
    await handle.close();
    throw new Error('the layer stream ended while a file was being created');
  }
  return handle;
}

/**
 * Waits for the layer pipeline and the entry consumer together. Promise.all rejects at the first
 * failure while the other side may still be opening a file: both are stopped and both awaited, so
 * the caller's cleanup runs after the last file exists, not before.
 */
export async function settleTarRead(done: Promise<void>, consume: Promise<void>, source: Readable, extract: { destroy(): void }, desc: Descriptor): Promise<void> {
  try {
    await Promise.all([done, consume]);
  } catch (err) {
    source.destroy();
    extract.destroy();
    await Promise.allSettled([done, consume]);
    throw classifyTarError(err, desc);
  }
}

/**
 * tar-stream reports a malformed or truncated archive with a plain Error without a `code`
 * ("Unexpected end of data", "Invalid tar header"): that is the layer's fault, not ours. Errors
 * with a code (zlib's Z_*, fs errors, aborts) are left for the caller to classify.
 */
export function classifyTarError(err: unknown, desc: Descriptor): unknown {
  if (err instanceof WasmOciError || !(err instanceof Error)) return err;
  if (typeof (err as NodeJS.ErrnoException).code === 'string' || err.name === 'AbortError') return err;
  return new WasmOciError('E_UNSUPPORTED', `layer ${desc.digest} is not a valid tar: ${err.message}`, { cause: err });
}
