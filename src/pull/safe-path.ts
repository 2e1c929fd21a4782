import { lstat, mkdir, realpath } from 'node:fs/promises';
import { join, sep } from 'node:path';
import { fromFsError, WasmOciError } from '../errors.js';

/**
 * Path checks for names that come from an artifact (layer titles, tar entries): untrusted input
 * that must never place a file outside the output directory (DESIGN.md section 7; the oras-go
 * and go-containerregistry path traversal advisories).
 */

function unsafe(name: string, why: string): WasmOciError {
  return new WasmOciError('E_UNSAFE_PATH', `refused to write "${printable(name)}": ${why}`, {
    details: { name: printable(name) },
    hint: 'The artifact names a file outside the output directory; nothing was written.',
  });
}

function printable(name: string): string {
  return name.replace(/[\x00-\x1f\x7f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`).slice(0, 200);
}

/**
 * Splits a relative name into its segments, refusing: empty names, absolute paths (`/x`, `\x`,
 * `C:x`, `C:\x`, `//host/share`), backslashes (a separator on Windows), `..` segments anywhere,
 * empty or `.` segments, NUL and other control characters. The rule is deliberately stricter
 * than "stays inside after normalisation": a name we would have to rewrite is refused.
 */
export function safeRelativeSegments(name: string): string[] {
  if (name === '') throw unsafe(name, 'the name is empty');
  if (/[\x00-\x1f\x7f]/.test(name)) throw unsafe(name, 'it contains control characters');
  if (name.includes('\\')) throw unsafe(name, 'it contains a backslash (a path separator on Windows)');
  if (name.startsWith('/')) throw unsafe(name, 'it is an absolute path');
  if (/^[A-Za-z]:/.test(name)) throw unsafe(name, 'it starts with a Windows drive letter');
  const segments = name.split('/');
  for (const s of segments) {
    if (s === '..') throw unsafe(name, 'it contains a ".." segment');
    if (s === '' || s === '.') throw unsafe(name, 'it contains an empty or "." segment');
  }
  return segments;
}

export function isInside(root: string, candidate: string): boolean {
  return candidate === root || candidate.startsWith(root.endsWith(sep) ? root : root + sep);
}

/** Creates `dir` if needed and returns its real path, resolved once: every write is checked against it. */
export async function resolveOutputRoot(dir: string): Promise<string> {
  try {
    await mkdir(dir, { recursive: true });
    return await realpath(dir);
  } catch (err) {
    // A recursive mkdir reports ENOENT where a plain one says EROFS or EACCES: ask the plain one.
    const cause = (err as NodeJS.ErrnoException).code === 'ENOENT' ? await mkdir(dir).then(() => err, (plain: unknown) => plain) : err;
    const typed = fromFsError(cause, `cannot use output directory ${dir}`);
    if (typed instanceof WasmOciError) throw typed;
    throw new WasmOciError('E_INVALID_INPUT', `cannot use output directory ${dir}: ${(cause as Error).message}`, { cause });
  }
}

/**
 * Creates the parent directories of `segments` under `root` one at a time, never through a
 * symlink that leaves `root`, and returns the real path of the parent. The file itself is then
 * written as a temp file in that parent and renamed over the target, so a symlink planted at
 * the target path is replaced, never followed.
 */
export async function prepareParent(root: string, segments: readonly string[]): Promise<string> {
  const name = segments.join('/');
  let current = root;
  for (const segment of segments.slice(0, -1)) {
    const next = join(current, segment);
    let st = await lstat(next).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return undefined;
      throw err;
    });
    if (st === undefined) {
      await mkdir(next).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'EEXIST') throw err;
      });
      st = await lstat(next);
    }
    if (st.isSymbolicLink()) {
      const real = await realpath(next).catch(() => undefined);
      if (real === undefined || !isInside(root, real)) throw unsafe(name, `"${segment}" is a symlink that leads outside the output directory`);
      current = real;
      st = await lstat(real);
    } else {
      current = next;
    }
    if (!st.isDirectory()) throw unsafe(name, `"${segment}" exists and is not a directory`);
  }
  const real = await realpath(current);
  if (!isInside(root, real)) throw unsafe(name, 'its directory resolves outside the output directory');
  return real;
}
