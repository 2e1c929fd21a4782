import { chmod, lstat, lutimes, mkdir, readdir, readlink, rename, rm, symlink, unlink, utimes } from 'node:fs/promises';
import { join, posix } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { WasmOciError } from '../errors.js';
import { parseDigest, VerifyingStream } from '../oci/digest.js';
import type { Descriptor } from '../oci/types.js';
import { ANNOTATIONS } from '../oci/media-types.js';
import { ByteLimit, loadTarStream, openForEntry, settleTarRead, TAR_OVERHEAD_ALLOWANCE } from './tar-module.js';
import { safeRelativeSegments } from './safe-path.js';

/** An unpacked directory this many entries big is an inode bomb, not a filter's files. */
export const DIRECTORY_ENTRY_LIMIT = 100_000;

function unsafe(name: string, why: string): WasmOciError {
  return new WasmOciError('E_UNSAFE_PATH', `refused tar entry "${name.slice(0, 200)}": ${why}`, {
    hint: 'The directory layer names a path outside its directory; nothing was written.',
  });
}

interface DirMeta {
  rel: string;
  mode: number;
  mtime: Date;
}

export interface UnpackedDirectory {
  /** sha256 of the uncompressed tar. */
  tarDigest: string;
  /** Directories with the mode and time their entries gave, applied once everything is in place. */
  dirs: DirMeta[];
  entries: number;
  skipped: string[];
}

/**
 * Unpacks a directory layer (`io.deis.oras.content.unpack: "true"`) into `staging`, a fresh
 * directory of ours, as oras-go does (content/file/utils.go extractTarGzip, extractTarDirectory,
 * ensureBasePath), and more strictly:
 * - the layer is verified against its descriptor (digest and size, compressed), and the tar
 *   against `io.deis.oras.content.digest` when the annotation is there (oras checks it after
 *   writing; here nothing leaves `staging` until both match);
 * - every entry must lie under `prefix` (the layer's title): `prefix` itself is the directory,
 *   `prefix/x` goes to `staging/x`; names are checked by safeRelativeSegments (no `..`, no
 *   absolute path, no backslash, no control character);
 * - a symlink is written only when its target, taken from the entry's directory, stays under
 *   `prefix` (absolute targets are refused); no entry is written through a symlink the tar made
 *   (oras's "no symbolic link allowed between"); hard links are refused (oras's own pushes never
 *   hold one, and a hard link's target cannot be checked like a path);
 * - devices, FIFOs and other types are skipped, as oras skips them;
 * - file modes are kept without setuid, setgid and sticky bits, directories get theirs after
 *   their content is written; modification times are kept;
 * - the uncompressed size is capped like a tar module layer's, and the entry count.
 */
