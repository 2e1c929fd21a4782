import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse, parseDocument } from 'yaml';
import { OciLayoutStore } from '../../src/content/oci-layout.js';
import { isWasmOciError } from '../../src/errors.js';
import { digestOf } from '../../src/oci/digest.js';
import { descriptorFor, encodeManifest } from '../../src/oci/manifest.js';
import { ANNOTATIONS, MEDIA_TYPES } from '../../src/oci/media-types.js';
import type { Descriptor } from '../../src/oci/types.js';
import { loadRenderFacts } from '../../src/render/artifact-facts.js';
import { buildResource, renderResource } from '../../src/render/render.js';
import { renderArtifact } from '../../src/render/render-artifact.js';
import type { RenderInput } from '../../src/render/types.js';
import { loadPluginConfig, parseSelector, validateResourceName } from '../../src/render/validate.js';
import { makeTempDir } from '../helpers/tmp.js';

const MANIFEST_DIGEST = digestOf('a manifest');
const HEX = MANIFEST_DIGEST.slice('sha256:'.length);
const IMAGE = 'registry.example.com/filters/example:v1';

function input(over: Partial<RenderInput> = {}): RenderInput {
  return { kind: 'wasmplugin', image: IMAGE, manifestDigest: MANIFEST_DIGEST, name: 'example', ...over };
}

type Any = any;

function rendered(over: Partial<RenderInput>): Any {
  return parse(renderResource(input(over)));
}

function assertInvalid(fn: () => unknown, pattern: RegExp, code = 'E_INVALID_INPUT'): void {
  assert.throws(fn, (err: unknown) => isWasmOciError(err) && err.code === code && pattern.test(err.message));
}

async function assertRejects(p: Promise<unknown>, pattern: RegExp, code = 'E_INVALID_INPUT'): Promise<void> {
  await assert.rejects(p, (err: unknown) => isWasmOciError(err) && err.code === code && pattern.test(err.message));
}

test('WasmPlugin: every field, sha256 is the manifest digest hex', () => {
  const doc = rendered({
    name: 'details-filter',
    namespace: 'bookinfo',
    selector: { app: 'details', version: 'v1' },
    rootId: 'my_root_id',
    pluginConfig: { name: 'hello', value: 'hello details', nested: { n: 1 } },
    pullSecret: 'regcred',
    imagePullPolicy: 'Always',
    phase: 'AUTHZ',
    priority: 10,
  });
  assert.equal(doc.apiVersion, 'extensions.istio.io/v1alpha1');
  assert.equal(doc.kind, 'WasmPlugin');
  assert.equal(doc.metadata.name, 'details-filter');
  assert.equal(doc.metadata.namespace, 'bookinfo');
  assert.equal(doc.metadata.annotations['wasm-oci.io/source'], `${IMAGE}@${MANIFEST_DIGEST}`);
  assert.equal(doc.spec.url, `oci://${IMAGE}`);
  assert.equal(doc.spec.sha256, HEX);
  assert.match(doc.spec.sha256, /^[0-9a-f]{64}$/);
  assert.equal(doc.spec.pluginName, 'my_root_id');
  assert.deepEqual(doc.spec.pluginConfig, { name: 'hello', value: 'hello details', nested: { n: 1 } });
  assert.equal(doc.spec.phase, 'AUTHZ');
  assert.equal(doc.spec.priority, 10);
  assert.deepEqual(doc.spec.selector, { matchLabels: { app: 'details', version: 'v1' } });
  assert.equal(doc.spec.imagePullSecret, 'regcred');
  assert.equal(doc.spec.imagePullPolicy, 'Always');
});

test('WasmPlugin: optional fields are absent when not given; the YAML names its source in a comment', () => {
  const text = renderResource(input());
  const doc = parse(text);
  assert.deepEqual(Object.keys(doc.spec).sort(), ['sha256', 'url']);
  assert.equal(doc.metadata.namespace, undefined);
  assert.equal(parseDocument(text).commentBefore?.trim(), `Rendered by wasm-oci from ${IMAGE}@${MANIFEST_DIGEST}`);
});

