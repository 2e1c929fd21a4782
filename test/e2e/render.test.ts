import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';
import { examplesDir } from '../helpers/paths.js';
import { assertPinned, renderViaCli, type RenderedKind } from '../helpers/render-checks.js';
import { makeTempDir } from '../helpers/tmp.js';

const IMAGE = 'registry.example.com/filters/example:v1';
const MODULE = join(examplesDir, 'example-filter.wasm');

async function pushToLayout(t: Parameters<typeof makeTempDir>[0]): Promise<{ layout: string; digest: string; dir: string }> {
  const dir = await makeTempDir(t);
  const layout = join(dir, 'layout');
  const push = await runCli(['push', '--oci-layout', `${layout}:v1`, MODULE, '--root-id', 'my_root_id']);
  assert.equal(push.code, 0, push.stderr);
  const resolved = await runCli(['resolve', '--oci-layout', `${layout}:v1`]);
  assert.equal(resolved.code, 0, resolved.stderr);
  const digest = resolved.stdout.trim();
  assert.match(digest, /^sha256:[0-9a-f]{64}$/);
  return { layout, digest, dir };
}

test('render from a layout: every kind pinned to the digest resolve prints, root id from the runtime config', async (t) => {
  const { layout, digest } = await pushToLayout(t);
  for (const kind of ['wasmplugin', 'envoyfilter', 'asmfilterdeployment'] as RenderedKind[]) {
    const { doc, yaml } = await renderViaCli(['--oci-layout', `${layout}:v1`, '--image', IMAGE], kind, ['--selector', 'app=details']);
    assertPinned(doc, kind, IMAGE, digest, 'my_root_id');
    assert.equal(doc.metadata.name, 'example', 'the name defaults to the repository base name');
    assert.ok(yaml.startsWith(`# Rendered by wasm-oci from ${IMAGE}@${digest}`));
  }
  // By digest too; the EnvoyFilter's local file is the agent's NAME.wasm.
  const { doc } = await renderViaCli(['--oci-layout', `${layout}@${digest}`, '--image', IMAGE], 'envoyfilter');
  const file = doc.spec.configPatches[0].patch.value.typed_config.config.vm_config.code.local.filename;
  assert.equal(file, '/var/local/lib/wasm-filters/example.wasm');
});

test('render flags: name, namespace, selectors, plugin config file, pull secret, root id override, policy, phase, priority', async (t) => {
  const { layout, digest, dir } = await pushToLayout(t);
  await writeFile(join(dir, 'config.json'), '{"name":"hello","value":"hello details"}');
  const { doc } = await renderViaCli(['--oci-layout', `${layout}:v1`, '--image', IMAGE], 'wasmplugin', [
    '--name', 'details-filter', '--namespace', 'bookinfo', '--selector', 'app=details', '--selector', 'version=v1',
    '--plugin-config', `@${join(dir, 'config.json')}`, '--pull-secret', 'regcred', '--root-id', 'other_root',
    '--image-pull-policy', 'Always', '--phase', 'AUTHN', '--priority', '5',
  ]);
  assertPinned(doc, 'wasmplugin', IMAGE, digest, 'other_root');
  assert.equal(doc.metadata.name, 'details-filter');
  assert.equal(doc.metadata.namespace, 'bookinfo');
  assert.deepEqual(doc.spec.selector.matchLabels, { app: 'details', version: 'v1' });
  assert.deepEqual(doc.spec.pluginConfig, { name: 'hello', value: 'hello details' });
  assert.equal(doc.spec.imagePullSecret, 'regcred');
  assert.equal(doc.spec.imagePullPolicy, 'Always');
  assert.equal(doc.spec.phase, 'AUTHN');
  assert.equal(doc.spec.priority, 5);

  const asm = await renderViaCli(['--oci-layout', `${layout}:v1`, '--image', IMAGE], 'asmfilterdeployment', [
    '--name', 'details-v1-wasmfiltersample', '--selector', 'app=details', '--selector', 'version=v1',
    '--plugin-config', '{"name":"hello","value":"hello details"}', '--pull-secret', 'asmwasm-cache',
  ]);
  assert.deepEqual(asm.doc.spec, {
    workload: { kind: 'Deployment', labels: { app: 'details', version: 'v1' } },
    filter: {
      parameters: '{"name":"hello","value":"hello details"}',
      image: `${IMAGE}@${digest}`,
      imagePullOptions: { pullSecret: 'asmwasm-cache' },
      rootID: 'my_root_id',
      id: 'details-v1-wasmfiltersample.default',
    },
  });
});

test('render --format json prints the same resource as the YAML', async (t) => {
  const { layout, digest } = await pushToLayout(t);
  const { doc } = await renderViaCli(['--oci-layout', `${layout}:v1`, '--image', IMAGE], 'envoyfilter');
  const r = await runCli(['--format', 'json', 'render', '--oci-layout', `${layout}:v1`, '--image', IMAGE, '--kind', 'envoyfilter']);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), doc);
  assertPinned(doc, 'envoyfilter', IMAGE, digest, 'my_root_id');
});

test('render refuses bad input with exit code 2 and a message naming the problem', async (t) => {
  const { layout } = await pushToLayout(t);
  const base = ['render', '--oci-layout', `${layout}:v1`];
  const cases: Array<[string[], RegExp]> = [
    [[], /--image is required with --oci-layout/],
    [['--image', IMAGE, '--name', 'Bad_Name'], /not a valid Kubernetes name/],
    [['--image', IMAGE, '--selector', 'app'], /not a key=value label/],
    [['--image', IMAGE, '--plugin-config', '{"name": hello}'], /not valid JSON/],
    [['--image', IMAGE, '--kind', 'asmfilterdeployment'], /workload labels/],
    [['--image', `oci://${IMAGE}`], /scheme/],
    [['--image', IMAGE, '--kind', 'deployment'], /invalid|Allowed choices/i],
  ];
  for (const [extra, pattern] of cases) {
    const r = await runCli([...base, ...extra]);
    assert.equal(r.code, 2, `${extra.join(' ')}: exit ${r.code}, stderr ${r.stderr}`);
    assert.match(r.stderr, pattern, extra.join(' '));
    assert.equal(r.stdout, '', 'nothing half-rendered on stdout');
  }
  const missing = await runCli(['render', '--oci-layout', `${layout}:nope`, '--image', IMAGE]);
  assert.equal(missing.code, 4, missing.stderr);
});

test('render --help shows an example', async () => {
  const r = await runCli(['render', '--help']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /Examples:\n\s+\$ wasm-oci render /);
  assert.match(r.stdout, /--kind <kind>/);
});
