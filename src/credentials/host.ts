/**
 * Registry host names as docker's credential code sees them.
 *
 * docker keys `auths` by whatever address the user logged in to (`https://host/v1/`, `host:5000`,
 * ...) and compares keys through `ConvertToHostname` (scheme and path stripped). Docker Hub is
 * special: its key and helper server URL is `https://index.docker.io/v1/`, while references name it
 * `docker.io` (and the API lives on `registry-1.docker.io`).
 */

export const DOCKER_HUB_SERVER_ADDRESS = 'https://index.docker.io/v1/';

const DOCKER_HUB_ALIASES = new Set(['docker.io', 'index.docker.io', 'registry-1.docker.io']);

/** docker's `ConvertToHostname`: strips `http://`/`https://` and everything from the first `/`. */
export function convertToHostname(address: string): string {
  let s = address.trim();
  if (s.startsWith('http://')) s = s.slice('http://'.length);
  else if (s.startsWith('https://')) s = s.slice('https://'.length);
  const slash = s.indexOf('/');
  return slash === -1 ? s : s.slice(0, slash);
}

/** The host we compare on: docker's hostname, lowercased (DNS is case-insensitive), Hub aliases folded into `docker.io`. */
export function canonicalHost(address: string): string {
  const host = convertToHostname(address).toLowerCase();
  return DOCKER_HUB_ALIASES.has(host) ? 'docker.io' : host;
}

export function isDockerHub(address: string): boolean {
  return canonicalHost(address) === 'docker.io';
}

/**
 * The key docker and oras write in `auths` and pass to credential helpers: the Hub's legacy
 * index URL for Docker Hub, the bare `host[:port]` for everything else.
 */
export function serverAddress(registry: string): string {
  return isDockerHub(registry) ? DOCKER_HUB_SERVER_ADDRESS : canonicalHost(registry);
}

/** True when two addresses name the same registry the way docker matches config keys. */
export function sameRegistry(a: string, b: string): boolean {
  return canonicalHost(a) === canonicalHost(b);
}
