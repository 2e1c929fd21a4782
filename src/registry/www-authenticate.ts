import { WasmOciError } from '../errors.js';

/** One challenge of a `WWW-Authenticate` header (RFC 9110 section 11.6.1). */
export interface Challenge {
  /** Lowercased auth scheme: `basic`, `bearer`, ... */
  scheme: string;
  /** Parameters with lowercased names; values unquoted. A null-prototype object. */
  params: Record<string, string>;
  /** The token68 form (`Negotiate abc==`), when the challenge carries one instead of parameters. */
  token68?: string;
}

// RFC 9110 tchar.
const TCHAR = /[!#$%&'*+\-.^_`|~0-9A-Za-z]/;
// RFC 9110 token68 characters (without the trailing '=' padding).
const T68CHAR = /[-._~+/0-9A-Za-z]/;

function malformed(header: string, why: string): WasmOciError {
  return new WasmOciError('E_REGISTRY', `malformed WWW-Authenticate header from the registry: ${why}`, {
    details: { header: header.length > 200 ? `${header.slice(0, 200)}...` : header },
  });
}

/**
 * Parses every challenge of a `WWW-Authenticate` header. Several challenges may share one header
 * (`Basic realm="x", Bearer realm="y",scope="repository:a:pull,push"`): a comma followed by
 * `token SP` that is not `token =` starts a new challenge, so quoted commas inside a scope stay
 * in the value. Throws only WasmOciError (E_REGISTRY) on malformed input.
 */
export function parseWwwAuthenticate(header: string): Challenge[] {
  if (typeof header !== 'string') throw malformed(String(header), 'not a string');
  const s = header;
  const n = s.length;
  let i = 0;
  const out: Challenge[] = [];

  const isWs = (c: string | undefined): boolean => c === ' ' || c === '\t';
  const skipWs = (): void => {
    while (i < n && isWs(s[i])) i++;
  };
  const readToken = (): string => {
    const start = i;
    while (i < n && TCHAR.test(s[i]!)) i++;
    return s.slice(start, i);
  };
  const readQuoted = (): string => {
    // s[i] === '"'
    i++;
    let value = '';
    while (i < n) {
      const c = s[i]!;
      if (c === '\\') {
        if (i + 1 >= n) throw malformed(header, 'unterminated quoted string');
        value += s[i + 1];
        i += 2;
        continue;
      }
      if (c === '"') {
        i++;
        return value;
      }
      value += c;
      i++;
    }
    throw malformed(header, 'unterminated quoted string');
  };
  /** True when the text at `i` is `token BWS "="` but not a token68 ending in '=' padding. */
  const atParam = (): boolean => {
    const save = i;
    const name = readToken();
    skipWs();
    const ok = name.length > 0 && s[i] === '=';
    i = save;
    return ok;
  };
  /** Tries to read a token68 that stands alone (followed by end or ','); restores `i` otherwise. */
  const tryToken68 = (): string | undefined => {
    const save = i;
    while (i < n && T68CHAR.test(s[i]!)) i++;
    if (i === save) return undefined;
    while (i < n && s[i] === '=') i++;
    const value = s.slice(save, i);
    skipWs();
    if (i >= n || s[i] === ',') return value;
    i = save;
    return undefined;
  };

  while (i < n) {
    // Empty list elements are allowed (RFC 9110 section 5.6.1).
    while (i < n && (isWs(s[i]) || s[i] === ',')) i++;
    if (i >= n) break;
    const scheme = readToken();
    if (!scheme) throw malformed(header, `unexpected character ${JSON.stringify(s[i])} at ${i}`);
    const challenge: Challenge = { scheme: scheme.toLowerCase(), params: Object.create(null) as Record<string, string> };
    out.push(challenge);
    if (i < n && !isWs(s[i]) && s[i] !== ',') throw malformed(header, `unexpected character ${JSON.stringify(s[i])} after scheme`);
    skipWs();
    if (i >= n) break;
    if (s[i] === ',') continue;
    if (!atParam()) {
      const t68 = tryToken68();
      if (t68 === undefined) throw malformed(header, `unexpected character ${JSON.stringify(s[i])} at ${i}`);
      challenge.token68 = t68;
      continue;
    }
    // auth-param list: name BWS "=" BWS (token / quoted-string), separated by commas.
    for (;;) {
      const name = readToken().toLowerCase();
      skipWs();
      i++; // '=' (checked by atParam)
      skipWs();
      let value: string;
      if (s[i] === '"') value = readQuoted();
      else {
        value = readToken();
        if (!value) throw malformed(header, `parameter "${name}" has no value`);
      }
      challenge.params[name] = value;
      skipWs();
      if (i >= n) break;
      if (s[i] !== ',') throw malformed(header, `unexpected character ${JSON.stringify(s[i])} at ${i}`);
      while (i < n && (isWs(s[i]) || s[i] === ',')) i++;
      if (i >= n) break;
      if (!atParam()) break; // the next challenge starts here
    }
  }
  return out;
}

/** The first challenge with the given scheme (case-insensitive). */
export function findChallenge(challenges: Challenge[], scheme: string): Challenge | undefined {
  const want = scheme.toLowerCase();
  return challenges.find((c) => c.scheme === want);
}
