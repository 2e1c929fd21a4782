import type { Credential } from '../credentials/types.js';
import { WasmOciError } from '../errors.js';
import { createRegistryContext, type RegistryClientOptions, type RegistryContext } from './context.js';
import { discardBody } from './http.js';
import { createRepository, type RemoteRepository, type RepositoryOptions } from './repository.js';
import { responseError } from './response-error.js';
import { listRepositories } from './catalog.js';

export type RegistryOptions = RegistryClientOptions;

export interface RemoteRegistry {
  readonly registry: string;
  readonly context: RegistryContext;
  /**
   * GET /v2/: the registry is there and speaks the distribution API. With credentials this also
   * authenticates (Basic, or a token from the realm), so it doubles as a credential check.
   */
  ping(options?: { signal?: AbortSignal }): Promise<void>;
  /** `login`: pings with exactly this credential (nothing cached is reused). Throws E_AUTH when rejected. */
  checkCredentials(credential: Credential, options?: { signal?: AbortSignal }): Promise<void>;
  /** Every repository of the catalog (GET /v2/_catalog, all pages), after `last` when given. */
  repositories(options?: { last?: string; pageSize?: number; signal?: AbortSignal }): Promise<string[]>;
  /** A repository sharing this registry's connections and token cache. */
  repository(name: string, options?: Omit<RepositoryOptions, 'registry' | 'repository' | 'context'>): RemoteRepository;
  close(): Promise<void>;
}

async function pingContext(ctx: RegistryContext, signal?: AbortSignal): Promise<void> {
  const url = new URL('/v2/', ctx.origin);
  const res = await ctx.auth.request({ method: 'GET', url, scopes: [], signal });
  if (res.status === 200) {
    await discardBody(res.body);
    return;
  }
  if (res.status === 404) {
    await discardBody(res.body);
    throw new WasmOciError('E_REGISTRY', `${ctx.registry} does not serve the OCI distribution API (GET /v2/ answered 404)`, { status: 404 });
  }
  throw await responseError(res, { registry: ctx.registry, object: 'the API check (GET /v2/)', kind: 'registry' });
}

export function createRegistry(options: RegistryOptions): RemoteRegistry {
  const ctx = createRegistryContext(options);
  return {
    registry: options.registry,
    context: ctx,
    ping: (opts = {}) => pingContext(ctx, opts.signal),
    async checkCredentials(credential, opts = {}) {
      const probe = createRegistryContext({ ...options, credentials: async () => credential, tokenCache: undefined });
      try {
        await pingContext(probe, opts.signal);
      } finally {
        await probe.close();
      }
    },
    repositories: (opts = {}) => listRepositories(ctx, opts),
    repository(name, repoOptions = {}) {
      return createRepository({ ...options, ...repoOptions, registry: options.registry, repository: name, context: ctx });
    },
    close: () => ctx.close(),
  };
}
