// oras 1.3 flags the flag audit (test/unit/oras-flag-audit.test.ts) found missing and that are now
// there: --descriptor/--pretty on the delete commands, --pretty on blob fetch and the index
// commands, `manifest index pack`, copy --to-distribution-spec, and the deprecated -v/--verbose and
// discover -o. On OCI layouts: none of them depends on what the registry is.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runCli, type CliResult } from '../helpers/cli.js';
import { examplesDir } from '../helpers/paths.js';
import { makeTempDir } from '../helpers/tmp.js';

const FILTER = join(examplesDir, 'example-filter.wasm');

function ok(r: CliResult, what: string): CliResult {
  assert.equal(r.code, 0, `${what} failed (${r.code}): ${r.stderr}`);
  return r;
}

async function layoutWithFilter(t: Parameters<typeof makeTempDir>[0], tags: string[]): Promise<string> {
  const layout = join(await makeTempDir(t), 'store');
  for (const tag of tags) ok(await runCli(['push', '--oci-layout', `${layout}:${tag}`, FILTER, '-a', `tag=${tag}`]), `push ${tag}`);
  return layout;
}

async function wasmLayer(layout: string): Promise<string> {
  const manifest = JSON.parse(ok(await runCli(['manifest', 'fetch', '--oci-layout', `${layout}:v1`]), 'manifest fetch').stdout);
  const layer = manifest.layers.find((l: { mediaType: string }) => l.mediaType.endsWith('wasm'));
  return layer.digest as string;
}

