// The verdict table (issue 5): artifacts of every format in the real Distribution registry,
// pushed by wasm-oci, by the seed's oras command, and by skopeo from layouts built here by hand;
// each row says what `inspect --format json` must answer for Istio, wasme/ASM, CNCF runtimes and
// proxy-wasm, with the reason when a consumer would refuse. Expected values are written out, never
// computed by the code under test.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import tar from 'tar-stream';
import { runCli, type CliResult } from '../helpers/cli.js';
import { startDistribution, type RunningRegistry } from '../helpers/distribution.js';
import { examplesDir } from '../helpers/paths.js';
import { skopeoCopy, skopeoInspectRaw, skopeoOptsFor } from '../helpers/skopeo.js';
import { makeTempDir } from '../helpers/tmp.js';
import { buildSdkFilter, type SdkFilter } from '../helpers/sdk-filter.js';
import { buildWat } from '../helpers/wat.js';

const T = {
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  tarGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  soloConfig: 'application/vnd.module.wasm.config.v1+json',
  soloLayer: 'application/vnd.module.wasm.content.layer.v1+wasm',
  cncfConfig: 'application/vnd.wasm.config.v0+json',
  wasm: 'application/wasm',
  legacyConfig: 'application/vnd.wasm.config.v1+json',
  legacyLayer: 'application/vnd.wasm.content.layer.v1+wasm',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
};

const exampleWasm = join(examplesDir, 'example-filter.wasm');
const runtimeConfig = join(examplesDir, 'runtime-config.json');
const exampleBytes = await readFile(exampleWasm);
const runtimeConfigBytes = await readFile(runtimeConfig);
const sha256 = (b: Uint8Array | string): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;

type Expect = { ok: true; variant?: string } | { ok: false; reasons: string[] };
const yes = (variant?: string): Expect => (variant === undefined ? { ok: true } : { ok: true, variant });
/** Refused, each string found in one of the reasons. */
const no = (...reasons: string[]): Expect => ({ ok: false, reasons });

interface Row {
  name: string;
  ref: string;
  istio: Expect;
  wasme?: Expect;
  cncf?: Expect;
  runwasi?: Expect;
  proxyWasm?: Expect;
}

interface Verdict {
  consumer: string;
  ok: boolean;
  variant?: string;
  reasons: string[];
}

function succeeded(r: CliResult, what: string): CliResult {
  assert.equal(r.code, 0, `${what} failed (${r.code}):\n${r.stdout}\n${r.stderr}`);
  return r;
}

async function inspectVerdicts(ref: string): Promise<{ digest: string; verdicts: Record<string, Verdict> }> {
  const r = succeeded(await runCli(['inspect', '--format', 'json', '--plain-http', ref]), `inspect ${ref}`);
  const doc = JSON.parse(r.stdout) as { descriptor: { digest: string }; verdicts: Verdict[] };
  return { digest: doc.descriptor.digest, verdicts: Object.fromEntries(doc.verdicts.map((v) => [v.consumer, v])) };
}

function check(row: Row, consumer: string, expected: Expect | undefined, got: Verdict | undefined): void {
  if (expected === undefined) return;
  const where = `${row.name}: ${consumer}`;
  assert.ok(got, `${where}: no verdict`);
  assert.equal(got.ok, expected.ok, `${where}: expected ${expected.ok ? 'yes' : 'no'}, got ${got.ok ? 'yes' : 'no'} (${got.reasons.join('; ')})`);
  if (expected.ok) {
    assert.deepEqual(got.reasons, [], where);
    if (expected.variant !== undefined) assert.equal(got.variant, expected.variant, where);
  } else {
    for (const reason of expected.reasons) {
      assert.ok(got.reasons.some((r) => r.includes(reason)), `${where}: no reason mentions "${reason}"; reasons: ${JSON.stringify(got.reasons)}`);
    }
  }
}

async function checkTable(t: TestContext, rows: Row[]): Promise<void> {
  for (const row of rows) {
    await t.test(row.name, async () => {
      const { verdicts } = await inspectVerdicts(row.ref);
      check(row, 'istio', row.istio, verdicts.istio);
      check(row, 'wasme', row.wasme, verdicts.wasme);
      check(row, 'cncf', row.cncf, verdicts.cncf);
      check(row, 'runwasi', row.runwasi, verdicts.runwasi);
      check(row, 'proxy-wasm', row.proxyWasm, verdicts['proxy-wasm']);
    });
  }
}

// ---------------------------------------------------------------------------------------------------
// Layouts written by hand (no code under test involved), copied to the registry by skopeo.

