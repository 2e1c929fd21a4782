import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { createPrivateKey, randomBytes, randomUUID, sign } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { makeSelfSignedCert, type SelfSignedCert } from './self-signed-cert.js';

/**
 * A test token server in the shape of docker's auth server (distribution docs: "Token
 * Authentication Specification" and "OAuth2 Token Authentication"). Distribution 2.8 accepts
 * an RS256 JWT whose `x5c` header holds a certificate found in `auth.token.rootcertbundle`.
 */

export interface AccessEntry {
  type: string;
  name: string;
  actions: string[];
}

export interface IssuerRequestRecord {
  method: string;
  path: string;
  /** `GET` (docker token), `password` or `refresh_token` (OAuth2 POST). */
  grant: 'get' | 'password' | 'refresh_token' | 'unknown';
  service?: string;
  scopes: string[];
  /** The request carried a secret: Basic header, Bearer header, password or refresh token. */
  carriedCredentials: boolean;
  /** Subject the request authenticated as, when it did. */
  subject?: string;
  status: number;
  headers: Record<string, string | string[] | undefined>;
}

export interface TokenIssuerOptions {
  /** The host the realm URL names (default 127.0.0.1); it listens on 127.0.0.1 whatever it is. */
  realmHost?: string;
  username?: string;
  password?: string;
  /** `aud`; must equal the registry's `auth.token.service`. */
  service?: string;
  /** `iss`; must equal the registry's `auth.token.issuer`. */
  issuer?: string;
  /** Token lifetime in seconds (`expires_in`). */
  expiresIn?: number;
  /** Actions an anonymous (no credentials) request gets per requested scope; default none. */
  anonymousActions?: string[];
  /** Decide the granted actions; default: all requested for an authenticated subject. */
  grant?: (subject: string | undefined, requested: AccessEntry) => string[];
  /** Serve over HTTPS with this cert/key (needed behind a TLS registry: an HTTP realm is a downgrade). */
  tls?: { certPem: string; keyPem: string };
}

export interface TokenIssuer {
  /** The realm URL, e.g. http://127.0.0.1:PORT/token */
  realm: string;
  origin: string;
  service: string;
  issuer: string;
  /** PEM of the signing certificate: the registry's rootcertbundle. */
  certPem: string;
  certFile: string;
  requests: IssuerRequestRecord[];
  /** Number of token endpoint requests seen (any outcome). */
  readonly requestCount: number;
  readonly tokensIssued: number;
  /** True when any request carried credentials of any kind. */
  readonly sawCredentials: boolean;
  /** A refresh ("identity") token valid for `subject`, as `docker login` would store it. */
  createRefreshToken(subject?: string): string;
  /** Sign a token directly (to hand a client a known token, or an expired one). */
  signToken(subject: string | undefined, access: AccessEntry[], opts?: { expiresIn?: number; notBeforeOffset?: number }): string;
  close(): Promise<void>;
}

function b64url(input: Buffer | string): string {
  return Buffer.from(input).toString('base64url');
}

