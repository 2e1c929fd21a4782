import { posix } from 'node:path';
import type { ReadOnlyTarget } from '../content/interfaces.js';
import { readAll } from '../content/read-all.js';
import { verifyBlob } from '../content/verify-blob.js';
import { WasmOciError } from '../errors.js';
import { parseManifestDocument } from '../oci/manifest.js';
import { ANNOTATIONS, MEDIA_TYPES, TAR_GZIP_LAYER_TYPES, WASM_LAYER_TYPES } from '../oci/media-types.js';
import type { Descriptor, ImageManifest } from '../oci/types.js';
import { fetchManifest } from '../operations/manifest.js';
import { parseRuntimeConfig } from '../wasm/runtime-config.js';

/** What `render` learns from the artifact itself. */
export interface RenderFacts {
  /** Digest of the manifest: what Istio's `sha256` is checked against. */
  manifestDigest: string;
  /** First root id of the artifact's runtime config, when it has one. */
  rootId?: string;
  /** Base name of the module layer (its title), when it has a safe one. */
  moduleFileName?: string;
}

export interface LoadRenderFactsOptions {
  signal?: AbortSignal;
  /** Told when the artifact has a runtime config that cannot be read (render goes on without a root id). */
  onWarning?: (message: string) => void;
}

/** A runtime config is a few hundred bytes; 1 MiB bounds what a hostile registry can make us hold. */
const RUNTIME_CONFIG_LIMIT = 1024 * 1024;
const RUNTIME_CONFIG_TITLE = 'runtime-config.json';
const SAFE_FILE_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,200}$/;

/**
 * Resolves `reference`, fetches its manifest, and reads the runtime config where the formats
 * put it: the config blob of the `solo` profile and of the ASM article's oras push
 * (`application/vnd.module.wasm.config.v1+json`), or a layer of that type titled
 * `runtime-config.json` (the solo profile repeats the config as its first layer).
 */
export async function loadRenderFacts(target: ReadOnlyTarget, reference: string, options: LoadRenderFactsOptions = {}): Promise<RenderFacts> {
  const { descriptor, bytes } = await fetchManifest(target, reference, options.signal);
  const doc = parseManifestDocument(bytes, descriptor.mediaType);
  if (doc.kind !== 'manifest') {
    throw new WasmOciError('E_UNSUPPORTED', `${reference} is an index (${doc.mediaType}); Istio and ASM load Wasm from an image manifest`, {
      hint: 'Render the manifest of one entry: pass its digest as the reference (see `wasm-oci manifest fetch`).',
    });
  }
  const facts: RenderFacts = { manifestDigest: descriptor.digest };
  // The resource vouches for the artifact by its digest: a corrupt module would be rendered for a
  // cluster that can only refuse it, so the blobs are read and verified first.
  for (const desc of [doc.manifest.config, ...doc.manifest.layers]) await verifyBlob(target, desc, options.signal);
  const rootId = await readRootId(target, doc.manifest, options);
  if (rootId !== undefined) facts.rootId = rootId;
  const moduleFileName = moduleFileNameOf(doc.manifest);
  if (moduleFileName !== undefined) facts.moduleFileName = moduleFileName;
  return facts;
}

function runtimeConfigDescriptor(manifest: ImageManifest): Descriptor | undefined {
  if (manifest.config.mediaType === MEDIA_TYPES.soloWasmConfig) return manifest.config;
  return manifest.layers.find(
    (l) => l.mediaType === MEDIA_TYPES.soloWasmConfig && l.annotations?.[ANNOTATIONS.title] === RUNTIME_CONFIG_TITLE,
  );
}

async function readRootId(target: ReadOnlyTarget, manifest: ImageManifest, options: LoadRenderFactsOptions): Promise<string | undefined> {
  const desc = runtimeConfigDescriptor(manifest);
  if (!desc) return undefined;
  if (desc.size > RUNTIME_CONFIG_LIMIT) {
    options.onWarning?.(`runtime config ${desc.digest} is ${desc.size} bytes, over the 1 MiB limit: not read, no default root id`);
    return undefined;
  }
  const stream = await target.fetch(desc, { signal: options.signal });
  const bytes = await readAll(stream, RUNTIME_CONFIG_LIMIT, `runtime config ${desc.digest}`);
  try {
    const first = parseRuntimeConfig(bytes).config.rootIds[0];
    return first === '' ? undefined : first;
  } catch (err) {
    // A broken runtime config only costs the default root id; --root-id still works.
    options.onWarning?.(`cannot read the artifact's runtime config: ${(err as Error).message}`);
    return undefined;
  }
}

/** The module's title, reduced to a base name that is safe in a file path on the node. */
function moduleFileNameOf(manifest: ImageManifest): string | undefined {
  const layer = manifest.layers.find((l) => WASM_LAYER_TYPES.includes(l.mediaType));
  const title = layer?.annotations?.[ANNOTATIONS.title];
  if (title !== undefined) {
    const base = posix.basename(title.replace(/\\/g, '/'));
    return SAFE_FILE_NAME_RE.test(base) ? base : undefined;
  }
  // compat / Docker images carry the module as plugin.wasm inside the last tar layer.
  const last = manifest.layers.at(-1);
  return last && TAR_GZIP_LAYER_TYPES.includes(last.mediaType) ? 'plugin.wasm' : undefined;
}
