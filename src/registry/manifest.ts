import { WasmOciError, isWasmOciError } from '../errors.js';
import { digestOf, isValidDigest, parseDigest } from '../oci/digest.js';
import { LIMITS, MANIFEST_ACCEPT } from '../oci/media-types.js';
import type { Descriptor } from '../oci/types.js';
import type { RegistryContext } from './context.js';
import { discardBody, headerValue } from './http.js';
import { backoffDelay } from './retry.js';
import { checkDeclaredLength, readBounded } from './read-body.js';
import { responseError, type ErrorContext } from './response-error.js';
import { requestFollowingRedirects } from './blob-fetch.js';

export const MANIFEST_ACCEPT_HEADER = MANIFEST_ACCEPT.join(', ');

export function isDigestReference(reference: string): boolean {
  return reference.includes(':');
}

function mediaTypeOf(contentType: string | undefined, content?: Uint8Array): string {
  const fromHeader = contentType?.split(';')[0]?.trim();
  if (fromHeader && fromHeader !== 'application/json' && fromHeader !== 'text/plain' && fromHeader !== 'application/octet-stream') return fromHeader;
  if (content) {
    try {
      const doc = JSON.parse(Buffer.from(content).toString('utf8')) as { mediaType?: unknown };
      if (typeof doc.mediaType === 'string') return doc.mediaType;
    } catch {
      /* not JSON: keep the header's type */
    }
  }
  return fromHeader ?? 'application/octet-stream';
}

function manifestCtx(ctx: RegistryContext, repository: string, reference: string, object = 'the manifest'): ErrorContext {
  return { registry: ctx.registry, repository, object, kind: 'manifest', reference };
}

/** Checks `content` against `expected`, computing with the expected digest's algorithm. */
function verifyDigest(content: Uint8Array, expected: string, what: string): string {
  const { algorithm } = parseDigest(expected);
  const got = digestOf(content, algorithm);
  if (got !== expected) {
    throw new WasmOciError('E_DIGEST_MISMATCH', `${what}: expected ${expected}, got ${got}`, { details: { expected, actual: got } });
  }
  return got;
}

/**
 * GET a manifest by tag or digest with the Accept list of every type we read. Bounded to 4 MiB
 * (E_SIZE_LIMIT); the bytes are checked against the requested digest, or against the registry's
 * `Docker-Content-Digest` when fetched by tag.
 */
export async function fetchManifest(ctx: RegistryContext, repository: string, reference: string, options: { scopes: string[]; signal?: AbortSignal; accept?: string }): Promise<{ descriptor: Descriptor; content: Uint8Array }> {
  const url = new URL(`/v2/${repository}/manifests/${reference}`, ctx.origin);
  let res: Awaited<ReturnType<typeof requestFollowingRedirects>>;
  let content: Buffer;
  for (let attempt = 1; ; attempt++) {
    res = await requestFollowingRedirects(ctx, {
      method: 'GET', url, scopes: options.scopes, signal: options.signal,
      headers: { accept: options.accept ?? MANIFEST_ACCEPT_HEADER },
    });
    if (res.status !== 200) throw await responseError(res, manifestCtx(ctx, repository, reference));
    try {
      checkDeclaredLength(headerValue(res, 'content-length'), LIMITS.manifestBytes, 'manifest');
    } catch (err) {
      await discardBody(res.body);
      throw err;
    }
    try {
      content = await readBounded(res.body, LIMITS.manifestBytes, 'manifest');
      break;
    } catch (err) {
      // The retry layer only sees status lines; a body cut after them is retried here (a manifest is small).
      if (!isWasmOciError(err, 'E_NETWORK') || attempt >= ctx.retryPolicy.maxAttempts || options.signal?.aborted) throw err;
      ctx.onDebug?.(`${err.message}; fetching the manifest again`);
      await ctx.clock.sleep(backoffDelay(attempt, ctx.retryPolicy), options.signal);
    }
  }
  const header = headerValue(res, 'docker-content-digest');
  let digest: string;
  if (isDigestReference(reference)) {
    digest = verifyDigest(content, reference, `manifest ${reference} does not match its digest`);
  } else if (header && isValidDigest(header)) {
    digest = verifyDigest(content, header, `manifest ${repository}:${reference} does not match the registry's Docker-Content-Digest`);
  } else {
    digest = digestOf(content);
  }
  const descriptor: Descriptor = { mediaType: mediaTypeOf(headerValue(res, 'content-type'), content), digest, size: content.length };
  return { descriptor, content };
}

