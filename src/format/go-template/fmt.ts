/**
 * The part of Go's fmt package templates print with (src/fmt/print.go, format.go): Sprint,
 * Sprintln, Sprintf and the %v of every value a template can hold. Maps print with sorted keys
 * (`map[a:1 b:2]`), lists as `[a b]`, nil as `<nil>`, float64 as %g with the shortest digits
 * (1048576 -> `1.048576e+06`), a verb that does not fit its operand as `%!d(string=x)`.
 */
import { formatFloat } from './float-format.js';
import { GoInt, isList, isMap, MISSING, typeName, type GoValue } from './values.js';

interface Flags {
  plus: boolean;
  minus: boolean;
  sharp: boolean;
  space: boolean;
  zero: boolean;
  /** %#v: Go syntax (print.go sharpV). */
  sharpV?: boolean;
  width?: number;
  prec?: number;
}

const noFlags = (): Flags => ({ plus: false, minus: false, sharp: false, space: false, zero: false });

function runeCount(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

/** fmt.pad: to the width in runes, spaces (or zeros with the 0 flag) left, or right with '-'. */
function pad(s: string, f: Flags): string {
  if (f.width === undefined) return s;
  const n = f.width - runeCount(s);
  if (n <= 0) return s;
  if (f.minus) return s + ' '.repeat(n);
  return (f.zero ? '0' : ' ').repeat(n) + s;
}

const HEX = '0123456789abcdef';

/** unicode.IsPrint: letters, marks, numbers, punctuation, symbols and the ASCII space. */
export function isPrint(ch: string): boolean {
  return ch === ' ' || /^[\p{L}\p{M}\p{N}\p{P}\p{S}]$/u.test(ch);
}

/** strconv.Quote (and QuoteToASCII with ascii). */
export function goQuote(s: string, ascii = false, quote = '"'): string {
  let out = quote;
  for (const ch of s) {
    const r = ch.codePointAt(0)!;
    if (ch === quote || ch === '\\') out += `\\${ch}`;
    else if (ch === '\x07') out += '\\a';
    else if (ch === '\b') out += '\\b';
    else if (ch === '\f') out += '\\f';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (ch === '\v') out += '\\v';
    else if (r >= 0xd800 && r <= 0xdfff) out += '\\ufffd'; // a lone surrogate is not valid UTF-8 in Go either
    else if ((ascii ? r < 0x80 : true) && isPrint(ch)) out += ch;
    else if (r < 0x20 || r === 0x7f) out += `\\x${HEX[r >> 4]}${HEX[r & 15]}`;
    else if (r < 0x10000) out += `\\u${r.toString(16).padStart(4, '0')}`;
    else out += `\\U${r.toString(16).padStart(8, '0')}`;
  }
  return out + quote;
}

function canBackquote(s: string): boolean {
  for (const ch of s) {
    if (ch === '`' || ch === '\ufeff') return false;
    const r = ch.codePointAt(0)!;
    if (r < 0x20 && ch !== '\t') return false;
    if (r === 0x7f) return false;
  }
  return true;
}

/** fmt.fmtInteger. */
function fmtInteger(v: bigint, verb: string, f: Flags): string {
  // A number that is no Unicode code point prints as U+FFFD (utf8.RuneError).
  const rune = () => (v < 0n || v > 0x10ffffn || (v >= 0xd800n && v <= 0xdfffn) ? '\ufffd' : String.fromCodePoint(Number(v)));
  if (verb === 'c') return pad(rune(), f);
  if (verb === 'q') return pad(goQuote(rune(), f.plus, "'"), f);
  if (verb === 'U') {
    // format.go fmtUnicode: at least 4 hex digits (more with a precision), the number as uint64
    // (a negative one is its two's complement), with # the character too; never zero padded.
    const u = BigInt.asUintN(64, v);
    let out = `U+${u.toString(16).toUpperCase().padStart(Math.max(4, f.prec ?? 0), '0')}`;
    if (f.sharp && u <= 0x10ffffn && isPrint(String.fromCodePoint(Number(u)))) out += ` '${String.fromCodePoint(Number(u))}'`;
    return pad(out, { ...f, zero: false });
  }
  const base = verb === 'b' ? 2 : verb === 'o' || verb === 'O' ? 8 : verb === 'x' || verb === 'X' ? 16 : 10;
  const neg = v < 0n;
  let digits = (neg ? -v : v).toString(base);
  if (verb === 'X') digits = digits.toUpperCase();
  let prec = f.prec;
  if (prec === undefined && f.zero && !f.minus && f.width !== undefined) {
    prec = f.width;
    if (neg || f.plus || f.space) prec--;
  }
  // Precision 0 and the value 0: nothing but the padding (format.go fmtInteger).
  if (f.prec === 0 && v === 0n) return pad('', { ...f, zero: false });
  if (prec !== undefined && digits.length < prec) digits = digits.padStart(prec, '0');
  let prefix = '';
  if (f.sharp) {
    if (base === 2) prefix = '0b';
    else if (base === 8 && !digits.startsWith('0')) digits = `0${digits}`;
    else if (base === 16) prefix = verb === 'X' ? '0X' : '0x';
  }
  if (verb === 'O') prefix = '0o';
  const sign = neg ? '-' : f.plus ? '+' : f.space ? ' ' : '';
  const s = sign + prefix + digits;
  // Zeros were written as precision, or the 0 flag gave way to an explicit precision: the
  // padding left is spaces (format.go fmtInteger).
  return pad(s, { ...f, zero: false });
}

/**
 * format.go fmtFloat with '#': always a decimal point, and %g keeps its trailing zeros up to the
 * precision (6 when none is given). `num` starts with its sign.
 */
function sharpFloat(num: string, verb: string, prec: number): string {
  let digits = verb === 'g' || verb === 'G' || verb === 'x' ? (prec === -1 ? 6 : prec) : 0;
  let body = num;
  let tail = '';
  let hasPoint = false;
  let sawNonzero = false;
  // As format.go counts: every character after the sign but '.', and the exponent, is a digit
  // (the x of 0x too, once a non-zero one was seen).
  for (let i = 1; i < body.length; i++) {
    const c = body[i]!;
    if (c === '.') {
      hasPoint = true;
      continue;
    }
    if (c === 'p' || c === 'P' || ((c === 'e' || c === 'E') && verb !== 'x' && verb !== 'X')) {
      tail = body.slice(i);
      body = body.slice(0, i);
      break;
    }
    if (c !== '0') sawNonzero = true;
    if (sawNonzero) digits--;
  }
  if (!hasPoint) {
    // A lone leading 0 counts once.
    if (body.length === 2 && body[1] === '0') digits--;
    body += '.';
  }
  while (digits > 0) {
    body += '0';
    digits--;
  }
  return body + tail;
}

/** fmt.fmtFloat. */
function fmtFloat(v: number, verb: string, f: Flags): string {
  let fmt: 'e' | 'E' | 'f' | 'g' | 'G' | 'b' | 'x' | 'X';
  let prec: number;
  if (verb === 'v') {
    fmt = 'g';
    prec = f.prec ?? -1;
  } else if (verb === 'g' || verb === 'G' || verb === 'b' || verb === 'x' || verb === 'X') {
    fmt = verb;
    prec = f.prec ?? -1;
  } else if (verb === 'F' || verb === 'f') {
    fmt = 'f';
    prec = f.prec ?? 6;
  } else {
    fmt = verb as 'e' | 'E';
    prec = f.prec ?? 6;
  }
  let num = formatFloat(v, fmt, prec);
  if (num[0] !== '-' && num[0] !== '+') num = `+${num}`;
  if (f.sharp && fmt !== 'b' && Number.isFinite(v)) num = sharpFloat(num, fmt, prec);
  if (f.space && num[0] === '+' && !f.plus) num = ` ${num.slice(1)}`;
  if (num === '+Inf' || num === '-Inf' || num === '+NaN') {
    if (num === '+NaN') num = f.plus ? '+NaN' : f.space ? ' NaN' : 'NaN';
    return pad(num, { ...f, zero: false });
  }
  if (f.plus || num[0] !== '+') {
    if (f.zero && !f.minus && f.width !== undefined && f.width > num.length) {
      return num[0] + '0'.repeat(f.width - num.length) + num.slice(1);
    }
    return pad(num, f);
  }
  return pad(num.slice(1), f);
}

function fmtString(s: string, verb: string, f: Flags): string {
  if (verb === 'q') {
    // format.go fmtQ: the precision cuts the string before it is quoted.
    if (f.prec !== undefined) s = [...s].slice(0, f.prec).join('');
    if (f.sharp && canBackquote(s)) return pad(`\`${s}\``, f);
    return pad(goQuote(s, f.plus), f);
  }
  if (verb === 'x' || verb === 'X') {
    const bytes = Buffer.from(s, 'utf8');
    const n = f.prec !== undefined ? Math.min(f.prec, bytes.length) : bytes.length;
    const parts: string[] = [];
    for (let i = 0; i < n; i++) {
      let h = bytes[i]!.toString(16).padStart(2, '0');
      if (verb === 'X') h = h.toUpperCase();
      if (f.sharp && (f.space || i === 0)) h = (verb === 'X' ? '0X' : '0x') + h;
      parts.push(h);
    }
    return pad(parts.join(f.space ? ' ' : ''), f);
  }
  if (f.prec !== undefined) s = [...s].slice(0, f.prec).join('');
  return pad(s, f);
}

function badVerb(v: GoValue, verb: string, f: Flags): string {
  if (v === null || v === MISSING) return `%!${verb}(<nil>)`;
  return `%!${verb}(${typeName(v)}=${printValue(v, 'v', f, 0)})`;
}

/** pp.printArg / printValue: one operand with one verb. */
export function printValue(v: GoValue, verb: string, f: Flags, depth: number): string {
  if (v === MISSING) v = null;
  // %T is printed as a string: width, precision and the 0 flag apply; a nil's <nil> is only
  // padded (print.go printArg).
  if (verb === 'T') return v === null ? pad('<nil>', f) : fmtString(typeName(v), 's', f);
  if (v === null) {
    // A nil inside a list or map prints <nil> whatever the verb (print.go printValue, Interface),
    // or with %#v its type: interface {}(nil).
    if (depth > 0) return f.sharpV ? 'interface {}(nil)' : '<nil>';
    if (verb === 'v') return pad('<nil>', f);
    return badVerb(v, verb, f);
  }
  if (typeof v === 'boolean') return verb === 't' || verb === 'v' ? pad(String(v), f) : badVerb(v, verb, f);
  if (typeof v === 'number') return 'bgGxXfFeEv'.includes(verb) ? fmtFloat(v, verb, f) : badVerb(v, verb, f);
  if (v instanceof GoInt) {
    // %#v of an unsigned integer is hex with 0x (print.go fmtInteger).
    if (verb === 'v' && f.sharpV && v.type === 'uint8') return fmtInteger(v.value, 'x', { ...f, sharp: true });
    return 'bcdoOqxXUv'.includes(verb) ? fmtInteger(v.value, verb, f) : badVerb(v, verb, f);
  }
  if (typeof v === 'string') {
    if (verb === 'v' && f.sharpV) return fmtString(v, 'q', f);
    return 'vsxXq'.includes(verb) ? fmtString(v, verb, f) : badVerb(v, verb, f);
  }
  if (isList(v)) {
    const items = v.map((e) => printValue(e, verb, f, depth + 1));
    return f.sharpV ? `${typeName(v)}{${items.join(', ')}}` : `[${items.join(' ')}]`;
  }
  if (isMap(v)) {
    // fmt sorts map keys (internal/fmtsort) since Go 1.12.
    const keys = Object.keys(v).sort(compareStrings);
    const items = keys.map((k) => `${printValue(k, verb, f, depth + 1)}:${printValue(v[k]!, verb, f, depth + 1)}`);
    return f.sharpV ? `${typeName(v)}{${items.join(', ')}}` : `map[${items.join(' ')}]`;
  }
  return badVerb(v, verb, f);
}

/** Go compares strings by their UTF-8 bytes. */
export function compareStrings(a: string, b: string): number {
  if (a === b) return 0;
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/** fmt.Sprint: operands as %v, a space between two operands when neither is a string. */
export function sprint(args: readonly GoValue[]): string {
  let out = '';
  let prevString = false;
  args.forEach((a, i) => {
    const isString = typeof a === 'string';
    if (i > 0 && !isString && !prevString) out += ' ';
    out += printValue(a, 'v', noFlags(), 0);
    prevString = isString;
  });
  return out;
}

/** fmt.Sprintln: spaces between all operands, and a newline. */
export function sprintln(args: readonly GoValue[]): string {
  return `${args.map((a) => printValue(a, 'v', noFlags(), 0)).join(' ')}\n`;
}

/** fmt.Sprintf (print.go doPrintf), without argument indexes ([n]). */
export function sprintf(format: string, args: readonly GoValue[]): string {
  let out = '';
  let argNum = 0;
  let i = 0;
  const end = format.length;
  while (i < end) {
    const pct = format.indexOf('%', i);
    if (pct < 0) {
      out += format.slice(i);
      break;
    }
    out += format.slice(i, pct);
    i = pct + 1;
    const f = noFlags();
    for (; i < end; i++) {
      const c = format[i];
      if (c === '#') f.sharp = true;
      else if (c === '0') f.zero = !f.minus;
      else if (c === '+') f.plus = true;
      else if (c === '-') {
        f.minus = true;
        f.zero = false;
      } else if (c === ' ') f.space = true;
      else break;
    }
    // Width: digits or '*' (an int operand).
    if (format[i] === '*') {
      i++;
      const w = args[argNum++];
      if (w instanceof GoInt) {
        f.width = Number(w.value);
        if (f.width < 0) {
          f.minus = true;
          f.zero = false;
          f.width = -f.width;
        }
      } else out += '%!(BADWIDTH)';
    } else {
      const m = /^\d+/.exec(format.slice(i));
      if (m) {
        f.width = Number(m[0]);
        i += m[0].length;
      }
    }
    if (format[i] === '.') {
      i++;
      if (format[i] === '*') {
        i++;
        const p = args[argNum++];
        if (p instanceof GoInt && p.value >= 0n) f.prec = Number(p.value);
        else out += '%!(BADPREC)';
      } else {
        const m = /^\d+/.exec(format.slice(i));
        f.prec = m ? Number(m[0]) : 0;
        if (m) i += m[0].length;
      }
    }
    if (i >= end) {
      out += '%!(NOVERB)';
      break;
    }
    const verb = String.fromCodePoint(format.codePointAt(i)!);
    i += verb.length;
    if (verb === '%') {
      out += '%';
      continue;
    }
    if (argNum >= args.length) {
      out += `%!${verb}(MISSING)`;
      continue;
    }
    // print.go doPrintf: for %v, '+' and '#' select Go's struct-field and Go-syntax forms
    // (plusV, sharpV), never a sign; struct fields do not occur in a JSON document.
    if (verb === 'v') {
      f.sharpV = f.sharp;
      f.plus = false;
      f.sharp = false;
    }
    out += printValue(args[argNum++]!, verb, f, 0);
  }
  if (argNum < args.length) {
    const extra = args.slice(argNum).map((a) => (a === null || a === MISSING ? '<nil>' : `${typeName(a)}=${printValue(a, 'v', noFlags(), 0)}`));
    out += `%!(EXTRA ${extra.join(', ')})`;
  }
  return out;
}
