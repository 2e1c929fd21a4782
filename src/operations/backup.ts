import { createReadStream } from 'node:fs';
import { open, readdir, rename, rm, stat } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { WasmOciError, fromFsError } from '../errors.js';
import type { ReadOnlyTarget, TagLister, Target } from '../content/interfaces.js';
import { OciLayoutStore } from '../content/oci-layout.js';
import { copyReferrers } from '../copy/copy-referrers.js';
import { copyGraph, type CopyOptions } from '../copy/copy.js';
import type { Descriptor } from '../oci/types.js';
import { loadTarStream } from '../pull/tar-module.js';
import type { ReferrersMode } from './referrers.js';

/** A tag of the referrers tag schema: an index of referrers, rebuilt where they land, not a tag to keep. */
const REFERRERS_TAG = /^sha256-[a-f0-9]{64}$/;

export interface BackupItem {
  tag: string;
  descriptor: Descriptor;
  referrers: Descriptor[];
}

export interface MoveOptions extends CopyOptions {
  /** Explicit tags; none: every tag of the source (referrers-schema tags left out). */
  tags?: readonly string[];
  referrers?: boolean;
  mode?: ReferrersMode;
  /** Only resolve and report; write nothing (restore --dry-run). */
  dryRun?: boolean;
  onItem?: (item: BackupItem) => void;
}

async function tagsToMove(src: ReadOnlyTarget & Partial<TagLister>, options: MoveOptions): Promise<string[]> {
  if (options.tags?.length) return [...options.tags];
  if (typeof src.tags !== 'function') throw new WasmOciError('E_UNSUPPORTED', 'the source cannot list its tags: name them (REPO:t1,t2)');
  const all = (await src.tags({ signal: options.signal })).filter((t) => !REFERRERS_TAG.test(t));
  if (all.length === 0) throw new WasmOciError('E_NOT_FOUND', 'the source has no tags to move');
  return all;
}

async function listReferrers(src: ReadOnlyTarget, root: Descriptor, signal?: AbortSignal): Promise<Descriptor[]> {
  const lister = src as Partial<{ referrers(d: Descriptor, o?: { signal?: AbortSignal }): Promise<Descriptor[]> }>;
  if (typeof lister.referrers !== 'function') return [];
  const out: Descriptor[] = [];
  const seen = new Set([root.digest]);
  const walk = async (d: Descriptor): Promise<void> => {
    for (const r of await lister.referrers!(d, { signal })) {
      if (seen.has(r.digest)) continue;
      seen.add(r.digest);
      out.push(r);
      await walk(r);
    }
  };
  await walk(root);
  return out;
}

/**
 * The tags of `src` (each with its graph, and with `referrers` their referrers of every level)
 * copied into `dst`, tag by tag: oras backup and restore (cmd/oras/root/backup.go runBackup,
 * restore.go runRestore) move a repository's tagged artifacts between a registry and an OCI
 * layout with oras.ExtendedCopy. A dry run resolves and lists, and writes nothing.
 */
export async function moveTags(src: ReadOnlyTarget & Partial<TagLister>, dst: Target, options: MoveOptions = {}): Promise<BackupItem[]> {
  const tags = await tagsToMove(src, options);
  const items: BackupItem[] = [];
  for (const tag of tags) {
    const descriptor = await src.resolve(tag, { signal: options.signal });
    let referrers: Descriptor[];
    if (options.dryRun) {
      referrers = options.referrers ? await listReferrers(src, descriptor, options.signal) : [];
    } else {
      await copyGraph(src, dst, descriptor, options, [tag]);
      referrers = options.referrers ? await copyReferrers(src, dst, descriptor, options) : [];
    }
    const item = { tag, descriptor, referrers };
    options.onItem?.(item);
    items.push(item);
  }
  return items;
}

/** `backup -o x.tar`: a tar archive, else a layout folder. */
export function isTarPath(path: string): boolean {
  return /\.tar$/i.test(path);
}

/**
 * oras backup's output (cmd/oras/root/backup.go): a layout folder, or with a `.tar` name a tar
 * of one. The tar is built from a layout written beside it, into a temp file renamed at the
 * end, so a failed backup never leaves a half archive under the name.
 */
export async function backupToPath(src: ReadOnlyTarget & Partial<TagLister>, output: string, options: MoveOptions = {}): Promise<BackupItem[]> {
  // A dry run resolves and lists only: the layout object is never written (nor created).
  if (options.dryRun) return moveTags(src, new OciLayoutStore(output), options);
  if (!isTarPath(output)) return moveTags(src, new OciLayoutStore(output, { create: true }), options);
  const existing = await stat(output).catch(() => undefined);
  if (existing?.isDirectory()) {
    throw new WasmOciError('E_USAGE', `${output} is a directory, not a tar archive`, { hint: 'name another file, or remove the directory' });
  }
  const work = join(dirname(output), `.${basename(output)}.${randomBytes(6).toString('hex')}.layout`);
  const temp = `${work}.tar`;
  try {
    const items = await moveTags(src, new OciLayoutStore(work, { create: true }), options);
    await writeLayoutTar(work, temp);
    await rename(temp, output);
    return items;
  } catch (err) {
    await rm(temp, { force: true });
    throw err;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** A tar of a layout folder: oci-layout, index.json, then every blob, streamed one by one. */
async function writeLayoutTar(dir: string, out: string): Promise<void> {
  const { pack } = await loadTarStream();
  const files = ['oci-layout', 'index.json'];
  for (const alg of await readdir(join(dir, 'blobs'))) {
    for (const hex of (await readdir(join(dir, 'blobs', alg))).sort()) {
      if (!hex.endsWith('.tmp') && !hex.startsWith('.')) files.push(`blobs/${alg}/${hex}`);
    }
  }
  const tar = pack();
  const handle = await open(out, 'wx');
  const written = pipeline(tar, handle.createWriteStream());
  try {
    for (const dirName of ['blobs/', ...new Set(files.filter((f) => f.startsWith('blobs/')).map((f) => `${f.split('/').slice(0, 2).join('/')}/`))]) {
      tar.entry({ name: dirName, type: 'directory', mode: 0o755 });
    }
    for (const f of files) {
      const path = join(dir, f);
      const { size } = await stat(path);
      await new Promise<void>((resolve, reject) => {
        const entry = tar.entry({ name: f, size, mode: 0o644 }, (err) => (err ? reject(err) : resolve()));
        pipeline(createReadStream(path), entry).catch(reject);
      });
    }
    tar.finalize();
    await written;
  } catch (err) {
    tar.destroy();
    await written.catch(() => {});
    throw fromFsError(err, out);
  }
}

