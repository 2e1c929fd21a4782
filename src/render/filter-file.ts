import { DEFAULT_FILTER_DIR } from './types.js';

/** The filter directory without a trailing slash ("/" stays "/"). */
export function normaliseFilterDir(dir: string = DEFAULT_FILTER_DIR): string {
  return dir.replace(/\/+$/, '') || '/';
}

/**
 * Where `wasm-oci agent --output DIR` writes filter NAME: `DIR/NAME.wasm` (issue 15). The
 * EnvoyFilter render points Envoy at this same path, so the agent's ConfigMap entry, the file on
 * the node and the EnvoyFilter are tied together by one name.
 */
export function filterFilePath(name: string, dir?: string): string {
  const d = normaliseFilterDir(dir);
  return `${d === '/' ? '' : d}/${name}.wasm`;
}
