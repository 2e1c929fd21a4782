import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runCli, type CliResult } from '../helpers/cli.js';
import { startDistribution } from '../helpers/distribution.js';
import { examplesDir } from '../helpers/paths.js';
import { makeTempDir } from '../helpers/tmp.js';
import { ERROR_CODES } from '../../src/errors.js';

// Issue 11, "Commands that tell the truth": each command says what really happened, against a
// real Distribution.

const FILTER = join(examplesDir, 'example-filter.wasm');
const USAGE_EXIT = ERROR_CODES.E_USAGE.exitCode;

function ok(r: CliResult, what: string): CliResult {
  assert.equal(r.code, 0, `${what} failed (${r.code}): ${r.stderr}`);
  return r;
}

function dockerConfig(host: string, username: string, password: string): string {
  return JSON.stringify({ auths: { [host]: { auth: Buffer.from(`${username}:${password}`).toString('base64') } } });
}

test('item 9: --registry-config takes one path per use, is repeatable, and leaves the reference positional', async (t) => {
  const reg = await startDistribution({ mode: 'plain-htpasswd', t });
  const dir = await makeTempDir(t);
  const empty = join(dir, 'empty.json');
  const withAuth = join(dir, 'auth.json');
  await writeFile(empty, JSON.stringify({ auths: {} }));
  await writeFile(withAuth, dockerConfig(reg.host, reg.username!, reg.password!));
  const ref = `${reg.host}/truth/cfg:v1`;

  // The flag before the reference: a variadic flag would have taken the reference as a second path.
  ok(await runCli(['push', '--registry-config', withAuth, ref, FILTER, '--plain-http']), 'push with --registry-config before the reference');
  const out = join(dir, 'out');
  // Two uses: the credential is only in the second file, so both must be read.
  ok(await runCli(['pull', '--registry-config', empty, '--registry-config', withAuth, ref, '-o', out, '--plain-http']), 'pull with two --registry-config');
  assert.deepEqual(await readFile(join(out, 'example-filter.wasm')), await readFile(FILTER));
  ok(await runCli(['resolve', '--registry-config', withAuth, ref, '--plain-http']), 'resolve');
});

test('item 11: copy from a TLS registry with its own CA and account to a plain-HTTP registry (per-side flags)', async (t) => {
  const src = await startDistribution({ mode: 'tls-htpasswd', t });
  const dst = await startDistribution({ mode: 'plain', t });
  const dir = await makeTempDir(t);
  const srcRef = `${src.host}/truth/copy:v1`;
  const dstRef = `${dst.host}/truth/copy:v1`;
  ok(await runCli(['push', srcRef, FILTER, '--ca-file', src.caFile!, '-u', src.username!, '-p', src.password!]), 'push to the TLS registry');

  const copied = ok(
    await runCli([
      'copy',
      '--from-ca-file', src.caFile!, '--from-username', src.username!, '--from-password', src.password!,
      srcRef,
      '--to-plain-http',
      dstRef,
    ]),
    'copy TLS -> plain HTTP',
  );
  assert.match(copied.stdout, /^Digest: sha256:/m);
  const out = join(dir, 'out');
  ok(await runCli(['pull', dstRef, '--plain-http', '-o', out]), 'pull from the plain-HTTP destination');
  assert.deepEqual(await readFile(join(out, 'example-filter.wasm')), await readFile(FILTER));

  // --from-insecure instead of the CA, and --to-registry-config for a destination account: both sides apply.
  const dst2 = await startDistribution({ mode: 'plain-htpasswd', t });
  const cfg = join(dir, 'to.json');
  await writeFile(cfg, dockerConfig(dst2.host, dst2.username!, dst2.password!));
  ok(
    await runCli([
      'copy', srcRef, `${dst2.host}/truth/copy:v2`,
      '--from-insecure', '--from-username', src.username!, '--from-password', src.password!,
      '--to-plain-http', '--to-registry-config', cfg,
    ]),
    'copy with --from-insecure and --to-registry-config',
  );
  ok(await runCli(['resolve', `${dst2.host}/truth/copy:v2`, '--plain-http', '--registry-config', cfg]), 'the second copy landed');
});

test('item 14 and -p without -u: a username with ":" and a password without a username are usage errors', async (t) => {
  const reg = await startDistribution({ mode: 'plain-htpasswd', t });
  const dir = await makeTempDir(t);
  const config = join(dir, 'config.json');
  const login = await runCli(['login', reg.host, '--plain-http', '-u', 'us:er', '--password-stdin', '--store', 'file', '--registry-config', config], {
    input: 'secret\n',
  });
  assert.equal(login.code, USAGE_EXIT, login.stderr);
  assert.match(login.stderr, /username "us:er" contains ":"/);
  await assert.rejects(readFile(config), 'nothing was stored');

  const pull = await runCli(['pull', `${reg.host}/truth/x:v1`, '--plain-http', '-u', 'us:er', '-p', 'secret', '-o', join(dir, 'o')]);
  assert.equal(pull.code, USAGE_EXIT, pull.stderr);
  assert.match(pull.stderr, /contains ":"/);

  const before = reg.requests().length;
  const noUser = await runCli(['pull', `${reg.host}/truth/x:v1`, '--plain-http', '-p', reg.password!, '-o', join(dir, 'o2')]);
  assert.equal(noUser.code, USAGE_EXIT, noUser.stderr);
  assert.match(noUser.stderr, /--password needs --username/);
  assert.equal(reg.requests().length, before, 'nothing was sent to the registry');
});
