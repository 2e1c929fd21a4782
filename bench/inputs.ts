import { createCipheriv, createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { once } from 'node:events';

/** Test inputs of the benchmark: incompressible blobs and a valid ~1 MiB Wasm filter. */

export interface InputFile {
  path: string;
  size: number;
  digest: string;
}

/**
 * Writes `size` pseudo-random bytes (AES-256-CTR keystream: incompressible, and much faster
 * than crypto.randomBytes for a GiB) and returns their sha256 digest, hashed while writing.
 */
export async function makeRandomFile(path: string, size: number): Promise<InputFile> {
  const cipher = createCipheriv('aes-256-ctr', randomBytes(32), randomBytes(16));
  const hash = createHash('sha256');
  const out = createWriteStream(path);
  const zeros = Buffer.alloc(4 * 1024 * 1024);
  let left = size;
  while (left > 0) {
    const n = Math.min(left, zeros.length);
    const chunk = cipher.update(n === zeros.length ? zeros : zeros.subarray(0, n));
    hash.update(chunk);
    left -= n;
    if (!out.write(chunk)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
  return { path, size, digest: `sha256:${hash.digest('hex')}` };
}

// lib ES2023 without DOM declares no WebAssembly global; Node has one.
const wasmValidate = (bytes: Uint8Array): boolean =>
  (globalThis as unknown as { WebAssembly: { validate(b: Uint8Array): boolean } }).WebAssembly.validate(bytes);

export function lebU32(n: number): Buffer {
  const bytes: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    bytes.push(b);
  } while (n !== 0);
  return Buffer.from(bytes);
}

/**
 * Pads a Wasm module to exactly `size` bytes with a custom section (id 0, LEB128 size, name,
 * payload). Custom sections may appear anywhere and are ignored by runtimes, so the module
 * keeps its exports (proxy-wasm ABI) and stays a valid filter for the solo profile.
 */
export async function makePaddedWasm(source: string, path: string, size: number): Promise<InputFile> {
  const module = await readFile(source);
  const name = Buffer.from('bench-padding');
  const header = Buffer.concat([lebU32(name.length), name]);
  // The section size field's own length depends on the content length: find the one that fits.
  let contentLen = -1;
  for (let lebLen = 1; lebLen <= 5 && contentLen < 0; lebLen++) {
    const n = size - module.length - 1 - lebLen;
    if (n >= 0 && lebU32(n).length === lebLen) contentLen = n;
  }
  const payloadLen = contentLen - header.length;
  if (payloadLen < 0) throw new Error(`${source} is already larger than ${size} bytes`);
  const sectionContent = Buffer.concat([header, randomBytes(payloadLen)]);
  const bytes = Buffer.concat([module, Buffer.from([0]), lebU32(sectionContent.length), sectionContent]);
  if (bytes.length !== size) throw new Error(`padding arithmetic is off: ${bytes.length} != ${size}`);
  if (!wasmValidate(bytes)) throw new Error('the padded module does not validate');
  await writeFile(path, bytes);
  return { path, size, digest: `sha256:${createHash('sha256').update(bytes).digest('hex')}` };
}

export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 1024 * 1024 })) hash.update(chunk as Buffer);
  return `sha256:${hash.digest('hex')}`;
}

/** `1M`, `64MiB`, `1G`, `1048576` → bytes. */
export function parseSize(spec: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([KMG]?)(?:i?B)?\s*$/i.exec(spec);
  if (!m) throw new Error(`cannot read size "${spec}" (use e.g. 1M, 64M, 1G)`);
  const unit = { '': 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3 }[m[2]!.toUpperCase() as '' | 'K' | 'M' | 'G'];
  return Math.round(Number(m[1]) * unit);
}

export function sizeLabel(bytes: number): string {
  if (bytes >= 1024 ** 3 && bytes % 1024 ** 3 === 0) return `${bytes / 1024 ** 3} GiB`;
  if (bytes >= 1024 ** 2 && bytes % 1024 ** 2 === 0) return `${bytes / 1024 ** 2} MiB`;
  if (bytes >= 1024 && bytes % 1024 === 0) return `${bytes / 1024} KiB`;
  return `${bytes} B`;
}