interface Blob {
  mediaType: string;
  bytes: Buffer;
  annotations?: Record<string, string>;
}

const blob = (mediaType: string, bytes: Buffer | string, title?: string): Blob => ({
  mediaType,
  bytes: Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes),
  ...(title !== undefined ? { annotations: { 'org.opencontainers.image.title': title } } : {}),
});
const descOf = (b: Blob) => ({ mediaType: b.mediaType, digest: sha256(b.bytes), size: b.bytes.length, ...(b.annotations ? { annotations: b.annotations } : {}) });

async function writeLayout(dir: string, tag: string, config: Blob, layers: Blob[]): Promise<void> {
  const manifest = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: T.ociManifest, config: descOf(config), layers: layers.map(descOf) }));
  await mkdir(join(dir, 'blobs', 'sha256'), { recursive: true });
  for (const b of [config.bytes, ...layers.map((l) => l.bytes), manifest]) await writeFile(join(dir, 'blobs', 'sha256', sha256(b).slice(7)), b);
  await writeFile(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  await writeFile(join(dir, 'index.json'), JSON.stringify({
    schemaVersion: 2,
    manifests: [{ mediaType: T.ociManifest, digest: sha256(manifest), size: manifest.length, annotations: { 'org.opencontainers.image.ref.name': tag } }],
  }));
}

/** A gzip tar of the given files, and its diff id (the digest of the uncompressed tar). */
async function tarGzip(files: Record<string, Buffer>): Promise<{ gz: Buffer; diffId: string }> {
  const pack = tar.pack();
  for (const [name, bytes] of Object.entries(files)) pack.entry({ name, size: bytes.length, mtime: new Date(0) }, bytes);
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const c of pack) chunks.push(c as Buffer);
  const raw = Buffer.concat(chunks);
  return { gz: gzipSync(raw), diffId: sha256(raw) };
}

function imageConfig(diffId: string, extra: Record<string, unknown> = {}): Blob {
  return blob(T.ociConfig, JSON.stringify({ architecture: 'wasm', os: 'wasip1', ...extra, rootfs: { type: 'layers', diff_ids: [diffId] } }));
}

async function skopeoPush(reg: RunningRegistry, layout: string, tag: string, repo: string, extraArgs: string[] = []): Promise<string> {
  const ref = `${reg.host}/${repo}:${tag}`;
  await skopeoCopy(`oci:${layout}:${tag}`, `docker://${ref}`, { dest: skopeoOptsFor(reg), extraArgs });
  return ref;
}

// ---------------------------------------------------------------------------------------------------

const CNCF_CONFIG_REASON = (type: string) => `config media type is ${type}, not ${T.cncfConfig}`;
const NO_SOLO_LAYER = `no layer of type ${T.soloLayer}`;

