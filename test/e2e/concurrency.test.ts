import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';
import { examplesDir } from '../helpers/paths.js';
import { skopeoInspectRaw } from '../helpers/skopeo.js';
import { makeTempDir } from '../helpers/tmp.js';

/**
 * Two `push --oci-layout DIR:tag` processes into one layout at the same moment must both keep
 * their tag: index.json is a read-modify-write, so without the lock one would overwrite the
 * other. Each round starts both CLI processes together; half the rounds race on a layout that
 * does not exist yet (both create it), half on one that already holds earlier tags.
 */

const ROUNDS = 4;
const REF_NAME = 'org.opencontainers.image.ref.name';
const filter = join(examplesDir, 'example-filter.wasm');
const counts = { rounds: 0, pushes: 0, tagsKept: 0, tagsExpected: 0 };

after(() => {
  console.log(`concurrency: ${counts.rounds} rounds, ${counts.pushes} concurrent pushes, ${counts.tagsKept} of ${counts.tagsExpected} tags kept in index.json`);
});

interface IndexJson {
  schemaVersion: number;
  manifests: Array<{ mediaType: string; digest: string; size: number; annotations?: Record<string, string> }>;
}

async function checkLayout(dir: string, tags: Map<string, string>): Promise<void> {
  const index = JSON.parse(await readFile(join(dir, 'index.json'), 'utf8')) as IndexJson;
  assert.equal(index.schemaVersion, 2);
  assert.ok(Array.isArray(index.manifests));
  const byTag = new Map(index.manifests.map((m) => [m.annotations?.[REF_NAME], m]));
  for (const [tag, digest] of tags) {
    const entry = byTag.get(tag);
    counts.tagsExpected++;
    if (entry?.digest === digest) counts.tagsKept++;
    assert.ok(entry, `tag ${tag} is in index.json: ${JSON.stringify(index.manifests.map((m) => m.annotations?.[REF_NAME]))}`);
    assert.equal(entry.digest, digest, `tag ${tag} points at the manifest its push reported`);
    const blob = await readFile(join(dir, 'blobs', 'sha256', digest.slice('sha256:'.length)));
    assert.equal(`sha256:${createHash('sha256').update(blob).digest('hex')}`, digest);
    assert.equal(blob.length, entry.size);
  }
  assert.equal(index.manifests.length, new Set(index.manifests.map((m) => m.annotations?.[REF_NAME])).size, 'one entry per tag');
  const leftovers = (await readdir(dir)).filter((n) => n.endsWith('.lock') || n.endsWith('.tmp'));
  assert.deepEqual(leftovers, [], 'no lock or temp file left');
}

test('two concurrent pushes into one OCI layout keep both tags in a valid index.json', async (t) => {
  const root = await makeTempDir(t, 'wasm-oci-concurrency-');
  const shared = join(root, 'shared-store');
  const expectedShared = new Map<string, string>();
  for (let round = 0; round < ROUNDS; round++) {
    const fresh = round % 2 === 0;
    const dir = fresh ? join(root, `fresh-store-${round}`) : shared;
    const tags = [`a${round}`, `b${round}`];
    // Different root ids give different runtime configs, so each tag names its own manifest.
    const results = await Promise.all(
      tags.map((tag) => runCli(['push', '--oci-layout', `${dir}:${tag}`, filter, '--root-id', `root_${tag}`, '--format', 'json', '--no-tty'])),
    );
    counts.rounds++;
    counts.pushes += results.length;
    const expected = fresh ? new Map<string, string>() : expectedShared;
    results.forEach((r, i) => {
      assert.equal(r.code, 0, `push ${tags[i]}: ${r.stderr}`);
      expected.set(tags[i]!, (JSON.parse(r.stdout) as { digest: string }).digest);
    });
    assert.notEqual(expected.get(tags[0]!), expected.get(tags[1]!));
    await checkLayout(dir, expected);
  }
  // The shared layout, after its rounds, by an independent reader: skopeo sees every tag.
  for (const [tag, digest] of expectedShared) {
    const raw = await skopeoInspectRaw(`oci:${shared}:${tag}`);
    assert.equal(`sha256:${createHash('sha256').update(raw).digest('hex')}`, digest, `skopeo reads ${tag}`);
  }
  assert.ok((await stat(join(shared, 'oci-layout'))).isFile());
});
