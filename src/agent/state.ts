import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { WasmOciError } from '../errors.js';
import { isSafeName } from './config.js';
import { writeAtomically } from './write.js';

/** In the output directory, hidden: the record of which files the agent wrote there. */
export const STATE_FILE_NAME = '.wasm-oci-agent-state.json';

/** One file the agent wrote. */
export interface StateEntry {
  /** Base name in the output directory (`NAME.wasm`). */
  file: string;
  image: string;
  /** The manifest the file came from: what a tag resolving to the same digest needs no fetch for. */
  manifestDigest: string;
  /** sha256 of the file's bytes (the module layer's digest, or of the module unpacked from a tar). */
  digest: string;
  size: number;
  ino: number;
  mtimeMs: number;
  writtenAt: string;
  /**
   * Found at the filter's name with exactly the module's bytes, so taken as in place instead of
   * fetched: the agent did not write it, so it never removes it. Cleared once the agent writes the
   * file itself (a new digest).
   */
  adopted?: boolean;
}

export interface AgentState {
  version: 1;
  /** By filter name. */
  files: Record<string, StateEntry>;
}

export function emptyState(): AgentState {
  return { version: 1, files: {} };
}

function isEntry(v: unknown): v is StateEntry {
  if (typeof v !== 'object' || v === null) return false;
  const e = v as Record<string, unknown>;
  return typeof e.file === 'string' && isSafeName(e.file) && typeof e.manifestDigest === 'string' && typeof e.digest === 'string'
    && typeof e.size === 'number' && typeof e.ino === 'number' && typeof e.mtimeMs === 'number';
}

/**
 * Reads the state file. A missing one is an empty state; an unreadable or malformed one is
 * reported through `onWarning` and read as empty: the agent then adopts only files whose bytes
 * are exactly what it would write, and removes nothing it cannot prove it wrote.
 */
export async function readState(dir: string, onWarning?: (m: string) => void): Promise<AgentState> {
  let text: string;
  try {
    text = await readFile(join(dir, STATE_FILE_NAME), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return emptyState();
    onWarning?.(`cannot read the state file ${join(dir, STATE_FILE_NAME)}: ${(err as Error).message}`);
    return emptyState();
  }
  try {
    const doc = JSON.parse(text) as { version?: unknown; files?: unknown };
    if (doc.version !== 1 || typeof doc.files !== 'object' || doc.files === null) throw new Error('not a version 1 state');
    const files: Record<string, StateEntry> = {};
    for (const [name, entry] of Object.entries(doc.files as Record<string, unknown>)) {
      if (isSafeName(name) && isEntry(entry)) files[name] = entry;
    }
    return { version: 1, files };
  } catch (err) {
    onWarning?.(`the state file ${join(dir, STATE_FILE_NAME)} is malformed (${(err as Error).message}); starting from an empty state`);
    return emptyState();
  }
}

/** Writes the state file as every other file here is written: temp, fsync, rename, fsync the directory. */
export async function writeState(dir: string, state: AgentState): Promise<void> {
  const body = Buffer.from(`${JSON.stringify(state, null, 2)}\n`);
  await writeAtomically({
    dir,
    fileName: STATE_FILE_NAME,
    fill: async (tempPath) => {
      const h = await open(tempPath, 'wx', 0o644);
      try {
        await h.writeFile(body);
      } finally {
        await h.close();
      }
      return { digest: '', size: body.length };
    },
  });
}

/** How the file recorded for a filter looks now. */
export type FileCheck = 'intact' | 'missing' | 'changed';

/**
 * Whether the recorded file is still the one written: same inode, size and mtime is taken as
 * unchanged (a stat per interval, not a hash); anything else is hashed, so a touched but equal
 * file is kept and an edited one is rewritten.
 */
export async function checkRecordedFile(dir: string, entry: StateEntry): Promise<FileCheck> {
  const path = join(dir, entry.file);
  let st;
  try {
    st = await stat(path);
  } catch {
    return 'missing';
  }
  if (!st.isFile()) return 'changed';
  if (st.ino === entry.ino && st.size === entry.size && st.mtimeMs === entry.mtimeMs) return 'intact';
  if (st.size !== entry.size) return 'changed';
  return (await hashFile(path)) === entry.digest ? 'intact' : 'changed';
}

export async function hashFile(path: string): Promise<string | undefined> {
  const hash = createHash('sha256');
  try {
    for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  } catch {
    return undefined;
  }
  return `sha256:${hash.digest('hex')}`;
}

/**
 * Removes a file the agent recorded writing, only while it is still that file: the same inode
 * with the bytes written (checkRecordedFile). A file someone else put at the name since (another
 * inode), one edited in place, or one the agent only adopted is left alone. Resolves to what
 * happened.
 */
export async function removeRecordedFile(dir: string, entry: StateEntry): Promise<'removed' | 'gone' | 'foreign' | 'changed' | 'adopted'> {
  if (!isSafeName(entry.file)) throw new WasmOciError('E_INTERNAL', `unsafe file name in the state: ${entry.file}`);
  const path = join(dir, entry.file);
  let st;
  try {
    st = await stat(path);
  } catch {
    return 'gone';
  }
  if (entry.adopted) return 'adopted';
  if (st.ino !== entry.ino) return 'foreign';
  if ((await checkRecordedFile(dir, entry)) !== 'intact') return 'changed';
  await rm(path, { force: true });
  return 'removed';
}
