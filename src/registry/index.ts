export { parseWwwAuthenticate, findChallenge, type Challenge } from './www-authenticate.js';
export {
  createHttpClient, createAgent, mapNetworkError, headerValue, discardBody, isReplayable, DEFAULT_USER_AGENT,
  type HttpClient, type HttpClientOptions, type HttpRequest, type HttpResponse, type HttpMethod, type RequestBody, type BodyFactory,
} from './http.js';
export { redactUrl, redactHeader, REDACTED } from './redact.js';
export {
  createRetryingClient, systemClock, DEFAULT_RETRY_POLICY, resolveRetryPolicy, isRetryableStatus, parseRetryAfter, backoffDelay,
  type Clock, type RetryPolicy, type RetryOptions,
} from './retry.js';
export { createAuthClient, type AuthClient, type AuthClientOptions, type AuthRequest, type AuthResponse, type AuthState } from './auth.js';
export { checkTokenRealm, checkCredentialChannel, classifyHost, type AddressClass } from './auth-policy.js';
export { createTokenCache, tokenCacheKey, type TokenCache } from './token-cache.js';
export { cleanScopes, repositoryScope, splitScopeParam, scopesCover, ACTION_PULL, ACTION_PUSH, ACTION_DELETE } from './scope.js';
export { parseDistributionErrors, responseError, type DistributionError, type ErrorContext } from './response-error.js';
export { createRegistryContext, apiHost, type RegistryClientOptions, type RegistryContext } from './context.js';
export { nextPageUrl } from './pagination.js';
export { uploadLocation, withQuery } from './location.js';
export { openBlob, requestFollowingRedirects, parseContentRangeStart } from './blob-fetch.js';
export { uploadBlob, uploadUnknown, mountBlob, DEFAULT_CHUNK_SIZE, DEFAULT_MONOLITHIC_MAX_BYTES, type UploadOptions } from './blob-upload.js';
export { fetchManifest, resolveManifest, pushManifest, MANIFEST_ACCEPT_HEADER } from './manifest.js';
export { listTags } from './tag-list.js';
export { listReferrers, referrersTag } from './referrers.js';
export { createRepository, isManifestRoute, checkReference, type RemoteRepository, type RepositoryOptions } from './repository.js';
export { proxyConfigFromEnv, parseProxyUrl, createProxySelector, type ProxyConfig, type ProxyConfigFromEnv, type ProxySelector, type ChosenProxy } from './proxy-env.js';
export { createRegistry, type RemoteRegistry, type RegistryOptions } from './registry.js';
