import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runCli, type CliResult } from '../helpers/cli.js';
import { startDistribution, type RegistryMode, type RunningRegistry } from '../helpers/distribution.js';
import {
  anyAuthorization, isBlobGet, isManifestRequest, isUpload, startBlobServer, startFaultProxy,
  type FaultProxy, type RequestInfo,
} from '../helpers/fault-proxy.js';
import { examplesDir } from '../helpers/paths.js';
import { makeTempDir, type CleanupContext } from '../helpers/tmp.js';
import { padModule } from '../helpers/wasm-padding.js';
import { ERROR_CODES } from '../../src/errors.js';

// What no real registry does on demand, injected by an in-process proxy in front of a real
// Distribution: resets mid-blob, 429 and 503, redirects to another origin, corrupt bodies, a
// failed upload. The CLI talks to the proxy's URL with --plain-http.

const FILTER = join(examplesDir, 'example-filter.wasm');
const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');
const digestOfBytes = (b: Uint8Array): string => `sha256:${sha256(b)}`;
const exitOf = (code: keyof typeof ERROR_CODES): number => ERROR_CODES[code].exitCode;
function ok(r: CliResult, what: string): CliResult {
  assert.equal(r.code, 0, `${what} failed (${r.code}): ${r.stderr}`);
  return r;
}

const tally = { injected: 0, asExpected: 0 };
after(() => {
  console.log(`faults: ${tally.injected} injected, ${tally.asExpected} survived/refused as expected`);
});

interface Bed { reg: RunningRegistry; proxy: FaultProxy; dir: string; creds: string[] }

/** A fresh registry with the fault proxy in front; the proxy's counters join the file's tally. */
async function bed(t: CleanupContext, mode: RegistryMode = 'plain'): Promise<Bed & { done(): void }> {
  const reg = await startDistribution({ mode, t });
  const proxy = await startFaultProxy({ upstream: reg.url });
  const dir = await makeTempDir(t);
  t.after(async () => {
    tally.injected += proxy.faultsInjected;
    await proxy.close();
  });
  const creds = reg.username ? ['-u', reg.username, '-p', reg.password!] : [];
  // Called when every assertion about the injected faults has held.
  return { reg, proxy, dir, creds, done: () => { tally.asExpected += proxy.faultsInjected; } };
}

/** The example filter with a custom section of random bytes appended: still a valid proxy-wasm module, but big. */
async function bigModule(dir: string, payloadBytes: number): Promise<{ path: string; bytes: Buffer }> {
  const bytes = padModule(await readFile(FILTER), randomBytes(payloadBytes));
  const path = join(dir, 'big-filter.wasm');
  await writeFile(path, bytes);
  return { path, bytes };
}

/** Pushes straight to the registry (no faults), returns the manifest digest. */
async function pushDirect(b: Bed, repoTag: string, file: string): Promise<string> {
  const r = ok(await runCli(['push', `${b.reg.host}/${repoTag}`, file, '--plain-http', ...b.creds]), 'push');
  return /^Digest: (sha256:[a-f0-9]{64})$/m.exec(r.stdout)![1]!;
}
const blobGetOf = (digest: string) => (r: RequestInfo): boolean => isBlobGet(r) && r.path.endsWith(digest);

test('a connection reset in the middle of a blob is resumed with Range and the pull is byte-identical', async (t) => {
  const b = await bed(t);
  const big = await bigModule(b.dir, 2 * 1024 * 1024);
  await pushDirect(b, 'big:v1', big.path);
  const layer = digestOfBytes(big.bytes);
  const cut = 512 * 1024;
  b.proxy.addFault({ match: blobGetOf(layer), fault: { kind: 'reset-mid-body', afterBytes: cut }, times: 2 });

  const out = join(b.dir, 'out');
  ok(await runCli(['pull', `${b.proxy.host}/big:v1`, '--plain-http', '-o', out]), 'pull through resets');
  assert.deepEqual(await readFile(join(out, 'big-filter.wasm')), big.bytes);

  const gets = b.proxy.requests.filter(blobGetOf(layer));
  const starts = gets.map((r) => /^bytes=(\d+)-$/.exec(String(r.headers.range ?? ''))?.[1]).map((s) => (s === undefined ? 0 : Number(s)));
  assert.equal(gets.length, 3, 'two resets, two resumed requests');
  assert.equal(starts[0], 0);
  assert.ok(starts[1]! > 0 && starts[1]! <= cut, `the first resume starts where the bytes stopped (${starts[1]})`);
  assert.ok(starts[2]! > starts[1]! && starts[2]! <= starts[1]! + cut, `the second resume moves on (${starts[2]})`);
  assert.equal(gets[1]!.status, 206, 'the registry served the range');
  assert.equal(b.proxy.faultsByKind()['reset-mid-body'], 2);
  b.done();
});

