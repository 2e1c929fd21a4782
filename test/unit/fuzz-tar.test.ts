import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { lstat, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { WasmOciError } from '../../src/errors.js';
import type { ImageManifest } from '../../src/oci/types.js';
import { extractArtifact } from '../../src/pull/extract.js';
import { TAR_RUNTIME_CONFIG_LIMIT } from '../../src/pull/tar-module.js';
import { sha256 } from '../helpers/hostile-registry.js';
import { MemoryFetcher } from '../helpers/memory-fetcher.js';
import { examplesDir } from '../helpers/paths.js';
import { buildTar, type TarEntrySpec } from '../helpers/tar-builder.js';
import { makeTempDirUnscoped } from '../helpers/tmp.js';

/**
 * The tar reading path of pull (compat and Docker v2 images: a gzip tar holding plugin.wasm),
 * through extractArtifact with an in-memory fetcher, on random and mutated layers. Every input
 * must end in files written or a WasmOciError other than E_INTERNAL, within a time bound, with
 * nothing outside the output directory and no temp file left behind.
 */

const BOUND_MS = 3000;
const TAR_GZIP = 'application/vnd.oci.image.layer.v1.tar+gzip';
const MODULE_LIMIT = 64 * 1024;
const stats = { inputs: 0, extracted: 0, rejected: 0, crashes: 0, escapes: 0, leftovers: 0, maxMs: 0, codes: new Map<string, number>() };

let sandbox: { path: string; cleanup(): Promise<void> };
let wasm: Buffer;
let run = 0;

before(async () => {
  sandbox = await makeTempDirUnscoped('wasm-oci-fuzz-tar-');
  await writeFile(join(sandbox.path, 'victim.txt'), 'precious');
  wasm = await readFile(join(examplesDir, 'example-filter.wasm'));
});
after(() => sandbox.cleanup());

async function listAll(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    out.push(e.name);
    if (e.isDirectory()) for (const sub of await listAll(join(dir, e.name))) out.push(`${e.name}/${sub}`);
  }
  return out;
}

/** Extracts `layer` as the last (compat) layer of a manifest; checks and counts the outcome. */
async function attempt(layer: Uint8Array, label: string): Promise<void> {
  stats.inputs++;
  const work = join(sandbox.path, `run-${++run}`);
  const out = join(work, 'out');
  await mkdir(work);
  const fetcher = new MemoryFetcher({ chunkSize: 4096 });
  const manifest: ImageManifest = {
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: fetcher.add(Buffer.from('{}'), 'application/vnd.oci.image.config.v1+json'),
    layers: [fetcher.add(layer, TAR_GZIP)],
  };
  const start = performance.now();
  try {
    const result = await extractArtifact({ manifest, fetcher, outputDir: out, moduleSizeLimit: MODULE_LIMIT });
    stats.extracted++;
    for (const f of result.files) {
      assert.ok(f.name === 'plugin.wasm' || f.name === 'runtime-config.json', `unexpected file ${f.name}`);
      assert.ok((await lstat(f.path)).isFile());
      assert.ok(f.size <= (f.name === 'plugin.wasm' ? MODULE_LIMIT : TAR_RUNTIME_CONFIG_LIMIT));
      assert.equal(sha256(await readFile(f.path)), f.digest, 'the digest reported is the file written');
    }
  } catch (err) {
    if (!(err instanceof WasmOciError) || err.code === 'E_INTERNAL') {
      stats.crashes++;
      throw new Error(`${label}: ${layer.length}-byte layer threw ${err instanceof WasmOciError ? `${err.code} ` : ''}${String(err)}`, { cause: err });
    }
    stats.rejected++;
    stats.codes.set(err.code, (stats.codes.get(err.code) ?? 0) + 1);
  } finally {
    const ms = performance.now() - start;
    stats.maxMs = Math.max(stats.maxMs, ms);
    assert.ok(ms < BOUND_MS, `${label} took ${ms.toFixed(0)} ms`);
  }
  // Nothing outside out/, nothing in out/ but the two names, no temp file.
  const inWork = await listAll(work);
  const outside = inWork.filter((p) => p !== 'out' && !p.startsWith('out/'));
  const inOut = inWork.filter((p) => p.startsWith('out/')).map((p) => p.slice(4));
  const leftovers = inOut.filter((p) => p !== 'plugin.wasm' && p !== 'runtime-config.json');
  stats.escapes += outside.length;
  stats.leftovers += leftovers.length;
  const sandboxTop = (await readdir(sandbox.path)).filter((n) => !n.startsWith('run-'));
  assert.deepEqual(sandboxTop, ['victim.txt'], 'nothing written beside the run directories');
  assert.equal(await readFile(join(sandbox.path, 'victim.txt'), 'utf8'), 'precious');
  assert.deepEqual(outside, [], `${label}: written outside the output directory`);
  assert.deepEqual(leftovers, [], `${label}: unexpected files left in the output directory`);
  await rm(work, { recursive: true, force: true });
}

