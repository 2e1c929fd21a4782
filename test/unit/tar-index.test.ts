import { test } from 'node:test';
import assert from 'node:assert/strict';
import { open, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pack } from 'tar-stream';
import { indexTar } from '../../src/content/tar-index.js';
import { readAll } from '../../src/content/read-all.js';
import { makeTempDir } from '../helpers/tmp.js';

async function tarOf(files: Array<[string, string]>): Promise<Buffer> {
  const p = pack();
  for (const [name, body] of files) p.entry({ name }, body);
  p.finalize();
  return readAll(p as unknown as Readable, 1 << 20, 'tar');
}

test('indexTar finds ustar, ./-prefixed and pax long names, and refuses what is not a tar', async (t) => {
  const dir = await makeTempDir(t);
  const long = `blobs/sha256/${'a'.repeat(120)}`;
  const file = join(dir, 'l.tar');
  await writeFile(file, await tarOf([['./oci-layout', '{"imageLayoutVersion":"1.0.0"}'], [long, 'long body'], ['index.json', '{}']]));
  const h = await open(file, 'r');
  try {
    const entries = await indexTar(h, file);
    const bytes = await readFile(file);
    const body = (name: string) => { const e = entries.get(name)!; return bytes.subarray(e.offset, e.offset + e.size).toString(); };
    assert.equal(body('oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
    assert.equal(body(long), 'long body');
    assert.equal(body('index.json'), '{}');
  } finally {
    await h.close();
  }
  const text = join(dir, 'x.txt');
  await writeFile(text, 'x'.repeat(2048));
  const h2 = await open(text, 'r');
  try {
    await assert.rejects(indexTar(h2, text), /does not look like a tar archive/);
  } finally {
    await h2.close();
  }
});
