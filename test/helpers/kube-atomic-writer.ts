import { chmod, lstat, mkdtemp, readFile, readdir, readlink, rename, rm, symlink, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Projects `payload` (key -> content) into `targetDir` the way kubelet updates a ConfigMap or
 * Secret volume, step for step as kubernetes/kubernetes pkg/volume/util/atomic_writer.go,
 * AtomicWriter.Write, does it (the current order, where the visible links come after the swap):
 *
 *   (2) read the `..data` link to find the current timestamped directory;
 *   (3) list its entries that the new payload no longer has;
 *   (4) compare: nothing changed and nothing removed means nothing is written;
 *   (5) a new `..YYYY_MM_DD_HH_MM_SS.<random>` directory (UTC, newTimestampDir), mode 0755;
 *   (6) every key written into it as a regular file with the volume's mode (0644 by default);
 *   (8) a `..data_tmp` symlink to the new directory's base name;
 *   (9) `..data_tmp` renamed over `..data` (the one atomic step);
 *  (10) `KEY -> ..data/KEY` symlinks for keys that have none yet (createUserVisibleFiles);
 *  (11) the links of removed keys deleted; (12) the old timestamped directory removed.
 *
 * Only flat keys, as a ConfigMap's or a Secret's are. Written for the tests; none of kubelet's code.
 * Resolves to the new timestamped directory's name, or undefined when nothing was written.
 */
export async function atomicWriterProject(targetDir: string, payload: Record<string, string | Buffer>, mode = 0o644): Promise<string | undefined> {
  for (const key of Object.keys(payload)) {
    if (key === '' || key.includes('/') || key === '..' || (key.startsWith('..') && key.length > 2)) throw new Error(`invalid key ${key}`);
  }
  const dataDir = join(targetDir, '..data');
  // (2)
  const oldTs = await readlink(dataDir).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return '';
    throw err;
  });
  let toRemove: string[] = [];
  if (oldTs !== '') {
    const oldPath = join(targetDir, oldTs);
    // (3)
    toRemove = (await readdir(oldPath)).filter((n) => !(n in payload));
    // (4)
    let changed = false;
    for (const [key, content] of Object.entries(payload)) {
      const old = await readFile(join(oldPath, key)).catch(() => undefined);
      if (old === undefined || !old.equals(Buffer.from(content))) changed = true;
    }
    if (!changed && toRemove.length === 0) return undefined;
  }
  // (5)
  const stamp = new Date().toISOString().replace(/\.\d+Z$/, '').replace(/[-T:]/g, '_');
  const tsDir = await mkdtemp(join(targetDir, `..${stamp}.`));
  await chmod(tsDir, 0o755);
  const tsName = tsDir.slice(targetDir.length + 1);
  // (6)
  for (const [key, content] of Object.entries(payload)) {
    await writeFile(join(tsDir, key), content, { mode });
    await chmod(join(tsDir, key), mode);
  }
  // (8), (9)
  const tmpLink = join(targetDir, '..data_tmp');
  await symlink(tsName, tmpLink);
  await rename(tmpLink, dataDir);
  // (10)
  for (const key of Object.keys(payload)) {
    const visible = join(targetDir, key);
    const exists = await lstat(visible).then(() => true, () => false);
    if (!exists) await symlink(join('..data', key), visible);
  }
  // (11)
  for (const key of toRemove) await unlink(join(targetDir, key));
  // (12)
  if (oldTs !== '') await rm(join(targetDir, oldTs), { recursive: true, force: true });
  return tsName;
}
