#!/usr/bin/env node
// `npm run mutate`: breaks the security and integrity paths on purpose, one at a time, and checks
// that the tests meant to guard each one fail (issue 16 item 6). Every mutation is a precise
// search/replace on src/ applied in a scratch copy of the tracked files (node_modules linked), so
// the working tree is never touched, even on Ctrl-C. Each copy is rebuilt and only the named test
// files run (--test-concurrency=1). A mutation with `figure` is caught only when the tests fail
// AND their output shows that figure (the README's figures must be what fails, not just some
// test). Prints `mutations: N tried, N caught`; exits 1 unless all caught.
// `node scripts/mutate.mjs NAME...` runs only the named mutations.
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/**
 * name, the file, the exact text (must occur once), its replacement, the tests meant to catch it,
 * and optionally `figure`: a pattern the tests' output must match for the mutation to count as
 * caught (the summary line whose figure the README quotes).
 */
const MUTATIONS = [
  {
    name: 'redaction: Authorization printed in --debug',
    file: 'src/registry/redact.ts',
    search: 'return `${scheme} ${REDACTED}`;',
    replace: 'return value;',
    tests: ['dist/test/e2e/cli-ux.test.js'], pattern: 'debug',
  },
  {
    name: 'encoded leak: --debug appends the credential re-encoded as base64url',
    file: 'src/registry/redact.ts',
    search: 'return `${scheme} ${REDACTED}`;',
    replace: "return `${scheme} ${REDACTED} ${Buffer.from(value.split(' ')[1] ?? '', 'base64').toString('base64url')}`;",
    tests: ['dist/test/e2e/cli-ux.test.js'], pattern: 'debug',
  },
  {
    name: 'digest verification: a blob whose digest differs is accepted',
    file: 'src/oci/digest.ts',
    search: 'if (this.expected.digest !== undefined && got !== this.expected.digest) {',
    replace: 'if (false && this.expected.digest !== undefined && got !== this.expected.digest) {',
    tests: ['dist/test/e2e/hostile.test.js'], pattern: 'digest',
  },
  {
    name: 'tar-link check: links and devices in a tar layer are written',
    file: 'src/pull/tar-module.ts',
    search: "if (!REGULAR.has(header.type ?? 'file')) {",
    replace: "if (false && !REGULAR.has(header.type ?? 'file')) {",
    tests: ['dist/test/e2e/hostile.test.js'], pattern: 'compat tar',
  },
  {
    name: 'private realms: 127.0.0.0/8 counted as public',
    file: 'src/registry/auth-policy.ts',
    search: "if (a === 127) return 'loopback';",
    replace: "if (a === 127) return 'public';",
    tests: ['dist/test/e2e/hostile.test.js'], pattern: 'token realm',
    figure: /hostile: .*, [1-9]\d* secrets sent.*/,
  },
  {
    name: 'private realms: the check of loopback and private realms disabled',
    file: 'src/registry/auth-policy.ts',
    search: "if (realmClass === 'public' || sameHost(realm.hostname, registryOrigin.hostname)) return;",
    replace: "if (true || realmClass === 'public' || sameHost(realm.hostname, registryOrigin.hostname)) return;",
    tests: ['dist/test/e2e/hostile.test.js'], pattern: 'token realm',
    figure: /hostile: .*, [1-9]\d* secrets sent.*/,
  },
  {
    name: 'temp files outside the output directory: pull leaves them in $TMPDIR, unregistered',
    file: 'src/pull/temp-files.ts',
    search: "const path = join(dir, `.${base}.partial-${randomBytes(6).toString('hex')}`);\n    this.paths.add(path);",
    replace: "const path = join((process.env.TMPDIR || '/tmp') || dir, `.${base}.partial-${randomBytes(6).toString('hex')}`);",
    tests: ['dist/test/e2e/hostile.test.js'], pattern: 'digest|compat tar',
  },
  {
    name: 'temp cleanup: a failed pull keeps its partial files',
    file: 'src/pull/temp-files.ts',
    search: 'await Promise.all(all.map((p) => rm(p, { recursive: true, force: true }).catch(() => undefined)));',
    replace: 'void all;',
    tests: ['dist/test/e2e/hostile.test.js'], pattern: 'digest',
  },
  {
    name: 'retries: switched off (one attempt a request, no resumed download)',
    file: 'src/registry/retry.ts',
    search: '  maxAttempts: 5,\n  baseDelayMs: 250,',
    replace: '  maxAttempts: 1,\n  baseDelayMs: 250,',
    tests: ['dist/test/e2e/fault-campaign.test.js'],
    figure: /faults: \d+ injected over \d+ rounds: \d+ survived, \d+ failed cleanly, [1-9]\d* violations.*/,
  },
  {
    name: 'blobs before manifest: push ignores a failed blob upload and PUTs the manifest anyway',
    file: 'src/operations/push.ts',
    search: 'await target.push(blob.descriptor, blob.content, { signal: blobSignal, onProgress: options.onProgress });',
    replace: 'await target.push(blob.descriptor, blob.content, { signal: blobSignal, onProgress: options.onProgress }).catch(() => undefined);',
    tests: ['dist/test/e2e/fault-campaign.test.js'],
    figure: /violation: round \d+ [^\n]*manifest PUT \S+ arrived before the registry confirmed/,
  },
  {
    name: 'index lock: index.json is read, changed and written without its lock',
    file: 'src/content/oci-layout.ts',
    search: 'const release = await acquireLock(lockPath);',
    replace: 'const release = async (): Promise<void> => { void acquireLock; };',
    tests: ['dist/test/unit/oci-layout.test.js'], pattern: 'index.json lock',
  },
  {
    name: 'manifest cap on write: push sends a manifest over 4 MiB',
    file: 'src/operations/push.ts',
    search: 'if (packed.manifestBytes.byteLength > LIMITS.manifestBytes) {',
    replace: 'if (false && packed.manifestBytes.byteLength > LIMITS.manifestBytes) {',
    tests: ['dist/test/e2e/layout-sound.test.js'], pattern: 'over 4 MiB',
  },
  {
    name: 'manifest cap on read: a manifest streamed without Content-Length is read past 4 MiB',
    file: 'src/registry/manifest.ts',
    search: "content = await readBounded(res.body, LIMITS.manifestBytes, 'manifest');",
    replace: "content = await readBounded(res.body, 64 * LIMITS.manifestBytes, 'manifest');",
    tests: ['dist/test/unit/registry-manifests.test.js'], pattern: 'over 4 MiB',
  },
  {
    name: 'config mode: the docker config file is written 0644 instead of 0600',
    file: 'src/credentials/docker-config.ts',
    search: "const fh = await open(tmp, 'wx', 0o600);",
    replace: "const fh = await open(tmp, 'wx', 0o644);",
    tests: ['dist/test/unit/credentials-docker-config.test.js', 'dist/test/unit/credentials-cli-login.test.js'],
  },
  {
    name: 'cross-origin credentials: Authorization sent on a redirect to another origin',
    file: 'src/registry/auth.ts',
    search: 'if (url.origin !== origin.origin) {',
    replace: 'if (false && url.origin !== origin.origin) {',
    tests: ['dist/test/e2e/hostile.test.js'], pattern: 'redirected \\(307\\) to another origin',
    figure: /hostile: .*, [1-9]\d* secrets sent.*/,
  },
  {
    name: 'cross-origin upload Location: a session on another origin is followed',
    file: 'src/registry/location.ts',
    search: 'if (url.origin !== origin.origin) {',
    replace: 'if (false && url.origin !== origin.origin) {',
    tests: ['dist/test/e2e/hostile.test.js'], pattern: 'upload Location on another origin',
    figure: /hostile: \d+ cases, (\d+) of (?!\1 )\d+ refused as expected.*/,
  },
  {
    name: 'cross-origin Link: a next page on another origin is followed',
    file: 'src/registry/pagination.ts',
    search: 'if (url.origin !== origin.origin) {',
    replace: 'if (false && url.origin !== origin.origin) {',
    tests: ['dist/test/e2e/hostile.test.js'], pattern: 'Link on another origin',
    figure: /hostile: \d+ cases, (\d+) of (?!\1 )\d+ refused as expected.*/,
  },
];