/** `repository:NAME:pull,push` (NAME may itself hold no colon, but a type may carry a class). */
export function parseScope(scope: string): AccessEntry | undefined {
  const first = scope.indexOf(':');
  const last = scope.lastIndexOf(':');
  if (first <= 0 || last === first) return undefined;
  const type = scope.slice(0, first).replace(/\(.*\)$/, '');
  const name = scope.slice(first + 1, last);
  const actions = scope.slice(last + 1).split(',').filter(Boolean);
  return { type, name, actions };
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export async function startTokenIssuer(opts: TokenIssuerOptions = {}): Promise<TokenIssuer> {
  const service = opts.service ?? 'test-registry';
  const issuerName = opts.issuer ?? 'test-issuer';
  const expiresIn = opts.expiresIn ?? 300;
  const dir = await mkdtemp(join(tmpdir(), 'wasm-oci-issuer-'));
  let cert: SelfSignedCert;
  try {
    cert = await makeSelfSignedCert(dir, 'issuer', issuerName);
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  const privateKey = createPrivateKey(cert.keyPem);
  const refreshTokens = new Map<string, string>();
  const requests: IssuerRequestRecord[] = [];
  let tokensIssued = 0;

  const signToken: TokenIssuer['signToken'] = (subject, access, o = {}) => {
    const now = Math.floor(Date.now() / 1000);
    const header = { alg: 'RS256', typ: 'JWT', x5c: [cert.derBase64] };
    const claims = {
      iss: issuerName,
      aud: service,
      sub: subject ?? '',
      exp: now + (o.expiresIn ?? expiresIn),
      nbf: now - 5 + (o.notBeforeOffset ?? 0),
      iat: now,
      jti: randomUUID(),
      access,
    };
    const signingInput = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
    const signature = sign('sha256', Buffer.from(signingInput), privateKey);
    return `${signingInput}.${b64url(signature)}`;
  };

  const createRefreshToken = (subject = opts.username ?? 'user'): string => {
    const tok = randomBytes(24).toString('hex');
    refreshTokens.set(tok, subject);
    return tok;
  };

  const checkBasic = (value: string | undefined): { ok: boolean; subject?: string; present: boolean } => {
    if (!value) return { ok: false, present: false };
    const m = /^Basic\s+(.+)$/i.exec(value);
    if (!m) return { ok: false, present: true };
    const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
    const sep = decoded.indexOf(':');
    const user = sep < 0 ? decoded : decoded.slice(0, sep);
    const pass = sep < 0 ? '' : decoded.slice(sep + 1);
    return { ok: user === opts.username && pass === opts.password, subject: user, present: true };
  };

  const grantAccess = (subject: string | undefined, scopes: string[]): AccessEntry[] => {
    const out: AccessEntry[] = [];
    for (const s of scopes) {
      const req = parseScope(s);
      if (!req) continue;
      const actions = opts.grant
        ? opts.grant(subject, req)
        : subject !== undefined ? req.actions : req.actions.filter((a) => (opts.anonymousActions ?? []).includes(a));
      if (actions.length > 0) out.push({ type: req.type, name: req.name, actions });
    }
    return out;
  };

  const handler = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://issuer.invalid');
    const record: IssuerRequestRecord = {
      method: req.method ?? 'GET', path: url.pathname, grant: 'unknown', scopes: [],
      carriedCredentials: false, status: 0, headers: { ...req.headers },
    };
    requests.push(record);
    const reply = (status: number, body: unknown, headers: Record<string, string> = {}): void => {
      record.status = status;
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(JSON.stringify(body));
    };
    const authz = req.headers.authorization;
    if (authz) record.carriedCredentials = true;
    if (url.pathname !== '/token') return reply(404, { error: 'not found' });

    const issue = (subject: string | undefined, scopes: string[], withRefresh: boolean, oauth: boolean): void => {
      const token = signToken(subject, grantAccess(subject, scopes));
      tokensIssued++;
      const body: Record<string, unknown> = {
        token, access_token: token, expires_in: expiresIn, issued_at: new Date().toISOString(),
      };
      if (oauth) body.scope = scopes.join(' ');
      if (withRefresh && subject !== undefined) body.refresh_token = createRefreshToken(subject);
      reply(200, body);
    };

    if (req.method === 'GET') {
      record.grant = 'get';
      record.service = url.searchParams.get('service') ?? undefined;
      record.scopes = url.searchParams.getAll('scope').flatMap((s) => s.split(' ')).filter(Boolean);
      const basic = checkBasic(authz);
      if (basic.present && !basic.ok) {
        return reply(401, { details: 'incorrect username or password' }, { 'www-authenticate': 'Basic realm="test-issuer"' });
      }
      if (basic.ok) record.subject = basic.subject;
      return issue(record.subject, record.scopes, url.searchParams.get('offline_token') === 'true', false);
    }

    if (req.method === 'POST') {
      const form = new URLSearchParams(await readBody(req));
      const grant = form.get('grant_type');
      record.service = form.get('service') ?? undefined;
      record.scopes = form.getAll('scope').flatMap((s) => s.split(' ')).filter(Boolean);
      if (grant === 'password') {
        record.grant = 'password';
        if (form.has('password')) record.carriedCredentials = true;
        if (form.get('username') !== opts.username || form.get('password') !== opts.password) {
          return reply(401, { error: 'invalid_grant', details: 'incorrect username or password' });
        }
        record.subject = form.get('username') ?? undefined;
        return issue(record.subject, record.scopes, true, true);
      }
      if (grant === 'refresh_token') {
        record.grant = 'refresh_token';
        const rt = form.get('refresh_token') ?? '';
        if (rt) record.carriedCredentials = true;
        const subject = refreshTokens.get(rt);
        if (subject === undefined) return reply(401, { error: 'invalid_grant', details: 'invalid refresh token' });
        record.subject = subject;
        return issue(subject, record.scopes, true, true);
      }
      return reply(400, { error: 'unsupported_grant_type' });
    }
    return reply(405, { error: 'method not allowed' });
  };

  const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    handler(req, res).catch((err: unknown) => {
      if (!res.headersSent) res.writeHead(500);
      res.end(String(err));
    });
  };
  const server: Server = opts.tls
    ? createHttpsServer({ cert: opts.tls.certPem, key: opts.tls.keyPem }, onRequest)
    : createHttpServer(onRequest);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const origin = `${opts.tls ? 'https' : 'http'}://${opts.realmHost ?? '127.0.0.1'}:${port}`;

  return {
    realm: `${origin}/token`,
    origin,
    service,
    issuer: issuerName,
    certPem: cert.certPem,
    certFile: cert.certFile,
    requests,
    get requestCount() { return requests.length; },
    get tokensIssued() { return tokensIssued; },
    get sawCredentials() { return requests.some((r) => r.carriedCredentials); },
    createRefreshToken,
    signToken,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await rm(dir, { recursive: true, force: true });
    },
  };
}
