import { WasmOciError, isWasmOciError } from '../errors.js';
import { type Credential, type CredentialFunc, isEmptyCredential } from '../credentials/types.js';
import { LIMITS } from '../oci/media-types.js';
import { checkCredentialChannel, checkTokenRealm, checkTokenRealmAddresses, type HostLookup } from './auth-policy.js';
import { discardBody, headerValue, isReplayable, type HttpClient, type HttpRequest, type HttpResponse } from './http.js';
import { readBounded } from './read-body.js';
import { systemClock, type Clock } from './retry.js';
import { cleanScopes, scopesCover, splitScopeParam } from './scope.js';
import { createTokenCache, type TokenCache } from './token-cache.js';
import { findChallenge, parseWwwAuthenticate, type Challenge } from './www-authenticate.js';

/** How a response was obtained, so errors can say "missing" or "rejected" credentials. */
export interface AuthState {
  scheme?: 'basic' | 'bearer';
  credentialsUsed: boolean;
  username?: string;
  /** The `error` parameter of the last bearer challenge, e.g. `insufficient_scope`. */
  challengeError?: string;
}

export interface AuthRequest extends HttpRequest {
  /** Scopes this request needs (`repository:NAME:pull`), the token cache key. */
  scopes?: string[];
}

export interface AuthResponse extends HttpResponse {
  auth: AuthState;
}

export interface AuthClient {
  request(req: AuthRequest): Promise<AuthResponse>;
  readonly cache: TokenCache;
}

export interface AuthClientOptions {
  /** The (retrying) HTTP client underneath. */
  http: HttpClient;
  /** Registry name as credentials know it (`host[:port]`, `docker.io`). */
  registry: string;
  /** Where the registry API lives (`https://host:port`). Only this origin ever gets Authorization. */
  origin: string | URL;
  /** The user chose plain HTTP: only then may credentials travel unencrypted. */
  plainHttp?: boolean;
  credentials?: CredentialFunc;
  cache?: TokenCache;
  clock?: Clock;
  /** Use the OAuth2 password grant (POST) instead of the token GET for username/password. */
  forceOAuth2?: boolean;
  /** `client_id` for OAuth2 POSTs. */
  clientId?: string;
  /** Resolves a token realm's host before anything is sent there (tests inject one). */
  lookup?: HostLookup;
}

function hasBasic(c: Credential | undefined): c is Credential & { username: string; password: string } {
  return !!c && typeof c.username === 'string' && c.username !== '' && typeof c.password === 'string';
}

function basicHeader(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`, 'utf8').toString('base64')}`;
}

function withoutAuthorization(headers: Record<string, string> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers ?? {})) if (k.toLowerCase() !== 'authorization') out[k] = v;
  return out;
}

/**
 * The auth layer (oras-go auth.Client): sends a request with what the cache knows, and on 401
 * answers the challenge: Basic with the credential, or Bearer with a token fetched from the realm
 * (GET with `service` and repeated `scope`, Basic attached when there is a password; OAuth2 POST
 * with `refresh_token` for identity tokens). One more round on `insufficient_scope`.
 */
