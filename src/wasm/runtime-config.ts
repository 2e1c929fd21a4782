/**
 * The Solo / wasme runtime config (`application/vnd.module.wasm.config.v1+json`):
 * `{"type":"envoy_proxy","abiVersions":[...],"config":{"rootIds":[...]}}` — the protobuf JSON form
 * of solo-io/wasm's `module.wasm.config.Runtime` message.
 */
import { WasmOciError } from '../errors.js';
import type { RuntimeConfig } from '../oci/types.js';
import type { ProxyWasmAbiVersion, WasmInfo } from './types.js';

export const RUNTIME_CONFIG_TYPE = 'envoy_proxy';

/**
 * wasme's names for ABI versions, from its default ABI registry (solo-io/wasme
 * tools/wasme/cli/pkg/abi/version.go DefaultRegistry). wasme does not name ABIs by the
 * `proxy_abi_version_*` export but by the Envoy build that spoke them: `v0-<envoy-wasm commit>` for
 * pre-0.2.1 hosts and `v0.2.1`.
 * - 0_1_0 -> v0-097b7f2e… (registered for Istio 1.5.x and 1.6.x)
 * - 0_2_0 -> v0-4689a303… (Istio 1.7.x and 1.8.x; wasme calls it the precursor of ABI 0.2.0)
 * - 0_2_1 -> v0.2.1 (registered for Gloo 1.6.x only, so `wasme deploy istio` refuses it on every
 *   Istio unless --ignore-version-check: verdict-wasme.ts says so)
 * Istio and ASM do not read abiVersions (ASM's examples leave it empty); only `wasme deploy` matches
 * it against the mesh version.
 */
export const WASME_ABI_VERSIONS: Record<ProxyWasmAbiVersion, string> = {
  '0_1_0': 'v0-097b7f2e4cc1fb490cc1943d0d633655ac3c522f',
  '0_2_0': 'v0-4689a30309abf31aee9ae36e73d34b1bb182685f',
  '0_2_1': 'v0.2.1',
};

export interface GenerateRuntimeConfigOptions {
  rootIds?: string[];
  /** Overrides the ABI versions derived from the module's exports. */
  abiVersions?: string[];
}

/** The runtime config push generates when the user gives none (DESIGN.md section 1). */
export function generateRuntimeConfig(info: WasmInfo, opts: GenerateRuntimeConfigOptions = {}): RuntimeConfig {
  const abiVersions = opts.abiVersions ?? (info.proxyWasm?.abiVersions ?? []).map((v) => WASME_ABI_VERSIONS[v]);
  return {
    type: RUNTIME_CONFIG_TYPE,
    abiVersions: [...abiVersions],
    config: { rootIds: [...(opts.rootIds ?? [])] },
  };
}

/** The bytes of a runtime config blob: compact JSON in a fixed key order, so equal configs have equal digests. */
export function encodeRuntimeConfig(config: RuntimeConfig): Uint8Array {
  const { rootIds, ...rest } = config.config;
  const ordered = { type: config.type, abiVersions: config.abiVersions, config: { rootIds, ...rest } };
  return new TextEncoder().encode(JSON.stringify(ordered));
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function invalid(message: string, cause?: unknown): WasmOciError {
  return new WasmOciError('E_INVALID_INPUT', `invalid runtime config: ${message}`, {
    ...(cause === undefined ? {} : { cause }),
    hint: 'A runtime config looks like {"type":"envoy_proxy","abiVersions":["v0.2.1"],"config":{"rootIds":["my_root_id"]}}',
  });
}

function isStringArray(v: unknown): v is string[] {
  return Array.isArray(v) && v.every((s) => typeof s === 'string');
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Parses and validates a runtime config. `abiVersions` and `config.rootIds` may be absent (protobuf
 * JSON omits empty repeated fields) and come back as empty arrays; wrong types are refused.
 */
export function parseRuntimeConfig(bytes: Uint8Array | string): RuntimeConfig {
  let text: string;
  try {
    text = typeof bytes === 'string' ? bytes : utf8.decode(bytes);
  } catch (err) {
    throw invalid('not UTF-8 text', err);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw invalid(`not JSON (${err instanceof Error ? err.message : String(err)})`, err);
  }
  if (!isPlainObject(doc)) throw invalid('expected a JSON object');
  if (typeof doc.type !== 'string' || doc.type === '') throw invalid('"type" must be a non-empty string such as "envoy_proxy"');
  const abiVersions = doc.abiVersions ?? [];
  if (!isStringArray(abiVersions)) throw invalid('"abiVersions" must be an array of strings');
  const config = doc.config ?? {};
  if (!isPlainObject(config)) throw invalid('"config" must be an object');
  const rootIds = config.rootIds ?? [];
  if (!isStringArray(rootIds)) throw invalid('"config.rootIds" must be an array of strings');
  return { type: doc.type, abiVersions: [...abiVersions], config: { ...config, rootIds: [...rootIds] } };
}