const only = process.argv.slice(2);
const selected = only.length ? MUTATIONS.filter((m) => only.some((o) => m.name.includes(o))) : MUTATIONS;

const scratchRoot = mkdtempSync(join(tmpdir(), 'wasm-oci-mutate-'));
const cleanup = () => rmSync(scratchRoot, { recursive: true, force: true });
process.on('exit', cleanup);
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => { cleanup(); process.exit(130); });

const tracked = execFileSync('git', ['ls-files', '-z'], { cwd: repo, encoding: 'utf8' }).split('\0').filter(Boolean);

function scratchCopy(name) {
  const dir = join(scratchRoot, name.replace(/[^a-z0-9]+/gi, '-').slice(0, 40));
  for (const f of tracked) {
    mkdirSync(dirname(join(dir, f)), { recursive: true });
    cpSync(join(repo, f), join(dir, f));
  }
  symlinkSync(join(repo, 'node_modules'), join(dir, 'node_modules'));
  return dir;
}

let caught = 0;
const missed = [];
for (const m of selected) {
  const dir = scratchCopy(m.name);
  const path = join(dir, m.file);
  const text = readFileSync(path, 'utf8');
  const count = text.split(m.search).length - 1;
  if (count !== 1) {
    console.log(`✗ ${m.name}: the patch does not apply (${count} matches in ${m.file}); update scripts/mutate.mjs`);
    missed.push(m.name);
    rmSync(dir, { recursive: true, force: true });
    continue;
  }
  writeFileSync(path, text.replace(m.search, m.replace));
  const build = spawnSync('npm', ['run', '--silent', 'build'], { cwd: dir, encoding: 'utf8' });
  if (build.status !== 0) {
    console.log(`✗ ${m.name}: the mutant does not build\n${build.stdout}${build.stderr}`);
    missed.push(m.name);
    rmSync(dir, { recursive: true, force: true });
    continue;
  }
  const args = ['--test', '--test-concurrency=1', '--test-reporter=spec', ...(m.pattern ? ['--test-name-pattern', m.pattern] : []), ...m.tests];
  const run = spawnSync(process.execPath, args, { cwd: dir, encoding: 'utf8', env: { ...process.env, TMPDIR: tmpdir() } });
  const failedLine = /^ℹ fail (\d+)$/m.exec(run.stdout)?.[1] ?? '?';
  const output = `${run.stdout}\n${run.stderr}`;
  const figure = m.figure ? m.figure.exec(output)?.[0] : undefined;
  if (run.status !== 0 && m.figure && figure === undefined) {
    missed.push(m.name);
    console.log(`✗ NOT caught by its figure: ${m.name}: tests fail, but no output matches ${m.figure}`);
  } else if (run.status !== 0) {
    caught++;
    console.log(`✓ caught: ${m.name} (${failedLine} failing in ${m.tests.map((t) => t.split('/').pop()).join(', ')})${figure ? `: ${figure.trim()}` : ''}`);
  } else {
    missed.push(m.name);
    console.log(`✗ NOT caught: ${m.name}: ${m.tests.join(' ')} pass with it`);
  }
  rmSync(dir, { recursive: true, force: true });
}

console.log(`mutations: ${selected.length} tried, ${caught} caught`);
process.exitCode = caught === selected.length ? 0 : 1;
