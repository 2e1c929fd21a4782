import { open, rm, stat } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { WasmOciError } from '../errors.js';

export interface FileLockOptions {
  /** Give up waiting after this long. */
  timeoutMs?: number;
  /** A lock older than this is left over by a crashed process and is taken over. */
  staleMs?: number;
}

/**
 * Runs `fn` while holding `<target>.lock`, created with O_EXCL so that two processes (two
 * `login`s at once) serialise their read-modify-write of config.json instead of losing one
 * another's entries. The lock only covers the file update, never a helper or keychain call,
 * so it is held for milliseconds; a lock file older than `staleMs` is considered abandoned.
 */
export async function withFileLock<T>(target: string, fn: () => Promise<T>, options: FileLockOptions = {}): Promise<T> {
  const lockPath = `${target}.lock`;
  const timeoutMs = options.timeoutMs ?? 10_000;
  const staleMs = options.staleMs ?? 30_000;
  const deadline = Date.now() + timeoutMs;
  let delay = 5;
  for (;;) {
    try {
      const fh = await open(lockPath, 'wx', 0o600);
      try {
        await fh.writeFile(`${process.pid}\n`);
      } finally {
        await fh.close();
      }
      break;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'EEXIST') {
        throw new WasmOciError('E_CREDENTIALS', `cannot create lock file ${lockPath}: ${code ?? String(err)}`, { cause: err });
      }
      try {
        const st = await stat(lockPath);
        if (Date.now() - st.mtimeMs > staleMs) {
          await rm(lockPath, { force: true });
          continue;
        }
      } catch {
        continue; // released between our open and stat
      }
      if (Date.now() > deadline) {
        throw new WasmOciError('E_CREDENTIALS', `timed out waiting for ${lockPath}`, {
          hint: `another wasm-oci process is updating the file; if none is running, delete ${lockPath}`,
        });
      }
      await sleep(delay + Math.floor(Math.random() * delay));
      delay = Math.min(delay * 2, 100);
    }
  }
  try {
    return await fn();
  } finally {
    await rm(lockPath, { force: true });
  }
}
