import { mkdtemp, rm } from 'node:fs/promises';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The part of node:test's TestContext (or a suite hook context) that cleanup needs. */
export interface CleanupContext {
  after(fn: () => unknown): void;
}

/** A fresh temp dir, removed (recursively) when the test `t` ends, whether it passed or not. */
export async function makeTempDir(t: CleanupContext, prefix = 'wasm-oci-test-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** Same as makeTempDir, for callers that manage the lifetime themselves. */
export async function makeTempDirUnscoped(prefix = 'wasm-oci-test-'): Promise<{ path: string; cleanup(): Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), prefix));
  return { path, cleanup: () => rm(path, { recursive: true, force: true }) };
}

/** Synchronous variant, for process-exit hooks and setup code that cannot await. */
export function makeTempDirSync(prefix = 'wasm-oci-test-'): { path: string; cleanup(): void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, cleanup: () => rmSync(path, { recursive: true, force: true }) };
}

/**
 * A fresh temp dir holding copies of `files`, made the working directory for the rest of the test
 * (oras-style push titles layers with paths as typed, so those tests run where the files are).
 */
export async function workInTempDir(t: CleanupContext, files: readonly string[]): Promise<string> {
  const { copyFile } = await import('node:fs/promises');
  const { basename } = await import('node:path');
  const dir = await makeTempDir(t);
  for (const f of files) await copyFile(f, join(dir, basename(f)));
  const cwd = process.cwd();
  process.chdir(dir);
  t.after(() => process.chdir(cwd));
  return dir;
}
