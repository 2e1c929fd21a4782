/**
 * docker's `config.json`: reading the credential parts, and updating them without touching
 * anything else in the file (docker, oras, skopeo, podman and others store their own fields
 * there, so every field we do not know is kept as it was).
 */
import { mkdir, open, readFile, realpath, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { WasmOciError } from '../errors.js';
import type { Credential } from './types.js';
import { withFileLock, type FileLockOptions } from './config-lock.js';
import { canonicalHost, isDockerHub, sameRegistry, serverAddress } from './host.js';

/** Environment variables the credential code reads; passed in, never taken from `process.env` here. */
export type CredentialEnv = Record<string, string | undefined>;

/** A parsed config.json: a plain JSON object so unknown fields survive a rewrite. */
export type DockerConfig = Record<string, unknown>;

/** One `auths` entry as docker writes it; other fields (e.g. `email`) are kept untouched. */
export interface AuthEntry {
  auth?: string;
  username?: string;
  password?: string;
  identitytoken?: string;
  registrytoken?: string;
  [field: string]: unknown;
}

const CREDENTIAL_FIELDS = ['auth', 'username', 'password', 'identitytoken', 'registrytoken'] as const;

/**
 * Where wasm-oci records the hosts whose secret it put in the OS keychain. The keychain is
 * consulted only for these hosts, so a plain `pull` never wakes D-Bus (or prompts for a
 * locked keyring) on a machine where nobody logged in through the keychain. docker rewrites
 * config.json from its own struct and drops this field; after that the keychain entry is
 * simply not found and the user logs in again.
 */
export const KEYCHAIN_MARKER_FIELD = 'wasm-oci';

/**
 * Config files in docker/oras order: the `--registry-config` files when given (the first is the
 * one we write), else `$DOCKER_CONFIG/config.json`, else `$HOME/.docker/config.json`.
 * Empty when there is no way to locate one (no HOME): lookups then find nothing.
 */
export function resolveConfigPaths(options: { registryConfig?: string[]; env: CredentialEnv }): string[] {
  if (options.registryConfig && options.registryConfig.length > 0) return [...options.registryConfig];
  const { DOCKER_CONFIG, HOME } = options.env;
  if (DOCKER_CONFIG) return [join(DOCKER_CONFIG, 'config.json')];
  if (HOME) return [join(HOME, '.docker', 'config.json')];
  return [];
}

/** Parses config.json text. The error never quotes the file: it holds secrets. */
export function parseDockerConfig(text: string, path: string): DockerConfig {
  if (text.trim() === '') return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    // No `cause`: V8's JSON error message quotes the text around the error, secrets included.
    throw new WasmOciError('E_INVALID_INPUT', `${path} is not valid JSON`, { hint: 'fix or remove the file, then log in again' });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new WasmOciError('E_INVALID_INPUT', `${path} does not hold a JSON object`);
  }
  return value as DockerConfig;
}

/** Reads a config file; a missing file is an empty config. */
export async function readDockerConfig(path: string): Promise<DockerConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return {};
    throw new WasmOciError('E_CREDENTIALS', `cannot read ${path}: ${code ?? String(err)}`, { cause: err });
  }
  return parseDockerConfig(text, path);
}

function objectField(config: DockerConfig, field: string): Record<string, unknown> | undefined {
  const v = config[field];
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}

function stringField(o: Record<string, unknown>, field: string): string | undefined {
  const v = o[field];
  return typeof v === 'string' && v !== '' ? v : undefined;
}

/** `credHelpers[host]`, matched as docker does (Docker Hub under any of its names). */
export function credHelperFor(config: DockerConfig, registry: string): string | undefined {
  const helpers = objectField(config, 'credHelpers');
  if (!helpers) return undefined;
  const wanted = canonicalHost(registry);
  for (const [key, value] of Object.entries(helpers)) {
    if (typeof value === 'string' && value !== '' && canonicalHost(key) === wanted) return value;
  }
  return undefined;
}

