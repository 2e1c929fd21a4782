// `--format go-template=TEMPLATE` / `--template` as oras 1.3 has them (cmd/oras/internal/option/
// format.go, display/handler.go): the template runs on the command's JSON document, after a JSON
// round trip (numbers are float64), output on stdout with nothing added; only on push, attach,
// pull, discover, manifest fetch, repo ls and repo tags; oras's errors otherwise.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { copyFile, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runCli, type CliResult } from '../helpers/cli.js';
import { startDistribution } from '../helpers/distribution.js';
import { examplesDir } from '../helpers/paths.js';
import { makeTempDir } from '../helpers/tmp.js';
import { ERROR_CODES } from '../../src/errors.js';

const USAGE = ERROR_CODES.E_USAGE.exitCode;

function printed(r: CliResult, what: string): string {
  assert.equal(r.code, 0, `${what} exited ${r.code}: ${r.stderr}`);
  return r.stdout;
}

function refused(r: CliResult, what: string, message: RegExp): void {
  assert.equal(r.code, USAGE, `${what}: exit ${USAGE}, got ${r.code}: ${r.stderr}`);
  assert.match(r.stderr, message, what);
  assert.equal(r.stdout, '', `${what}: nothing on stdout (oras prints errors on stderr only)`);
}

test('go-template on every oras command that has it, against Distribution', async (t) => {
  const reg = await startDistribution({ mode: 'plain', t });
  const dir = await makeTempDir(t);
  await copyFile(join(examplesDir, 'example-filter.wasm'), join(dir, 'example-filter.wasm'));
  // Exactly 1 MiB: Go prints that float64 as 1.048576e+06, and so must we.
  await writeFile(join(dir, 'big.bin'), Buffer.alloc(1048576, 7));
  const name = `${reg.host}/tpl/filter`;
  const cli = (args: string[]) => runCli([...args, '--plain-http'], { cwd: dir });

  const pushedRef = printed(await cli(['push', `${name}:v1,latest`, 'example-filter.wasm:application/wasm', 'big.bin:application/octet-stream', '--format', 'go-template={{.reference}}']), 'push');
  // No trailing newline: oras writes the template's output as it is.
  assert.match(pushedRef, /^[^\n]+@sha256:[0-9a-f]{64}$/);
  const digest = pushedRef.slice(pushedRef.indexOf('@') + 1);
  assert.equal(pushedRef, `${name}@${digest}`);
  const head = await fetch(`${reg.url}/v2/tpl/filter/manifests/v1`, { method: 'HEAD', headers: { accept: 'application/vnd.oci.image.manifest.v1+json' } });
  assert.equal(head.headers.get('docker-content-digest'), digest, 'the digest printed is the one the registry has for v1');

  // --template, and `=` in the flag itself; tags sorted as oras sorts them.
  const tags = printed(await cli(['push', `${name}:b,a`, 'example-filter.wasm:application/wasm', '--format=go-template', '--template', '{{range .referenceAsTags}}{{.}}{{"\\n"}}{{end}}']), 'push --template');
  assert.equal(tags, `${name}:a\n${name}:b\n`);

  const pulled = printed(await cli(['pull', `${name}:v1`, '-o', 'out', '--format', 'go-template={{range .files}}{{.path}}|{{.size}}|{{.digest}}{{"\\n"}}{{end}}']), 'pull');
  const rows = pulled.trimEnd().split('\n').map((l) => l.split('|'));
  assert.equal(rows.length, 2);
  const sizes: string[] = [];
  for (const [path, size, fileDigest] of rows) {
    const bytes = await readFile(path!);
    assert.equal(`sha256:${createHash('sha256').update(bytes).digest('hex')}`, fileDigest, `${path} is the layer printed`);
    assert.equal((await stat(path!)).size, bytes.length);
    sizes.push(size!);
  }
  assert.deepEqual(sizes.sort(), ['1.048576e+06', String((await stat(join(dir, 'example-filter.wasm'))).size)].sort(), 'sizes as Go prints float64');

  const manifestBytes = Buffer.from(await (await fetch(`${reg.url}/v2/tpl/filter/manifests/${digest}`, { headers: { accept: 'application/vnd.oci.image.manifest.v1+json' } })).arrayBuffer());
  const manifest = JSON.parse(manifestBytes.toString('utf8'));
  const fetched = printed(await cli(['manifest', 'fetch', `${name}:v1`, '--format', 'go-template={{.digest}} {{.content.schemaVersion}} {{len .content.layers}} {{toJson .content.config}}']), 'manifest fetch');
  // toJson is Go's json.Marshal: keys sorted.
  assert.equal(fetched, `${digest} 2 2 ${JSON.stringify(manifest.config, Object.keys(manifest.config).sort())}`);

  await writeFile(join(dir, 'sig.json'), '{"sig":1}');
  const attached = printed(await cli(['attach', '--artifact-type', 'application/vnd.example.sig', `${name}:v1`, 'sig.json:application/json', '--format', 'go-template={{.digest}}']), 'attach');
  assert.match(attached, /^sha256:[0-9a-f]{64}$/);
  const discovered = printed(await cli(['discover', `${name}:v1`, '--format', 'go-template={{range .referrers}}{{.artifactType}} {{.digest}}{{end}}']), 'discover');
  assert.equal(discovered, `application/vnd.example.sig ${attached}`);

  const tagList = printed(await cli(['repo', 'tags', name, '--format', 'go-template={{join "," .tags}}']), 'repo tags');
  // Besides ours, the referrers tag index `sha256-<hex>` where the registry has no referrers API.
  const listed = tagList.split(',');
  assert.deepEqual(listed.filter((x) => !x.startsWith('sha256-')).sort(), ['a', 'b', 'latest', 'v1']);
  assert.ok(listed.every((x) => !x.startsWith('sha256-') || x === `sha256-${digest.slice(7)}`), tagList);
  const repos = printed(await cli(['repo', 'ls', reg.host, '--format', 'go-template={{range .repositories}}{{.}};{{end}}']), 'repo ls');
  assert.ok(repos.split(';').includes('tpl/filter'), repos);

  // oras's refusals, all before anything is pushed.
  refused(await cli(['resolve', `${name}:v1`, '--format', 'go-template={{.digest}}']), 'resolve has no go-template', /invalid format type: "go-template"\n.*supported types: json, text/);
  refused(await cli(['push', `${name}:never`, 'sig.json:application/json', '--format', 'go-template']), 'no template', /"go-template" format specified but no template given\n.*use `--format go-template=TEMPLATE` to specify the template/);
  refused(await cli(['push', `${name}:never`, 'sig.json:application/json', '--template', '{{.digest}}']), '--template alone', /--template must be used with --format go-template/);
  refused(await cli(['push', `${name}:never`, 'sig.json:application/json', '--format', 'go-template={{.digest']), 'parse error', /template: format output:1: unclosed action/);
  refused(await cli(['push', `${name}:never`, 'sig.json:application/json', '--format', 'go-template={{nope .digest}}']), 'unknown function', /template: format output:1: function "nope" not defined/);
  const manifestStatus = async (tag: string) => (await fetch(`${reg.url}/v2/tpl/filter/manifests/${tag}`, { method: 'HEAD', headers: { accept: 'application/vnd.oci.image.manifest.v1+json' } })).status;
  assert.equal(await manifestStatus('v1'), 200);
  assert.equal(await manifestStatus('never'), 404, 'a refused format pushes nothing');
  // An error while running (Go's wording), after the push as in oras.
  refused(await cli(['push', `${name}:late`, 'sig.json:application/json', '--format', 'go-template={{upper .size}}']), 'exec error', /at <\.size>: wrong type for value; expected string; got float64/);
  assert.equal(await manifestStatus('late'), 200, 'the push itself happened');
  // What the template wrote before the error is printed, as Go writes it straight to oras's stdout.
  const partial = await cli(['push', `${name}:partial`, 'sig.json:application/json', '--format', 'go-template={{.mediaType}} {{upper .size}}']);
  assert.equal(partial.code, USAGE);
  assert.equal(partial.stdout, 'application/vnd.oci.image.manifest.v1+json ');
  assert.match(partial.stderr, /wrong type for value; expected string; got float64/);
});