test('verdict table: artifacts pushed by wasm-oci (each profile), by the seed oras command, and their conversions', async (t) => {
  const reg = await startDistribution({ mode: 'plain', t });
  const h = reg.host;
  for (const profile of ['solo', 'compat', 'cncf']) {
    const withConfig = profile === 'cncf' ? [] : ['--runtime-config', runtimeConfig];
    succeeded(await runCli(['push', '--plain-http', `${h}/wasm-oci/${profile}:v1`, exampleWasm, '--profile', profile, ...withConfig]), `push --profile ${profile}`);
  }
  // The seed workflow, exactly as the ASM article types it (run where the files are: oras titles
  // layers with the path as given).
  succeeded(await runCli([
    'push', '--plain-http', `${h}/asm-test:v0.1`,
    '--manifest-config', 'runtime-config.json:application/vnd.module.wasm.config.v1+json',
    'example-filter.wasm:application/vnd.module.wasm.content.layer.v1+wasm',
  ], { cwd: examplesDir }), 'seed oras push');

  const seedRaw = JSON.parse(await skopeoInspectRaw(`docker://${h}/asm-test:v0.1`, skopeoOptsFor(reg))) as { layers: unknown[] };
  assert.equal(seedRaw.layers.length, 1, 'the seed artifact has one layer, as oras builds it');

  const copied = succeeded(await runCli(['copy', '--plain-http', `${h}/asm-test:v0.1`, `${h}/asm-test:v0.1-istio`, '--profile', 'solo']), 'copy --profile solo');
  assert.match(copied.stdout, new RegExp(`^Copied \\[registry\\] ${h}/asm-test:v0.1 => \\[registry\\] ${h}/asm-test:v0.1-istio$`, 'm'));
  const convertedRaw = await skopeoInspectRaw(`docker://${h}/asm-test:v0.1-istio`, skopeoOptsFor(reg));
  assert.match(copied.stdout, new RegExp(`^Digest: ${sha256(convertedRaw)}$`, 'm'), 'the digest printed is the one the registry serves');
  const converted = JSON.parse(convertedRaw) as { layers: Array<{ mediaType: string; digest: string }>; config: { digest: string } };
  assert.deepEqual(converted.layers.map((l) => l.mediaType), [T.soloConfig, T.soloLayer]);
  assert.equal(converted.layers[1]!.digest, sha256(exampleBytes), 'same module bytes');
  assert.equal(converted.config.digest, sha256(runtimeConfigBytes), 'the runtime config carried over byte for byte');

  const json = succeeded(await runCli(['copy', '--format', 'json', '--plain-http', `${h}/wasm-oci/cncf:v1`, `${h}/wasm-oci/cncf:v1-compat`, '--profile', 'compat']), 'copy --profile compat');
  const doc = JSON.parse(json.stdout) as { digest: string; tags: string[]; profile: string };
  assert.deepEqual([doc.tags, doc.profile], [['v1-compat'], 'compat']);

  await checkTable(t, [
    {
      name: 'push --profile solo',
      ref: `${h}/wasm-oci/solo:v1`,
      istio: yes('oci'),
      wasme: yes(),
      cncf: no(CNCF_CONFIG_REASON(T.soloConfig), 'has 2 layer(s), 0 of type application/wasm'),
      proxyWasm: yes('ABI 0.2.1'),
    },
    {
      name: 'push --profile compat',
      ref: `${h}/wasm-oci/compat:v1`,
      istio: yes('compat'),
      wasme: no(NO_SOLO_LAYER),
      cncf: no(CNCF_CONFIG_REASON(T.ociConfig)),
      proxyWasm: yes('ABI 0.2.1'),
    },
    {
      name: 'push --profile cncf',
      ref: `${h}/wasm-oci/cncf:v1`,
      istio: no(`could not parse as compat variant: invalid media type ${T.wasm}`, 'could not parse as oci variant: number of layers must be 2 but got 1'),
      wasme: no(NO_SOLO_LAYER),
      // No variant: the config's os wasip1 is rust-oci-wasm's value for any core module, and the
      // filter imports no WASI (asserted below). runwasi would link it with WASI only.
      cncf: yes(),
      runwasi: no("runwasi's Wasmtime links a core module with wasi_snapshot_preview1 only", 'exports no _start'),
      proxyWasm: yes('ABI 0.2.1'),
    },
    {
      name: "the seed's one-layer oras artifact: ASM yes, Istio no",
      ref: `${h}/asm-test:v0.1`,
      istio: no('number of layers must be 2 but got 1'),
      wasme: yes(),
      cncf: no(CNCF_CONFIG_REASON(T.soloConfig)),
      proxyWasm: yes('ABI 0.2.1'),
    },
    {
      name: "the seed's artifact after copy --profile solo: Istio yes",
      ref: `${h}/asm-test:v0.1-istio`,
      istio: yes('oci'),
      wasme: yes(),
      proxyWasm: yes('ABI 0.2.1'),
    },
    {
      name: 'the cncf artifact after copy --profile compat: Istio yes',
      ref: `${h}/wasm-oci/cncf:v1-compat`,
      istio: yes('compat'),
      cncf: no(CNCF_CONFIG_REASON(T.ociConfig)),
      proxyWasm: yes('ABI 0.2.1'),
    },
  ]);
  const cncf = (await inspectVerdicts(`${h}/wasm-oci/cncf:v1`)).verdicts.cncf as Verdict & { notes?: string[] };
  assert.equal(cncf.variant, undefined, 'never wasip1 for a module that imports no WASI');
  assert.match(cncf.notes?.join('\n') ?? '', /the module imports no WASI \(its imports are from env\), so it is not a WASI program/);
});

