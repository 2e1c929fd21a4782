import { readFile } from 'node:fs/promises';
import { WasmOciError } from '../errors.js';
import { parseDigest } from '../oci/digest.js';
import { parseReference } from '../reference/reference.js';
import type { Reference } from '../reference/types.js';
import { IMAGE_PULL_POLICIES, PLUGIN_PHASES, RENDER_KINDS, type RenderInput } from './types.js';

/**
 * Checks on what ends up in a rendered resource. Kubernetes would refuse these values at
 * `kubectl apply` time; refusing them here names the flag instead of a field path in the API
 * server's answer.
 */

// Kubernetes apimachinery validation: IsDNS1123Subdomain / IsDNS1123Label / IsQualifiedName / IsValidLabelValue.
const DNS1123_LABEL_RE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN_RE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const QUALIFIED_NAME_PART_RE = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;

function invalid(message: string, hint?: string): WasmOciError {
  return new WasmOciError('E_INVALID_INPUT', message, hint ? { hint } : {});
}

/** metadata.name of the rendered resource: a DNS-1123 subdomain (what the API server requires of custom resources). */
export function validateResourceName(name: string, what = 'name', hint = 'For example: --name details-v1-wasmfiltersample'): void {
  if (name.length === 0 || name.length > 253 || !DNS1123_SUBDOMAIN_RE.test(name)) {
    throw invalid(
      `${what} "${name}" is not a valid Kubernetes name: use at most 253 lowercase letters, digits, "-" and ".", starting and ending with a letter or digit`,
      hint,
    );
  }
}

/** A namespace is a DNS-1123 label. */
export function validateNamespace(namespace: string): void {
  if (namespace.length === 0 || namespace.length > 63 || !DNS1123_LABEL_RE.test(namespace)) {
    throw invalid(
      `namespace "${namespace}" is not a valid Kubernetes namespace: use at most 63 lowercase letters, digits and "-", starting and ending with a letter or digit`,
    );
  }
}

export function validateLabelKey(key: string): void {
  const slash = key.lastIndexOf('/');
  const prefix = slash >= 0 ? key.slice(0, slash) : undefined;
  const name = slash >= 0 ? key.slice(slash + 1) : key;
  const prefixOk = prefix === undefined || (prefix.length <= 253 && DNS1123_SUBDOMAIN_RE.test(prefix));
  if (!prefixOk || name.length === 0 || name.length > 63 || !QUALIFIED_NAME_PART_RE.test(name)) {
    throw invalid(
      `label key "${key}" is not valid: a key is [prefix/]name, the name at most 63 letters, digits, "-", "_" and ".", starting and ending with a letter or digit; the prefix a DNS subdomain`,
      'For example: --selector app=details --selector version=v1',
    );
  }
}

export function validateLabelValue(key: string, value: string): void {
  if (value.length > 63 || (value !== '' && !QUALIFIED_NAME_PART_RE.test(value))) {
    throw invalid(
      `label value "${value}" of "${key}" is not valid: at most 63 letters, digits, "-", "_" and ".", starting and ending with a letter or digit`,
    );
  }
}

export function validateLabels(labels: Record<string, string>): void {
  for (const [k, v] of Object.entries(labels)) {
    validateLabelKey(k);
    validateLabelValue(k, v);
  }
}

/** Parses repeated `--selector key=value` flags (split at the first `=`, as kubectl does). */
export function parseSelector(list: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of list) {
    const eq = item.indexOf('=');
    if (eq <= 0) throw invalid(`selector "${item}" is not a key=value label`, 'For example: --selector app=details');
    const key = item.slice(0, eq);
    const value = item.slice(eq + 1);
    validateLabelKey(key);
    validateLabelValue(key, value);
    if (Object.hasOwn(out, key) && out[key] !== value) throw invalid(`selector label "${key}" is given twice with different values`);
    out[key] = value;
  }
  return out;
}

export interface PluginConfigOptions {
  /** Reads a file; injected for tests. Defaults to fs.readFile as UTF-8. */
  readTextFile?: (path: string) => Promise<string>;
  /** Resolves relative paths. */
  cwd?: string;
}

/** Plugin config files are JSON documents a human writes; anything bigger is a mistake. */
const PLUGIN_CONFIG_MAX_BYTES = 1024 * 1024;

/**
 * `--plugin-config` as inline JSON, `@file`, or a plain file path (tried only when the value
 * is not JSON, so `{"a":1}` is never mistaken for a path).
 */
