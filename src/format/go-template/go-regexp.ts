/**
 * Go's regexp (RE2 syntax) on JS's RegExp, for sprig's regex functions: the pattern is
 * translated where the two differ (RE2's \s is [\t\n\f\r ], its `.` stops only at \n, \A and \z,
 * (?P<name>), POSIX [[:alpha:]], \Q...\E, \pL, escaped punctuation, a `]` first in a class), what
 * RE2 refuses is refused (lookaround, backreferences, repeats over 1000), and the iteration of
 * FindAll, ReplaceAll and Split follows regexp.go (allMatches, replaceAll, Split, expand), with
 * its rule about empty matches. What we do not translate (flag groups other than at the start,
 * (?U), negated POSIX classes) is an error, not a silent difference.
 */

/** Why a pattern cannot be used: Go refuses it too (`invalid`), or only we do (`unsupported`). */
export class GoRegexpError extends Error {
  constructor(
    message: string,
    readonly kind: 'invalid' | 'unsupported',
  ) {
    super(message);
  }
}

const POSIX: Record<string, string> = {
  alnum: '0-9A-Za-z',
  alpha: 'A-Za-z',
  ascii: '\\x00-\\x7f',
  blank: '\\t ',
  cntrl: '\\x00-\\x1f\\x7f',
  digit: '0-9',
  graph: '!-~',
  lower: 'a-z',
  print: ' -~',
  punct: '!-\\/:-@\\[-`{-~',
  space: '\\t\\n\\v\\f\\r ',
  upper: 'A-Z',
  word: '0-9A-Za-z_',
  xdigit: '0-9A-Fa-f',
};

const CATEGORIES = new Set('L Lu Ll Lt Lm Lo M Mn Mc Me N Nd Nl No P Pc Pd Ps Pe Pi Pf Po S Sm Sc Sk So Z Zs Zl Zp C Cc Cf Co Cs'.split(' '));
const JS_SYNTAX = new Set([...'^$\\.*+?()[]{}|/']);

export interface CompiledRegexp {
  re: RegExp;
  /** Capture group names by index (0 is the whole match, '' for unnamed). */
  names: string[];
}

function escapeForJs(ch: string, inClass: boolean): string {
  if (JS_SYNTAX.has(ch) || (inClass && ch === '-')) return `\\${ch}`;
  return ch;
}

