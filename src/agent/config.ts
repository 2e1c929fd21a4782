import { readdir, readFile, realpath, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { WasmOciError } from '../errors.js';
import { parseReference } from '../reference/reference.js';
import type { Reference } from '../reference/types.js';

/** One entry of the agent's config: which artifact becomes `DIR/NAME.wasm`. */
export interface AgentFilter {
  /** File name without `.wasm`: one path segment. */
  name: string;
  /** A tag or digest reference (`registry/repo:tag`, `registry/repo@sha256:...`). */
  image: string;
  /** Folder under --pull-secrets holding the `.dockerconfigjson` whose credentials this filter uses. */
  pullSecret?: string;
  /** The proxy-wasm root id the EnvoyFilter will name: carried into the status, not used to fetch. */
  rootId?: string;
}

export interface AgentConfig {
  filters: AgentFilter[];
}

/** A filter with its reference parsed once. */
export interface ResolvedFilter extends AgentFilter {
  ref: Reference;
  /** The digest when the image names one (fetched once, then never asked about again). */
  pinned?: string;
}

/** A file or folder name that stays inside its directory: no `/`, no leading `.` (so never `..` or `..data`). */
const NAME_RE = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,199}$/;

export function isSafeName(name: string): boolean {
  return NAME_RE.test(name);
}

function invalid(source: string, problem: string): WasmOciError {
  return new WasmOciError('E_INVALID_INPUT', `agent config ${source}: ${problem}`, {
    hint: 'the config is `filters: [{name, image, pullSecret?, rootId?}]` in YAML or JSON',
  });
}

/** Parses one YAML or JSON document (JSON is YAML) into its filters, checking every field. */
export function parseAgentConfig(text: string, source: string): AgentConfig {
  let doc: unknown;
  try {
    doc = parseYaml(text, { maxAliasCount: 100 });
  } catch (err) {
    throw invalid(source, `does not parse: ${(err as Error).message.split('\n')[0]}`);
  }
  // An empty document is refused, not read as "no filters": a file caught between its truncation
  // and its write (`>`, an editor writing in place) would otherwise remove every filter's file.
  // `filters: []` says "none" on purpose.
  if (doc === null || doc === undefined) throw invalid(source, 'is empty (to run with no filters, write `filters: []`)');
  if (typeof doc !== 'object' || Array.isArray(doc)) throw invalid(source, 'is not a mapping with a `filters` list');
  const raw = (doc as Record<string, unknown>).filters;
  if (raw === undefined || raw === null) return { filters: [] };
  if (!Array.isArray(raw)) throw invalid(source, '`filters` is not a list');
  const filters = raw.map((entry, i): AgentFilter => {
    const where = `filters[${i}]`;
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) throw invalid(source, `${where} is not a mapping`);
    const e = entry as Record<string, unknown>;
    for (const key of Object.keys(e)) {
      if (!['name', 'image', 'pullSecret', 'rootId'].includes(key)) throw invalid(source, `${where} has an unknown field "${key}"`);
    }
    if (typeof e.name !== 'string' || !isSafeName(e.name)) {
      throw invalid(source, `${where}.name must be a file name of letters, digits, ".", "_" and "-" (not starting with "."), got ${JSON.stringify(e.name)}`);
    }
    if (typeof e.image !== 'string' || e.image === '') throw invalid(source, `${where}.image (${e.name}) must be a reference`);
    const filter: AgentFilter = { name: e.name, image: e.image };
    if (e.pullSecret !== undefined) {
      if (typeof e.pullSecret !== 'string' || !isSafeName(e.pullSecret)) throw invalid(source, `${where}.pullSecret (${e.name}) must be a Secret name`);
      filter.pullSecret = e.pullSecret;
    }
    if (e.rootId !== undefined) {
      if (typeof e.rootId !== 'string') throw invalid(source, `${where}.rootId (${e.name}) must be a string`);
      filter.rootId = e.rootId;
    }
    return filter;
  });
  return { filters };
}

