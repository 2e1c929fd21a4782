import { readFile, stat } from 'node:fs/promises';
import type { RegistryContext } from '../registry/context.js';
import { resolve as resolvePath } from 'node:path';
import { WasmOciError } from '../errors.js';
import { OciLayoutStore } from '../content/oci-layout.js';
import { OciLayoutTarStore, readOnly } from '../content/oci-layout-tar.js';
import type { Target } from '../content/interfaces.js';
import { usernameProblem, type Credential, type CredentialFunc } from '../credentials/types.js';
import { parseLayoutReference } from '../reference/layout-reference.js';
import { parseReference, formatReference, validateTag } from '../reference/reference.js';
import type { CliContext } from './context.js';
import type { TargetFlags } from './options.js';
import type { HttpClientOptions } from '../registry/http.js';

export interface OpenedTarget {
  target: Target;
  kind: 'oci-layout' | 'registry';
  /** The tag or digest the reference names, when it names one. */
  ref?: string;
  /** Every tag of `REF:t1,t2`. */
  tags: string[];
  digest?: string;
  /** How to show the target in messages: `registry/repo` or the layout path. */
  name: string;
  registry?: string;
  repository?: string;
}

/** Splits `name:t1,t2` into the reference with the first tag and the list of tags (oras push syntax). */
export function splitTags(input: string): { reference: string; tags: string[] } {
  const at = input.indexOf('@');
  const head = at >= 0 ? input.slice(0, at) : input;
  const colon = head.lastIndexOf(':');
  if (colon <= head.lastIndexOf('/') || !head.slice(colon + 1).includes(',')) return { reference: input, tags: [] };
  const tags = head.slice(colon + 1).split(',');
  if (tags.some((t) => t === '')) throw new WasmOciError('E_REFERENCE', `invalid reference "${input}": empty tag in the tag list`);
  // Every tag is checked before anything is sent: a bad third tag must not leave the first two set.
  for (const t of tags) validateTag(t, input);
  return { reference: `${head.slice(0, colon + 1)}${tags[0]}${at >= 0 ? input.slice(at) : ''}`, tags };
}

export interface OpenOptions {
  /** The target will be written: a missing layout is created. */
  write?: boolean;
  /** Read the credential for stdin (`--password-stdin`) once, shared by source and destination. */
  stdinSecret?: () => Promise<string>;
  /**
   * One registry context (connection pool, token cache) per registry host, shared by every
   * target opened with the same map: a pull of ten references makes one connection, not ten.
   */
  contexts?: Map<string, RegistryContext>;
}

/**
 * oras --oci-layout-path (cmd/oras/internal/option/target.go Parse): PATH names the layout and
 * the argument is the reference inside it, a tag (or `t1,t2`) or a digest; exclusive with --oci-layout.
 */
export function layoutPathInput(flags: Pick<TargetFlags, 'ociLayout' | 'ociLayoutPath'>, input: string, flagName = '--oci-layout-path'): string {
  if (flags.ociLayoutPath === undefined) return input;
  if (flags.ociLayout) throw new WasmOciError('E_USAGE', `${flagName} and ${flagName.replace(/-path$/, '')} cannot be used together`);
  if (flags.ociLayoutPath === '') throw new WasmOciError('E_USAGE', `${flagName} needs a path`);
  if (input === '') return flags.ociLayoutPath;
  return /^[a-z0-9]+:[a-f0-9]+$/.test(input) ? `${flags.ociLayoutPath}@${input}` : `${flags.ociLayoutPath}:${input}`;
}

