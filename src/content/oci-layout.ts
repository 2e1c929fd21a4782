import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, open, readFile, rename, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { pipeline as pipelineCb } from 'node:stream';
import { WasmOciError, fromFsError } from '../errors.js';
import { parseDigest, VerifyingStream } from '../oci/digest.js';
import { ANNOTATIONS, LIMITS, MEDIA_TYPES } from '../oci/media-types.js';
import type { Descriptor, ImageIndex } from '../oci/types.js';
import type { BlobResolver, Content, Deleter, TagLister, Target, TargetInfo, TransferOptions, UnknownPusher } from './interfaces.js';
import { readAll } from './read-all.js';

const LAYOUT_FILE = 'oci-layout';
const INDEX_FILE = 'index.json';
const LOCK_FILE = 'index.json.lock';
const LOCK_STALE_MS = 30_000;

export interface OciLayoutOptions {
  /** Create the layout when the directory has none (writes); reads of a missing layout fail with E_NOT_FOUND. */
  create?: boolean;
}

/**
 * An OCI image layout on disk (image-spec `image-layout.md`): `oci-layout`, `index.json`,
 * `blobs/<alg>/<hex>`. Tags are `org.opencontainers.image.ref.name` annotations on
 * index.json entries, as skopeo and oras write them.
 */
export class OciLayoutStore implements Target, TagLister, Deleter, BlobResolver, UnknownPusher {
  readonly root: string;
  readonly info: TargetInfo = { kind: 'oci-layout' };
  private readonly create: boolean;
  private initialised = false;

  constructor(root: string, options: OciLayoutOptions = {}) {
    this.root = root;
    this.create = options.create ?? false;
  }

  blobPath(digest: string): string {
    const { algorithm, hex } = parseDigest(digest);
    return join(this.root, 'blobs', algorithm, hex);
  }

  private async ensureLayout(forWrite: boolean): Promise<void> {
    if (this.initialised) return;
    const layoutPath = join(this.root, LAYOUT_FILE);
    try {
      const raw = await readFile(layoutPath, 'utf8');
      let version: unknown;
      try {
        version = (JSON.parse(raw) as { imageLayoutVersion?: unknown }).imageLayoutVersion;
      } catch {
        version = undefined;
      }
      if (version !== '1.0.0') {
        throw new WasmOciError('E_MANIFEST_INVALID', `${this.root} is not an OCI image layout: ${LAYOUT_FILE} has no imageLayoutVersion 1.0.0`);
      }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw fromFsError(err, layoutPath);
      if (!forWrite || !this.create) {
        throw new WasmOciError('E_NOT_FOUND', `no OCI image layout at ${this.root}`, { hint: 'push to it first, or check the --oci-layout path' });
      }
      await mkdir(join(this.root, 'blobs'), { recursive: true }).catch((e: unknown) => {
        throw fromFsError(e, `cannot create the OCI layout ${this.root}`);
      });
      await writeFileAtomic(layoutPath, JSON.stringify({ imageLayoutVersion: '1.0.0' }));
      await this.withIndexLock(async (index) => index);
    }
    this.initialised = true;
  }

  async exists(desc: Descriptor): Promise<boolean> {
    try {
      const s = await stat(this.blobPath(desc.digest));
      return s.isFile() && s.size === desc.size;
    } catch {
      return false;
    }
  }

  async resolveBlob(digest: string): Promise<Descriptor> {
    await this.ensureLayout(false);
    try {
      const s = await stat(this.blobPath(digest));
      return { mediaType: 'application/octet-stream', digest, size: s.size };
    } catch {
      throw new WasmOciError('E_NOT_FOUND', `blob ${digest} not found in ${this.root}`);
    }
  }

  async fetch(desc: Descriptor, options: TransferOptions = {}): Promise<Readable> {
    await this.ensureLayout(false);
    const path = this.blobPath(desc.digest);
    let size: number;
    try {
      size = (await stat(path)).size;
    } catch {
      throw new WasmOciError('E_NOT_FOUND', `blob ${desc.digest} not found in ${this.root}`);
    }
    if (size !== desc.size) {
      throw new WasmOciError('E_SIZE_MISMATCH', `blob ${desc.digest} in ${this.root} has ${size} bytes, its descriptor says ${desc.size}`);
    }
    const verify = new VerifyingStream({ digest: desc.digest, size: desc.size });
    const file = createReadStream(path, { highWaterMark: 256 * 1024, signal: options.signal });
    if (options.onProgress) {
      const onProgress = options.onProgress;
      verify.on('data', () => onProgress(desc, verify.bytes));
    }
    // pipeline, not pipe: a consumer that stops reading (destroys `verify`) also closes the file.
    pipelineCb(file, verify, () => {});
    return verify;
  }

