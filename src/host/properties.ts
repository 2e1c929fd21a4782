/**
 * A documented set of Envoy attributes for proxy_get_property, serialised as Envoy serialises them
 * (Envoy source/extensions/common/wasm/context.cc Context::getProperty and serializeValue;
 * attribute names from docs/root/intro/arch_overview/advanced/attributes.rst): strings as their
 * bytes, integers as 8-byte little-endian int64, booleans as one byte, maps (headers) in the pairs
 * serialisation, `node.metadata` as a serialised google.protobuf.Struct. A path arrives as its
 * segments joined by NUL (`request\0path`); a header map can be indexed by one more segment.
 *
 * Values given with `--property key=value` (and proxy_set_property) override or add attributes;
 * for an attribute documented as an integer or a boolean the string is converted to that type.
 */
import { HeaderMap, serializePairs } from './headers.js';

export interface PropertyInputs {
  request: { method: string; path: string; authority: string; scheme: string; protocol: string; headers: HeaderMap; id?: string };
  response?: { status: number; headers: HeaderMap; trailers?: HeaderMap; codeDetails?: string };
  plugin: { name: string; rootId: string; vmId: string };
  source: { address: string; port: number };
  destination: { address: string; port: number };
  node: { id: string; cluster: string; metadata: Record<string, unknown> };
  clusterName: string;
  routeName: string;
  connectionId: number;
}

type AttributeType = 'string' | 'int' | 'bool' | 'map' | 'struct';

/** The attributes the host answers, with their types: the documented set (`run --help` lists it). */
export const ATTRIBUTES: Readonly<Record<string, AttributeType>> = Object.freeze({
  'request.path': 'string',
  'request.url_path': 'string',
  'request.host': 'string',
  'request.scheme': 'string',
  'request.method': 'string',
  'request.headers': 'map',
  'request.referer': 'string',
  'request.useragent': 'string',
  'request.id': 'string',
  'request.query': 'string',
  'request.protocol': 'string',
  'response.code': 'int',
  'response.code_details': 'string',
  'response.headers': 'map',
  'response.trailers': 'map',
  'response.flags': 'int',
  'source.address': 'string',
  'source.port': 'int',
  'destination.address': 'string',
  'destination.port': 'int',
  'connection.mtls': 'bool',
  'connection.id': 'int',
  'upstream.address': 'string',
  'upstream.port': 'int',
  plugin_name: 'string',
  plugin_root_id: 'string',
  plugin_vm_id: 'string',
  'node.id': 'string',
  'node.cluster': 'string',
  'node.metadata': 'struct',
  cluster_name: 'string',
  route_name: 'string',
  'xds.cluster_name': 'string',
  'xds.route_name': 'string',
});

type Value = string | number | boolean | HeaderMap | Record<string, unknown> | undefined;

function attributeValue(name: string, i: PropertyInputs): Value {
  const q = i.request.path.indexOf('?');
  switch (name) {
    case 'request.path': return i.request.path;
    case 'request.url_path': return q < 0 ? i.request.path : i.request.path.slice(0, q);
    case 'request.query': return q < 0 ? '' : i.request.path.slice(q + 1);
    case 'request.host': return i.request.authority;
    case 'request.scheme': return i.request.scheme;
    case 'request.method': return i.request.method;
    case 'request.headers': return i.request.headers;
    case 'request.referer': return i.request.headers.get('referer');
    case 'request.useragent': return i.request.headers.get('user-agent');
    case 'request.id': return i.request.headers.get('x-request-id') ?? i.request.id;
    case 'request.protocol': return i.request.protocol;
    case 'response.code': return i.response?.status;
    case 'response.code_details': return i.response === undefined ? undefined : (i.response.codeDetails ?? 'via_upstream');
    case 'response.headers': return i.response?.headers;
    case 'response.trailers': return i.response?.trailers;
    case 'response.flags': return i.response === undefined ? undefined : 0;
    case 'source.address': return `${i.source.address}:${i.source.port}`;
    case 'source.port': return i.source.port;
    case 'destination.address': return `${i.destination.address}:${i.destination.port}`;
    case 'destination.port': return i.destination.port;
    case 'connection.mtls': return false;
    case 'connection.id': return i.connectionId;
    case 'upstream.address': return `${i.destination.address}:${i.destination.port}`;
    case 'upstream.port': return i.destination.port;
    case 'plugin_name': return i.plugin.name;
    case 'plugin_root_id': return i.plugin.rootId;
    case 'plugin_vm_id': return i.plugin.vmId;
    case 'node.id': return i.node.id;
    case 'node.cluster': return i.node.cluster;
    case 'node.metadata': return i.node.metadata;
    case 'cluster_name': case 'xds.cluster_name': return i.clusterName;
    case 'route_name': case 'xds.route_name': return i.routeName;
    default: return undefined;
  }
}