export async function openTarget(ctx: CliContext, rawInput: string, rawFlags: TargetFlags, options: OpenOptions = {}): Promise<OpenedTarget> {
  const input = layoutPathInput(rawFlags, rawInput);
  const flags: TargetFlags = rawFlags.ociLayoutPath !== undefined ? { ...rawFlags, ociLayout: true } : rawFlags;
  const { reference, tags } = splitTags(input);
  if (flags.ociLayout) {
    const parsed = parseLayoutReference(reference);
    const path = resolvePath(ctx.io.cwd, parsed.path);
    const store = (await isRegularFile(path)) ? tarLayout(path, options.write === true) : new OciLayoutStore(path, { create: options.write === true });
    const allTags = tags.length ? tags : parsed.tag ? [parsed.tag] : [];
    return { target: store, kind: 'oci-layout', ref: parsed.digest ?? parsed.tag, tags: allTags, digest: parsed.digest, name: parsed.path };
  }
  const parsed = parseReference(reference);
  const { createRepository, createRegistryContext } = await import('../registry/index.js');
  let context = options.contexts?.get(parsed.registry);
  const client = context
    ? undefined
    : {
        registry: parsed.registry,
        ...(await transportOptions(flags, parsed.registry, ctx.io.env)),
        credentials: await credentialsFor(ctx, flags, options, parsed.registry),
        onDebug: ctx.debug ? (line: string) => ctx.trace(line) : undefined,
        onWarning: (msg: string) => ctx.warn(msg),
      };
  if (client && options.contexts) {
    context = createRegistryContext(client);
    options.contexts.set(parsed.registry, context);
  }
  const repo = createRepository({ ...(client ?? { registry: parsed.registry }), repository: parsed.repository, ...(context ? { context } : {}) });
  const allTags = tags.length ? tags : parsed.tag ? [parsed.tag] : [];
  return {
    target: repo,
    kind: 'registry',
    ref: parsed.digest ?? parsed.tag,
    tags: allTags,
    digest: parsed.digest,
    name: formatReference({ registry: parsed.registry, repository: parsed.repository }),
    registry: parsed.registry,
    repository: parsed.repository,
  };
}

async function isRegularFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

/**
 * A file given to --oci-layout is a tar of a layout: oras reads it in place
 * (cmd/oras/internal/option/target.go NewReadonlyTarget, oci.NewFromTar) and writes only to
 * folders (NewTarget, oci.New); a write is refused before anything happens.
 */
function tarLayout(path: string, write: boolean): OciLayoutTarStore {
  if (write) throw readOnly(path);
  return new OciLayoutTarStore(path);
}

/** oras's isPlainHttp (cmd/oras/internal/option/remote.go): unless the flag is given, `localhost[:port]` alone is plain HTTP. */
export function isPlainHttp(flags: Pick<TargetFlags, 'plainHttp'>, registry: string): boolean {
  if (flags.plainHttp !== undefined) return flags.plainHttp;
  return registry === 'localhost' || registry.startsWith('localhost:');
}

/** Everything the transport of one registry takes from the flags: scheme, TLS, client certificate, -H, --resolve. */
export async function transportOptions(flags: TargetFlags, registry: string, env: NodeJS.ProcessEnv): Promise<Pick<HttpClientOptions, 'plainHttp' | 'insecure' | 'ca' | 'cert' | 'key' | 'headers' | 'resolve' | 'proxy'>> {
  if ((flags.certFile === undefined) !== (flags.keyFile === undefined)) {
    throw new WasmOciError('E_USAGE', '--cert-file and --key-file go together', { hint: 'give the client certificate and its private key' });
  }
  const [{ parseHeaders, parseResolve }, { proxyConfigFromEnv }] = await Promise.all([import('../registry/connection.js'), import('../registry/proxy-env.js')]);
  return {
    // HTTPS_PROXY, HTTP_PROXY, NO_PROXY (and lower case) as Go's client reads them.
    proxy: proxyConfigFromEnv(env),
    plainHttp: isPlainHttp(flags, registry),
    insecure: flags.insecure === true,
    ca: flags.caFile ? await readCaFile(flags.caFile) : undefined,
    ...(flags.certFile !== undefined ? { cert: await readPemFile(flags.certFile, '--cert-file'), key: await readPemFile(flags.keyFile!, '--key-file') } : {}),
    headers: parseHeaders(flags.header),
    resolve: (flags.resolve ?? []).map(parseResolve),
  };
}

async function readPemFile(path: string, flag: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    throw new WasmOciError('E_FILE_NOT_FOUND', `cannot read ${flag} ${path}: ${(err as Error).message}`);
  }
}

export async function readCaFile(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    throw new WasmOciError('E_FILE_NOT_FOUND', `cannot read --ca-file ${path}: ${(err as Error).message}`);
  }
}

/** True when the user typed a credential on the command line (or asked for one on stdin). */
export function hasFlagCredential(flags: TargetFlags): boolean {
  return flags.identityToken !== undefined || flags.identityTokenStdin === true || flags.password !== undefined || flags.passwordStdin === true || flags.username !== undefined;
}

