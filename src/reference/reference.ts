import { WasmOciError } from '../errors.js';
import { parseDigest } from '../oci/digest.js';
import type { Reference } from './types.js';

/**
 * Registry references `host[:port]/path[:tag][@digest]`, with the grammar of
 * github.com/distribution/reference (regexp.go) and docker's ParseNormalizedNamed
 * normalisation (normalize.go). The parser is hand-split rather than one big regexp so
 * every rejection can say which part is wrong, and so no regexp ever runs on more than a
 * few hundred characters (distribution's RE2 is linear; JavaScript's engine backtracks).
 */

/** distribution/reference NameTotalLengthMax: registry + "/" + repository. */
export const NAME_TOTAL_LENGTH_MAX = 255;
/** `[\w][\w.-]{0,127}`: at most 128 characters. */
export const TAG_MAX_LENGTH = 128;
export const DOCKER_HUB_REGISTRY = 'docker.io';
/** Where Docker Hub's registry API actually answers; `docker.io` itself only redirects. */
export const DOCKER_HUB_API_HOST = 'registry-1.docker.io';

const LEGACY_DOCKER_HUB = 'index.docker.io';
const OFFICIAL_REPO_PREFIX = 'library/';
// Longest possible reference: 255 name + ":" + 128 tag + "@" + sha512 digest (135). Anything
// longer is rejected before any regexp runs on it.
const REFERENCE_MAX_LENGTH = NAME_TOTAL_LENGTH_MAX + 1 + TAG_MAX_LENGTH + 1 + 7 + 128;

const TAG_RE = /^\w[\w.-]*$/;
// pathComponent: alphanumeric (separator alphanumeric)*, separator = [._] | __ | -+
const PATH_COMPONENT_RE = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const DOMAIN_LABEL_RE = /^(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])$/;
// IPv6 in brackets; zone identifiers and IPv4-mapped forms are excluded, as distribution does.
const IPV6_RE = /^\[[a-fA-F0-9:]+\]$/;
const IDENTIFIER_RE = /^[a-f0-9]{64}$/;

function refError(input: string, problem: string, cause?: unknown): WasmOciError {
  return new WasmOciError('E_REFERENCE', `invalid reference "${input}": ${problem}`, {
    cause,
    hint: 'a reference looks like registry.example.com/namespace/name:tag or name@sha256:<64 hex>',
  });
}

/**
 * Validates a tag against distribution's `[\w][\w.-]{0,127}`. Throws E_REFERENCE naming the
 * problem; `input` is the whole reference for the message, when there is one.
 */
export function validateTag(tag: string, input?: string): void {
  const fail = (problem: string): WasmOciError =>
    input === undefined ? new WasmOciError('E_REFERENCE', problem) : refError(input, problem);
  if (tag === '') throw fail('tag is empty');
  if (tag.length > TAG_MAX_LENGTH) {
    throw fail(`tag "${tag.slice(0, 16)}..." is ${tag.length} characters, longer than ${TAG_MAX_LENGTH} characters`);
  }
  if (!TAG_RE.test(tag)) {
    throw fail(
      `tag "${tag}" is invalid: it must start with a letter, digit or "_" and contain only letters, digits, "_", "." and "-"`,
    );
  }
}

export function isValidTag(tag: string): boolean {
  return tag.length > 0 && tag.length <= TAG_MAX_LENGTH && TAG_RE.test(tag);
}

function validateDigest(digest: string, input: string): void {
  if (digest === '') throw refError(input, 'digest after "@" is empty');
  try {
    parseDigest(digest);
  } catch (err) {
    throw refError(input, err instanceof Error ? err.message : String(err), err);
  }
}