/**
 * HEAD a manifest: the descriptor from Content-Type, Docker-Content-Digest and Content-Length.
 * A registry that leaves out the digest on HEAD (some do for tags) is asked with a GET.
 */
export async function resolveManifest(ctx: RegistryContext, repository: string, reference: string, options: { scopes: string[]; signal?: AbortSignal }): Promise<Descriptor> {
  const url = new URL(`/v2/${repository}/manifests/${reference}`, ctx.origin);
  const res = await requestFollowingRedirects(ctx, {
    method: 'HEAD', url, scopes: options.scopes, signal: options.signal,
    headers: { accept: MANIFEST_ACCEPT_HEADER },
  });
  if (res.status !== 200) throw await responseError(res, manifestCtx(ctx, repository, reference));
  await discardBody(res.body);
  const header = headerValue(res, 'docker-content-digest');
  const size = Number(headerValue(res, 'content-length'));
  const mediaType = headerValue(res, 'content-type')?.split(';')[0]?.trim();
  const digest = isDigestReference(reference) ? reference : header && isValidDigest(header) ? header : undefined;
  if (isDigestReference(reference) && header && isValidDigest(header) && header !== reference) {
    throw new WasmOciError('E_DIGEST_MISMATCH', `registry answered ${header} for manifest ${reference}`);
  }
  if (!digest || !Number.isInteger(size) || size < 0 || !mediaType || mediaType === 'application/json') {
    return (await fetchManifest(ctx, repository, reference, options)).descriptor;
  }
  checkDeclaredLength(String(size), LIMITS.manifestBytes, 'manifest');
  return { mediaType, digest, size };
}

/**
 * PUT a manifest by digest or tag with its own Content-Type. Our bytes are checked against the
 * descriptor first, and the registry's Docker-Content-Digest against it after.
 */
export async function pushManifest(ctx: RegistryContext, repository: string, desc: Descriptor, content: Uint8Array, reference: string, options: { scopes: string[]; signal?: AbortSignal }): Promise<void> {
  if (content.length > LIMITS.manifestBytes) {
    throw new WasmOciError('E_SIZE_LIMIT', `manifest of ${content.length} bytes exceeds the limit of ${LIMITS.manifestBytes} bytes`);
  }
  if (content.length !== desc.size) {
    throw new WasmOciError('E_SIZE_MISMATCH', `manifest is ${content.length} bytes, its descriptor says ${desc.size}`);
  }
  verifyDigest(content, desc.digest, 'manifest does not match its descriptor');
  const url = new URL(`/v2/${repository}/manifests/${reference}`, ctx.origin);
  const res = await ctx.auth.request({
    method: 'PUT', url, scopes: options.scopes, signal: options.signal,
    headers: { 'content-type': desc.mediaType, 'content-length': String(content.length) },
    body: content,
  });
  if (res.status !== 201 && res.status !== 200 && res.status !== 204) {
    throw await responseError(res, manifestCtx(ctx, repository, reference, 'the manifest'));
  }
  await discardBody(res.body);
  const got = headerValue(res, 'docker-content-digest');
  if (got && isValidDigest(got) && got !== desc.digest) {
    throw new WasmOciError('E_DIGEST_MISMATCH', `registry stored the manifest as ${got}, expected ${desc.digest}`, { details: { expected: desc.digest, actual: got } });
  }
}
