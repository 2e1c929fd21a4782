/**
 * JSON bytes as Go's encoding/json writes them, so a manifest we pack is byte-for-byte the one
 * oras packs for the same input: compact, HTML-sensitive characters escaped (`<`, `>`, `&` as
 * \u003c \u003e \u0026, and U+2028/U+2029), object keys in the order the caller built them.
 * Callers build objects in Go struct field order and pass maps through `sortedMap` (Go sorts
 * map keys).
 */
export function encodeGoJson(value: unknown): Uint8Array {
  const text = JSON.stringify(value).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return new TextEncoder().encode(text);
}

/** A copy of `map` with keys sorted byte-wise, as Go marshals a map[string]string. */
export function sortedMap<T>(map: Record<string, T>): Record<string, T> {
  const out: Record<string, T> = {};
  for (const key of Object.keys(map).sort(compareBytes)) out[key] = map[key]!;
  return out;
}

function compareBytes(a: string, b: string): number {
  const ba = Buffer.from(a);
  const bb = Buffer.from(b);
  return Buffer.compare(ba, bb);
}
