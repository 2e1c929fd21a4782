import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parse } from 'yaml';
import { isWasmOciError } from '../../src/errors.js';
import { digestOf } from '../../src/oci/digest.js';
import { buildAgentObjects, type AgentRenderInput } from '../../src/render/agent-daemonset.js';
import { parseFilterFlag } from '../../src/render/agent-filters.js';
import { objectsToYaml } from '../../src/render/cluster-yaml.js';
import { buildResource } from '../../src/render/render.js';
import { buildWorkloadPatch } from '../../src/render/workload-patch.js';
import { validateKubeObject, validateVolume, validateVolumeMount } from '../helpers/kube-schema.js';

type Any = any;
const AGENT_IMAGE = 'registry.example.com/tools/wasm-oci:0.1.0';
const DIGEST = digestOf('a manifest');

function input(over: Partial<AgentRenderInput> = {}): AgentRenderInput {
  return {
    agentImage: AGENT_IMAGE,
    filters: [
      { name: 'example', image: 'registry.example.com/filters/example:v0.1', pullSecret: 'regcred' },
      { name: 'authz', image: `registry.example.com/filters/authz@${DIGEST}`, rootId: 'authz_root' },
      { name: 'stats', image: 'other.example.com/stats:v2', pullSecret: 'other-cred' },
      { name: 'headers', image: 'registry.example.com/filters/headers:v1', pullSecret: 'regcred' },
    ],
    ...over,
  };
}

function assertInvalid(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (err: unknown) => isWasmOciError(err) && err.code === 'E_INVALID_INPUT' && pattern.test(err.message));
}

function byKind(objects: Any[], kind: string): Any {
  const found = objects.find((o) => o.kind === kind);
  assert.ok(found, `no ${kind}`);
  return found;
}

test('render agent: ServiceAccount, ConfigMap and DaemonSet each validate against the Kubernetes OpenAPI schema', () => {
  for (const over of [{}, { namespace: 'wasm-oci', name: 'filters', runAsUser: 65532, interval: '5m', filterDir: '/opt/filters/' }]) {
    const objects = buildAgentObjects(input(over));
    assert.deepEqual(objects.map((o) => o.kind), ['ServiceAccount', 'ConfigMap', 'DaemonSet']);
    // The same objects after a trip through the YAML the CLI prints.
    const reparsed = objectsToYaml(objects).split(/^---$/m).map((d) => parse(d));
    assert.deepEqual(reparsed, JSON.parse(JSON.stringify(objects)));
    for (const o of reparsed) validateKubeObject(o);
  }
});

test('render agent: the schema check is real: a broken DaemonSet is refused', () => {
  const ds: Any = structuredClone(byKind(buildAgentObjects(input()), 'DaemonSet'));
  ds.spec.template.spec.containers[0].resources.limits.memory = 'lots';
  assert.throws(() => validateKubeObject(ds), /quantity/);
  delete ds.spec.selector;
  assert.throws(() => validateKubeObject(ds), /selector/);
});

test('render agent: the ConfigMap holds the agent config (filters.yaml) in the agent\'s shape', () => {
  const cm = byKind(buildAgentObjects(input()), 'ConfigMap');
  assert.deepEqual(Object.keys(cm.data), ['filters.yaml']);
  assert.deepEqual(parse(cm.data['filters.yaml']), {
    filters: [
      { name: 'example', image: 'registry.example.com/filters/example:v0.1', pullSecret: 'regcred' },
      { name: 'authz', image: `registry.example.com/filters/authz@${DIGEST}`, rootId: 'authz_root' },
      { name: 'stats', image: 'other.example.com/stats:v2', pullSecret: 'other-cred' },
      { name: 'headers', image: 'registry.example.com/filters/headers:v1', pullSecret: 'regcred' },
    ],
  });
});

