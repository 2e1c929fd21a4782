import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { lstat, mkdir, readdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import type { ServerResponse } from 'node:http';
import type { Descriptor } from '../../src/oci/types.js';
import { runCli, TEMP_NAME, type CliResult, type RunCliOptions } from '../helpers/cli.js';
import { sha256, startHostileRegistry, startOtherOrigin, type HostileRegistry, type HostileRegistryOptions } from '../helpers/hostile-registry.js';
import type { Received, TestHandler, TestServer } from '../helpers/http-test-server.js';
import { examplesDir } from '../helpers/paths.js';
import { encodedForms, testPassword } from '../helpers/secrets.js';
import { makeSelfSignedCert } from '../helpers/self-signed-cert.js';
import { buildTar, type TarEntrySpec } from '../helpers/tar-builder.js';
import { makeTempDir, type CleanupContext } from '../helpers/tmp.js';

/**
 * Hostile registries (issue 8), every case through the real CLI. Each case is counted: was it
 * refused (or, for the cases that must work, did it work), did anything land outside the output
 * directory, did a secret reach a place that must not see it, was a partial file left.
 *
 * Secrets (issue 16 item 2): every case is given credentials and every registry asks for them,
 * and every server a case starts (the registry, other origins, raw TCP listeners standing for a
 * token realm) records everything it receives. All of it is searched for the password, the
 * `user:password` pair and the token in every encoding (encodedForms): at another origin any of
 * them, or any Authorization header, is a secret sent; at the registry the credentials belong in
 * its Authorization header and nowhere else (a URL, another header, a body).
 */

const TITLE = 'org.opencontainers.image.title';
const SOLO_LAYER = 'application/vnd.module.wasm.content.layer.v1+wasm';
const TAR_GZIP = 'application/vnd.oci.image.layer.v1.tar+gzip';
const IMAGE_CONFIG = 'application/vnd.oci.image.config.v1+json';
const MODULE = await readFile(join(examplesDir, 'example-filter.wasm'));

const USER = 'hostile-user';
const PASSWORD = testPassword('hostile');
const TOKEN = `tok-${randomBytes(16).toString('hex')}`;
const BASIC = Buffer.from(`${USER}:${PASSWORD}`, 'utf8').toString('base64');
/** Every form of every secret a leak could take (plain, base64, base64url, hex, URL-, form-, JSON-encoded). */
const SECRET_FORMS = [PASSWORD, `${USER}:${PASSWORD}`, TOKEN].flatMap((s) => encodedForms(s).map((f) => Buffer.from(f.value, 'utf8')));
/** What the registry's own Authorization header legitimately carries. */
const OWN_AUTHORIZATION = new Set([`Basic ${BASIC}`, `Bearer ${TOKEN}`]);
const CREDS = ['-u', USER, '-p', PASSWORD];

const carriesSecret = (bytes: Buffer): boolean => SECRET_FORMS.some((f) => bytes.includes(f));

interface Outcome {
  name: string;
  expect: 'refuse' | 'work';
  asExpected: boolean;
  escapes: string[];
  partials: string[];
  secretsSent: number;
  credentialsGiven: boolean;
  /** Credentials given, and a leak would have been recorded: a stranger was listening, or the credentials reached the registry (so a copy anywhere else in its traffic would have too). */
  couldObserve: boolean;
  messagesScanned: number;
  bytesScanned: number;
}
const outcomes: Outcome[] = [];

after(() => {
  const refused = outcomes.filter((o) => o.expect === 'refuse' && o.asExpected).length;
  const worked = outcomes.filter((o) => o.expect === 'work' && o.asExpected).length;
  const escapes = outcomes.reduce((n, o) => n + o.escapes.length, 0);
  const secrets = outcomes.reduce((n, o) => n + o.secretsSent, 0);
  const partials = outcomes.reduce((n, o) => n + o.partials.length, 0);
  const expectedRefusals = outcomes.filter((o) => o.expect === 'refuse').length;
  const given = outcomes.filter((o) => o.credentialsGiven).length;
  const observing = outcomes.filter((o) => o.couldObserve).length;
  const messages = outcomes.reduce((n, o) => n + o.messagesScanned, 0);
  const kib = Math.round(outcomes.reduce((n, o) => n + o.bytesScanned, 0) / 1024);
  const line = `hostile: ${outcomes.length} cases, ${refused} of ${expectedRefusals} refused as expected, ${worked} of ${outcomes.length - expectedRefusals} worked as expected, ${escapes} escapes, ${secrets} secrets sent, ${partials} partial files; credentials given in ${given} cases, ${observing} could have observed a leak (${messages} requests and connections, ${kib} KiB scanned)`;
  console.log(line);
});

/** Every path under `dir`, symlinks listed but not followed. */
async function tree(dir: string): Promise<string[]> {
  const out: string[] = [];
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return out;
  }
  for (const e of entries) {
    out.push(e.name);
    if (e.isDirectory()) for (const sub of await tree(join(dir, e.name))) out.push(`${e.name}/${sub}`);
  }
  return out.sort();
}

