/**
 * What the auth layer remembers per registry: the scheme it challenged with, and bearer tokens
 * keyed by the sorted scope set they were issued for (oras-go auth.Cache, with expiry).
 */
export interface TokenCache {
  getScheme(registry: string): 'basic' | 'bearer' | undefined;
  setScheme(registry: string, scheme: 'basic' | 'bearer'): void;
  getToken(registry: string, scopes: string[], nowMs: number): string | undefined;
  setToken(registry: string, scopes: string[], token: string, expiresAtMs?: number): void;
  clear(registry?: string): void;
}

export function tokenCacheKey(registry: string, scopes: string[]): string {
  return `${registry}\n${[...scopes].sort().join(' ')}`;
}

export function createTokenCache(): TokenCache {
  const schemes = new Map<string, 'basic' | 'bearer'>();
  const tokens = new Map<string, { token: string; expiresAtMs?: number }>();
  return {
    getScheme: (registry) => schemes.get(registry),
    setScheme: (registry, scheme) => void schemes.set(registry, scheme),
    getToken(registry, scopes, nowMs) {
      const key = tokenCacheKey(registry, scopes);
      const entry = tokens.get(key);
      if (!entry) return undefined;
      if (entry.expiresAtMs !== undefined && entry.expiresAtMs <= nowMs) {
        tokens.delete(key);
        return undefined;
      }
      return entry.token;
    },
    setToken(registry, scopes, token, expiresAtMs) {
      tokens.set(tokenCacheKey(registry, scopes), { token, expiresAtMs });
    },
    clear(registry) {
      if (registry === undefined) {
        schemes.clear();
        tokens.clear();
        return;
      }
      schemes.delete(registry);
      for (const key of [...tokens.keys()]) if (key.startsWith(`${registry}\n`)) tokens.delete(key);
    },
  };
}
