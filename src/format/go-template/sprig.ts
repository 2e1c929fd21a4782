/**
 * The part of sprig v3 (github.com/Masterminds/sprig, functions.go genericMap) that oras users
 * reach for, written after sprig 3.2.3's code: the string, list, dict, default, JSON, number,
 * path, encoding and hash functions. Time, random, crypto, regex, semver and network functions
 * are not here: a template naming one fails to parse ("function ... not defined"), where oras
 * would run it.
 */
import { createHash } from 'node:crypto';
import { posix } from 'node:path';
import { FuncError, type GoFunc } from './exec.js';
import { compareStrings, goQuote, printValue } from './fmt.js';
import { marshal } from './go-json.js';
import { byteLength, byteSlice, GoInt, goInt, hasKey, isList, isMap, MISSING, stringList, typeName, type GoMap, type GoValue } from './values.js';

const noFlags = { plus: false, minus: false, sharp: false, space: false, zero: false };
const v = (x: GoValue) => printValue(x, 'v', noFlags, 0);

/** strings.go strval: a string as is, anything else as %v. */
function strval(x: GoValue): string {
  return typeof x === 'string' ? x : v(x);
}

/** strings.go strslice: a list's non-nil elements as strings; nil is []; anything else [strval]. */
function strslice(x: GoValue): string[] {
  if (isList(x)) return x.filter((e) => e !== null && e !== MISSING).map(strval);
  if (x === null || x === MISSING) return [];
  return [strval(x)];
}

/** spf13/cast ToInt64E: ints, float64 (truncated), strings in Go syntax ("0x1f", "010"), bool; else 0. */
function toInt64(x: GoValue): bigint {
  if (x instanceof GoInt) return x.value;
  if (typeof x === 'number') return Number.isFinite(x) ? BigInt(Math.trunc(x)) : -0x8000000000000000n;
  if (typeof x === 'boolean') return x ? 1n : 0n;
  if (typeof x === 'string') {
    // trimZeroDecimal: "12.000" -> "12".
    const s = /^(.*)\.0+$/.exec(x)?.[1] ?? x;
    const m = /^([+-]?)(0[xX][0-9a-fA-F_]+|0[oO][0-7_]+|0[bB][01_]+|0[0-7_]*|[1-9][0-9_]*)$/.exec(s);
    if (!m) return 0n;
    let body = m[2]!.replace(/_/g, '');
    if (/^0[0-7]+$/.test(body)) body = `0o${body.slice(1)}`;
    const n = BigInt(body);
    const r = m[1] === '-' ? -n : n;
    return r > 0x7fffffffffffffffn || r < -0x8000000000000000n ? 0n : r;
  }
  return 0n;
}

/** cast ToFloat64E. */
function toFloat64(x: GoValue): number {
  if (typeof x === 'number') return x;
  if (x instanceof GoInt) return Number(x.value);
  if (typeof x === 'boolean') return x ? 1 : 0;
  if (typeof x === 'string') {
    const s = x.replace(/_/g, '');
    if (/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(s)) return Number(s);
    if (/^[+-]?(inf|infinity)$/i.test(s)) return s.startsWith('-') ? -Infinity : Infinity;
    if (/^nan$/i.test(s)) return NaN;
    return 0;
  }
  return 0;
}

/** Go's int64 arithmetic wraps around. */
const wrap64 = (n: bigint) => BigInt.asIntN(64, n);
const i64 = (n: bigint) => new GoInt(wrap64(n), 'int64');

/** defaults.go empty: the zero value, or an empty string, list or map. */
function empty(x: GoValue): boolean {
  if (x === null || x === MISSING) return true;
  if (typeof x === 'string') return x.length === 0;
  if (typeof x === 'boolean') return !x;
  if (typeof x === 'number') return x === 0;
  if (x instanceof GoInt) return x.value === 0n;
  if (isList(x)) return x.length === 0;
  return Object.keys(x).length === 0;
}

