import { BlockList, isIP } from 'node:net';
import { WasmOciError } from '../errors.js';

/**
 * Which forward proxy a registry or token URL goes through, from HTTPS_PROXY, HTTP_PROXY and
 * NO_PROXY, with the rules of Go's client (what oras, docker and skopeo use):
 * golang.org/x/net/http/httpproxy/proxy.go — FromEnvironment (upper case first, then lower
 * case), proxyForURL (https URLs use HTTPS_PROXY only, http URLs HTTP_PROXY only; no fallback
 * from one to the other), parseProxy (a bare `host:port` means http://), useProxy (localhost and
 * loopback addresses are never proxied; NO_PROXY entries are `*`, IPs, CIDRs, domains that match
 * themselves and their subdomains, `.domain` that matches subdomains only, each with an optional
 * port).
 */

export interface ProxyConfig {
  /** Proxy for `http://` registries (`--plain-http`): requests are sent to it in absolute form. */
  httpProxy?: string;
  /** Proxy for `https://` registries and token services: a CONNECT tunnel, TLS end to end inside it. */
  httpsProxy?: string;
  /** Comma-separated hosts that bypass the proxies. */
  noProxy?: string;
}

/** The variable each setting came from, for messages ("HTTPS_PROXY", "https_proxy"). */
export interface ProxyConfigFromEnv extends ProxyConfig {
  sources: { httpProxy?: string; httpsProxy?: string; noProxy?: string };
}

function getEnvAny(env: Record<string, string | undefined>, ...names: string[]): { value?: string; name?: string } {
  for (const name of names) {
    const value = env[name];
    if (value !== undefined && value !== '') return { value, name };
  }
  return {};
}

/** Go's FromEnvironment: HTTP_PROXY before http_proxy, and so on. */
export function proxyConfigFromEnv(env: Record<string, string | undefined>): ProxyConfigFromEnv {
  const http = getEnvAny(env, 'HTTP_PROXY', 'http_proxy');
  const https = getEnvAny(env, 'HTTPS_PROXY', 'https_proxy');
  const no = getEnvAny(env, 'NO_PROXY', 'no_proxy');
  return {
    ...(http.value !== undefined ? { httpProxy: http.value } : {}),
    ...(https.value !== undefined ? { httpsProxy: https.value } : {}),
    ...(no.value !== undefined ? { noProxy: no.value } : {}),
    sources: { httpProxy: http.name, httpsProxy: https.name, noProxy: no.name },
  };
}

/**
 * Go's parseProxy: a value without a scheme is taken with `http://` in front. We take http and
 * https proxies; socks5, which Go also takes, is refused with a clear message, as is any other scheme.
 */
export function parseProxyUrl(value: string, variable = 'the proxy setting'): URL {
  const invalid = (): never => {
    throw new WasmOciError('E_INVALID_INPUT', `invalid proxy address in ${variable}`, { hint: 'write http://HOST:PORT (credentials, if the proxy needs them: http://USER:PASSWORD@HOST:PORT)' });
  };
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(value)?.[1]?.toLowerCase();
  if (scheme === 'socks5' || scheme === 'socks5h' || scheme === 'socks') {
    throw new WasmOciError('E_UNSUPPORTED', `${variable} names a SOCKS proxy; only HTTP and HTTPS proxies are supported`);
  }
  if (scheme !== undefined && scheme !== 'http' && scheme !== 'https') return invalid();
  let url: URL;
  try {
    url = new URL(scheme ? value : `http://${value}`);
  } catch {
    return invalid();
  }
  if (url.hostname === '') invalid();
  return url;
}

interface NoProxyRule {
  kind: 'all' | 'ip' | 'cidr' | 'domain';
  port?: number;
  /** Domain rules: the suffix with its leading dot; `matchHost` when the bare name matches too. */
  suffix?: string;
  matchHost?: boolean;
  ip?: string;
  list?: BlockList;
}

function splitHostPort(entry: string): { host: string; port?: number } {
  const v6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(entry);
  if (v6) return { host: v6[1]!, ...(v6[2] ? { port: Number(v6[2]) } : {}) };
  const m = /^([^:]+):(\d+)$/.exec(entry);
  if (m) return { host: m[1]!, port: Number(m[2]) };
  return { host: entry };
}

