import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ReadOnlyTarget } from '../content/interfaces.js';
import { readAll } from '../content/read-all.js';
import { WasmOciError, isIntegrityError, isWasmOciError } from '../errors.js';
import { LIMITS, TAR_GZIP_LAYER_TYPES } from '../oci/media-types.js';
import type { Descriptor, ImageManifest } from '../oci/types.js';
import { extractArtifact } from '../pull/extract.js';
import { fetchArtifactManifest } from './manifest.js';
import { inspectWasm } from '../wasm/inspect.js';
import type { WasmInfo } from '../wasm/types.js';
import { evaluateConsumers, proxyWasmVerdictOfModule, type ConsumerVerdict } from '../wasm/verdicts.js';
import { istioIndexChild, istioValidWasmBinary, readIstioModule, type IstioRead } from '../wasm/istio-image.js';
import type { LinkCheck, LinkCheckResult } from '../wasm/link-check.js';
import { v8LinkCheck } from '../host/link-check.js';
import type { IstioJudgement } from '../wasm/verdict-istio.js';
import { wasmeConfigIndex } from '../wasm/verdict-wasme.js';
import { fetchManifestBytes } from '../copy/copy.js';
import { parseManifestDocument } from '../oci/manifest.js';
import type { ImageIndex } from '../oci/types.js';

/** Refusals that describe the artifact itself, reported as verdict reasons rather than failures. */
const ARTIFACT_FAULTS = new Set(['E_UNSAFE_PATH', 'E_SIZE_LIMIT', 'E_UNSUPPORTED', 'E_MANIFEST_INVALID', 'E_DIGEST_MISMATCH', 'E_SIZE_MISMATCH']);

export interface InspectFileResult {
  path: string;
  info: WasmInfo;
  /** V8 linking the module against the proxy-wasm host table (core modules only). */
  link?: LinkCheckResult;
  /** The verdict of Envoy's proxy-wasm host, from `link`, when the module is a proxy-wasm filter (targeted). */
  verdict?: ConsumerVerdict;
}

/** Inspects a local .wasm file (DESIGN.md section 2). Modules are read whole: the validator needs the bytes. */
export async function inspectFile(path: string, options: { linkCheck?: LinkCheck } = {}): Promise<InspectFileResult> {
  let size: number;
  try {
    const s = await stat(path);
    if (!s.isFile()) throw new WasmOciError('E_INVALID_INPUT', `${path} is not a regular file`);
    size = s.size;
  } catch (err) {
    if (isWasmOciError(err)) throw err;
    throw new WasmOciError('E_FILE_NOT_FOUND', `${path} does not exist`);
  }
  if (size > LIMITS.moduleBytes) throw new WasmOciError('E_SIZE_LIMIT', `${path} is ${size} bytes, over the ${LIMITS.moduleBytes}-byte module limit`);
  const bytes = new Uint8Array(await readFile(path));
  const info = inspectWasm(bytes, { name: path });
  if (info.kind !== 'module') return { path, info };
  const link = await (options.linkCheck ?? v8LinkCheck)(bytes);
  const result: InspectFileResult = { path, info, link };
  if (info.proxyWasm !== undefined || link.abiVersion !== undefined) {
    result.verdict = { ...proxyWasmVerdictOfModule({ bytes, size: bytes.length, info, layerIndex: 0 }, link), targeted: true };
  }
  return result;
}


export interface InspectReferenceOptions {
  target: ReadOnlyTarget;
  reference: string;
  moduleSizeLimit?: number;
  signal?: AbortSignal;
  /**
   * Judges the module a consumer would read (Istio's and Envoy's verdicts); by default the
   * proxy-wasm host's V8 link check (host/link.ts). Tests inject others.
   */
  linkCheck?: LinkCheck;
  /** Istio's MaxWasmBinarySizeBytes (256 MiB); tests lower it. */
  istioLimit?: number;
}

export interface InspectReferenceResult {
  descriptor: Descriptor;
  manifest: ImageManifest;
  /** The config blob parsed as JSON when it is JSON. */
  config?: unknown;
  module?: { layer: Descriptor; fileName?: string; fromTar: boolean; size: number; digest: string; info?: WasmInfo; error?: string };
  verdicts: ConsumerVerdict[];
  /** Set when a blob is not what its descriptor says: the report is shown, and the command fails with it. */
  integrityError?: WasmOciError;
}

/**
 * Fetches a manifest, its config and its module (extracted as `pull` would, into a temp dir),
 * and says which consumer (Istio, wasme/ASM, CNCF runtimes, proxy-wasm) would load it and why not.
 */
