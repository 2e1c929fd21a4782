import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { WasmOciError } from '../errors.js';
import { LIMITS } from '../oci/media-types.js';
import { inspectWasm, sniffWasm } from '../wasm/inspect.js';
import { outlineModuleFile } from '../wasm/module-outline.js';
import { encodeRuntimeConfig, generateRuntimeConfig, parseRuntimeConfig } from '../wasm/runtime-config.js';
import type { WasmInfo, WasmKind } from '../wasm/types.js';
import { digestFile, fileContent, readHead, statRegularFile } from './file-blob.js';
import { fileAnnotations, makeDescriptor } from './manifest-parts.js';
import type { PackedBlob, PackOptions } from './types.js';

/**
 * Modules up to this size are read once into memory, inspected and hashed from the same bytes.
 * Larger ones (far beyond any real proxy-wasm filter) are only sniffed and hashed as a stream,
 * so pack stays within the memory budget of DESIGN.md section 6 whatever the file size.
 */
export const INSPECT_LIMIT = 32 * 1024 * 1024;
/** A runtime config is a few hundred bytes; anything this big is not one. */
export const RUNTIME_CONFIG_LIMIT = 1024 * 1024;

export interface ModuleInput {
  path: string;
  /** The file's base name: the layer title of the profiles. */
  title: string;
  digest: string;
  size: number;
  kind: WasmKind;
  info?: WasmInfo;
}

/** The module file as a layer of `mediaType`, titled with its base name (solo, cncf). */
export function moduleLayer(mediaType: string, module: ModuleInput, options: Pick<PackOptions, 'annotations'>): PackedBlob {
  return {
    descriptor: makeDescriptor(mediaType, module.digest, module.size, {
      annotations: fileAnnotations(module.title, options.annotations, [module.path, module.title]),
    }),
    content: fileContent(module.path),
    name: module.title,
  };
}

/** Loads the module of a profile push; a file that is not Wasm is refused with E_NOT_WASM. */
export async function loadModule(path: string, options: Pick<PackOptions, 'signal' | 'onWarning' | 'digests'> = {}): Promise<ModuleInput> {
  const { size } = await statRegularFile(path, 'module');
  const title = basename(path);
  if (size > LIMITS.moduleBytes) {
    // Istio's fetcher refuses it (and so does our pull without --module-size-limit): say so now, not in the mesh.
    options.onWarning?.(`${path} is ${size} bytes, over Istio's 256 MiB module limit: Istio will refuse it, and pulling it needs --module-size-limit`);
  }
  if (size <= INSPECT_LIMIT) {
    const bytes = await readFile(path, { signal: options.signal });
    const info = inspectWasm(bytes, { name: path });
    return { path, title, digest: `sha256:${info.sha256}`, size: bytes.byteLength, kind: info.kind, info };
  }
  const head = await readHead(path, 8);
  const kind = sniffWasm(head);
  if (kind === undefined) {
    inspectWasm(head, { name: path }); // throws the precise E_NOT_WASM / E_WASM_PARSE
    throw new WasmOciError('E_NOT_WASM', `${path} is not a WebAssembly module or component`);
  }
  const { digest, size: hashed } = await digestFile(path, options.signal, options.digests);
  if (kind === 'module') {
    // The same facts as a small module (its ABI above all), read without holding the code.
    const info = await outlineModuleFile(path, digest.slice('sha256:'.length), { name: path });
    options.onWarning?.(`${path} is ${size} bytes; its imports and exports were checked, its code was not validated (modules over ${INSPECT_LIMIT} bytes are not loaded whole)`);
    return { path, title, digest, size: hashed, kind, info: { ...info, size: hashed } };
  }
  options.onWarning?.(`${path} is ${size} bytes; only its header was checked (components over ${INSPECT_LIMIT} bytes are not inspected)`);
  return { path, title, digest, size: hashed, kind };
}

/**
 * The runtime config blob of `solo` and `compat`: the user's file as given (validated), or one
 * generated from the module (abiVersions from its proxy_abi_version_* export, rootIds given).
 */
export async function resolveRuntimeConfig(options: {
  path?: string;
  module: ModuleInput;
  rootIds?: string[];
  onWarning?: (m: string) => void;
}): Promise<Uint8Array> {
  if (options.path !== undefined) {
    const { size } = await statRegularFile(options.path, 'runtime config');
    if (size > RUNTIME_CONFIG_LIMIT) {
      throw new WasmOciError('E_SIZE_LIMIT', `runtime config ${options.path} is ${size} bytes, over the ${RUNTIME_CONFIG_LIMIT}-byte limit`);
    }
    const bytes = new Uint8Array(await readFile(options.path));
    const parsed = parseRuntimeConfig(bytes);
    if (options.rootIds && options.rootIds.length > 0) {
      options.onWarning?.(`--root-id is ignored: the runtime config ${options.path} is used as given (rootIds ${JSON.stringify(parsed.config.rootIds)})`);
    }
    return bytes;
  }
  const rootIds = options.rootIds ?? [];
  if (options.module.info) return encodeRuntimeConfig(generateRuntimeConfig(options.module.info, { rootIds }));
  // A component too large to inspect: no proxy-wasm ABI is claimed.
  return encodeRuntimeConfig({ type: 'envoy_proxy', abiVersions: [], config: { rootIds: [...rootIds] } });
}
