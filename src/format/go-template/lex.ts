/**
 * The tokens of a Go template (Go src/text/template/parse/lex.go): text outside `{{ }}`, and
 * inside an action words, fields (.a), variables ($x), strings, numbers, `|`, `(`, `)`, `:=`,
 * `=`, `,`. `{{- ` and ` -}}` trim the white space around the action; `{{/* ... *\/}}` is a
 * comment. Spaces inside an action are tokens because they separate a command's operands.
 */

export type TokenKind =
  | 'text'
  | 'left'
  | 'right'
  | 'space'
  | 'identifier'
  | 'field'
  | 'variable'
  | 'string'
  | 'rawString'
  | 'char'
  | 'number'
  | 'bool'
  | 'nil'
  | 'dot'
  | 'pipe'
  | 'leftParen'
  | 'rightParen'
  | 'declare'
  | 'assign'
  | 'comma'
  | 'punct'
  | 'keyword'
  | 'eof';

export interface Token {
  kind: TokenKind;
  /** The text as written (a string still quoted, a field with its dot). */
  text: string;
  /** Offset in the template (UTF-16 units) and 1-based line, for error messages. */
  pos: number;
  line: number;
}

export const KEYWORDS = new Set(['block', 'break', 'continue', 'define', 'else', 'end', 'if', 'range', 'template', 'with']);

export class TemplateSyntaxError extends Error {
  constructor(
    message: string,
    readonly line: number,
  ) {
    super(message);
  }
}

const isSpace = (c: string | undefined) => c === ' ' || c === '\t' || c === '\r' || c === '\n';
const isAlnum = (c: string | undefined) => c !== undefined && (c === '_' || /^[\p{L}\p{Nd}]$/u.test(c));

export function lex(input: string): Token[] {
  const tokens: Token[] = [];
  let pos = 0;
  let parenDepth = 0;
  // Offsets where lines start, so a token's line is a binary search away.
  const lineStarts = [0];
  for (let i = 0; i < input.length; i++) if (input.charCodeAt(i) === 10) lineStarts.push(i + 1);
  const lineAt = (p: number) => {
    let lo = 0;
    let hi = lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (lineStarts[mid]! <= p) lo = mid;
      else hi = mid - 1;
    }
    return lo + 1;
  };
  const emit = (kind: TokenKind, start: number, end: number, text = input.slice(start, end)) => {
    tokens.push({ kind, text, pos: start, line: lineAt(start) });
  };
  const fail = (msg: string, at: number): never => {
    throw new TemplateSyntaxError(msg, lineAt(at));
  };
  // A right delimiter, with its trim marker: ' -}}' (the space is any white space).
  const atRightDelim = (p: number): { trim: boolean; len: number } | undefined => {
    if (isSpace(input[p]) && input[p + 1] === '-' && input.startsWith('}}', p + 2)) return { trim: true, len: 4 };
    if (input.startsWith('}}', p)) return { trim: false, len: 2 };
    return undefined;
  };

  let trimNextText = false;
  while (pos <= input.length) {
    // Text up to the next {{.
    const open = input.indexOf('{{', pos);
    const textEnd = open < 0 ? input.length : open;
    let text = input.slice(pos, textEnd);
    const leftTrim = open >= 0 && input[open + 2] === '-' && isSpace(input[open + 3]);
    if (trimNextText) text = text.replace(/^[ \t\r\n]+/, '');
    if (leftTrim) text = text.replace(/[ \t\r\n]+$/, '');
    if (text.length > 0) tokens.push({ kind: 'text', text, pos, line: lineAt(pos) });
    trimNextText = false;
    if (open < 0) break;
    pos = open + 2;
    if (leftTrim) pos += 2;
    emit('left', open, pos, '{{');
    // A comment: only right after the delimiter, and it must close the action.
    if (input.startsWith('/*', pos)) {
      const close = input.indexOf('*/', pos + 2);
      if (close < 0) fail('unclosed comment', pos);
      const after = close + 2;
      const delim = atRightDelim(after);
      if (!delim) fail('comment ends before closing delimiter', after);
      pos = after + delim!.len;
      trimNextText = delim!.trim;
      tokens.pop(); // the comment and its delimiters leave nothing
      continue;
    }
    // Inside the action.
    for (;;) {
      const delim = atRightDelim(pos);
      if (delim && parenDepth === 0) {
        emit('right', pos, pos + delim.len, '}}');
        pos += delim.len;
        trimNextText = delim.trim;
        break;
      }
      if (delim && parenDepth > 0 && !delim.trim) fail('unclosed left paren', pos);
      const c = input[pos];
      if (c === undefined) fail('unclosed action', pos);
      const start = pos;
      if (isSpace(c)) {
        while (isSpace(input[pos]) && !(atRightDelim(pos)?.trim)) pos++;
        if (pos === start) pos++; // cannot happen: a lone ' -}}' is matched above
        emit('space', start, pos);
      } else if (c === '=') {
        pos++;
        emit('assign', start, pos);
      } else if (c === ':') {
        if (input[pos + 1] !== '=') fail('expected :=', pos);
        pos += 2;
        emit('declare', start, pos);
      } else if (c === '|') {
        pos++;
        emit('pipe', start, pos);
      } else if (c === '"') {
        pos = scanQuoted(input, pos, '"', 'unterminated quoted string', fail);
        emit('string', start, pos);
      } else if (c === '`') {
        const close = input.indexOf('`', pos + 1);
        if (close < 0) fail('unterminated raw quoted string', start);
        pos = close + 1;
        emit('rawString', start, pos);
      } else if (c === "'") {
        pos = scanQuoted(input, pos, "'", 'unterminated character constant', fail);
        emit('char', start, pos);
      } else if (c === '$') {
        pos++;
        while (isAlnum(input[pos])) pos++;
        if (!atTerminator(input, pos)) fail(`bad character ${goQuoteRune(input[pos]!)}`, pos);
        emit('variable', start, pos);
      } else if (c === '.') {
        if (/[0-9]/.test(input[pos + 1] ?? '')) {
          pos = scanNumber(input, pos, fail);
          emit('number', start, pos);
        } else if (isAlnum(input[pos + 1])) {
          pos++;
          while (isAlnum(input[pos])) pos++;
          if (!atTerminator(input, pos)) fail(`bad character ${goQuoteRune(input[pos]!)}`, pos);
          emit('field', start, pos);
        } else {
          pos++;
          emit('dot', start, pos);
        }
      } else if (c === '+' || c === '-' || /[0-9]/.test(c)) {
        pos = scanNumber(input, pos, fail);
        emit('number', start, pos);
      } else if (isAlnum(c)) {
        while (isAlnum(input[pos])) pos++;
        const word = input.slice(start, pos);
        if (!atTerminator(input, pos)) fail(`bad character ${goQuoteRune(input[pos]!)}`, pos);
        emit(KEYWORDS.has(word) ? 'keyword' : word === 'true' || word === 'false' ? 'bool' : word === 'nil' ? 'nil' : 'identifier', start, pos);
      } else if (c === '(') {
        pos++;
        parenDepth++;
        emit('leftParen', start, pos);
      } else if (c === ')') {
        pos++;
        parenDepth--;
        if (parenDepth < 0) fail('unexpected right paren', start);
        emit('rightParen', start, pos);
      } else if (c === ',') {
        pos++;
        emit('comma', start, pos);
      } else if (c.charCodeAt(0) < 0x7f && c.charCodeAt(0) > 0x20) {
        // lex.go: any other printable ASCII character is a token of its own (the parser refuses it).
        pos++;
        emit('punct', start, pos);
      } else {
        const ch = String.fromCodePoint(input.codePointAt(pos)!);
        fail(`unrecognized character in action: ${goQuoteRune(ch)}`, pos);
      }
    }
  }
  tokens.push({ kind: 'eof', text: '', pos: input.length, line: lineAt(input.length) });
  return tokens;
}

