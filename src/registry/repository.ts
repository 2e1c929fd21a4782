import { Readable } from 'node:stream';
import { WasmOciError } from '../errors.js';
import type {
  BlobResolver,
  Content, Deleter, Mounter, ReferencePusher, ReferrerLister, TagLister, Target, TargetInfo, TransferOptions,
} from '../content/interfaces.js';
import { parseDigest } from '../oci/digest.js';
import { LIMITS, MEDIA_TYPES, isIndexMediaType, isManifestMediaType } from '../oci/media-types.js';
import type { Descriptor } from '../oci/types.js';
import { openBlob, requestFollowingRedirects } from './blob-fetch.js';
import { DEFAULT_CHUNK_SIZE, DEFAULT_MONOLITHIC_MAX_BYTES, mountBlob, uploadBlob, uploadUnknown } from './blob-upload.js';
import { createRegistryContext, type RegistryClientOptions, type RegistryContext } from './context.js';
import { discardBody, headerValue } from './http.js';
import { MANIFEST_ACCEPT_HEADER, fetchManifest, isDigestReference, pushManifest, resolveManifest } from './manifest.js';
import { readBounded } from './read-body.js';
import { listReferrers } from './referrers.js';
import { responseError } from './response-error.js';
import { ACTION_DELETE, ACTION_PULL, ACTION_PUSH, repositoryScope } from './scope.js';
import { listTags } from './tag-list.js';

export interface RepositoryOptions extends RegistryClientOptions {
  repository: string;
  /** PATCH chunk size for chunked uploads (raised to the registry's OCI-Chunk-Min-Length). */
  chunkSize?: number;
  /** Blobs up to this size are uploaded in one streamed PUT. */
  monolithicMaxBytes?: number;
  /** How many blobs callers (copy) should move at once; the repository itself does not limit. */
  concurrency?: number;
  /** `n` per tag list page; unset lets the registry choose. */
  tagPageSize?: number;
  /** A context shared with other repositories of the same registry (connections, tokens). */
  context?: RegistryContext;
}

export interface RemoteRepository extends Target, TagLister, Deleter, ReferencePusher, ReferrerLister, Mounter, BlobResolver {
  readonly info: TargetInfo;
  readonly registry: string;
  readonly repository: string;
  readonly concurrency: number;
  /** GET a manifest by tag or digest in one request: its descriptor and its verified bytes. */
  fetchReference(reference: string, options?: { signal?: AbortSignal; accept?: string }): Promise<{ descriptor: Descriptor; content: Uint8Array }>;
  /** Uploads a blob whose digest is not known yet, hashing it on the way (one pass, not retried). */
  pushUnknown(mediaType: string, content: Readable, options?: TransferOptions & { size?: number }): Promise<Descriptor>;
  /** Whether the registry answers the referrers API (a 404 means the tag schema is the way). */
  referrersApi(subjectDigest: string, options?: { signal?: AbortSignal }): Promise<boolean>;
  /** Closes the connections this repository opened (not those of a shared context). */
  close(): Promise<void>;
}

const REPOSITORY_NAME = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/;
const TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const OCI_ARTIFACT_MANIFEST = 'application/vnd.oci.artifact.manifest.v1+json';

/** Manifests and indexes live under `/manifests/`, everything else under `/blobs/`. */
export function isManifestRoute(mediaType: string): boolean {
  return isManifestMediaType(mediaType) || isIndexMediaType(mediaType) || mediaType === OCI_ARTIFACT_MANIFEST;
}

/** A tag or digest safe to put in a URL path (no `/`, `?`, `..`). */
export function checkReference(reference: string): void {
  if (isDigestReference(reference)) {
    parseDigest(reference);
    return;
  }
  if (!TAG.test(reference)) throw new WasmOciError('E_REFERENCE', `invalid tag "${reference}"`);
}

async function contentBytes(content: Content): Promise<Uint8Array> {
  if (content instanceof Uint8Array) return content;
  return readBounded(await content(0), LIMITS.manifestBytes, 'manifest');
}

