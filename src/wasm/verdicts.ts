/**
 * Which runtime will load an artifact, and why not (issue 5): one verdict per consumer.
 *
 * - istio: Istio's Wasm image fetcher (istio/istio pkg/wasm/imagefetcher.go and cache.go), in its
 *   order: a Docker v2 manifest takes the Docker path only; otherwise the "compat" variant is tried,
 *   then the "oci" variant; the fetched binary must start with the Wasm magic.
 * - wasme: wasme and Alibaba Cloud Service Mesh, which take the layer of the module media type.
 * - cncf: the CNCF TAG Runtime Wasm OCI artifact as wasm-pkg-client and wkg read it (verdict-cncf.ts).
 * - runwasi: containerd's Wasm shims (verdict-runwasi.ts).
 * - wasme's rules are in verdict-wasme.ts.
 * - proxy-wasm: the module itself, as Envoy's proxy-wasm host would load it.
 *
 * When `module` is absent only what the manifest and config tell is judged, except for proxy-wasm,
 * which cannot judge without the module.
 */
import { posix } from 'node:path';
import { isWasmOciError } from '../errors.js';
import { LIMITS, MEDIA_TYPES } from '../oci/media-types.js';
import type { ImageManifest } from '../oci/types.js';
import { inspectWasm } from './inspect.js';
import { checkProxyWasm } from './proxy-wasm.js';
import { cncfVerdict } from './verdict-cncf.js';
import { runwasiVerdict } from './verdict-runwasi.js';
import { parseWasmeRuntimeConfig, wasmeConfigIndex, wasmeDeployNote } from './verdict-wasme.js';
import type { WasmInfo } from './types.js';
import { istioVerdictFromRead, type IstioJudgement } from './verdict-istio.js';
import type { LinkCheckResult } from './link-check.js';

export type Consumer = 'istio' | 'wasme' | 'cncf' | 'runwasi' | 'proxy-wasm';

export interface ConsumerVerdict {
  consumer: Consumer;
  ok: boolean;
  /** Istio: 'docker' | 'compat' | 'oci'; cncf: the config's os (wasip1 only for a module that imports WASI); runwasi: what it runs; proxy-wasm: the ABI version. */
  variant?: string;
  /** Why the consumer would refuse it; empty when ok. */
  reasons: string[];
  /** One line saying what the consumer would do (e.g. Istio: "fetches it (oci variant) and V8 links it"). */
  summary?: string;
  /** Facts beside the verdict: how an index was resolved, a flag that gets past a refusal. */
  notes?: string[];
  /** The module this verdict judged, when the consumer picks its own (Istio). */
  module?: { layerIndex: number; entryName?: string; size: number; sha256: string };
  /**
   * The artifact is made for this consumer (its format or its module says so), so a refusal here
   * fails `inspect --strict`; a refusal by a consumer it is not made for is information only.
   */
  targeted?: boolean;
}

export interface VerdictModule {
  /** The module's bytes, when fetched. */
  bytes?: Uint8Array;
  size: number;
  /** Inspection of the module; computed from `bytes` when absent. */
  info?: WasmInfo;
  /** Index of the layer that holds the module. */
  layerIndex: number;
  /** True when the module came out of a tar layer. */
  fromTar?: boolean;
  /** The module's file name: the tar entry name when fromTar, else the layer title. */
  fileName?: string;
  /** Why the module could not be extracted or read, when it could not (shown as the proxy-wasm reason). */
  error?: string;
  /** The blob's bytes do not match its digest or size: every consumer verifies them and refuses. */
  integrityError?: string;
}

export interface VerdictInput {
  /** The manifest's media type as served (Content-Type or descriptor). */
  manifestMediaType: string;
  manifest: ImageManifest;
  /** The config blob's bytes, when fetched. */
  config?: Uint8Array;
  module?: VerdictModule;
  /** The artifact's layers were searched for the module (undefined `module` then means: there is none). */
  moduleSearched?: boolean;
  /** The module Istio itself would read, and the link check on it: the Istio verdict then judges that. */
  istio?: IstioJudgement;
  /** The bytes of the runtime config wasme reads when it is a layer, not the manifest's config (verdict-wasme.ts wasmeConfigIndex). */
  wasmeConfig?: Uint8Array;
  /** The host's link check (V8 against the proxy-wasm import table) on `module`: the proxy-wasm verdict then comes from it. */
  proxyWasmLink?: LinkCheckResult;
}

