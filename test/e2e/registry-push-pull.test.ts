import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';
import { startDistribution } from '../helpers/distribution.js';
import { examplesDir } from '../helpers/paths.js';
import { skopeoCopy, skopeoInspectRaw, skopeoOptsFor } from '../helpers/skopeo.js';
import { makeTempDir } from '../helpers/tmp.js';
import { MEDIA_TYPES } from '../../src/oci/media-types.js';

// Push and pull of the example filter against a real Distribution 2.8 over plain HTTP, with skopeo
// as the independent client reading what we push and writing what we pull.

const FILTER = join(examplesDir, 'example-filter.wasm');
const RUNTIME_CONFIG = join(examplesDir, 'runtime-config.json');
const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');
const digestLine = (stdout: string): string => {
  const m = /^Digest: (sha256:[a-f0-9]{64})$/m.exec(stdout);
  assert.ok(m, `no Digest: line in\n${stdout}`);
  return m[1]!;
};
/** The bytes of a blob in an OCI layout skopeo wrote. */
const layoutBlob = (dir: string, digest: string): Promise<Buffer> => readFile(join(dir, 'blobs', 'sha256', digest.replace(/^sha256:/, '')));

test("the seed's exact oras-style command pushes one layer that skopeo reads byte for byte", async (t) => {
  const reg = await startDistribution({ mode: 'plain', t });
  const dir = await makeTempDir(t);
  const ref = `${reg.host}/asm-test:v0.1`;
  const pushed = await runCli([
    'push', ref, '--plain-http',
    '--manifest-config', 'runtime-config.json:application/vnd.module.wasm.config.v1+json',
    'example-filter.wasm:application/vnd.module.wasm.content.layer.v1+wasm',
  ], { cwd: examplesDir });
  assert.equal(pushed.code, 0, pushed.stderr);
  const digest = digestLine(pushed.stdout);

  const raw = await skopeoInspectRaw(`docker://${ref}`, skopeoOptsFor(reg));
  assert.equal(`sha256:${sha256(Buffer.from(raw))}`, digest, 'skopeo sees the manifest we reported, byte for byte');
  const manifest = JSON.parse(raw);
  assert.equal(manifest.mediaType, MEDIA_TYPES.ociManifest);
  assert.equal(manifest.config.mediaType, 'application/vnd.module.wasm.config.v1+json');
  assert.equal(manifest.layers.length, 1, 'oras-style: exactly the files given, one layer');
  assert.equal(manifest.layers[0].mediaType, 'application/vnd.module.wasm.content.layer.v1+wasm');
  assert.equal(manifest.layers[0].annotations['org.opencontainers.image.title'], 'example-filter.wasm');
  const module = await readFile(FILTER);
  assert.equal(manifest.layers[0].digest, `sha256:${sha256(module)}`);
  assert.equal(manifest.layers[0].size, module.length);
  assert.equal(manifest.config.digest, `sha256:${sha256(await readFile(RUNTIME_CONFIG))}`);

  const copied = join(dir, 'skopeo-layout');
  await skopeoCopy(`docker://${ref}`, `oci:${copied}:v0.1`, { src: skopeoOptsFor(reg) });
  assert.deepEqual(await layoutBlob(copied, manifest.layers[0].digest), module, 'skopeo pulled the same module bytes');
  assert.deepEqual(await layoutBlob(copied, manifest.config.digest), await readFile(RUNTIME_CONFIG));
  const index = JSON.parse(await readFile(join(copied, 'index.json'), 'utf8'));
  assert.equal(index.manifests[0].digest, digest, 'skopeo kept the manifest as pushed');

  const out = join(dir, 'out');
  const pulled = await runCli(['pull', ref, '--plain-http', '-o', out]);
  assert.equal(pulled.code, 0, pulled.stderr);
  assert.equal(digestLine(pulled.stdout), digest);
  assert.deepEqual(await readFile(join(out, 'example-filter.wasm')), module);

  const inspected = await runCli(['inspect', ref, '--plain-http']);
  assert.equal(inspected.code, 0, inspected.stderr);
  assert.ok(inspected.stdout.includes(digest), 'inspect reads the same manifest');
  assert.match(inspected.stdout, /✗ Istio[^\n]*refuses it\n(?:\s+- [^\n]*\n)*\s+- could not parse as oci variant: number of layers must be 2 but got 1/,
    'inspect says upstream Istio rejects a one-layer "oci" variant');
});

