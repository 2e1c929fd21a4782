import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { binPath, examplesDir } from '../helpers/paths.js';
import { makeTempDir } from '../helpers/tmp.js';

const run = promisify(execFile);
const filter = join(examplesDir, 'example-filter.wasm');

async function setup(t: Parameters<typeof makeTempDir>[0]) {
  const dir = await makeTempDir(t);
  const home = join(dir, 'home');
  const tmp = join(dir, 'tmp');
  await mkdir(home);
  await mkdir(tmp);
  return { home, tmp, cacheRoot: join(home, '.cache', 'wasm-oci', 'compile-cache'), env: { PATH: process.env.PATH ?? '', HOME: home, TMPDIR: tmp } };
}

const v8caches = async (dir: string) => (await readdir(dir).catch(() => [] as string[])).filter((n) => n.endsWith('.v8cache'));

// Start-up (issue 14): the launcher compiles the CommonJS bundle with V8's code cache, kept under
// the user's cache directory, on every Node version (vm.Script cachedData); never in TMPDIR,
// which a command must leave empty.
test('the launcher keeps one V8 code cache for the bundle in ~/.cache/wasm-oci, reuses it, and writes nothing to TMPDIR', async (t) => {
  const { tmp, cacheRoot, env } = await setup(t);
  const first = await run(process.execPath, [binPath, 'inspect', filter], { env });
  assert.match(first.stdout, /core module/);
  const caches = await v8caches(cacheRoot);
  assert.equal(caches.length, 1, `one cache for Node ${process.version}: ${caches.join(', ')}`);
  assert.ok(caches[0]!.startsWith(`main-${process.version}-`), caches[0]);
  const path = join(cacheRoot, caches[0]!);
  const before = await stat(path);
  assert.ok(before.size > 10_000, `a real cache, ${before.size} bytes`);
  const second = await run(process.execPath, [binPath, 'inspect', filter], { env });
  assert.equal(second.stdout, first.stdout, 'the same output with the cache');
  assert.equal((await stat(path)).mtimeMs, before.mtimeMs, 'an accepted cache is not rewritten');
  assert.deepEqual(await v8caches(cacheRoot), caches);
  assert.deepEqual(await readdir(tmp), [], 'nothing in TMPDIR');
});

test('a corrupt code cache is ignored and replaced; the command still works', async (t) => {
  const { cacheRoot, env } = await setup(t);
  const clean = await run(process.execPath, [binPath, 'inspect', '--format', 'json', filter], { env });
  const [name] = await v8caches(cacheRoot);
  assert.ok(name);
  const garbage = Buffer.alloc(4096, 0x5a);
  await writeFile(join(cacheRoot, name), garbage);
  const again = await run(process.execPath, [binPath, 'inspect', '--format', 'json', filter], { env });
  assert.equal(again.stdout, clean.stdout);
  const now = await readFile(join(cacheRoot, name));
  assert.notDeepEqual(now, garbage, 'the rejected cache was rewritten');
  assert.ok(now.length > 10_000);
});

test('NODE_DISABLE_COMPILE_CACHE: no cache written, and NODE_COMPILE_CACHE picks the directory', async (t) => {
  const { home, cacheRoot, env } = await setup(t);
  await run(process.execPath, [binPath, 'inspect', filter], { env: { ...env, NODE_DISABLE_COMPILE_CACHE: '1' } });
  assert.deepEqual(await readdir(cacheRoot).catch(() => []), []);
  const elsewhere = join(home, 'elsewhere');
  await run(process.execPath, [binPath, 'inspect', filter], { env: { ...env, NODE_COMPILE_CACHE: elsewhere } });
  assert.equal((await v8caches(elsewhere)).length, 1);
  assert.deepEqual(await readdir(cacheRoot).catch(() => []), []);
});

test('a cache directory that cannot be written is no cache, not an error', async (t) => {
  const { home, env } = await setup(t);
  // A file where the directory should be: mkdir fails, the command does not.
  await writeFile(join(home, 'not-a-dir'), 'x');
  const { stdout, stderr } = await run(process.execPath, [binPath, 'inspect', filter], { env: { ...env, NODE_COMPILE_CACHE: join(home, 'not-a-dir', 'cache') } });
  assert.match(stdout, /core module/);
  assert.equal(stderr, '');
});

test('one cache per command, none for a command that failed', async (t) => {
  const { cacheRoot, env } = await setup(t);
  const failed = await run(process.execPath, [binPath, 'inspect', join(examplesDir, 'no-such-file.wasm')], { env }).catch((e: { code: number }) => e);
  assert.notEqual((failed as { code: number }).code, 0);
  assert.deepEqual(await v8caches(cacheRoot), [], 'a failed command writes no cache');
  await run(process.execPath, [binPath, 'inspect', filter], { env });
  await run(process.execPath, [binPath, '--format', 'json', 'version'], { env });
  const names = (await v8caches(cacheRoot)).sort();
  assert.equal(names.length, 2, names.join(', '));
  assert.match(names[0]!, /-inspect\.v8cache$/);
  assert.match(names[1]!, /-version\.v8cache$/);
});
