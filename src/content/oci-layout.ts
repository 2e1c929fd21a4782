import { createReadStream } from 'node:fs';
import { mkdir, open, readFile, rename, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { pipeline as pipelineCb } from 'node:stream';
import { WasmOciError, fromFsError } from '../errors.js';
import { parseDigest, VerifyingStream } from '../oci/digest.js';
import { ANNOTATIONS, LIMITS, MEDIA_TYPES } from '../oci/media-types.js';
import type { Descriptor, ImageIndex } from '../oci/types.js';
import type { BlobResolver, Content, Deleter, ReferrerLister, TagLister, Target, TargetInfo, TransferOptions, UnknownPusher } from './interfaces.js';
import { readAll } from './read-all.js';
import { layoutReferrers } from './layout-referrers.js';

const LAYOUT_FILE = 'oci-layout';
const INDEX_FILE = 'index.json';
const LOCK_FILE = 'index.json.lock';
const LOCK_STALE_MS = 30_000;
/**
 * A layout's own index.json lists every tag (skopeo and oras write layouts with thousands), so
 * its limit is not a manifest's 4 MiB; reads and writes share it so we can always read back.
 */
export const INDEX_LIMIT_BYTES = 64 * 1024 * 1024;
/** Longest wait for another writer's lock before saying so (an update takes milliseconds). */
const LOCK_WAIT_MS = 60_000;

export interface OciLayoutOptions {
  /** Create the layout when the directory has none (writes); reads of a missing layout fail with E_NOT_FOUND. */
  create?: boolean;
}

/**
 * An OCI image layout on disk (image-spec `image-layout.md`): `oci-layout`, `index.json`,
 * `blobs/<alg>/<hex>`. Tags are `org.opencontainers.image.ref.name` annotations on
 * index.json entries, as skopeo and oras write them.
 */
export class OciLayoutStore implements Target, TagLister, Deleter, BlobResolver, UnknownPusher, ReferrerLister {
  readonly root: string;
  readonly info: TargetInfo = { kind: 'oci-layout' };
  private readonly create: boolean;
  private initialised = false;
  /** Blobs whose bytes this process has hashed (or written): an existing blob is trusted only then. */
  private readonly verified = new Set<string>();

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

  /**
   * A blob exists only when its bytes hash to its digest: a file of the right size with corrupt
   * bytes would otherwise be "Exists" to every push and copy, new tags would point at it, and
   * re-pushing the right bytes could never heal it (push skips what exists).
   */
  async exists(desc: Descriptor): Promise<boolean> {
    const path = this.blobPath(desc.digest);
    try {
      const s = await stat(path);
      if (!s.isFile() || s.size !== desc.size) return false;
    } catch {
      return false;
    }
    if (this.verified.has(desc.digest)) return true;
    try {
      await pipeline(createReadStream(path, { highWaterMark: 256 * 1024 }), new VerifyingStream({ digest: desc.digest, size: desc.size }), new Writable({ write: (_c, _e, cb) => cb() }));
    } catch {
      return false;
    }
    this.verified.add(desc.digest);
    return true;
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
      const handle = await open(temp, 'wx');
      await pipeline(source, verify, handle.createWriteStream(), { signal: options.signal });
      await rename(temp, target);
      this.verified.add(desc.digest);
    } catch (err) {
      await rm(temp, { force: true });
      throw fromFsError(err, `cannot write to the OCI layout ${this.root}`);
    }
    if (isManifestType(desc.mediaType)) await this.listUntagged(desc);
  }

  /**
   * An untagged manifest is listed in index.json without a ref name, as oras-go's OCI store does
   * (content/oci/oci.go, saveIndex: tagged manifests, then the untagged ones): a manifest that
   * only its digest reaches would be garbage to every other tool. A tag replaces the bare entry.
   */
  private async listUntagged(desc: Descriptor): Promise<void> {
    await this.withIndexLock(async (index) => {
      if (!index.manifests.some((m) => m.digest === desc.digest)) index.manifests.push(stripRefName(desc));
      return index;
    });
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
      // The file exists before any byte moves: a failure (an aborted source) that runs the
      // cleanup below can never race a write stream that has not created its file yet.
      const handle = await open(temp, 'wx');
      await pipeline(content, hasher, handle.createWriteStream(), { signal: options.signal });
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
    return findTagged(index, reference, this.root);
  }

  async tag(desc: Descriptor, reference: string): Promise<void> {
    await this.ensureLayout(true);
    if (!(await this.exists(desc))) {
      throw new WasmOciError('E_NOT_FOUND', `cannot tag ${desc.digest}: it is not in ${this.root}`);
    }
    await this.withIndexLock(async (index) => {
      const entry: Descriptor = { ...stripRefName(desc), annotations: { ...(desc.annotations ?? {}), [ANNOTATIONS.refName]: reference } };
      index.manifests = index.manifests.filter((m) => {
        const name = m.annotations?.[ANNOTATIONS.refName];
        return name !== reference && !(name === undefined && m.digest === desc.digest);
      });
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

  /** The manifests of this layout whose `subject` is `subject` (see layoutReferrers). */
  async referrers(subject: Descriptor, options: { artifactType?: string } = {}): Promise<Descriptor[]> {
    await this.ensureLayout(false);
    const index = await this.readIndex();
    return layoutReferrers(index.manifests, async (d) => readAll(await this.fetch(d), LIMITS.manifestBytes, 'manifest'), subject, options.artifactType);
  }

  private async readIndex(): Promise<ImageIndex> {
    let raw: Buffer;
    try {
      raw = await readAll(createReadStream(join(this.root, INDEX_FILE)), INDEX_LIMIT_BYTES, 'index.json');
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
      const bytes = Buffer.from(JSON.stringify(index));
      // Refused before anything changes: an index.json over the limit we read with would lock
      // the tool out of its own layout (pull, repo tags, even manifest delete).
      if (bytes.length > INDEX_LIMIT_BYTES) {
        throw new WasmOciError('E_SIZE_LIMIT', `the update would make ${join(this.root, INDEX_FILE)} ${bytes.length} bytes, over the ${INDEX_LIMIT_BYTES} bytes wasm-oci reads`, {
          hint: 'delete tags you no longer need (wasm-oci manifest delete --oci-layout), or use another layout',
        });
      }
      await writeFileAtomic(join(this.root, INDEX_FILE), bytes);
    } finally {
      await release();
    }
  }
}

const MANIFEST_TYPES: ReadonlySet<string> = new Set([
  MEDIA_TYPES.ociManifest,
  MEDIA_TYPES.ociIndex,
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
]);

function isManifestType(mediaType: string): boolean {
  return MANIFEST_TYPES.has(mediaType);
}

function emptyIndex(): ImageIndex {
  return { schemaVersion: 2, mediaType: MEDIA_TYPES.ociIndex, manifests: [] };
}

/** The descriptor `index.json` lists under tag `reference` (as the spec's ref.name), or E_NOT_FOUND naming the tags there are. */
export function findTagged(index: ImageIndex, reference: string, root: string): Descriptor {
  const hit = index.manifests.find((m) => m.annotations?.[ANNOTATIONS.refName] === reference);
  if (!hit) {
    const known = index.manifests.map((m) => m.annotations?.[ANNOTATIONS.refName]).filter(Boolean);
    throw new WasmOciError('E_NOT_FOUND', `tag "${reference}" not found in ${root}`, {
      hint: known.length ? `tags in this layout: ${known.join(', ')}` : 'the layout has no tags',
    });
  }
  return stripRefName(hit);
}

export function stripRefName(desc: Descriptor): Descriptor {
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
  const started = Date.now();
  for (let attempt = 0; ; attempt++) {
    try {
      const handle = await open(path, 'wx');
      try {
        await handle.writeFile(token);
        await handle.close();
      } catch (err) {
        // A full disk fails the write after the create: a lock left here would make every
        // later write wait for nothing.
        await handle.close().catch(() => {});
        await rm(path, { force: true });
        throw err;
      }
      return async () => {
        const held = await readFile(path, 'utf8').catch(() => undefined);
        if (held === token) await rm(path, { force: true });
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      if (await lockIsAbandoned(path)) {
        await rm(path, { force: true });
        continue;
      }
      if (Date.now() - started > LOCK_WAIT_MS) {
        throw new WasmOciError('E_INVALID_INPUT', `the OCI layout is locked by ${path} for more than ${LOCK_WAIT_MS / 1000} s`, {
          hint: 'another wasm-oci is writing to this layout; if none is running, remove the lock file',
        });
      }
      await new Promise((r) => setTimeout(r, Math.min(5 + attempt * 5, 50)));
    }
  }
}

/**
 * A lock nobody holds any more: its owner process is gone (the token starts with its pid, and
 * this machine has no such process), it is empty (the owner died between create and write),
 * or it is older than any update takes.
 */
async function lockIsAbandoned(path: string): Promise<boolean> {
  let held: string;
  let ageMs: number;
  try {
    held = await readFile(path, 'utf8');
    ageMs = Date.now() - (await stat(path)).mtimeMs;
  } catch {
    return false;
  }
  if (ageMs > LOCK_STALE_MS) return true;
  // An empty lock younger than a moment may be one being written right now.
  if (held === '') return ageMs > 1000;
  const pid = Number(held.split(':')[0]);
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}
