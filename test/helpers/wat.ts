import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { promisify } from 'node:util';
import { fixturesDir } from './paths.js';

const run = promisify(execFile);

export const wasmFixturesDir = join(fixturesDir, 'wasm');

export interface BuildWatOptions {
  /** Pass --debug-names, which adds a `name` custom section. */
  debugNames?: boolean;
}

/**
 * Builds a WAT source with wat2wasm (Debian package wabt) and returns the module bytes.
 * `name` is a fixture under test/fixtures/wasm (with or without `.wat`) or an absolute path.
 */
export async function buildWat(name: string, options: BuildWatOptions = {}): Promise<Uint8Array> {
  const source = isAbsolute(name) ? name : join(wasmFixturesDir, name.endsWith('.wat') ? name : `${name}.wat`);
  const dir = await mkdtemp(join(tmpdir(), 'wasm-oci-wat-'));
  try {
    const out = join(dir, 'out.wasm');
    const args = [source, '-o', out];
    if (options.debugNames) args.push('--debug-names');
    await run('wat2wasm', args);
    return new Uint8Array(await readFile(out));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
