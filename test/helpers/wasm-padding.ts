/** Unsigned LEB128, the integer encoding of the Wasm binary format. */
export function leb128(n: number): Buffer {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n = Math.floor(n / 128);
    if (n > 0) b |= 0x80;
    out.push(b);
  } while (n > 0);
  return Buffer.from(out);
}

/** A module with a custom section of `payload` appended: still valid Wasm (and the same filter), just bigger. */
export function padModule(base: Uint8Array, payload: Buffer, sectionName = 'padding'): Buffer {
  const name = Buffer.from(sectionName);
  const body = Buffer.concat([leb128(name.length), name, payload]);
  return Buffer.concat([base, Buffer.from([0]), leb128(body.length), body]);
}