function atTerminator(input: string, pos: number): boolean {
  const c = input[pos];
  if (c === undefined || isSpace(c)) return true;
  if ('.,|:)('.includes(c)) return true;
  return input.startsWith('}}', pos);
}

/**
 * lex.go lexQuote and lexChar: from the opening quote at `start` past the closing one; a backslash
 * escapes the next character, and a newline or the end of input first is `message`.
 */
function scanQuoted(input: string, start: number, quote: string, message: string, fail: (m: string, at: number) => never): number {
  let pos = start + 1;
  for (;;) {
    const ch = input[pos];
    if (ch === '\\') {
      pos += 2;
      continue;
    }
    if (ch === undefined || ch === '\n') fail(message, start);
    pos++;
    if (ch === quote) return pos;
  }
}

/** fmt's %#U: U+003D '='. */
function goQuoteRune(c: string): string {
  const r = c.codePointAt(0)!;
  return `U+${r.toString(16).toUpperCase().padStart(4, '0')} '${c}'`;
}

/** lex.go scanNumber: sign, base prefix, digits with _, fraction, exponent; then a terminator. */
function scanNumber(input: string, pos: number, fail: (m: string, at: number) => never): number {
  const start = pos;
  if (input[pos] === '+' || input[pos] === '-') pos++;
  let digits = '0123456789_';
  if (input[pos] === '0' && /[xXoObB]/.test(input[pos + 1] ?? '')) {
    const b = input[pos + 1]!.toLowerCase();
    pos += 2;
    digits = b === 'x' ? '0123456789abcdefABCDEF_' : b === 'o' ? '01234567_' : '01_';
  }
  while (input[pos] !== undefined && digits.includes(input[pos]!)) pos++;
  if (input[pos] === '.') {
    pos++;
    while (input[pos] !== undefined && digits.includes(input[pos]!)) pos++;
  }
  const expChars = digits.length > 16 ? 'pP' : 'eEpP';
  if (input[pos] !== undefined && expChars.includes(input[pos]!)) {
    pos++;
    if (input[pos] === '+' || input[pos] === '-') pos++;
    while (/[0-9_]/.test(input[pos] ?? '')) pos++;
  }
  if (input[pos] === 'i') pos++;
  if (isAlnum(input[pos])) fail(`bad number syntax: "${input.slice(start, pos + 1)}"`, start);
  return pos;
}
