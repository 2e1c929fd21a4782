/**
 * Envoy header maps as a proxy-wasm filter sees them (Envoy source/extensions/common/wasm/context.cc
 * Context::getHeaderMapValue / addHeaderMapValue / replaceHeaderMapValue / removeHeaderMapValue /
 * getHeaderMapPairs / setHeaderMapPairs): names are lowercase (Envoy's LowerCaseString, HTTP/2
 * rules), pseudo-headers (`:method`, `:path`, `:authority`, `:scheme`, `:status`) come first,
 * a name may repeat, get returns its first value, replace leaves one value, remove drops all.
 *
 * The pairs serialisation is proxy-wasm-cpp-host's (src/pairs_util.cc PairsUtil::marshalPairs /
 * toPairs): u32 count, then count × (u32 name size, u32 value size), then each name and value
 * followed by a NUL byte; all little-endian.
 */

export type HeaderPair = [name: string, value: string];

export class HeaderMap {
  private entries: HeaderPair[] = [];

  constructor(pairs: Iterable<readonly [string, string]> = []) {
    for (const [k, v] of pairs) this.add(k, v);
  }

  static lower(name: string): string {
    return name.toLowerCase();
  }

  get size(): number {
    return this.entries.length;
  }

  /** The first value of `name`, or undefined. */
  get(name: string): string | undefined {
    const n = HeaderMap.lower(name);
    return this.entries.find(([k]) => k === n)?.[1];
  }

  getAll(name: string): string[] {
    const n = HeaderMap.lower(name);
    return this.entries.filter(([k]) => k === n).map(([, v]) => v);
  }

  has(name: string): boolean {
    return this.get(name) !== undefined;
  }

  /** Appends a value; pseudo-headers go before the regular headers, as Envoy keeps them. */
  add(name: string, value: string): void {
    const n = HeaderMap.lower(name);
    if (n.startsWith(':')) {
      const firstRegular = this.entries.findIndex(([k]) => !k.startsWith(':'));
      if (firstRegular >= 0) {
        this.entries.splice(firstRegular, 0, [n, value]);
        return;
      }
    }
    this.entries.push([n, value]);
  }

  /** Sets one value: the first occurrence keeps its place, the rest go (Envoy HeaderMap::setCopy). */
  replace(name: string, value: string): void {
    const n = HeaderMap.lower(name);
    const i = this.entries.findIndex(([k]) => k === n);
    if (i < 0) {
      this.add(n, value);
      return;
    }
    this.entries[i] = [n, value];
    this.entries = this.entries.filter(([k], j) => k !== n || j === i);
  }

  remove(name: string): void {
    const n = HeaderMap.lower(name);
    this.entries = this.entries.filter(([k]) => k !== n);
  }

  /** Replaces the whole map (proxy_set_header_map_pairs). */
  setPairs(pairs: Iterable<readonly [string, string]>): void {
    this.entries = [];
    for (const [k, v] of pairs) this.add(k, v);
  }

  pairs(): HeaderPair[] {
    return this.entries.map(([k, v]) => [k, v]);
  }

  clone(): HeaderMap {
    return new HeaderMap(this.entries);
  }
}

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8');

/** PairsUtil::marshalPairs. */
export function serializePairs(pairs: ReadonlyArray<readonly [string, string]>): Uint8Array {
  const encoded = pairs.map(([k, v]) => [encoder.encode(k), encoder.encode(v)] as const);
  const size = 4 + encoded.length * 8 + encoded.reduce((n, [k, v]) => n + k.length + v.length + 2, 0);
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  view.setUint32(0, encoded.length, true);
  let p = 4;
  for (const [k, v] of encoded) {
    view.setUint32(p, k.length, true);
    view.setUint32(p + 4, v.length, true);
    p += 8;
  }
  for (const [k, v] of encoded) {
    out.set(k, p);
    p += k.length + 1;
    out.set(v, p);
    p += v.length + 1;
  }
  return out;
}

/** PairsUtil::toPairs; undefined when the bytes are not a well-formed serialisation. */
export function deserializePairs(bytes: Uint8Array): HeaderPair[] | undefined {
  if (bytes.length === 0) return [];
  if (bytes.length < 4) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const count = view.getUint32(0, true);
  if (count * 8 > bytes.length - 4) return undefined;
  const sizes: [number, number][] = [];
  let p = 4;
  for (let i = 0; i < count; i++) {
    sizes.push([view.getUint32(p, true), view.getUint32(p + 4, true)]);
    p += 8;
  }
  const out: HeaderPair[] = [];
  for (const [ks, vs] of sizes) {
    if (p + ks + 1 + vs + 1 > bytes.length) return undefined;
    const k = decoder.decode(bytes.subarray(p, p + ks));
    p += ks + 1;
    const v = decoder.decode(bytes.subarray(p, p + vs));
    p += vs + 1;
    out.push([k, v]);
  }
  return out;
}
