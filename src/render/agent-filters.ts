import { stringify } from 'yaml';
import { WasmOciError } from '../errors.js';
import { parseImage, validateResourceName } from './validate.js';

/** One entry of the agent's config (`filters: [{name, image, pullSecret?, rootId?}]`, issue 15). */
export interface AgentFilter {
  /** The file is `NAME.wasm` in the agent's output directory. */
  name: string;
  /** A tag or a digest reference, without a scheme. */
  image: string;
  /** Secret of type kubernetes.io/dockerconfigjson, mounted under the agent's --pull-secrets. */
  pullSecret?: string;
  rootId?: string;
}

const OPTION_KEYS = ['pullSecret', 'rootId'] as const;

function invalid(message: string, hint?: string): WasmOciError {
  return new WasmOciError('E_INVALID_INPUT', message, hint ? { hint } : {});
}

const FILTER_HINT = 'Use --filter NAME=IMAGE[,pullSecret=SECRET][,rootId=ID], e.g. --filter authz=registry.example.com/filters/authz:v1,pullSecret=regcred';

/**
 * `--filter NAME=IMAGE[,pullSecret=SECRET][,rootId=ID]`. A comma never occurs in an image
 * reference (distribution/reference's grammar has none), so the options after it are unambiguous.
 */
export function parseFilterFlag(value: string): AgentFilter {
  const [head = '', ...options] = value.split(',');
  const eq = head.indexOf('=');
  if (eq <= 0 || eq === head.length - 1) throw invalid(`--filter "${value}" is not NAME=IMAGE`, FILTER_HINT);
  const filter: AgentFilter = { name: head.slice(0, eq), image: head.slice(eq + 1) };
  for (const option of options) {
    const oeq = option.indexOf('=');
    const key = oeq > 0 ? option.slice(0, oeq) : option;
    if (!(OPTION_KEYS as readonly string[]).includes(key) || oeq <= 0) {
      throw invalid(`--filter "${value}": "${option}" is not one of ${OPTION_KEYS.map((k) => `${k}=...`).join(', ')}`, FILTER_HINT);
    }
    const v = option.slice(oeq + 1);
    if (v === '') throw invalid(`--filter "${value}": ${key} is empty`, FILTER_HINT);
    if (filter[key as (typeof OPTION_KEYS)[number]] !== undefined) throw invalid(`--filter "${value}" gives ${key} twice`, FILTER_HINT);
    filter[key as (typeof OPTION_KEYS)[number]] = v;
  }
  return filter;
}

/**
 * Checks a filter list as the cluster will see it: names are DNS-1123 subdomains (a safe base
 * name for `NAME.wasm`, and the same name `render --kind envoyfilter --name` takes), unique;
 * images are references without a scheme; pull secrets are Secret names.
 */
export function validateAgentFilters(filters: readonly AgentFilter[]): void {
  if (filters.length === 0) throw invalid('the agent needs at least one filter', FILTER_HINT);
  const seen = new Set<string>();
  for (const f of filters) {
    validateResourceName(f.name, 'filter name', 'The agent writes NAME.wasm; use the name you give render --kind envoyfilter --name, e.g. --filter details-authz=IMAGE');
    if (seen.has(f.name)) throw invalid(`filter name "${f.name}" is given twice: each filter is one file, NAME.wasm`);
    seen.add(f.name);
    parseImage(f.image);
    if (f.pullSecret !== undefined) validateResourceName(f.pullSecret, 'pull secret', 'Name a Secret of type kubernetes.io/dockerconfigjson, e.g. pullSecret=regcred');
    if (f.rootId !== undefined && f.rootId === '') throw invalid(`filter "${f.name}": root id is empty`);
  }
}

/** The agent's config file (`filters.yaml`), keys in the order the agent's docs give them. */
export function agentConfigYaml(filters: readonly AgentFilter[]): string {
  const list = filters.map((f) => ({
    name: f.name,
    image: f.image,
    ...(f.pullSecret !== undefined ? { pullSecret: f.pullSecret } : {}),
    ...(f.rootId !== undefined ? { rootId: f.rootId } : {}),
  }));
  return stringify({ filters: list }, { lineWidth: 0 });
}