test('a body that ends early without a transport error is resumed once, and refused when it keeps ending early', async (t) => {
  const b = await bed(t);
  await pushDirect(b, 'short:v1', FILTER);
  const module = await readFile(FILTER);
  const layer = digestOfBytes(module);
  b.proxy.addFault({ match: blobGetOf(layer), fault: { kind: 'truncate' }, times: 1 });
  const out = join(b.dir, 'out');
  ok(await runCli(['pull', `${b.proxy.host}/short:v1`, '--plain-http', '-o', out]), 'pull through one short body');
  assert.deepEqual(await readFile(join(out, 'example-filter.wasm')), module);
  const resumed = b.proxy.requests.filter(blobGetOf(layer));
  assert.equal(resumed.length, 2);
  assert.equal(resumed[1]!.headers.range, `bytes=${Math.floor(module.length / 2)}-`, 'resumed where the short body stopped');

  b.proxy.addFault({ match: blobGetOf(layer), fault: { kind: 'truncate' } });
  const out2 = join(b.dir, 'out2');
  await mkdir(out2);
  const failed = await runCli(['pull', `${b.proxy.host}/short:v1`, '--plain-http', '-o', out2]);
  assert.equal(failed.code, exitOf('E_NETWORK'), failed.stderr);
  assert.match(failed.stderr, new RegExp(`${layer} ended after \\d+ of ${module.length} bytes`));
  assert.deepEqual(await readdir(out2), [], 'nothing written');
  b.done();
});

test('429 with Retry-After: 1 is waited out; a burst of 503s is retried; a 503 that never ends gives up', async (t) => {
  const b = await bed(t);
  const digest = await pushDirect(b, 'busy:v1', FILTER);
  const module = await readFile(FILTER);
  const seen: Array<{ at: number; method: string; url: string }> = [];
  // A rule that never fires, first in line: it timestamps every request the proxy receives.
  b.proxy.addFault({ match: (r) => { seen.push({ at: Date.now(), method: r.method, url: r.url }); return false; }, fault: { kind: 'stall', ms: 0 } });
  b.proxy.addFault({ match: isManifestRequest, fault: { kind: 'status', status: 429, retryAfter: 1 }, times: 1 });
  b.proxy.addFault({ match: blobGetOf(digestOfBytes(module)), fault: { kind: 'status', status: 503 }, times: 3 });

  const out = join(b.dir, 'out');
  const pulled = ok(await runCli(['pull', `${b.proxy.host}/busy:v1`, '--plain-http', '-o', out]), 'pull through 429 and 503s');
  assert.match(pulled.stdout, new RegExp(`Digest: ${digest}`));
  assert.deepEqual(await readFile(join(out, 'example-filter.wasm')), module);

  const limited = b.proxy.requests.findIndex((r) => r.status === 429);
  assert.ok(limited >= 0);
  const again = seen.findIndex((s, i) => i > limited && s.method === seen[limited]!.method && s.url === seen[limited]!.url);
  assert.ok(again > limited, 'the rate-limited request was sent again');
  const waited = seen[again]!.at - seen[limited]!.at;
  assert.ok(waited >= 950, `waited ${waited} ms, Retry-After asked for 1 s`);
  const blobStatuses = b.proxy.requests.filter(blobGetOf(digestOfBytes(module))).map((r) => r.status);
  assert.deepEqual(blobStatuses, [503, 503, 503, 200]);

  // A registry that stays down: bounded retries, then the network/registry exit code.
  b.proxy.addFault({ match: isManifestRequest, fault: { kind: 'status', status: 503 } });
  const before = b.proxy.requests.length;
  const down = await runCli(['resolve', `${b.proxy.host}/busy:v1`, '--plain-http']);
  assert.equal(down.code, exitOf('E_REGISTRY'), down.stderr);
  assert.match(down.stderr, /503/);
  const attempts = b.proxy.requests.slice(before).filter(isManifestRequest).length;
  assert.ok(attempts >= 2 && attempts <= 10, `retried a bounded number of times (${attempts})`);
  b.done();
});