const ISTIO_PLUGIN_FILE = 'plugin.wasm';
const WASM_MAGIC = [0x00, 0x61, 0x73, 0x6d];

export function evaluateConsumers(input: VerdictInput): ConsumerVerdict[] {
  const module = withInfo(input.module);
  // Istio (go-containerregistry), wasme, the CNCF clients and Envoy's remote fetch all check the
  // sha256 they were given, so corrupt content is refused before any other rule applies.
  const corrupt = input.module?.integrityError;
  if (corrupt !== undefined) {
    return (['istio', 'wasme', 'cncf', 'runwasi', 'proxy-wasm'] as const).map((consumer) => ({ consumer, ok: false, reasons: [corrupt] }));
  }
  const istio = input.istio !== undefined ? istioVerdictFromRead(input.istio) : istioVerdict(input, module);
  const cncf = cncfVerdict({ manifest: input.manifest, ...(input.config !== undefined ? { config: input.config } : {}), ...(module !== undefined ? { module } : {}) });
  const runwasi = runwasiVerdict({ manifest: input.manifest, ...(input.config !== undefined ? { config: input.config } : {}), ...(module !== undefined ? { module } : {}) });
  const verdicts = [istio, wasmeVerdict(input, module), cncf, runwasi, proxyWasmVerdict(module, input.proxyWasmLink)];
  const targets = targetedConsumers(input, module);
  for (const v of verdicts) v.targeted = targets.has(v.consumer);
  return verdicts;
}

/**
 * Which consumers the artifact is made for (what `inspect --strict` gates on): Istio and wasme
 * when it carries their formats (the Solo config or module layer; Istio also a tar+gzip image),
 * CNCF when it carries the CNCF config or an application/wasm layer (runwasi too, unless the module
 * is a proxy-wasm filter), and Envoy's proxy-wasm host whenever the module is a proxy-wasm filter
 * (an ABI export or proxy_* imports).
 */
function targetedConsumers(input: VerdictInput, module: ResolvedModule | undefined): Set<Consumer> {
  const { manifest } = input;
  const out = new Set<Consumer>();
  const layerTypes = manifest.layers.map((l) => l.mediaType);
  const solo = manifest.config.mediaType === MEDIA_TYPES.soloWasmConfig || layerTypes.includes(MEDIA_TYPES.soloWasmLayer);
  const image = ([MEDIA_TYPES.ociLayerTarGzip, MEDIA_TYPES.dockerLayerTarGzip] as string[]).includes(layerTypes[layerTypes.length - 1] ?? '');
  if (solo || image) out.add('istio');
  if (solo) out.add('wasme');
  const filter = module?.info?.proxyWasm !== undefined || input.proxyWasmLink?.abiVersion !== undefined;
  if (manifest.config.mediaType === MEDIA_TYPES.cncfWasmConfig || layerTypes.includes(MEDIA_TYPES.cncfWasmLayer)) {
    out.add('cncf');
    // A proxy-wasm filter in the CNCF format is made for Envoy (and wkg), not for containerd to run.
    if (!filter) out.add('runwasi');
  }
  if (filter) out.add('proxy-wasm');
  return out;
}

interface ResolvedModule extends VerdictModule {
  /** Set when `bytes` were given but do not inspect. */
  inspectError?: string;
}

function withInfo(module: VerdictModule | undefined): ResolvedModule | undefined {
  if (module === undefined || module.info !== undefined || module.bytes === undefined) return module;
  try {
    return { ...module, info: inspectWasm(module.bytes, { name: module.fileName ?? 'the module' }) };
  } catch (err) {
    return { ...module, inspectError: isWasmOciError(err) ? err.message : String(err) };
  }
}

// ---------------------------------------------------------------------------------------------------
// Istio, from the manifest alone (a caller that did not read the module the way Istio does);
// inspectReference reads it and judges with verdict-istio.ts.