export function compileGoRegexp(pattern: string): CompiledRegexp {
  let flags = 'dgu';
  let src = pattern;
  // A leading flag group applies to the whole pattern: the one place we can give JS its flags.
  const lead = /^\(\?([imsU]+)\)/.exec(src);
  if (lead) {
    if (lead[1]!.includes('U')) throw new GoRegexpError('the (?U) flag is not supported', 'unsupported');
    // (?m) is done below: JS's m flag also breaks lines at \r, U+2028 and U+2029, RE2's only at \n.
    for (const f of new Set(lead[1]!)) if (f !== 'm') flags += f;
    src = src.slice(lead[0].length);
  }
  const multiline = lead?.[1]!.includes('m') === true;
  const dotAll = flags.includes('s');
  const names: string[] = [''];
  let out = '';
  let i = 0;
  const fail = (m: string): never => {
    throw new GoRegexpError(m, 'invalid');
  };
  const unsupported = (m: string): never => {
    throw new GoRegexpError(m, 'unsupported');
  };
  const escape = (inClass: boolean): string => {
    // At a backslash; returns the JS text and advances i.
    const c = src[i + 1];
    if (c === undefined) fail('trailing backslash at end of expression');
    i += 2;
    switch (c) {
      case 'd':
      case 'D':
      case 'w':
      case 'W':
        return `\\${c}`;
      case 's':
        return inClass ? '\\t\\n\\f\\r ' : '[\\t\\n\\f\\r ]';
      case 'S':
        if (inClass) unsupported('\\S inside a class is not supported');
        return '[^\\t\\n\\f\\r ]';
      case 'b':
      case 'B':
        if (inClass) fail('invalid escape sequence: `\\b`');
        return `\\${c}`;
      case 'A':
        if (inClass) fail('invalid escape sequence: `\\A`');
        return '(?<![\\s\\S])';
      case 'z':
        if (inClass) fail('invalid escape sequence: `\\z`');
        return '(?![\\s\\S])';
      case 'a':
        return '\\x07';
      case 'f':
        return '\\f';
      case 't':
        return '\\t';
      case 'n':
        return '\\n';
      case 'r':
        return '\\r';
      case 'v':
        return '\\v';
      case 'x': {
        if (src[i] === '{') {
          const close = src.indexOf('}', i);
          const hex = close > 0 ? src.slice(i + 1, close) : '';
          if (!/^[0-9a-fA-F]{1,8}$/.test(hex) || parseInt(hex, 16) > 0x10ffff) fail('invalid escape sequence');
          i = close + 1;
          return `\\u{${hex}}`;
        }
        const hex = src.slice(i, i + 2);
        if (!/^[0-9a-fA-F]{2}$/.test(hex)) fail('invalid escape sequence');
        i += 2;
        return `\\x${hex}`;
      }
      case 'p':
      case 'P': {
        let name: string;
        if (src[i] === '{') {
          const close = src.indexOf('}', i);
          if (close < 0) fail('invalid character class range');
          name = src.slice(i + 1, close);
          i = close + 1;
        } else {
          name = src[i] ?? '';
          i++;
        }
        if (name.startsWith('^')) unsupported('\\p{^...} is not supported');
        if (name === 'Any') return c === 'p' ? (inClass ? '\\u{0}-\\u{10FFFF}' : '[\\s\\S]') : unsupported('\\PAny is not supported');
        return `\\${c}{${CATEGORIES.has(name) ? name : `Script=${name}`}}`;
      }
      case 'Q': {
        const end = src.indexOf('\\E', i);
        const lit = end < 0 ? src.slice(i) : src.slice(i, end);
        i = end < 0 ? src.length : end + 2;
        return [...lit].map((ch) => escapeForJs(ch, inClass)).join('');
      }
      default:
        if (/[0-9]/.test(c)) unsupported('octal escapes and backreferences are not supported');
        // RE2 lets any punctuation be escaped; JS's u mode only its own syntax characters.
        if (/[!-/:-@[-`{-~]/.test(c)) return escapeForJs(c, inClass);
        return fail(`invalid escape sequence: \`\\${c}\``);
    }
  };
  while (i < src.length) {
    const c = src[i]!;
    if (c === '\\') {
      out += escape(false);
    } else if (multiline && (c === '^' || c === '$')) {
      out += c === '^' ? '(?:(?<![\\s\\S])|(?<=\\n))' : '(?:(?![\\s\\S])|(?=\\n))';
      i++;
    } else if (c === '.') {
      out += dotAll ? '[\\s\\S]' : '[^\\n]';
      i++;
    } else if (c === '(') {
      if (src[i + 1] === '?') {
        const named = /^\(\?P?<([A-Za-z0-9_]+)>/.exec(src.slice(i));
        if (named) {
          names.push(named[1]!);
          out += `(?<${named[1]}>`;
          i += named[0].length;
        } else if (src.startsWith('(?:', i)) {
          out += '(?:';
          i += 3;
        } else if (/^\(\?[=!]|^\(\?<[=!]/.test(src.slice(i))) {
          fail('invalid or unsupported Perl syntax: `(?' + src[i + 2] + '`');
        } else {
          unsupported('flag groups other than one at the very start are not supported');
        }
      } else {
        names.push('');
        out += '(';
        i++;
      }
    } else if (c === '[') {
      let cls = '[';
      i++;
      if (src[i] === '^') {
        cls += '^';
        i++;
      }
      // A ] first in a class is a literal in RE2.
      if (src[i] === ']') {
        cls += '\\]';
        i++;
      }
      let closed = false;
      while (i < src.length) {
        const d = src[i]!;
        if (d === ']') {
          closed = true;
          i++;
          break;
        }
        if (src.startsWith('[:', i)) {
          const m = /^\[:(\^?)([a-z]+):\]/.exec(src.slice(i));
          if (m && POSIX[m[2]!] !== undefined) {
            if (m[1]) unsupported('negated POSIX classes are not supported');
            cls += POSIX[m[2]!];
            i += m[0].length;
            continue;
          }
          if (m) fail('invalid character class range');
        }
        if (d === '\\') {
          cls += escape(true);
          continue;
        }
        cls += d === '[' ? '\\[' : d;
        i++;
      }
      if (!closed) fail('missing closing ]');
      out += `${cls}]`;
    } else if (c === '{') {
      const m = /^\{(\d+)(,(\d*))?\}/.exec(src.slice(i));
      if (m) {
        if (Number(m[1]) > 1000 || (m[3] !== undefined && m[3] !== '' && Number(m[3]) > 1000)) fail('invalid repeat count');
        out += m[0];
        i += m[0].length;
      } else {
        // A brace that starts no repeat is a literal in RE2.
        out += '\\{';
        i++;
      }
    } else if (c === '}') {
      out += '\\}';
      i++;
    } else {
      out += c;
      i += c.length;
    }
  }
  try {
    return { re: new RegExp(out, flags), names };
  } catch (err) {
    throw new GoRegexpError(`error parsing regexp: ${(err as Error).message}`, 'invalid');
  }
}

interface Match {
  start: number;
  end: number;
  /** [start, end] of each group, -1 when it did not take part. */
  groups: Array<[number, number]>;
}

function execAt(c: CompiledRegexp, s: string, pos: number): Match | undefined {
  c.re.lastIndex = pos;
  const m = c.re.exec(s);
  if (!m) return undefined;
  // The d flag gives every group's offsets.
  const groups = (m.indices ?? []).map((g): [number, number] => (g ? [g[0], g[1]] : [-1, -1]));
  return { start: m.index, end: m.index + m[0].length, groups };
}

const width = (s: string, pos: number) => (pos < s.length ? String.fromCodePoint(s.codePointAt(pos)!).length : 0);

/** regexp.go allMatches: up to n matches (n < 0: all), no empty match right after a match. */
export function allMatches(c: CompiledRegexp, s: string, n: number): Match[] {
  const out: Match[] = [];
  const limit = n < 0 ? s.length + 1 : n;
  let pos = 0;
  let prevEnd = -1;
  while (out.length < limit && pos <= s.length) {
    const m = execAt(c, s, pos);
    if (!m) break;
    let accept = true;
    if (m.end === pos) {
      if (m.start === prevEnd) accept = false;
      const w = width(s, pos);
      pos = w > 0 ? pos + w : s.length + 1;
    } else pos = m.end;
    prevEnd = m.end;
    if (accept) out.push(m);
  }
  return out;
}

export function findString(c: CompiledRegexp, s: string): string {
  const m = execAt(c, s, 0);
  return m ? s.slice(m.start, m.end) : '';
}

/** regexp.go extract: `$name`, `${name}`; digits are a group number. */
function extract(t: string): { name: string; num: number; rest: string } | undefined {
  let str = t;
  let brace = false;
  if (str[0] === '{') {
    brace = true;
    str = str.slice(1);
  }
  const m = /^[\p{L}\p{Nd}_]+/u.exec(str);
  if (!m) return undefined;
  const name = m[0];
  let i = name.length;
  if (brace) {
    if (str[i] !== '}') return undefined;
    i++;
  }
  let num = /^\d+$/.test(name) && name.length <= 8 ? Number(name) : -1;
  if (name.length > 1 && name[0] === '0') num = -1;
  return { name, num, rest: str.slice(i) };
}

function expand(template: string, c: CompiledRegexp, s: string, m: Match): string {
  let out = '';
  let t = template;
  for (;;) {
    const at = t.indexOf('$');
    if (at < 0) break;
    out += t.slice(0, at);
    t = t.slice(at + 1);
    if (t[0] === '$') {
      out += '$';
      t = t.slice(1);
      continue;
    }
    const x = extract(t);
    if (!x) {
      out += '$';
      continue;
    }
    t = x.rest;
    const idx = x.num >= 0 ? x.num : c.names.indexOf(x.name);
    const g = idx >= 0 ? m.groups[idx] : undefined;
    if (g && g[0] >= 0) out += s.slice(g[0], g[1]);
  }
  return out + t;
}

/** regexp.go replaceAll: the replacement after every match but an empty one right after a match. */
export function replaceAll(c: CompiledRegexp, s: string, repl: string, literal: boolean): string {
  let out = '';
  let lastEnd = 0;
  let searchPos = 0;
  while (searchPos <= s.length) {
    const m = execAt(c, s, searchPos);
    if (!m) break;
    out += s.slice(lastEnd, m.start);
    if (m.end > lastEnd || m.start === 0) out += literal ? repl : expand(repl, c, s, m);
    lastEnd = m.end;
    const w = width(s, searchPos);
    if (searchPos + w > m.end) searchPos += w;
    else if (searchPos + 1 > m.end) searchPos++;
    else searchPos = m.end;
  }
  return out + s.slice(lastEnd);
}

/** regexp.go Split. */
export function split(c: CompiledRegexp, pattern: string, s: string, n: number): string[] | null {
  if (n === 0) return null;
  if (pattern.length > 0 && s.length === 0) return [''];
  const matches = allMatches(c, s, n);
  const out: string[] = [];
  let beg = 0;
  let end = 0;
  for (const m of matches) {
    if (n > 0 && out.length >= n - 1) break;
    end = m.start;
    if (m.end !== 0) out.push(s.slice(beg, end));
    beg = m.end;
  }
  if (end !== s.length) out.push(s.slice(beg));
  return out;
}

/** regexp.QuoteMeta. */
export function quoteMeta(s: string): string {
  return s.replace(/[\\.+*?()|[\]{}^$]/g, (ch) => `\\${ch}`);
}