test('verdict table: artifacts skopeo copied from layouts built by hand (Docker v2, wasm-to-oci, malformed variants)', async (t) => {
  const reg = await startDistribution({ mode: 'plain', t });
  const dir = await makeTempDir(t);
  const refs: Record<string, string> = {};

  // An image built FROM scratch with plugin.wasm, pushed as Docker schema 2 (Istio's Docker path).
  const pluginTar = await tarGzip({ 'plugin.wasm': exampleBytes });
  await writeLayout(join(dir, 'docker'), 'v1', imageConfig(pluginTar.diffId), [blob(T.tarGzip, pluginTar.gz)]);
  refs.docker = await skopeoPush(reg, join(dir, 'docker'), 'v1', 'skopeo/docker', ['--format', 'v2s2']);
  const dockerRaw = JSON.parse(await skopeoInspectRaw(`docker://${refs.docker}`, skopeoOptsFor(reg))) as { mediaType: string };
  assert.equal(dockerRaw.mediaType, 'application/vnd.docker.distribution.manifest.v2+json');

  // The same image as OCI, plugin.wasm in a subdirectory (Istio matches the base name).
  const nestedTar = await tarGzip({ 'filters/plugin.wasm': exampleBytes });
  await writeLayout(join(dir, 'compat'), 'v1', imageConfig(nestedTar.diffId), [blob(T.tarGzip, nestedTar.gz)]);
  refs.compat = await skopeoPush(reg, join(dir, 'compat'), 'v1', 'skopeo/compat');

  // wasm-to-oci / Krustlet: the older layer type, one layer.
  await writeLayout(join(dir, 'legacy'), 'v1', blob(T.legacyConfig, '{}'), [blob(T.legacyLayer, exampleBytes)]);
  refs.legacy = await skopeoPush(reg, join(dir, 'legacy'), 'v1', 'skopeo/legacy');

  // Two layers, but neither of the Solo module type.
  const other = await buildWat('plain-no-imports');
  await writeLayout(join(dir, 'two'), 'v1', blob(T.soloConfig, runtimeConfigBytes), [
    blob(T.wasm, exampleBytes, 'a.wasm'),
    blob(T.wasm, Buffer.from(other), 'b.wasm'),
  ]);
  refs.two = await skopeoPush(reg, join(dir, 'two'), 'v1', 'skopeo/two-wasm-layers');

  // CNCF config claiming a component (wasip2) for a core module.
  await writeLayout(join(dir, 'wasip2'), 'v1', blob(T.cncfConfig, JSON.stringify({ architecture: 'wasm', os: 'wasip2', layerDigests: [sha256(exampleBytes)] })), [
    blob(T.wasm, exampleBytes, 'example-filter.wasm'),
  ]);
  refs.wasip2 = await skopeoPush(reg, join(dir, 'wasip2'), 'v1', 'skopeo/cncf-wasip2');

  // Solo-shaped, but the module layer holds text, not Wasm.
  await writeLayout(join(dir, 'notwasm'), 'v1', blob(T.soloConfig, runtimeConfigBytes), [
    blob(T.soloConfig, runtimeConfigBytes, 'runtime-config.json'),
    blob(T.soloLayer, 'this is not a WebAssembly module', 'filter.wasm'),
  ]);
  refs.notwasm = await skopeoPush(reg, join(dir, 'notwasm'), 'v1', 'skopeo/not-wasm');

  // A Solo artifact written by hand, to show the same verdict whoever pushed it.
  await writeLayout(join(dir, 'solo'), 'v1', blob(T.soloConfig, runtimeConfigBytes), [
    blob(T.soloConfig, runtimeConfigBytes, 'runtime-config.json'),
    blob(T.soloLayer, exampleBytes, 'example-filter.wasm'),
  ]);
  refs.solo = await skopeoPush(reg, join(dir, 'solo'), 'v1', 'skopeo/solo');

  await checkTable(t, [
    {
      name: 'Docker v2 image with plugin.wasm in its gzip tar',
      ref: refs.docker,
      istio: yes('docker'),
      wasme: no(NO_SOLO_LAYER),
      cncf: no(CNCF_CONFIG_REASON(T.dockerConfig)),
      proxyWasm: yes('ABI 0.2.1'),
    },
    {
      name: 'OCI image with filters/plugin.wasm in its gzip tar (compat)',
      ref: refs.compat,
      istio: yes('compat'),
      wasme: no(NO_SOLO_LAYER),
      proxyWasm: yes('ABI 0.2.1'),
    },
    {
      name: 'wasm-to-oci layer type',
      ref: refs.legacy,
      istio: no(`invalid media type ${T.legacyLayer}`, 'number of layers must be 2 but got 1'),
      wasme: no(NO_SOLO_LAYER),
      cncf: no(CNCF_CONFIG_REASON(T.legacyConfig)),
      proxyWasm: yes('ABI 0.2.1'),
    },
    {
      name: 'two application/wasm layers',
      ref: refs.two,
      istio: no(`could not find the layer of type ${T.soloLayer}`),
      wasme: no(NO_SOLO_LAYER),
      cncf: no('has 2 layer(s), 2 of type application/wasm; exactly one application/wasm layer is required'),
    },
    {
      name: 'CNCF config says wasip2, the layer is a core module',
      ref: refs.wasip2,
      istio: no('number of layers must be 2 but got 1'),
      cncf: no('config os is wasip2 but the layer is a core module, not a component'),
      proxyWasm: yes('ABI 0.2.1'),
    },
    {
      name: 'Solo shape whose module layer is not Wasm',
      ref: refs.notwasm,
      istio: no('fetched Wasm binary is invalid'),
      wasme: no(`does not hold a Wasm binary`),
      proxyWasm: no('filter.wasm'),
    },
    {
      name: 'Solo artifact written by hand',
      ref: refs.solo,
      istio: yes('oci'),
      wasme: yes(),
      proxyWasm: yes('ABI 0.2.1'),
    },
  ]);
});