export function credsStoreOf(config: DockerConfig): string | undefined {
  return stringField(config, 'credsStore');
}

/**
 * The `auths` entry for a registry: the exact key first (docker's own order), then any key
 * whose hostname matches (`https://host/v1/`, `http://host`, ...).
 */
export function findAuthEntry(config: DockerConfig, registry: string): { key: string; entry: AuthEntry } | undefined {
  const auths = objectField(config, 'auths');
  if (!auths) return undefined;
  const exact = serverAddress(registry);
  const candidates = [exact, ...Object.keys(auths).filter((k) => k !== exact)];
  for (const key of candidates) {
    const entry = auths[key];
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) continue;
    if (key === exact || sameRegistry(key, registry)) return { key, entry: entry as AuthEntry };
  }
  return undefined;
}

/** The credential an `auths` entry holds, or undefined when it holds none (e.g. `{}` left by a credsStore login). */
export function credentialFromAuthEntry(entry: AuthEntry, where: string): Credential | undefined {
  const cred: Credential = {};
  const auth = stringField(entry, 'auth');
  if (auth) {
    const decoded = Buffer.from(auth, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon === -1) {
      throw new WasmOciError('E_INVALID_INPUT', `invalid "auth" value for ${where}`, {
        hint: 'it must be base64 of "username:password"',
      });
    }
    const username = decoded.slice(0, colon);
    const password = decoded.slice(colon + 1);
    if (username) cred.username = username;
    if (password) cred.password = password;
  } else {
    const username = stringField(entry, 'username');
    const password = stringField(entry, 'password');
    if (username) cred.username = username;
    if (password) cred.password = password;
  }
  const identityToken = stringField(entry, 'identitytoken');
  const registryToken = stringField(entry, 'registrytoken');
  if (identityToken) cred.identityToken = identityToken;
  if (registryToken) cred.registryToken = registryToken;
  return cred.username || cred.password || cred.identityToken || cred.registryToken ? cred : undefined;
}

/** The credential `auths` holds for a registry, if any. */
export function authsCredential(config: DockerConfig, registry: string, path: string): Credential | undefined {
  const found = findAuthEntry(config, registry);
  return found ? credentialFromAuthEntry(found.entry, `"${found.key}" in ${path}`) : undefined;
}

/** The fields docker writes for a credential: `auth` = base64(user:pass), plus the tokens. */
export function authEntryFields(cred: Credential): AuthEntry {
  const entry: AuthEntry = {};
  if (cred.username || cred.password) {
    entry.auth = Buffer.from(`${cred.username ?? ''}:${cred.password ?? ''}`, 'utf8').toString('base64');
  }
  if (cred.identityToken) entry.identitytoken = cred.identityToken;
  if (cred.registryToken) entry.registrytoken = cred.registryToken;
  return entry;
}

function authsOf(config: DockerConfig): Record<string, unknown> {
  const existing = objectField(config, 'auths');
  if (existing) return existing;
  const created: Record<string, unknown> = {};
  config.auths = created;
  return created;
}

/**
 * Writes a credential into `auths` under docker's key for the registry. Other keys naming the
 * same host are removed (they would shadow or duplicate it); fields of the entry we do not know
 * (`email`, ...) are kept.
 */
export function setAuthCredential(config: DockerConfig, registry: string, cred: Credential): void {
  const auths = authsOf(config);
  const key = serverAddress(registry);
  let kept: Record<string, unknown> = {};
  for (const k of Object.keys(auths)) {
    if (k === key || sameRegistry(k, registry)) {
      const old = auths[k];
      if (k === key && typeof old === 'object' && old !== null && !Array.isArray(old)) kept = { ...(old as object) };
      if (k !== key) delete auths[k];
    }
  }
  for (const f of CREDENTIAL_FIELDS) delete kept[f];
  auths[key] = { ...kept, ...authEntryFields(cred) };
}

/**
 * Removes the secret fields of every `auths` entry naming the registry; entries left with no
 * other field are removed. Returns true when a credential was removed.
 */
