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

test('item 10: --plain-http against an HTTPS registry gives the same hint in push, resolve, blob fetch, copy, pull and repo tags', async (t) => {
  const reg = await startDistribution({ mode: 'tls', t });
  const plain = await startDistribution({ mode: 'plain', t });
  const dir = await makeTempDir(t);
  const ref = `${reg.host}/truth/hint:v1`;
  const pushed = ok(await runCli(['push', ref, FILTER, '--ca-file', reg.caFile!]), 'push over TLS');
  const digest = /^Digest: (sha256:[a-f0-9]{64})$/m.exec(pushed.stdout)![1]!;
  const layer = JSON.parse(ok(await runCli(['manifest', 'fetch', ref, '--ca-file', reg.caFile!]), 'manifest fetch').stdout).layers[0].digest as string;
  ok(await runCli(['push', `${plain.host}/truth/hint:v1`, FILTER, '--plain-http']), 'push to the plain registry');

  const commands: [string, string[]][] = [
    ['push', ['push', `${reg.host}/truth/other:v1`, FILTER, '--plain-http']],
    ['resolve', ['resolve', ref, '--plain-http']],
    ['blob fetch', ['blob', 'fetch', `${reg.host}/truth/hint@${layer}`, '-o', join(dir, 'blob'), '--plain-http']],
    ['copy', ['copy', `${plain.host}/truth/hint:v1`, `${reg.host}/truth/copied:v1`, '--plain-http']],
    ['pull', ['pull', ref, '-o', join(dir, 'out'), '--plain-http']],
    ['repo tags', ['repo', 'tags', `${reg.host}/truth/hint`, '--plain-http']],
    ['manifest fetch', ['manifest', 'fetch', `${reg.host}/truth/hint@${digest}`, '--plain-http']],
  ];
  for (const [name, args] of commands) {
    const r = await runCli(args);
    assert.notEqual(r.code, 0, `${name} must fail`);
    assert.match(r.stderr, /speaks HTTPS, not plain HTTP/, `${name}: ${r.stderr}`);
    assert.match(r.stderr, /remove --plain-http/, `${name} hints: ${r.stderr}`);
  }
});

/** Flips one byte of a blob in Distribution's filesystem storage: same size, wrong digest. */
async function corruptStoredBlob(dataDir: string, digest: string): Promise<void> {
  const hex = digest.slice('sha256:'.length);
  const path = join(dataDir, 'storage', 'docker', 'registry', 'v2', 'blobs', 'sha256', hex.slice(0, 2), hex, 'data');
  const bytes = await readFile(path);
  bytes[bytes.length - 10] ^= 0xff;
  await writeFile(path, bytes);
}

test('item 7: a module blob altered in the registry is exit 5 in inspect and render (and pull), and no consumer "loads it"', async (t) => {
  const reg = await startDistribution({ mode: 'plain', t });
  const dir = await makeTempDir(t);
  const ref = `${reg.host}/truth/corrupt:v1`;
  ok(await runCli(['push', ref, FILTER, '--plain-http']), 'push');
  const manifest = JSON.parse(ok(await runCli(['manifest', 'fetch', ref, '--plain-http']), 'manifest fetch').stdout);
  const moduleDigest = manifest.layers[0].digest as string;
  ok(await runCli(['inspect', ref, '--plain-http']), 'inspect before the damage');
  ok(await runCli(['render', ref, '--plain-http']), 'render before the damage');
  await corruptStoredBlob(reg.dataDir, moduleDigest);
  const integrity = ERROR_CODES.E_DIGEST_MISMATCH.exitCode;

  const inspected = await runCli(['inspect', ref, '--plain-http']);
  assert.equal(inspected.code, integrity, `inspect: ${inspected.stdout}\n${inspected.stderr}`);
  assert.match(inspected.stderr, /digest mismatch/);
  assert.doesNotMatch(inspected.stdout, /loads it/, 'no consumer is said to load corrupt content');
  const json = await runCli(['inspect', ref, '--plain-http', '--format', 'json']);
  assert.equal(json.code, integrity);
  assert.equal(JSON.parse(json.stdout).error.code, 'E_DIGEST_MISMATCH', 'one error document on stdout');

  const rendered = await runCli(['render', ref, '--plain-http']);
  assert.equal(rendered.code, integrity, `render: ${rendered.stdout}\n${rendered.stderr}`);
  assert.equal(rendered.stdout, '', 'nothing rendered');

  const pulled = await runCli(['pull', ref, '--plain-http', '-o', join(dir, 'out')]);
  assert.equal(pulled.code, integrity, pulled.stderr);
});