export async function loadPluginConfig(value: string, options: PluginConfigOptions = {}): Promise<unknown> {
  const read = options.readTextFile ?? ((p: string) => readFile(p, 'utf8'));
  const resolveFile = (p: string) => (options.cwd && !p.startsWith('/') ? `${options.cwd.replace(/\/$/, '')}/${p}` : p);
  if (value.startsWith('@')) {
    const path = value.slice(1);
    if (path === '') throw invalid('--plugin-config "@" names no file', 'Use --plugin-config @config.json');
    return parseJsonConfig(await readConfigFile(read, resolveFile(path), path), `plugin config file ${path}`);
  }
  const trimmed = value.trim();
  try {
    return JSON.parse(trimmed);
  } catch (err) {
    // Inline JSON always starts like JSON; anything else may be a file path.
    if (/^[[{"]/.test(trimmed)) throw invalid(`--plugin-config is not valid JSON: ${(err as Error).message}`, 'Give inline JSON such as \'{"name":"hello"}\' or @file.json');
  }
  const text = await readConfigFile(read, resolveFile(value), value, true);
  return parseJsonConfig(text, `plugin config file ${value}`);
}

async function readConfigFile(read: (p: string) => Promise<string>, path: string, shown: string, guessed = false): Promise<string> {
  let text: string;
  try {
    text = await read(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (guessed && (code === 'ENOENT' || code === 'ENOTDIR' || code === 'ENAMETOOLONG')) {
      throw invalid(`--plugin-config "${shown}" is neither JSON nor an existing file`, 'Give inline JSON such as \'{"name":"hello"}\' or @file.json');
    }
    if (code === 'ENOENT') throw new WasmOciError('E_FILE_NOT_FOUND', `plugin config file ${shown} does not exist`, { cause: err });
    throw invalid(`cannot read plugin config file ${shown}: ${(err as Error).message}`);
  }
  if (Buffer.byteLength(text) > PLUGIN_CONFIG_MAX_BYTES) throw invalid(`plugin config file ${shown} is larger than 1 MiB`);
  return text;
}

function parseJsonConfig(text: string, source: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw invalid(`${source} is not valid JSON: ${(err as Error).message}`);
  }
}

/** The sha256 hex Istio wants, from a manifest digest. */
export function manifestDigestHex(manifestDigest: string): string {
  let parsed;
  try {
    parsed = parseDigest(manifestDigest);
  } catch (err) {
    throw new WasmOciError('E_INVALID_INPUT', `manifest digest "${manifestDigest}" is not a valid digest`, { cause: err });
  }
  if (parsed.algorithm !== 'sha256') {
    throw new WasmOciError('E_UNSUPPORTED', `manifest digest ${manifestDigest} is not sha256: Istio's WasmPlugin and the ASM controller only check sha256 digests`);
  }
  return parsed.hex;
}

/** Parses the image the cluster pulls: a reference without a URL scheme. */
export function parseImage(image: string): Reference {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(image)) {
    throw invalid(`image "${image}" has a URL scheme`, 'Give the image as registry/repository:tag; render adds oci:// where Istio needs it');
  }
  try {
    return parseReference(image);
  } catch (err) {
    throw new WasmOciError('E_INVALID_INPUT', `image "${image}" is not a valid reference: ${(err as Error).message}`, { cause: err });
  }
}

/**
 * The image as the user gave it, checked: no scheme (the renderer adds `oci://` where Istio
 * wants it), a valid reference, and a digest, if it has one, equal to the manifest digest.
 * Returns the name as given (`registry/repo`) and the tag, if any.
 */
export function checkImage(image: string, manifestDigest: string): { name: string; tag?: string } {
  const ref = parseImage(image);
  if (ref.digest !== undefined && ref.digest !== manifestDigest) {
    throw invalid(`image "${image}" names digest ${ref.digest}, but the artifact's manifest digest is ${manifestDigest}`);
  }
  const at = image.indexOf('@');
  const head = at >= 0 ? image.slice(0, at) : image;
  if (ref.tag === undefined) return { name: head };
  return { name: head.slice(0, head.length - ref.tag.length - 1), tag: ref.tag };
}

/** Every check on a RenderInput, so a library caller gets the same errors as the CLI. */
export function validateRenderInput(input: RenderInput): void {
  if (!(RENDER_KINDS as readonly string[]).includes(input.kind)) {
    throw invalid(`unknown kind "${String(input.kind)}": use one of ${RENDER_KINDS.join(', ')}`);
  }
  validateResourceName(input.name);
  if (input.namespace !== undefined) validateNamespace(input.namespace);
  if (input.selector) validateLabels(input.selector);
  manifestDigestHex(input.manifestDigest);
  checkImage(input.image, input.manifestDigest);
  if (input.rootId !== undefined && input.rootId === '') throw invalid('root id is empty');
  if (input.phase !== undefined && !(PLUGIN_PHASES as readonly string[]).includes(input.phase)) {
    throw invalid(`phase "${String(input.phase)}" is not one of ${PLUGIN_PHASES.join(', ')}`);
  }
  if (input.imagePullPolicy !== undefined && !(IMAGE_PULL_POLICIES as readonly string[]).includes(input.imagePullPolicy)) {
    throw invalid(`image pull policy "${String(input.imagePullPolicy)}" is not one of ${IMAGE_PULL_POLICIES.join(', ')}`);
  }
  if (input.priority !== undefined && (!Number.isInteger(input.priority) || Math.abs(input.priority) > 2 ** 31 - 1)) {
    throw invalid(`priority ${input.priority} is not a 32-bit integer`);
  }
  if (input.pullSecret !== undefined) validateResourceName(input.pullSecret, 'pull secret');
  if (input.workloadKind !== undefined && !/^[A-Z][A-Za-z0-9]*$/.test(input.workloadKind)) {
    throw invalid(`workload kind "${input.workloadKind}" is not a Kubernetes kind`, 'For example: Deployment, StatefulSet, DaemonSet');
  }
  if (input.filterDir !== undefined && !input.filterDir.startsWith('/')) {
    throw invalid(`filter dir "${input.filterDir}" is not an absolute path`, 'Envoy reads the module from this path inside the proxy container, e.g. /var/local/lib/wasm-filters');
  }
  if (input.moduleFileName !== undefined && (input.moduleFileName.includes('/') || input.moduleFileName.includes('\\'))) {
    throw invalid(`module file name "${input.moduleFileName}" must be a base name`);
  }
}