test('render agent: hostPath, mounts, probes, resources and a pod with no privilege beyond writing the directory', () => {
  const objects = buildAgentObjects(input());
  const sa = byKind(objects, 'ServiceAccount');
  assert.equal(sa.automountServiceAccountToken, false);
  assert.equal(sa.secrets, undefined);
  const ds = byKind(objects, 'DaemonSet');
  const pod = ds.spec.template.spec;
  assert.equal(pod.serviceAccountName, sa.metadata.name);
  assert.equal(pod.automountServiceAccountToken, false);
  assert.equal(pod.hostNetwork, undefined);
  assert.equal(pod.hostPID, undefined);
  assert.equal(pod.containers.length, 1);
  const c = pod.containers[0];
  assert.equal(c.image, AGENT_IMAGE);
  const arg = (flag: string) => c.args[c.args.indexOf(flag) + 1];
  assert.equal(arg('--output'), '/var/local/lib/wasm-filters');
  assert.equal(arg('--config'), '/etc/wasm-oci/config');
  assert.equal(arg('--pull-secrets'), '/etc/wasm-oci/pull-secrets');
  assert.equal(arg('--interval'), '30s');
  assert.equal(arg('--listen'), '0.0.0.0:9090');

  const volumes = Object.fromEntries(pod.volumes.map((v: Any) => [v.name, v]));
  const mounts = Object.fromEntries(c.volumeMounts.map((m: Any) => [m.name, m]));
  assert.deepEqual(volumes['wasm-filters'].hostPath, { path: '/var/local/lib/wasm-filters', type: 'DirectoryOrCreate' });
  assert.equal(mounts['wasm-filters'].mountPath, '/var/local/lib/wasm-filters');
  assert.notEqual(mounts['wasm-filters'].readOnly, true);
  assert.deepEqual(volumes.config.configMap, { name: byKind(objects, 'ConfigMap').metadata.name });
  assert.equal(mounts.config.readOnly, true);
  // Every hostPath is the filter directory: nothing else of the node is reachable.
  assert.deepEqual(pod.volumes.filter((v: Any) => v.hostPath).map((v: Any) => v.name), ['wasm-filters']);
  // One folder per distinct Secret, NAME/.dockerconfigjson, as the agent's --pull-secrets reads it.
  assert.equal(mounts['pull-secrets'].readOnly, true);
  assert.deepEqual(volumes['pull-secrets'].projected.sources, [
    { secret: { name: 'other-cred', items: [{ key: '.dockerconfigjson', path: 'other-cred/.dockerconfigjson' }] } },
    { secret: { name: 'regcred', items: [{ key: '.dockerconfigjson', path: 'regcred/.dockerconfigjson' }] } },
  ]);

  assert.equal(c.livenessProbe.httpGet.path, '/healthz');
  assert.equal(c.readinessProbe.httpGet.path, '/readyz');
  assert.equal(c.ports.find((p: Any) => p.name === c.livenessProbe.httpGet.port).containerPort, 9090);
  // Sized from the agent benchmark's peak RSS (81 MiB): request peak + 25%, limit twice the peak.
  assert.deepEqual(c.resources, { requests: { cpu: '10m', memory: '104Mi' }, limits: { memory: '168Mi' } });
  // The V8 setting the agent benchmark measures with (bench/agent.ts): given at start, through the environment.
  assert.deepEqual(c.env, [{ name: 'NODE_OPTIONS', value: '--max-semi-space-size=1' }]);

  const sc = c.securityContext;
  assert.equal(sc.readOnlyRootFilesystem, true);
  assert.equal(sc.allowPrivilegeEscalation, false);
  assert.equal(sc.privileged, false);
  assert.deepEqual(sc.capabilities, { drop: ['ALL'] });
  assert.equal(sc.capabilities.add, undefined);
  assert.equal(sc.seccompProfile.type, 'RuntimeDefault');
  assert.equal(sc.runAsUser, 0, 'kubelet creates the hostPath root-owned: uid 0, without any capability, is what can write it');

  const nonRoot = byKind(buildAgentObjects(input({ runAsUser: 65532 })), 'DaemonSet').spec.template.spec;
  assert.equal(nonRoot.containers[0].securityContext.runAsNonRoot, true);
  assert.equal(nonRoot.containers[0].securityContext.runAsUser, 65532);
  assert.equal(nonRoot.securityContext.fsGroup, 65532, 'the projected secrets are group-readable by the agent');
});

test('render agent: no pull secret, no secret volume; --filter-dir moves hostPath, mount and --output together', () => {
  const ds = byKind(buildAgentObjects(input({ filters: [{ name: 'example', image: 'r.example.com/f:v1' }], filterDir: '/opt/filters/' })), 'DaemonSet');
  const pod = ds.spec.template.spec;
  const c = pod.containers[0];
  assert.equal(pod.volumes.some((v: Any) => v.name === 'pull-secrets'), false);
  assert.equal(c.args.includes('--pull-secrets'), false);
  assert.equal(c.args[c.args.indexOf('--output') + 1], '/opt/filters');
  assert.equal(pod.volumes.find((v: Any) => v.name === 'wasm-filters').hostPath.path, '/opt/filters');
  assert.equal(c.volumeMounts.find((m: Any) => m.name === 'wasm-filters').mountPath, '/opt/filters');
});