  async push(desc: Descriptor, content: Content, options: TransferOptions = {}): Promise<void> {
    await this.ensureLayout(true);
    if (await this.exists(desc)) return;
    const target = this.blobPath(desc.digest);
    await mkdir(join(target, '..'), { recursive: true });
    const temp = `${target}.${randomBytes(6).toString('hex')}.tmp`;
    const verify = new VerifyingStream({ digest: desc.digest, size: desc.size });
    if (options.onProgress) {
      const onProgress = options.onProgress;
      verify.on('data', () => onProgress(desc, verify.bytes));
    }
    try {
      const source = content instanceof Uint8Array ? Readable.from([Buffer.from(content)]) : await content();
      await pipeline(source, verify, createWriteStream(temp, { flags: 'wx' }), { signal: options.signal });
      await rename(temp, target);
    } catch (err) {
      await rm(temp, { force: true });
      throw fromFsError(err, `cannot write to the OCI layout ${this.root}`);
    }
  }

  async pushUnknown(mediaType: string, content: Readable, options: TransferOptions & { size?: number } = {}): Promise<Descriptor> {
    await this.ensureLayout(true);
    const dir = join(this.root, 'blobs', 'sha256');
    await mkdir(dir, { recursive: true });
    const temp = join(dir, `.upload-${randomBytes(6).toString('hex')}.tmp`);
    const hasher = new VerifyingStream({ size: options.size });
    const pending: Descriptor = { mediaType, digest: '', size: options.size ?? 0 };
    if (options.onProgress) {
      const onProgress = options.onProgress;
      hasher.on('data', () => onProgress(pending, hasher.bytes));
    }
    try {
      await pipeline(content, hasher, createWriteStream(temp, { flags: 'wx' }), { signal: options.signal });
      const desc: Descriptor = { mediaType, digest: hasher.computed!, size: hasher.bytes };
      // The same content may be there already; the rename replaces it with identical bytes.
      await rename(temp, this.blobPath(desc.digest));
      return desc;
    } catch (err) {
      await rm(temp, { force: true });
      throw fromFsError(err, `cannot write to the OCI layout ${this.root}`);
    }
  }

  async resolve(reference: string): Promise<Descriptor> {
    await this.ensureLayout(false);
    const index = await this.readIndex();
    if (reference.includes(':') && reference.startsWith('sha')) {
      parseDigest(reference);
      const listed = index.manifests.find((m) => m.digest === reference);
      if (listed) return stripRefName(listed);
      // A manifest stored but not listed (pushed untagged): read its media type from the blob itself.
      const path = this.blobPath(reference);
      let bytes: Buffer;
      try {
        const s = await stat(path);
        if (s.size > LIMITS.manifestBytes) throw new WasmOciError('E_SIZE_LIMIT', `manifest ${reference} exceeds ${LIMITS.manifestBytes} bytes`);
        bytes = await readFile(path);
      } catch (err) {
        if (err instanceof WasmOciError) throw err;
        throw new WasmOciError('E_NOT_FOUND', `manifest ${reference} not found in ${this.root}`);
      }
      let mediaType: string = MEDIA_TYPES.ociManifest;
      try {
        const doc = JSON.parse(bytes.toString('utf8')) as { mediaType?: unknown; manifests?: unknown };
        if (typeof doc.mediaType === 'string') mediaType = doc.mediaType;
        else if (Array.isArray(doc.manifests)) mediaType = MEDIA_TYPES.ociIndex;
      } catch {
        throw new WasmOciError('E_MANIFEST_INVALID', `blob ${reference} in ${this.root} is not a manifest`);
      }
      return { mediaType, digest: reference, size: bytes.length };
    }
    const hit = index.manifests.find((m) => m.annotations?.[ANNOTATIONS.refName] === reference);
    if (!hit) {
      const known = index.manifests.map((m) => m.annotations?.[ANNOTATIONS.refName]).filter(Boolean);
      throw new WasmOciError('E_NOT_FOUND', `tag "${reference}" not found in ${this.root}`, {
        hint: known.length ? `tags in this layout: ${known.join(', ')}` : 'the layout has no tags',
      });
    }
    return stripRefName(hit);
  }