export function removeAuthCredential(config: DockerConfig, registry: string): boolean {
  const auths = objectField(config, 'auths');
  if (!auths) return false;
  let removed = false;
  for (const k of Object.keys(auths)) {
    if (!sameRegistry(k, registry) && k !== serverAddress(registry)) continue;
    const entry = auths[k];
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
      delete auths[k];
      removed = true;
      continue;
    }
    const e = entry as Record<string, unknown>;
    for (const f of CREDENTIAL_FIELDS) {
      if (f in e) {
        if (e[f] !== '') removed = true;
        delete e[f];
      }
    }
    if (Object.keys(e).length === 0) delete auths[k];
  }
  return removed;
}

function keychainHosts(config: DockerConfig): string[] {
  const marker = objectField(config, KEYCHAIN_MARKER_FIELD);
  const list = marker?.keychain;
  return Array.isArray(list) ? list.filter((h): h is string => typeof h === 'string') : [];
}

/** True when wasm-oci recorded that it stored this registry's secret in the OS keychain. */
export function hasKeychainMark(config: DockerConfig, registry: string): boolean {
  return keychainHosts(config).some((h) => sameRegistry(h, registry));
}

/** Records (or forgets) that the registry's secret is in the OS keychain. Returns true when it changed. */
export function setKeychainMark(config: DockerConfig, registry: string, marked: boolean): boolean {
  const hosts = keychainHosts(config);
  const others = hosts.filter((h) => !sameRegistry(h, registry));
  const next = marked ? [...others, serverAddress(registry)] : others;
  if (next.length === hosts.length && next.every((h, i) => h === hosts[i])) return false;
  const marker = objectField(config, KEYCHAIN_MARKER_FIELD) ?? {};
  if (next.length > 0) {
    config[KEYCHAIN_MARKER_FIELD] = { ...marker, keychain: next };
  } else {
    const { keychain: _dropped, ...rest } = marker;
    if (Object.keys(rest).length > 0) config[KEYCHAIN_MARKER_FIELD] = rest;
    else delete config[KEYCHAIN_MARKER_FIELD];
  }
  return true;
}

/** docker writes config.json indented with tabs. */
export function serializeDockerConfig(config: DockerConfig): string {
  return `${JSON.stringify(config, null, '\t')}\n`;
}

async function resolveTarget(path: string): Promise<string> {
  // Follow a symlinked config.json (dotfile managers) instead of replacing the link with a file.
  try {
    return await realpath(path);
  } catch {
    return path;
  }
}

async function writeFileAtomic(path: string, text: string): Promise<void> {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    const fh = await open(tmp, 'wx', 0o600);
    try {
      await fh.writeFile(text, 'utf8');
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    const code = (err as NodeJS.ErrnoException).code;
    throw new WasmOciError('E_CREDENTIALS', `cannot write ${path}: ${code ?? String(err)}`, { cause: err });
  }
}

/**
 * Read-modify-write of a config file under its lock: re-reads the file, lets `mutate` change
 * the parsed object, and, only when the content changed, writes it to a temp file (0600) in the
 * same folder and renames it over the old one. The folder is created 0700 when missing.
 * Returns whether the file was written; an unchanged config leaves the file byte-for-byte as it was.
 */
export async function updateDockerConfig(
  path: string,
  mutate: (config: DockerConfig) => void,
  options: FileLockOptions = {},
): Promise<boolean> {
  try {
    await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new WasmOciError('E_CREDENTIALS', `cannot create ${dirname(path)}: ${code ?? String(err)}`, { cause: err });
  }
  const target = await resolveTarget(path);
  return withFileLock(
    target,
    async () => {
      const config = await readDockerConfig(target);
      const before = JSON.stringify(config);
      mutate(config);
      if (JSON.stringify(config) === before) return false;
      await writeFileAtomic(target, serializeDockerConfig(config));
      return true;
    },
    options,
  );
}

export { isDockerHub };
