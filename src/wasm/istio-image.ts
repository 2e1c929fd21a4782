/**
 * Which module Istio would read from an image, read the way Istio reads it (issue 12 item 5).
 *
 * Mirrors istio/istio pkg/wasm/imagefetcher.go (read at 86c9f01f, Aug 2026):
 * - `ImageFetcher.PrepareFetch`: `remote.Get` then `desc.Image()`; go-containerregistry resolves an
 *   index to one child by platform (see `istioIndexChild`). The binary fetcher then checks the
 *   manifest's own `mediaType` field: `application/vnd.docker.distribution.manifest.v2+json` takes
 *   only `extractDockerImage`; anything else tries `extractOCIStandardImage` ("compat") first and
 *   `extractOCIArtifactImage` ("oci") second, and reports both errors when neither works.
 * - `extractDockerImage` / `extractOCIStandardImage`: at least one layer; the LAST layer must be of
 *   type `application/vnd.docker.image.rootfs.diff.tar.gzip` (Docker) or
 *   `application/vnd.oci.image.layer.v1.tar+gzip` (compat); then `extractWasmPluginBinary`.
 * - `extractWasmPluginBinary`: gunzip, then `tar.NewReader(io.LimitReader(gr,
 *   features.MaxWasmBinarySizeBytes))`: the 256 MiB limit is on the whole uncompressed tar stream,
 *   not on the entry. The first entry whose `filepath.Base(h.Name)` is `plugin.wasm` wins.
 * - `extractOCIArtifactImage`: exactly 2 layers; the first of them of type
 *   `application/vnd.module.wasm.content.layer.v1+wasm` is read raw, through
 *   `io.LimitReader(r, MaxWasmBinarySizeBytes)`: a bigger layer is silently cut at 256 MiB.
 * - pkg/wasm/cache.go `isValidWasmBinary`: the bytes must be at least 8 long and start with `\0asm`.
 * `MaxWasmBinarySizeBytes` defaults to 256 MiB (pilot/pkg/features/pilot.go).
 *
 * The bytes returned are the ones Istio would hand to Envoy, so the verdict judges that module
 * and not the one `pull` would pick.
 */