const CONFIG_TYPE = { solo: MEDIA_TYPES.soloWasmConfig, compat: MEDIA_TYPES.ociConfig, cncf: MEDIA_TYPES.cncfWasmConfig } as const;

test('each profile pushed to the registry pulls back the identical module, and skopeo agrees', async (t) => {
  const reg = await startDistribution({ mode: 'plain', t });
  const dir = await makeTempDir(t);
  const module = await readFile(FILTER);
  for (const profile of ['solo', 'compat', 'cncf'] as const) {
    const ref = `${reg.host}/filters/${profile}:v1`;
    const pushed = await runCli(['push', ref, FILTER, '--profile', profile, '--plain-http', '--root-id', 'my_root_id']);
    assert.equal(pushed.code, 0, `${profile}: ${pushed.stderr}`);
    const digest = digestLine(pushed.stdout);
    const raw = await skopeoInspectRaw(`docker://${ref}`, skopeoOptsFor(reg));
    assert.equal(`sha256:${sha256(Buffer.from(raw))}`, digest, profile);
    assert.equal(JSON.parse(raw).config.mediaType, CONFIG_TYPE[profile], profile);

    const out = join(dir, `out-${profile}`);
    const pulled = await runCli(['pull', ref, '--plain-http', '-o', out, '--format', 'json']);
    assert.equal(pulled.code, 0, `${profile}: ${pulled.stderr}`);
    const doc = JSON.parse(pulled.stdout);
    assert.ok(doc.module?.path, `${profile}: pull names the module it wrote`);
    assert.equal(sha256(await readFile(doc.module.path)), sha256(module), `${profile}: identical module`);
  }
});

test('skopeo pushes layouts of every format to the registry and our pull extracts the module', async (t) => {
  const reg = await startDistribution({ mode: 'plain', t });
  const dir = await makeTempDir(t);
  const module = await readFile(FILTER);
  const formats: Array<[string, string[]]> = [
    ['solo', ['--profile', 'solo', FILTER]],
    ['compat', ['--profile', 'compat', FILTER]],
    ['cncf', ['--profile', 'cncf', FILTER]],
    // oras-style titles must be relative paths, so this one is built from inside examples/.
    ['oras', ['--manifest-config', 'runtime-config.json:application/vnd.module.wasm.config.v1+json', 'example-filter.wasm:application/vnd.module.wasm.content.layer.v1+wasm']],
  ];
  for (const [name, args] of formats) {
    const layout = join(dir, `layout-${name}`);
    const built = await runCli(['push', '--oci-layout', `${layout}:v1`, ...args], { cwd: examplesDir });
    assert.equal(built.code, 0, `${name}: ${built.stderr}`);
    const layoutDigest = digestLine(built.stdout);

    const ref = `${reg.host}/skopeo/${name}:v1`;
    await skopeoCopy(`oci:${layout}:v1`, `docker://${ref}`, { dest: skopeoOptsFor(reg) });
    const resolved = await runCli(['resolve', ref, '--plain-http']);
    assert.equal(resolved.code, 0, `${name}: ${resolved.stderr}`);
    assert.equal(resolved.stdout.trim(), layoutDigest, `${name}: skopeo pushed the manifest unchanged`);

    const out = join(dir, `out-${name}`);
    const pulled = await runCli(['pull', ref, '--plain-http', '-o', out, '--format', 'json']);
    assert.equal(pulled.code, 0, `${name}: ${pulled.stderr}`);
    const doc = JSON.parse(pulled.stdout);
    assert.ok(doc.module?.path, `${name}: pull found the module`);
    assert.equal(sha256(await readFile(doc.module.path)), sha256(module), `${name}: identical module`);
  }
});

