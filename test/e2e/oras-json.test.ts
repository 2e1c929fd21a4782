// `--format json` of every command oras 1.3 also prints JSON for, against the shape taken from
// oras's source (field names and types; our extra keys are allowed beside them):
//   cmd/oras/internal/display/metadata/model/descriptor.go  Descriptor = DigestReference + ocispec.Descriptor
//   model/push.go     push      {Descriptor, referenceAsTags}
//   model/pull.go     pull      {reference, files: [File{path, Descriptor}]}
//   model/attach.go   attach    {Descriptor}
//   model/discover.go Node      {Descriptor, referrers: [Node]}
//   model/fetched.go  fetched   {Descriptor, content}
//   model/repo_tags.go Tags     {tags}
// ocispec.Descriptor's json tags: mediaType, digest, size, annotations,omitempty, artifactType,omitempty.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { copyFile, readFile, stat, writeFile } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import { runCli, type CliResult } from '../helpers/cli.js';
import { startDistribution } from '../helpers/distribution.js';
import { checkShape, type Shape } from '../helpers/json-shape.js';
import { examplesDir } from '../helpers/paths.js';
import { makeTempDir } from '../helpers/tmp.js';
import { ERROR_CODES } from '../../src/errors.js';

const ORAS_DESCRIPTOR: Shape = { reference: 'string', mediaType: 'string', digest: 'string', size: 'number', annotations: 'object?', artifactType: 'string?' };
const ORAS: Record<string, Shape> = {
  push: { ...ORAS_DESCRIPTOR, referenceAsTags: 'string[]' },
  pull: { reference: 'string', files: [{ path: 'string', ...ORAS_DESCRIPTOR }] },
  attach: { ...ORAS_DESCRIPTOR },
  discover: { ...ORAS_DESCRIPTOR, referrers: 'recurse' },
  manifestFetch: { ...ORAS_DESCRIPTOR, content: 'object|null' },
  repoTags: { tags: 'string[]' },
};
const TITLE = 'org.opencontainers.image.title';

function doc(r: CliResult, shape: Shape, what: string): any {
  assert.equal(r.code, 0, `${what} exited ${r.code}: ${r.stderr}`);
  let value: unknown;
  assert.doesNotThrow(() => { value = JSON.parse(r.stdout); }, `${what}: one JSON document:\n${r.stdout}`);
  assert.deepEqual(checkShape(value, shape), [], `${what}: oras's shape, got ${r.stdout}`);
  return value;
}

const sha256 = (b: Uint8Array): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;