function istioVerdict(input: VerdictInput, module: ResolvedModule | undefined): ConsumerVerdict {
  const { manifest } = input;
  // go-containerregistry reads mediaType from the manifest JSON; OCI manifests may leave it out.
  const mediaType = manifest.mediaType ?? input.manifestMediaType;
  if (mediaType === MEDIA_TYPES.dockerManifest) {
    const err = istioTarLayerError(manifest, module, MEDIA_TYPES.dockerLayerTarGzip, input.moduleSearched);
    if (err !== undefined) {
      return { consumer: 'istio', ok: false, variant: 'docker', reasons: [`could not extract Wasm file from the image as Docker container: ${err}`] };
    }
    return istioModuleVerdict('docker', module);
  }

  const errCompat = istioTarLayerError(manifest, module, MEDIA_TYPES.ociLayerTarGzip, input.moduleSearched);
  if (errCompat === undefined) return istioModuleVerdict('compat', module);

  const errOci = istioOciVariantError(manifest);
  if (errOci === undefined) return istioModuleVerdict('oci', module);

  return {
    consumer: 'istio',
    ok: false,
    reasons: [`could not parse as compat variant: ${errCompat}`, `could not parse as oci variant: ${errOci}`],
  };
}

/** extractDockerImage / extractOCIStandardImage: the last layer is a gzip tar holding plugin.wasm. */
function istioTarLayerError(manifest: ImageManifest, module: ResolvedModule | undefined, expect: string, searched = false): string | undefined {
  const layers = manifest.layers;
  if (layers.length === 0) return 'number of layers must be greater than zero';
  const last = layers[layers.length - 1]!;
  if (last.mediaType !== expect) return `invalid media type ${last.mediaType} (expect ${expect})`;
  if (module === undefined && searched) return `could not extract wasm binary: ${ISTIO_PLUGIN_FILE} not found in the archive`;
  if (module !== undefined) {
    const inLastTar = module.fromTar === true && module.layerIndex === layers.length - 1;
    if (!inLastTar || posix.basename(module.fileName ?? '') !== ISTIO_PLUGIN_FILE) {
      return `could not extract wasm binary: ${ISTIO_PLUGIN_FILE} not found in the archive`;
    }
  }
  return undefined;
}

/** extractOCIArtifactImage: exactly two layers, one of the Solo module media type. */
function istioOciVariantError(manifest: ImageManifest): string | undefined {
  if (manifest.layers.length !== 2) return `number of layers must be 2 but got ${manifest.layers.length}`;
  if (!manifest.layers.some((l) => l.mediaType === MEDIA_TYPES.soloWasmLayer)) {
    return `could not find the layer of type ${MEDIA_TYPES.soloWasmLayer}`;
  }
  return undefined;
}

function istioModuleVerdict(variant: string, module: ResolvedModule | undefined): ConsumerVerdict {
  const reasons: string[] = [];
  if (module !== undefined) {
    if (module.size > LIMITS.moduleBytes) {
      reasons.push(`the module is ${module.size} bytes, over Istio's limit of ${LIMITS.moduleBytes} bytes (256 MiB)`);
    }
    if (module.bytes !== undefined && !hasWasmHeader(module.bytes)) {
      reasons.push('fetched Wasm binary is invalid: it does not start with the Wasm magic \\0asm and a version');
    }
  }
  return { consumer: 'istio', ok: reasons.length === 0, variant, reasons };
}

/** Istio's isValidWasmBinary: at least the 8-byte header, starting with the magic. */
function hasWasmHeader(bytes: Uint8Array): boolean {
  return bytes.length >= 8 && WASM_MAGIC.every((b, i) => bytes[i] === b);
}

// ---------------------------------------------------------------------------------------------------
// wasme / ASM