const NAMES = ['plugin.wasm', 'runtime-config.json', './plugin.wasm', 'dir/plugin.wasm', '../plugin.wasm', '/plugin.wasm', 'a/../../plugin.wasm', '..', '.', 'C:\\plugin.wasm', '..\\plugin.wasm', 'plugin.wasm/', 'x\u0000plugin.wasm', 'junk', 'a/b/c/d'];
const TYPES: NonNullable<TarEntrySpec['type']>[] = ['file', 'file', 'file', 'symlink', 'link', 'character-device', 'block-device', 'directory', 'fifo'];

const entryArb = fc.record({
  name: fc.oneof(fc.constantFrom(...NAMES), fc.string({ minLength: 1, maxLength: 20 })),
  type: fc.constantFrom(...TYPES),
  linkname: fc.constantFrom('../victim.txt', '/etc/passwd', 'plugin.wasm', '../../x'),
  body: fc.oneof(fc.constant('wasm'), fc.constant('config'), fc.uint8Array({ maxLength: 300 }), fc.constant('big')),
});

async function tarOf(entries: Array<{ name: string; type: NonNullable<TarEntrySpec['type']>; linkname: string; body: unknown }>, gzip = false): Promise<Buffer | undefined> {
  const specs: TarEntrySpec[] = entries.map((e) => {
    const spec: TarEntrySpec = { name: e.name, type: e.type };
    if (e.type === 'symlink' || e.type === 'link') spec.linkname = e.linkname;
    if (e.type === 'file') {
      if (e.body === 'wasm') spec.body = wasm;
      else if (e.body === 'config') spec.body = '{"type":"envoy_proxy","abiVersions":["v0-4689a30309abf31aee9ae36e73d34b1bb182685f"],"config":{"rootIds":["root"]}}';
      else if (e.body === 'big') spec.zeros = MODULE_LIMIT + 1;
      else spec.body = e.body as Uint8Array;
    }
    return spec;
  });
  try {
    return await buildTar(specs, { gzip });
  } catch {
    // tar-stream refuses to write some headers (names too long for ustar without pax, ...): not an input.
    return undefined;
  }
}

const byteEdit = fc.record({ at: fc.nat(), op: fc.constantFrom('set', 'xor', 'insert', 'delete', 'truncate'), value: fc.integer({ min: 0, max: 255 }) });

function mutateBytes(input: Buffer, edits: Array<{ at: number; op: string; value: number }>, focus?: number): Buffer {
  let b = Buffer.from(input);
  for (const e of edits) {
    if (b.length === 0) break;
    // Most tar structure lives in the 512-byte headers: aim there more often than not.
    const span = focus !== undefined && e.value % 3 !== 0 ? Math.min(focus, b.length) : b.length;
    const i = e.at % span;
    if (e.op === 'set') b[i] = e.value;
    else if (e.op === 'xor') b[i] = b[i]! ^ (1 << (e.value % 8));
    else if (e.op === 'insert') b = Buffer.concat([b.subarray(0, i), Buffer.from([e.value]), b.subarray(i)]);
    else if (e.op === 'delete') b = Buffer.concat([b.subarray(0, i), b.subarray(i + 1)]);
    else b = b.subarray(0, i);
  }
  return b;
}

/** A header field rewritten with an ASCII string (size, mode, type flag, checksum, ...). */
const headerField = fc.record({
  entry: fc.nat(3),
  field: fc.constantFrom<[number, number]>([0, 100], [100, 8], [124, 12], [136, 12], [148, 8], [156, 1], [157, 100], [257, 6], [345, 155]),
  text: fc.oneof(fc.constantFrom('77777777777', '99999999999', '-1', '', '\u0000', '0', '5', '2', '1', '3', 'g', 'x', 'L', 'K', 'ustar', '../../x', 'plugin.wasm'), fc.string({ maxLength: 12 })),
});

