/**
 * The CNCF TAG Runtime Wasm OCI artifact, as its clients read it (issue 12 item 5):
 * - wasm-pkg-client (bytecodealliance/wasm-pkg-tools 5a4c2ab, crates/wasm-pkg-client/src/oci/
 *   loader.rs OciBackend::get_release; its `client` is an oci_wasm::WasmClient, oci/mod.rs) calls
 *   bytecodealliance/rust-oci-wasm (457847b) src/client.rs WasmClient::pull_manifest_and_config:
 *   exactly one layer ("Wasm components must have exactly one layer"), the manifest's own
 *   `mediaType` field equal to application/vnd.oci.image.manifest.v1+json ("Wasm components must
 *   have a manifest of type ..."; a manifest without the field fails), the config media type
 *   application/vnd.wasm.config.v0+json, and the config deserialised as src/config.rs WasmConfig
 *   (serde): `created` (a chrono DateTime<Utc>, RFC 3339), `architecture`, `os` and `layerDigests`
 *   required; `author` and `component` (`exports`, `imports`, optional `target`) optional; other
 *   fields ignored.
 * - wkg oci pull (crates/wkg/src/oci.rs PullArgs::run) calls WasmClient::pull: oci-client's pull
 *   accepting only application/wasm layers, exactly one, and the same config media type.
 * - the spec itself (tag-runtime.cncf.io wasm-oci-artifact): architecture `wasm`, os `wasip1` or
 *   `wasip2` (wasip2 for a component), `layerDigests` in layer order.
 * rust-oci-wasm writes os `wasip1` for every core module ("it must match a GOOS value"), so the
 * config saying wasip1 is not the module being a WASI program: the verdict names wasip1 as its
 * variant only for a module that imports WASI, and says so for one that does not (a proxy-wasm
 * filter, Go's js/wasm `gojs`).
 */
import { MEDIA_TYPES } from '../oci/media-types.js';
import type { ImageManifest } from '../oci/types.js';
import type { WasmInfo } from './types.js';
import type { ConsumerVerdict } from './verdicts.js';

export interface CncfInput {
  manifest: ImageManifest;
  /** The config blob, when fetched. */
  config?: Uint8Array;
  module?: { info?: WasmInfo; inspectError?: string };
}