test('verdict table: modules built with wat2wasm and the SDK that break each proxy-wasm rule, each named by V8 linking', async (t) => {
  const reg = await startDistribution({ mode: 'plain', t });
  const dir = await makeTempDir(t);
  const cases: Array<{ fixture: string; proxyWasm: Expect }> = [
    // The reasons are V8 linking against the host table (host/link.ts, cpp-host's own messages),
    // as for `inspect FILE`: no longer a reading of names.
    { fixture: 'broken-no-abi', proxyWasm: no('Missing or unknown Proxy-Wasm ABI version') },
    { fixture: 'broken-no-allocator', proxyWasm: no('Wasm module is missing malloc function') },
    { fixture: 'broken-no-memory', proxyWasm: no('the module neither exports nor imports a memory: V8 links it') },
    {
      fixture: 'broken-unknown-import',
      proxyWasm: no(
        'Failed to load Wasm module due to a missing import: env.foo_bar',
        'Failed to load Wasm module due to a missing import: env.proxy_continue_request (the host registers it for ABI 0.1.0, the module declares 0.2.1)',
        'Failed to load Wasm module due to a missing import: custom_host.get_secret',
      ),
    },
    { fixture: 'link-wrong-export-signature', proxyWasm: no('Bad function signature for: malloc, want: i32 -> i32, but the module exports: i64 -> i64') },
    { fixture: 'link-unregistered-wasi', proxyWasm: no('missing import: wasi_snapshot_preview1.proc_raise', 'missing import: wasi_unstable.not_a_wasi_function') },
    // Built by the real AssemblyScript SDK: its proxy_set_buffer_status imports env.proxy_get_buffer_status with 5 params.
    { fixture: 'sdk:setBufferStatus', proxyWasm: no('import type mismatch: env.proxy_get_buffer_status, want: i32 i32 i32 i32 i32 -> i32, but host exports: i32 i32 i32 -> i32') },
    { fixture: 'filter-abi-0_1_0', proxyWasm: yes('ABI 0.1.0') },
    { fixture: 'filter-abi-0_2_0', proxyWasm: yes('ABI 0.2.0') },
    { fixture: 'sdk:addHeader', proxyWasm: yes('ABI 0.2.0') },
  ];
  const rows: Row[] = [];
  for (const c of cases) {
    const name = c.fixture.replace(/^sdk:/, 'sdk-').toLowerCase();
    const file = join(dir, `${name}.wasm`);
    await writeFile(file, c.fixture.startsWith('sdk:') ? await buildSdkFilter(c.fixture.slice(4) as SdkFilter) : await buildWat(c.fixture));
    const ref = `${reg.host}/wat/${name}:v1`;
    succeeded(await runCli(['push', '--plain-http', ref, file, '--profile', 'solo']), `push ${c.fixture}`);
    // The envelope is fine for Istio, which fetches any Wasm binary; the module it fetched then
    // fails in Envoy for the same reason the proxy-wasm verdict names.
    rows.push({ name: c.fixture, ref, istio: c.proxyWasm.ok ? yes('oci') : c.proxyWasm, proxyWasm: c.proxyWasm });
  }
  await checkTable(t, rows);
});

test('verdict: an OCI image whose gzip tar holds no plugin.wasm is refused by Istio', async (t) => {
  const reg = await startDistribution({ mode: 'plain', t });
  const dir = await makeTempDir(t);
  const noPlugin = await tarGzip({ 'filter.wasm': exampleBytes });
  await writeLayout(join(dir, 'noplugin'), 'v1', imageConfig(noPlugin.diffId), [blob(T.tarGzip, noPlugin.gz)]);
  const ref = await skopeoPush(reg, join(dir, 'noplugin'), 'v1', 'skopeo/no-plugin');
  const row: Row = { name: 'gzip tar without plugin.wasm', ref, istio: no('plugin.wasm not found', 'number of layers must be 2 but got 1') };
  check(row, 'istio', row.istio, (await inspectVerdicts(ref)).verdicts.istio);
});
