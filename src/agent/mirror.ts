import type { ReadOnlyTarget } from '../content/interfaces.js';
import { WasmOciError } from '../errors.js';

/** `--mirror registry=URL`: where to ask first for that registry's repositories. */
export interface MirrorSpec {
  /** The registry as references name it (`registry.example.com`, `127.0.0.1:5000`). */
  registry: string;
  /** The mirror's base URL (`http://127.0.0.1:6000`, `https://mirror.example.com`): scheme and host only. */
  url: URL;
}

/**
 * Parses one `--mirror` value. The mirror serves the registry's repositories under the same
 * names (Distribution's proxy mode, Harbor's proxy cache with a project prefix given in the URL's
 * host, Spegel, Dragonfly), as containerd's hosts.toml mirrors do. A path on the URL is refused:
 * the distribution API is rooted at `/v2/`.
 */
export function parseMirror(value: string): MirrorSpec {
  const eq = value.indexOf('=');
  if (eq <= 0 || eq === value.length - 1) {
    throw new WasmOciError('E_USAGE', `--mirror "${value}" is not REGISTRY=URL`, { hint: 'for example --mirror registry.example.com=http://127.0.0.1:5001' });
  }
  const registry = value.slice(0, eq).trim().toLowerCase();
  let url: URL;
  try {
    url = new URL(value.slice(eq + 1).trim());
  } catch {
    throw new WasmOciError('E_USAGE', `--mirror "${value}": "${value.slice(eq + 1)}" is not a URL`, { hint: 'give the scheme: http://HOST:PORT or https://HOST' });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new WasmOciError('E_USAGE', `--mirror "${value}": the URL must be http:// or https://`);
  if ((url.pathname !== '/' && url.pathname !== '') || url.search || url.hash || url.username || url.password) {
    throw new WasmOciError('E_USAGE', `--mirror "${value}": the URL takes a scheme and a host only (no path, query or credentials)`);
  }
  if (/[/\s]/.test(registry)) throw new WasmOciError('E_USAGE', `--mirror "${value}": "${registry}" is not a registry host`);
  return { registry, url };
}

/** The mirrors of each registry, in the order given. */
export function mirrorsByRegistry(specs: readonly MirrorSpec[]): Map<string, MirrorSpec[]> {
  const out = new Map<string, MirrorSpec[]>();
  for (const s of specs) out.set(s.registry, [...(out.get(s.registry) ?? []), s]);
  return out;
}

/** One place a filter can be fetched from. */
export interface FilterSource {
  kind: 'mirror' | 'registry';
  /** What logs and metrics name: the mirror's URL or the registry host. */
  endpoint: string;
  target: ReadOnlyTarget;
}

/**
 * Tries each source in order (mirrors first, the registry last) and returns the first result.
 * A cancel is never a reason to try the next one. Whichever answers, what it serves is checked
 * against the digests it is asked for: a mirror is trusted for availability, never for content.
 * When every source fails, the registry's error is the one thrown (it is the authority; a
 * mirror's failure is reported through `onFallback`).
 */
export async function firstAnswering<T>(
  sources: readonly FilterSource[],
  attempt: (source: FilterSource) => Promise<T>,
  options: { signal?: AbortSignal; onFallback?: (source: FilterSource, err: unknown) => void } = {},
): Promise<{ value: T; source: FilterSource }> {
  if (sources.length === 0) throw new WasmOciError('E_INTERNAL', 'no source to fetch from');
  let last: unknown;
  for (const source of sources) {
    try {
      return { value: await attempt(source), source };
    } catch (err) {
      if (options.signal?.aborted) throw err;
      last = err;
      if (source !== sources[sources.length - 1]) options.onFallback?.(source, err);
    }
  }
  throw last;
}
