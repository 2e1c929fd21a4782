import { WasmOciError } from '../errors.js';
import type { RegistryContext } from './context.js';
import { headerValue } from './http.js';
import { nextPageUrl } from './pagination.js';
import { checkDeclaredLength, readBounded } from './read-body.js';
import { responseError } from './response-error.js';

/** One page of tags; a big repository's page is still small text, but bounded all the same. */
const TAG_PAGE_BYTES = 16 * 1024 * 1024;
const MAX_PAGES = 100_000;

/**
 * Every tag of a repository, following `Link: <...>; rel="next"` (same origin only) until the
 * registry stops sending one. `last` starts after that tag; `pageSize` asks for `n` per page.
 */
export async function listTags(ctx: RegistryContext, repository: string, options: { scopes: string[]; last?: string; pageSize?: number; signal?: AbortSignal }): Promise<string[]> {
  let url: URL | undefined = new URL(`/v2/${repository}/tags/list`, ctx.origin);
  if (options.pageSize) url.searchParams.set('n', String(options.pageSize));
  if (options.last) url.searchParams.set('last', options.last);
  const tags: string[] = [];
  const seen = new Set<string>();
  for (let page = 0; url; page++) {
    if (page >= MAX_PAGES || seen.has(url.href)) throw new WasmOciError('E_REGISTRY', `the registry's tag list pagination does not end (${page} pages)`);
    seen.add(url.href);
    const res = await ctx.auth.request({ method: 'GET', url, scopes: options.scopes, signal: options.signal, headers: { accept: 'application/json' } });
    if (res.status !== 200) {
      throw await responseError(res, { registry: ctx.registry, repository, object: 'the tag list', kind: 'tag list' });
    }
    checkDeclaredLength(headerValue(res, 'content-length'), TAG_PAGE_BYTES, 'tag list page');
    const raw = await readBounded(res.body, TAG_PAGE_BYTES, 'tag list page');
    let doc: { tags?: unknown };
    try {
      doc = JSON.parse(raw.toString('utf8')) as { tags?: unknown };
    } catch (err) {
      throw new WasmOciError('E_REGISTRY', `${ctx.registry} returned an invalid tag list`, { cause: err });
    }
    // Distribution answers `"tags": null` for a repository without tags.
    if (doc && Array.isArray(doc.tags)) for (const t of doc.tags) if (typeof t === 'string') tags.push(t);
    url = nextPageUrl(headerValue(res, 'link'), url, ctx.origin);
  }
  // Distribution 2.8 ignores `last` and `n` and answers every tag at once: apply `last` here too.
  const last = options.last;
  return last === undefined ? tags : tags.filter((t) => t > last);
}
