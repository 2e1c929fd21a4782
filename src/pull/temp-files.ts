import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * The temp files of one extraction: `.name.partial-xxxx` next to their target, registered before
 * they are created so a failure anywhere removes every one of them.
 */
export class TempFiles {
  private readonly paths = new Set<string>();

  /** A fresh temp path in `dir` for the final base name `base`. */
  create(dir: string, base: string): string {
    const path = join(dir, `.${base}.partial-${randomBytes(6).toString('hex')}`);
    this.paths.add(path);
    return path;
  }

  /** The file was renamed into place: it is no longer ours to remove. */
  release(path: string): void {
    this.paths.delete(path);
  }

  async removeAll(): Promise<void> {
    const all = [...this.paths];
    this.paths.clear();
    // Recursive: a directory layer is unpacked into a temp directory of this kind.
    await Promise.all(all.map((p) => rm(p, { recursive: true, force: true }).catch(() => undefined)));
  }
}
