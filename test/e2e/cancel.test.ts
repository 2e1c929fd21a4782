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

// Ctrl-C in the middle of a push: the upload session the registry opened is cancelled with the
// DELETE the distribution spec allows, so the registry keeps no half-uploaded blob (issue 11).
test('SIGINT during a push exits 130 and cancels the registry\'s upload session (DELETE; the session is gone)', async (t) => {
  const reg = await startDistribution({ mode: 'plain', t });
  const dir = await makeTempDir(t);
  await writeFile(join(dir, 'big.bin'), randomBytes(4 * 1024 * 1024));
  const proxy = await startFaultProxy({ upstream: reg.url });
  t.after(() => proxy.close());
  const isUploadPut = (r: { method: string; path: string }) => r.method === 'PUT' && r.path.includes('/blobs/uploads/');
  proxy.addFault({ match: isUploadPut, fault: { kind: 'stall', ms: 20_000 } });
  const tmp = join(dir, 'tmp');
  await mkdir(tmp);
  const started = Date.now();
  const child = spawn(process.execPath, [binPath, 'push', '--plain-http', `${proxy.host}/cancelpush:v1`, 'big.bin:application/octet-stream'], {
    cwd: dir,
    env: { PATH: process.env.PATH ?? '', HOME: dir, TMPDIR: tmp },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  while (!proxy.requests.some(isUploadPut)) {
    assert.ok(Date.now() - started < 15_000, 'the push never started its upload');
    await new Promise((r) => setTimeout(r, 50));
  }
  const uploads = join(reg.dataDir, 'storage', 'docker', 'registry', 'v2', 'repositories', 'cancelpush', '_uploads');
  assert.ok((await readdir(uploads)).length >= 1, 'the registry holds the open sessions (the blob and the config upload at once)');
  child.kill('SIGINT');
  const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
  assert.equal(code, ERROR_CODES.E_CANCELLED.exitCode, stderr);
  assert.ok(Date.now() - started < 15_000, 'cancelled without waiting for the stalled request');
  assert.ok(proxy.requests.some((r) => r.method === 'DELETE' && r.path.includes('/blobs/uploads/')), 'a DELETE of the session was sent');
  // The spec's upload status request: a cancelled session is unknown (404), a live one answers 204.
  const sessions = proxy.requests.filter(isUploadPut).map((r) => r.url);
  for (const url of sessions) {
    const status = await fetch(`${reg.url}${url}`);
    assert.equal(status.status, 404, `the session ${url.split('?')[0]} is still open`);
  }
  const left = (await readdir(uploads, { recursive: true })).filter((p) => /(^|\/)(data|startedat)$/.test(p));
  assert.deepEqual(left, [], 'no upload data left on the registry');
  assert.deepEqual(await readdir(tmp), [], 'nothing left in TMPDIR');
});
