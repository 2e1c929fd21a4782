import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fromFsError, isWasmOciError } from '../../src/errors.js';

// A full disk or a read-only mount must say so and what to do, not look like a usage slip (issue 11).
test('a full disk, a quota, a read-only mount and a permission problem each get a hint that names the condition', () => {
  const cases: Array<[string, RegExp]> = [
    ['ENOSPC', /disk is full/],
    ['EDQUOT', /quota/],
    ['EROFS', /read-only/],
    ['EACCES', /permission/],
  ];
  for (const [code, hint] of cases) {
    const err = Object.assign(new Error(`${code}: something, write`), { code });
    const typed = fromFsError(err, 'cannot write to the OCI layout ./l');
    assert.ok(isWasmOciError(typed), code);
    assert.match(typed.message, new RegExp(`cannot write to the OCI layout ./l: ${code}`));
    assert.match(typed.hint ?? '', hint, code);
  }
});
