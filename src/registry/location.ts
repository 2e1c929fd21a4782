import { WasmOciError } from '../errors.js';
import { headerValue, type HttpResponse } from './http.js';

/**
 * Resolves an upload session `Location` (absolute or relative to the request URL, its query
 * kept: Distribution signs the session state in `_state`). A Location on another origin is
 * refused: the session would carry our credentials' authority somewhere else.
 */
export function uploadLocation(res: HttpResponse, origin: URL): URL {
  const location = headerValue(res, 'location');
  if (!location) throw new WasmOciError('E_REGISTRY', `registry answered HTTP ${res.status} without a Location for the upload session`);
  let url: URL;
  try {
    url = new URL(location, res.url);
  } catch (err) {
    throw new WasmOciError('E_REGISTRY', 'registry sent an invalid upload Location', { cause: err });
  }
  if (url.origin !== origin.origin) {
    throw new WasmOciError('E_INSECURE', `refused upload Location on another origin (${url.protocol}//${url.host}, registry is ${origin.host})`);
  }
  return url;
}

/** A copy of `url` with `name=value` appended to its query, the existing parameters kept. */
export function withQuery(url: URL, name: string, value: string): URL {
  const out = new URL(url);
  out.searchParams.append(name, value);
  return out;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

export function isRedirect(status: number): boolean {
  return REDIRECTS.has(status);
}

/** Next hop of a redirect; a downgrade from HTTPS to HTTP is refused unless plain HTTP was chosen. */
export function redirectTarget(res: HttpResponse, plainHttp: boolean): URL {
  const location = headerValue(res, 'location');
  if (!location) throw new WasmOciError('E_REGISTRY', `redirect (HTTP ${res.status}) without a Location`);
  let next: URL;
  try {
    next = new URL(location, res.url);
  } catch (err) {
    throw new WasmOciError('E_REGISTRY', 'registry sent an invalid redirect Location', { cause: err });
  }
  if (next.protocol !== 'https:' && next.protocol !== 'http:') {
    throw new WasmOciError('E_INSECURE', `refused redirect to ${next.protocol} URL`);
  }
  if (res.url.protocol === 'https:' && next.protocol === 'http:' && !plainHttp) {
    throw new WasmOciError('E_INSECURE', `refused redirect from HTTPS to plain HTTP (${next.host})`);
  }
  return next;
}
