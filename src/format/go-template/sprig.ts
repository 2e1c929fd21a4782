/**
 * The part of sprig v3 (github.com/Masterminds/sprig, functions.go genericMap) that oras users
 * reach for, written after sprig 3.2.3's code: here the string, default, JSON, type, path,
 * encoding and hash functions, and the map of all (numbers in sprig-numbers.ts, lists and dicts
 * in sprig-collections.ts, env in sprig-env.ts, regular expressions over go-regexp.ts). Time,
 * random, crypto, semver and network functions are not here: a template naming one fails to
 * parse ("function ... not defined"), where oras would run it.
 */
import { createHash } from 'node:crypto';
import { posix } from 'node:path';
import { FuncError, type GoFunc } from './exec.js';
import { compareStrings, goQuote } from './fmt.js';
import * as goRegexp from './go-regexp.js';
import { GoRegexpError, type CompiledRegexp } from './go-regexp.js';
import { marshal } from './go-json.js';
import { SPRIG_COLLECTIONS } from './sprig-collections.js';
import { deepEqual, empty, f, kindName, n0, s0, strslice, strval, v } from './sprig-convert.js';
import { SPRIG_NUMBERS } from './sprig-numbers.js';
import { deleteSpace, title, toLower, toUpper, trimSpace } from './unicode-case.js';
import { byteLength, byteSlice, isList, MISSING, stringList, stringMap, typeName, type GoValue } from './values.js';

/** The Go string a function returns, from UTF-8 bytes (invalid ones become U+FFFD when printed). */
function fromBytes(b: Buffer): string {
  return b.toString('utf8');
}

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/**
 * encoding/base64 StdEncoding.DecodeString as sprig's b64dec uses it: the decoded bytes, or the
 * error's text (`illegal base64 data at input byte N`) as the result. Go's decodeQuantum, step by
 * step: newlines are skipped, padding is required, trailing bytes after it are an error.
 */
function b64decode(text: string): string {
  const src = Buffer.from(text, 'utf8');
  const out: number[] = [];
  const corrupt = (at: number) => `illegal base64 data at input byte ${at}`;
  let si = 0;
  while (si < src.length) {
    const dbuf = [0, 0, 0, 0];
    let dlen = 4;
    let trailing: number | undefined;
    for (let j = 0; j < 4; j++) {
      if (si === src.length) {
        if (j === 0) return fromBytes(Buffer.from(out));
        return corrupt(si - j);
      }
      const c = src[si]!;
      si++;
      const v = B64.indexOf(String.fromCharCode(c));
      if (v >= 0 && c < 128) {
        dbuf[j] = v;
        continue;
      }
      if (c === 10 || c === 13) {
        j--;
        continue;
      }
      if (c !== 61) return corrupt(si - 1);
      // Padding.
      if (j === 0 || j === 1) return corrupt(si - 1);
      if (j === 2) {
        while (si < src.length && (src[si] === 10 || src[si] === 13)) si++;
        if (si === src.length) return corrupt(src.length);
        if (src[si] !== 61) return corrupt(si - 1);
        si++;
      }
      while (si < src.length && (src[si] === 10 || src[si] === 13)) si++;
      if (si < src.length) trailing = si;
      dlen = j;
      break;
    }
    const val = (dbuf[0]! << 18) | (dbuf[1]! << 12) | (dbuf[2]! << 6) | dbuf[3]!;
    const bytes = [(val >> 16) & 255, (val >> 8) & 255, val & 255];
    out.push(...bytes.slice(0, dlen - 1));
    if (trailing !== undefined) return corrupt(trailing);
  }
  return fromBytes(Buffer.from(out));
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
  split: f(['string', 'string'], (a) => stringMap(goSplit(s0(a, 1), s0(a, 0)).map((p, i) => [`_${i}`, p]))),
  splitn: f(['string', 'int', 'string'], (a) => stringMap(goSplitN(s0(a, 2), s0(a, 0), n0(a, 1)).map((p, i) => [`_${i}`, p]))),
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

  // Regular expressions (regex.go): RE2 on JS's engine (go-regexp.ts). An invalid pattern is false
  // for regexMatch and a panic (MustCompile) for the others, as in sprig.
  regexMatch: f(['string', 'string'], (a) => {
    try {
      goRegexp.compileGoRegexp(s0(a, 0));
    } catch (err) {
      if (err instanceof GoRegexpError && err.kind === 'invalid') return false;
    }
    // Valid, or valid for Go but not translated here: then an error rather than a wrong false.
    return compiled(s0(a, 0)).re.test(s0(a, 1));
  }),
  regexFind: f(['string', 'string'], (a) => goRegexp.findString(compiled(s0(a, 0)), s0(a, 1))),
  regexFindAll: f(['string', 'string', 'int'], (a) => {
    const s = s0(a, 1);
    const found = goRegexp.allMatches(compiled(s0(a, 0)), s, n0(a, 2)).map((m) => s.slice(m.start, m.end));
    return stringList(found);
  }),
  regexReplaceAll: f(['string', 'string', 'string'], (a) => goRegexp.replaceAll(compiled(s0(a, 0)), s0(a, 1), s0(a, 2), false)),
  regexReplaceAllLiteral: f(['string', 'string', 'string'], (a) => goRegexp.replaceAll(compiled(s0(a, 0)), s0(a, 1), s0(a, 2), true)),
  regexSplit: f(['string', 'string', 'int'], (a) => stringList(goRegexp.split(compiled(s0(a, 0)), s0(a, 0), s0(a, 1), n0(a, 2)) ?? [])),
  regexQuoteMeta: f(['string'], (a) => goRegexp.quoteMeta(s0(a, 0))),

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

/** regexp.MustCompile: a pattern it refuses panics with "regexp: Compile(`...`): ...". */
function compiled(pattern: string): CompiledRegexp {
  try {
    return goRegexp.compileGoRegexp(pattern);
  } catch (err) {
    if (!(err instanceof GoRegexpError)) throw err;
    const quoted = /^[^`\x00-\x08\x0a-\x1f\x7f]*$/.test(pattern) ? `\`${pattern}\`` : goQuote(pattern);
    throw new FuncError(`regexp: Compile(${quoted}): ${err.message}`);
  }
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

/**
 * strings.go substring, on bytes as Go slices strings; out of range panics with Go's runtime
 * message (runtime/error.go boundsErrorFmts: the end is checked against the length first).
 */
function substring(start: number, end: number, s: string): string {
  const len = byteLength(s);
  const oob = (m: string) => new FuncError(`runtime error: slice bounds out of range ${m}`);
  const checkEnd = (e: number) => {
    if (e < 0) throw oob(`[:${e}]`);
    if (e > len) throw oob(`[:${e}] with length ${len}`);
  };
  if (start < 0) {
    checkEnd(end);
    return byteSlice(s, 0, end);
  }
  if (end < 0 || end > len) {
    if (start > len) throw oob(`[${start}:${len}]`);
    return byteSlice(s, start);
  }
  if (start > end) throw oob(`[${start}:${end}]`);
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