import { posix } from 'node:path';
import { Transform, type TransformCallback, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import type { Fetcher } from '../content/interfaces.js';
import { isWasmOciError } from '../errors.js';
import { MEDIA_TYPES } from '../oci/media-types.js';
import type { Descriptor, ImageIndex, ImageManifest, Platform } from '../oci/types.js';

/** pilot/pkg/features MaxWasmBinarySizeBytes default. */
export const ISTIO_MAX_WASM_BYTES = 256 * 1024 * 1024;
const PLUGIN_FILE = 'plugin.wasm';
const WASM_MAGIC = [0x00, 0x61, 0x73, 0x6d];

export type IstioVariant = 'docker' | 'compat' | 'oci';

export interface IstioModule {
  variant: IstioVariant;
  bytes: Uint8Array;
  layerIndex: number;
  /** The tar entry's name (docker, compat). */
  entryName?: string;
  /** oci variant: the layer was longer than the limit and Istio reads only its first bytes. */
  truncatedFrom?: number;
}

export interface IstioRead {
  module?: IstioModule;
  /** Istio's own error text when no variant yields a module. */
  errors: string[];
  /** The variant whose extraction failed when the Docker path was the only one tried. */
  variant?: IstioVariant;
}

export interface IstioReadOptions {
  signal?: AbortSignal;
  /** Istio's MaxWasmBinarySizeBytes; tests lower it to exercise the limit. */
  limit?: number;
}

const LINUX_AMD64: Platform = { architecture: 'amd64', os: 'linux' };

/**
 * The child of an index that Istio's `desc.Image()` picks: go-containerregistry
 * pkg/v1/remote/index.go `remoteIndex.childByPlatform` with the default platform linux/amd64
 * (`defaultPlatform`), the first child whose architecture and OS match (`matchesPlatform`; the
 * required platform sets no variant or OS version), a child without a platform counting as
 * linux/amd64. Undefined when none matches: Istio fails with "no child with platform".
 */
export function istioIndexChild(index: ImageIndex): Descriptor | undefined {
  return index.manifests.find((m) => {
    const p = m.platform ?? LINUX_AMD64;
    return p.architecture === LINUX_AMD64.architecture && p.os === LINUX_AMD64.os;
  });
}

/** Reads the module Istio would read from `manifest`, in Istio's order, with Istio's error texts. */
export async function readIstioModule(fetcher: Fetcher, manifest: ImageManifest, options: IstioReadOptions = {}): Promise<IstioRead> {
  const limit = options.limit ?? ISTIO_MAX_WASM_BYTES;
  // go-containerregistry reads `mediaType` from the manifest JSON, never the Content-Type: an OCI
  // manifest that leaves the field out is "" there, so it is not Docker.
  const mediaType = manifest.mediaType;
  if (mediaType === MEDIA_TYPES.dockerManifest) {
    const r = await tarVariant(fetcher, manifest, MEDIA_TYPES.dockerLayerTarGzip, limit, options.signal);
    if (typeof r === 'string') return { variant: 'docker', errors: [`could not extract Wasm file from the image as Docker container ${r}`] };
    return { module: { variant: 'docker', ...r }, errors: [] };
  }
  const compat = await tarVariant(fetcher, manifest, MEDIA_TYPES.ociLayerTarGzip, limit, options.signal);
  if (typeof compat !== 'string') return { module: { variant: 'compat', ...compat }, errors: [] };
  const oci = await ociVariant(fetcher, manifest, limit, options.signal);
  if (typeof oci !== 'string') return { module: { variant: 'oci', ...oci }, errors: [] };
  return { errors: [`could not parse as compat variant: ${compat}`, `could not parse as oci variant: ${oci}`] };
}

/** Istio's isValidWasmBinary (pkg/wasm/cache.go). */
export function istioValidWasmBinary(bytes: Uint8Array): boolean {
  return bytes.length >= 8 && WASM_MAGIC.every((b, i) => bytes[i] === b);
}

type Extracted = Omit<IstioModule, 'variant'>;

async function tarVariant(fetcher: Fetcher, manifest: ImageManifest, expect: string, limit: number, signal?: AbortSignal): Promise<Extracted | string> {
  const { layers } = manifest;
  if (layers.length === 0) return 'number of layers must be greater than zero';
  const layerIndex = layers.length - 1;
  const layer = layers[layerIndex]!;
  if (layer.mediaType !== expect) return `invalid media type ${layer.mediaType} (expect ${expect})`;
  const found = await extractPluginBinary(await fetcher.fetch(layer, { signal }), limit, signal);
  if (typeof found === 'string') return `could not extract wasm binary: ${found}`;
  return { bytes: found.bytes, entryName: found.name, layerIndex };
}

async function ociVariant(fetcher: Fetcher, manifest: ImageManifest, limit: number, signal?: AbortSignal): Promise<Extracted | string> {
  const { layers } = manifest;
  if (layers.length !== 2) return `number of layers must be 2 but got ${layers.length}`;
  const layerIndex = layers.findIndex((l) => l.mediaType === MEDIA_TYPES.soloWasmLayer);
  if (layerIndex < 0) return `could not find the layer of type ${MEDIA_TYPES.soloWasmLayer}`;
  const layer = layers[layerIndex]!;
  const stream = await fetcher.fetch(layer, { signal });
  const chunks: Buffer[] = [];
  let total = 0;
  try {
    for await (const chunk of stream) {
      const buf = chunk as Buffer;
      const room = limit - total;
      chunks.push(buf.length > room ? buf.subarray(0, room) : buf);
      total += Math.min(buf.length, room);
      if (total >= limit) break;
    }
  } finally {
    stream.destroy();
  }
  const out: Extracted = { bytes: Buffer.concat(chunks, total), layerIndex };
  if (layer.size > limit) out.truncatedFrom = layer.size;
  return out;
}

/**
 * Go's io.LimitReader: passes the first `limit` bytes, then ends the stream as if the data ended
 * there (no error); the rest is read and dropped so the source completes.
 */
class LimitReader extends Transform {
  private left: number;
  constructor(limit: number) {
    super();
    this.left = limit;
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    if (this.left > 0) {
      const part = chunk.length > this.left ? chunk.subarray(0, this.left) : chunk;
      this.left -= part.length;
      this.push(part);
      if (this.left === 0) this.push(null);
    }
    cb();
  }
}

/**
 * extractWasmPluginBinary: the first entry named plugin.wasm (by base name) within the first
 * `limit` uncompressed bytes. Returns Istio's error text when there is none or the stream ends
 * inside an entry.
 */
async function extractPluginBinary(source: Readable, limit: number, signal?: AbortSignal): Promise<{ name: string; bytes: Buffer } | string> {
  const { default: tar } = await import('tar-stream');
  const extract = tar.extract();
  const gunzip = createGunzip();
  let found: { name: string; bytes: Buffer } | undefined;
  let readingPlugin = false;
  const done = pipeline(source, gunzip, new LimitReader(limit), extract, { signal });
  const consume = (async () => {
    for await (const entry of extract) {
      if (found !== undefined || posix.basename(entry.header.name) !== PLUGIN_FILE) {
        entry.resume();
        continue;
      }
      readingPlugin = true;
      const chunks: Buffer[] = [];
      for await (const c of entry) chunks.push(c as Buffer);
      found = { name: entry.header.name, bytes: Buffer.concat(chunks) };
      readingPlugin = false;
      // Istio returns at the first match and reads no further.
      source.destroy();
      extract.destroy();
      return;
    }
  })();
  const [piped, consumed] = await Promise.allSettled([done, consume]);
  if (found !== undefined) return found;
  const failure = consumed.status === 'rejected' ? consumed.reason : piped.status === 'rejected' ? piped.reason : undefined;
  if (failure === undefined) return `${PLUGIN_FILE} not found in the archive`;
  if (isWasmOciError(failure) || (failure instanceof Error && failure.name === 'AbortError')) throw failure;
  const code = (failure as NodeJS.ErrnoException).code;
  if (typeof code === 'string' && code.startsWith('Z_')) return `failed to parse layer as tar.gz: ${(failure as Error).message}`;
  if (readingPlugin) return `failed to read ${PLUGIN_FILE}: unexpected EOF`;
  return (failure as Error).message === 'Unexpected end of data' ? 'unexpected EOF' : `invalid tar: ${(failure as Error).message}`;
}
