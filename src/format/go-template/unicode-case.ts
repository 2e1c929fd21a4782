/**
 * Go's rune-by-rune Unicode functions (src/unicode, src/strings): ToUpper, ToLower and ToTitle
 * map each rune on its own (simple case mapping), where JS maps whole strings with the special
 * casings ('ß' -> 'SS', a final 'Σ' -> 'ς'); IsSpace is a fixed set, not JS's \s.
 */

/** unicode.IsSpace. */
export const GO_SPACE = '\\t\\n\\v\\f\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
const SPACE = new RegExp(`^[${GO_SPACE}]$`, 'u');
const TRIM = new RegExp(`^[${GO_SPACE}]+|[${GO_SPACE}]+$`, 'gu');

export function isGoSpace(ch: string): boolean {
  return SPACE.test(ch);
}

/** strings.TrimSpace. */
export function trimSpace(s: string): string {
  return s.replace(TRIM, '');
}

/**
 * sprig's nospace (goutils DeleteWhiteSpace), which walks the bytes, not the runes: each byte is
 * taken as the rune of that number, kept unless it is a space, so when anything was dropped a
 * multi-byte character comes out as its bytes in Latin-1 ('é' -> 'Ã©'), and a byte 0x85 or 0xA0
 * inside one is dropped too.
 */
export function deleteSpace(s: string): string {
  let out = '';
  let dropped = false;
  for (const b of Buffer.from(s, 'utf8')) {
    const ch = String.fromCharCode(b);
    if (isGoSpace(ch)) dropped = true;
    else out += ch;
  }
  // Nothing dropped: the string itself (stringutils.go `count == sz`).
  return dropped ? out : s;
}

/** One rune's mapping, kept only when it is one rune (a simple mapping), else the rune itself. */
function simple(ch: string, mapped: string): string {
  let n = 0;
  for (const _ of mapped) n++;
  return n === 1 ? mapped : ch;
}

export function toUpper(s: string): string {
  let out = '';
  for (const ch of s) out += simple(ch, ch.toUpperCase());
  return out;
}

export function toLower(s: string): string {
  let out = '';
  // U+0130 lowers to 'i' + U+0307 in full, to 'i' in Go's simple mapping.
  for (const ch of s) out += ch === '\u0130' ? 'i' : simple(ch, ch.toLowerCase());
  return out;
}

/** strings.go isSeparator, for strings.Title. */
function isSeparator(ch: string): boolean {
  const r = ch.codePointAt(0)!;
  if (r <= 0x7f) return !/[0-9a-zA-Z_]/.test(ch);
  if (/^[\p{L}\p{Nd}]$/u.test(ch)) return false;
  return isGoSpace(ch);
}

/** strings.Title: the first letter of each word in title case (a word starts after a separator). */
export function title(s: string): string {
  let out = '';
  let prev = ' ';
  for (const ch of s) {
    if (isSeparator(prev)) {
      // unicode.ToTitle; JS has no titlecase mapping, and for the digraphs (ǆ -> ǅ) it differs from upper.
      const digraph: Record<string, string> = { 'Ǆ': 'ǅ', 'ǅ': 'ǅ', 'ǆ': 'ǅ', 'Ǉ': 'ǈ', 'ǈ': 'ǈ', 'ǉ': 'ǈ', 'Ǌ': 'ǋ', 'ǋ': 'ǋ', 'ǌ': 'ǋ', 'Ǳ': 'ǲ', 'ǲ': 'ǲ', 'ǳ': 'ǲ' };
      out += digraph[ch] ?? simple(ch, ch.toUpperCase());
    } else out += ch;
    prev = ch;
  }
  return out;
}
