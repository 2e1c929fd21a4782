import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';
import { startDistribution } from '../helpers/distribution.js';
import { examplesDir } from '../helpers/paths.js';
import { makeTempDir } from '../helpers/tmp.js';
import { ERROR_CODES } from '../../src/errors.js';

// Issue 11: commands that tell the truth. Each case failed on the main of 2026-12-02.
const filter = join(examplesDir, 'example-filter.wasm');
const usage = ERROR_CODES.E_USAGE.exitCode;

test('push refuses a reference that carries a digest, and sends nothing', async (t) => {
  const reg = await startDistribution({ mode: 'plain', t });
  const before = reg.requests().length;
  const r = await runCli(['push', '--plain-http', `${reg.host}/t/a:v1@sha256:${'0'.repeat(64)}`, filter]);
  assert.equal(r.code, usage, r.stderr);
  assert.match(r.stderr, /names a digest/);
  assert.equal(reg.requests().slice(before).filter((q) => q.method !== 'GET' || q.path !== '/v2/').length, 0, 'nothing was uploaded');
  const tags = await runCli(['repo', 'tags', '--plain-http', `${reg.host}/t/a`]);
  assert.notEqual(tags.code, 0, 'the repository does not exist afterwards');
});

test('a bad tag anywhere in the list fails before any tag is set', async (t) => {
  const dir = await makeTempDir(t);
  const layout = join(dir, 'l');
  const r = await runCli(['push', '--oci-layout', `${layout}:v0.1,-bad`, filter]);
  assert.equal(r.code, ERROR_CODES.E_REFERENCE.exitCode, r.stderr);
  assert.match(r.stderr, /tag "-bad" is invalid/);
  const pulled = await runCli(['pull', '--oci-layout', `${layout}:v0.1`, '-o', join(dir, 'out')]);
  assert.notEqual(pulled.code, 0, 'v0.1 was not tagged');
});

test('manifest delete -f of a missing manifest exits 0 saying Missing, as oras does; without -f it is not found', async (t) => {
  const reg = await startDistribution({ mode: 'plain', t });
  const pushed = await runCli(['push', '--plain-http', `${reg.host}/t/a:v1`, filter]);
  assert.equal(pushed.code, 0, pushed.stderr);
  const gone = `${reg.host}/t/a@sha256:${'1'.repeat(64)}`;
  const forced = await runCli(['manifest', 'delete', '-f', '--plain-http', gone]);
  assert.equal(forced.code, 0, forced.stderr);
  assert.match(forced.stdout, /^Missing /m);
  const plain = await runCli(['manifest', 'delete', '--plain-http', gone]);
  assert.equal(plain.code, ERROR_CODES.E_NOT_FOUND.exitCode, plain.stderr);
});