export function parseJsonObject(bytes: Uint8Array): Record<string, unknown> | undefined {
  try {
    const doc: unknown = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
    return typeof doc === 'object' && doc !== null && !Array.isArray(doc) ? (doc as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

// chrono's DateTime<Utc> Deserialize: an RFC 3339 date-time (offset required; `T` or a space).
const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

const isStrings = (v: unknown): boolean => Array.isArray(v) && v.every((s) => typeof s === 'string');

/** Why serde would not deserialise the config as oci-wasm's WasmConfig; undefined when it would. */
function wasmConfigError(config: Record<string, unknown>): string | undefined {
  for (const field of ['created', 'architecture', 'os', 'layerDigests']) {
    if (!(field in config) || config[field] === null) return `missing field \`${field}\``;
  }
  if (typeof config.created !== 'string' || !RFC3339.test(config.created) || Number.isNaN(Date.parse(config.created.replace(' ', 'T')))) {
    return `\`created\` is ${JSON.stringify(config.created)}, not an RFC 3339 date-time`;
  }
  if (typeof config.architecture !== 'string') return '`architecture` is not a string';
  if (typeof config.os !== 'string') return '`os` is not a string';
  if (!isStrings(config.layerDigests)) return '`layerDigests` is not a list of strings';
  if (config.author !== undefined && config.author !== null && typeof config.author !== 'string') return '`author` is not a string';
  const c = config.component;
  if (c !== undefined && c !== null) {
    if (typeof c !== 'object' || Array.isArray(c)) return '`component` is not an object';
    const comp = c as Record<string, unknown>;
    if (!isStrings(comp.exports)) return '`component.exports` is missing or not a list of strings';
    if (!isStrings(comp.imports)) return '`component.imports` is missing or not a list of strings';
    if (comp.target !== undefined && comp.target !== null && typeof comp.target !== 'string') return '`component.target` is not a string';
  }
  return undefined;
}

const WASI_P1 = new Set(['wasi_snapshot_preview1', 'wasi_unstable']);

export function cncfVerdict(input: CncfInput): ConsumerVerdict {
  const { manifest, module } = input;
  const reasons: string[] = [];
  const notes: string[] = [];
  if (manifest.config.mediaType !== MEDIA_TYPES.cncfWasmConfig) {
    reasons.push(`config media type is ${manifest.config.mediaType}, not ${MEDIA_TYPES.cncfWasmConfig}`);
  }
  const wasmLayers = manifest.layers.filter((l) => l.mediaType === MEDIA_TYPES.cncfWasmLayer).length;
  if (manifest.layers.length !== 1 || wasmLayers !== 1) {
    reasons.push(
      `has ${manifest.layers.length} layer(s), ${wasmLayers} of type ${MEDIA_TYPES.cncfWasmLayer}; exactly one ${MEDIA_TYPES.cncfWasmLayer} layer is required`,
    );
  }
  if (manifest.mediaType !== MEDIA_TYPES.ociManifest) {
    const has = manifest.mediaType === undefined ? 'has no "mediaType" field' : `says "mediaType": "${manifest.mediaType}"`;
    reasons.push(`the manifest ${has}: wasm-pkg-client (oci-wasm pull_manifest_and_config) needs "mediaType": "${MEDIA_TYPES.ociManifest}" in it`);
  }

  let os: string | undefined;
  if (manifest.config.mediaType === MEDIA_TYPES.cncfWasmConfig && input.config !== undefined) {
    const config = parseJsonObject(input.config);
    if (config === undefined) {
      reasons.push('config is not a JSON object');
    } else {
      const serde = wasmConfigError(config);
      if (serde !== undefined) reasons.push(`wasm-pkg-client cannot read the config as oci-wasm's WasmConfig: ${serde}`);
      if (config.architecture !== 'wasm') reasons.push(`config architecture is ${JSON.stringify(config.architecture)}, not "wasm"`);
      if (config.os === 'wasip1' || config.os === 'wasip2') os = config.os;
      else reasons.push(`config os is ${JSON.stringify(config.os)}, not "wasip1" or "wasip2"`);
      const digests = config.layerDigests;
      const expected = manifest.layers.map((l) => l.digest);
      if (!Array.isArray(digests) || digests.length !== expected.length || digests.some((d, i) => d !== expected[i])) {
        reasons.push('config layerDigests do not list the layer digests of the manifest');
      }
    }
  }

  const info = module?.info;
  if (os === 'wasip2' && info?.kind === 'module') reasons.push('config os is wasip2 but the layer is a core module, not a component');
  if (os === 'wasip1' && info?.kind === 'component') reasons.push('config os is wasip1 but the layer is a component');
  if (module?.inspectError !== undefined) reasons.push(module.inspectError);

  let variant = os;
  if (os === 'wasip1' && info?.kind === 'module' && !info.imports.some((i) => WASI_P1.has(i.module))) {
    // Not a WASI program: the os value is rust-oci-wasm's placeholder for any core module.
    variant = undefined;
    const from = [...new Set(info.imports.map((i) => i.module))];
    notes.push(`config os is wasip1, as rust-oci-wasm writes it for any core module; the module imports no WASI (${from.length > 0 ? `its imports are from ${from.join(', ')}` : 'it imports nothing'}), so it is not a WASI program`);
  }
  const verdict: ConsumerVerdict = { consumer: 'cncf', ok: reasons.length === 0, reasons };
  if (variant !== undefined) verdict.variant = variant;
  if (notes.length > 0) verdict.notes = notes;
  return verdict;
}