/** wasme's rules (verdict-wasme.ts): the module layer, the runtime config parsed strictly, and what `wasme deploy istio` does with its abiVersions. */
function wasmeVerdict(input: VerdictInput, module: ResolvedModule | undefined): ConsumerVerdict {
  const reasons: string[] = [];
  const notes: string[] = [];
  const index = input.manifest.layers.findIndex((l) => l.mediaType === MEDIA_TYPES.soloWasmLayer);
  if (index < 0) {
    reasons.push(`no layer of type ${MEDIA_TYPES.soloWasmLayer}`);
  } else if (module !== undefined && module.layerIndex === index && module.bytes !== undefined && !hasWasmHeader(module.bytes)) {
    reasons.push(`layer ${index} (${MEDIA_TYPES.soloWasmLayer}) does not hold a Wasm binary`);
  }
  let refusedOnEveryIstio = false;
  const where = wasmeConfigIndex(input.manifest);
  if (where === undefined) {
    reasons.push(`no runtime config: wasme reads it from the first blob of type ${MEDIA_TYPES.soloWasmConfig} (the config, then the layers) and fails with "media type ${MEDIA_TYPES.soloWasmConfig} not found on image"`);
  } else {
    const bytes = where === 'config' ? input.config : input.wasmeConfig;
    if (bytes !== undefined) {
      const parsed = parseWasmeRuntimeConfig(bytes);
      if (!parsed.ok) {
        reasons.push(where === 'config' ? parsed.error : `layer ${where}: ${parsed.error}`);
      } else {
        const deploy = wasmeDeployNote(parsed.config.abiVersions);
        notes.push(deploy.note);
        refusedOnEveryIstio = deploy.refusedOnEveryIstio;
      }
    }
  }
  const verdict: ConsumerVerdict = { consumer: 'wasme', ok: reasons.length === 0, reasons };
  if (verdict.ok && refusedOnEveryIstio) verdict.summary = 'loads it (`wasme deploy istio` only with --ignore-version-check)';
  if (notes.length > 0) verdict.notes = notes;
  return verdict;
}

// ---------------------------------------------------------------------------------------------------
// proxy-wasm

function proxyWasmVerdict(module: ResolvedModule | undefined, link?: LinkCheckResult): ConsumerVerdict {
  if (module === undefined) return { consumer: 'proxy-wasm', ok: false, reasons: ['no Wasm module was found to check'] };
  if (module.inspectError !== undefined) return { consumer: 'proxy-wasm', ok: false, reasons: [module.inspectError] };
  if (module.info === undefined && module.error !== undefined) return { consumer: 'proxy-wasm', ok: false, reasons: [module.error] };
  if (module.info === undefined) return { consumer: 'proxy-wasm', ok: false, reasons: ['the module was not inspected'] };
  if (link?.depth === 'linked' && module.info.kind === 'module') return proxyWasmVerdictFromLink(link);
  const proxy = module.info.proxyWasm ?? checkProxyWasm(module.info);
  const verdict: ConsumerVerdict = { consumer: 'proxy-wasm', ok: proxy.problems.length === 0, reasons: [...proxy.problems] };
  const abi = proxy.abiVersions[0];
  if (abi !== undefined) verdict.variant = `ABI ${abi.replaceAll('_', '.')}`;
  return verdict;
}

/** Envoy's verdict on a module alone (a local file): no manifest to judge. */
export function proxyWasmVerdictOfModule(module: VerdictModule, link?: LinkCheckResult): ConsumerVerdict {
  return proxyWasmVerdict(withInfo(module), link);
}

/** The verdict from V8 linking the module against the host table (host/link.ts). */
function proxyWasmVerdictFromLink(link: LinkCheckResult): ConsumerVerdict {
  const abi = link.abiVersion?.replaceAll('_', '.');
  const reasons = link.ok ? [] : link.problems && link.problems.length > 0 ? link.problems.map((p) => p.message) : [link.reason ?? 'V8 refuses to link it'];
  const verdict: ConsumerVerdict = { consumer: 'proxy-wasm', ok: link.ok, reasons };
  if (abi !== undefined) verdict.variant = `ABI ${abi}`;
  // proxy-wasm-cpp-host WasmBase::getFunctions: malloc first, then proxy_on_memory_allocate.
  if (link.allocator !== undefined) verdict.notes = [`Envoy calls ${link.allocator} to allocate in the module (cpp-host takes malloc first, then proxy_on_memory_allocate)`];
  // A problem found after linking (no memory, link.ts memoryProblem) is not V8 refusing the module.
  const afterLink = !link.ok && (link.problems?.length ?? 0) > 0 && link.problems!.every((p) => p.afterLink === true);
  verdict.summary = link.ok
    ? `V8 links it against the proxy-wasm host${abi !== undefined ? ` (ABI ${abi})` : ''}`
    : afterLink ? 'V8 links it, but Envoy cannot run it' : 'Envoy (V8) refuses it';
  return verdict;
}