interface Sandbox {
  /** The case's test: the servers it started are found by it. */
  t: CleanupContext;
  root: string;
  /** The `-o` directory (not created: the CLI creates it). */
  out: string;
  before: string[];
}

async function sandbox(t: CleanupContext, setup?: (root: string) => Promise<void>): Promise<Sandbox> {
  const root = await makeTempDir(t, 'wasm-oci-hostile-');
  await setup?.(root);
  return { t, root, out: join(root, 'out'), before: await tree(root) };
}

/** A server of a case, everything it received kept for the secret scan. */
interface Listener {
  name: string;
  /** The registry the credentials are for: its Authorization header may carry them, nothing else. */
  owner: boolean;
  /** A stranger that may be contacted (a CDN), only never with a secret; no other stranger may be. */
  contactAllowed: boolean;
  received: () => readonly Received[];
}
const listenersOf = new WeakMap<CleanupContext, Listener[]>();

function listen(t: CleanupContext, listener: Listener): void {
  const list = listenersOf.get(t) ?? [];
  list.push(listener);
  listenersOf.set(t, list);
}

/** The case's registry; one without auth of its own asks for the case's credentials (Basic). */
async function registry(t: CleanupContext, options: HostileRegistryOptions = {}): Promise<HostileRegistry> {
  const reg = await startHostileRegistry(t, options.basic || options.bearer ? options : { ...options, basic: { username: USER, password: PASSWORD } });
  listen(t, { name: `registry ${reg.host}`, owner: true, contactAllowed: true, received: () => reg.received });
  return reg;
}

/** Another origin (a token server, a CDN, a foreign Location): records all it receives. */
async function stranger(t: CleanupContext, name: string, handler?: TestHandler, options: { contactAllowed?: boolean } = {}): Promise<TestServer> {
  const server = await startOtherOrigin(t, handler);
  listen(t, { name, owner: false, contactAllowed: options.contactAllowed ?? false, received: () => server.received });
  return server;
}

/** What the scan of one received message finds. */
function scanMessage(listener: Listener, message: Received): { leak: boolean; ownCredentials: boolean; bytes: number } {
  const [head = Buffer.alloc(0), ...body] = message.chunks;
  const bytes = message.chunks.reduce((n, c) => n + c.length, 0);
  const lines = head.toString('utf8').split('\r\n');
  const isAuthorization = (l: string): boolean => /^(proxy-)?authorization\s*:/i.test(l);
  if (!listener.owner) {
    return { leak: lines.some(isAuthorization) || carriesSecret(Buffer.concat(message.chunks)), ownCredentials: false, bytes };
  }
  // The registry: its own credentials in its Authorization header are expected; the rest is searched.
  const own = (l: string): boolean => isAuthorization(l) && OWN_AUTHORIZATION.has(l.replace(/^[^:]*:\s*/, ''));
  const rest = Buffer.concat([Buffer.from(lines.filter((l) => !own(l)).join('\r\n'), 'utf8'), ...body]);
  return { leak: carriesSecret(rest), ownCredentials: lines.some(own), bytes };
}

interface CaseSpec {
  name: string;
  expect: 'refuse' | 'work';
  result: CliResult;
  exit: number;
  /** What stderr must say (the refusal reason, in words a user understands). */
  message?: RegExp;
  /** Where the message is (default stderr; inspect reports a refusal among its verdicts). */
  messageIn?: 'stdout' | 'stderr';
  box: Sandbox;
  /** Directories (relative to the sandbox root) where new files are legitimate besides `out/`. */
  writable?: string[];
}