/**
 * Flags first (`-u`/`-p`/`--password-stdin`/`--identity-token`), then docker's stores as docker
 * and oras read them. A credential from flags belongs to `registry` alone: any other host that
 * asks (another registry of a copy) gets what the stores hold for it, never the typed password.
 */
export async function credentialsFor(ctx: CliContext, flags: TargetFlags, options: OpenOptions = {}, registry?: string): Promise<CredentialFunc> {
  if (flags.password !== undefined && flags.passwordStdin) {
    throw new WasmOciError('E_USAGE', '--password and --password-stdin cannot be used together');
  }
  const problem = usernameProblem(flags.username);
  if (problem) throw new WasmOciError('E_USAGE', problem);
  if ((flags.password !== undefined || flags.passwordStdin) && flags.username === undefined && flags.identityToken === undefined) {
    throw new WasmOciError('E_USAGE', `${flags.password !== undefined ? '--password' : '--password-stdin'} needs --username`, {
      hint: 'pass -u USER with the password, or --identity-token TOKEN for a token',
    });
  }
  const { createCredentialStore } = await import('../credentials/store.js');
  const fromStores = () =>
    createCredentialStore({ configPaths: flags.registryConfig, env: ctx.io.env, onWarning: (m: string) => ctx.warn(m) }).credentialFunc();
  if (flags.identityTokenStdin && (flags.passwordStdin || flags.identityToken !== undefined || flags.password !== undefined)) {
    throw new WasmOciError('E_USAGE', '--identity-token-stdin cannot be used with --password, --password-stdin or --identity-token');
  }
  let password = flags.password;
  if (flags.passwordStdin) password = options.stdinSecret ? await options.stdinSecret() : await readStdinSecret(ctx);
  if (flags.identityTokenStdin) {
    flags = { ...flags, identityToken: options.stdinSecret ? await options.stdinSecret() : await readStdinSecret(ctx, '--identity-token-stdin') };
  }
  if (flags.identityToken !== undefined || password !== undefined || flags.username !== undefined) {
    const cred: Credential = flags.identityToken !== undefined
      ? { identityToken: flags.identityToken, ...(flags.username ? { username: flags.username } : {}) }
      : { username: flags.username, password };
    if (registry === undefined) return async () => cred;
    let others: CredentialFunc | undefined;
    return async (host) => (host === registry ? cred : (others ??= fromStores())(host));
  }
  return fromStores();
}

export async function readStdinSecret(ctx: CliContext, flag = '--password-stdin'): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of ctx.io.stdin) chunks.push(Buffer.from(chunk as Buffer));
  // docker trims the trailing newline of `echo $TOKEN | docker login --password-stdin`.
  const secret = Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
  if (!secret) throw new WasmOciError('E_INVALID_INPUT', `nothing was read from stdin for ${flag}`);
  return secret;
}

/** The tag or digest of a reference, or a usage error saying one is needed. */
export function requireRef(opened: OpenedTarget, input: string): string {
  if (!opened.ref) throw new WasmOciError('E_USAGE', `"${input}" names no tag or digest`);
  return opened.ref;
}

/**
 * A registry (not a repository) for `repo ls REGISTRY[/namespace]`: oras's
 * repository.ParseRemoteRepository splits the host from an optional namespace prefix.
 */
export async function openRegistry(ctx: CliContext, input: string, flags: TargetFlags): Promise<{ registry: import('../registry/registry.js').RemoteRegistry; host: string; namespace: string }> {
  const slash = input.indexOf('/');
  const host = slash === -1 ? input : input.slice(0, slash);
  const namespace = slash === -1 ? '' : input.slice(slash + 1).replace(/\/+$/, '');
  if (host === '' || /[@\s]/.test(input) || (namespace && !/^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/.test(namespace))) {
    throw new WasmOciError('E_REFERENCE', `invalid registry "${input}": give HOST[:PORT] or HOST[:PORT]/namespace`);
  }
  // parseReference checks the host the same way every other command does.
  parseReference(`${host}/x`);
  const { createRegistry } = await import('../registry/index.js');
  const registry = createRegistry({
    registry: host,
    ...(await transportOptions(flags, host, ctx.io.env)),
    credentials: await credentialsFor(ctx, flags, {}, host),
    onDebug: ctx.debug ? (line: string) => ctx.trace(line) : undefined,
    onWarning: (msg: string) => ctx.warn(msg),
  });
  return { registry, host, namespace };
}