const BUDGET = Number(process.env.FUZZ_TAR_RUNS ?? 1);

describe('fuzz: tar layer reader (pull, compat format)', () => {
  it('random bytes as a gzip layer, and gzipped random bytes', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 2048 }), fc.boolean(), async (bytes, gz) => {
        await attempt(gz ? gzipSync(bytes) : bytes, gz ? 'gzipped random bytes' : 'random bytes');
      }),
      { numRuns: 600 * BUDGET },
    );
  });

  it('generated tars with hostile names, links, devices and oversize entries', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(entryArb, { minLength: 1, maxLength: 5 }), async (entries) => {
        const tar = await tarOf(entries, true);
        if (tar) await attempt(tar, `tar of ${JSON.stringify(entries.map((e) => [e.name, e.type]))}`);
      }),
      { numRuns: 500 * BUDGET },
    );
  });

  it('byte-mutated valid tars, gzipped after the mutation', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(entryArb, { minLength: 1, maxLength: 3 }), fc.array(byteEdit, { minLength: 1, maxLength: 6 }), async (entries, edits) => {
        const tar = await tarOf(entries);
        if (tar) await attempt(gzipSync(mutateBytes(tar, edits, 1024)), 'mutated tar');
      }),
      { numRuns: 600 * BUDGET },
    );
  });

  it('tar header fields rewritten (size, type, checksum, magic, prefix)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(entryArb, { minLength: 1, maxLength: 3 }), fc.array(headerField, { minLength: 1, maxLength: 3 }), fc.boolean(), async (entries, fields, fixSum) => {
        const tar = await tarOf(entries);
        if (!tar) return;
        const b = Buffer.from(tar);
        // Header offsets: walk the entries as written (each header, then its data padded to 512).
        const headers: number[] = [];
        for (let off = 0; off + 512 <= b.length && headers.length < 4;) {
          if (b.subarray(off, off + 512).every((x) => x === 0)) break;
          headers.push(off);
          const size = parseInt(b.toString('ascii', off + 124, off + 136).replace(/\0.*$/, '').trim() || '0', 8) || 0;
          off += 512 + Math.ceil(size / 512) * 512;
        }
        for (const f of fields) {
          const base = headers[f.entry % Math.max(1, headers.length)] ?? 0;
          const [pos, len] = f.field;
          const text = Buffer.from(f.text, 'latin1').subarray(0, len);
          b.fill(0, base + pos, base + pos + len);
          text.copy(b, base + pos);
          if (fixSum && pos !== 148) {
            b.fill(0x20, base + 148, base + 156);
            let sum = 0;
            for (let k = base; k < base + 512; k++) sum += b[k]!;
            b.write(`${sum.toString(8).padStart(6, '0')}\0 `, base + 148, 8, 'ascii');
          }
        }
        await attempt(gzipSync(b), `tar with rewritten header fields ${JSON.stringify(fields)}`);
      }),
      { numRuns: 600 * BUDGET },
    );
  });

  it('byte-mutated gzip streams of valid tars', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(entryArb, { minLength: 1, maxLength: 3 }), fc.array(byteEdit, { minLength: 1, maxLength: 4 }), async (entries, edits) => {
        const tar = await tarOf(entries, true);
        if (tar) await attempt(mutateBytes(tar, edits), 'mutated gzip');
      }),
      { numRuns: 600 * BUDGET },
    );
  });

  it('counted what it tried', (t) => {
    const codes = [...stats.codes.entries()].sort().map(([c, n]) => `${c} ${n}`).join(', ');
    const line = `fuzz: tar reader ${stats.inputs} inputs, ${stats.crashes} crashes (${stats.extracted} extracted, ${stats.rejected} rejected: ${codes}; ${stats.escapes} escapes, ${stats.leftovers} leftover files, slowest ${stats.maxMs.toFixed(0)} ms)`;
    t.diagnostic(line);
    console.log(line);
    assert.ok(stats.inputs >= 2000, `only ${stats.inputs} inputs`);
    assert.equal(stats.crashes, 0);
    assert.equal(stats.escapes, 0);
    assert.equal(stats.leftovers, 0);
    assert.ok(stats.extracted > 50 && stats.rejected > 200, 'both outcomes must be exercised');
  });
});