test('WasmPlugin: an image without a tag is pinned by digest in the URL, so Istio never pulls latest', () => {
  const doc = rendered({ image: 'registry.example.com/filters/example' });
  assert.equal(doc.spec.url, `oci://registry.example.com/filters/example@${MANIFEST_DIGEST}`);
  assert.equal(doc.spec.sha256, HEX);
});

test('WasmPlugin: a plugin config that is not a JSON object is refused (pluginConfig is a Struct)', () => {
  assertInvalid(() => renderResource(input({ pluginConfig: 'plain text' })), /JSON object/);
  assertInvalid(() => renderResource(input({ pluginConfig: [1, 2] })), /JSON object/);
});

test('EnvoyFilter: Wasm filter inserted before the router, config as StringValue, local file named by digest', () => {
  const config = { name: 'hello', value: 'hello details' };
  const doc = rendered({
    kind: 'envoyfilter',
    name: 'details-filter',
    namespace: 'bookinfo',
    selector: { app: 'details' },
    rootId: 'my_root_id',
    pluginConfig: config,
    moduleFileName: 'example-filter.wasm',
  });
  assert.equal(doc.apiVersion, 'networking.istio.io/v1alpha3');
  assert.equal(doc.kind, 'EnvoyFilter');
  assert.equal(doc.metadata.name, 'details-filter');
  assert.equal(doc.metadata.namespace, 'bookinfo');
  assert.equal(doc.metadata.annotations['wasm-oci.io/source'], `${IMAGE}@${MANIFEST_DIGEST}`);
  assert.deepEqual(doc.spec.workloadSelector, { labels: { app: 'details' } });
  assert.equal(doc.spec.configPatches.length, 1);
  const patch = doc.spec.configPatches[0];
  assert.equal(patch.applyTo, 'HTTP_FILTER');
  assert.equal(patch.match.context, 'SIDECAR_INBOUND');
  assert.equal(patch.match.listener.filterChain.filter.name, 'envoy.filters.network.http_connection_manager');
  assert.equal(patch.match.listener.filterChain.filter.subFilter.name, 'envoy.filters.http.router');
  assert.equal(patch.patch.operation, 'INSERT_BEFORE');
  assert.equal(patch.patch.value.name, 'envoy.filters.http.wasm');
  const typed = patch.patch.value.typed_config;
  assert.equal(typed['@type'], 'type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm');
  assert.equal(typed.config.root_id, 'my_root_id');
  assert.equal(typed.config.configuration['@type'], 'type.googleapis.com/google.protobuf.StringValue');
  assert.equal(typeof typed.config.configuration.value, 'string');
  assert.deepEqual(JSON.parse(typed.config.configuration.value), config);
  assert.equal(typed.config.vm_config.runtime, 'envoy.wasm.runtime.v8');
  assert.equal(typed.config.vm_config.vm_id, 'details-filter');
  // The agent's output for filter details-filter (wasm-oci agent writes DIR/NAME.wasm).
  assert.equal(typed.config.vm_config.code.local.filename, '/var/local/lib/wasm-filters/details-filter.wasm');
});

test('EnvoyFilter: --filter-dir moves the file; the file is NAME.wasm whatever the digest, as the agent writes it', () => {
  const a = rendered({ kind: 'envoyfilter', filterDir: '/opt/filters/' });
  const fileA = a.spec.configPatches[0].patch.value.typed_config.config.vm_config.code.local.filename;
  assert.equal(fileA, '/opt/filters/example.wasm');
  const other = digestOf('another manifest');
  const b = rendered({ kind: 'envoyfilter', filterDir: '/opt/filters', manifestDigest: other, moduleFileName: 'example-filter.wasm' });
  const fileB = b.spec.configPatches[0].patch.value.typed_config.config.vm_config.code.local.filename;
  assert.equal(fileB, '/opt/filters/example.wasm');
  assert.equal(b.metadata.annotations['wasm-oci.io/source'], `${IMAGE}@${other}`);
  assert.equal(a.spec.workloadSelector, undefined);
  assertInvalid(() => renderResource(input({ kind: 'envoyfilter', filterDir: 'relative/dir' })), /absolute/);
});

