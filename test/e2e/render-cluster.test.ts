import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parse, parseAllDocuments } from 'yaml';
import { runCli } from '../helpers/cli.js';
import { validateKubeObject } from '../helpers/kube-schema.js';

type Any = any;
const AGENT_IMAGE = 'registry.example.com/tools/wasm-oci:0.1.0';
const FILTERS = [
  '--filter', 'example=registry.example.com/filters/example:v0.1',
  '--filter', 'authz=registry.example.com/filters/authz:v2,pullSecret=authz-cred,rootId=authz_root',
];

test('render --kind agent: three YAML documents kubectl applies, each schema-valid; --format json is a v1 List of the same', async () => {
  const r = await runCli(['render', '--kind', 'agent', '--agent-image', AGENT_IMAGE, ...FILTERS, '--pull-secret', 'regcred', '--namespace', 'wasm-oci']);
  assert.equal(r.code, 0, r.stderr);
  const docs = parseAllDocuments(r.stdout).map((d) => d.toJS());
  assert.deepEqual(docs.map((d: Any) => d.kind), ['ServiceAccount', 'ConfigMap', 'DaemonSet']);
  for (const d of docs) {
    validateKubeObject(d);
    assert.equal(d.metadata.namespace, 'wasm-oci');
  }
  // --pull-secret is the secret of every filter that names none.
  assert.deepEqual(parse(docs[1].data['filters.yaml']).filters, [
    { name: 'example', image: 'registry.example.com/filters/example:v0.1', pullSecret: 'regcred' },
    { name: 'authz', image: 'registry.example.com/filters/authz:v2', pullSecret: 'authz-cred', rootId: 'authz_root' },
  ]);
  assert.equal(docs[2].spec.template.spec.containers[0].image, AGENT_IMAGE);

  const j = await runCli(['render', '--kind', 'agent', '--agent-image', AGENT_IMAGE, ...FILTERS, '--pull-secret', 'regcred', '--namespace', 'wasm-oci', '--format', 'json']);
  assert.equal(j.code, 0, j.stderr);
  const list = JSON.parse(j.stdout);
  assert.equal(list.apiVersion, 'v1');
  assert.equal(list.kind, 'List');
  assert.deepEqual(list.items, docs);
});

test('render --kind workload-patch: the annotations of the ASM article, in YAML and JSON', async () => {
  const r = await runCli(['render', '--kind', 'workload-patch']);
  assert.equal(r.code, 0, r.stderr);
  const patch = parse(r.stdout);
  assert.deepEqual(patch, {
    spec: {
      template: {
        metadata: {
          annotations: {
            'sidecar.istio.io/userVolume': '[{"name":"wasmfilters-dir","hostPath":{"path":"/var/local/lib/wasm-filters"}}]',
            'sidecar.istio.io/userVolumeMount': '[{"mountPath":"/var/local/lib/wasm-filters","name":"wasmfilters-dir"}]',
          },
        },
      },
    },
  });
  assert.match(r.stdout, /kubectl patch deployment NAME/);
  const j = await runCli(['render', '--kind', 'workload-patch', '--format', 'json']);
  assert.equal(j.code, 0, j.stderr);
  assert.deepEqual(JSON.parse(j.stdout), patch);
});

test('render cluster kinds: usage errors exit 2 and print nothing on stdout', async () => {
  const cases: [string[], RegExp][] = [
    [['render', '--kind', 'agent', ...FILTERS], /--agent-image/],
    [['render', '--kind', 'agent', '--agent-image', AGENT_IMAGE], /at least one --filter/],
    [['render', '--kind', 'agent', '--agent-image', AGENT_IMAGE, '--filter', 'Bad_Name=r.example.com/a:v1'], /filter name "Bad_Name"/],
    [['render', '--kind', 'agent', '--agent-image', AGENT_IMAGE, '--filter', 'a=r.example.com/a:v1', '--filter', 'a=r.example.com/b:v1'], /given twice/],
    [['render', 'registry.example.com/filters/example:v0.1', '--kind', 'workload-patch'], /takes no reference/],
    [['render', '--kind', 'envoyfilter'], /needs a reference/],
  ];
  for (const [args, pattern] of cases) {
    const r = await runCli(args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, pattern);
  }
});
