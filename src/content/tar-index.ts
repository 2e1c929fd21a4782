import type { FileHandle } from 'node:fs/promises';
import { WasmOciError } from '../errors.js';

/** Where one regular file's bytes sit inside a tar archive. */
export interface TarEntry {
  offset: number;
  size: number;
}

const BLOCK = 512;
/** A pax or GNU long-name record is a few paths; anything bigger is not a layout tar. */
const META_LIMIT = 1024 * 1024;

function field(block: Buffer, start: number, length: number): string {
  const raw = block.subarray(start, start + length);
  const nul = raw.indexOf(0);
  return raw.subarray(0, nul === -1 ? raw.length : nul).toString('utf8');
}

/** ustar size: octal text, or GNU base-256 when the high bit of the first byte is set. */
function sizeField(block: Buffer, path: string): number {
  const raw = block.subarray(124, 136);
  if (raw[0]! & 0x80) {
    let n = 0;
    for (let i = 1; i < raw.length; i++) n = n * 256 + raw[i]!;
    if (!Number.isSafeInteger(n)) throw notTar(path, 'an entry size is out of range');
    return n;
  }
  const text = field(block, 124, 12).trim();
  if (text === '') return 0;
  if (!/^[0-7]+$/.test(text)) throw notTar(path, 'an entry has an invalid size field');
  return parseInt(text, 8);
}

function checksumOk(block: Buffer): boolean {
  const text = field(block, 148, 8).trim();
  if (!/^[0-7]+$/.test(text)) return false;
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : block[i]!;
  return sum === parseInt(text, 8);
}

function notTar(path: string, problem: string): WasmOciError {
  return new WasmOciError('E_INVALID_INPUT', `${path} does not look like a tar archive of an OCI layout: ${problem}`, {
    hint: 'give --oci-layout a layout folder, or a tar of one (oras backup, tar -cf layout.tar -C DIR .)',
  });
}

/** `./blobs/sha256/x` and `blobs/sha256/x` are one file; directories end in `/`. */
function normalise(name: string): string {
  let n = name;
  while (n.startsWith('./')) n = n.slice(2);
  return n.replace(/^\/+/, '');
}

/** pax records: `LEN key=value\n` (POSIX.1-2001 pax Extended Header). */
function paxPath(data: Buffer): string | undefined {
  let pos = 0;
  let path: string | undefined;
  while (pos < data.length) {
    const space = data.indexOf(0x20, pos);
    if (space === -1) break;
    const len = Number(data.subarray(pos, space).toString('ascii'));
    if (!Number.isInteger(len) || len <= 0 || pos + len > data.length) break;
    const record = data.subarray(space + 1, pos + len - 1).toString('utf8');
    const eq = record.indexOf('=');
    if (eq > 0 && record.slice(0, eq) === 'path') path = record.slice(eq + 1);
    pos += len;
  }
  return path;
}

/**
 * The regular files of a tar archive and where their bytes are, read from the headers alone
 * (the data blocks are skipped, never read), so a layout tar of gigabytes is indexed in a few
 * reads. ustar, pax (`path`) and GNU long names (`L`) are understood: what tar, skopeo and
 * oras-go write (oras-go content/oci/readonlyoci.go NewFromTar reads the same archives).
 */
export async function indexTar(handle: FileHandle, path: string): Promise<Map<string, TarEntry>> {
  const { size: fileSize } = await handle.stat();
  const entries = new Map<string, TarEntry>();
  const block = Buffer.alloc(BLOCK);
  let offset = 0;
  let longName: string | undefined;
  let sawHeader = false;
  while (offset + BLOCK <= fileSize) {
    const { bytesRead } = await handle.read(block, 0, BLOCK, offset);
    if (bytesRead < BLOCK) break;
    if (block.every((b) => b === 0)) break; // end-of-archive marker
    if (!checksumOk(block)) throw notTar(path, `the header at byte ${offset} has a bad checksum`);
    sawHeader = true;
    const size = sizeField(block, path);
    const type = String.fromCharCode(block[156]!);
    const dataOffset = offset + BLOCK;
    if (dataOffset + size > fileSize) throw notTar(path, 'it is truncated');
    const next = dataOffset + Math.ceil(size / BLOCK) * BLOCK;
    if (type === 'x' || type === 'L') {
      if (size > META_LIMIT) throw notTar(path, 'an extended header is too large');
      const data = Buffer.alloc(size);
      await handle.read(data, 0, size, dataOffset);
      longName = type === 'x' ? paxPath(data) ?? longName : field(data, 0, size);
    } else if (type === 'g') {
      /* global pax header: no per-file path */
    } else {
      const prefix = field(block, 345, 155);
      const name = longName ?? (prefix ? `${prefix}/${field(block, 0, 100)}` : field(block, 0, 100));
      longName = undefined;
      // Regular files only ('0' or the old NUL); links and directories hold no layout content.
      if (type === '0' || type === '\0') entries.set(normalise(name), { offset: dataOffset, size });
    }
    offset = next;
  }
  if (!sawHeader) throw notTar(path, 'it has no tar header');
  return entries;
}