export function createAuthClient(options: AuthClientOptions): AuthClient {
  const origin = new URL(String(options.origin));
  const registry = options.registry;
  const plainHttp = options.plainHttp ?? false;
  const cache = options.cache ?? createTokenCache();
  const clock = options.clock ?? systemClock;
  const http = options.http;
  const challenges = new Map<string, Challenge>();
  let credential: Promise<Credential | undefined> | undefined;

  const getCredential = (): Promise<Credential | undefined> => {
    if (!options.credentials) return Promise.resolve(undefined);
    if (!credential) {
      credential = options.credentials(registry).catch((err: unknown) => {
        credential = undefined;
        if (err instanceof WasmOciError) throw err;
        throw new WasmOciError('E_CREDENTIALS', `cannot read credentials for ${registry}: ${(err as Error)?.message ?? err}`, { cause: err });
      });
    }
    return credential;
  };

  async function fetchToken(challenge: Challenge, scopes: string[], signal?: AbortSignal): Promise<{ token: string; expiresAt?: number }> {
    const realmText = challenge.params['realm'];
    if (!realmText) throw new WasmOciError('E_REGISTRY', `${registry} sent a Bearer challenge without a realm`);
    let realm: URL;
    try {
      realm = new URL(realmText);
    } catch (err) {
      throw new WasmOciError('E_REGISTRY', `${registry} sent an invalid token realm`, { cause: err });
    }
    checkTokenRealm(realm, origin);
    await checkTokenRealmAddresses(realm, origin, options.lookup);
    const cred = await getCredential();
    if (cred?.registryToken) return { token: cred.registryToken };
    const service = challenge.params['service'];
    let res: HttpResponse;
    let withCredentials = false;
    if (cred?.identityToken || (options.forceOAuth2 && hasBasic(cred))) {
      checkCredentialChannel(realm, plainHttp);
      withCredentials = true;
      const form = new URLSearchParams();
      if (cred.identityToken) {
        form.set('grant_type', 'refresh_token');
        form.set('refresh_token', cred.identityToken);
      } else {
        form.set('grant_type', 'password');
        form.set('username', cred.username!);
        form.set('password', cred.password!);
      }
      if (service) form.set('service', service);
      form.set('client_id', options.clientId ?? 'wasm-oci');
      if (scopes.length) form.set('scope', scopes.join(' '));
      res = await http.request({
        method: 'POST', url: realm, signal,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: form.toString(),
      });
    } else {
      const url = new URL(realm);
      if (service) url.searchParams.append('service', service);
      for (const s of scopes) url.searchParams.append('scope', s);
      const headers: Record<string, string> = {};
      if (hasBasic(cred)) {
        checkCredentialChannel(url, plainHttp);
        headers['authorization'] = basicHeader(cred.username, cred.password);
        withCredentials = true;
      }
      res = await http.request({ method: 'GET', url, headers, signal });
    }
    if (res.status === 401 || res.status === 403) {
      await discardBody(res.body);
      const who = cred?.username ? ` for user "${cred.username}"` : '';
      throw withCredentials
        ? new WasmOciError('E_AUTH', `the token server of ${registry} rejected the credentials${who}`, { status: res.status, hint: `check the password or run: wasm-oci login ${registry}` })
        : new WasmOciError('E_AUTH', `authentication required by ${registry}: no credentials for it`, { status: res.status, hint: `run: wasm-oci login ${registry}, or pass -u/-p` });
    }
    if (res.status !== 200) {
      await discardBody(res.body);
      throw new WasmOciError('E_REGISTRY', `the token server of ${registry} returned HTTP ${res.status}`, { status: res.status });
    }
    const raw = await readBounded(res.body, LIMITS.tokenBodyBytes, 'token response');
    let parsed: { token?: unknown; access_token?: unknown; expires_in?: unknown };
    try {
      parsed = JSON.parse(raw.toString('utf8')) as typeof parsed;
    } catch (err) {
      throw new WasmOciError('E_REGISTRY', `the token server of ${registry} returned invalid JSON`, { cause: err });
    }
    const token = typeof parsed?.token === 'string' && parsed.token ? parsed.token
      : typeof parsed?.access_token === 'string' && parsed.access_token ? parsed.access_token : undefined;
    if (!token) throw new WasmOciError('E_REGISTRY', `the token server of ${registry} returned no token`);
    const expiresIn = typeof parsed.expires_in === 'number' && parsed.expires_in > 0 ? parsed.expires_in : undefined;
    // Renew a little early so a token does not expire between the cache lookup and the request.
    const expiresAt = expiresIn !== undefined ? clock.now() + Math.max(1, expiresIn - 5) * 1000 : undefined;
    return { token, expiresAt };
  }

  // Parallel requests (layers pushed concurrently) needing the same scopes share one token fetch.
  const inflight = new Map<string, Promise<{ token: string; expiresAt?: number }>>();

  async function bearerFor(challenge: Challenge, hint: string[], need: string[], signal?: AbortSignal): Promise<string> {
    const key = need.join(' ');
    let pending = inflight.get(key);
    if (!pending) {
      pending = fetchToken(challenge, need, signal).finally(() => inflight.delete(key));
      inflight.set(key, pending);
    }
    const { token, expiresAt } = await pending;
    cache.setScheme(registry, 'bearer');
    cache.setToken(registry, need, token, expiresAt);
    if (hint.join(' ') !== key) cache.setToken(registry, hint, token, expiresAt);
    return token;
  }

  const client: AuthClient = {
    cache,
    async request(req: AuthRequest): Promise<AuthResponse> {
      const url = new URL(String(req.url));
      const base = withoutAuthorization(req.headers);
      if (url.origin !== origin.origin) {
        // Another origin (a blob redirect to S3 or a CDN): never with our credentials.
        const res = await http.request({ ...req, headers: base });
        return { ...res, auth: { credentialsUsed: false } };
      }
      const scopes = cleanScopes(req.scopes ?? []);
      const send = async (authorization: string | undefined): Promise<HttpResponse> =>
        http.request({ ...req, headers: authorization ? { ...base, authorization } : base });

      let authorization: string | undefined;
      let state: AuthState = { credentialsUsed: false };
      const scheme = cache.getScheme(registry);
      if (scheme === 'basic') {
        const cred = await getCredential();
        if (hasBasic(cred)) {
          checkCredentialChannel(url, plainHttp);
          authorization = basicHeader(cred.username, cred.password);
          state = { scheme: 'basic', credentialsUsed: true, username: cred.username };
        }
      } else if (scheme === 'bearer') {
        let token = cache.getToken(registry, scopes, clock.now());
        const known = challenges.get(registry);
        // Fetch up front when the challenge is known: saves a 401 round trip, and lets a
        // one-shot body (a streamed upload) go out already authorised.
        if (!token && known) token = await bearerFor(known, scopes, scopes, req.signal);
        if (token) {
          const cred = await getCredential();
          authorization = `Bearer ${token}`;
          state = { scheme: 'bearer', credentialsUsed: !isEmptyCredential(cred), username: cred?.username };
        }
      }

      const res = await send(authorization);
      if (res.status !== 401 || !isReplayable(req.body)) return { ...res, auth: state };
      const header = headerValue(res, 'www-authenticate');
      if (!header) return { ...res, auth: state };
      let parsed: Challenge[];
      try {
        parsed = parseWwwAuthenticate(header);
      } catch (err) {
        await discardBody(res.body);
        throw err;
      }
      const bearer = findChallenge(parsed, 'bearer');
      const basic = findChallenge(parsed, 'basic');
      if (bearer) {
        await discardBody(res.body);
        challenges.set(registry, { scheme: 'bearer', params: { ...bearer.params, scope: '' } });
        let need = cleanScopes([...scopes, ...splitScopeParam(bearer.params['scope'])]);
        const cred = await getCredential();
        state = { scheme: 'bearer', credentialsUsed: !isEmptyCredential(cred), username: cred?.username };
        let token = await bearerFor(bearer, scopes, need, req.signal);
        let res2 = await send(`Bearer ${token}`);
        if (res2.status !== 401) return { ...res2, auth: state };
        const again = headerValue(res2, 'www-authenticate');
        let next: Challenge | undefined;
        try {
          next = again ? findChallenge(parseWwwAuthenticate(again), 'bearer') : undefined;
        } catch {
          next = undefined;
        }
        state = { ...state, challengeError: next?.params['error'] };
        // One re-try when the registry says the token lacks a scope we did not ask for yet.
        if (next && next.params['error'] === 'insufficient_scope') {
          const wider = cleanScopes([...need, ...splitScopeParam(next.params['scope'])]);
          if (!scopesCover(need, wider)) {
            await discardBody(res2.body);
            need = wider;
            token = await bearerFor(next, scopes, need, req.signal);
            res2 = await send(`Bearer ${token}`);
            if (res2.status === 401) {
              const last = headerValue(res2, 'www-authenticate');
              try {
                state = { ...state, challengeError: last ? findChallenge(parseWwwAuthenticate(last), 'bearer')?.params['error'] : undefined };
              } catch {
                /* keep the previous state */
              }
            }
          }
        }
        return { ...res2, auth: state };
      }
      if (basic) {
        // The credential already went with this request and was refused: asking again is pointless.
        if (state.scheme === 'basic' && state.credentialsUsed) return { ...res, auth: state };
        const cred = await getCredential();
        if (!hasBasic(cred)) return { ...res, auth: { credentialsUsed: false } };
        checkCredentialChannel(url, plainHttp);
        await discardBody(res.body);
        cache.setScheme(registry, 'basic');
        const res2 = await send(basicHeader(cred.username, cred.password));
        return { ...res2, auth: { scheme: 'basic', credentialsUsed: true, username: cred.username } };
      }
      return { ...res, auth: state };
    },
  };

  // A request that ends refused (401 from the registry, 401/403 from its token server) forgets the
  // credential it read, so the next one reads the source again: a long-lived client (the node
  // agent) then picks up a rotated pull secret or a new login, instead of offering the refused
  // password until it restarts.
  const attempt = client.request.bind(client);
  client.request = async (req) => {
    try {
      const res = await attempt(req);
      if (res.status === 401) credential = undefined;
      return res;
    } catch (err) {
      if (isWasmOciError(err, 'E_AUTH')) credential = undefined;
      throw err;
    }
  };
  return client;
}