test('go-template on an OCI layout: push, manifest fetch, discover', async (t) => {
  const dir = await makeTempDir(t);
  await copyFile(join(examplesDir, 'example-filter.wasm'), join(dir, 'example-filter.wasm'));
  const cli = (args: string[]) => runCli(args, { cwd: dir });
  const pushed = printed(await cli(['push', '--oci-layout', 'store:v1', 'example-filter.wasm', '--format', 'go-template={{.mediaType}} {{.digest}}']), 'push');
  const [mediaType, digest] = pushed.split(' ');
  assert.equal(mediaType, 'application/vnd.oci.image.manifest.v1+json');
  const index = JSON.parse(await readFile(join(dir, 'store', 'index.json'), 'utf8'));
  assert.equal(index.manifests.find((m: { annotations?: Record<string, string> }) => m.annotations?.['org.opencontainers.image.ref.name'] === 'v1')?.digest, digest);
  const fetched = printed(await cli(['manifest', 'fetch', '--oci-layout', 'store:v1', '--format', 'go-template={{with .content}}{{.mediaType}}{{range .layers}} {{.mediaType}}{{end}}{{end}}']), 'manifest fetch');
  const manifest = JSON.parse(await readFile(join(dir, 'store', 'blobs', 'sha256', digest!.slice(7)), 'utf8'));
  assert.equal(fetched, [manifest.mediaType, ...manifest.layers.map((l: { mediaType: string }) => l.mediaType)].join(' '));
  const none = printed(await cli(['discover', '--oci-layout', 'store:v1', '--format', 'go-template={{len .referrers}}{{range .referrers}}x{{else}} none{{end}}']), 'discover');
  assert.equal(none, '0 none');
});