test('rough edges: a missing file, WAT text, a bare registry and a URL scheme each get the error a user needs', async (t) => {
  const dir = await makeTempDir(t, 'truth-rough');
  await writeFile(join(dir, 'filter.wat'), ';; a filter\n(module)\n');
  const missing = await runCli(['inspect', 'missing.wasm'], { cwd: dir });
  assert.equal(missing.code, ERROR_CODES.E_FILE_NOT_FOUND.exitCode, missing.stderr);
  assert.match(missing.stderr, /no such file: missing\.wasm/);
  const wat = await runCli(['push', '--oci-layout', join(dir, 'layout'), 'filter.wat'], { cwd: dir });
  assert.equal(wat.code, 2, wat.stderr);
  assert.match(wat.stderr, /WebAssembly text \(WAT\)[\s\S]*wat2wasm filter\.wat -o filter\.wasm/);
  const bare = await runCli(['pull', 'localhost:5000', '-o', join(dir, 'out')], { cwd: dir });
  assert.equal(bare.code, 2, bare.stderr);
  assert.match(bare.stderr, /names a registry but no repository[\s\S]*localhost:5000\/REPOSITORY:TAG/);
  assert.doesNotMatch(bare.stderr, /docker\.io/);
  const scheme = await runCli(['pull', 'http://localhost:5000/app:v1', '-o', join(dir, 'out')], { cwd: dir });
  assert.equal(scheme.code, 2, scheme.stderr);
  assert.match(scheme.stderr, /no http:\/\/ scheme[\s\S]*--plain-http/);
});

test('rough edges: blob fetch -o DIR is refused before the download; pull -o - makes no folder named "-"', async (t) => {
  const dir = await makeTempDir(t, 'truth-rough-out');
  await writeFile(join(dir, 'f.wasm'), await readFile(join(examplesDir, 'example-filter.wasm')));
  const pushed = await runCli(['push', '--oci-layout', `${join(dir, 'l')}:v1`, 'f.wasm'], { cwd: dir });
  assert.equal(pushed.code, 0, pushed.stderr);
  const manifest = JSON.parse((await runCli(['manifest', 'fetch', '--oci-layout', `${join(dir, 'l')}:v1`], { cwd: dir })).stdout);
  const layer = manifest.layers[manifest.layers.length - 1].digest as string;
  const { mkdir, readdir } = await import('node:fs/promises');
  await mkdir(join(dir, 'adir'));
  const toDir = await runCli(['blob', 'fetch', '--oci-layout', `${join(dir, 'l')}@${layer}`, '-o', 'adir'], { cwd: dir });
  assert.equal(toDir.code, 2, toDir.stderr);
  assert.match(toDir.stderr, /-o adir is a directory; blob fetch writes one file/);
  assert.doesNotMatch(toDir.stderr, /EISDIR/);
  const dash = await runCli(['pull', '--oci-layout', `${join(dir, 'l')}:v1`, '-o', '-'], { cwd: dir });
  assert.equal(dash.code, 2, dash.stderr);
  assert.match(dash.stderr, /-o - \(stdout\) is not supported/);
  assert.ok(!(await readdir(dir)).includes('-'), 'no folder named "-"');
});
