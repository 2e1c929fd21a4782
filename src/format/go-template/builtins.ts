/**
 * text/template's predefined functions (Go src/text/template/funcs.go builtins): and, or, not,
 * len, index, print, printf, println, eq, ne, lt, le, gt, ge, html, js, urlquery, call. (`slice`
 * is sprig's in oras: sprig.FuncMap replaces the builtin of that name.)
 */
import { FuncError, type GoFunc } from './exec.js';
import { isPrint, printValue, sprint, sprintf, sprintln } from './fmt.js';
import { byteLength, GoInt, hasKey, isList, isMap, isStringMap, MISSING, truth, typeName, type GoValue } from './values.js';

type Kind = 'bool' | 'int' | 'float' | 'string' | 'invalid';

/** indirectInterface: a nil interface{} is no value. */
const unwrap = (v: GoValue): GoValue => (v === null ? MISSING : v);

/** funcs.go basicKind: lists, maps and no value all fall in invalidKind. */
function basicKind(v: GoValue): Kind {
  if (typeof v === 'boolean') return 'bool';
  if (v instanceof GoInt) return 'int';
  if (typeof v === 'number') return 'float';
  if (typeof v === 'string') return 'string';
  return 'invalid';
}

const flagsNone = { plus: false, minus: false, sharp: false, space: false, zero: false };
const asS = (v: GoValue) => printValue(v, 's', flagsNone, 0);

/** funcs.go eq: true when arg1 equals any of the others; different kinds cannot be compared. */
function eq(args: GoValue[]): GoValue {
  const a = unwrap(args[0]!);
  if (args.length < 2) throw new FuncError('missing argument for comparison');
  const k1 = basicKind(a);
  for (const raw of args.slice(1)) {
    const b = unwrap(raw);
    const k2 = basicKind(b);
    let t = false;
    if (k1 !== k2) {
      if (a !== MISSING && b !== MISSING) throw new FuncError('incompatible types for comparison');
    } else if (k1 === 'invalid') {
      // Lists and maps: comparable only with no value (canCompare, isNil), never with each other.
      if (a === MISSING || b === MISSING) t = a === b;
      else if (isList(a) !== isList(b)) throw new FuncError(`non-comparable types ${asS(a)}: ${typeName(a)}, ${typeName(b)}: ${printValue(b, 'v', flagsNone, 0)}`);
      else throw new FuncError(`non-comparable type ${asS(b)}: ${typeName(b)}`);
    } else if (a instanceof GoInt && b instanceof GoInt) {
      t = a.value === b.value;
    } else {
      t = a === b;
    }
    if (t) return true;
  }
  return false;
}

function num(v: GoValue): number | bigint {
  return v instanceof GoInt ? v.value : (v as number);
}

function lt(a0: GoValue, b0: GoValue): boolean {
  const a = unwrap(a0);
  const b = unwrap(b0);
  const k1 = basicKind(a);
  const k2 = basicKind(b);
  if (k1 === 'invalid' || k2 === 'invalid') throw new FuncError('invalid type for comparison');
  if (k1 !== k2) throw new FuncError('incompatible types for comparison');
  if (k1 === 'bool') throw new FuncError('invalid type for comparison');
  if (k1 === 'string') return Buffer.compare(Buffer.from(a as string), Buffer.from(b as string)) < 0;
  return num(a) < num(b);
}

function indexArg(i: GoValue, cap: number): number {
  const v = unwrap(i);
  if (v === MISSING) throw new FuncError('cannot index slice/array with nil');
  if (!(v instanceof GoInt)) throw new FuncError(`cannot index slice/array with type ${typeName(v)}`);
  if (v.value < 0n || v.value > BigInt(cap)) throw new FuncError(`index out of range: ${v.value}`);
  return Number(v.value);
}

function index(args: GoValue[]): GoValue {
  let item = unwrap(args[0]!);
  if (item === MISSING) throw new FuncError('index of untyped nil');
  for (const raw of args.slice(1)) {
    if (item === null || item === MISSING) throw new FuncError('index of nil pointer');
    if (typeof item === 'string') {
      const bytes: Buffer = Buffer.from(item, 'utf8');
      const x = indexArg(raw, bytes.length);
      // indexArg allows the length itself (x > cap fails); reflect then panics.
      if (x === bytes.length) throw new FuncError('reflect: string index out of range');
      item = new GoInt(BigInt(bytes[x]!), 'uint8');
    } else if (isList(item)) {
      const x = indexArg(raw, item.length);
      if (x === item.length) throw new FuncError('reflect: slice index out of range');
      item = item[x]!;
    } else if (isMap(item)) {
      const k = unwrap(raw);
      if (typeof k !== 'string') throw new FuncError(k === MISSING ? 'value is nil; should be of type string' : `value has type ${typeName(k)}; should be string`);
      // A missing key gives the zero value of the map's element type: "" for a map[string]string.
      item = hasKey(item, k) ? item[k]! : isStringMap(item) ? '' : null;
    } else throw new FuncError(`can't index item of type ${typeName(item)}`);
  }
  return item;
}