/** Returns the lowercased host[:port], or throws naming what is wrong with it. */
function validateHost(hostPort: string, input: string): string {
  let host = hostPort;
  let port: string | undefined;
  if (hostPort.startsWith('[')) {
    const close = hostPort.indexOf(']');
    if (close === -1) throw refError(input, `registry host "${hostPort}" has "[" without a closing "]"`);
    host = hostPort.slice(0, close + 1);
    const rest = hostPort.slice(close + 1);
    if (rest !== '') {
      if (!rest.startsWith(':')) throw refError(input, `registry host "${hostPort}" has unexpected characters after "]"`);
      port = rest.slice(1);
    }
    if (!IPV6_RE.test(host)) {
      throw refError(input, `registry host "${host}" is not a valid IPv6 address (only hex digits and ":" inside brackets)`);
    }
  } else {
    const colon = hostPort.indexOf(':');
    if (colon !== -1) {
      host = hostPort.slice(0, colon);
      port = hostPort.slice(colon + 1);
    }
    if (host === '') throw refError(input, 'registry host is empty');
    for (const label of host.split('.')) {
      if (label === '') throw refError(input, `registry host "${host}" has an empty label (".." or a leading or trailing ".")`);
      if (!DOMAIN_LABEL_RE.test(label)) {
        throw refError(
          input,
          `registry host "${host}" is invalid: label "${label}" may contain only letters, digits and inner "-"`,
        );
      }
    }
  }
  if (port !== undefined) {
    if (port === '') throw refError(input, `registry "${hostPort}" has an empty port after ":"`);
    if (!/^[0-9]+$/.test(port)) throw refError(input, `registry port "${port}" is not a number`);
    // distribution accepts any digits; a port outside 1-65535 can never be dialled, so say so now.
    const n = Number(port);
    if (n < 1 || n > 65535) throw refError(input, `registry port ${port} is out of range (1-65535)`);
  }
  return hostPort.toLowerCase();
}

function validateRepository(repository: string, input: string): void {
  if (repository === '') throw refError(input, 'repository name is empty');
  if (repository.toLowerCase() !== repository) {
    throw refError(input, `repository name "${repository}" must be lowercase`);
  }
  for (const component of repository.split('/')) {
    if (component === '') {
      throw refError(input, `repository name "${repository}" has an empty path component (leading, trailing or double "/")`);
    }
    if (component === '.' || component === '..') {
      throw refError(input, `repository name "${repository}" has a "${component}" path component`);
    }
    if (!PATH_COMPONENT_RE.test(component)) {
      throw refError(
        input,
        `repository path component "${component}" is invalid: it must be lowercase letters and digits, ` +
          'separated by one ".", one or two "_", or any number of "-", and start and end with a letter or digit',
      );
    }
  }
}

/**
 * Parses `[host[:port]/]path[:tag][@digest]` as docker does. A first path component is a
 * registry host only if it contains "." or ":" or is "localhost"; otherwise the reference is
 * on Docker Hub (`docker.io`), and a single-component name gets the `library/` prefix.
 * Unlike distribution/reference v0.6, an uppercase first component ("Foo/bar") is NOT taken
 * as a host: it is a repository name and rejected for its case, so a typo never sends
 * requests (and credentials) to a host named by accident.
 * Neither tag nor digest is required; callers default to `latest` where docker would.
 */