/** Go panics in a template function become the call's error (exec.go safeCall). */
function listOf(x: GoValue, fn: string): GoValue[] {
  if (x === null || x === MISSING) throw new FuncError('runtime error: invalid memory address or nil pointer dereference');
  if (!isList(x)) throw new FuncError(`Cannot find ${fn} on type ${kindName(x)}`);
  return x;
}

/** reflect.Kind's String(). */
function kindName(x: GoValue): string {
  if (typeof x === 'string') return 'string';
  if (typeof x === 'number') return 'float64';
  if (typeof x === 'boolean') return 'bool';
  if (x instanceof GoInt) return x.type;
  if (isMap(x)) return 'map';
  if (isList(x)) return 'slice';
  return 'invalid';
}

/** The Go string a function returns, from UTF-8 bytes (invalid ones become U+FFFD when printed). */
function fromBytes(b: Buffer): string {
  return b.toString('utf8');
}

function deepEqual(a: GoValue, b: GoValue): boolean {
  if (a === b) return true;
  if (a instanceof GoInt || b instanceof GoInt) return a instanceof GoInt && b instanceof GoInt && a.type === b.type && a.value === b.value;
  if (isList(a) && isList(b)) return a.length === b.length && a.every((e, i) => deepEqual(e, b[i]!));
  if (isMap(a) && isMap(b)) {
    const ka = Object.keys(a);
    return ka.length === Object.keys(b).length && ka.every((k) => hasKey(b, k) && deepEqual(a[k]!, b[k]!));
  }
  return false;
}

/** encoding/base64 StdEncoding.DecodeString's error text, as sprig's b64dec returns it. */
function b64decode(s: string): string {
  const bytes = Buffer.from(s, 'latin1');
  // Padding and alphabet are checked as Go checks them: the first bad byte is reported.
  const alphabet = /[A-Za-z0-9+/]/;
  let i = 0;
  const n = bytes.length;
  while (i < n && alphabet.test(String.fromCharCode(bytes[i]!))) i++;
  let pad = 0;
  const dataLen = i;
  while (i < n && bytes[i] === 61 && pad < 2) {
    i++;
    pad++;
  }
  const rem = dataLen % 4;
  const bad = i < n || (pad > 0 && (rem + pad !== 4 || rem < 2)) || (pad === 0 && rem === 1);
  if (bad) {
    // Go reports the offset where decoding broke; close enough for the cases users hit.
    const at = i < n && pad === 0 ? (rem === 1 ? dataLen - 1 : i) : pad > 0 ? dataLen : dataLen - 1;
    return `illegal base64 data at input byte ${at}`;
  }
  if (pad === 0 && rem !== 0) return `illegal base64 data at input byte ${dataLen}`;
  return fromBytes(Buffer.from(s, 'base64'));
}

const f = (params: GoFunc['params'], call: GoFunc['call'], variadic?: GoFunc['variadic']): GoFunc => ({ params, variadic, call });
const s0 = (a: GoValue[], i: number) => a[i] as string;
const n0 = (a: GoValue[], i: number) => Number((a[i] as GoInt).value);

