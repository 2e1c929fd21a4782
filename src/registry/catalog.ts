import { WasmOciError } from '../errors.js';
import type { RegistryContext } from './context.js';
import { headerValue } from './http.js';
import { nextPageUrl } from './pagination.js';
import { checkDeclaredLength, readBounded } from './read-body.js';
import { responseError } from './response-error.js';

const CATALOG_PAGE_BYTES = 16 * 1024 * 1024;
const MAX_PAGES = 100_000;
/** The token scope of the catalog (docker's token spec; oras-go registry/remote/registry.go Repositories). */
export const CATALOG_SCOPE = 'registry:catalog:*';

/**
 * Every repository of a registry: GET /v2/_catalog, following `Link: <...>; rel="next"`
 * (same origin only, src/registry/pagination.ts) as oras-go's Registry.Repositories does.
 * `last` starts after that name; `pageSize` asks for `n` per page.
 */
export async function listRepositories(ctx: RegistryContext, options: { last?: string; pageSize?: number; signal?: AbortSignal } = {}): Promise<string[]> {
  let url: URL | undefined = new URL('/v2/_catalog', ctx.origin);
  if (options.pageSize) url.searchParams.set('n', String(options.pageSize));
  if (options.last) url.searchParams.set('last', options.last);
  const out: string[] = [];
  const seen = new Set<string>();
  for (let page = 0; url; page++) {
    if (page >= MAX_PAGES || seen.has(url.href)) throw new WasmOciError('E_REGISTRY', `the registry's catalog pagination does not end (${page} pages)`);
    seen.add(url.href);
    const res = await ctx.auth.request({ method: 'GET', url, scopes: [CATALOG_SCOPE], signal: options.signal, headers: { accept: 'application/json' } });
    if (res.status !== 200) throw await responseError(res, { registry: ctx.registry, object: 'the repository catalog', kind: 'registry' });
    checkDeclaredLength(headerValue(res, 'content-length'), CATALOG_PAGE_BYTES, 'catalog page');
    const raw = await readBounded(res.body, CATALOG_PAGE_BYTES, 'catalog page');
    let doc: { repositories?: unknown };
    try {
      doc = JSON.parse(raw.toString('utf8')) as { repositories?: unknown };
    } catch (err) {
      throw new WasmOciError('E_REGISTRY', `${ctx.registry} returned an invalid catalog`, { cause: err });
    }
    if (doc && Array.isArray(doc.repositories)) for (const r of doc.repositories) if (typeof r === 'string') out.push(r);
    url = nextPageUrl(headerValue(res, 'link'), url, ctx.origin);
  }
  const last = options.last;
  return last === undefined ? out : out.filter((r) => r > last);
}
