// The command line as a user meets it, through the real binary: progress only on a terminal,
// colours under NO_COLOR / FORCE_COLOR, one JSON document per command in the documented shape
// (docs/json-output.md), --help with an example on every command, usage errors with the usage
// line and exit code 2, the exit-code table against the README, and --debug without secrets.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { copyFile, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runCli, type CliResult, type RunCliOptions } from '../helpers/cli.js';
import { startDistribution } from '../helpers/distribution.js';
import { examplesDir, repoRoot } from '../helpers/paths.js';
import { checkShape, type Shape } from '../helpers/json-shape.js';
import { createSecretScan, testPassword } from '../helpers/secrets.js';
import { makeTempDir } from '../helpers/tmp.js';
import { ERROR_CODES } from '../../src/errors.js';

const USAGE_EXIT = ERROR_CODES.E_USAGE.exitCode;
const ESC = '\x1b';
const SGR = /\x1b\[[0-9;]*m/; // colour and style codes
const CURSOR = /\x1b\[(\?25[lh]|\d*A|\d*K|\d*G)/; // what a spinner uses to redraw
const SPINNER_FRAME = /[\u2800-\u28ff]/; // ora's dots spinner is braille

async function cli(args: string[], opts: RunCliOptions = {}): Promise<CliResult> {
  return runCli(args, { timeoutMs: 30_000, ...opts });
}

function ok(r: CliResult, what: string): CliResult {
  assert.equal(r.code, 0, `${what} exited ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  return r;
}

/** A 3 MiB random blob and the example filter in a fresh working dir (push titles need relative paths). */
async function workDir(t: Parameters<typeof makeTempDir>[0]): Promise<string> {
  const dir = await makeTempDir(t);
  await writeFile(join(dir, 'big.bin'), randomBytes(3 * 1024 * 1024));
  await copyFile(join(examplesDir, 'example-filter.wasm'), join(dir, 'example-filter.wasm'));
  return dir;
}

// --- progress and colours -------------------------------------------------------------------

test('progress: on a terminal each blob shows bytes done / total and rate, then a ✓ line; off a terminal or with --no-tty only result lines', async (t) => {
  const reg = await startDistribution({ mode: 'plain', t });
  const dir = await workDir(t);
  const ref = `${reg.host}/ux/progress`;
  const blob = 'big.bin:application/vnd.example.data';
  const bytesLine = (verb: string) => new RegExp(`${verb} big\\.bin {2}[\\d.]+ (B|KiB|MiB) / 3\\.0 MiB {2}[\\d.]+ (B|KiB|MiB|GiB)/s`);

  const pushTty = ok(await cli(['push', '--plain-http', `${ref}:tty`, blob], { tty: true, cwd: dir }), 'push on a tty');
  const plainTty = (s: string) => s.replace(/\x1b\[[0-9;]*m/g, '');
  assert.match(plainTty(pushTty.stdout), bytesLine('Uploading'), 'a progress line with name, bytes done / total and rate');
  assert.match(plainTty(pushTty.stdout), /✓ Uploaded +big\.bin {2}3\.0 MiB {2}[\d.]+ (KiB|MiB|GiB)\/s/, 'a persisted done line');
  assert.match(pushTty.stdout, SPINNER_FRAME);
  assert.match(pushTty.stdout, CURSOR);
  assert.match(pushTty.stdout, /^Digest: sha256:[a-f0-9]{64}$/m);

  const pullTty = ok(await cli(['pull', '--plain-http', `${ref}:tty`, '-o', 'out-tty'], { tty: true, cwd: dir }), 'pull on a tty');
  assert.match(plainTty(pullTty.stdout), bytesLine('Downloading'));
  assert.match(plainTty(pullTty.stdout), /✓ Downloaded big\.bin {2}3\.0 MiB/);
  assert.deepEqual(await readFile(join(dir, 'out-tty', 'big.bin')), await readFile(join(dir, 'big.bin')));

  // Pipes: stdout holds the result lines only, stderr nothing at all.
  const pushPipe = ok(await cli(['push', '--plain-http', `${ref}:pipe`, blob], { cwd: dir }), 'push to a pipe');
  assert.equal(pushPipe.stderr, '');
  assert.ok(!pushPipe.stdout.includes(ESC), 'no escape codes in piped output');
  assert.doesNotMatch(pushPipe.stdout, SPINNER_FRAME);
  const lines = pushPipe.stdout.trimEnd().split('\n');
  // Blobs move in parallel, so their two result lines come in either order.
  const blobLines = lines.slice(0, 2).sort();
  assert.match(blobLines.find((l) => l.includes('big.bin')) ?? '', /^Exists +big\.bin 3\.0 MiB$/, 'the blob pushed before is skipped, and said so');
  assert.match(blobLines.find((l) => !l.includes('big.bin')) ?? '', /^(Uploaded|Exists) +sha256:[a-f0-9]{12} \(application\/vnd\.oci\.empty\.v1\+json\) 2 B$/);
  assert.equal(lines[2], `Pushed [registry] ${ref}:pipe`);
  assert.match(lines.at(-1)!, /^Digest: sha256:[a-f0-9]{64}$/);
  const pullPipe = ok(await cli(['pull', '--plain-http', `${ref}:pipe`, '-o', 'out-pipe'], { cwd: dir }), 'pull to a pipe');
  assert.equal(pullPipe.stderr, '');
  assert.ok(!pullPipe.stdout.includes(ESC));
  assert.match(pullPipe.stdout, /^Downloaded big\.bin 3\.0 MiB$/m);

  // --no-tty on a terminal: the same result lines, no spinner.
  const noTty = ok(await cli(['push', '--no-tty', '--plain-http', `${ref}:notty`, blob], { tty: true, cwd: dir }), 'push --no-tty on a tty');
  assert.doesNotMatch(noTty.stdout, SPINNER_FRAME);
  assert.doesNotMatch(noTty.stdout, CURSOR);
  assert.doesNotMatch(noTty.stdout, /Uploading/);
  assert.match(noTty.stdout, /^Exists +big\.bin 3\.0 MiB$/m);
});

test('colours: none under NO_COLOR even on a terminal; on under FORCE_COLOR without one', async (t) => {
  const dir = await workDir(t);
  ok(await cli(['push', '--oci-layout', 'store:v1', 'example-filter.wasm'], { cwd: dir }), 'push to a layout');

  // A terminal without NO_COLOR is coloured: the control for the assertions below.
  const coloured = ok(await cli(['inspect', '--oci-layout', 'store:v1'], { tty: true, cwd: dir }), 'inspect on a tty');
  assert.match(coloured.stdout, SGR);
  const noColor = { NO_COLOR: '1' };
  const inspected = ok(await cli(['inspect', '--oci-layout', 'store:v1'], { tty: true, cwd: dir, env: noColor }), 'inspect, NO_COLOR');
  assert.match(inspected.stdout, /✓ Istio/);
  assert.doesNotMatch(inspected.stdout, SGR);
  const pushed = ok(await cli(['push', '--oci-layout', 'store:v2', 'big.bin:application/vnd.example.data'], { tty: true, cwd: dir, env: noColor }), 'push, NO_COLOR');
  assert.match(pushed.stdout, /✓ Uploaded/);
  assert.doesNotMatch(pushed.stdout, SGR, 'spinner, done marks and dim sizes are all uncoloured');
  const failed = await cli(['resolve', '--oci-layout', 'store:nope'], { tty: true, cwd: dir, env: noColor });
  assert.equal(failed.code, ERROR_CODES.E_NOT_FOUND.exitCode);
  assert.match(failed.stdout, /^Error: tag "nope" not found/m);
  assert.doesNotMatch(failed.stdout, SGR);

  const force = { FORCE_COLOR: '1' };
  const forcedErr = await cli(['resolve', '--oci-layout', 'store:nope'], { cwd: dir, env: force });
  assert.match(forcedErr.stderr, /^\x1b\[31mError:\x1b\[39m tag "nope" not found/);
  assert.match(forcedErr.stderr, /\x1b\[36mHint:\x1b\[39m/);
  const forcedInspect = ok(await cli(['inspect', '--oci-layout', 'store:v1'], { cwd: dir, env: force }), 'inspect, FORCE_COLOR');
  assert.match(forcedInspect.stdout, /\x1b\[32m✓\x1b\[39m Istio/);
  assert.equal(forcedInspect.stderr, '', 'no progress without a terminal, even with colours forced');
  // NO_COLOR without FORCE_COLOR and without a terminal: plain.
  const plain = await cli(['resolve', '--oci-layout', 'store:nope'], { cwd: dir });
  assert.ok(!plain.stderr.includes(ESC));
});

// --- JSON -----------------------------------------------------------------------------------

const DESCRIPTOR: Shape = { mediaType: 'string', digest: 'string', size: 'number' };
const SHAPES: Record<string, Shape> = {
  push: { reference: 'string', referenceAsTags: 'string[]', ...DESCRIPTOR, artifactType: 'string', annotations: 'object', blobs: 'object[]' },
  pull: { reference: 'string', ...DESCRIPTOR, files: [{ path: 'string', reference: 'string', ...DESCRIPTOR, name: 'string', fileDigest: 'string', fileSize: 'number' }], module: 'object?' },
  inspectFile: { file: 'string', kind: 'string', version: 'number', size: 'number', sha256: 'string', imports: 'object[]', exports: 'object[]', memories: { count: 'number', exported: 'boolean' }, customSections: 'string[]', proxyWasm: 'object?' },
  inspectRef: { reference: 'string', descriptor: DESCRIPTOR, manifest: { schemaVersion: 'number', config: DESCRIPTOR, layers: 'object[]' }, config: 'object?', module: 'object?', verdicts: 'object[]' },
  tag: { reference: 'string', ...DESCRIPTOR, tags: 'string[]' },
  resolve: { reference: 'string', ...DESCRIPTOR },
  repoTags: { repository: 'string', tags: 'string[]' },
  manifestToFile: { reference: 'string', path: 'string', ...DESCRIPTOR },
  manifestDelete: { reference: 'string', deleted: 'boolean', ...DESCRIPTOR },
  blobFetch: { reference: 'string', path: 'string', ...DESCRIPTOR },
  copy: { source: 'string', destination: 'string', ...DESCRIPTOR, tags: 'string[]' },
  render: { apiVersion: 'string', kind: 'string', metadata: { name: 'string' }, spec: 'object' },
  login: { registry: 'string', store: 'string', location: 'string' },
  logout: { registry: 'string', removedFrom: 'string[]' },
  error: { error: { code: 'string', exitCode: 'number', message: 'string', hint: 'string?', status: 'number?', registryCodes: 'string[]?' } },
};

/** Exactly one JSON document on stdout, matching `shape`. */
function jsonDoc(r: CliResult, shape: Shape, what: string): Record<string, unknown> {
  let doc: unknown;
  // JSON.parse refuses two concatenated documents, so this also proves there is only one.
  assert.doesNotThrow(() => { doc = JSON.parse(r.stdout); }, `${what}: stdout is one JSON document:\n${r.stdout}`);
  assert.deepEqual(checkShape(doc, shape), [], `${what}: shape of ${r.stdout}`);
  return doc as Record<string, unknown>;
}

test('--format json: every command prints one document of its documented shape; errors too', async (t) => {
  // Plain registry for speed (htpasswd checks a bcrypt hash on every request); login needs one with auth.
  const [reg, authReg] = await Promise.all([startDistribution({ mode: 'plain', t }), startDistribution({ mode: 'tls-htpasswd', t })]);
  const dir = await workDir(t);
  const ref = `${reg.host}/ux/json`;
  const plain = (args: string[]) => (args.some((a) => a.includes(reg.host)) ? ['--plain-http'] : []);
  const j = (args: string[], opts: RunCliOptions = {}) => cli(['--format', 'json', ...args, ...plain(args)], { cwd: dir, ...opts });

  const docsText = await readFile(join(repoRoot, 'docs', 'json-output.md'), 'utf8');
  for (const heading of ['## push', '## pull', '## inspect', '## tag', '## resolve', '## repo tags', '## manifest fetch', '## manifest delete', '## blob fetch', '## copy', '## render', '## login / logout', '## Errors']) {
    assert.ok(docsText.includes(heading), `docs/json-output.md documents ${heading}`);
  }

  const pushed = jsonDoc(ok(await j(['push', `${ref}:v1,latest`, 'example-filter.wasm']), 'push'), SHAPES.push!, 'push');
  assert.deepEqual(pushed.referenceAsTags, [`${ref}:latest`, `${ref}:v1`], 'sorted, as oras sorts them');
  const digest = pushed.digest as string;
  assert.match(digest, /^sha256:[a-f0-9]{64}$/);
  assert.ok((pushed.blobs as Array<{ action: string }>).every((b) => b.action === 'uploaded' || b.action === 'exists'));
  const layer = ((pushed.blobs as Array<{ digest: string; title?: string }>).find((b) => b.title === 'example-filter.wasm'))!.digest;

  // Independent reads, one after another: each call's leftover check looks at the shared working
  // directory, where a sibling run side by side would have its temp file in flight.
  const calls: Array<() => ReturnType<typeof j>> = [
    () => j(['pull', `${ref}:v1`, '-o', 'out']),
    () => j(['inspect', 'example-filter.wasm']),
    () => j(['inspect', `${ref}:v1`]),
    () => j(['resolve', `${ref}:latest`]),
    () => j(['manifest', 'fetch', `${ref}:v1`]),
    () => j(['manifest', 'fetch', '--descriptor', `${ref}:v1`]),
    () => j(['manifest', 'fetch', '-o', 'manifest.json', `${ref}:v1`]),
    () => j(['blob', 'fetch', '-o', 'layer.wasm', `${ref}@${layer}`]),
    () => j(['copy', `${ref}:v1`, 'copy-store:c1', '--to-oci-layout']),
    () => j(['render', `${ref}:v1`]),
    () => j(['exit-codes']),
  ];
  const results = [];
  for (const call of calls) results.push(await call());
  const [pulled, file, inspected, resolved, manifest, manifestDesc, toFile, blob, copied, rendered, exitCodes] = results;
  assert.equal(jsonDoc(ok(pulled, 'pull'), SHAPES.pull!, 'pull').digest, digest);
  jsonDoc(ok(file, 'inspect file'), SHAPES.inspectFile!, 'inspect file');
  const inspectedDoc = jsonDoc(ok(inspected, 'inspect ref'), SHAPES.inspectRef!, 'inspect ref');
  assert.equal((inspectedDoc.descriptor as { digest: string }).digest, digest);
  assert.ok((inspectedDoc.verdicts as Array<{ consumer: string; ok: boolean }>).every((v) => typeof v.consumer === 'string' && typeof v.ok === 'boolean'));
  assert.equal(jsonDoc(ok(resolved, 'resolve'), SHAPES.resolve!, 'resolve').digest, digest);
  assert.equal(JSON.parse(ok(manifest, 'manifest fetch').stdout).content.schemaVersion, 2, "manifest fetch prints oras's wrapper, the manifest as content");
  assert.deepEqual(checkShape(JSON.parse(ok(manifestDesc, 'manifest fetch --descriptor').stdout), DESCRIPTOR), []);
  jsonDoc(ok(toFile, 'manifest fetch -o'), SHAPES.manifestToFile!, 'manifest fetch -o');
  jsonDoc(ok(blob, 'blob fetch'), SHAPES.blobFetch!, 'blob fetch');
  assert.deepEqual(await readFile(join(dir, 'layer.wasm')), await readFile(join(dir, 'example-filter.wasm')));
  assert.equal(jsonDoc(ok(copied, 'copy'), SHAPES.copy!, 'copy').digest, digest);
  assert.equal((jsonDoc(ok(rendered, 'render'), SHAPES.render!, 'render').spec as { sha256: string }).sha256, digest.slice(7));
  const rows = JSON.parse(ok(exitCodes, 'exit-codes').stdout) as unknown[];
  assert.ok(rows.every((r) => checkShape(r, { exitCode: 'number', codes: 'string[]', meaning: 'string' }).length === 0));

  jsonDoc(ok(await j(['tag', `${ref}:v1`, 'stable']), 'tag'), SHAPES.tag!, 'tag');
  const tags = jsonDoc(ok(await j(['repo', 'tags', ref]), 'repo tags'), SHAPES.repoTags!, 'repo tags');
  assert.deepEqual([...(tags.tags as string[])].sort(), ['latest', 'stable', 'v1']);
  jsonDoc(ok(await j(['manifest', 'delete', '-f', `${ref}@${digest}`]), 'manifest delete'), SHAPES.manifestDelete!, 'manifest delete');

  const config = join(dir, 'config.json');
  const login = ['login', authReg.host, '--ca-file', authReg.caFile!, '-u', authReg.username!, '--password-stdin', '--store', 'file', '--registry-config', config];
  jsonDoc(ok(await j(login, { input: `${authReg.password}\n` }), 'login'), SHAPES.login!, 'login');
  jsonDoc(ok(await j(['logout', authReg.host, '--registry-config', config], { input: '' }), 'logout'), SHAPES.logout!, 'logout');

  // Errors: the document on stdout, the message on stderr, the error's exit code.
  const missing = await j(['resolve', `${ref}:nope`]);
  assert.equal(missing.code, ERROR_CODES.E_NOT_FOUND.exitCode);
  const err = jsonDoc(missing, SHAPES.error!, 'error').error as { code: string; status: number; hint: string };
  assert.equal(err.code, 'E_NOT_FOUND');
  assert.equal(err.status, 404);
  assert.match(err.hint, /repo tags/);
  assert.match(missing.stderr, /^Error: manifest not found/m);
  // A usage error found by the parser: still one document.
  const usage = await j(['push', '--no-such-flag']);
  assert.equal(usage.code, USAGE_EXIT);
  assert.equal((jsonDoc(usage, SHAPES.error!, 'usage error').error as { code: string }).code, 'E_USAGE');
  assert.match(usage.stderr, /^error: unknown option '--no-such-flag'$/m);
});

// --- help and usage errors ------------------------------------------------------------------

/** Command names from the `Commands:` section of a help text. */
function commandsIn(help: string): string[] {
  const at = help.indexOf('\nCommands:\n');
  const section = at < 0 ? '' : help.slice(at + '\nCommands:\n'.length).split('\n\n')[0]!;
  return section.split('\n').map((l) => /^ {2}([a-z][a-z-]*)/.exec(l)?.[1]).filter((n): n is string => !!n && n !== 'help');
}

async function mapLimit<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(Array.from({ length: limit }, async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  }));
  return out;
}

test('--help on every command and subcommand exits 0 and shows an example; usage errors print the usage line and exit 2', async () => {
  const top = ok(await cli(['--help']), '--help');
  assert.match(top.stdout, /^Usage: wasm-oci /m);
  assert.match(top.stdout, /^Examples?:/m);
  // Walk the tree as the help shows it: a command with a Commands: section has subcommands.
  const leaves: Array<{ path: string[]; usage: string }> = [];
  const queue = commandsIn(top.stdout).map((c) => [c]);
  assert.ok(queue.length >= 12, `the top help lists the commands: ${queue.join(' ')}`);
  const visited: string[] = [];
  while (queue.length) {
    const batch = queue.splice(0);
    const helps = await mapLimit(batch, 4, (path) => cli([...path, '--help']));
    batch.forEach((path, i) => {
      const h = helps[i]!;
      const name = path.join(' ');
      visited.push(name);
      assert.equal(h.code, 0, `${name} --help exits 0: ${h.stderr}`);
      // Help writes an alias beside the name (`copy|cp`); the usage line after an error gives the name.
      const usage = /^Usage: (.*)$/m.exec(h.stdout)?.[1]?.replace(/\|[a-z-]+/, '');
      assert.ok(usage?.startsWith(`wasm-oci ${name} `), `${name} --help shows its usage: ${h.stdout}`);
      assert.match(h.stdout, /^Examples?:\n {2}\$ .*\bwasm-oci /m, `${name} --help shows an example`);
      const subs = commandsIn(h.stdout);
      if (subs.length) queue.push(...subs.map((s) => [...path, s]));
      else leaves.push({ path, usage: usage! });
    });
  }
  for (const expected of ['repo tags', 'manifest fetch', 'manifest delete', 'blob fetch', 'push', 'pull', 'login', 'copy', 'render', 'exit-codes']) {
    assert.ok(visited.includes(expected), `${expected} was reached from the top help (${visited.join(', ')})`);
  }

  await mapLimit(leaves, 4, async ({ path, usage }) => {
    const name = path.join(' ');
    const unknown = await cli([...path, '--no-such-flag']);
    assert.equal(unknown.code, USAGE_EXIT, `${name} --no-such-flag exits ${USAGE_EXIT}`);
    assert.match(unknown.stderr, /^error: unknown option '--no-such-flag'$/m);
    assert.ok(unknown.stderr.includes(`Usage: ${usage}\n`), `${name}: the usage line follows the message:\n${unknown.stderr}`);
    assert.equal(unknown.stdout, '');
    if (usage.includes('<')) {
      const missing = await cli(path);
      assert.equal(missing.code, USAGE_EXIT, `${name} without arguments exits ${USAGE_EXIT}`);
      assert.match(missing.stderr, /^error: missing required argument '[a-z]+'$/m);
      assert.ok(missing.stderr.includes(`Usage: ${usage}\n`), `${name}: usage line after a missing argument`);
    }
  });

  const badValue = await cli(['push', '--concurrency', 'zero', 'r', 'f']);
  assert.equal(badValue.code, USAGE_EXIT);
  assert.match(badValue.stderr, /--concurrency needs a positive integer/);
  assert.match(badValue.stderr, /^Usage: wasm-oci push \[options\] <reference> \[files\.\.\.\]$/m);
  const badFormat = await cli(['--format', 'yaml', 'resolve', 'r:t']);
  assert.equal(badFormat.code, USAGE_EXIT);
  assert.match(badFormat.stderr, /Allowed choices are text, json/);
  const unknownCommand = await cli(['frobnicate']);
  assert.equal(unknownCommand.code, USAGE_EXIT);
  assert.match(unknownCommand.stderr, /^error: unknown command 'frobnicate'$/m);
  assert.match(unknownCommand.stderr, /^Usage: wasm-oci \[options\] \[command\]$/m);
});

test('help exit-codes prints the table, and it is the README\'s table', async () => {
  const text = ok(await cli(['help', 'exit-codes']), 'help exit-codes');
  const json = JSON.parse(ok(await cli(['exit-codes', '--format', 'json']), 'exit-codes --format json').stdout) as Array<{ exitCode: number; codes: string[] }>;
  const readme = await readFile(join(repoRoot, 'README.md'), 'utf8');
  const section = /^## Exit codes\n([\s\S]*?)^## /m.exec(readme)?.[1];
  assert.ok(section, 'README has an "Exit codes" section');
  const readmeRows = [...section.matchAll(/^\| (\d+) \|[^|]*\|([^|]*)\|$/gm)].map((m) => ({
    exitCode: Number(m[1]),
    codes: [...m[2]!.matchAll(/`(E_[A-Z_]+)`/g)].map((c) => c[1]!).sort(),
  }));
  assert.deepEqual(readmeRows, json.map((r) => ({ exitCode: r.exitCode, codes: [...r.codes].sort() })));
  // Every code of the library's table is in it, with its exit code.
  for (const [code, info] of Object.entries(ERROR_CODES)) {
    assert.ok(json.find((r) => r.exitCode === info.exitCode)?.codes.includes(code), `${code} -> ${info.exitCode}`);
    assert.match(text.stdout, new RegExp(`^ *${info.exitCode}  .*\\b${code}\\b`, 'm'));
  }
});

// --- debug ------------------------------------------------------------------------------------

test('--debug traces each request and response with status and timing, and an authenticated push prints no secret', async (t) => {
  const [basicReg, tokenReg] = await Promise.all([
    startDistribution({ mode: 'tls-htpasswd', t, password: testPassword('ux basic') }),
    startDistribution({ mode: 'token', t, password: testPassword('ux token') }),
  ]);
  const dir = await workDir(t);
  const scan = createSecretScan();
  scan.addBasicPair(basicReg.username!, basicReg.password!);
  scan.addBasicPair(tokenReg.username!, tokenReg.password!);
  scan.addIssuer(tokenReg.issuer!);
  const run = async (args: string[], opts: RunCliOptions = {}) => {
    return cli(args, { cwd: dir, scan, ...opts });
  };

  const basicArgs = ['push', '--debug', '--ca-file', basicReg.caFile!, '-u', basicReg.username!, '--password-stdin', `${basicReg.host}/ux/debug:v1`, 'example-filter.wasm', '--export-manifest', 'exported-manifest.json'];
  const basic = ok(await run(basicArgs, { input: basicReg.password! }), 'push --debug (basic)');
  assert.match(basic.stderr, /^> PUT https:\/\/127\.0\.0\.1:\d+\/v2\/ux\/debug\/manifests\/v1/m, 'request lines');
  assert.match(basic.stderr, /^< 201 PUT https:\/\/127\.0\.0\.1:\d+\/v2\/ux\/debug\/manifests\/v1 .*\(\d+ ms\)/m, 'response lines with status and timing');
  assert.match(basic.stderr, /^< 401 /m, 'the challenge is traced too');
  assert.match(basic.stderr, /authorization: Basic <redacted>/, 'the header is shown redacted, so it was there to hide');
  assert.match(basic.stdout, /^Digest: sha256:/m, 'debug lines stay off stdout');
  assert.doesNotMatch(basic.stdout, /^[<>] /m);

  const tokenArgs = ['push', '--debug', '--plain-http', '-u', tokenReg.username!, '-p', tokenReg.password!, `${tokenReg.host}/ux/debug:v1`, 'example-filter.wasm'];
  const token = ok(await run(tokenArgs), 'push --debug (token, password on the command line)');
  assert.match(token.stderr, /^< 201 PUT http:\/\/127\.0\.0\.1:\d+\/v2\/ux\/debug\/manifests\/v1 .*\(\d+ ms\)/m);
  assert.match(token.stderr, /authorization: Bearer <redacted>/);
  assert.ok(tokenReg.issuer!.requests.length > 0, 'a token was issued, so there was one to leak');
  // On a terminal too (debug lines interleave with the spinner).
  ok(await run(tokenArgs, { tty: true }), 'push --debug on a tty');

  assert.ok(scan.outputs >= 6);
  assert.deepEqual(scan.leaks(), [], scan.summary());
  for (const r of [basic, token]) {
    for (const text of [r.stdout, r.stderr]) {
      assert.ok(!text.includes(basicReg.password!) && !text.includes(tokenReg.password!), 'no password');
      assert.doesNotMatch(text, /(Basic|Bearer) (?!<redacted>)\S{8,}/, 'no Authorization value');
    }
  }
});
