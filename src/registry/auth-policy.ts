import { isIP } from 'node:net';
import { WasmOciError } from '../errors.js';

/**
 * Where credentials may go (DESIGN.md section 7). A token realm is chosen by the registry, so a
 * hostile or compromised registry could point it anywhere: never let it downgrade HTTPS to HTTP,
 * and never let it aim at loopback or private addresses other than the registry's own host
 * (SSRF into the user's network). A realm on another public host is normal (auth.docker.io).
 */

export type AddressClass = 'loopback' | 'private' | 'public';

function v4Class(ip: string): AddressClass {
  const [a = 0, b = 0] = ip.split('.').map(Number);
  if (a === 127) return 'loopback';
  if (a === 10 || a === 0 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168) || (a === 169 && b === 254) || (a === 100 && b >= 64 && b <= 127)) {
    return 'private';
  }
  return 'public';
}

/** Classifies a URL hostname literally (no DNS): `localhost`, IP literals, else public. */
export function classifyHost(hostname: string): AddressClass {
  let h = hostname.toLowerCase();
  if (h.startsWith('[') && h.endsWith(']')) h = h.slice(1, -1);
  if (h.endsWith('.')) h = h.slice(0, -1);
  if (h === 'localhost' || h.endsWith('.localhost')) return 'loopback';
  const kind = isIP(h);
  if (kind === 4) return v4Class(h);
  if (kind === 6) {
    if (h === '::1') return 'loopback';
    if (h === '::') return 'private';
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(h);
    if (mapped) return v4Class(mapped[1]!);
    if (/^::ffff:[0-9a-f]{1,4}:[0-9a-f]{1,4}$/.test(h)) return 'private';
    if (/^f[cd][0-9a-f]{0,2}:/.test(h) || /^fe[89ab][0-9a-f]?:/.test(h)) return 'private';
    return 'public';
  }
  return 'public';
}

function sameHost(a: string, b: string): boolean {
  const norm = (h: string): string => h.toLowerCase().replace(/^\[|\]$/g, '').replace(/\.$/, '');
  return norm(a) === norm(b);
}

/** Throws E_INSECURE when the token realm must not be contacted for this registry. */
export function checkTokenRealm(realm: URL, registryOrigin: URL): void {
  if (realm.protocol !== 'https:' && realm.protocol !== 'http:') {
    throw new WasmOciError('E_INSECURE', `refused token realm ${realm.protocol}//${realm.host}: only http and https realms are supported`);
  }
  if (registryOrigin.protocol === 'https:' && realm.protocol === 'http:') {
    throw new WasmOciError('E_INSECURE', `refused token realm http://${realm.host}: it would downgrade the HTTPS registry ${registryOrigin.host} to plain HTTP`, {
      hint: 'the registry\'s WWW-Authenticate realm must be an https:// URL',
    });
  }
  const realmClass = classifyHost(realm.hostname);
  // Only the registry's own host, spelled as the registry is: a registry on 127.0.0.1 is not
  // thereby allowed to aim at localhost, 127.0.0.2 or [::1], where other local services listen.
  if (realmClass === 'public' || sameHost(realm.hostname, registryOrigin.hostname)) return;
  throw new WasmOciError('E_INSECURE', `refused token realm ${realm.protocol}//${realm.host}: it points at a ${realmClass} address other than the registry ${registryOrigin.host}`, {
    hint: 'a registry may only send its token requests to its own host or a public host',
  });
}

/** Resolves a host name to its addresses (dns.lookup with `all`), injectable for tests. */
export type HostLookup = (hostname: string) => Promise<string[]>;

export const systemLookup: HostLookup = async (hostname) => {
  const { lookup } = await import('node:dns/promises');
  return (await lookup(hostname, { all: true })).map((a) => a.address);
};

/**
 * checkTokenRealm on the addresses a realm's host NAME resolves to: a public-looking name that
 * resolves to loopback or a private address (a DNS record pointing into the user's network) is
 * refused too. A name that does not resolve is left to fail on its own.
 */
export async function checkTokenRealmAddresses(realm: URL, registryOrigin: URL, lookup: HostLookup = systemLookup): Promise<void> {
  if (isIP(realm.hostname.replace(/^\[|\]$/g, '')) || classifyHost(realm.hostname) !== 'public' || sameHost(realm.hostname, registryOrigin.hostname)) return;
  let addresses: string[];
  try {
    addresses = await lookup(realm.hostname);
  } catch {
    return;
  }
  for (const address of addresses) {
    const kind = classifyHost(address);
    if (kind !== 'public') {
      throw new WasmOciError('E_INSECURE', `refused token realm ${realm.protocol}//${realm.host}: it resolves to the ${kind} address ${address}, not the registry ${registryOrigin.host}`, {
        hint: 'a registry may only send its token requests to its own host or a public host',
      });
    }
  }
}

/** Throws E_INSECURE when credentials would travel over plain HTTP without the user asking for it. */
export function checkCredentialChannel(target: URL, plainHttp: boolean): void {
  if (target.protocol === 'http:' && !plainHttp) {
    throw new WasmOciError('E_INSECURE', `refused to send credentials to ${target.host} over plain HTTP`, {
      hint: 'use HTTPS, or --plain-http if you really mean to send credentials unencrypted',
    });
  }
}