  async tag(desc: Descriptor, reference: string): Promise<void> {
    await this.ensureLayout(true);
    if (!(await this.exists(desc))) {
      throw new WasmOciError('E_NOT_FOUND', `cannot tag ${desc.digest}: it is not in ${this.root}`);
    }
    await this.withIndexLock(async (index) => {
      const entry: Descriptor = { ...stripRefName(desc), annotations: { ...(desc.annotations ?? {}), [ANNOTATIONS.refName]: reference } };
      index.manifests = index.manifests.filter((m) => m.annotations?.[ANNOTATIONS.refName] !== reference);
      index.manifests.push(entry);
      return index;
    });
  }

  async tags(options: { last?: string } = {}): Promise<string[]> {
    await this.ensureLayout(false);
    const index = await this.readIndex();
    const names = index.manifests
      .map((m) => m.annotations?.[ANNOTATIONS.refName])
      .filter((n): n is string => typeof n === 'string')
      .sort();
    const unique = [...new Set(names)];
    return options.last === undefined ? unique : unique.filter((n) => n > options.last!);
  }

  async delete(desc: Descriptor): Promise<void> {
    await this.ensureLayout(false);
    await this.withIndexLock(async (index) => {
      index.manifests = index.manifests.filter((m) => m.digest !== desc.digest);
      return index;
    });
    await unlink(this.blobPath(desc.digest)).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err;
    });
  }

  private async readIndex(): Promise<ImageIndex> {
    let raw: Buffer;
    try {
      raw = await readAll(createReadStream(join(this.root, INDEX_FILE)), LIMITS.manifestBytes, 'index.json');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return emptyIndex();
      throw err;
    }
    let index: ImageIndex;
    try {
      index = JSON.parse(raw.toString('utf8')) as ImageIndex;
    } catch (err) {
      throw new WasmOciError('E_MANIFEST_INVALID', `${join(this.root, INDEX_FILE)} is not valid JSON`, { cause: err });
    }
    if (!index || index.schemaVersion !== 2 || !Array.isArray(index.manifests)) {
      throw new WasmOciError('E_MANIFEST_INVALID', `${join(this.root, INDEX_FILE)} is not an OCI image index`);
    }
    return index;
  }

  /**
   * Read-modify-write of index.json under a lock file, so two processes pushing into one
   * layout at once both keep their tags; the new index replaces the old by rename.
   */
  private async withIndexLock(update: (index: ImageIndex) => Promise<ImageIndex>): Promise<void> {
    const lockPath = join(this.root, LOCK_FILE);
    const release = await acquireLock(lockPath);
    try {
      const index = await update(await this.readIndex());
      await writeFileAtomic(join(this.root, INDEX_FILE), JSON.stringify(index));
    } finally {
      await release();
    }
  }
}

function emptyIndex(): ImageIndex {
  return { schemaVersion: 2, mediaType: MEDIA_TYPES.ociIndex, manifests: [] };
}

function stripRefName(desc: Descriptor): Descriptor {
  const { annotations, ...rest } = desc;
  if (!annotations) return { ...rest };
  const { [ANNOTATIONS.refName]: _ref, ...others } = annotations;
  return Object.keys(others).length ? { ...rest, annotations: others } : { ...rest };
}

export async function writeFileAtomic(path: string, data: string | Uint8Array, mode = 0o644): Promise<void> {
  const temp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    await writeFile(temp, data, { mode, flag: 'wx' });
    await rename(temp, path);
  } catch (err) {
    await rm(temp, { force: true });
    throw err;
  }
}

async function acquireLock(path: string): Promise<() => Promise<void>> {
  // A token of our own in the lock file: release removes the lock only while it is still ours.
  const token = `${process.pid}:${randomBytes(8).toString('hex')}`;
  for (let attempt = 0; ; attempt++) {
    try {
      const handle = await open(path, 'wx');
      await handle.writeFile(token);
      await handle.close();
      return async () => {
        const held = await readFile(path, 'utf8').catch(() => undefined);
        if (held === token) await rm(path, { force: true });
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      // A lock left by a killed process is taken over once it is older than any update takes.
      const age = await stat(path).then((s) => Date.now() - s.mtimeMs, () => 0);
      if (age > LOCK_STALE_MS) await rm(path, { force: true });
      await new Promise((r) => setTimeout(r, Math.min(5 + attempt * 5, 50)));
    }
  }
}