/** Counts the case and asserts every promise: outcome, no escape, no partial file, no secret sent or printed. */
async function record(spec: CaseSpec): Promise<void> {
  const { result, box } = spec;
  const writable = ['out', ...(spec.writable ?? [])];
  const after = await tree(box.root);
  const escapes = after.filter((p) => !box.before.includes(p) && !writable.some((w) => p === w || p.startsWith(`${w}/`)));
  const written = writable.flatMap((w) => after.filter((p) => p.startsWith(`${w}/`) && !box.before.includes(p)));
  // Partial files wherever the command could leave one: the output directory and beside it (the
  // sandbox root), and the call's own TMPDIR (runCli's leftovers).
  const partials = [...new Set([...written.filter((p) => TEMP_NAME.test(p.split('/').pop()!)), ...result.leftovers])];
  // Every message every server of the case received, searched for every form of every secret.
  let secretsSent = 0;
  let ownCredentialsSent = false;
  let messagesScanned = 0;
  let bytesScanned = 0;
  const contacted: string[] = [];
  const leakedTo: string[] = [];
  const listeners = listenersOf.get(box.t) ?? [];
  for (const l of listeners) {
    const received = l.received();
    for (const m of received) {
      const found = scanMessage(l, m);
      messagesScanned++;
      bytesScanned += found.bytes;
      if (found.ownCredentials) ownCredentialsSent = true;
      if (found.leak) {
        secretsSent++;
        leakedTo.push(l.name);
      }
    }
    if (!l.owner && received.length > 0 && !l.contactAllowed) contacted.push(`${l.name} (${received.length})`);
  }
  const credentialsGiven = argsOf.get(result)?.includes('-p') ?? false;
  const couldObserve = credentialsGiven && (ownCredentialsSent || listeners.some((l) => !l.owner));
  const printed = [result.stdout, result.stderr].filter((text) => carriesSecret(Buffer.from(text, 'utf8'))).length;
  const messageText = spec.messageIn === 'stdout' ? result.stdout : result.stderr;
  const messageOk = spec.message ? spec.message.test(messageText) : true;
  // A refusal writes nothing at all into the output directory.
  const nothingWritten = spec.expect === 'work' || written.length === 0;
  const asExpected = result.code === spec.exit && messageOk && contacted.length === 0 && nothingWritten;
  outcomes.push({ name: spec.name, expect: spec.expect, asExpected, escapes, partials, secretsSent: secretsSent + printed, credentialsGiven, couldObserve, messagesScanned, bytesScanned });

  const detail = `\nexit ${result.code}\nstdout: ${result.stdout}\nstderr: ${result.stderr}`;
  assert.equal(result.code, spec.exit, `exit code${detail}`);
  if (spec.message) assert.match(messageText, spec.message, `error message${detail}`);
  assert.deepEqual(escapes, [], 'nothing written outside the output directory');
  assert.deepEqual(partials, [], 'no partial file left');
  assert.deepEqual(contacted, [], 'origins that must not be contacted were not');
  assert.deepEqual(leakedTo, [], 'no Authorization, password or token sent to another origin, nor to the registry outside its Authorization header');
  assert.ok(credentialsGiven, 'the case was given credentials');
  assert.equal(printed, 0, 'no secret printed');
  if (spec.expect === 'refuse') assert.ok(nothingWritten, `nothing written into the output directory: ${JSON.stringify(written)}`);
}

const argsOf = new WeakMap<CliResult, string[]>();

/**
 * The CLI, given the case's credentials (every hostile case has some to leak), with what it
 * leaves in its TMPDIR or beside -o returned, to be counted as partial files.
 */
async function cli(args: string[], opts: RunCliOptions = {}): Promise<CliResult> {
  const full = args.includes('-p') ? args : [...args, ...CREDS];
  const result = await runCli(full, { leftovers: 'return', ...opts });
  argsOf.set(result, full);
  return result;
}

function pull(ref: string, out: string, ...extra: string[]): Promise<CliResult> {
  return cli(['pull', ref, '-o', out, '--no-tty', ...extra]);
}

function soloLayer(reg: HostileRegistry, title: string, bytes: Uint8Array = MODULE, options = {}): Descriptor {
  return reg.addBlob(bytes, SOLO_LAYER, { [TITLE]: title }, options);
}

async function compatArtifact(reg: HostileRegistry, tag: string, entries: TarEntrySpec[]): Promise<Descriptor> {
  const layer = await buildTar(entries);
  const config = Buffer.from(JSON.stringify({ architecture: 'wasm', os: 'wasip1', rootfs: { type: 'layers', diff_ids: [] } }));
  return reg.putArtifact(tag, [reg.addBlob(layer, TAR_GZIP)], { bytes: config, mediaType: IMAGE_CONFIG });
}

const UNSAFE = 7;
const INTEGRITY = 5;
const AUTH = 3;

