/**
 * Redaction for debug output: URLs carry presigned-URL signatures (S3, GCS, Azure SAS) and some
 * token endpoints accept secrets in the query; none of it may reach a log.
 */

const SECRET_QUERY = new Set([
  'token', 'access_token', 'refresh_token', 'id_token', 'password', 'passwd', 'pass', 'secret',
  'client_secret', 'signature', 'sig', 'x-amz-signature', 'x-amz-credential', 'x-amz-security-token',
  'x-goog-signature', 'x-goog-credential', 'googleaccessid', 'key', 'api_key', 'apikey', 'auth',
  'authorization', 'code', 'jwt', 'session', 'sessiontoken', 'policy', 'x-oss-signature',
  'x-oss-credential', 'x-oss-security-token', 'ossaccesskeyid', 'security-token',
]);

export const REDACTED = '<redacted>';

function isSecretName(name: string): boolean {
  const lower = name.toLowerCase();
  return SECRET_QUERY.has(lower) || /(token|secret|passw|signature|credential)/.test(lower);
}

/** The URL with user info and secret query values replaced by `<redacted>`. */
export function redactUrl(url: string | URL): string {
  let u: URL;
  try {
    u = new URL(String(url));
  } catch {
    return REDACTED;
  }
  if (u.username || u.password) {
    u.username = 'redacted';
    u.password = '';
  }
  const parts: string[] = [];
  let changed = false;
  for (const [k, v] of u.searchParams) {
    if (isSecretName(k)) {
      changed = true;
      parts.push(`${encodeURIComponent(k)}=${REDACTED}`);
    } else {
      parts.push(`${encodeURIComponent(k)}=${encodeURIComponent(v)}`);
    }
  }
  if (!changed) return u.toString();
  return `${u.origin}${u.pathname}?${parts.join('&')}${u.hash}`;
}

/** Header value safe to print: the auth scheme is kept, its secret is not. */
export function redactHeader(name: string, value: string): string {
  const lower = name.toLowerCase();
  if (lower === 'authorization' || lower === 'proxy-authorization') {
    const scheme = value.split(' ', 1)[0] ?? '';
    return `${scheme} ${REDACTED}`;
  }
  if (lower === 'cookie' || lower === 'set-cookie' || isSecretName(lower)) return REDACTED;
  return value;
}
