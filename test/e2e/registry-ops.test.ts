import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { runCli, type CliResult } from '../helpers/cli.js';
import { startDistribution, type RunningRegistry } from '../helpers/distribution.js';
import { startFaultProxy } from '../helpers/fault-proxy.js';
import { examplesDir } from '../helpers/paths.js';
import { makeTempDir } from '../helpers/tmp.js';
import { ERROR_CODES } from '../../src/errors.js';

// The commands beside push and pull (tag, resolve, repo tags, copy, manifest and blob
// operations) against a real Distribution over plain HTTP.

const FILTER = join(examplesDir, 'example-filter.wasm');
const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');
const digestLine = (stdout: string): string => {
  const m = /^Digest: (sha256:[a-f0-9]{64})$/m.exec(stdout);
  assert.ok(m, `no Digest: line in\n${stdout}`);
  return m[1]!;
};
function ok(r: CliResult, what: string): CliResult {
  assert.equal(r.code, 0, `${what} failed (${r.code}): ${r.stderr}`);
  return r;
}
async function pushFilter(reg: RunningRegistry, repoTag: string): Promise<string> {
  const r = ok(await runCli(['push', `${reg.host}/${repoTag}`, FILTER, '--plain-http', '--root-id', 'my_root_id']), `push ${repoTag}`);
  return digestLine(r.stdout);
}
/** The manifest as the registry serves it, fetched outside our client. */
async function registryManifest(reg: RunningRegistry, repo: string, ref: string): Promise<{ bytes: Buffer; digest: string; json: any }> {
  const res = await fetch(`${reg.url}/v2/${repo}/manifests/${ref}`, { headers: { accept: 'application/vnd.oci.image.manifest.v1+json' } });
  assert.equal(res.status, 200, `GET manifest ${repo}:${ref}`);
  const bytes = Buffer.from(await res.arrayBuffer());
  return { bytes, digest: res.headers.get('docker-content-digest')!, json: JSON.parse(bytes.toString('utf8')) };
}

const TAG_COUNT = 120;
const manyTags = Array.from({ length: TAG_COUNT }, (_, i) => `t${String(i).padStart(3, '0')}`);

test(`repo tags lists all ${TAG_COUNT + 1} tags, directly and when the registry paginates with Link`, async (t) => {
  const reg = await startDistribution({ mode: 'plain', t });
  const digest = await pushFilter(reg, 'many:v1');
  const tagged = ok(await runCli(['tag', `${reg.host}/many:v1`, ...manyTags, '--plain-http']), 'tag');
  assert.equal(digestLine(tagged.stdout), digest);
  const expected = [...manyTags, 'v1'].sort();

  const direct = ok(await runCli(['repo', 'tags', `${reg.host}/many`, '--plain-http']), 'repo tags');
  assert.deepEqual(direct.stdout.trim().split('\n').sort(), expected);
  const after = ok(await runCli(['repo', 'tags', `${reg.host}/many`, '--plain-http', '--last', 't100']), 'repo tags --last');
  assert.deepEqual(after.stdout.trim().split('\n').sort(), expected.filter((x) => x > 't100'));

  // Distribution 2.8 ignores `n` and `last` and always answers in one page, so a proxy in front of
  // it cuts that real list into pages linked by `Link: <...>; rel="next"`, as the spec paginates.
  const upstream = await fetch(`${reg.url}/v2/many/tags/list`);
  const all: string[] = ((await upstream.json()) as { tags: string[] }).tags.sort();
  assert.deepEqual(all, expected);
  const proxy = await startFaultProxy({ upstream: reg.url });
  t.after(() => proxy.close());
  const pageSize = 50;
  for (let start = 0; start < all.length; start += pageSize) {
    const page = all.slice(start, start + pageSize);
    const after = start === 0 ? undefined : all[start - 1];
    const next = start + pageSize < all.length ? `</v2/many/tags/list?n=${pageSize}&last=${page[page.length - 1]}>; rel="next"` : undefined;
    proxy.addFault({
      match: (r) => r.path === '/v2/many/tags/list' && (after === undefined ? !r.url.includes('last=') : new URL(r.url, proxy.url).searchParams.get('last') === after),
      fault: { kind: 'status', status: 200, body: JSON.stringify({ name: 'many', tags: page }), ...(next ? { headers: { link: next } } : {}) },
    });
  }
  const paged = ok(await runCli(['repo', 'tags', `${proxy.host}/many`, '--plain-http']), 'repo tags through the paginating proxy');
  assert.deepEqual(paged.stdout.trim().split('\n').sort(), expected, 'every page was read, nothing repeated');
  const listCalls = proxy.requests.filter((r) => r.path === '/v2/many/tags/list');
  assert.equal(listCalls.length, Math.ceil(all.length / pageSize), 'one request per page');

  // A next page on another origin would carry our authority elsewhere: refused.
  const hostile = await startFaultProxy({ upstream: reg.url });
  t.after(() => hostile.close());
  hostile.addFault({
    match: (r) => r.path === '/v2/many/tags/list',
    fault: { kind: 'status', status: 200, body: JSON.stringify({ name: 'many', tags: ['a'] }), headers: { link: `<${proxy.url}/v2/many/tags/list?last=a>; rel="next"` } },
  });
  const refused = await runCli(['repo', 'tags', `${hostile.host}/many`, '--plain-http']);
  assert.notEqual(refused.code, 0, 'a cross-origin Link is not followed');
  assert.match(refused.stderr, /another origin/);
  assert.equal(proxy.requests.filter((r) => r.path === '/v2/many/tags/list').length, listCalls.length, 'the other origin got no request');
});

