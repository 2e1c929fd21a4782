import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream';
import { WasmOciError, fromFsError } from '../errors.js';
import { parseDigest, VerifyingStream } from '../oci/digest.js';
import { ANNOTATIONS, LIMITS, MEDIA_TYPES } from '../oci/media-types.js';
import type { Descriptor, ImageIndex } from '../oci/types.js';
import type { BlobResolver, Content, ReferrerLister, TagLister, Target, TargetInfo, TransferOptions } from './interfaces.js';
import { findTagged, INDEX_LIMIT_BYTES, stripRefName } from './oci-layout.js';
import { readAll } from './read-all.js';
import { indexTar, type TarEntry } from './tar-index.js';
import { layoutReferrers } from './layout-referrers.js';

/**
 * An OCI image layout inside a tar archive, read in place (oras reads `--oci-layout
 * layout.tar:tag` with oras-go's content/oci NewFromTar; cmd/oras/internal/option/target.go
 * NewReadonlyTarget picks it when the path is a file). Read-only, as there: writes are refused
 * with a clear error instead of a raw ENOTDIR.
 */
export class OciLayoutTarStore implements Target, TagLister, BlobResolver, ReferrerLister {
  readonly root: string;
  readonly info: TargetInfo = { kind: 'oci-layout' };
  private loaded?: Promise<{ entries: Map<string, TarEntry>; index: ImageIndex }>;

  constructor(path: string) {
    this.root = path;
  }

  private load(): Promise<{ entries: Map<string, TarEntry>; index: ImageIndex }> {
    this.loaded ??= (async () => {
      let handle;
      try {
        handle = await open(this.root, 'r');
      } catch (err) {
        throw fromFsError(err, this.root);
      }
      let entries: Map<string, TarEntry>;
      try {
        entries = await indexTar(handle, this.root);
      } finally {
        await handle.close();
      }
      const layout = entries.get('oci-layout');
      if (!layout) throw new WasmOciError('E_INVALID_INPUT', `${this.root} is a tar archive without an oci-layout file: not an OCI image layout`);
      const version = parseJson(await this.readEntry(layout, 4096, 'oci-layout'), `${this.root}:oci-layout`) as { imageLayoutVersion?: unknown };
      if (version?.imageLayoutVersion !== '1.0.0') {
        throw new WasmOciError('E_MANIFEST_INVALID', `${this.root} is not an OCI image layout: oci-layout has no imageLayoutVersion 1.0.0`);
      }
      const indexEntry = entries.get('index.json');
      if (!indexEntry) throw new WasmOciError('E_INVALID_INPUT', `${this.root} has no index.json: not an OCI image layout`);
      const index = parseJson(await this.readEntry(indexEntry, INDEX_LIMIT_BYTES, 'index.json'), `${this.root}:index.json`) as ImageIndex;
      if (!index || index.schemaVersion !== 2 || !Array.isArray(index.manifests)) {
        throw new WasmOciError('E_MANIFEST_INVALID', `index.json in ${this.root} is not an OCI image index`);
      }
      return { entries, index };
    })();
    return this.loaded;
  }

  private async readEntry(entry: TarEntry, limit: number, what: string): Promise<Buffer> {
    if (entry.size === 0) return Buffer.alloc(0);
    return readAll(createReadStream(this.root, { start: entry.offset, end: entry.offset + entry.size - 1 }), limit, what);
  }

  private async blobEntry(digest: string): Promise<TarEntry | undefined> {
    const { algorithm, hex } = parseDigest(digest);
    return (await this.load()).entries.get(`blobs/${algorithm}/${hex}`);
  }

  async exists(desc: Descriptor): Promise<boolean> {
    const entry = await this.blobEntry(desc.digest);
    return entry !== undefined && entry.size === desc.size;
  }

  async resolveBlob(digest: string): Promise<Descriptor> {
    const entry = await this.blobEntry(digest);
    if (!entry) throw new WasmOciError('E_NOT_FOUND', `blob ${digest} not found in ${this.root}`);
    return { mediaType: 'application/octet-stream', digest, size: entry.size };
  }

  async fetch(desc: Descriptor, options: TransferOptions = {}): Promise<Readable> {
    const entry = await this.blobEntry(desc.digest);
    if (!entry) throw new WasmOciError('E_NOT_FOUND', `blob ${desc.digest} not found in ${this.root}`);
    if (entry.size !== desc.size) {
      throw new WasmOciError('E_SIZE_MISMATCH', `blob ${desc.digest} in ${this.root} has ${entry.size} bytes, its descriptor says ${desc.size}`);
    }
    const verify = new VerifyingStream({ digest: desc.digest, size: desc.size });
    if (options.onProgress) {
      const onProgress = options.onProgress;
      verify.on('data', () => onProgress(desc, verify.bytes));
    }
    if (entry.size === 0) {
      verify.end();
      return verify;
    }
    const file = createReadStream(this.root, { start: entry.offset, end: entry.offset + entry.size - 1, highWaterMark: 256 * 1024, signal: options.signal });
    pipeline(file, verify, () => {});
    return verify;
  }

  async resolve(reference: string): Promise<Descriptor> {
    const { index } = await this.load();
    if (reference.includes(':')) {
      parseDigest(reference);
      const listed = index.manifests.find((m) => m.digest === reference);
      if (listed) return stripRefName(listed);
      const entry = await this.blobEntry(reference);
      if (!entry) throw new WasmOciError('E_NOT_FOUND', `manifest ${reference} not found in ${this.root}`);
      if (entry.size > LIMITS.manifestBytes) throw new WasmOciError('E_SIZE_LIMIT', `manifest ${reference} exceeds ${LIMITS.manifestBytes} bytes`);
      const doc = parseJson(await this.readEntry(entry, LIMITS.manifestBytes, 'manifest'), reference) as { mediaType?: unknown; manifests?: unknown };
      const mediaType = typeof doc?.mediaType === 'string' ? doc.mediaType : Array.isArray(doc?.manifests) ? MEDIA_TYPES.ociIndex : MEDIA_TYPES.ociManifest;
      return { mediaType, digest: reference, size: entry.size };
    }
    return findTagged(index, reference, this.root);
  }

  async tags(options: { last?: string } = {}): Promise<string[]> {
    const { index } = await this.load();
    const names = [...new Set(index.manifests.map((m) => m.annotations?.[ANNOTATIONS.refName]).filter((n): n is string => typeof n === 'string'))].sort();
    return options.last === undefined ? names : names.filter((n) => n > options.last!);
  }

  /** The manifests of this layout whose `subject` is `subject` (see layoutReferrers). */
  async referrers(subject: Descriptor, options: { artifactType?: string } = {}): Promise<Descriptor[]> {
    const { index } = await this.load();
    return layoutReferrers(index.manifests, async (d) => readAll(await this.fetch(d), LIMITS.manifestBytes, 'manifest'), subject, options.artifactType);
  }

  push(_desc: Descriptor, _content: Content): Promise<void> {
    return Promise.reject(readOnly(this.root));
  }

  tag(): Promise<void> {
    return Promise.reject(readOnly(this.root));
  }
}

export function readOnly(path: string): WasmOciError {
  return new WasmOciError('E_UNSUPPORTED', `${path} is a tar archive of an OCI layout, which wasm-oci (like oras) only reads`, {
    hint: `extract it (mkdir DIR && tar -xf ${path} -C DIR) and give --oci-layout the folder`,
  });
}

function parseJson(bytes: Buffer, what: string): unknown {
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch (err) {
    throw new WasmOciError('E_MANIFEST_INVALID', `${what} is not valid JSON`, { cause: err });
  }
}

