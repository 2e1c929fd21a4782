import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createFileDigestMemo, fileStamp } from '../../src/content/digest-memo.js';
import { makeTempDir } from '../helpers/tmp.js';

const DIGEST = `sha256:${'ab'.repeat(32)}`;

test('the digest memo trusts an entry only while the file keeps its stamps, and never records a file changed in the last 2 s', async (t) => {
  const dir = await makeTempDir(t);
  const file = join(dir, 'f.bin');
  await writeFile(file, 'x'.repeat(100));
  const changed = Number((await stat(file, { bigint: true })).ctimeNs / 1_000_000n);
  const racy = createFileDigestMemo(join(dir, 'memo'), () => changed + 500);
  await racy.remember(file, await fileStamp(file), DIGEST);
  assert.equal(await racy.lookup(file), undefined, 'a change 0.5 s before recording is not trusted');

  const memo = createFileDigestMemo(join(dir, 'memo'), () => changed + 5000);
  const before = await fileStamp(file);
  await memo.remember(file, before, DIGEST);
  assert.deepEqual(await memo.lookup(file), { digest: DIGEST, size: 100 });

  // Read while it changed: the stamp taken before the hash no longer matches, nothing is recorded.
  const other = join(dir, 'g.bin');
  await writeFile(other, 'y');
  const stale = await fileStamp(other);
  await appendFile(other, 'z');
  await memo.remember(other, stale, DIGEST);
  assert.equal(await memo.lookup(other), undefined);

  await appendFile(file, 'more');
  assert.equal(await memo.lookup(file), undefined, 'a changed file is not looked up');
});