/** A repository on a remote registry over the OCI distribution API (oras-go remote.Repository). */
export function createRepository(options: RepositoryOptions): RemoteRepository {
  const repository = options.repository;
  if (!REPOSITORY_NAME.test(repository) || repository.length > 255) {
    throw new WasmOciError('E_REFERENCE', `invalid repository name "${repository}"`);
  }
  const own = options.context === undefined;
  const ctx = options.context ?? createRegistryContext(options);
  const pull = [repositoryScope(repository, ACTION_PULL)];
  const push = [repositoryScope(repository, ACTION_PULL, ACTION_PUSH)];
  const del = [repositoryScope(repository, ACTION_DELETE)];
  const monolithicMaxBytes = options.monolithicMaxBytes ?? DEFAULT_MONOLITHIC_MAX_BYTES;
  const chunkSize = Math.max(1, options.chunkSize ?? DEFAULT_CHUNK_SIZE);

  const routeUrl = (desc: Descriptor): URL => {
    parseDigest(desc.digest);
    return new URL(`/v2/${repository}/${isManifestRoute(desc.mediaType) ? 'manifests' : 'blobs'}/${desc.digest}`, ctx.origin);
  };

  const repo: RemoteRepository = {
    info: { kind: 'registry', registry: ctx.registry, repository },
    registry: ctx.registry,
    repository,
    concurrency: Math.max(1, options.concurrency ?? 3),

    async fetch(desc, opts = {}) {
      parseDigest(desc.digest);
      if (!isManifestRoute(desc.mediaType)) return openBlob(ctx, repository, desc, { ...opts, scopes: pull });
      if (desc.size > LIMITS.manifestBytes) {
        throw new WasmOciError('E_SIZE_LIMIT', `manifest of ${desc.size} bytes exceeds the limit of ${LIMITS.manifestBytes} bytes`);
      }
      const { content } = await fetchManifest(ctx, repository, desc.digest, { scopes: pull, signal: opts.signal, accept: `${desc.mediaType}, ${MANIFEST_ACCEPT_HEADER}` });
      if (content.length !== desc.size) {
        throw new WasmOciError('E_SIZE_MISMATCH', `manifest ${desc.digest} is ${content.length} bytes, expected ${desc.size}`);
      }
      opts.onProgress?.(desc, content.length);
      return Readable.from([Buffer.from(content)]);
    },

    async push(desc, content, opts = {}) {
      parseDigest(desc.digest);
      if (isManifestRoute(desc.mediaType)) {
        await pushManifest(ctx, repository, desc, await contentBytes(content), desc.digest, { scopes: push, signal: opts.signal });
        opts.onProgress?.(desc, desc.size);
        return;
      }
      await uploadBlob(ctx, repository, desc, content, { ...opts, scopes: push, monolithicMaxBytes, chunkSize });
    },

    async exists(desc, opts = {}) {
      const url = routeUrl(desc);
      const headers: Record<string, string> = isManifestRoute(desc.mediaType) ? { accept: `${desc.mediaType}, ${MANIFEST_ACCEPT_HEADER}` } : {};
      const res = await requestFollowingRedirects(ctx, { method: 'HEAD', url, headers, scopes: pull, signal: opts.signal });
      if (res.status === 200) {
        await discardBody(res.body);
        return true;
      }
      if (res.status === 404) {
        await discardBody(res.body);
        return false;
      }
      throw await responseError(res, { registry: ctx.registry, repository, object: desc.digest, kind: isManifestRoute(desc.mediaType) ? 'manifest' : 'blob', reference: desc.digest });
    },

    async resolveBlob(digest, opts = {}) {
      const url = routeUrl({ mediaType: 'application/octet-stream', digest, size: 0 });
      const res = await requestFollowingRedirects(ctx, { method: 'HEAD', url, headers: {}, scopes: pull, signal: opts.signal });
      await discardBody(res.body);
      const size = Number(headerValue(res, 'content-length'));
      if (res.status === 200 && Number.isSafeInteger(size) && size >= 0) return { mediaType: 'application/octet-stream', digest, size };
      if (res.status === 200) throw new WasmOciError('E_REGISTRY', `registry gave no Content-Length for blob ${digest}`);
      throw await responseError(res, { registry: ctx.registry, repository, object: digest, kind: 'blob', reference: digest });
    },

    async resolve(reference, opts = {}) {
      checkReference(reference);
      return resolveManifest(ctx, repository, reference, { scopes: pull, signal: opts.signal });
    },

    async fetchReference(reference, opts = {}) {
      checkReference(reference);
      return fetchManifest(ctx, repository, reference, { scopes: pull, signal: opts.signal, accept: opts.accept });
    },

    async tag(desc, reference, opts = {}) {
      checkReference(reference);
      const { content } = await fetchManifest(ctx, repository, desc.digest, { scopes: push, signal: opts.signal, accept: `${desc.mediaType}, ${MANIFEST_ACCEPT_HEADER}` });
      await pushManifest(ctx, repository, desc, content, reference, { scopes: push, signal: opts.signal });
    },

    async pushReference(desc, content, reference, opts = {}) {
      checkReference(reference);
      await pushManifest(ctx, repository, desc, content, reference, { scopes: push, signal: opts.signal });
      opts.onProgress?.(desc, desc.size);
    },

    async delete(desc, opts = {}) {
      const url = routeUrl(desc);
      const res = await ctx.auth.request({ method: 'DELETE', url, scopes: del, signal: opts.signal });
      if (res.status === 202 || res.status === 200 || res.status === 204) {
        await discardBody(res.body);
        return;
      }
      throw await responseError(res, { registry: ctx.registry, repository, object: `the delete of ${desc.digest}`, kind: isManifestRoute(desc.mediaType) ? 'manifest' : 'blob', reference: desc.digest });
    },

    tags(opts = {}) {
      return listTags(ctx, repository, { scopes: pull, last: opts.last, signal: opts.signal, pageSize: options.tagPageSize });
    },

    async referrersApi(subjectDigest, opts = {}) {
      parseDigest(subjectDigest);
      const url = new URL(`/v2/${repository}/referrers/${subjectDigest}`, ctx.origin);
      const res = await ctx.auth.request({ method: 'GET', url, scopes: pull, signal: opts.signal, headers: { accept: MEDIA_TYPES.ociIndex } });
      await discardBody(res.body);
      if (res.status === 200) return true;
      if (res.status === 404) return false;
      throw await responseError(res, { registry: ctx.registry, repository, object: 'the referrers API', kind: 'referrers', reference: subjectDigest });
    },

    referrers(subject, opts = {}) {
      parseDigest(subject.digest);
      return listReferrers(ctx, repository, subject, { scopes: pull, artifactType: opts.artifactType, signal: opts.signal });
    },

    async mount(desc, fromRepository, opts = {}) {
      parseDigest(desc.digest);
      if (!REPOSITORY_NAME.test(fromRepository)) throw new WasmOciError('E_REFERENCE', `invalid repository name "${fromRepository}"`);
      return mountBlob(ctx, repository, desc, fromRepository, { scopes: [...push, repositoryScope(fromRepository, ACTION_PULL)], signal: opts.signal });
    },

    pushUnknown(mediaType, content, opts = {}) {
      return uploadUnknown(ctx, repository, mediaType, content, { ...opts, scopes: push });
    },

    async close() {
      if (own) await ctx.close();
    },
  };
  return repo;
}
