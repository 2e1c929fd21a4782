import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';
import { examplesDir } from '../helpers/paths.js';
import { skopeoCopy, skopeoInspectRaw } from '../helpers/skopeo.js';
import { makeTempDir } from '../helpers/tmp.js';
import { OciLayoutStore } from '../../src/content/oci-layout.js';
import { digestOf } from '../../src/oci/digest.js';
import { descriptorFor, encodeManifest } from '../../src/oci/manifest.js';
import { MEDIA_TYPES } from '../../src/oci/media-types.js';
import { ERROR_CODES } from '../../src/errors.js';

const filter = join(examplesDir, 'example-filter.wasm');
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

async function push(dir: string, ...extra: string[]) {
  const r = await runCli(['push', '--oci-layout', `${dir}:v0.1`, filter, ...extra]);
  assert.equal(r.code, 0, r.stderr);
  return r;
}

test('README demo: push to a layout, pull back the identical file, inspect shows the ABI', async (t) => {
  const dir = await makeTempDir(t);
  const store = join(dir, 'wasm-store');
  const pushed = await push(store);
  assert.match(pushed.stdout, /^Digest: sha256:[a-f0-9]{64}$/m);
  const out = join(dir, 'out');
  const pulled = await runCli(['pull', '--oci-layout', `${store}:v0.1`, '-o', out]);
  assert.equal(pulled.code, 0, pulled.stderr);
  assert.deepEqual(await readFile(join(out, 'example-filter.wasm')), await readFile(filter));
  const inspected = await runCli(['inspect', '--oci-layout', `${store}:v0.1`]);
  assert.equal(inspected.code, 0, inspected.stderr);
  assert.match(inspected.stdout, /Proxy-Wasm ABI:\s+0_2_1/);
  const json = await runCli(['inspect', '--format', 'json', filter]);
  assert.equal(JSON.parse(json.stdout).proxyWasm.abiVersions[0], '0_2_1');
});

test('skopeo reads the layout we write and copies it; we pull from the layout skopeo wrote', async (t) => {
  const dir = await makeTempDir(t);
  const ours = join(dir, 'ours');
  const pushed = await push(ours);
  const digest = /^Digest: (sha256:[a-f0-9]{64})$/m.exec(pushed.stdout)![1]!;
  const raw = await skopeoInspectRaw(`oci:${ours}:v0.1`);
  assert.equal(`sha256:${sha256(Buffer.from(raw))}`, digest, 'skopeo sees the manifest we wrote, byte for byte');
  const manifest = JSON.parse(raw);
  assert.equal(manifest.layers[1].mediaType, MEDIA_TYPES.soloWasmLayer);

  const theirs = join(dir, 'theirs');
  await skopeoCopy(`oci:${ours}:v0.1`, `oci:${theirs}:copied`);
  const out = join(dir, 'out');
  const pulled = await runCli(['pull', '--oci-layout', `${theirs}:copied`, '-o', out]);
  assert.equal(pulled.code, 0, pulled.stderr);
  assert.deepEqual(await readFile(join(out, 'example-filter.wasm')), await readFile(filter));
});

test('each profile pushes to a layout and pulls back the same module bytes', async (t) => {
  const dir = await makeTempDir(t);
  for (const profile of ['solo', 'compat', 'cncf']) {
    const store = join(dir, profile);
    await push(store, '--profile', profile);
    const raw = JSON.parse(await skopeoInspectRaw(`oci:${store}:v0.1`));
    const expectedConfig = { solo: MEDIA_TYPES.soloWasmConfig, compat: MEDIA_TYPES.ociConfig, cncf: MEDIA_TYPES.cncfWasmConfig }[profile];
    assert.equal(raw.config.mediaType, expectedConfig, profile);
    const out = join(dir, `${profile}-out`);
    const pulled = await runCli(['pull', '--format', 'json', '--oci-layout', `${store}:v0.1`, '-o', out]);
    assert.equal(pulled.code, 0, pulled.stderr);
    const doc = JSON.parse(pulled.stdout);
    assert.ok(doc.module, `${profile}: pull names the module`);
    assert.equal(sha256(await readFile(doc.module.path)), sha256(await readFile(filter)), profile);
  }
});

const exitOf = (code: keyof typeof ERROR_CODES) => ERROR_CODES[code].exitCode;

