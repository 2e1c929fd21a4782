import type { WasmOciError } from '../errors.js';

/**
 * Hints the CLI adds on top of the ones the library attaches where it raises an error: the ones
 * that need to know who the registry is (Docker Hub's namespaces) or that the library layer has no
 * place for. The library's own hint wins unless a more specific one applies here.
 */

/** Hosts that are Docker Hub, as a reference or a login names it. */
const DOCKER_HUB_HOSTS = new Set(['docker.io', 'registry-1.docker.io', 'index.docker.io', 'registry.hub.docker.com']);

export function isDockerHub(registry: string | undefined): boolean {
  return registry !== undefined && DOCKER_HUB_HOSTS.has(registry.toLowerCase());
}

function detail(err: WasmOciError, key: string): string | undefined {
  const v = err.details?.[key];
  return typeof v === 'string' ? v : undefined;
}

/**
 * Docker Hub answers 401 (not 404) for a repository that does not exist or that the user may not
 * push to, and a one-component name like `docker.io/myfilter` means `library/myfilter`, the
 * official-images namespace nobody but Docker can push to.
 */
function dockerHubHint(err: WasmOciError): string | undefined {
  const registry = detail(err, 'registry');
  if (!isDockerHub(registry)) return undefined;
  if (err.code !== 'E_AUTH' && err.code !== 'E_FORBIDDEN' && err.code !== 'E_NOT_FOUND') return undefined;
  const repository = detail(err, 'repository');
  if (repository?.startsWith('library/')) {
    const name = repository.slice('library/'.length);
    return `on Docker Hub a name without a namespace means library/${name} (official images), where only Docker may push: use docker.io/<your-user-or-org>/${name}`;
  }
  if (err.code === 'E_NOT_FOUND') return undefined;
  return `Docker Hub also answers this way for a repository that does not exist: check the namespace (docker.io/<your-user-or-org>/NAME) and run: wasm-oci login docker.io`;
}

/** Fallbacks by error code, for errors raised without a hint. */
function fallbackHint(err: WasmOciError): string | undefined {
  switch (err.code) {
    case 'E_TLS':
      return 'use --ca-file FILE to trust the registry\'s CA, or --insecure to skip verification';
    case 'E_NETWORK':
      if (/does not speak HTTPS|wrong version number/i.test(err.message)) return 'use --plain-http for a registry without TLS';
      return undefined;
    case 'E_REGISTRY':
      if (err.status === 415) return 'the registry may not accept this artifact\'s media types: try --profile compat';
      return undefined;
    default:
      return undefined;
  }
}

/** The hint to print under the error, if any. */
export function hintFor(err: WasmOciError): string | undefined {
  return dockerHubHint(err) ?? err.hint ?? fallbackHint(err);
}