test('copy within one registry mounts the blobs instead of uploading them', async (t) => {
  const reg = await startDistribution({ mode: 'plain', t });
  const digest = await pushFilter(reg, 'src/filter:v1');
  const before = reg.requests().length;
  const copied = ok(await runCli(['copy', `${reg.host}/src/filter:v1`, `${reg.host}/dst/filter:v2`, '--plain-http']), 'copy');
  assert.equal(digestLine(copied.stdout), digest);
  await reg.flushLog(); // Distribution logs after it answers.
  const during = reg.requests().slice(before);
  const mounts = during.filter((e) => e.method === 'POST' && e.path.startsWith('/v2/dst/filter/blobs/uploads/?')
    && /[?&]mount=sha256/.test(e.path) && /[?&]from=src(%2F|\/)filter(&|$)/.test(e.path));
  const manifest = await registryManifest(reg, 'dst/filter', 'v2');
  // Solo repeats the config blob as its first layer: count distinct blobs.
  const blobCount = new Set([manifest.json.config, ...manifest.json.layers].map((d: any) => d.digest)).size;
  assert.equal(mounts.length, blobCount, `one mount per blob:\n${during.map((e) => `${e.method} ${e.path} ${e.status}`).join('\n')}`);
  assert.ok(mounts.every((e) => e.status === 201), 'every mount was accepted (201 Created)');
  assert.equal(during.filter((e) => e.method === 'PATCH').length, 0, 'no chunk was uploaded');
  assert.equal(during.filter((e) => e.method === 'PUT' && e.path.includes('/blobs/uploads/')).length, 0, 'no blob upload was completed');
  assert.equal(during.filter((e) => e.method === 'GET' && e.path.includes('/blobs/')).length, 0, 'no blob was downloaded');
  assert.equal(manifest.digest, digest);

  const out = await makeTempDir(t);
  ok(await runCli(['pull', `${reg.host}/dst/filter:v2`, '--plain-http', '-o', out]), 'pull of the copy');
  assert.deepEqual(await readFile(join(out, 'example-filter.wasm')), await readFile(FILTER));
});