function length(v: GoValue): GoValue {
  if (v === null) throw new FuncError('len of nil pointer');
  if (v === MISSING) throw new FuncError('reflect: call of reflect.Value.Type on zero Value');
  if (typeof v === 'string') return new GoInt(BigInt(byteLength(v)));
  if (isList(v)) return new GoInt(BigInt(v.length));
  if (isMap(v)) return new GoInt(BigInt(Object.keys(v).length));
  throw new FuncError(`len of type ${typeName(v)}`);
}

/** template.HTMLEscapeString. */
function htmlEscape(s: string): string {
  return s.replace(/[\0"'&<>]/g, (c) => ({ '\0': '\uFFFD', '"': '&#34;', "'": '&#39;', '&': '&amp;', '<': '&lt;', '>': '&gt;' })[c]!);
}

/** template.JSEscapeString. */
function jsEscape(s: string): string {
  let out = '';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === '\\') out += '\\\\';
    else if (ch === "'") out += "\\'";
    else if (ch === '"') out += '\\"';
    else if (ch === '<') out += '\\u003C';
    else if (ch === '>') out += '\\u003E';
    else if (ch === '&') out += '\\u0026';
    else if (ch === '=') out += '\\u003D';
    else if (c < 0x20 || c === 0x7f || (c >= 0x80 && !isPrint(ch))) {
      out += c < 0x10000 ? `\\u${c.toString(16).toUpperCase().padStart(4, '0')}` : ch;
    } else out += ch;
  }
  return out;
}

/** url.QueryEscape. */
export function queryEscape(s: string): string {
  let out = '';
  for (const b of Buffer.from(s, 'utf8')) {
    const c = String.fromCharCode(b);
    if (/[A-Za-z0-9\-_.~]/.test(c)) out += c;
    else if (c === ' ') out += '+';
    else out += `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** funcs.go evalArgs: one string as it is, anything else as fmt.Sprint prints it, nil as <no value> (printableValue). */
function evalArgs(args: GoValue[]): string {
  if (args.length === 1 && typeof args[0] === 'string') return args[0];
  return sprint(args.map((a) => (a === MISSING || a === null ? '<no value>' : a)));
}

const values = (args: GoValue[]) => args.map((a) => (a === MISSING ? null : a));

export const BUILTINS: Record<string, GoFunc> = {
  and: { params: ['value'], variadic: 'value', call: (a) => a[a.length - 1]! },
  or: { params: ['value'], variadic: 'value', call: (a) => a[a.length - 1]! },
  not: { params: ['value'], call: (a) => !truth(a[0]!) },
  len: { params: ['value'], call: (a) => length(a[0]!) },
  index: { params: ['value'], variadic: 'value', call: index },
  print: { params: [], variadic: 'any', call: (a) => sprint(values(a)) },
  printf: { params: ['string'], variadic: 'any', call: (a) => sprintf(a[0] as string, values(a.slice(1))) },
  println: { params: [], variadic: 'any', call: (a) => sprintln(values(a)) },
  eq: { params: ['value'], variadic: 'value', call: eq },
  ne: { params: ['value', 'value'], call: (a) => !eq(a) },
  lt: { params: ['value', 'value'], call: (a) => lt(a[0]!, a[1]!) },
  le: { params: ['value', 'value'], call: (a) => lt(a[0]!, a[1]!) || (eq(a) as boolean) },
  gt: { params: ['value', 'value'], call: (a) => !(lt(a[0]!, a[1]!) || (eq(a) as boolean)) },
  ge: { params: ['value', 'value'], call: (a) => !lt(a[0]!, a[1]!) },
  html: { params: [], variadic: 'any', call: (a) => htmlEscape(evalArgs(a)) },
  js: { params: [], variadic: 'any', call: (a) => jsEscape(evalArgs(a)) },
  urlquery: { params: [], variadic: 'any', call: (a) => queryEscape(evalArgs(a)) },
  call: {
    params: ['value'],
    variadic: 'value',
    call: (a) => {
      // A JSON document holds no functions, so there is nothing `call` can call.
      const f = a[0]!;
      throw new FuncError(f === MISSING || f === null ? 'call of nil' : `non-function of type ${typeName(f)}`);
    },
  },
};