test('a layer of 64 MiB or more is uploaded in one pass (streamed PATCH hashed on the way) and pulls back identical', async (t) => {
  const reg = await startDistribution({ mode: 'plain', t });
  const dir = await makeTempDir(t);
  const { randomBytes } = await import('node:crypto');
  const { writeFile } = await import('node:fs/promises');
  const { countRequests } = await import('../helpers/distribution.js');
  const big = randomBytes(64 * 1024 * 1024 + 123);
  await writeFile(join(dir, 'big.bin'), big);
  const ref = `${reg.host}/onepass:v1`;
  const pushed = await runCli(['push', ref, '--plain-http', 'big.bin:application/octet-stream'], { cwd: dir });
  assert.equal(pushed.code, 0, pushed.stderr);
  assert.match(pushed.stdout, /^Uploaded +big\.bin 64\.0 MiB$/m);
  const layer = JSON.parse(await skopeoInspectRaw(`docker://${ref}`, skopeoOptsFor(reg))).layers[0];
  assert.equal(layer.digest, `sha256:${sha256(big)}`, 'the digest computed while uploading is the content digest');
  assert.equal(layer.size, big.length);
  assert.equal(await countRequests(reg, { method: 'PATCH', pathIncludes: '/onepass/blobs/uploads/' }), 1, 'one streamed PATCH');
  assert.equal(await countRequests(reg, { method: 'HEAD', pathIncludes: layer.digest }), 0, 'no exists check: it would need a hashing pass first');
  const pulled = await runCli(['pull', ref, '--plain-http', '-o', 'out'], { cwd: dir });
  assert.equal(pulled.code, 0, pulled.stderr);
  assert.equal(sha256(await readFile(join(dir, 'out', 'big.bin'))), sha256(big));
});

test('a second push of the same unchanged 64 MiB file asks the registry first (HEAD) and sends nothing; a changed file is sent again', async (t) => {
  const reg = await startDistribution({ mode: 'plain', t });
  const dir = await makeTempDir(t);
  const { randomBytes } = await import('node:crypto');
  const { mkdir, writeFile } = await import('node:fs/promises');
  const { countRequests } = await import('../helpers/distribution.js');
  const home = join(dir, 'home');
  await mkdir(home);
  const env = { HOME: home };
  const big = randomBytes(64 * 1024 * 1024 + 7);
  await writeFile(join(dir, 'big.bin'), big);
  // The memo records a file only once its last change is 2 s old (git's racy-clean rule).
  await new Promise((r) => setTimeout(r, 2100));
  const first = await runCli(['push', `${reg.host}/memo:v1`, '--plain-http', 'big.bin:application/octet-stream'], { cwd: dir, env });
  assert.equal(first.code, 0, first.stderr);
  const patches = () => countRequests(reg, { method: 'PATCH', pathIncludes: '/memo/blobs/uploads/' });
  const puts = () => countRequests(reg, { method: 'PUT', pathIncludes: '/memo/blobs/uploads/' });
  assert.equal(await patches(), 1);
  const putsAfterFirst = await puts();

  const second = await runCli(['push', `${reg.host}/memo:v2`, '--plain-http', 'big.bin:application/octet-stream'], { cwd: dir, env });
  assert.equal(second.code, 0, second.stderr);
  assert.match(second.stdout, /^Exists +big\.bin/m);
  assert.equal(await patches(), 1, 'no second upload of the 64 MiB file');
  assert.equal(await puts(), putsAfterFirst, 'no blob upload at all (the config exists too)');
  assert.equal(await countRequests(reg, { method: 'HEAD', pathIncludes: `sha256:${sha256(big)}` }), 1, 'one exists check');

  // Same size, new bytes: the stamps changed, so the file is hashed while sent, as the first time.
  big[0] ^= 0xff;
  await writeFile(join(dir, 'big.bin'), big);
  const third = await runCli(['push', `${reg.host}/memo:v3`, '--plain-http', 'big.bin:application/octet-stream'], { cwd: dir, env });
  assert.equal(third.code, 0, third.stderr);
  assert.match(third.stdout, /^Uploaded +big\.bin/m);
  assert.equal(await patches(), 2);
  const layer = JSON.parse(await skopeoInspectRaw(`docker://${reg.host}/memo:v3`, skopeoOptsFor(reg))).layers[0];
  assert.equal(layer.digest, `sha256:${sha256(big)}`, 'the new content, not the remembered digest');
});
