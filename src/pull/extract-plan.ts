import { WasmOciError } from '../errors.js';
import { ANNOTATIONS, MEDIA_TYPES, TAR_GZIP_LAYER_TYPES, WASM_LAYER_TYPES } from '../oci/media-types.js';
import type { Descriptor, ImageManifest } from '../oci/types.js';
import { safeRelativeSegments } from './safe-path.js';

export const MODULE_FILE_NAME = 'plugin.wasm';
export const RUNTIME_CONFIG_FILE_NAME = 'runtime-config.json';

export interface FileJob {
  kind: 'file';
  desc: Descriptor;
  /** Relative name under the output directory (validated). */
  name: string;
  segments: string[];
  isModule: boolean;
}

export interface TarJob {
  kind: 'tar';
  desc: Descriptor;
  /** The entries to take from the tar, by base name, and whether each is wanted. */
  wantModule: boolean;
  wantRuntimeConfig: boolean;
}

/** A directory oras pushed: a layer titled NAME with `io.deis.oras.content.unpack: "true"`, unpacked at NAME. */
export interface DirJob {
  kind: 'dir';
  desc: Descriptor;
  name: string;
  segments: string[];
}

export type ExtractJob = FileJob | TarJob | DirJob;

export interface ExtractPlan {
  jobs: ExtractJob[];
  /** Layers written nowhere, with the reason (reported through onWarning). */
  skipped: Array<{ desc: Descriptor; reason: string }>;
  /** Name of the module file once written, when the artifact has one. */
  moduleName?: string;
}

/**
 * Which file each layer becomes (the rule every format of DESIGN.md section 1 goes through):
 * 1. A layer with an `org.opencontainers.image.title` is written under that name, as `oras pull`
 *    does (solo's `runtime-config.json` and module, cncf's module, oras-style files); one that
 *    also carries `io.deis.oras.content.unpack: "true"` is a directory oras pushed, unpacked there.
 * 2. An untitled layer with a Wasm media type (solo, `application/wasm`, the legacy wasm-to-oci
 *    type) is written as `plugin.wasm`; an untitled solo config layer as `runtime-config.json`.
 * 3. An untitled gzip tar that is the LAST layer (compat variant, Docker v2 images) is unpacked as
 *    Istio does it: only the entries whose base name is `plugin.wasm` or `runtime-config.json`,
 *    written at the top of the output directory; no other entry is ever written.
 * 4. Other untitled layers are skipped. A name claimed twice by titles is an invalid manifest; a
 *    name implied by rule 2 or 3 gives way to a title that claims it.
 * The module is the first layer with a Wasm media type, else `plugin.wasm` from the tar, else the
 * first titled file whose name ends in `.wasm` (an oras push with default media types).
 * Every name is validated here, before anything is fetched or written.
 */
export function planExtraction(manifest: ImageManifest): ExtractPlan {
  const layers = manifest.layers ?? [];
  const jobs: ExtractJob[] = [];
  const skipped: ExtractPlan['skipped'] = [];
  const titled = new Set<string>();

  for (const desc of layers) {
    const title = desc.annotations?.[ANNOTATIONS.title];
    if (title === undefined) continue;
    const segments = safeRelativeSegments(title);
    if (titled.has(title)) throw new WasmOciError('E_MANIFEST_INVALID', `two layers are titled "${title}"`);
    titled.add(title);
  }
  // Titles that are prefixes of others ("a" and "a/b") cannot both be written.
  for (const t of titled) {
    for (const u of titled) {
      if (u.startsWith(`${t}/`)) throw new WasmOciError('E_MANIFEST_INVALID', `layer titles "${t}" and "${u}" conflict (a file and a directory of the same name)`);
    }
  }

  const claimed = new Set(titled);
  let moduleLayer: Descriptor | undefined = layers.find((d) => WASM_LAYER_TYPES.includes(d.mediaType));
  let moduleName: string | undefined;

  layers.forEach((desc, index) => {
    const title = desc.annotations?.[ANNOTATIONS.title];
    if (title !== undefined && desc.annotations?.[ANNOTATIONS.orasUnpack] === 'true') {
      // oras-go content/file/file.go push: a titled layer marked for unpacking is a directory.
      jobs.push({ kind: 'dir', desc, name: title, segments: safeRelativeSegments(title) });
      return;
    }
    if (title !== undefined) {
      jobs.push({ kind: 'file', desc, name: title, segments: safeRelativeSegments(title), isModule: desc === moduleLayer });
      if (desc === moduleLayer) moduleName = title;
      return;
    }
    const implied = WASM_LAYER_TYPES.includes(desc.mediaType)
      ? MODULE_FILE_NAME
      : desc.mediaType === MEDIA_TYPES.soloWasmConfig
        ? RUNTIME_CONFIG_FILE_NAME
        : undefined;
    if (implied !== undefined) {
      if (claimed.has(implied)) {
        skipped.push({ desc, reason: `untitled ${desc.mediaType} layer: "${implied}" is already written from another layer` });
        return;
      }
      claimed.add(implied);
      jobs.push({ kind: 'file', desc, name: implied, segments: [implied], isModule: desc === moduleLayer });
      if (desc === moduleLayer) moduleName = implied;
      return;
    }
    if (TAR_GZIP_LAYER_TYPES.includes(desc.mediaType) && index === layers.length - 1) {
      const wantModule = !claimed.has(MODULE_FILE_NAME) && moduleLayer === undefined;
      const wantRuntimeConfig = !claimed.has(RUNTIME_CONFIG_FILE_NAME);
      if (wantModule || wantRuntimeConfig) {
        jobs.push({ kind: 'tar', desc, wantModule, wantRuntimeConfig });
        if (wantModule) {
          claimed.add(MODULE_FILE_NAME);
          moduleName = MODULE_FILE_NAME;
        }
        if (wantRuntimeConfig) claimed.add(RUNTIME_CONFIG_FILE_NAME);
        return;
      }
    }
    skipped.push({ desc, reason: `untitled ${desc.mediaType} layer` });
  });

  if (moduleName === undefined) {
    const byName = jobs.find((j): j is FileJob => j.kind === 'file' && j.name.toLowerCase().endsWith('.wasm'));
    if (byName) {
      byName.isModule = true;
      moduleName = byName.name;
      moduleLayer = byName.desc;
    }
  }
  const plan: ExtractPlan = { jobs, skipped };
  if (moduleName !== undefined) plan.moduleName = moduleName;
  return plan;
}