describe('hostile registry: names that climb out of the output directory', () => {
  for (const title of ['../x', '/abs/x', 'a/../../x']) {
    test(`layer title ${title} is refused`, async (t) => {
      const reg = await registry(t);
      reg.putArtifact('v1', [soloLayer(reg, 'fine.wasm'), reg.addBlob(Buffer.from('escaped'), 'text/plain', { [TITLE]: title })]);
      const box = await sandbox(t);
      const result = await pull(reg.ref('v1'), box.out, '--plain-http');
      await record({ name: `title ${title}`, expect: 'refuse', result, exit: UNSAFE, message: /refused to write/, box });
      assert.equal(reg.requests.filter((r) => r.url.includes('/blobs/')).length, 0, 'names are checked before any blob is fetched');
    });
  }

  test('-o naming a symlink to a directory elsewhere writes into that directory', async (t) => {
    const reg = await registry(t);
    reg.putArtifact('v1', [soloLayer(reg, 'filter.wasm')]);
    const box = await sandbox(t, async (root) => {
      await mkdir(join(root, 'elsewhere'));
    });
    const link = join(box.root, 'out');
    await symlink(join(box.root, 'elsewhere'), link);
    box.before = await tree(box.root);
    const result = await pull(reg.ref('v1'), link, '--plain-http');
    await record({ name: '-o through a symlink', expect: 'work', result, exit: 0, box, writable: ['elsewhere'] });
    assert.deepEqual(await readFile(join(box.root, 'elsewhere', 'filter.wasm')), MODULE);
    assert.ok((await lstat(link)).isSymbolicLink(), 'the symlink the user named is left as it is');
  });

  test('a symlink at the file path inside the output directory is replaced, not followed', async (t) => {
    const reg = await registry(t);
    reg.putArtifact('v1', [soloLayer(reg, 'filter.wasm')]);
    const box = await sandbox(t, async (root) => {
      await writeFile(join(root, 'victim.txt'), 'precious');
      await mkdir(join(root, 'out'));
      await symlink(join(root, 'victim.txt'), join(root, 'out', 'filter.wasm'));
    });
    const result = await pull(reg.ref('v1'), box.out, '--plain-http');
    await record({ name: 'symlink at the file path', expect: 'work', result, exit: 0, box });
    assert.equal(await readFile(join(box.root, 'victim.txt'), 'utf8'), 'precious');
    assert.ok((await lstat(join(box.out, 'filter.wasm'))).isFile());
    assert.deepEqual(await readFile(join(box.out, 'filter.wasm')), MODULE);
  });

  test('a directory symlink inside the output directory that leads outside is refused', async (t) => {
    const reg = await registry(t);
    reg.putArtifact('v1', [soloLayer(reg, 'sub/filter.wasm')]);
    const box = await sandbox(t, async (root) => {
      await mkdir(join(root, 'outside'));
      await mkdir(join(root, 'out'));
      await symlink(join(root, 'outside'), join(root, 'out', 'sub'));
    });
    const result = await pull(reg.ref('v1'), box.out, '--plain-http');
    await record({ name: 'directory symlink inside -o', expect: 'refuse', result, exit: UNSAFE, message: /symlink that leads outside/, box });
    assert.deepEqual(await readdir(join(box.root, 'outside')), []);
  });
});

