/**
 * wasme's rules (issue 12 item 5), read from solo-io/wasme at 98e5b0c (2021-02-09, its last
 * commit), for `wasme deploy istio` and the image format wasme and Alibaba ASM share:
 * - tools/wasme/pkg/pull/pull.go puller.pull: an image's children are containerd's
 *   images.ChildrenHandler of the manifest: the config descriptor, then the layers in order.
 * - tools/wasme/pkg/pull/image.go pulledImage.FetchConfig / FetchFilter / getDescriptor: the first
 *   child of the runtime config type (`application/vnd.module.wasm.config.v1+json`), and the first of
 *   the module layer type; a missing one is `media type %v not found on image`, and
 *   Provider.ApplyFilter (tools/wasme/cli/pkg/deploy/istio/istio_provider.go) fails on it.
 * - tools/wasme/pkg/config/helpers.go FromBytes: go-utils protoutils.UnmarshalBytes, gogo
 *   jsonpb.Unmarshal with its defaults (AllowUnknownFields false), into the Runtime message of
 *   tools/wasme/pkg/config/runtime.proto: `type` (string), `abi_versions` (repeated string),
 *   `config` (EnvoyConfig: `root_ids`, repeated string). jsonpb takes a field by its JSON name
 *   (abiVersions) or its proto name (abi_versions); any other field is `unknown field "x" in
 *   config.Runtime` (or config.EnvoyConfig), and a value of another JSON type is refused too.
 * - Provider.ApplyFilter: with abiVersions, unless `--ignore-version-check`, it asks
 *   abi.DefaultRegistry.ValidateIstioVersion(abiVersions, istioVersion) (tools/wasme/cli/pkg/abi/
 *   version.go) for an Istio platform whose version pattern (1.7.x) matches the mesh, and fails with
 *   `image %v not supported by istio version %v` when there is none; without abiVersions it warns
 *   and deploys. Alibaba ASM reads neither abiVersions nor that registry.
 */
import { MEDIA_TYPES } from '../oci/media-types.js';
import type { ImageManifest } from '../oci/types.js';

/** wasme's DefaultRegistry (cli/pkg/abi/version.go): ABI version name -> the platforms using it. */
export const WASME_ABI_REGISTRY: Readonly<Record<string, ReadonlyArray<{ platform: 'istio' | 'gloo'; version: string }>>> = {
  'v0-edc016b1fa5adca3ebd3d7020eaed0ad7b8814ca': [{ platform: 'gloo', version: '1.5.x' }],
  'v0-097b7f2e4cc1fb490cc1943d0d633655ac3c522f': [{ platform: 'istio', version: '1.5.x' }, { platform: 'istio', version: '1.6.x' }],
  'v0-4689a30309abf31aee9ae36e73d34b1bb182685f': [{ platform: 'istio', version: '1.7.x' }, { platform: 'istio', version: '1.8.x' }],
  'v0.2.1': [{ platform: 'gloo', version: '1.6.x' }],
};

/** The descriptor wasme reads its runtime config from: the first of config, layers with that type. */
export function wasmeConfigIndex(manifest: ImageManifest): 'config' | number | undefined {
  if (manifest.config.mediaType === MEDIA_TYPES.soloWasmConfig) return 'config';
  const i = manifest.layers.findIndex((l) => l.mediaType === MEDIA_TYPES.soloWasmConfig);
  return i >= 0 ? i : undefined;
}

export interface WasmeRuntimeConfig {
  abiVersions: string[];
}

type Parsed = { ok: true; config: WasmeRuntimeConfig } | { ok: false; error: string };

const RUNTIME_FIELDS: Record<string, 'type' | 'abiVersions' | 'config'> = { type: 'type', abiVersions: 'abiVersions', abi_versions: 'abiVersions', config: 'config' };
const ENVOY_CONFIG_FIELDS: Record<string, 'rootIds'> = { rootIds: 'rootIds', root_ids: 'rootIds' };

function isStringList(v: unknown): boolean {
  return v === null || (Array.isArray(v) && v.every((s) => typeof s === 'string'));
}

/** The runtime config as wasme's FromBytes (gogo jsonpb, unknown fields refused) reads it. */
export function parseWasmeRuntimeConfig(bytes: Uint8Array): Parsed {
  let doc: unknown;
  try {
    doc = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch {
    return { ok: false, error: 'wasme cannot read the runtime config: it is not UTF-8 JSON' };
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) return { ok: false, error: 'wasme cannot read the runtime config: it is not a JSON object' };
  let abiVersions: string[] = [];
  for (const [key, value] of Object.entries(doc)) {
    const field = RUNTIME_FIELDS[key];
    if (field === undefined) return { ok: false, error: `wasme refuses the runtime config: unknown field "${key}" in config.Runtime` };
    if (field === 'type' && value !== null && typeof value !== 'string') return { ok: false, error: `wasme refuses the runtime config: "${key}" is not a string` };
    if (field === 'abiVersions') {
      if (!isStringList(value)) return { ok: false, error: `wasme refuses the runtime config: "${key}" is not a list of strings` };
      abiVersions = (value as string[] | null) ?? [];
    }
    if (field === 'config' && value !== null) {
      if (typeof value !== 'object' || Array.isArray(value)) return { ok: false, error: `wasme refuses the runtime config: "${key}" is not an object` };
      for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
        if (ENVOY_CONFIG_FIELDS[k] === undefined) return { ok: false, error: `wasme refuses the runtime config: unknown field "${k}" in config.EnvoyConfig` };
        if (!isStringList(v)) return { ok: false, error: `wasme refuses the runtime config: "config.${k}" is not a list of strings` };
      }
    }
  }
  return { ok: true, config: { abiVersions } };
}

/** The Istio versions (wasme's x-patterns) `wasme deploy istio` accepts these abiVersions on. */
export function wasmeIstioVersions(abiVersions: readonly string[]): string[] {
  const out: string[] = [];
  for (const v of abiVersions) {
    for (const p of WASME_ABI_REGISTRY[v] ?? []) if (p.platform === 'istio' && !out.includes(p.version)) out.push(p.version);
  }
  return out;
}

/** What `wasme deploy istio` does with these abiVersions, as a note beside the verdict. */
export function wasmeDeployNote(abiVersions: readonly string[]): { note: string; refusedOnEveryIstio: boolean } {
  if (abiVersions.length === 0) return { note: 'the runtime config lists no abiVersions: `wasme deploy istio` skips its ABI check (with a warning)', refusedOnEveryIstio: false };
  const istio = wasmeIstioVersions(abiVersions);
  const list = abiVersions.join(', ');
  if (istio.length > 0) return { note: `\`wasme deploy istio\` accepts abiVersions ${list} on Istio ${istio.join(', ')} only (wasme's ABI registry)`, refusedOnEveryIstio: false };
  const known = abiVersions.filter((v) => WASME_ABI_REGISTRY[v] !== undefined);
  const why = known.length > 0
    ? `wasme's ABI registry has ${known.map((v) => `${v} for ${WASME_ABI_REGISTRY[v]!.map((p) => `Gloo ${p.version}`).join(', ')}`).join('; ')} only`
    : `wasme's ABI registry does not know ${list}`;
  return {
    note: `\`wasme deploy istio\` refuses it on every Istio version ("image ... not supported by istio version ..."): ${why}; \`wasme deploy istio --ignore-version-check\` skips that check, and Alibaba ASM does not make it`,
    refusedOnEveryIstio: true,
  };
}