test('blob fetch --descriptor --pretty prints the indented descriptor; blob delete --descriptor needs -f and prints what it deleted', async (t) => {
  const layout = await layoutWithFilter(t, ['v1']);
  const digest = await wasmLayer(layout);
  const expected = { digest, size: (await readFile(FILTER)).length };
  const pretty = ok(await runCli(['blob', 'fetch', '--descriptor', '--pretty', '--oci-layout', `${layout}@${digest}`]), 'blob fetch --pretty').stdout;
  assert.match(pretty, /^\{\n  "/, 'two-space indent, as oras --pretty');
  assert.deepEqual({ digest: JSON.parse(pretty).digest, size: JSON.parse(pretty).size }, expected);

  const unforced = await runCli(['blob', 'delete', '--descriptor', '--oci-layout', `${layout}@${digest}`]);
  assert.equal(unforced.code, 2, unforced.stderr);
  assert.match(unforced.stderr, /must apply --force/);
  const deleted = ok(await runCli(['blob', 'delete', '-f', '--descriptor', '--oci-layout', `${layout}@${digest}`]), 'blob delete --descriptor');
  assert.equal(deleted.stdout.trim().split('\n').length, 1, 'one compact line, no result lines');
  assert.deepEqual({ digest: JSON.parse(deleted.stdout).digest, size: JSON.parse(deleted.stdout).size }, expected);
  const gone = await runCli(['blob', 'fetch', '--descriptor', '--oci-layout', `${layout}@${digest}`]);
  assert.notEqual(gone.code, 0, 'the blob is deleted');
});

test('manifest delete -f --descriptor --pretty prints the deleted manifest\'s descriptor; a missing one is an error then, not "Missing"', async (t) => {
  const layout = await layoutWithFilter(t, ['v1', 'v2']);
  const manifest = ok(await runCli(['manifest', 'fetch', '--oci-layout', `${layout}:v2`]), 'fetch v2').stdout;
  const digest = `sha256:${createHash('sha256').update(manifest).digest('hex')}`;
  const deleted = ok(await runCli(['manifest', 'delete', '-f', '--descriptor', '--pretty', '--oci-layout', `${layout}:v2`]), 'manifest delete --descriptor');
  assert.match(deleted.stdout, /^\{\n  "/);
  const desc = JSON.parse(deleted.stdout);
  assert.equal(desc.digest, digest);
  assert.equal(desc.annotations?.tag, 'v2');
  const missing = await runCli(['manifest', 'delete', '-f', '--descriptor', '--oci-layout', `${layout}:v2`]);
  assert.notEqual(missing.code, 0, 'oras deleteManifest: no descriptor to print, so an error');
  assert.equal(missing.stdout, '');
  const missingText = ok(await runCli(['manifest', 'delete', '-f', '--oci-layout', `${layout}:v2`]), 'manifest delete -f of a missing one');
  assert.match(missingText.stdout, /^Missing /);
  const unforced = await runCli(['manifest', 'delete', '--descriptor', '--oci-layout', `${layout}:v1`]);
  assert.equal(unforced.code, 2, unforced.stderr);
});

test('manifest index pack (oras\'s alias of create) and index update write the index to stdout, indented with --pretty', async (t) => {
  const layout = await layoutWithFilter(t, ['v1', 'v2']);
  const compact = ok(await runCli(['manifest', 'index', 'pack', '--oci-layout', `${layout}:set`, 'v1', '-o', '-']), 'index pack -o -').stdout;
  assert.ok(!compact.includes('\n'), 'without --pretty: the bytes as built');
  const pretty = ok(await runCli(['manifest', 'index', 'create', '--oci-layout', `${layout}:set`, 'v1', '-o', '-', '--pretty']), 'index create --pretty').stdout;
  assert.match(pretty, /^\{\n  "schemaVersion": 2,/);
  assert.deepEqual(JSON.parse(pretty), JSON.parse(compact));
  ok(await runCli(['manifest', 'index', 'pack', '--oci-layout', `${layout}:set`, 'v1']), 'index pack (pushed)');
  const updated = JSON.parse(ok(await runCli(['manifest', 'index', 'update', '--oci-layout', `${layout}:set`, '--add', 'v2', '-o', '-', '--pretty']), 'index update --pretty').stdout);
  assert.equal(updated.manifests.length, 2);
});

test('copy --to-distribution-spec is oras\'s name of our --distribution-spec', async (t) => {
  const layout = await layoutWithFilter(t, ['v1']);
  const dst = join(await makeTempDir(t), 'dst');
  const bad = await runCli(['copy', '--from-oci-layout', '--to-oci-layout', '--to-distribution-spec', 'v9', `${layout}:v1`, `${dst}:v1`]);
  assert.equal(bad.code, 2, bad.stderr);
  assert.match(bad.stderr, /v1\.1-referrers-api or v1\.1-referrers-tag, not "v9"/);
  ok(await runCli(['cp', '-r', '--from-oci-layout', '--to-oci-layout', '--to-distribution-spec', 'v1.1-referrers-api', `${layout}:v1`, `${dst}:v1`]), 'cp --to-distribution-spec');
  ok(await runCli(['resolve', '--oci-layout', `${dst}:v1`]), 'copied');
});

test('the deprecated -v/--verbose is accepted with pflag\'s warning and hidden from help; discover -o is --format with a warning', async (t) => {
  const layout = await layoutWithFilter(t, ['v1']);
  const plain = ok(await runCli(['resolve', '--oci-layout', `${layout}:v1`]), 'resolve');
  const verbose = ok(await runCli(['resolve', '-v', '--oci-layout', `${layout}:v1`]), 'resolve -v');
  assert.equal(verbose.stdout, plain.stdout, '-v changes nothing');
  assert.match(verbose.stderr, /Flag --verbose has been deprecated, and will be removed in a future release\./);
  ok(await runCli(['manifest', 'fetch', '--verbose', '--oci-layout', `${layout}:v1`]), 'manifest fetch --verbose');
  assert.doesNotMatch(ok(await runCli(['pull', '--help']), 'pull --help').stdout, /verbose/);

  const json = ok(await runCli(['discover', '-o', 'json', '--oci-layout', `${layout}:v1`]), 'discover -o json');
  assert.deepEqual(JSON.parse(json.stdout).referrers, [], 'the JSON document, as --format json prints it');
  assert.match(json.stderr, /--output is deprecated, try `--format json` instead/);
  const both = await runCli(['discover', '-o', 'json', '--format', 'json', '--oci-layout', `${layout}:v1`]);
  assert.equal(both.code, 2, both.stderr);
  assert.match(both.stderr, /--format, --output cannot be used at the same time/);
  const bad = await runCli(['discover', '-o', 'yaml', '--oci-layout', `${layout}:v1`]);
  assert.equal(bad.code, 2, bad.stderr);
  assert.match(bad.stderr, /output type can only be tree, table or json/);
});
