import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes, createHash } from 'node:crypto';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startDistribution } from '../helpers/distribution.js';
import { isBlobGet, startFaultProxy } from '../helpers/fault-proxy.js';
import { runCli, TEMP_NAME } from '../helpers/cli.js';
import { binPath } from '../helpers/paths.js';
import { makeTempDir } from '../helpers/tmp.js';
import { ERROR_CODES } from '../../src/errors.js';

// Ctrl-C in the middle of a pull: the command stops at once, exits 130, and leaves nothing behind,
// not even the verified temp file of a layer that had finished before the interruption.
test('SIGINT during a pull exits 130 promptly and leaves no file in the output directory', async (t) => {
  const reg = await startDistribution({ mode: 'plain', t });
  const dir = await makeTempDir(t);
  const a = randomBytes(1024 * 1024);
  const b = randomBytes(1024 * 1024);
  await writeFile(join(dir, 'a.bin'), a);
  await writeFile(join(dir, 'b.bin'), b);
  const pushed = await runCli(['push', '--plain-http', `${reg.host}/cancel:v1`, 'a.bin:application/octet-stream', 'b.bin:application/octet-stream'], { cwd: dir });
  assert.equal(pushed.code, 0, pushed.stderr);

  const proxy = await startFaultProxy({ upstream: reg.url });
  t.after(() => proxy.close());
  const bDigest = `sha256:${createHash('sha256').update(b).digest('hex')}`;
  proxy.addFault({ match: (r) => isBlobGet(r) && r.path.includes(bDigest), fault: { kind: 'stall', ms: 20_000 } });

  const out = join(dir, 'out');
  await mkdir(out);
  // TMPDIR inside the test's sandbox, so a temp file left anywhere the process writes is seen.
  const tmp = join(dir, 'tmp');
  await mkdir(tmp);
  const started = Date.now();
  const child = spawn(process.execPath, [binPath, 'pull', '--plain-http', '--concurrency', '1', `${proxy.host}/cancel:v1`, '-o', out], {
    env: { PATH: process.env.PATH ?? '', HOME: dir, TMPDIR: tmp },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  // Wait until the stalled request is in flight (layer a is then done), then interrupt.
  while (!proxy.requests.some((r) => isBlobGet(r) && r.path.includes(bDigest))) {
    assert.ok(Date.now() - started < 15_000, 'the pull never reached the second layer');
    await new Promise((r) => setTimeout(r, 50));
  }
  child.kill('SIGINT');
  const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
  assert.equal(code, ERROR_CODES.E_CANCELLED.exitCode, stderr);
  assert.match(stderr, /cancelled/);
  assert.ok(Date.now() - started < 15_000, 'cancelled without waiting for the stalled request');
  assert.deepEqual(await readdir(out), [], 'no file, no partial or temp file');
  assert.deepEqual(await readdir(tmp), [], 'nothing left in TMPDIR');
  assert.deepEqual((await readdir(dir)).filter((n) => TEMP_NAME.test(n)), [], 'no temp file beside the output directory');
});
