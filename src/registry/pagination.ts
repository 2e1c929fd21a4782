import { WasmOciError } from '../errors.js';

/**
 * The `rel="next"` target of a `Link` header (RFC 8288), as the distribution spec paginates tag
 * lists and referrers. Resolved against the request URL; another origin is refused, since the
 * next page is requested with our credentials' authority.
 */
export function nextPageUrl(link: string | undefined, current: URL, origin: URL): URL | undefined {
  if (!link) return undefined;
  for (const part of splitLinks(link)) {
    const m = /^\s*<([^>]*)>\s*(.*)$/s.exec(part);
    if (!m) continue;
    const params = m[2]!;
    if (!/(^|;)\s*rel\s*=\s*"?([^";]*\s)?next(\s[^";]*)?"?\s*(;|$)/i.test(params)) continue;
    let url: URL;
    try {
      url = new URL(m[1]!, current);
    } catch (err) {
      throw new WasmOciError('E_REGISTRY', 'registry sent an invalid Link header', { cause: err });
    }
    if (url.origin !== origin.origin) {
      throw new WasmOciError('E_INSECURE', `refused pagination Link to another origin (${url.protocol}//${url.host}, registry is ${origin.host})`);
    }
    return url;
  }
  return undefined;
}

/** Splits on commas outside `<...>` and quotes. */
function splitLinks(header: string): string[] {
  const out: string[] = [];
  let cur = '';
  let inAngle = false;
  let inQuote = false;
  for (const c of header) {
    if (c === '<' && !inQuote) inAngle = true;
    else if (c === '>' && !inQuote) inAngle = false;
    else if (c === '"' && !inAngle) inQuote = !inQuote;
    if (c === ',' && !inAngle && !inQuote) {
      out.push(cur);
      cur = '';
    } else cur += c;
  }
  if (cur.trim()) out.push(cur);
  return out;
}