const encoder = new TextEncoder();

function int64(n: number): Uint8Array {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigInt64(0, BigInt(Math.trunc(n)), true);
  return out;
}

// --- google.protobuf.Struct, as Envoy serialises node.metadata (protobuf wire format) ---
function varint(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n = Math.floor(n / 128);
    if (n) b |= 0x80;
    out.push(b);
  } while (n);
  return out;
}
function lengthDelimited(field: number, bytes: Uint8Array | number[]): number[] {
  return [...varint((field << 3) | 2), ...varint(bytes.length), ...bytes];
}
function protoValue(v: unknown): number[] {
  if (v === null || v === undefined) return [...varint((1 << 3) | 0), 0];
  if (typeof v === 'number') {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setFloat64(0, v, true);
    return [...varint((2 << 3) | 1), ...b];
  }
  if (typeof v === 'string') return lengthDelimited(3, encoder.encode(v));
  if (typeof v === 'boolean') return [...varint((4 << 3) | 0), v ? 1 : 0];
  if (Array.isArray(v)) return lengthDelimited(6, v.flatMap((x) => lengthDelimited(1, protoValue(x))));
  return lengthDelimited(5, protoStruct(v as Record<string, unknown>));
}
function protoStruct(o: Record<string, unknown>): number[] {
  return Object.entries(o).flatMap(([k, v]) => lengthDelimited(1, [...lengthDelimited(1, encoder.encode(k)), ...lengthDelimited(2, protoValue(v))]));
}

function serialize(v: Value, type: AttributeType): Uint8Array | undefined {
  if (v === undefined) return undefined;
  if (v instanceof HeaderMap) return serializePairs(v.pairs());
  if (typeof v === 'number') return int64(v);
  if (typeof v === 'boolean') return new Uint8Array([v ? 1 : 0]);
  if (typeof v === 'string') {
    if (type === 'int' && /^-?\d+$/.test(v)) return int64(Number(v));
    if (type === 'bool' && (v === 'true' || v === 'false')) return new Uint8Array([v === 'true' ? 1 : 0]);
    return encoder.encode(v);
  }
  return new Uint8Array(protoStruct(v));
}

/**
 * The serialised value of the property at `segments`, or undefined (NotFound).
 * `overrides` holds `--property` values and what the filter set, keyed by the dotted path.
 */
export function getProperty(segments: string[], inputs: PropertyInputs, overrides: ReadonlyMap<string, Uint8Array>): Uint8Array | undefined {
  const dotted = segments.join('.');
  const override = overrides.get(dotted);
  if (override !== undefined) return override;
  const type = ATTRIBUTES[dotted];
  if (type !== undefined) return serialize(attributeValue(dotted, inputs), type);
  // One more segment into a map: request.headers.<name>, node.metadata.<key>.
  if (segments.length >= 2) {
    const parent = segments.slice(0, -1).join('.');
    const key = segments[segments.length - 1]!;
    const v = ATTRIBUTES[parent] === undefined ? undefined : attributeValue(parent, inputs);
    if (v instanceof HeaderMap) {
      const h = v.get(key);
      return h === undefined ? undefined : encoder.encode(h);
    }
    if (v !== undefined && typeof v === 'object') {
      const inner = (v as Record<string, unknown>)[key];
      if (inner === undefined) return undefined;
      if (typeof inner === 'string') return encoder.encode(inner);
      if (typeof inner === 'number') return int64(inner);
      if (typeof inner === 'boolean') return new Uint8Array([inner ? 1 : 0]);
      return new Uint8Array(protoValue(inner));
    }
  }
  return undefined;
}

/** A `--property key=value` as the bytes getProperty returns for it (typed when the attribute is documented). */
export function propertyOverride(key: string, value: string): Uint8Array {
  return serialize(value, ATTRIBUTES[key] ?? 'string')!;
}
