/**
 * The facts `inspectWasm` reports, for a core module too large to hold in memory (issue 11 item 12:
 * the ABI must be read the same way at every size). Imports, exports and the proxy-wasm ABI live in
 * the type, import, function, table, memory, tag, global and export sections, a few KiB even in a
 * 200 MiB module; the bulk is code, data and debug sections. So the file is read section by
 * section, the bulk is skipped by offset, and a skeleton module is validated by V8 as usual:
 * the same sections verbatim, every function body replaced by `unreachable` (valid for any type),
 * no data, no data count. Only the validation of the skipped code is lost, and the caller says so.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { WasmOciError } from '../errors.js';
import { BinaryParseError, ByteReader, unsignedLeb128 } from './binary-reader.js';
import { inspectWasm } from './inspect.js';
import type { WasmInfo } from './types.js';

/** Sections kept verbatim (Wasm core spec 5.5.2: type 1, import 2, function 3, table 4, memory 5, global 6, export 7, start 8, element 9, tag 13). */
const KEPT = new Set([1, 2, 3, 4, 5, 6, 7, 8, 9, 13]);
const CUSTOM = 0;
const FUNCTION = 3;
const CODE = 10;
/** What the kept sections may add up to; a module whose declarations alone pass this is not a filter. */
export const OUTLINE_KEPT_LIMIT = 16 * 1024 * 1024;

/** Custom section names are short (`name`, `producers`, `.debug_info`); this bounds the read. */
const CUSTOM_NAME_LIMIT = 64 * 1024;

interface SectionHeader {
  id: number;
  payloadStart: number;
  payloadSize: number;
}

async function readAt(handle: FileHandle, position: number, length: number): Promise<Uint8Array> {
  const buffer = new Uint8Array(length);
  let done = 0;
  while (done < length) {
    const { bytesRead } = await handle.read(buffer, done, length - done, position + done);
    if (bytesRead === 0) break;
    done += bytesRead;
  }
  return buffer.subarray(0, done);
}

function parseError(label: string, message: string): WasmOciError {
  return new WasmOciError('E_WASM_PARSE', `${label} is not a valid WebAssembly module: ${message}`);
}

/** A u32 LEB128 at the start of `bytes` (ByteReader's rules), as a parse error of this module. */
function u32At(bytes: Uint8Array, label: string, what: string): { value: number; length: number } {
  try {
    const r = new ByteReader(bytes);
    const value = r.u32();
    return { value, length: r.pos };
  } catch (err) {
    throw parseError(label, `${what}: ${err instanceof BinaryParseError ? err.message : String(err)}`);
  }
}

/** id byte, then a u32 LEB128 size (at most 5 bytes). */
async function readSectionHeader(handle: FileHandle, at: number, fileSize: number, label: string): Promise<SectionHeader> {
  const head = await readAt(handle, at, 6);
  if (head.length < 2) throw parseError(label, `section header truncated at byte ${at}`);
  const size = u32At(head.subarray(1), label, `section size at byte ${at + 1}`);
  const payloadStart = at + 1 + size.length;
  if (payloadStart + size.value > fileSize) throw parseError(label, `section ${head[0]} of ${size.value} bytes at byte ${at} runs past the end of the file`);
  return { id: head[0]!, payloadStart, payloadSize: size.value };
}

function section(id: number, payload: Uint8Array): Uint8Array {
  const head = [id, ...unsignedLeb128(payload.length)];
  const out = new Uint8Array(head.length + payload.length);
  out.set(head, 0);
  out.set(payload, head.length);
  return out;
}

/** `count` bodies of `size 3: 0 locals, unreachable, end`. */
function unreachableBodies(count: number): Uint8Array {
  const head = unsignedLeb128(count);
  const out = new Uint8Array(head.length + count * 4);
  out.set(head, 0);
  for (let i = 0, at = head.length; i < count; i++, at += 4) out.set([0x03, 0x00, 0x00, 0x0b], at);
  return out;
}

/**
 * Inspects the core module at `path` without reading its code and data. `sha256` is the file's
 * digest, computed by the caller while streaming (the skeleton's own hash means nothing).
 */
export async function outlineModuleFile(path: string, sha256: string, options: { name?: string } = {}): Promise<WasmInfo> {
  const label = options.name ?? path;
  const handle = await open(path, 'r');
  try {
    const fileSize = (await handle.stat()).size;
    const header = await readAt(handle, 0, 8);
    const parts: Uint8Array[] = [header];
    let kept = 0;
    let functions = 0;
    for (let at = 8; at < fileSize; ) {
      const s = await readSectionHeader(handle, at, fileSize, label);
      at = s.payloadStart + s.payloadSize;
      if (KEPT.has(s.id)) {
        kept += s.payloadSize;
        if (kept > OUTLINE_KEPT_LIMIT) {
          throw new WasmOciError('E_SIZE_LIMIT', `${label}: its declarations (imports, exports, types) exceed ${OUTLINE_KEPT_LIMIT} bytes; not inspected`);
        }
        const payload = await readAt(handle, s.payloadStart, s.payloadSize);
        if (s.id === FUNCTION) functions = u32At(payload, label, 'function count').value;
        parts.push(section(s.id, payload));
      } else if (s.id === CODE) {
        parts.push(section(CODE, unreachableBodies(functions)));
      } else if (s.id === CUSTOM) {
        // Keep the name only: inspect lists custom sections by name; debug payloads can be huge.
        const nameHead = await readAt(handle, s.payloadStart, Math.min(s.payloadSize, 5 + CUSTOM_NAME_LIMIT));
        parts.push(section(CUSTOM, customNameOnly(nameHead, label)));
      }
      // Data (11) and data count (12) are dropped together, which keeps the skeleton valid.
    }
    const total = parts.reduce((n, p) => n + p.length, 0);
    const skeleton = new Uint8Array(total);
    let offset = 0;
    for (const p of parts) {
      skeleton.set(p, offset);
      offset += p.length;
    }
    const info = inspectWasm(skeleton, { name: label });
    return { ...info, size: fileSize, sha256 };
  } finally {
    await handle.close();
  }
}

function customNameOnly(head: Uint8Array, label: string): Uint8Array {
  const len = u32At(head, label, 'custom section name length');
  const end = len.length + len.value;
  if (end > head.length) throw parseError(label, `custom section name longer than ${CUSTOM_NAME_LIMIT} bytes or past the section's end`);
  return head.subarray(0, end);
}
