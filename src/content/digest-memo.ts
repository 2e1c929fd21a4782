import { createHash } from 'node:crypto';
import { mkdir, readFile, realpath, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * What a big file's digest was when it was last hashed, so that a second push of the same,
 * unchanged file can ask the registry first (HEAD) instead of sending it again: a file of 64 MiB
 * and more is hashed while it is uploaded (src/operations/push.ts), so without a memo its digest
 * is not known before the upload.
 *
 * An entry is trusted only while the file's device, inode, size, mtime and ctime (nanoseconds)
 * are those recorded; ctime cannot be set back by a user (utimes moves it to now). As git does
 * for its index ("racy git", Documentation/technical/racy-git.txt), an entry is recorded only when
 * the file's last change is at least RACY_MS older than the moment of recording: a write within
 * the file system's timestamp granularity could otherwise keep every stamp the same.
 * A wrong digest could still only cost a refused upload: a registry verifies what it stores.
 */
export interface FileDigestMemo {
  lookup(path: string): Promise<{ digest: string; size: number } | undefined>;
  /** `before` is the file's stat taken before it was read for hashing; nothing is recorded if it changed since. */
  remember(path: string, before: FileStamp, digest: string): Promise<void>;
}

export interface FileStamp {
  dev: string;
  ino: string;
  size: string;
  mtimeNs: string;
  ctimeNs: string;
}

const RACY_MS = 2000;

export async function fileStamp(path: string): Promise<FileStamp> {
  const s = await stat(path, { bigint: true });
  return { dev: String(s.dev), ino: String(s.ino), size: String(s.size), mtimeNs: String(s.mtimeNs), ctimeNs: String(s.ctimeNs) };
}

const sameStamp = (a: FileStamp, b: FileStamp): boolean =>
  a.dev === b.dev && a.ino === b.ino && a.size === b.size && a.mtimeNs === b.mtimeNs && a.ctimeNs === b.ctimeNs;

export function createFileDigestMemo(dir: string, now: () => number = Date.now): FileDigestMemo {
  const entryPath = async (path: string): Promise<string> => {
    const real = await realpath(path);
    return join(dir, `${createHash('sha256').update(real).digest('hex')}.json`);
  };
  return {
    async lookup(path) {
      try {
        const entry = JSON.parse(await readFile(await entryPath(path), 'utf8')) as { stamp: FileStamp; digest: string };
        if (!sameStamp(entry.stamp, await fileStamp(path)) || !/^sha256:[0-9a-f]{64}$/.test(entry.digest)) return undefined;
        return { digest: entry.digest, size: Number(entry.stamp.size) };
      } catch {
        return undefined;
      }
    },
    async remember(path, before, digest) {
      try {
        const after = await fileStamp(path);
        if (!sameStamp(before, after)) return;
        const changedMs = Number(BigInt(after.ctimeNs > after.mtimeNs ? after.ctimeNs : after.mtimeNs) / 1_000_000n);
        if (now() - changedMs < RACY_MS) return;
        await mkdir(dir, { recursive: true, mode: 0o700 });
        const target = await entryPath(path);
        const temp = `${target}.${process.pid}.${Date.now()}.tmp`;
        await writeFile(temp, JSON.stringify({ stamp: after, digest }), { mode: 0o600 });
        await rename(temp, target).catch(async (err: unknown) => {
          await unlink(temp).catch(() => undefined);
          throw err;
        });
      } catch {
        /* a memo that cannot be written only means the next push uploads again */
      }
    },
  };
}
