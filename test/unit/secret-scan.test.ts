import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createSecretScan, encodedForms, testPassword } from '../helpers/secrets.js';
import { makeTempDir } from '../helpers/tmp.js';

// The scan behind "secrets: 0 leaks" must be able to fail: every form of every secret, in what
// commands print and in the files they write (issue 16 item 3).

test('test passwords carry a space, ":", "$", "%", both quotes and non-ASCII', () => {
  const pw = testPassword();
  for (const c of [' ', ':', '$', '%', '"', "'"]) assert.ok(pw.includes(c), `has ${JSON.stringify(c)}`);
  assert.match(pw, /[^\x00-\x7f]/);
  assert.ok(Buffer.byteLength(pw) <= 72, 'bcrypt (htpasswd -B) reads 72 bytes');
  assert.notEqual(testPassword(), pw);
});

test('the password and user:password are found plain, base64, base64url, hex, URL-, form- and JSON-encoded', () => {
  const user = 'alice';
  const pw = testPassword();
  const pair = `${user}:${pw}`;
  const bytes = (s: string) => Buffer.from(s, 'utf8');
  const spills = [
    pw, pair,
    bytes(pw).toString('base64'), bytes(pair).toString('base64'),
    bytes(pw).toString('base64url'), bytes(pair).toString('base64url'),
    bytes(pw).toString('hex'), bytes(pair).toString('hex').toUpperCase(),
    encodeURIComponent(pw), encodeURIComponent(pair),
    new URLSearchParams({ p: pw }).toString(),
    JSON.stringify({ password: pw }),
  ];
  for (const spill of spills) {
    const scan = createSecretScan();
    scan.addBasicPair(user, pw);
    scan.record('probe', { stdout: `before ${spill} after`, stderr: '' });
    assert.ok(scan.leaks().length > 0, `found in ${JSON.stringify(spill)}`);
  }
  const clean = createSecretScan();
  clean.addBasicPair(user, pw);
  clean.record('clean', { stdout: 'authorization: Basic <redacted>', stderr: `user ${user}` });
  assert.deepEqual(clean.leaks(), []);
  assert.ok(encodedForms(pw).length >= 7);
});

test('files written are scanned, symlinks are not followed, the store the secret belongs in is skipped', async (t) => {
  const dir = await makeTempDir(t);
  const pw = testPassword();
  await mkdir(join(dir, 'out', 'deep'), { recursive: true });
  await writeFile(join(dir, 'out', 'deep', 'trace.log'), `x ${Buffer.from(pw).toString('base64')} y`);
  await writeFile(join(dir, 'config.json'), JSON.stringify({ auths: { h: { auth: Buffer.from(`u:${pw}`).toString('base64') } } }));
  await writeFile(join(dir, 'out', 'module.wasm'), Buffer.concat([Buffer.from([0, 0x61, 0x73, 0x6d]), Buffer.from(encodeURIComponent(pw))]));
  const scan = createSecretScan();
  scan.addBasicPair('u', pw);
  await scan.recordFiles('probe', dir, [join(dir, 'config.json')]);
  assert.equal(scan.files, 2);
  assert.deepEqual(scan.leaks().map((l) => l.where.split('/').slice(-1)[0]).sort(), ['module.wasm', 'trace.log']);
  assert.match(scan.summary(), /^secrets: 2 leaks in 2 outputs \(0 streams, 2 files\)/);
});
