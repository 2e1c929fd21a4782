/**
 * The part of sprig v3 (github.com/Masterminds/sprig, functions.go genericMap) that oras users
 * reach for, written after sprig 3.2.3's code: here the string, default, JSON, type, path,
 * encoding and hash functions, and the map of all (numbers in sprig-numbers.ts, lists and dicts
 * in sprig-collections.ts). Time, random, crypto, regex, semver, network and environment functions
 * are not here: a template naming one fails to parse ("function ... not defined"), where oras
 * would run it.
 */
import { createHash } from 'node:crypto';
import { posix } from 'node:path';
import { FuncError, type GoFunc } from './exec.js';
import { compareStrings, goQuote } from './fmt.js';
import { marshal } from './go-json.js';
import { SPRIG_COLLECTIONS } from './sprig-collections.js';
import { deepEqual, empty, f, kindName, n0, s0, strslice, strval, v } from './sprig-convert.js';
import { SPRIG_NUMBERS } from './sprig-numbers.js';
import { deleteSpace, title, toLower, toUpper, trimSpace } from './unicode-case.js';
import { byteLength, byteSlice, isList, MISSING, stringList, typeName, type GoValue } from './values.js';

/** The Go string a function returns, from UTF-8 bytes (invalid ones become U+FFFD when printed). */
function fromBytes(b: Buffer): string {
  return b.toString('utf8');
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


const STRINGS: Record<string, GoFunc> = {
  // Strings (strings.go).
  upper: f(['string'], (a) => toUpper(s0(a, 0))),
  lower: f(['string'], (a) => toLower(s0(a, 0))),
  title: f(['string'], (a) => title(s0(a, 0))),
  trim: f(['string'], (a) => trimSpace(s0(a, 0))),
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
  nospace: f(['string'], (a) => deleteSpace(s0(a, 0))),
  toString: f(['any'], (a) => strval(a[0]!)),
  toStrings: f(['any'], (a) => stringList(strslice(a[0]!))),
  join: f(['string', 'any'], (a) => strslice(a[1]!).join(s0(a, 0))),
  splitList: f(['string', 'string'], (a) => stringList(goSplit(s0(a, 1), s0(a, 0)))),
  // map[string]string{_0: ..., _1: ...}
  split: f(['string', 'string'], (a) => Object.fromEntries(goSplit(s0(a, 1), s0(a, 0)).map((p, i) => [`_${i}`, p]))),
  splitn: f(['string', 'int', 'string'], (a) => Object.fromEntries(goSplitN(s0(a, 2), s0(a, 0), n0(a, 1)).map((p, i) => [`_${i}`, p]))),
  sortAlpha: f(['any'], (a) => (isList(a[0]!) ? stringList(strslice(a[0]!).sort(compareStrings)) : stringList([strval(a[0]!)]))),
  plural: f(['string', 'string', 'int'], (a) => (n0(a, 2) === 1 ? s0(a, 0) : s0(a, 1))),
  sha256sum: f(['string'], (a) => createHash('sha256').update(s0(a, 0), 'utf8').digest('hex')),
  sha1sum: f(['string'], (a) => createHash('sha1').update(s0(a, 0), 'utf8').digest('hex')),
  b64enc: f(['string'], (a) => Buffer.from(s0(a, 0), 'utf8').toString('base64')),
  b64dec: f(['string'], (a) => b64decode(s0(a, 0))),

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

/** strings.SplitN: n < 0 all, 0 none, else at most n parts (the last one the rest). */
function goSplitN(s: string, sep: string, n: number): string[] {
  if (n === 0) return [];
  const all = goSplit(s, sep);
  if (n < 0 || all.length <= n) return all;
  return [...all.slice(0, n - 1), all.slice(n - 1).join(sep)];
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

/** sprig.FuncMap's functions that are here, by name. */
export const SPRIG: Record<string, GoFunc> = { ...STRINGS, ...SPRIG_NUMBERS, ...SPRIG_COLLECTIONS };
