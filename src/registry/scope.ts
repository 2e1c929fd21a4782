/**
 * Token scopes of the distribution token spec: `type:name:actions`, e.g.
 * `repository:library/alpine:pull,push` or `registry:catalog:*`.
 */

export const ACTION_PULL = 'pull';
export const ACTION_PUSH = 'push';
export const ACTION_DELETE = 'delete';

export function repositoryScope(repository: string, ...actions: string[]): string {
  return `repository:${repository}:${actions.join(',')}`;
}

/**
 * Merges actions per resource, sorts and dedupes, so that equal needs give equal cache keys
 * (`repository:a:push` + `repository:a:pull` = `repository:a:pull,push`). `*` absorbs the rest.
 * Strings that are not `type:name:actions` are kept verbatim.
 */
export function cleanScopes(scopes: Iterable<string>): string[] {
  const resources = new Map<string, Set<string>>();
  const verbatim = new Set<string>();
  for (const raw of scopes) {
    const scope = raw.trim();
    if (!scope) continue;
    const first = scope.indexOf(':');
    const last = scope.lastIndexOf(':');
    if (first <= 0 || last === first) {
      verbatim.add(scope);
      continue;
    }
    const resource = scope.slice(0, last);
    const actions = scope.slice(last + 1).split(',').map((a) => a.trim()).filter(Boolean);
    let set = resources.get(resource);
    if (!set) resources.set(resource, (set = new Set()));
    for (const a of actions) set.add(a);
  }
  const out = [...verbatim];
  for (const [resource, actions] of resources) {
    if (actions.size === 0) continue;
    const list = actions.has('*') ? ['*'] : [...actions].sort();
    out.push(`${resource}:${list.join(',')}`);
  }
  return out.sort();
}

/** The scopes of a challenge's `scope` parameter (space-separated). */
export function splitScopeParam(scope: string | undefined): string[] {
  return scope ? scope.split(' ').filter(Boolean) : [];
}

/** True when every scope of `need` is covered by `have` (both cleaned). */
export function scopesCover(have: string[], need: string[]): boolean {
  const merged = cleanScopes([...have, ...need]);
  const cleanHave = cleanScopes(have);
  return merged.length === cleanHave.length && merged.every((s, i) => s === cleanHave[i]);
}
