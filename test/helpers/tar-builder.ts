import { gzipSync } from 'node:zlib';
import tar from 'tar-stream';

export interface TarEntrySpec {
  name: string;
  body?: Uint8Array | string;
  type?: 'file' | 'symlink' | 'link' | 'character-device' | 'block-device' | 'directory' | 'fifo';
  linkname?: string;
  /** Size claimed for a body given as a repeated byte (for large entries without big literals). */
  zeros?: number;
  /** Default 0o644 (0o755 for directories). */
  mode?: number;
}

/** Builds a tar (optionally gzipped) in memory with tar-stream, hostile entries included. */
export async function buildTar(entries: readonly TarEntrySpec[], options: { gzip?: boolean } = {}): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  const collected = (async () => {
    for await (const c of pack) chunks.push(c as Buffer);
  })();
  for (const e of entries) {
    const type = e.type ?? 'file';
    const body = e.zeros !== undefined ? Buffer.alloc(e.zeros) : e.body === undefined ? Buffer.alloc(0) : Buffer.from(e.body);
    const header: Partial<tar.Header> & { name: string } = { name: e.name, type, mode: e.mode ?? (type === 'directory' ? 0o755 : 0o644), mtime: new Date(0) };
    if (e.linkname !== undefined) header.linkname = e.linkname;
    if (type === 'character-device' || type === 'block-device') {
      header.devmajor = 1;
      header.devminor = 3;
    }
    await new Promise<void>((resolve, reject) => {
      if (type === 'file') pack.entry({ ...header, size: body.length }, body, (err) => (err ? reject(err) : resolve()));
      else pack.entry({ ...header, size: 0 }, '', (err) => (err ? reject(err) : resolve()));
    });
  }
  pack.finalize();
  await collected;
  const tarBytes = Buffer.concat(chunks);
  return options.gzip === false ? tarBytes : gzipSync(tarBytes);
}