export function parseReference(input: string): Reference {
  if (input === '') throw new WasmOciError('E_REFERENCE', 'invalid reference: it is empty');
  if (input.length > REFERENCE_MAX_LENGTH) {
    throw new WasmOciError(
      'E_REFERENCE',
      `invalid reference "${input.slice(0, 32)}...": it is ${input.length} characters, longer than any valid reference (${REFERENCE_MAX_LENGTH})`,
    );
  }
  if (/\s/.test(input)) throw refError(input, 'it contains whitespace');
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(input);
  if (scheme) {
    // docker and oras take no scheme either; the transport is a flag.
    throw new WasmOciError('E_REFERENCE', `invalid reference "${input}": a reference has no ${scheme[1]}:// scheme`, {
      hint: scheme[1]!.toLowerCase() === 'http'
        ? `drop "http://" and pass --plain-http: ${input.slice(scheme[0].length)} --plain-http`
        : `drop "${scheme[0]}": ${input.slice(scheme[0].length)}`,
    });
  }

  let rest = input;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at !== -1) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (digest.includes('@')) throw refError(input, 'it contains more than one "@"');
    validateDigest(digest, input);
  }

  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon !== -1 && colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    validateTag(tag, input);
  }
  const name = rest;
  if (name === '') throw refError(input, 'repository name is empty');

  if (digest === undefined && tag === undefined && IDENTIFIER_RE.test(name)) {
    throw refError(input, 'a 64-character hexadecimal string is an image ID, not a repository name');
  }

  let registry: string;
  let repository: string;
  const slash = name.indexOf('/');
  const first = slash === -1 ? '' : name.slice(0, slash);
  if (slash !== -1 && (first.includes('.') || first.includes(':') || first === 'localhost')) {
    registry = validateHost(first, input);
    repository = name.slice(slash + 1);
    if (registry === LEGACY_DOCKER_HUB) registry = DOCKER_HUB_REGISTRY;
  } else {
    if (slash === -1 && (name === 'localhost' || (name.includes('.') && tag !== undefined && /^\d{1,5}$/.test(tag)))) {
      // docker reads `localhost:5000` (or `reg.example.com:5000`) as Docker Hub's library/localhost
      // at tag 5000; nobody means that. Dotted names with other tags stay Docker Hub names.
      throw new WasmOciError('E_REFERENCE', `invalid reference "${input}": it names a registry but no repository`, {
        hint: `add the repository and a tag: ${input}/REPOSITORY:TAG`,
      });
    }
    registry = DOCKER_HUB_REGISTRY;
    repository = name;
  }
  if (registry === DOCKER_HUB_REGISTRY && repository !== '' && !repository.includes('/')) {
    repository = OFFICIAL_REPO_PREFIX + repository;
  }
  validateRepository(repository, input);

  const full = `${registry}/${repository}`;
  if (full.length > NAME_TOTAL_LENGTH_MAX) {
    throw refError(input, `repository name "${full}" is ${full.length} characters, longer than ${NAME_TOTAL_LENGTH_MAX} characters`);
  }

  const ref: Reference = { registry, repository };
  if (tag !== undefined) ref.tag = tag;
  if (digest !== undefined) ref.digest = digest;
  return ref;
}

/** `registry/repository[:tag][@digest]`, the canonical (fully qualified) form. */
export function formatReference(ref: Reference): string {
  let s = `${ref.registry}/${ref.repository}`;
  if (ref.tag !== undefined) s += `:${ref.tag}`;
  if (ref.digest !== undefined) s += `@${ref.digest}`;
  return s;
}

/** `registry/repository` without tag or digest. */
export function formatRepository(ref: Pick<Reference, 'registry' | 'repository'>): string {
  return `${ref.registry}/${ref.repository}`;
}

/** What to resolve in the registry: the digest wins over the tag, as docker and oras do. */
export function referenceTarget(ref: Reference): string | undefined {
  return ref.digest ?? ref.tag;
}

/** The same repository with `tag` and without a digest. */
export function withTag(ref: Reference, tag: string): Reference {
  validateTag(tag);
  return { registry: ref.registry, repository: ref.repository, tag };
}

/** The same repository pinned to `digest` (the tag, if any, is kept for display). */
export function withDigest(ref: Reference, digest: string): Reference {
  try {
    parseDigest(digest);
  } catch (err) {
    throw new WasmOciError('E_REFERENCE', err instanceof Error ? err.message : String(err), { cause: err });
  }
  const out: Reference = { registry: ref.registry, repository: ref.repository, digest };
  if (ref.tag !== undefined) out.tag = ref.tag;
  return out;
}

/** The host to send registry API requests to: Docker Hub's API is not served on docker.io. */
export function registryApiHost(registry: string): string {
  return registry === DOCKER_HUB_REGISTRY ? DOCKER_HUB_API_HOST : registry;
}