// The ASMFilterDeployment example of the ASM article (seed), verbatim.
const ARTICLE_EXAMPLE = `
apiVersion: istio.alibabacloud.com/v1beta1
kind: ASMFilterDeployment
metadata:
  name: details-v1-wasmfiltersample
spec:
  workload:
    kind: Deployment
    labels:
      app: details
      version: v1
  filter:
    parameters: '{"name":"hello","value":"hello details"}'
    image: 'acree-1-registry.cn-hangzhou.cr.aliyuncs.com/asm/asm-test:v0.1'
    imagePullOptions: 
      pullSecret: 'asmwasm-cache'
    rootID: 'my_root_id'
    id: 'details-v1-wasmfiltersample.default'
`;

function keyPaths(value: unknown, prefix = ''): string[] {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return [prefix];
  return Object.entries(value).flatMap(([k, v]) => keyPaths(v, prefix ? `${prefix}.${k}` : k));
}

test('ASMFilterDeployment: the article example rendered from the same inputs has its shape and values, image pinned by digest', () => {
  const article = parse(ARTICLE_EXAMPLE);
  const articleImage = 'acree-1-registry.cn-hangzhou.cr.aliyuncs.com/asm/asm-test:v0.1';
  const doc = rendered({
    kind: 'asmfilterdeployment',
    image: articleImage,
    name: 'details-v1-wasmfiltersample',
    selector: { app: 'details', version: 'v1' },
    pluginConfig: { name: 'hello', value: 'hello details' },
    pullSecret: 'asmwasm-cache',
    rootId: 'my_root_id',
  });
  assert.deepEqual(keyPaths(doc.spec).sort(), keyPaths(article.spec).sort());
  assert.equal(doc.apiVersion, article.apiVersion);
  assert.equal(doc.kind, article.kind);
  assert.equal(doc.metadata.name, article.metadata.name);
  assert.deepEqual(doc.spec.workload, article.spec.workload);
  assert.equal(doc.spec.filter.parameters, article.spec.filter.parameters);
  assert.deepEqual(doc.spec.filter.imagePullOptions, article.spec.filter.imagePullOptions);
  assert.equal(doc.spec.filter.rootID, article.spec.filter.rootID);
  assert.equal(doc.spec.filter.id, article.spec.filter.id);
  assert.equal(doc.spec.filter.image, `${article.spec.filter.image}@${MANIFEST_DIGEST}`);
  assert.ok(doc.spec.filter.image.includes(HEX));
});

test('ASMFilterDeployment: namespace goes into id; workload kind; workload labels are required', () => {
  const doc = rendered({ kind: 'asmfilterdeployment', namespace: 'bookinfo', selector: { app: 'details' }, workloadKind: 'StatefulSet' });
  assert.equal(doc.metadata.namespace, 'bookinfo');
  assert.equal(doc.spec.filter.id, 'example.bookinfo');
  assert.equal(doc.spec.workload.kind, 'StatefulSet');
  assert.equal(doc.spec.filter.image, `${IMAGE}@${MANIFEST_DIGEST}`);
  assert.equal(doc.spec.filter.parameters, undefined);
  assertInvalid(() => renderResource(input({ kind: 'asmfilterdeployment' })), /workload labels/);
});

