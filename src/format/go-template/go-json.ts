/**
 * encoding/json's Marshal and MarshalIndent of template values (Go src/encoding/json/encode.go),
 * for sprig's toJson, toPrettyJson and toRawJson: map keys sorted, `<`, `>` and `&` escaped as
 * \u003c \u003e \u0026 unless escapeHTML is off, U+2028 and U+2029 always escaped, float64 as
 * ES6 prints it (Go's floatEncoder follows the same rule), Go integers as integers.
 */
import { compareStrings } from './fmt.js';
import { GoInt, isList, isMap, MISSING, type GoValue } from './values.js';

const HEX = '0123456789abcdef';

function encodeString(s: string, escapeHTML: boolean): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === '"' || ch === '\\') out += `\\${ch}`;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (c < 0x20 || (escapeHTML && (ch === '<' || ch === '>' || ch === '&'))) out += `\\u00${HEX[c >> 4]}${HEX[c & 15]}`;
    else if (c === 0x2028 || c === 0x2029) out += `\\u202${HEX[c & 15]}`;
    else if (c >= 0xd800 && c <= 0xdfff) out += '\\ufffd'; // invalid UTF-8 becomes U+FFFD
    else out += ch;
  }
  return `${out}"`;
}

export function marshal(v: GoValue, opts: { escapeHTML: boolean; indent?: string }, level = 0): string {
  if (v === MISSING || v === null) return 'null';
  if (typeof v === 'boolean') return String(v);
  if (typeof v === 'number') return JSON.stringify(v);
  if (v instanceof GoInt) return v.value.toString();
  if (typeof v === 'string') return encodeString(v, opts.escapeHTML);
  const nl = opts.indent !== undefined ? `\n${opts.indent.repeat(level + 1)}` : '';
  const close = opts.indent !== undefined ? `\n${opts.indent.repeat(level)}` : '';
  const colon = opts.indent !== undefined ? ': ' : ':';
  if (isList(v)) {
    if (v.length === 0) return '[]';
    return `[${v.map((e) => nl + marshal(e, opts, level + 1)).join(',')}${close}]`;
  }
  if (isMap(v)) {
    const keys = Object.keys(v).sort(compareStrings);
    if (keys.length === 0) return '{}';
    return `{${keys.map((k) => nl + encodeString(k, opts.escapeHTML) + colon + marshal(v[k]!, opts, level + 1)).join(',')}${close}}`;
  }
  return 'null';
}
