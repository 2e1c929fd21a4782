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
    // Exit 8, not the usage exit 2 a full disk used to get.
    assert.equal(typed.code, 'E_LOCAL_WRITE', code);
    assert.equal(typed.exitCode, 8, code);
    assert.match(typed.message, new RegExp(`cannot write to the OCI layout ./l: ${code}`));
    assert.match(typed.hint ?? '', hint, code);
  }
});

test('a directory in the way is still the user\'s input (exit 2), with no disk hint', () => {
  const typed = fromFsError(Object.assign(new Error('EISDIR: illegal operation on a directory'), { code: 'EISDIR' }), 'cannot write ./out');
  assert.ok(isWasmOciError(typed, 'E_INVALID_INPUT'));
  assert.equal(typed.exitCode, 2);
  assert.equal(typed.hint, undefined);
});
