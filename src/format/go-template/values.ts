/**
 * The values a Go template sees when oras runs it (cmd/oras/internal/output/template.go
 * ParseAndWrite): the command's document after a JSON round trip, so maps of string keys,
 * []interface{}, strings, float64, bool and nil, plus what functions return (Go ints of
 * several types). JSON's own types map to JS ones; Go's integers are `GoInt` so that
 * `{{len .x}}` prints `3` while the float64 `3` from JSON prints `3` too but 1048576 prints
 * `1.048576e+06`, and so that `int64` (sprig's `add`) is refused where Go wants an `int`.
 */

/** Go's invalid reflect.Value: a missing map key, printed `<no value>`. */
export const MISSING: unique symbol = Symbol('no value');
export type Missing = typeof MISSING;

export type IntType = 'int' | 'int64' | 'uint8' | 'int32';

/** An integer of a Go integer type (float64 stays a JS number). */
export class GoInt {
  constructor(
    readonly value: bigint,
    readonly type: IntType = 'int',
  ) {}
}

export interface GoMap {
  [key: string]: GoValue;
}

/** A Go slice; `elem` says which Go type its elements have, when not interface{} (%T and errors show it). */
export type GoList = GoValue[] & { elem?: 'string' | 'int' | '[]interface {}' };

export type GoValue = null | boolean | number | string | GoInt | GoList | GoMap | Missing;

/** Maps whose Go type is map[string]string (sprig's split and splitn), not map[string]interface{}. */
const STRING_MAPS = new WeakSet<GoMap>();

export function stringMap(entries: Array<[string, string]>): GoMap {
  const m: GoMap = Object.fromEntries(entries);
  STRING_MAPS.add(m);
  return m;
}

export function isStringMap(v: GoValue): boolean {
  return isMap(v) && STRING_MAPS.has(v);
}

export function isMap(v: GoValue): v is GoMap {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof GoInt);
}

export function isList(v: GoValue): v is GoList {
  return Array.isArray(v);
}

/** A []string, as sprig's splitList, keys and sortAlpha return. */
export function stringList(items: string[]): GoList {
  const out: GoList = [...items];
  out.elem = 'string';
  return out;
}

export function goInt(n: number | bigint, type: IntType = 'int'): GoInt {
  return new GoInt(typeof n === 'bigint' ? n : BigInt(Math.trunc(n)), type);
}

export function hasKey(m: GoMap, key: string): boolean {
  return Object.prototype.hasOwnProperty.call(m, key);
}

/** Go's `%T`: reflect.Type's String(). */
export function typeName(v: GoValue): string {
  if (v === MISSING || v === null) return '<nil>';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'number') return 'float64';
  if (typeof v === 'string') return 'string';
  if (v instanceof GoInt) return v.type;
  if (isList(v)) return v.elem ? `[]${v.elem}` : '[]interface {}';
  return STRING_MAPS.has(v) ? 'map[string]string' : 'map[string]interface {}';
}

/** text/template exec.go `isTrue`: the zero value, an empty string, list or map are false. */
export function truth(v: GoValue): boolean {
  if (v === MISSING || v === null) return false;
  if (typeof v === 'boolean') return v;
  if (typeof v === 'number') return v !== 0;
  if (typeof v === 'string') return v.length > 0;
  if (v instanceof GoInt) return v.value !== 0n;
  if (isList(v)) return v.length > 0;
  return Object.keys(v).length > 0;
}

/** Length in bytes, as Go's len of a string (UTF-8). */
export function byteLength(s: string): number {
  return Buffer.byteLength(s, 'utf8');
}

/** Go's s[start:end] on the UTF-8 bytes. */
export function byteSlice(s: string, start: number, end?: number): string {
  return Buffer.from(s, 'utf8').subarray(start, end).toString('utf8');
}

/** The JSON round trip oras does (output.ToMap): numbers become float64, undefined keys go. */
export function fromJsonDocument(value: unknown): GoValue {
  return JSON.parse(JSON.stringify(value ?? null)) as GoValue;
}