/** Checks names are unique and every image parses with a tag or a digest. */
export function resolveFilters(config: AgentConfig, source: string): ResolvedFilter[] {
  const seen = new Set<string>();
  return config.filters.map((f) => {
    if (seen.has(f.name)) throw invalid(source, `two filters are named "${f.name}"`);
    seen.add(f.name);
    let ref: Reference;
    try {
      ref = parseReference(f.image);
    } catch (err) {
      throw invalid(source, `filter "${f.name}": ${(err as Error).message}`);
    }
    if (ref.tag === undefined && ref.digest === undefined) throw invalid(source, `filter "${f.name}": image ${f.image} names no tag or digest`);
    return { ...f, ref, ...(ref.digest !== undefined ? { pinned: ref.digest } : {}) };
  });
}

/** The keys of a ConfigMap volume the agent reads: YAML and JSON documents. */
const CONFIG_KEY_RE = /\.(ya?ml|json)$/i;

export interface LoadedConfig {
  filters: ResolvedFilter[];
  /** What was read, for the log line: the file, or the directory and the data folder it resolved to. */
  source: string;
}

/**
 * Reads the config from a file, or from a directory as kubelet mounts a ConfigMap. kubelet's
 * atomic writer (pkg/volume/util/atomic_writer.go, AtomicWriter.Write) writes each version into a
 * fresh `..<timestamp>` folder, points `..data_tmp` at it and renames that over `..data`; the
 * visible `KEY` entries are symlinks to `..data/KEY`. Resolving `..data` once and reading every key
 * from the folder it names reads one version whole, never half of an update. A directory without
 * `..data` (written by hand) is read as it is. Every `*.yaml`, `*.yml` and `*.json` key is a
 * document; their filters are put together, in key order.
 */
export async function loadAgentConfig(path: string): Promise<LoadedConfig> {
  let st;
  try {
    st = await stat(path);
  } catch (err) {
    throw new WasmOciError('E_FILE_NOT_FOUND', `agent config ${path}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : (err as Error).message}`);
  }
  if (!st.isDirectory()) {
    const text = await readText(path);
    return { filters: resolveFilters(parseAgentConfig(text, path), path), source: path };
  }
  // kubelet renames a new `..data` into place and then removes the folder the old one named
  // (AtomicWriter.Write steps 9 and 12): a read that resolved `..data` just before a swap finds its
  // folder gone. It is read again from the folder `..data` names now; a few times at most, so a
  // volume rewritten faster than it can be read still ends in an error.
  for (let attempt = 1; ; attempt++) {
    const dataDir = await resolveDataDir(path);
    let docs: Array<{ key: string; text: string }>;
    try {
      docs = await readKeys(dataDir);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' && dataDir !== path && attempt < 5 && (await resolveDataDir(path)) !== dataDir) continue;
      throw new WasmOciError('E_FILE_NOT_FOUND', `agent config ${path}: ${code === 'ENOENT' ? 'no such file or directory' : (err as Error).message} (reading ${dataDir})`, { cause: err });
    }
    const filters: AgentFilter[] = [];
    for (const { key, text } of docs) filters.push(...parseAgentConfig(text, `${path}/${key}`).filters);
    const source = dataDir === path ? path : `${path} (${dataDir})`;
    return { filters: resolveFilters({ filters }, path), source };
  }
}

/** The folder `DIR/..data` points at, or DIR itself when there is no `..data` (a directory written by hand). */
async function resolveDataDir(path: string): Promise<string> {
  try {
    return await realpath(join(path, '..data'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return path;
    throw new WasmOciError('E_INVALID_INPUT', `agent config ${path}/..data: ${(err as Error).message}`);
  }
}

/** Every config key of one folder, in key order; fs errors thrown as they are. */
async function readKeys(dataDir: string): Promise<Array<{ key: string; text: string }>> {
  const names = (await readdir(dataDir)).filter((n) => !n.startsWith('.') && CONFIG_KEY_RE.test(n)).sort();
  const out: Array<{ key: string; text: string }> = [];
  for (const key of names) out.push({ key, text: await readFile(join(dataDir, key), 'utf8') });
  return out;
}

async function readText(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    throw new WasmOciError('E_FILE_NOT_FOUND', `agent config ${file}: ${(err as Error).message}`);
  }
}

/** Same filters, same order of fields: nothing to do. */
export function sameFilter(a: AgentFilter, b: AgentFilter): boolean {
  return a.name === b.name && a.image === b.image && a.pullSecret === b.pullSecret && a.rootId === b.rootId;
}