/** Go's config.init for NO_PROXY: malformed entries are skipped, `*` alone means no proxying. */
export function parseNoProxy(value: string | undefined): NoProxyRule[] {
  const rules: NoProxyRule[] = [];
  for (const raw of (value ?? '').split(',')) {
    const p = raw.trim().toLowerCase();
    if (p === '') continue;
    if (p === '*') return [{ kind: 'all' }];
    const cidr = /^(.+)\/(\d{1,3})$/.exec(p);
    if (cidr && isIP(cidr[1]!) !== 0) {
      const family = isIP(cidr[1]!) === 6 ? 'ipv6' : 'ipv4';
      const bits = Number(cidr[2]);
      if (bits <= (family === 'ipv6' ? 128 : 32)) {
        const list = new BlockList();
        list.addSubnet(cidr[1]!, bits, family);
        rules.push({ kind: 'cidr', list });
      }
      continue;
    }
    const { host, port } = splitHostPort(p);
    if (host === '') continue;
    if (isIP(host) !== 0) {
      rules.push({ kind: 'ip', ip: host, ...(port !== undefined ? { port } : {}) });
      continue;
    }
    let suffix = host.startsWith('*.') ? host.slice(1) : host;
    const matchHost = !suffix.startsWith('.');
    if (matchHost) suffix = `.${suffix}`;
    rules.push({ kind: 'domain', suffix, matchHost, ...(port !== undefined ? { port } : {}) });
  }
  return rules;
}

function isLoopback(host: string): boolean {
  const family = isIP(host);
  if (family === 4) return host.startsWith('127.');
  if (family === 6) {
    const list = new BlockList();
    list.addAddress('::1', 'ipv6');
    list.addSubnet('::ffff:127.0.0.0', 104, 'ipv6');
    return list.check(host, 'ipv6');
  }
  return false;
}

function sameIp(a: string, b: string): boolean {
  const family = isIP(a);
  if (family !== isIP(b)) return false;
  const list = new BlockList();
  list.addAddress(a, family === 6 ? 'ipv6' : 'ipv4');
  return list.check(b, family === 6 ? 'ipv6' : 'ipv4');
}

/** Go's useProxy for one host and port. */
export function useProxy(hostname: string, port: number, rules: readonly NoProxyRule[]): boolean {
  const host = hostname.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  if (host === 'localhost' || isLoopback(host)) return false;
  const family = isIP(host);
  for (const r of rules) {
    if (r.kind === 'all') return false;
    if (family !== 0) {
      if (r.kind === 'cidr' && r.list!.check(host, family === 6 ? 'ipv6' : 'ipv4')) return false;
      if (r.kind === 'ip' && sameIp(r.ip!, host) && (r.port === undefined || r.port === port)) return false;
    }
    if (r.kind === 'domain' && (host.endsWith(r.suffix!) || (r.matchHost && host === r.suffix!.slice(1))) && (r.port === undefined || r.port === port)) return false;
  }
  return true;
}

/** What one proxy setting resolves to: the parsed URL and the variable it came from. */
export interface ChosenProxy {
  url: URL;
  variable: string;
}

export interface ProxySelector {
  /** The proxy for this URL, or undefined to connect directly. */
  forUrl(url: URL): ChosenProxy | undefined;
  /** True when any proxy is configured at all. */
  readonly active: boolean;
}

/**
 * NO_PROXY is parsed now; each proxy URL when a request first needs it, so a malformed HTTP_PROXY
 * fails the plain-HTTP requests it would carry and nothing else (Go ignores a malformed value
 * silently; we say what is wrong).
 */
export function createProxySelector(config: ProxyConfig & Partial<Pick<ProxyConfigFromEnv, 'sources'>>): ProxySelector {
  const lazy = (value: string | undefined, variable: string): (() => ChosenProxy | undefined) => {
    let chosen: ChosenProxy | undefined;
    return () => (value ? (chosen ??= { url: parseProxyUrl(value, variable), variable }) : undefined);
  };
  const http = lazy(config.httpProxy, config.sources?.httpProxy ?? 'HTTP_PROXY');
  const https = lazy(config.httpsProxy, config.sources?.httpsProxy ?? 'HTTPS_PROXY');
  const rules = parseNoProxy(config.noProxy);
  return {
    active: Boolean(config.httpProxy || config.httpsProxy),
    forUrl(url: URL): ChosenProxy | undefined {
      if (url.protocol !== 'https:' && url.protocol !== 'http:') return undefined;
      const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
      if (!useProxy(url.hostname, port, rules)) return undefined;
      return url.protocol === 'https:' ? https() : http();
    },
  };
}