test("--format json prints oras 1.3's documents: push, pull, manifest fetch, attach, discover, repo tags", async (t) => {
  const reg = await startDistribution({ mode: 'plain', t });
  const dir = await makeTempDir(t);
  await writeFile(join(dir, 'a.txt'), 'hello\n');
  await copyFile(join(examplesDir, 'example-filter.wasm'), join(dir, 'example-filter.wasm'));
  const ref = `${reg.host}/oras/json`;
  const j = (args: string[]) => runCli(['--format', 'json', ...args, '--plain-http'], { cwd: dir });

  // push: reference is NAME@digest (not the first tag), referenceAsTags every tag, sorted.
  const pushed = doc(await j(['push', `${ref}:v2,v1,latest`, 'a.txt:text/plain', 'example-filter.wasm:application/wasm', '-a', 'k=v', '--artifact-type', 'application/vnd.example']), ORAS.push!, 'push');
  assert.equal(pushed.reference, `${ref}@${pushed.digest}`);
  assert.deepEqual(pushed.referenceAsTags, [`${ref}:latest`, `${ref}:v1`, `${ref}:v2`]);
  assert.equal(pushed.annotations.k, 'v');
  assert.equal(pushed.artifactType, 'application/vnd.example');
  assert.ok(Array.isArray(pushed.blobs), 'our extra key stays');
  const manifestBytes = Buffer.from(await (await fetch(`${reg.url}/v2/oras/json/manifests/${pushed.digest}`, { headers: { accept: 'application/vnd.oci.image.manifest.v1+json' } })).arrayBuffer());
  assert.equal(sha256(manifestBytes), pushed.digest);
  assert.equal(pushed.size, manifestBytes.length);
  const manifest = JSON.parse(manifestBytes.toString('utf8'));

  // pull: one entry per titled layer, described by the layer; path absolute, written.
  const pulled = doc(await j(['pull', `${ref}:v1`, '-o', 'out']), ORAS.pull!, 'pull');
  assert.equal(pulled.reference, `${ref}@${pushed.digest}`);
  assert.equal(pulled.files.length, 2);
  for (const f of pulled.files) {
    const layer = manifest.layers.find((l: { digest: string }) => l.digest === f.digest);
    assert.ok(layer, `${f.digest} is a layer of the manifest`);
    assert.equal(f.reference, `${ref}@${layer.digest}`);
    assert.equal(f.size, layer.size);
    assert.equal(f.mediaType, layer.mediaType);
    assert.deepEqual(f.annotations, layer.annotations);
    assert.ok(isAbsolute(f.path));
    assert.equal(f.path, join(dir, 'out', layer.annotations[TITLE]));
    assert.equal(sha256(await readFile(f.path)), layer.digest);
  }

  // manifest fetch: the wrapper with the manifest as content; -o FILE writes the bytes too.
  const fetched = doc(await j(['manifest', 'fetch', `${ref}:v1`]), ORAS.manifestFetch!, 'manifest fetch');
  assert.equal(fetched.reference, `${ref}@${pushed.digest}`);
  assert.deepEqual(fetched.content, manifest);
  const toFile = doc(await j(['manifest', 'fetch', `${ref}:v1`, '-o', 'm.json']), ORAS.manifestFetch!, 'manifest fetch -o');
  assert.deepEqual(await readFile(join(dir, 'm.json')), manifestBytes);
  assert.equal(toFile.path, join(dir, 'm.json'));
  const dash = await j(['manifest', 'fetch', `${ref}:v1`, '-o', '-']);
  assert.equal(dash.code, ERROR_CODES.E_USAGE.exitCode, 'oras refuses --output - with --format json');

  // attach and discover: oras's descriptor and tree.
  await writeFile(join(dir, 'sig.json'), '{"sig":1}');
  const attached = doc(await j(['attach', '--artifact-type', 'application/vnd.example.sig', `${ref}:v1`, 'sig.json:application/json']), ORAS.attach!, 'attach');
  assert.equal(attached.reference, `${ref}@${attached.digest}`);
  assert.equal(attached.artifactType, 'application/vnd.example.sig');
  await writeFile(join(dir, 'sig2.json'), '{"sig":2}');
  const second = doc(await j(['attach', '--artifact-type', 'application/vnd.example.sig2', `${ref}@${attached.digest}`, 'sig2.json:application/json']), ORAS.attach!, 'attach to a referrer');
  const tree = doc(await j(['discover', `${ref}:v1`]), ORAS.discover!, 'discover');
  assert.equal(tree.reference, `${ref}@${pushed.digest}`);
  assert.equal(tree.referrers.length, 1);
  assert.equal(tree.referrers[0].digest, attached.digest);
  assert.equal(tree.referrers[0].reference, `${ref}@${attached.digest}`);
  assert.equal(tree.referrers[0].referrers[0].digest, second.digest, 'referrers of referrers, oras tree');
  assert.deepEqual(tree.referrers[0].referrers[0].referrers, []);

  // repo tags: oras's {tags}; our `repository` beside it.
  const tags = doc(await j(['repo', 'tags', ref]), ORAS.repoTags!, 'repo tags');
  for (const tag of ['latest', 'v1', 'v2']) assert.ok(tags.tags.includes(tag));
});

test('pull --format json of a tar layer: the file is described by its layer, its own digest in fileDigest', async (t) => {
  const reg = await startDistribution({ mode: 'plain', t });
  const dir = await makeTempDir(t);
  const filter = join(examplesDir, 'example-filter.wasm');
  const ref = `${reg.host}/oras/compat:v1`;
  assert.equal((await runCli(['push', '--profile', 'compat', ref, filter, '--plain-http'])).code, 0);
  const pulled = doc(await runCli(['--format', 'json', 'pull', ref, '-o', join(dir, 'out'), '--plain-http']), ORAS.pull!, 'pull compat');
  const wasm = pulled.files.find((f: { name: string }) => f.name === 'plugin.wasm');
  assert.ok(wasm);
  assert.equal(wasm.mediaType, 'application/vnd.oci.image.layer.v1.tar+gzip');
  assert.notEqual(wasm.digest, wasm.fileDigest);
  assert.equal(wasm.fileDigest, sha256(await readFile(filter)));
  assert.equal((await stat(wasm.path)).size, wasm.fileSize);
});