export async function unpackDirectoryLayer(
  source: Readable,
  desc: Descriptor,
  options: { staging: string; prefix: string; sizeLimit: number; signal?: AbortSignal },
): Promise<UnpackedDirectory> {
  const expectedTar = desc.annotations?.[ANNOTATIONS.orasContentDigest];
  if (expectedTar !== undefined) {
    try {
      parseDigest(expectedTar);
    } catch {
      throw new WasmOciError('E_MANIFEST_INVALID', `layer ${desc.digest}: ${ANNOTATIONS.orasContentDigest} is not a digest: "${expectedTar.slice(0, 100)}"`);
    }
  }
  const prefixSegments = safeRelativeSegments(options.prefix);
  const verifyLayer = new VerifyingStream({ digest: desc.digest, size: desc.size });
  const verifyTar = new VerifyingStream(expectedTar !== undefined ? { digest: expectedTar } : {});
  const limit = new ByteLimit(options.sizeLimit + TAR_OVERHEAD_ALLOWANCE, `the uncompressed directory layer ${desc.digest}`);
  const extract = (await loadTarStream()).extract();
  const done = pipeline(source, verifyLayer, createGunzip(), limit, verifyTar, extract, { signal: options.signal });
  const dirs = new Map<string, DirMeta>();
  const skipped: string[] = [];
  const links: string[] = [];
  let entries = 0;

  /** Parent directories of `segments` inside staging, created as needed, never through a symlink. */
  const parentOf = async (segments: readonly string[], name: string): Promise<string> => {
    let current = options.staging;
    for (const s of segments.slice(0, -1)) {
      current = join(current, s);
      const st = await lstat(current).catch(() => undefined);
      if (st === undefined) await mkdir(current, { mode: 0o700 });
      else if (st.isSymbolicLink()) throw unsafe(name, `"${s}" is a symlink in the directory; nothing is written through one`);
      else if (!st.isDirectory()) throw unsafe(name, `"${s}" is a file in the directory, not a directory`);
    }
    return current;
  };
  /** Whatever an earlier entry of the same name left (a file, a symlink) is removed, never followed. */
  const clear = async (path: string, name: string, forDirectory: boolean): Promise<boolean> => {
    const st = await lstat(path).catch(() => undefined);
    if (st === undefined) return false;
    if (st.isDirectory()) {
      if (forDirectory) return true;
      throw unsafe(name, 'a directory of that name came earlier in the tar');
    }
    await unlink(path);
    return false;
  };

  const consume = (async () => {
    for await (const entry of extract) {
      const header = entry.header;
      const raw = header.name;
      const name = raw.replace(/^(\.\/)+/, '').replace(/\/+$/, '');
      if (++entries > DIRECTORY_ENTRY_LIMIT) {
        throw new WasmOciError('E_SIZE_LIMIT', `the directory layer ${desc.digest} has more than ${DIRECTORY_ENTRY_LIMIT} entries`);
      }
      const segments = safeRelativeSegments(name);
      if (segments.length < prefixSegments.length || prefixSegments.some((p, i) => segments[i] !== p)) {
        throw unsafe(raw, `it is outside the directory "${options.prefix}" the layer is titled with`);
      }
      const rel = segments.slice(prefixSegments.length);
      const type = header.type ?? 'file';
      const mtime = header.mtime ?? new Date(0);
      if (rel.length === 0) {
        // The entry of the directory itself.
        if (type !== 'directory') throw unsafe(raw, `it is a ${type} where the directory "${options.prefix}" goes`);
        dirs.set('', { rel: '', mode: (header.mode ?? 0o755) & 0o777, mtime });
        entry.resume();
        continue;
      }
      const relName = rel.join('/');
      if (type === 'directory') {
        const parent = await parentOf(rel, raw);
        const path = join(parent, rel[rel.length - 1]!);
        if (!(await clear(path, raw, true))) await mkdir(path, { mode: 0o700 });
        dirs.set(relName, { rel: relName, mode: (header.mode ?? 0o755) & 0o777, mtime });
        entry.resume();
        continue;
      }
      if (type === 'symlink') {
        const target = header.linkname ?? '';
        if (target === '' || posix.isAbsolute(target) || target.includes('\\')) throw unsafe(raw, `it is a symlink to "${target.slice(0, 200)}", an absolute path`);
        // oras-go extractTarDirectory: the target is taken from the entry's own directory and must stay under the prefix.
        const resolved = posix.normalize(posix.join(posix.dirname(relName), target));
        if (resolved === '..' || resolved.startsWith('../')) throw unsafe(raw, `it is a symlink to "${target.slice(0, 200)}", outside the directory`);
        const parent = await parentOf(rel, raw);
        const path = join(parent, rel[rel.length - 1]!);
        await clear(path, raw, false);
        await symlink(target, path);
        links.push(relName);
        await lutimes(path, mtime, mtime).catch(() => undefined);
        entry.resume();
        continue;
      }
      if (type === 'link') throw unsafe(raw, 'it is a hard link; hard links in a directory layer are not unpacked');
      if (type !== 'file' && type !== 'contiguous-file') {
        skipped.push(relName);
        entry.resume();
        continue;
      }
      const parent = await parentOf(rel, raw);
      const path = join(parent, rel[rel.length - 1]!);
      await clear(path, raw, false);
      const handle = await openForEntry(entry, extract, path, (header.mode ?? 0o644) & 0o777);
      await pipeline(entry, handle.createWriteStream());
      await utimes(path, mtime, mtime).catch(() => undefined);
    }
  })();
  await settleTarRead(done, consume, source, extract, desc);
  // Each target was checked on its own; through one another, links could still climb out
  // (`a -> .` then `b -> a/a/../..`). Resolved now, with every link of the tree in place.
  for (const link of links) await checkLinkStaysInside(options.staging, link);
  return { tarDigest: verifyTar.computed!, dirs: [...dirs.values()], entries, skipped };
}

