import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pack } from '../../src/pack/pack.js';
import { INSPECT_LIMIT } from '../../src/pack/module-input.js';
import { isWasmOciError } from '../../src/errors.js';
import { inspectWasm } from '../../src/wasm/inspect.js';
import { outlineModuleFile } from '../../src/wasm/module-outline.js';
import { examplesDir } from '../helpers/paths.js';
import { makeTempDir } from '../helpers/tmp.js';
import { buildWat } from '../helpers/wat.js';
import { leb128, padModule } from '../helpers/wasm-padding.js';

const hex = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

async function outlineOf(t: { after(fn: () => Promise<void>): void }, bytes: Uint8Array) {
  const dir = await makeTempDir(t, 'outline');
  const path = join(dir, 'm.wasm');
  await writeFile(path, bytes);
  return outlineModuleFile(path, hex(bytes));
}

// The outline must report what reading the whole module reports; it is only a cheaper way there.
for (const fixture of ['outline-every-section', 'filter-abi-0_1_0', 'filter-abi-0_2_0', 'broken-no-allocator', 'plain-wasi']) {
  test(`outline of ${fixture} reports what a whole read reports`, async (t) => {
    const bytes = await buildWat(fixture, { debugNames: true });
    const whole = inspectWasm(bytes);
    const outline = await outlineOf(t, bytes);
    assert.deepEqual(outline, whole);
  });
}

test('a module over the inspect limit gets its ABI in the generated runtime config, as a small one does', async (t) => {
  const base = await readFile(join(examplesDir, 'example-filter.wasm'));
  const big = padModule(base, Buffer.alloc(INSPECT_LIMIT + 1024 * 1024, 0x5a));
  const dir = await makeTempDir(t, 'outline-big');
  const path = join(dir, 'big-filter.wasm');
  await writeFile(path, big);
  const warnings: string[] = [];
  const small = await pack({ files: [{ path: join(examplesDir, 'example-filter.wasm') }], rootIds: ['r'] });
  const large = await pack({ files: [{ path }], rootIds: ['r'], onWarning: (m) => warnings.push(m) });
  const runtime = (b: Uint8Array) => JSON.parse(Buffer.from(b).toString('utf8'));
  assert.deepEqual(runtime(large.config.bytes).abiVersions, ['v0.2.1']);
  assert.deepEqual(runtime(large.config.bytes), runtime(small.config.bytes));
  assert.equal(large.moduleInfo?.sha256, hex(big));
  assert.equal(large.moduleInfo?.size, big.length);
  assert.deepEqual(large.moduleInfo?.exports, small.moduleInfo?.exports);
  assert.ok(warnings.some((w) => /code was not validated/.test(w)), warnings.join('\n'));
  await large.cleanup();
  await small.cleanup();
});

test('a section that runs past the end of the file is a parse error, not a crash', async (t) => {
  const base = await buildWat('filter-abi-0_2_1');
  const broken = Buffer.concat([Buffer.from(base), Buffer.from([0x07, 0xff, 0xff, 0x03])]);
  await assert.rejects(outlineOf(t, broken), (err: unknown) => isWasmOciError(err) && err.code === 'E_WASM_PARSE' && /runs past the end/.test(err.message));
});

test('push of a module over Istio\'s 256 MiB limit warns that Istio refuses it and names the pull flag', async (t) => {
  // A sparse file: the example filter, then a custom section whose zeros take no disk.
  const base = await readFile(join(examplesDir, 'example-filter.wasm'));
  const payload = 257 * 1024 * 1024;
  const name = Buffer.from('padding');
  const bodyLength = 1 + name.length + payload;
  const head = Buffer.concat([base, Buffer.from([0]), leb128(bodyLength), Buffer.from([name.length]), name]);
  const dir = await makeTempDir(t, 'outline-huge');
  const path = join(dir, 'huge.wasm');
  await writeFile(path, head);
  await truncate(path, head.length + payload);
  const warnings: string[] = [];
  const packed = await pack({ files: [{ path }], onWarning: (m) => warnings.push(m) });
  await packed.cleanup();
  assert.ok(warnings.some((w) => /over Istio's 256 MiB module limit: Istio will refuse it, and pulling it needs --module-size-limit/.test(w)), warnings.join('\n'));
  assert.deepEqual(JSON.parse(Buffer.from(packed.config.bytes).toString('utf8')).abiVersions, ['v0.2.1']);
});
