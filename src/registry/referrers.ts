import { WasmOciError } from '../errors.js';
import { parseDigest } from '../oci/digest.js';
import { LIMITS, MEDIA_TYPES } from '../oci/media-types.js';
import type { Descriptor, ImageIndex } from '../oci/types.js';
import type { RegistryContext } from './context.js';
import { discardBody, headerValue } from './http.js';
import { fetchManifest } from './manifest.js';
import { nextPageUrl } from './pagination.js';
import { readBounded } from './read-body.js';
import { responseError } from './response-error.js';

/** The tag of the referrers tag schema (distribution spec 1.1): `sha256-<hex>`. */
export function referrersTag(subjectDigest: string): string {
  const { algorithm, hex } = parseDigest(subjectDigest);
  return `${algorithm}-${hex}`;
}

function manifestsOf(raw: Uint8Array, registry: string): Descriptor[] {
  let doc: Partial<ImageIndex>;
  try {
    doc = JSON.parse(Buffer.from(raw).toString('utf8')) as Partial<ImageIndex>;
  } catch (err) {
    throw new WasmOciError('E_MANIFEST_INVALID', `${registry} returned an invalid referrers index`, { cause: err });
  }
  return Array.isArray(doc?.manifests) ? doc.manifests.filter((d) => d && typeof d.digest === 'string') : [];
}

/**
 * Referrers of a subject: the referrers API (following Link pages), or on 404 - a registry
 * without the API, like Distribution 2.8 - the index tagged `sha256-<hex>`. Filtered by
 * artifactType here unless the registry says it filtered (`OCI-Filters-Applied`).
 */
export async function listReferrers(ctx: RegistryContext, repository: string, subject: Descriptor, options: { scopes: string[]; artifactType?: string; signal?: AbortSignal }): Promise<Descriptor[]> {
  const filter = (list: Descriptor[], applied: boolean): Descriptor[] =>
    options.artifactType && !applied ? list.filter((d) => d.artifactType === options.artifactType) : list;
  let url: URL | undefined = new URL(`/v2/${repository}/referrers/${subject.digest}`, ctx.origin);
  if (options.artifactType) url.searchParams.set('artifactType', options.artifactType);
  const out: Descriptor[] = [];
  for (let page = 0; url; page++) {
    if (page > 10_000) throw new WasmOciError('E_REGISTRY', 'the referrers pagination does not end');
    const res = await ctx.auth.request({ method: 'GET', url, scopes: options.scopes, signal: options.signal, headers: { accept: MEDIA_TYPES.ociIndex } });
    if (res.status === 404 && page === 0) {
      await discardBody(res.body);
      return filter(await referrersFromTag(ctx, repository, subject, options), false);
    }
    if (res.status !== 200) {
      throw await responseError(res, { registry: ctx.registry, repository, object: 'the referrers list', kind: 'referrers', reference: subject.digest });
    }
    const raw = await readBounded(res.body, LIMITS.manifestBytes, 'referrers index');
    const applied = (headerValue(res, 'oci-filters-applied') ?? '').split(',').map((s) => s.trim()).includes('artifactType');
    out.push(...filter(manifestsOf(raw, ctx.registry), applied));
    url = nextPageUrl(headerValue(res, 'link'), url, ctx.origin);
  }
  return out;
}

async function referrersFromTag(ctx: RegistryContext, repository: string, subject: Descriptor, options: { scopes: string[]; signal?: AbortSignal }): Promise<Descriptor[]> {
  try {
    const { content } = await fetchManifest(ctx, repository, referrersTag(subject.digest), { ...options, accept: MEDIA_TYPES.ociIndex });
    return manifestsOf(content, ctx.registry);
  } catch (err) {
    if (err instanceof WasmOciError && err.code === 'E_NOT_FOUND') return [];
    throw err;
  }
}
