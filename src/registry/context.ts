import type { CredentialFunc } from '../credentials/types.js';
import { createAuthClient, type AuthClient } from './auth.js';
import { createHttpClient, type HttpClient, type HttpClientOptions } from './http.js';
import { createRetryingClient, resolveRetryPolicy, systemClock, type Clock, type RetryPolicy } from './retry.js';
import type { TokenCache } from './token-cache.js';

/** Options shared by `createRegistry` and `createRepository`. */
export interface RegistryClientOptions extends HttpClientOptions {
  /** Registry host with optional port, as in a reference (`docker.io`, `localhost:5000`). */
  registry: string;
  credentials?: CredentialFunc;
  clock?: Clock;
  retry?: Partial<RetryPolicy>;
  onWarning?: (message: string) => void;
  /** OAuth2 password grant (POST) instead of the token GET for username/password. */
  forceOAuth2?: boolean;
  tokenCache?: TokenCache;
}

/** What every remote operation needs: where the API is, and the layered client to reach it. */
export interface RegistryContext {
  registry: string;
  /** `https://host:port` (or http with plainHttp): the only origin that gets Authorization. */
  origin: URL;
  plainHttp: boolean;
  auth: AuthClient;
  clock: Clock;
  retryPolicy: RetryPolicy;
  onDebug?: (line: string) => void;
  onWarning?: (message: string) => void;
  close(): Promise<void>;
}

/** Docker Hub's API host differs from the name users (and credential stores) know it by. */
export function apiHost(registry: string): string {
  return registry === 'docker.io' || registry === 'index.docker.io' ? 'registry-1.docker.io' : registry;
}

/** http -> retry -> auth, the layers of oras-go's remote package. */
export function createRegistryContext(options: RegistryClientOptions): RegistryContext {
  const plainHttp = options.plainHttp ?? false;
  const origin = new URL(`${plainHttp ? 'http' : 'https'}://${apiHost(options.registry)}`);
  const clock = options.clock ?? systemClock;
  const retryPolicy = resolveRetryPolicy(options.retry);
  const base: HttpClient = createHttpClient(options);
  const http = createRetryingClient(base, { policy: retryPolicy, clock, onDebug: options.onDebug });
  const auth = createAuthClient({
    http,
    registry: options.registry,
    origin,
    plainHttp,
    credentials: options.credentials,
    cache: options.tokenCache,
    clock,
    forceOAuth2: options.forceOAuth2,
  });
  return {
    registry: options.registry,
    origin,
    plainHttp,
    auth,
    clock,
    retryPolicy,
    onDebug: options.onDebug,
    onWarning: options.onWarning,
    close: () => http.close(),
  };
}