describe('hostile registry: compat tar layers', () => {
  const cases: Array<{ label: string; entries: TarEntrySpec[]; exit: number; message: RegExp; extra?: string[] }> = [
    { label: '../plugin.wasm', entries: [{ name: '../plugin.wasm', body: MODULE }], exit: UNSAFE, message: /refused to write "\.\.\/plugin\.wasm"/ },
    { label: 'a symlink named plugin.wasm', entries: [{ name: 'plugin.wasm', type: 'symlink', linkname: '../victim.txt' }], exit: UNSAFE, message: /is a symlink/ },
    { label: 'a hard link named plugin.wasm', entries: [{ name: 'other', body: 'x' }, { name: 'plugin.wasm', type: 'link', linkname: '../victim.txt' }], exit: UNSAFE, message: /is a link/ },
    { label: 'a device named plugin.wasm', entries: [{ name: 'plugin.wasm', type: 'character-device' }], exit: UNSAFE, message: /is a character-device/ },
    {
      label: 'a gzip bomb plugin.wasm (8 MiB of zeros, limit 1 MiB)',
      entries: [{ name: 'plugin.wasm', zeros: 8 * 1024 * 1024 }],
      exit: INTEGRITY, message: /over the limit of 1048576|exceeds 1048576/, extra: ['--module-size-limit', '1048576'],
    },
    {
      label: 'a gzip bomb of junk entries (24 MiB, limit 1 MiB)',
      entries: [{ name: 'junk-1', zeros: 8 * 1024 * 1024 }, { name: 'junk-2', zeros: 8 * 1024 * 1024 }, { name: 'junk-3', zeros: 8 * 1024 * 1024 }, { name: 'plugin.wasm', body: MODULE }],
      exit: INTEGRITY, message: /uncompressed layer .* exceeds/, extra: ['--module-size-limit', '1048576'],
    },
  ];
  for (const c of cases) {
    test(`compat tar holding ${c.label} is refused`, async (t) => {
      const reg = await registry(t);
      await compatArtifact(reg, 'v1', c.entries);
      const box = await sandbox(t, async (root) => writeFile(join(root, 'victim.txt'), 'precious'));
      const result = await pull(reg.ref('v1'), box.out, '--plain-http', ...(c.extra ?? []));
      await record({ name: `compat tar: ${c.label}`, expect: 'refuse', result, exit: c.exit, message: c.message, box });
      assert.equal(await readFile(join(box.root, 'victim.txt'), 'utf8'), 'precious');
    });
  }

  const inspectCases: Array<{ label: string; entries: TarEntrySpec[]; message: RegExp; extra?: string[] }> = [
    { label: 'a symlink named plugin.wasm', entries: [{ name: 'plugin.wasm', type: 'symlink', linkname: '../victim.txt' }], message: /is a symlink/ },
    { label: 'a gzip bomb plugin.wasm', entries: [{ name: 'plugin.wasm', zeros: 8 * 1024 * 1024 }], message: /over the limit of 1048576|exceeds 1048576/, extra: ['--module-size-limit', '1048576'] },
  ];
  for (const c of inspectCases) {
    test(`inspect of a compat tar holding ${c.label} reports the refusal and writes nothing`, async (t) => {
      const reg = await registry(t);
      await compatArtifact(reg, 'v1', c.entries);
      const box = await sandbox(t, async (root) => {
        await writeFile(join(root, 'victim.txt'), 'precious');
        await mkdir(join(root, 'tmp'));
      });
      // inspect extracts into a temp dir: point TMPDIR into the sandbox to see it is removed.
      const result = await cli(['inspect', reg.ref('v1'), '--plain-http', '--format', 'json', '--no-tty', ...(c.extra ?? [])], { env: { TMPDIR: join(box.root, 'tmp') } });
      await record({ name: `inspect, compat tar: ${c.label}`, expect: 'refuse', result, exit: 0, message: c.message, messageIn: 'stdout', box, writable: ['tmp'] });
      const report = JSON.parse(result.stdout) as { module?: { error?: string }; verdicts: Array<{ consumer: string; ok: boolean }> };
      assert.match(report.module?.error ?? '', c.message);
      assert.equal(report.verdicts.find((v) => v.consumer === 'istio')?.ok, false, 'Istio would not load it');
      assert.deepEqual(await readdir(join(box.root, 'tmp')), [], 'the temp extraction dir is removed');
      assert.equal(await readFile(join(box.root, 'victim.txt'), 'utf8'), 'precious');
    });
  }

  test('the default module limit is 256 MiB: a tar entry declaring more is refused from its header', async (t) => {
    const reg = await registry(t);
    // A tar whose header claims a 300 MiB plugin.wasm but whose data stops short: refused on the header alone.
    const tar = await buildTar([{ name: 'plugin.wasm', body: MODULE }], { gzip: false });
    const header = Buffer.from(tar.subarray(0, 512));
    header.write((300 * 1024 * 1024).toString(8).padStart(11, '0') + '\0', 124, 12, 'ascii');
    header.fill(0x20, 148, 156);
    let sum = 0;
    for (const b of header) sum += b;
    header.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 8, 'ascii');
    const { gzipSync } = await import('node:zlib');
    const layer = gzipSync(Buffer.concat([header, tar.subarray(512)]));
    const config = Buffer.from(JSON.stringify({ architecture: 'wasm', os: 'wasip1' }));
    reg.putArtifact('v1', [reg.addBlob(layer, TAR_GZIP)], { bytes: config, mediaType: IMAGE_CONFIG });
    const box = await sandbox(t);
    const result = await pull(reg.ref('v1'), box.out, '--plain-http');
    await record({ name: 'compat tar: entry over the 256 MiB default', expect: 'refuse', result, exit: INTEGRITY, message: /over the limit of 268435456/, box });
  });
});