/**
 * Follows `rel` (a symlink inside `root`) segment by segment as the kernel would, through every
 * symlink on the way, and refuses it if any step leaves `root`. Missing components end the walk:
 * nothing more can be followed through them.
 */
async function checkLinkStaysInside(root: string, rel: string): Promise<void> {
  const stack: string[] = [];
  let pending = rel.split('/');
  let hops = 0;
  while (pending.length > 0) {
    const seg = pending.shift()!;
    if (seg === '' || seg === '.') continue;
    if (seg === '..') {
      if (stack.length === 0) throw unsafe(rel, 'following its symlinks leads outside the directory');
      stack.pop();
      continue;
    }
    const path = join(root, ...stack, seg);
    const st = await lstat(path).catch(() => undefined);
    if (st === undefined) return;
    if (!st.isSymbolicLink()) {
      stack.push(seg);
      continue;
    }
    if (++hops > 40) throw unsafe(rel, 'its symlinks loop');
    const target = await readlink(path);
    if (posix.isAbsolute(target)) throw unsafe(rel, 'following its symlinks leads to an absolute path');
    pending = [...target.split('/'), ...pending];
  }
}

/** Modes and times of the unpacked directories, deepest first (a read-only parent set last). */
export async function applyDirectoryMeta(root: string, dirs: readonly DirMeta[], only?: (rel: string) => boolean): Promise<void> {
  const ordered = [...dirs].sort((a, b) => b.rel.split('/').length - a.rel.split('/').length || (a.rel < b.rel ? 1 : -1));
  for (const d of ordered) {
    if (only && !only(d.rel)) continue;
    const path = d.rel === '' ? root : join(root, ...d.rel.split('/'));
    await chmod(path, d.mode).catch(() => undefined);
    await utimes(path, d.mtime, d.mtime).catch(() => undefined);
  }
}

/**
 * Moves an unpacked directory into place at `target`. Nothing there: one rename. A directory
 * there: merged as oras's extraction over an existing directory does (files replaced, others
 * kept), never through a symlink; checked in full before the first move. Returns the relative
 * paths of the directories that did not exist before (the ones whose mode and time are ours to set).
 */
export async function placeDirectory(staging: string, target: string, name: string): Promise<(rel: string) => boolean> {
  const st = await lstat(target).catch(() => undefined);
  if (st === undefined || st.isSymbolicLink()) {
    // A symlink at the target is replaced, never followed (as for files).
    if (st) await unlink(target);
    await rename(staging, target);
    return () => true;
  }
  if (!st.isDirectory()) {
    throw new WasmOciError('E_INVALID_INPUT', `cannot write the directory ${name}: a file of that name is in the output directory`);
  }
  const created = new Set<string>();
  const plan: Array<{ from: string; to: string; rel: string; dir: boolean }> = [];
  const check = async (from: string, to: string, rel: string): Promise<void> => {
    for (const e of await readdir(from, { withFileTypes: true })) {
      const childRel = rel === '' ? e.name : `${rel}/${e.name}`;
      const src = join(from, e.name);
      const dst = join(to, e.name);
      const existing = await lstat(dst).catch(() => undefined);
      if (e.isDirectory()) {
        if (existing === undefined) {
          plan.push({ from: src, to: dst, rel: childRel, dir: true });
          continue;
        }
        if (existing.isSymbolicLink()) throw unsafe(`${name}/${childRel}`, 'a symlink of that name is in the output directory; nothing is written through one');
        if (!existing.isDirectory()) throw new WasmOciError('E_INVALID_INPUT', `cannot write ${name}/${childRel}: a file of that name is in the output directory`);
        await check(src, dst, childRel);
        continue;
      }
      if (existing?.isDirectory()) throw new WasmOciError('E_INVALID_INPUT', `cannot write ${name}/${childRel}: a directory of that name is in the output directory`);
      plan.push({ from: src, to: dst, rel: childRel, dir: false });
    }
  };
  await check(staging, target, '');
  for (const p of plan) {
    await rename(p.from, p.to);
    if (p.dir) created.add(p.rel);
  }
  await rm(staging, { recursive: true, force: true });
  return (rel) => [...created].some((c) => rel === c || rel.startsWith(`${c}/`));
}
