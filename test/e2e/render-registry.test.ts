import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';
import { startDistribution, type RunningRegistry } from '../helpers/distribution.js';
import { examplesDir } from '../helpers/paths.js';
import { assertPinned, renderViaCli, type RenderedKind } from '../helpers/render-checks.js';
import { skopeoInspectRaw, skopeoOptsFor } from '../helpers/skopeo.js';

// Istio's sha256 for an oci:// URL is the manifest digest. Rendered resources must carry the digest
// the registry itself reports, whatever the kind, whether the reference is a tag or a digest.

const KINDS: RenderedKind[] = ['wasmplugin', 'envoyfilter', 'asmfilterdeployment'];
const SEED_FILES = [
  '--manifest-config', 'runtime-config.json:application/vnd.module.wasm.config.v1+json',
  'example-filter.wasm:application/vnd.module.wasm.content.layer.v1+wasm',
];

// An ASMFilterDeployment must name the workload it is mounted into.
const SELECTOR = ['--selector', 'app=details'];

/** `Docker-Content-Digest` of a HEAD on the manifest, asked of the registry without our client. */
async function registryDigest(reg: RunningRegistry, repo: string, ref: string): Promise<string> {
  const res = await fetch(`${reg.url}/v2/${repo}/manifests/${ref}`, {
    method: 'HEAD', headers: { accept: 'application/vnd.oci.image.manifest.v1+json' },
  });
  assert.equal(res.status, 200, `HEAD ${repo}:${ref}`);
  const digest = res.headers.get('docker-content-digest');
  assert.match(digest ?? '', /^sha256:[0-9a-f]{64}$/);
  return digest!;
}

test('render from the registry: every kind pinned to the Docker-Content-Digest the registry reports', async (t) => {
  const reg = await startDistribution({ mode: 'plain', t });
  const image = `${reg.host}/asm-test:v0.1`;
  const pushed = await runCli(['push', image, '--plain-http', ...SEED_FILES], { cwd: examplesDir });
  assert.equal(pushed.code, 0, pushed.stderr);
  const digest = await registryDigest(reg, 'asm-test', 'v0.1');
  assert.ok(pushed.stdout.includes(`Digest: ${digest}`), 'push reported the digest the registry stores');
  const raw = await skopeoInspectRaw(`docker://${image}`, skopeoOptsFor(reg));
  assert.equal(`sha256:${createHash('sha256').update(raw).digest('hex')}`, digest, 'skopeo agrees on the digest');

  for (const kind of KINDS) {
    // The runtime config pushed with the seed command names my_root_id.
    const { doc, yaml } = await renderViaCli([image, '--plain-http'], kind, SELECTOR);
    assertPinned(doc, kind, image, digest, 'my_root_id');
    assert.equal(doc.metadata.name, 'asm-test');
    assert.ok(yaml.includes(digest), kind);
  }
  // By digest: the same pin, and the image the cluster pulls keeps the digest form.
  const byDigest = `${reg.host}/asm-test@${digest}`;
  const { doc } = await renderViaCli([byDigest, '--plain-http'], 'wasmplugin', SELECTOR);
  assert.equal(doc.spec.sha256, digest.slice('sha256:'.length));
  assert.equal(doc.metadata.annotations['wasm-oci.io/source'], byDigest);

  // Re-pushing the tag with other content moves the pin: render reads the registry, not a cache.
  const moved = await runCli(['push', image, '--plain-http', join(examplesDir, 'example-filter.wasm'), '--root-id', 'other_root']);
  assert.equal(moved.code, 0, moved.stderr);
  const newDigest = await registryDigest(reg, 'asm-test', 'v0.1');
  assert.notEqual(newDigest, digest);
  const again = await renderViaCli([image, '--plain-http'], 'asmfilterdeployment', SELECTOR);
  assertPinned(again.doc, 'asmfilterdeployment', image, newDigest, 'other_root');
});

test('render from a token-protected TLS registry with --ca-file and credentials; refused without them', async (t) => {
  const reg = await startDistribution({ mode: 'tls-token', t });
  const image = `${reg.host}/team/filter:v1`;
  const auth = ['--ca-file', reg.caFile!, '-u', reg.username!, '-p', reg.password!];
  const pushed = await runCli(['push', image, ...auth, ...SEED_FILES], { cwd: examplesDir });
  assert.equal(pushed.code, 0, pushed.stderr);
  const digest = /^Digest: (sha256:[0-9a-f]{64})$/m.exec(pushed.stdout)![1]!;
  const raw = await skopeoInspectRaw(`docker://${image}`, skopeoOptsFor(reg));
  assert.equal(`sha256:${createHash('sha256').update(raw).digest('hex')}`, digest);

  for (const kind of KINDS) {
    const { doc } = await renderViaCli([image, ...auth], kind, [...SELECTOR, '--pull-secret', 'regcred']);
    assertPinned(doc, kind, image, digest, 'my_root_id');
  }
  const anonymous = await runCli(['render', image, '--ca-file', reg.caFile!, '--kind', 'wasmplugin', ...SELECTOR]);
  assert.equal(anonymous.code, 3, anonymous.stderr);
  assert.equal(anonymous.stdout, '', 'no half-rendered resource');
});