describe('hostile registry: content that does not match its descriptor', () => {
  test('a blob whose bytes differ from its digest leaves no file', async (t) => {
    const reg = await registry(t);
    const evil = Buffer.from(MODULE);
    evil[evil.length - 1] ^= 0xff;
    reg.putArtifact('v1', [soloLayer(reg, 'filter.wasm', MODULE, { serve: evil })]);
    const box = await sandbox(t);
    const result = await pull(reg.ref('v1'), box.out, '--plain-http');
    await record({ name: 'blob digest mismatch', expect: 'refuse', result, exit: INTEGRITY, message: /digest/i, box });
  });

  test('a blob longer than its descriptor says leaves no file', async (t) => {
    const reg = await registry(t);
    reg.putArtifact('v1', [soloLayer(reg, 'filter.wasm', MODULE, { serve: Buffer.concat([MODULE, Buffer.from('trailing junk')]) })]);
    const box = await sandbox(t);
    const result = await pull(reg.ref('v1'), box.out, '--plain-http');
    await record({ name: 'blob longer than its size', expect: 'refuse', result, exit: INTEGRITY, message: /size|bytes/i, box });
  });

  test('a descriptor whose size is smaller than the blob leaves no file', async (t) => {
    const reg = await registry(t);
    reg.putArtifact('v1', [soloLayer(reg, 'filter.wasm', MODULE, { declaredSize: MODULE.length - 10 })]);
    const box = await sandbox(t);
    const result = await pull(reg.ref('v1'), box.out, '--plain-http');
    await record({ name: 'descriptor size too small', expect: 'refuse', result, exit: INTEGRITY, message: /size|bytes/i, box });
  });

  test('a blob shorter than its descriptor says leaves no file', async (t) => {
    const reg = await registry(t);
    reg.putArtifact('v1', [soloLayer(reg, 'filter.wasm', MODULE, { serve: MODULE.subarray(0, MODULE.length - 100) })]);
    const box = await sandbox(t);
    const result = await pull(reg.ref('v1'), box.out, '--plain-http');
    await record({ name: 'blob shorter than its size', expect: 'refuse', result, exit: INTEGRITY, message: /size|bytes|ended/i, box });
  });

  test('a manifest that does not match the digest the registry announced is refused', async (t) => {
    const reg = await registry(t);
    reg.putArtifact('v1', [soloLayer(reg, 'filter.wasm')]);
    const liar = sha256(Buffer.from('something else'));
    reg.intercept((req, res) => {
      // Announced under the tag, then served by that digest with other bytes.
      if (!req.url?.endsWith('/manifests/v1') && !req.url?.endsWith(`/manifests/${liar}`)) return false;
      const body = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: { mediaType: 'x', digest: liar, size: 1 }, layers: [] }));
      res.writeHead(200, { 'content-type': 'application/vnd.oci.image.manifest.v1+json', 'docker-content-digest': liar, 'content-length': body.length });
      res.end(req.method === 'HEAD' ? undefined : body);
      return true;
    });
    const box = await sandbox(t);
    const result = await pull(reg.ref('v1'), box.out, '--plain-http');
    await record({ name: 'manifest digest mismatch', expect: 'refuse', result, exit: INTEGRITY, message: /digest/i, box });
  });

  test('a manifest over 4 MiB is refused', async (t) => {
    const reg = await registry(t);
    const layers = [soloLayer(reg, 'filter.wasm')];
    const big = { schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: reg.addBlob(Buffer.from('{}'), 'application/vnd.oci.empty.v1+json'), layers, annotations: { padding: 'x'.repeat(5 * 1024 * 1024) } };
    reg.putManifest('v1', big);
    const box = await sandbox(t);
    const result = await pull(reg.ref('v1'), box.out, '--plain-http');
    await record({ name: 'manifest over 4 MiB', expect: 'refuse', result, exit: INTEGRITY, message: /limit of 4194304|4194304-byte limit/, box });
  });

  test('a manifest over 4 MiB without Content-Length, after a HEAD that claimed a small one, is refused', async (t) => {
    const reg = await registry(t);
    const body = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', layers: [], annotations: { padding: 'x'.repeat(5 * 1024 * 1024) } }));
    reg.intercept((req, res) => {
      if (!req.url?.includes('/manifests/')) return false;
      if (req.method === 'HEAD') {
        // A small, valid-looking descriptor: the GET must still be bounded.
        res.writeHead(200, { 'content-type': 'application/vnd.oci.image.manifest.v1+json', 'docker-content-digest': sha256(body), 'content-length': 512 });
        res.end();
        return true;
      }
      res.writeHead(200, { 'content-type': 'application/vnd.oci.image.manifest.v1+json' });
      res.end(body);
      return true;
    });
    const box = await sandbox(t);
    const result = await pull(reg.ref('v1'), box.out, '--plain-http');
    await record({ name: 'manifest over 4 MiB, chunked', expect: 'refuse', result, exit: INTEGRITY, message: /4194304/, box });
  });

  test('an endless manifest body is refused after a bounded read', async (t) => {
    const reg = await registry(t);
    let sent = 0;
    let hungUp = false;
    const CAP = 512 * 1024 * 1024;
    reg.intercept(async (req, res) => {
      if (!req.url?.includes('/manifests/')) return false;
      res.writeHead(200, { 'content-type': 'application/vnd.oci.image.manifest.v1+json' });
      if (req.method === 'HEAD') {
        res.end();
        return true;
      }
      res.on('close', () => { hungUp = true; });
      const chunk = Buffer.alloc(64 * 1024, 0x20);
      res.write('{"schemaVersion":2,"annotations":{"a":"');
      while (!hungUp && !res.destroyed && sent < CAP) {
        sent += chunk.length;
        if (!res.write(chunk)) {
          await new Promise<void>((resolve) => {
            const done = (): void => {
              res.off('drain', done);
              res.off('close', done);
              resolve();
            };
            res.on('drain', done);
            res.on('close', done);
          });
        }
      }
      res.end();
      return true;
    });
    const box = await sandbox(t);
    const result = await pull(reg.ref('v1'), box.out, '--plain-http');
    await record({ name: 'endless manifest', expect: 'refuse', result, exit: INTEGRITY, message: /4194304/, box });
    // The client hung up soon after 4 MiB: the rest of what was sent sat in socket buffers.
    assert.ok(hungUp, 'the client closed the connection');
    assert.ok(sent < 64 * 1024 * 1024, `bounded read: ${sent} bytes were sent before the client hung up`);
  });
});

/**
 * A raw TCP listener on host:port standing for a token realm that must never be contacted: every
 * byte of every connection is kept for the secret scan. It answers like a token server once a
 * request's headers are in, so a client that got this far would go on and use the "token".
 */