test('invalid names, namespaces and labels are refused with E_INVALID_INPUT', () => {
  for (const name of ['Example', 'my_filter', '-filter', 'filter-', '', 'a'.repeat(254), 'a b']) {
    assertInvalid(() => validateResourceName(name), /not a valid Kubernetes name/);
    assertInvalid(() => renderResource(input({ name })), /not a valid Kubernetes name/);
  }
  for (const name of ['example', 'details-v1-wasmfiltersample', 'a.b-c', 'x1']) validateResourceName(name);
  assertInvalid(() => renderResource(input({ namespace: 'Book_Info' })), /namespace/);
  for (const bad of ['app', '=details', 'a b=c', 'app=has space', `app=${'v'.repeat(64)}`, 'UPPER.prefix/app=x', 'app=-x']) {
    assertInvalid(() => parseSelector([bad]), /selector|label/);
  }
  assertInvalid(() => parseSelector(['app=a', 'app=b']), /twice/);
  assert.deepEqual(parseSelector(['app=details', 'example.com/tier=back_end', 'empty=']), {
    app: 'details',
    'example.com/tier': 'back_end',
    empty: '',
  });
  assertInvalid(() => renderResource(input({ selector: { 'bad key': 'x' } })), /label key/);
  assertInvalid(() => renderResource(input({ pullSecret: 'Bad_Secret' })), /pull secret/);
});

test('images: a scheme, a conflicting digest, or a non-sha256 manifest digest are refused', () => {
  assertInvalid(() => renderResource(input({ image: `oci://${IMAGE}` })), /scheme/);
  assertInvalid(() => renderResource(input({ image: `${IMAGE}@${digestOf('other')}` })), /names digest/);
  assert.equal(rendered({ image: `${IMAGE}@${MANIFEST_DIGEST}` }).spec.url, `oci://${IMAGE}`);
  assertInvalid(() => renderResource(input({ image: 'UPPER/case:v1' })), /not a valid reference/);
  assertInvalid(() => renderResource(input({ manifestDigest: digestOf('x', 'sha512') })), /not sha256/, 'E_UNSUPPORTED');
  assertInvalid(() => renderResource(input({ manifestDigest: 'sha256:abc' })), /not a valid digest/);
});

test('plugin config: inline JSON, @file and a file path; bad JSON and missing files are refused', async (t) => {
  const dir = await makeTempDir(t);
  await writeFile(join(dir, 'config.json'), '{\n  "name": "hello"\n}\n');
  await writeFile(join(dir, 'bad.json'), '{"name": ');
  assert.deepEqual(await loadPluginConfig('{"name":"hello","value":"hello details"}'), { name: 'hello', value: 'hello details' });
  assert.deepEqual(await loadPluginConfig(`@${join(dir, 'config.json')}`), { name: 'hello' });
  assert.deepEqual(await loadPluginConfig('@config.json', { cwd: dir }), { name: 'hello' });
  assert.deepEqual(await loadPluginConfig(join(dir, 'config.json')), { name: 'hello' });
  await assertRejects(loadPluginConfig('{"name": hello}'), /not valid JSON/);
  await assertRejects(loadPluginConfig(`@${join(dir, 'bad.json')}`), /not valid JSON/);
  await assertRejects(loadPluginConfig(`@${join(dir, 'missing.json')}`), /does not exist/, 'E_FILE_NOT_FOUND');
  await assertRejects(loadPluginConfig('no-such-file.json', { cwd: dir }), /neither JSON nor an existing file/);
  await assertRejects(loadPluginConfig('@'), /names no file/);
});

test('JSON output is the same object as the YAML', () => {
  const i = input({ kind: 'envoyfilter', rootId: 'r', pluginConfig: { a: 1 }, selector: { app: 'x' } });
  assert.deepEqual(parse(renderResource(i)), JSON.parse(JSON.stringify(buildResource(i))));
});

function blob(bytes: Uint8Array | string, mediaType: string, annotations?: Record<string, string>) {
  const data = typeof bytes === 'string' ? new TextEncoder().encode(bytes) : bytes;
  const desc: Descriptor = { mediaType, digest: digestOf(data), size: data.length, ...(annotations ? { annotations } : {}) };
  return { data, desc };
}

async function storeManifest(store: OciLayoutStore, config: ReturnType<typeof blob>, layers: ReturnType<typeof blob>[], tag: string) {
  for (const b of [config, ...layers]) await store.push(b.desc, b.data);
  const bytes = encodeManifest({ schemaVersion: 2, mediaType: MEDIA_TYPES.ociManifest, config: config.desc, layers: layers.map((l) => l.desc) });
  const desc = descriptorFor(bytes, MEDIA_TYPES.ociManifest);
  await store.push(desc, bytes);
  await store.tag(desc, tag);
  return desc;
}