export async function inspectReference(options: InspectReferenceOptions): Promise<InspectReferenceResult> {
  const { target, signal } = options;
  const { descriptor, manifest, index } = await fetchArtifactManifest(target, options.reference, signal);
  const configBytes = await readAll(await target.fetch(manifest.config, { signal }), LIMITS.manifestBytes, 'config');
  let config: unknown;
  try {
    config = JSON.parse(configBytes.toString('utf8'));
  } catch {
    config = undefined;
  }

  let module: InspectReferenceResult['module'];
  let integrityError: WasmOciError | undefined;
  let moduleBytes: Uint8Array | undefined;
  const dir = await mkdtemp(join(tmpdir(), 'wasm-oci-inspect-'));
  try {
    const extracted = await extractArtifact({ manifest, fetcher: target, outputDir: dir, moduleSizeLimit: options.moduleSizeLimit, signal });
    if (extracted.module) {
      moduleBytes = await readFile(extracted.module.path);
      const tarIndex = manifest.layers.length - 1;
      const byDigest = manifest.layers.findIndex((l) => l.digest === extracted.module!.digest);
      const layerIndex = byDigest >= 0 ? byDigest : tarIndex;
      const layer = manifest.layers[layerIndex]!;
      module = {
        layer,
        fileName: extracted.module.name,
        fromTar: byDigest < 0 && TAR_GZIP_LAYER_TYPES.includes(layer.mediaType),
        size: extracted.module.size,
        digest: extracted.module.digest,
      };
      try {
        module.info = inspectWasm(moduleBytes, { name: extracted.module.name });
      } catch (err) {
        module.error = isWasmOciError(err) ? err.message : String(err);
      }
    }
  } catch (err) {
    // An artifact we would refuse to pull still gets verdicts: the refusal is one of their reasons.
    // Anything else (network, auth, cancel, a full disk) is the command's failure, not the artifact's.
    if (!isWasmOciError(err) || !ARTIFACT_FAULTS.has(err.code)) throw err;
    if (isIntegrityError(err)) integrityError = err;
    const layer = manifest.layers[manifest.layers.length - 1];
    if (layer) module = { layer, fromTar: TAR_GZIP_LAYER_TYPES.includes(layer.mediaType), size: layer.size, digest: layer.digest, error: err.message };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }

  // wasme reads its runtime config from the first blob of its type; fetch it when it is a layer.
  const wasmeAt = wasmeConfigIndex(manifest);
  const wasmeConfig = typeof wasmeAt === 'number' ? await readAll(await target.fetch(manifest.layers[wasmeAt]!, { signal }), LIMITS.manifestBytes, 'runtime config') : undefined;

  // Envoy's verdict comes from the same V8 link check as `inspect FILE` (host/link-check.ts), on
  // the module `pull` takes; Istio's from the same check on the module Istio reads, which is often
  // the same bytes (then checked once).
  const linkCheck = memoizeLinkCheck(options.linkCheck ?? v8LinkCheck);
  const proxyWasmLink = moduleBytes !== undefined && module?.info?.kind === 'module' ? await linkCheck(moduleBytes) : undefined;
  const istio = await judgeAsIstio(target, manifest, descriptor, index?.index, { ...options, linkCheck });
  const verdicts = evaluateConsumers({
    ...(proxyWasmLink !== undefined ? { proxyWasmLink } : {}),
    ...(wasmeConfig !== undefined ? { wasmeConfig } : {}),
    istio,
    moduleSearched: true,
    manifestMediaType: descriptor.mediaType,
    manifest,
    config: configBytes,
    module: module
      ? {
          bytes: moduleBytes,
          size: module.size,
          info: module.info,
          layerIndex: manifest.layers.indexOf(module.layer),
          fromTar: module.fromTar,
          fileName: module.fileName,
          error: module.error,
          ...(integrityError ? { integrityError: integrityError.message } : {}),
        }
      : undefined,
  });
  return { descriptor, manifest, config, module, verdicts, ...(integrityError ? { integrityError } : {}) };
}

/**
 * Reads the module Istio would read (wasm/istio-image.ts) and asks the link check about it. An
 * index is resolved as Istio's go-containerregistry resolves it (linux/amd64), which may be
 * another child than the Wasm one `pull` takes.
 */
async function judgeAsIstio(
  target: ReadOnlyTarget,
  manifest: ImageManifest,
  descriptor: Descriptor,
  index: ImageIndex | undefined,
  options: InspectReferenceOptions,
): Promise<IstioJudgement> {
  const { signal } = options;
  const judgement: Partial<IstioJudgement> = options.istioLimit !== undefined ? { limit: options.istioLimit } : {};
  let image = manifest;
  if (index !== undefined) {
    let child = istioIndexChild(index);
    let nested = 0;
    // go-containerregistry's Descriptor.Image coerces a nested index the same way, child by child.
    while (child !== undefined) {
      const doc = parseManifestDocument(await fetchManifestBytes(target, child, signal), child.mediaType);
      if (doc.kind === 'manifest') {
        image = child.digest === descriptor.digest ? manifest : doc.manifest;
        break;
      }
      if (++nested > 4) {
        child = undefined;
        break;
      }
      child = istioIndexChild(doc.index);
    }
    judgement.index = { entries: index.manifests.length, ...(child !== undefined ? { child: child.digest } : {}) };
    if (child === undefined) return { read: { errors: [] }, ...judgement };
  }
  let read: IstioRead;
  try {
    read = await readIstioModule(target, image, { signal, limit: options.istioLimit });
  } catch (err) {
    if (!isWasmOciError(err) || !ARTIFACT_FAULTS.has(err.code)) throw err;
    read = { errors: [err.message] };
  }
  const bytes = read.module?.bytes;
  if (bytes !== undefined && istioValidWasmBinary(bytes)) judgement.link = await (options.linkCheck ?? v8LinkCheck)(bytes);
  return { ...judgement, read };
}

/** A LinkCheck that answers the same bytes (by sha256) once. */
function memoizeLinkCheck(check: LinkCheck): LinkCheck {
  const seen = new Map<string, Promise<LinkCheckResult>>();
  return (bytes) => {
    const key = createHash('sha256').update(bytes).digest('hex');
    let answer = seen.get(key);
    if (answer === undefined) {
      answer = Promise.resolve(check(bytes));
      seen.set(key, answer);
    }
    return answer;
  };
}