test('--filter NAME=IMAGE[,pullSecret=..][,rootId=..] and the checks on the filter list', () => {
  assert.deepEqual(parseFilterFlag('example=registry.example.com/filters/example:v0.1'), { name: 'example', image: 'registry.example.com/filters/example:v0.1' });
  assert.deepEqual(parseFilterFlag('a=r.example.com/a:v1,pullSecret=regcred,rootId=root'), { name: 'a', image: 'r.example.com/a:v1', pullSecret: 'regcred', rootId: 'root' });
  assertInvalid(() => parseFilterFlag('example'), /not NAME=IMAGE/);
  assertInvalid(() => parseFilterFlag('=r.example.com/a:v1'), /not NAME=IMAGE/);
  assertInvalid(() => parseFilterFlag('a=r.example.com/a:v1,secret=x'), /"secret=x" is not one of pullSecret=/);
  assertInvalid(() => parseFilterFlag('a=r.example.com/a:v1,pullSecret=x,pullSecret=y'), /twice/);
  const one = (name: string, image = 'r.example.com/a:v1') => ({ name, image });
  assertInvalid(() => buildAgentObjects(input({ filters: [] })), /at least one filter/);
  assertInvalid(() => buildAgentObjects(input({ filters: [one('a'), one('a', 'r.example.com/b:v1')] })), /"a" is given twice/);
  assertInvalid(() => buildAgentObjects(input({ filters: [one('../etc/passwd')] })), /filter name/);
  assertInvalid(() => buildAgentObjects(input({ filters: [one('a', 'oci://r.example.com/a:v1')] })), /URL scheme/);
  assertInvalid(() => buildAgentObjects(input({ filters: [{ ...one('a'), pullSecret: 'Bad_Secret' }] })), /pull secret/);
  assertInvalid(() => buildAgentObjects(input({ filterDir: 'relative/dir' })), /absolute/);
  assertInvalid(() => buildAgentObjects(input({ interval: 'soon' })), /duration/);
  assertInvalid(() => buildAgentObjects(input({ runAsUser: 0 })), /non-root uid/);
  assertInvalid(() => buildAgentObjects(input({ agentImage: '' })), /agent image/);
});

test('render workload-patch: the ASM article\'s annotations, valid Volume and VolumeMount, a valid Deployment once applied', () => {
  const patch: Any = buildWorkloadPatch();
  const ann = patch.spec.template.metadata.annotations;
  // Byte for byte what the ASM article's Deployment carries.
  assert.equal(ann['sidecar.istio.io/userVolume'], '[{"name":"wasmfilters-dir","hostPath":{"path":"/var/local/lib/wasm-filters"}}]');
  assert.equal(ann['sidecar.istio.io/userVolumeMount'], '[{"mountPath":"/var/local/lib/wasm-filters","name":"wasmfilters-dir"}]');
  // Istio's injector unmarshals them into []corev1.Volume and []corev1.VolumeMount.
  for (const v of JSON.parse(ann['sidecar.istio.io/userVolume'])) validateVolume(v);
  for (const m of JSON.parse(ann['sidecar.istio.io/userVolumeMount'])) validateVolumeMount(m);
  // The patch merged into a minimal Deployment (a strategic merge of maps) is a valid Deployment.
  const deployment: Any = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'details-v1' },
    spec: {
      selector: { matchLabels: { app: 'details' } },
      template: { metadata: { labels: { app: 'details' } }, spec: { containers: [{ name: 'details', image: 'docker.io/istio/examples-bookinfo-details-v1:1.20.2' }] } },
    },
  };
  deployment.spec.template.metadata.annotations = { ...patch.spec.template.metadata.annotations };
  validateKubeObject(deployment);
  assert.deepEqual(Object.keys(patch), ['spec']);
  assert.deepEqual(Object.keys(patch.spec.template), ['metadata']);

  const moved: Any = buildWorkloadPatch({ filterDir: '/opt/filters/' });
  assert.equal(JSON.parse(moved.spec.template.metadata.annotations['sidecar.istio.io/userVolume'])[0].hostPath.path, '/opt/filters');
});

test('the EnvoyFilter\'s default file is the agent\'s output: DIR/NAME.wasm, the path the DaemonSet writes and the patch mounts', () => {
  const ef: Any = buildResource({ kind: 'envoyfilter', image: 'registry.example.com/filters/example:v0.1', manifestDigest: DIGEST, name: 'example' });
  const file = ef.spec.configPatches[0].patch.value.typed_config.config.vm_config.code.local.filename;
  const ds = byKind(buildAgentObjects(input()), 'DaemonSet');
  const c = ds.spec.template.spec.containers[0];
  const cm = byKind(buildAgentObjects(input()), 'ConfigMap');
  assert.ok(parse(cm.data['filters.yaml']).filters.some((f: Any) => f.name === 'example'));
  assert.equal(file, `${c.args[c.args.indexOf('--output') + 1]}/example.wasm`);
  assert.equal(file, '/var/local/lib/wasm-filters/example.wasm');
  const mount = JSON.parse((buildWorkloadPatch() as Any).spec.template.metadata.annotations['sidecar.istio.io/userVolumeMount'])[0].mountPath;
  assert.ok(file.startsWith(`${mount}/`));
});
