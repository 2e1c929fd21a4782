import { createReadStream, createWriteStream } from 'node:fs';
import { lstat, readdir, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { WasmOciError } from '../errors.js';
import { VerifyingStream } from '../oci/digest.js';


export interface DirectoryLayer {
  /** sha256 of the gzip stream: the layer's digest. */
  digest: string;
  size: number;
  /** sha256 of the tar before gzip: the `io.deis.oras.content.digest` annotation. */
  tarDigest: string;
  entries: number;
}

interface Walked {
  path: string;
  name: string;
}

/**
 * Go's filepath.Walk order (what oras-go's tarDirectory uses): the root first, then each
 * directory's entries sorted by name, depth first; symlinks are not followed.
 */
async function* walk(root: string, prefix: string): AsyncGenerator<Walked> {
  yield { path: root, name: prefix };
  const visit = async function* (dir: string, name: string): AsyncGenerator<Walked> {
    const names = (await readdir(dir)).sort((a, b) => (Buffer.compare(Buffer.from(a), Buffer.from(b))));
    for (const n of names) {
      const path = join(dir, n);
      const child = `${name}/${n}`;
      yield { path, name: child };
      if ((await lstat(path)).isDirectory()) yield* visit(path, child);
    }
  };
  yield* visit(root, prefix);
}

/**
 * A directory as `oras push REF dir/` sends it (oras-go content/file/file.go descriptorFromDir
 * and utils.go tarDirectory): a tar whose entries are named `PREFIX/relative/path` (the root
 * itself is the entry `PREFIX`), uid and gid 0 with no user or group names, each file's mode and
 * modification time kept, symlinks stored as symlinks (never followed), hard links as regular
 * files; gzipped into `path`, hashed before and after the gzip on the way. Sockets, devices and
 * FIFOs are refused (Go's tar cannot write a socket; oras would fail on one too).
 */
export async function writeDirectoryLayer(path: string, dir: string, prefix: string, options: { signal?: AbortSignal } = {}): Promise<DirectoryLayer> {
  const { default: tar } = await import('tar-stream');
  const pack = tar.pack();
  const uncompressed = new VerifyingStream();
  const compressed = new VerifyingStream();
  const done = pipeline(pack, uncompressed, createGzip(), compressed, createWriteStream(path, { flags: 'wx', mode: 0o600 }), { signal: options.signal });
  let entries = 0;
  let open: Readable | undefined;
  const writing = (async () => {
    for await (const { path: p, name } of walk(dir, prefix)) {
      if (options.signal?.aborted) throw new WasmOciError('E_CANCELLED', 'cancelled');
      const st = await lstat(p);
      const base = { name, mode: st.mode & 0o7777, uid: 0, gid: 0, uname: '', gname: '', mtime: new Date(Math.floor(st.mtimeMs / 1000) * 1000) };
      entries++;
      if (st.isDirectory()) {
        await new Promise<void>((resolve, reject) => pack.entry({ ...base, type: 'directory' }, (err) => (err ? reject(err) : resolve())));
      } else if (st.isSymbolicLink()) {
        const linkname = await readlink(p);
        await new Promise<void>((resolve, reject) => pack.entry({ ...base, type: 'symlink', linkname }, (err) => (err ? reject(err) : resolve())));
      } else if (st.isFile()) {
        const source = createReadStream(p, { highWaterMark: 256 * 1024 });
        open = source;
        await new Promise<void>((resolve, reject) => {
          const sink = pack.entry({ ...base, type: 'file', size: st.size }, (err) => (err ? reject(err) : resolve()));
          source.on('error', reject);
          source.pipe(sink);
        });
        open = undefined;
      } else {
        throw new WasmOciError('E_INVALID_INPUT', `${p} is not a file, a directory or a symlink; a directory pushed as a layer holds only those`);
      }
    }
    pack.finalize();
  })();
  try {
    await Promise.all([done, writing]);
  } catch (err) {
    open?.destroy();
    pack.destroy();
    await Promise.allSettled([done, writing]);
    if (err instanceof WasmOciError) throw err;
    if (options.signal?.aborted) throw new WasmOciError('E_CANCELLED', 'cancelled', { cause: err });
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EACCES' || code === 'ENOENT' || code === 'ELOOP') {
      throw new WasmOciError('E_INVALID_INPUT', `cannot read the directory ${dir}: ${(err as Error).message}`, { cause: err });
    }
    throw new WasmOciError('E_INTERNAL', `cannot pack the directory ${dir}: ${(err as Error).message}`, { cause: err });
  }
  return { digest: compressed.computed!, size: compressed.bytes, tarDigest: uncompressed.computed!, entries };
}