export const SPRIG: Record<string, GoFunc> = {
  // Strings (strings.go).
  upper: f(['string'], (a) => s0(a, 0).toUpperCase()),
  lower: f(['string'], (a) => s0(a, 0).toLowerCase()),
  title: f(['string'], (a) => s0(a, 0).replace(/(^|[^\p{L}\p{N}_'])(\p{L})/gu, (_m, p: string, c: string) => p + c.toUpperCase())),
  trim: f(['string'], (a) => s0(a, 0).replace(/^[\s\u0085\u00a0]+|[\s\u0085\u00a0]+$/g, '')),
  trimAll: f(['string', 'string'], (a) => trimSet(s0(a, 1), s0(a, 0))),
  trimPrefix: f(['string', 'string'], (a) => (s0(a, 1).startsWith(s0(a, 0)) ? s0(a, 1).slice(s0(a, 0).length) : s0(a, 1))),
  trimSuffix: f(['string', 'string'], (a) => (s0(a, 0) !== '' && s0(a, 1).endsWith(s0(a, 0)) ? s0(a, 1).slice(0, -s0(a, 0).length) : s0(a, 1))),
  replace: f(['string', 'string', 'string'], (a) => replaceAll(s0(a, 2), s0(a, 0), s0(a, 1))),
  contains: f(['string', 'string'], (a) => s0(a, 1).includes(s0(a, 0))),
  hasPrefix: f(['string', 'string'], (a) => s0(a, 1).startsWith(s0(a, 0))),
  hasSuffix: f(['string', 'string'], (a) => s0(a, 1).endsWith(s0(a, 0))),
  quote: f([], (a) => a.filter((x) => x !== null && x !== MISSING).map((x) => goQuote(strval(x))).join(' '), 'any'),
  squote: f([], (a) => a.filter((x) => x !== null && x !== MISSING).map((x) => `'${v(x)}'`).join(' '), 'any'),
  cat: f([], (a) => a.filter((x) => x !== null && x !== MISSING).map(v).join(' '), 'any'),
  indent: f(['int', 'string'], (a) => indent(n0(a, 0), s0(a, 1))),
  nindent: f(['int', 'string'], (a) => `\n${indent(n0(a, 0), s0(a, 1))}`),
  repeat: f(['int', 'string'], (a) => {
    if (n0(a, 0) < 0) throw new FuncError('strings: negative Repeat count');
    return s0(a, 1).repeat(n0(a, 0));
  }),
  substr: f(['int', 'int', 'string'], (a) => substring(n0(a, 0), n0(a, 1), s0(a, 2))),
  trunc: f(['int', 'string'], (a) => {
    const c = n0(a, 0);
    const s = s0(a, 1);
    const len = byteLength(s);
    if (c < 0 && len + c > 0) return byteSlice(s, len + c);
    if (c >= 0 && len > c) return byteSlice(s, 0, c);
    return s;
  }),
  nospace: f(['string'], (a) => s0(a, 0).replace(/\s/g, '')),
  toString: f(['any'], (a) => strval(a[0]!)),
  toStrings: f(['any'], (a) => stringList(strslice(a[0]!))),
  join: f(['string', 'any'], (a) => strslice(a[1]!).join(s0(a, 0))),
  splitList: f(['string', 'string'], (a) => stringList(goSplit(s0(a, 1), s0(a, 0)))),
  sortAlpha: f(['any'], (a) => (isList(a[0]!) ? stringList(strslice(a[0]!).sort(compareStrings)) : stringList([strval(a[0]!)]))),
  plural: f(['string', 'string', 'int'], (a) => (n0(a, 2) === 1 ? s0(a, 0) : s0(a, 1))),
  sha256sum: f(['string'], (a) => createHash('sha256').update(s0(a, 0), 'utf8').digest('hex')),
  sha1sum: f(['string'], (a) => createHash('sha1').update(s0(a, 0), 'utf8').digest('hex')),
  b64enc: f(['string'], (a) => Buffer.from(s0(a, 0), 'utf8').toString('base64')),
  b64dec: f(['string'], (a) => b64decode(s0(a, 0))),

  // Numbers (numeric.go, with spf13/cast's conversions).
  atoi: f(['string'], (a) => goInt(/^[+-]?\d+$/.test(s0(a, 0)) && BigInt.asIntN(64, BigInt(s0(a, 0))) === BigInt(s0(a, 0)) ? BigInt(s0(a, 0)) : 0n)),
  int: f(['any'], (a) => new GoInt(toInt64(a[0]!), 'int')),
  int64: f(['any'], (a) => new GoInt(toInt64(a[0]!), 'int64')),
  float64: f(['any'], (a) => toFloat64(a[0]!)),
  add1: f(['any'], (a) => i64(toInt64(a[0]!) + 1n)),
  add: f([], (a) => i64(a.reduce<bigint>((s, x) => s + toInt64(x), 0n)), 'any'),
  sub: f(['any', 'any'], (a) => i64(toInt64(a[0]!) - toInt64(a[1]!))),
  mul: f(['any'], (a) => i64(a.slice(1).reduce<bigint>((s, x) => wrap64(s * toInt64(x)), toInt64(a[0]!))), 'any'),
  div: f(['any', 'any'], (a) => {
    const d = toInt64(a[1]!);
    if (d === 0n) throw new FuncError('runtime error: integer divide by zero');
    return i64(toInt64(a[0]!) / d);
  }),
  mod: f(['any', 'any'], (a) => {
    const d = toInt64(a[1]!);
    if (d === 0n) throw new FuncError('runtime error: integer divide by zero');
    return i64(toInt64(a[0]!) % d);
  }),
  max: f(['any'], (a) => i64(a.slice(1).reduce<bigint>((m, x) => (toInt64(x) > m ? toInt64(x) : m), toInt64(a[0]!))), 'any'),
  min: f(['any'], (a) => i64(a.slice(1).reduce<bigint>((m, x) => (toInt64(x) < m ? toInt64(x) : m), toInt64(a[0]!))), 'any'),

  // Defaults and JSON (defaults.go).
  default: f(['any'], (a) => (a.length < 2 || empty(a[1]!) ? a[0]! : a[1]!), 'any'),
  empty: f(['any'], (a) => empty(a[0]!)),
  coalesce: f([], (a) => a.find((x) => !empty(x)) ?? null, 'any'),
  ternary: f(['any', 'any', 'bool'], (a) => (a[2] ? a[0]! : a[1]!)),
  toJson: f(['any'], (a) => marshal(a[0]!, { escapeHTML: true })),
  toPrettyJson: f(['any'], (a) => marshal(a[0]!, { escapeHTML: true, indent: '  ' })),
  toRawJson: f(['any'], (a) => marshal(a[0]!, { escapeHTML: false })),
  fromJson: f(['string'], (a) => {
    try {
      return JSON.parse(s0(a, 0)) as GoValue;
    } catch {
      return null;
    }
  }),
  typeOf: f(['any'], (a) => typeName(a[0]!)),
  kindOf: f(['any'], (a) => kindName(a[0]!)),
  deepEqual: f(['any', 'any'], (a) => deepEqual(a[0]!, a[1]!)),

  // Lists (list.go).
  list: f([], (a) => a.map((x) => (x === MISSING ? null : x)), 'any'),
  first: f(['any'], (a) => listOf(a[0]!, 'first')[0] ?? null),
  last: f(['any'], (a) => {
    const l = listOf(a[0]!, 'last');
    return l.length === 0 ? null : l[l.length - 1]!;
  }),
  rest: f(['any'], (a) => {
    const l = listOf(a[0]!, 'rest');
    return l.length === 0 ? null : l.slice(1);
  }),
  initial: f(['any'], (a) => {
    const l = listOf(a[0]!, 'initial');
    return l.length === 0 ? null : l.slice(0, -1);
  }),
  reverse: f(['any'], (a) => {
    const l = listOf(a[0]!, 'reverse');
    return [...l].reverse();
  }),
  has: f(['any', 'any'], (a) => {
    const hay = a[1]!;
    if (hay === null || hay === MISSING) return false;
    return listOf(hay, 'has').some((e) => deepEqual(e, a[0]!));
  }),
  uniq: f(['any'], (a) => {
    const out: GoValue[] = [];
    for (const e of listOf(a[0]!, 'uniq')) if (!out.some((o) => deepEqual(o, e))) out.push(e);
    return out;
  }),
  compact: f(['any'], (a) => listOf(a[0]!, 'compact').filter((e) => !empty(e))),
  slice: f(['any'], (a) => {
    const l = a[0]!;
    if (l === null || l === MISSING) throw new FuncError('runtime error: invalid memory address or nil pointer dereference');
    if (!isList(l)) throw new FuncError(`list should be type of slice or array but ${kindName(l)}`);
    if (l.length === 0) return null;
    const start = a.length > 1 ? Number(toInt64(a[1]!)) : 0;
    const end = a.length > 2 ? Number(toInt64(a[2]!)) : l.length;
    if (start < 0 || end > l.length || start > end) throw new FuncError(`reflect: slice index out of range`);
    return l.slice(start, end);
  }, 'any'),

  // Dicts (dict.go).
  dict: f([], (a) => {
    const d: GoMap = {};
    for (let i = 0; i < a.length; i += 2) d[strval(a[i]!)] = i + 1 < a.length ? (a[i + 1] === MISSING ? null : a[i + 1]!) : '';
    return d;
  }, 'any'),
  keys: f([], (a) => stringList(a.flatMap((d) => (isMap(d) ? Object.keys(d) : []))), 'map'),
  values: f(['map'], (a) => (isMap(a[0]!) ? Object.values(a[0]) : [])),
  hasKey: f(['map', 'string'], (a) => isMap(a[0]!) && hasKey(a[0], s0(a, 1))),
  get: f(['map', 'string'], (a) => (isMap(a[0]!) && hasKey(a[0], s0(a, 1)) ? a[0][s0(a, 1)]! : '')),
  pluck: f(['string'], (a) => a.slice(1).filter((d) => isMap(d) && hasKey(d, s0(a, 0))).map((d) => (d as GoMap)[s0(a, 0)]!), 'map'),

  // Paths (path package).
  base: f(['string'], (a) => goPathBase(s0(a, 0))),
  dir: f(['string'], (a) => goPathClean(s0(a, 0).slice(0, s0(a, 0).lastIndexOf('/') + 1))),
  ext: f(['string'], (a) => {
    const s = s0(a, 0);
    for (let i = s.length - 1; i >= 0 && s[i] !== '/'; i--) if (s[i] === '.') return s.slice(i);
    return '';
  }),
  clean: f(['string'], (a) => goPathClean(s0(a, 0))),
};

function trimSet(s: string, cutset: string): string {
  const set = new Set([...cutset]);
  const chars = [...s];
  let i = 0;
  let j = chars.length;
  while (i < j && set.has(chars[i]!)) i++;
  while (j > i && set.has(chars[j - 1]!)) j--;
  return chars.slice(i, j).join('');
}

/** strings.Replace(s, old, new, -1): an empty old inserts new around every rune. */
function replaceAll(s: string, old: string, nu: string): string {
  if (old === '') return [...s].reduce((acc, ch) => acc + ch + nu, nu);
  return s.split(old).join(nu);
}

/** strings.Split: an empty separator splits into runes. */
function goSplit(s: string, sep: string): string[] {
  if (sep === '') return [...s];
  return s.split(sep);
}

function indent(n: number, s: string): string {
  if (n < 0) throw new FuncError('strings: negative Repeat count');
  const pad = ' '.repeat(n);
  return pad + s.replace(/\n/g, `\n${pad}`);
}

/** strings.go substring, on bytes as Go slices strings; out of range panics as Go does. */
function substring(start: number, end: number, s: string): string {
  const len = byteLength(s);
  const oob = () => new FuncError(`runtime error: slice bounds out of range`);
  if (start < 0) {
    if (end < 0 || end > len) throw oob();
    return byteSlice(s, 0, end);
  }
  if (end < 0 || end > len) {
    if (start > len) throw oob();
    return byteSlice(s, start);
  }
  if (start > end) throw oob();
  return byteSlice(s, start, end);
}

function goPathClean(p: string): string {
  if (p === '') return '.';
  const c = posix.normalize(p);
  return c.length > 1 && c.endsWith('/') ? c.slice(0, -1) : c;
}

function goPathBase(p: string): string {
  if (p === '') return '.';
  const t = p.replace(/\/+$/, '');
  if (t === '') return '/';
  return t.slice(t.lastIndexOf('/') + 1);
}