async function realmListener(t: CleanupContext, host: string): Promise<{ port: number } | undefined> {
  const sockets = new Set<Socket>();
  const received: Received[] = [];
  const server: Server = createServer((s) => {
    const connection: Received = { chunks: [] };
    received.push(connection);
    sockets.add(s);
    let answered = false;
    s.on('data', (c: Buffer) => {
      connection.chunks.push(c);
      if (answered || !Buffer.concat(connection.chunks).includes('\r\n\r\n')) return;
      answered = true;
      s.end('HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 27\r\n\r\n{"token":"leaked-if-used"}\n');
    });
    s.on('error', () => undefined);
    s.on('close', () => sockets.delete(s));
  });
  const ok = await new Promise<boolean>((resolve) => {
    server.once('error', () => resolve(false));
    server.listen(0, host, () => resolve(true));
  });
  if (!ok) return undefined;
  t.after(() => {
    for (const s of sockets) s.destroy();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  listen(t, { name: `raw realm listener ${host}:${port}`, owner: false, contactAllowed: false, received: () => received });
  return { port };
}

describe('hostile registry: where credentials go', () => {
  test('a token realm that downgrades an HTTPS registry to plain HTTP is refused', async (t) => {
    const dir = await makeTempDir(t);
    const cert = await makeSelfSignedCert(dir, 'registry');
    const issuer = await stranger(t, 'http token realm', (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ token: TOKEN }));
    });
    const reg = await registry(t, { tls: { cert: cert.certPem, key: cert.keyPem }, bearer: { realm: `${issuer.origin}/token`, token: TOKEN } });
    reg.putArtifact('v1', [soloLayer(reg, 'filter.wasm')]);
    const box = await sandbox(t);
    const result = await pull(reg.ref('v1'), box.out, '--ca-file', cert.certFile, ...CREDS);
    await record({
      name: 'realm downgrade https -> http', expect: 'refuse', result, exit: AUTH, message: /downgrade/, box,
    });
    assert.ok(reg.requests.length > 0, 'the registry itself was asked (over TLS)');
  });

  const realms: Array<{ label: string; host?: string; realm: (port: number) => string }> = [
    { label: 'localhost', host: '127.0.0.1', realm: (p) => `http://localhost:${p}/token` },
    { label: '127.0.0.2', host: '127.0.0.2', realm: (p) => `http://127.0.0.2:${p}/token` },
    { label: '[::1]', host: '::1', realm: (p) => `http://[::1]:${p}/token` },
    { label: '10.0.0.1 (never contacted: no listener)', realm: () => 'http://10.0.0.1:5001/token' },
    { label: '192.168.1.1 (never contacted: no listener)', realm: () => 'https://192.168.1.1/token' },
  ];
  for (const r of realms) {
    test(`a token realm on ${r.label}, not the registry's own host, is refused before connecting`, async (t) => {
      const counter = r.host ? await realmListener(t, r.host) : undefined;
      const realm = r.realm(counter?.port ?? 0);
      const reg = await registry(t, { bearer: { realm, token: TOKEN } });
      reg.putArtifact('v1', [soloLayer(reg, 'filter.wasm')]);
      const box = await sandbox(t);
      const result = await pull(reg.ref('v1'), box.out, '--plain-http', '--debug', ...CREDS);
      const realmHost = new URL(realm).host;
      await record({
        name: `realm on ${r.label}`, expect: 'refuse', result, exit: AUTH, message: /refused token realm .* (loopback|private) address other than the registry/, box,
      });
      // The debug trace lists every request before it is sent: none went to the realm.
      const sentTo = result.stderr.split('\n').flatMap((l) => {
        const m = /^> [A-Z]+ (\S+)/.exec(l.trim());
        return m ? [new URL(m[1]!).host] : [];
      });
      assert.ok(sentTo.includes(reg.host), `the debug trace lists the requests: ${JSON.stringify(sentTo)}`);
      assert.ok(!sentTo.includes(realmHost), 'no request to the realm was started');
    });
  }

  test('a token realm on the registry\'s own host works (HTTPS, --ca-file)', async (t) => {
    const dir = await makeTempDir(t);
    const cert = await makeSelfSignedCert(dir, 'registry');
    const reg = await registry(t, { tls: { cert: cert.certPem, key: cert.keyPem }, bearer: { realm: 'self', token: TOKEN, username: USER, password: PASSWORD } });
    reg.putArtifact('v1', [soloLayer(reg, 'filter.wasm')]);
    const box = await sandbox(t);
    const result = await pull(reg.ref('v1'), box.out, '--ca-file', cert.certFile, ...CREDS);
    await record({ name: 'realm on the registry host', expect: 'work', result, exit: 0, box });
    assert.deepEqual(await readFile(join(box.out, 'filter.wasm')), MODULE);
    const tokenRequests = reg.requests.filter((q) => q.url.startsWith('/token'));
    assert.ok(tokenRequests.length >= 1 && tokenRequests.every((q) => q.headers.authorization === `Basic ${BASIC}`), 'the token was asked for with the credentials, from the registry\'s own host');
  });

  test('an upload Location on another origin is refused and gets nothing', async (t) => {
    const foreign = await stranger(t, 'foreign upload Location');
    const reg = await registry(t, { basic: { username: USER, password: PASSWORD } });
    reg.intercept((req, res) => {
      if (req.method !== 'POST' || !req.url?.includes('/blobs/uploads/') || req.headers.authorization === undefined) return false;
      res.writeHead(202, { location: `${foreign.origin}/v2/${reg.repository}/blobs/uploads/stolen`, 'content-length': 0 });
      res.end();
      return true;
    });
    const box = await sandbox(t);
    const result = await cli(['push', reg.ref('v1'), join(examplesDir, 'example-filter.wasm'), '--plain-http', '--no-tty', ...CREDS], { cwd: box.root });
    await record({
      name: 'upload Location on another origin', expect: 'refuse', result, exit: AUTH, message: /refused upload Location on another origin/, box,
    });
    assert.ok(reg.requests.some((q) => q.headers.authorization === `Basic ${BASIC}`), 'credentials were in use with the registry itself');
    assert.ok(!reg.requests.some((q) => q.method === 'PUT' && q.url.includes('/manifests/')), 'no manifest was pushed');
  });

  test('a tag list Link on another origin is refused and gets nothing', async (t) => {
    const foreign = await stranger(t, 'foreign Link');
    const reg = await registry(t, { basic: { username: USER, password: PASSWORD } });
    reg.intercept((req, res) => {
      if (!req.url?.includes('/tags/list') || req.headers.authorization === undefined) return false;
      const body = JSON.stringify({ name: reg.repository, tags: ['a'] });
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length, link: `<${foreign.origin}/v2/${reg.repository}/tags/list?last=a>; rel="next"` });
      res.end(body);
      return true;
    });
    const box = await sandbox(t);
    const result = await cli(['repo', 'tags', `${reg.host}/${reg.repository}`, '--plain-http', '--no-tty', ...CREDS], { cwd: box.root });
    await record({
      name: 'tag list Link on another origin', expect: 'refuse', result, exit: AUTH, message: /refused pagination Link to another origin/, box,
    });
  });

  test('a blob GET redirected (307) to another origin is followed without Authorization and the pull works', async (t) => {
    const cdn = await stranger(t, 'CDN', (req, res: ServerResponse) => {
      if (req.url === '/cdn/filter.wasm?sig=abc') {
        res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': MODULE.length });
        res.end(MODULE);
        return;
      }
      res.writeHead(404);
      res.end();
    }, { contactAllowed: true });
    const reg = await registry(t, { bearer: { realm: 'self', token: TOKEN, username: USER, password: PASSWORD } });
    reg.putArtifact('v1', [soloLayer(reg, 'filter.wasm', MODULE, { redirectTo: `${cdn.origin}/cdn/filter.wasm?sig=abc` })]);
    const box = await sandbox(t);
    const result = await pull(reg.ref('v1'), box.out, '--plain-http', ...CREDS);
    await record({
      name: 'blob redirect to another origin', expect: 'work', result, exit: 0, box,
    });
    assert.deepEqual(await readFile(join(box.out, 'filter.wasm')), MODULE);
    assert.ok(cdn.requests.some((q) => q.method === 'GET' && q.url.startsWith('/cdn/')), 'the redirect was followed');
    assert.ok(reg.requests.some((q) => q.headers.authorization === `Bearer ${TOKEN}` && q.url.includes('/blobs/')), 'the registry got the token for the blob GET');
  });

  test('a blob redirect from an HTTPS registry to plain HTTP is refused', async (t) => {
    const dir = await makeTempDir(t);
    const cert = await makeSelfSignedCert(dir, 'registry');
    const cdn = await stranger(t, 'plain HTTP CDN', (_req, res) => {
      res.writeHead(200, { 'content-length': MODULE.length });
      res.end(MODULE);
    });
    const reg = await registry(t, { tls: { cert: cert.certPem, key: cert.keyPem }, bearer: { realm: 'self', token: TOKEN, username: USER, password: PASSWORD } } satisfies HostileRegistryOptions);
    reg.putArtifact('v1', [soloLayer(reg, 'filter.wasm', MODULE, { redirectTo: `${cdn.origin}/cdn/filter.wasm` })]);
    const box = await sandbox(t);
    const result = await pull(reg.ref('v1'), box.out, '--ca-file', cert.certFile, ...CREDS);
    await record({
      name: 'blob redirect https -> http', expect: 'refuse', result, exit: AUTH, message: /refused redirect from HTTPS to plain HTTP/, box,
    });
  });
});