test('bad input: clear message, documented exit code, nothing written', async (t) => {
  const dir = await makeTempDir(t);
  const store = join(dir, 'store');
  const notWasm = join(dir, 'notes.txt');
  await writeFile(notWasm, 'hello, not wasm');
  const truncated = join(dir, 'truncated.wasm');
  await writeFile(truncated, (await readFile(filter)).subarray(0, 100));

  const cases: Array<{ args: string[]; exit: number; message: RegExp }> = [
    { args: ['push', '--oci-layout', `${store}:v1`, notWasm], exit: exitOf('E_NOT_WASM'), message: /not a WebAssembly module/ },
    { args: ['push', '--oci-layout', `${store}:v1`, truncated], exit: exitOf('E_WASM_PARSE'), message: /truncated\.wasm/ },
    { args: ['push', '--oci-layout', `${store}:v1`, join(dir, 'missing.wasm')], exit: exitOf('E_FILE_NOT_FOUND'), message: /missing\.wasm/ },
    { args: ['push', 'Invalid/Reference:v1', filter], exit: exitOf('E_REFERENCE'), message: /lowercase/ },
    { args: ['inspect', `${join(dir, 'nope')}:v1`, '--oci-layout'], exit: exitOf('E_NOT_FOUND'), message: /no OCI image layout/ },
  ];
  for (const c of cases) {
    const r = await runCli(c.args);
    assert.equal(r.code, c.exit, `${c.args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, c.message);
    assert.match(r.stderr, /^Error: /m);
  }
  await assert.rejects(readdir(store), 'no layout was created by failed pushes');

  await push(store);
  const unknownTag = await runCli(['pull', '--oci-layout', `${store}:v9`, '-o', join(dir, 'o1')]);
  assert.equal(unknownTag.code, exitOf('E_NOT_FOUND'));
  assert.match(unknownTag.stderr, /tag "v9" not found/);
  assert.match(unknownTag.stderr, /v0\.1/, 'the hint lists the tags that exist');
});

async function hostileLayout(dir: string, title: string, tamper = false) {
  const store = new OciLayoutStore(dir, { create: true });
  const body = await readFile(filter);
  const layer = { mediaType: MEDIA_TYPES.soloWasmLayer, digest: digestOf(body), size: body.length, annotations: { 'org.opencontainers.image.title': title } };
  const config = new TextEncoder().encode('{}');
  const configDesc = { mediaType: MEDIA_TYPES.ociEmpty, digest: digestOf(config), size: config.length };
  await store.push(configDesc, config);
  await store.push(layer, body);
  const bytes = encodeManifest({ schemaVersion: 2, mediaType: MEDIA_TYPES.ociManifest, config: configDesc, layers: [layer] });
  const desc = descriptorFor(bytes, MEDIA_TYPES.ociManifest);
  await store.push(desc, bytes);
  await store.tag(desc, 'evil');
  if (tamper) await writeFile(store.blobPath(layer.digest), Buffer.concat([body.subarray(0, body.length - 1), Buffer.from([0])]));
}

test('pull refuses titles that escape the output directory and blobs that do not match their digest', async (t) => {
  const dir = await makeTempDir(t);
  for (const title of ['../escape.wasm', '/tmp/abs-escape.wasm', 'a/../../escape2.wasm']) {
    const store = join(dir, `store-${sha256(Buffer.from(title)).slice(0, 8)}`);
    await hostileLayout(store, title);
    const outer = join(dir, `outer-${sha256(Buffer.from(title)).slice(0, 8)}`);
    const out = join(outer, 'out');
    await mkdir(out, { recursive: true });
    const r = await runCli(['pull', '--oci-layout', `${store}:evil`, '-o', out]);
    assert.equal(r.code, exitOf('E_UNSAFE_PATH'), `${title}: ${r.stderr}`);
    assert.deepEqual(await readdir(outer), ['out'], `${title}: nothing beside the output directory`);
    assert.deepEqual(await readdir(out), [], `${title}: nothing inside it either`);
  }
  await assert.rejects(readFile('/tmp/abs-escape.wasm'));

  const store = join(dir, 'tampered');
  await hostileLayout(store, 'plugin.wasm', true);
  const out = join(dir, 'tampered-out');
  await mkdir(out);
  const r = await runCli(['pull', '--oci-layout', `${store}:evil`, '-o', out]);
  assert.equal(r.code, exitOf('E_DIGEST_MISMATCH'), r.stderr);
  assert.match(r.stderr, /digest mismatch/);
  assert.deepEqual(await readdir(out), [], 'no partial or temp file left');
});