test('a blob redirected to another origin is fetched without the Authorization header', async (t) => {
  const b = await bed(t, 'plain-htpasswd');
  await pushDirect(b, 'secure/filter:v1', FILTER);
  const blobs = await startBlobServer();
  t.after(() => blobs.close());
  // The blob server holds every blob of the artifact, as S3 behind a registry would.
  const auth = `Basic ${Buffer.from(`${b.reg.username}:${b.reg.password}`).toString('base64')}`;
  const manifest = await (await fetch(`${b.reg.url}/v2/secure/filter/manifests/v1`, { headers: { authorization: auth, accept: 'application/vnd.oci.image.manifest.v1+json' } })).json() as { config: { digest: string }; layers: Array<{ digest: string }> };
  for (const d of [manifest.config, ...manifest.layers]) {
    const res = await fetch(`${b.reg.url}/v2/secure/filter/blobs/${d.digest}`, { headers: { authorization: auth } });
    blobs.addBlob(d.digest, Buffer.from(await res.arrayBuffer()));
  }
  b.proxy.addFault({ match: isBlobGet, fault: { kind: 'redirect-blob-to-other-origin', to: blobs.url, status: 307 } });

  const out = join(b.dir, 'out');
  ok(await runCli(['pull', `${b.proxy.host}/secure/filter:v1`, '--plain-http', ...b.creds, '-o', out]), 'pull with a redirect');
  assert.deepEqual(await readFile(join(out, 'example-filter.wasm')), await readFile(FILTER));
  assert.ok(b.proxy.faultsInjected >= 1, 'the blob GET was redirected');
  assert.ok(blobs.requests.some((r) => r.method === 'GET' && r.status === 200), 'the other origin served the blob');
  assert.equal(anyAuthorization(blobs.requests), false, 'no Authorization header crossed origins');
  assert.ok(b.proxy.requests.some((r) => isManifestRequest(r) && r.headers.authorization !== undefined), 'the registry itself did get credentials');
  b.done();
});

test('a blob that does not match its digest fails with the integrity exit code and leaves no file', async (t) => {
  const b = await bed(t);
  await pushDirect(b, 'tampered:v1', FILTER);
  const layer = digestOfBytes(await readFile(FILTER));
  b.proxy.addFault({ match: blobGetOf(layer), fault: { kind: 'corrupt-body' } });

  const out = join(b.dir, 'out');
  await mkdir(out);
  const pulled = await runCli(['pull', `${b.proxy.host}/tampered:v1`, '--plain-http', '-o', out]);
  assert.equal(pulled.code, exitOf('E_DIGEST_MISMATCH'), pulled.stderr);
  assert.match(pulled.stderr, /digest mismatch|does not match/i);
  assert.deepEqual(await readdir(out), [], 'no module, no partial or temp file');

  const blobOut = join(b.dir, 'blob');
  await mkdir(blobOut);
  const fetched = await runCli(['blob', 'fetch', `${b.proxy.host}/tampered@${layer}`, '--plain-http', '-o', join(blobOut, 'layer.wasm')]);
  assert.equal(fetched.code, exitOf('E_DIGEST_MISMATCH'), fetched.stderr);
  assert.deepEqual(await readdir(blobOut), [], 'blob fetch leaves nothing either');
  b.done();
});

test('a 500 on the final PUT of an upload never leaves a tag pointing at missing blobs', async (t) => {
  const b = await bed(t);
  b.proxy.addFault({ match: (r) => r.method === 'PUT' && isUpload(r) && /[?&]digest=/.test(r.url), fault: { kind: 'status', status: 500 }, times: 1 });

  const pushed = await runCli(['push', `${b.proxy.host}/flaky:v1`, FILTER, '--plain-http', '--root-id', 'my_root_id']);
  assert.equal(b.proxy.faultsByKind().status, 1, 'one upload was failed');
  const resolved = await fetch(`${b.reg.url}/v2/flaky/manifests/v1`, { headers: { accept: 'application/vnd.oci.image.manifest.v1+json' } });
  t.diagnostic(pushed.code === 0 ? 'the failed PUT was retried and the push succeeded' : `the push failed (${pushed.code}) without tagging`);
  if (pushed.code === 0) {
    // Retried: the tag exists and every blob it needs is in the registry, byte for byte.
    assert.equal(resolved.status, 200);
    const manifest = await resolved.json() as { config: { digest: string }; layers: Array<{ digest: string }> };
    for (const d of [manifest.config, ...manifest.layers]) {
      const res = await fetch(`${b.reg.url}/v2/flaky/blobs/${d.digest}`);
      assert.equal(res.status, 200, `blob ${d.digest} is there`);
      assert.equal(digestOfBytes(Buffer.from(await res.arrayBuffer())), d.digest);
    }
    const out = join(b.dir, 'out');
    ok(await runCli(['pull', `${b.reg.host}/flaky:v1`, '--plain-http', '-o', out]), 'pull after the retried push');
    assert.deepEqual(await readFile(join(out, 'example-filter.wasm')), await readFile(FILTER));
  } else {
    // Not retried: a registry error, and no tag was written at all.
    assert.equal(pushed.code, exitOf('E_REGISTRY'), pushed.stderr);
    assert.equal(resolved.status, 404, 'the tag was never pushed');
  }
  b.done();
});