test('tag, resolve, manifest fetch (--descriptor, --pretty, -o) and manifest delete', async (t) => {
  const reg = await startDistribution({ mode: 'plain', t });
  const dir = await makeTempDir(t);
  const digest = await pushFilter(reg, 'ops:v1');
  const ref = `${reg.host}/ops`;

  ok(await runCli(['tag', `${ref}:v1`, 'stable', 'v1.0.0', '--plain-http']), 'tag');
  for (const tag of ['v1', 'stable', 'v1.0.0']) {
    const r = ok(await runCli(['resolve', `${ref}:${tag}`, '--plain-http']), `resolve ${tag}`);
    assert.equal(r.stdout.trim(), digest, tag);
    assert.equal((await registryManifest(reg, 'ops', tag)).digest, digest, `registry: ${tag}`);
  }
  const full = ok(await runCli(['resolve', `${ref}:stable`, '--plain-http', '--full-reference']), 'resolve -l');
  assert.equal(full.stdout.trim(), `${ref}@${digest}`);

  const served = await registryManifest(reg, 'ops', 'v1');
  const desc = JSON.parse(ok(await runCli(['manifest', 'fetch', `${ref}:v1`, '--plain-http', '--descriptor']), 'manifest fetch --descriptor').stdout);
  assert.deepEqual(desc, { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest, size: served.bytes.length });

  const plain = ok(await runCli(['manifest', 'fetch', `${ref}:v1`, '--plain-http']), 'manifest fetch');
  assert.equal(plain.stdout.replace(/\n$/, ''), served.bytes.toString('utf8'), 'the manifest as the registry stores it');
  const pretty = ok(await runCli(['manifest', 'fetch', `${ref}@${digest}`, '--plain-http', '--pretty']), 'manifest fetch --pretty');
  assert.deepEqual(JSON.parse(pretty.stdout), served.json);
  assert.match(pretty.stdout, /^\{\n {2}"/, 'indented');
  const file = join(dir, 'manifest.json');
  ok(await runCli(['manifest', 'fetch', `${ref}:v1`, '--plain-http', '-o', file]), 'manifest fetch -o');
  assert.equal(`sha256:${sha256(await readFile(file))}`, digest, 'the file holds exactly the digested bytes');

  const deleted = ok(await runCli(['manifest', 'delete', `${ref}:v1`, '--plain-http', '-f']), 'manifest delete -f');
  assert.ok(deleted.stdout.includes(digest), deleted.stdout);
  const gone = await runCli(['resolve', `${ref}:v1`, '--plain-http']);
  assert.equal(gone.code, ERROR_CODES.E_NOT_FOUND.exitCode, gone.stderr);
  const goneByDigest = await runCli(['manifest', 'fetch', `${ref}@${digest}`, '--plain-http']);
  assert.equal(goneByDigest.code, ERROR_CODES.E_NOT_FOUND.exitCode, goneByDigest.stderr);
  assert.equal((await fetch(`${reg.url}/v2/ops/manifests/${digest}`, { method: 'HEAD' })).status, 404, 'the registry no longer has it');
});

test('blob fetch -o writes the verified layer bytes; --descriptor describes it', async (t) => {
  const reg = await startDistribution({ mode: 'plain', t });
  const dir = await makeTempDir(t);
  await pushFilter(reg, 'blobs:v1');
  const { json } = await registryManifest(reg, 'blobs', 'v1');
  const module = await readFile(FILTER);
  const layer = json.layers.find((l: any) => l.digest === `sha256:${sha256(module)}`);
  assert.ok(layer, 'the module is a layer');

  const desc = JSON.parse(ok(await runCli(['blob', 'fetch', `${reg.host}/blobs@${layer.digest}`, '--plain-http', '--descriptor']), 'blob fetch --descriptor').stdout);
  assert.equal(desc.digest, layer.digest);
  assert.equal(desc.size, module.length);

  const out = join(dir, 'layer.wasm');
  ok(await runCli(['blob', 'fetch', `${reg.host}/blobs@${layer.digest}`, '--plain-http', '-o', out]), 'blob fetch -o');
  assert.deepEqual(await readFile(out), module);
  assert.deepEqual(await readdir(dir), ['layer.wasm'], 'no temp file left beside it');

  const missing = `sha256:${'0'.repeat(64)}`;
  const notFound = await runCli(['blob', 'fetch', `${reg.host}/blobs@${missing}`, '--plain-http', '-o', join(dir, 'missing')]);
  assert.equal(notFound.code, ERROR_CODES.E_NOT_FOUND.exitCode, notFound.stderr);
  assert.deepEqual(await readdir(dir), ['layer.wasm'], 'a failed fetch writes nothing');
});

test('copy registry -> OCI layout -> registry keeps the manifest digest and the module bytes', async (t) => {
  const reg = await startDistribution({ mode: 'plain', t });
  const dir = await makeTempDir(t);
  const digest = await pushFilter(reg, 'origin:v1');
  const layout = join(dir, 'layout');

  const down = ok(await runCli(['copy', `${reg.host}/origin:v1`, `${layout}:v1`, '--to-oci-layout', '--plain-http']), 'copy to layout');
  assert.equal(digestLine(down.stdout), digest);
  const local = ok(await runCli(['resolve', '--oci-layout', `${layout}:v1`]), 'resolve in the layout');
  assert.equal(local.stdout.trim(), digest);
  const out = join(dir, 'out');
  ok(await runCli(['pull', '--oci-layout', `${layout}:v1`, '-o', out]), 'pull from the layout');
  assert.deepEqual(await readFile(join(out, 'example-filter.wasm')), await readFile(FILTER));

  const up = ok(await runCli(['copy', `${layout}:v1`, `${reg.host}/roundtrip:v2`, '--from-oci-layout', '--plain-http']), 'copy from layout');
  assert.equal(digestLine(up.stdout), digest);
  const served = await registryManifest(reg, 'roundtrip', 'v2');
  assert.equal(served.digest, digest);
  assert.equal(`sha256:${sha256(served.bytes)}`, digest);
  for (const blob of [served.json.config, ...served.json.layers]) {
    const res = await fetch(`${reg.url}/v2/roundtrip/blobs/${blob.digest}`);
    assert.equal(res.status, 200, blob.digest);
    assert.equal(`sha256:${sha256(Buffer.from(await res.arrayBuffer()))}`, blob.digest);
  }
});
