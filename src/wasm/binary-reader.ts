/**
 * A bounded reader over a WebAssembly binary (core module or component). Every read is checked
 * against the end of the buffer (or of the current section) and every count is checked against the
 * bytes left, so hostile input can neither read past the buffer nor make a loop run longer than the
 * input is long.
 */

/** Raised by the reader; callers turn it into a WasmOciError('E_WASM_PARSE'). */
export class BinaryParseError extends Error {
  readonly offset: number;
  constructor(message: string, offset: number) {
    super(`${message} at byte ${offset}`);
    this.name = 'BinaryParseError';
    this.offset = offset;
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

export class ByteReader {
  readonly bytes: Uint8Array;
  pos: number;
  readonly end: number;

  constructor(bytes: Uint8Array, start = 0, end = bytes.length) {
    if (start < 0 || end > bytes.length || start > end) {
      throw new BinaryParseError('range outside the buffer', start);
    }
    this.bytes = bytes;
    this.pos = start;
    this.end = end;
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  atEnd(): boolean {
    return this.pos >= this.end;
  }

  u8(): number {
    if (this.pos >= this.end) throw new BinaryParseError('unexpected end', this.pos);
    return this.bytes[this.pos++]!;
  }

  /** Unsigned LEB128 of at most 32 bits (5 bytes), as the Wasm binary format requires. */
  u32(): number {
    const start = this.pos;
    let result = 0;
    for (let i = 0; i < 5; i++) {
      const byte = this.u8();
      if (i === 4 && byte > 0x0f) throw new BinaryParseError('u32 LEB128 out of range', start);
      result += (byte & 0x7f) * 2 ** (7 * i);
      if ((byte & 0x80) === 0) return result;
    }
    throw new BinaryParseError('u32 LEB128 longer than 5 bytes', start);
  }

  /**
   * A vector count. Each element takes at least `minElementBytes`, so a count larger than the bytes
   * left is malformed: refusing it here bounds every loop over a vector by the input length.
   */
  count(minElementBytes = 1): number {
    const at = this.pos;
    const n = this.u32();
    if (n * minElementBytes > this.remaining) {
      throw new BinaryParseError(`vector of ${n} elements does not fit in the ${this.remaining} bytes left`, at);
    }
    return n;
  }

  skip(n: number): void {
    if (n < 0 || n > this.remaining) throw new BinaryParseError(`cannot skip ${n} bytes`, this.pos);
    this.pos += n;
  }

  /** A length-prefixed UTF-8 name. */
  name(): string {
    const len = this.u32();
    const at = this.pos;
    if (len > this.remaining) throw new BinaryParseError(`name of ${len} bytes runs past the end`, at);
    this.pos += len;
    try {
      return utf8.decode(this.bytes.subarray(at, at + len));
    } catch {
      throw new BinaryParseError('name is not valid UTF-8', at);
    }
  }

  /** A sub-reader over the next `len` bytes; this reader moves past them. */
  sub(len: number): ByteReader {
    if (len > this.remaining) throw new BinaryParseError(`section of ${len} bytes runs past the end`, this.pos);
    const r = new ByteReader(this.bytes, this.pos, this.pos + len);
    this.pos += len;
    return r;
  }
}

export interface RawSection {
  id: number;
  /** Offset of the section's payload. */
  start: number;
  /** Offset just past the section's payload. */
  end: number;
}

/** Section framing shared by core modules and components: id byte, u32 size, payload. */
export function readSections(bytes: Uint8Array, headerLength = 8): RawSection[] {
  const r = new ByteReader(bytes, headerLength);
  const sections: RawSection[] = [];
  while (!r.atEnd()) {
    const id = r.u8();
    const size = r.u32();
    const start = r.pos;
    r.sub(size);
    sections.push({ id, start, end: start + size });
  }
  return sections;
}

/** The name of a custom section (id 0): the payload starts with a name. */
export function customSectionName(bytes: Uint8Array, section: RawSection): string {
  return new ByteReader(bytes, section.start, section.end).name();
}

/** Unsigned LEB128, the integer encoding of the Wasm binary format (for the modules we build: link stubs, outlines). */
export function unsignedLeb128(n: number): number[] {
  const out: number[] = [];
  do {
    let byte = n & 0x7f;
    n = Math.floor(n / 128);
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
  return out;
}