const MODULE = new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]);

test('loadRenderFacts: root id from the solo config blob, module title, manifest (not module) digest', async (t) => {
  const store = new OciLayoutStore(join(await makeTempDir(t), 'layout'), { create: true });
  const runtime = '{"type":"envoy_proxy","abiVersions":["v0.2.1"],"config":{"rootIds":["my_root_id","second"]}}';
  const config = blob(runtime, MEDIA_TYPES.soloWasmConfig);
  const configLayer = blob(runtime, MEDIA_TYPES.soloWasmConfig, { [ANNOTATIONS.title]: 'runtime-config.json' });
  const module = blob(MODULE, MEDIA_TYPES.soloWasmLayer, { [ANNOTATIONS.title]: 'example-filter.wasm' });
  const desc = await storeManifest(store, config, [configLayer, module], 'v1');
  const facts = await loadRenderFacts(store, 'v1');
  assert.deepEqual(facts, { manifestDigest: desc.digest, rootId: 'my_root_id', moduleFileName: 'example-filter.wasm' });
  assert.notEqual(facts.manifestDigest, module.desc.digest);

  const out = await renderArtifact(store, 'v1', { kind: 'envoyfilter', image: IMAGE, name: 'example' });
  const doc = parse(out.yaml);
  const cfg = doc.spec.configPatches[0].patch.value.typed_config.config;
  assert.equal(cfg.root_id, 'my_root_id');
  assert.equal(cfg.vm_config.code.local.filename, '/var/local/lib/wasm-filters/example.wasm');
  const explicit = await renderArtifact(store, 'v1', { kind: 'wasmplugin', image: IMAGE, name: 'example', rootId: 'other' });
  assert.equal(explicit.resource.spec.pluginName, 'other');
  assert.equal(explicit.resource.spec.sha256, desc.digest.slice(7));
});

test('loadRenderFacts: root id from a runtime-config.json layer; none when absent; a hostile title is not used', async (t) => {
  const store = new OciLayoutStore(join(await makeTempDir(t), 'layout'), { create: true });
  const empty = blob('{}', MEDIA_TYPES.ociEmpty);
  const configLayer = blob('{"type":"envoy_proxy","config":{"rootIds":["from_layer"]}}', MEDIA_TYPES.soloWasmConfig, { [ANNOTATIONS.title]: 'runtime-config.json' });
  const module = blob(MODULE, MEDIA_TYPES.soloWasmLayer, { [ANNOTATIONS.title]: '../../etc/evil name.wasm' });
  await storeManifest(store, empty, [configLayer, module], 'layer');
  assert.equal((await loadRenderFacts(store, 'layer')).rootId, 'from_layer');
  assert.equal((await loadRenderFacts(store, 'layer')).moduleFileName, undefined);

  const cncf = blob(MODULE, MEDIA_TYPES.cncfWasmLayer, { [ANNOTATIONS.title]: 'plugin.wasm' });
  const cncfConfig = blob('{"architecture":"wasm","os":"wasip1","layerDigests":[]}', MEDIA_TYPES.cncfWasmConfig);
  await storeManifest(store, cncfConfig, [cncf], 'cncf');
  const facts = await loadRenderFacts(store, 'cncf');
  assert.equal(facts.rootId, undefined);
  assert.equal(facts.moduleFileName, 'plugin.wasm');

  const broken = blob('not json', MEDIA_TYPES.soloWasmConfig);
  await storeManifest(store, broken, [module], 'broken');
  const warnings: string[] = [];
  const brokenFacts = await loadRenderFacts(store, 'broken', { onWarning: (m) => warnings.push(m) });
  assert.equal(brokenFacts.rootId, undefined);
  assert.match(warnings.join('\n'), /runtime config/);
});
