import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, readdir } from 'node:fs/promises';
import module from 'node:module';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { binPath, examplesDir } from '../helpers/paths.js';
import { makeTempDir } from '../helpers/tmp.js';

const run = promisify(execFile);

// Start-up (issue 14): where Node has module.enableCompileCache (22.1+), the launcher keeps V8's
// code cache for the bundle under the user's cache directory, so the second run skips compiling;
// never in TMPDIR, which a command must leave empty. Node 20 has no such API: nothing is written.
test('the launcher keeps V8\'s code cache in ~/.cache/wasm-oci where Node can, and writes nothing to TMPDIR', async (t) => {
  const dir = await makeTempDir(t);
  const home = join(dir, 'home');
  const tmp = join(dir, 'tmp');
  await mkdir(home);
  await mkdir(tmp);
  const env = { PATH: process.env.PATH ?? '', HOME: home, TMPDIR: tmp };
  for (let i = 0; i < 2; i++) {
    const { stdout } = await run(process.execPath, [binPath, 'inspect', join(examplesDir, 'example-filter.wasm')], { env });
    assert.match(stdout, /core module/);
  }
  assert.deepEqual(await readdir(tmp), [], 'nothing in TMPDIR');
  const cacheRoot = join(home, '.cache', 'wasm-oci', 'compile-cache');
  const supported = typeof (module as { enableCompileCache?: unknown }).enableCompileCache === 'function';
  const entries = await readdir(cacheRoot, { recursive: true }).catch(() => []);
  if (supported) assert.ok(entries.length > 1, `Node ${process.version}: a code cache under ${cacheRoot}`);
  else assert.deepEqual(entries, [], `Node ${process.version} has no compile cache: nothing written`);
});
