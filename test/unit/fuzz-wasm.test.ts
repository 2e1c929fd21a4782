import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import fc from 'fast-check';
import { WasmOciError } from '../../src/errors.js';
import { MEDIA_TYPES } from '../../src/oci/media-types.js';
import type { ImageManifest } from '../../src/oci/types.js';
import { inspectWasm, sniffWasm } from '../../src/wasm/inspect.js';
import type { WasmInfo } from '../../src/wasm/types.js';
import { evaluateConsumers } from '../../src/wasm/verdicts.js';
import { examplesDir } from '../helpers/paths.js';
import { buildWat } from '../helpers/wat.js';

/**
 * The Wasm inspector reads modules pulled from anywhere. Mutated real modules (the example
 * filter, every fixture, a component) must give an inspection or E_NOT_WASM / E_WASM_PARSE,
 * within a time bound, and the consumer verdicts built on top must never throw.
 */

const BOUND_MS = 200;
const stats = { inputs: 0, accepted: 0, rejected: 0, crashes: 0, maxMs: 0 };
const FIXTURES = ['filter-abi-0_1_0', 'filter-abi-0_2_0', 'filter-abi-0_2_1', 'broken-no-abi', 'broken-no-allocator', 'broken-no-memory', 'broken-unknown-import', 'plain-no-imports', 'plain-wasi'];

let bases: Uint8Array[] = [];

/** A small component: header, a `producers` custom section, an empty core-module section. */
function component(): Uint8Array {
  const name = Buffer.from('producers');
  const custom = [0x00, 1 + name.length + 1, name.length, ...name, 0x00];
  const core = [0x01, 8, 0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
  return new Uint8Array([0x00, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x01, 0x00, ...custom, ...core]);
}

before(async () => {
  const built = await Promise.all(FIXTURES.map((f) => buildWat(f, { debugNames: true })));
  bases = [new Uint8Array(await readFile(join(examplesDir, 'example-filter.wasm'))), ...built, component()];
});

function inspectTimed(bytes: Uint8Array): { info?: WasmInfo; err?: unknown; ms: number } {
  const start = performance.now();
  try {
    const info = inspectWasm(bytes, { name: 'fuzzed.wasm' });
    return { info, ms: performance.now() - start };
  } catch (err) {
    return { err, ms: performance.now() - start };
  }
}

function attempt(bytes: Uint8Array, label: string): WasmInfo | undefined {
  stats.inputs++;
  let run = inspectTimed(bytes);
  // A slow run is repeated: a GC pause or a busy machine is not the inspector's doing.
  for (let k = 0; k < 2 && run.ms >= BOUND_MS; k++) {
    const again = inspectTimed(bytes);
    if (again.ms < run.ms) run = { ...run, ms: again.ms };
  }
  stats.maxMs = Math.max(stats.maxMs, run.ms);
  assert.ok(run.ms < BOUND_MS, `${label}: ${bytes.length} bytes took ${run.ms.toFixed(1)} ms`);
  if (run.err !== undefined) {
    const err = run.err;
    if (!(err instanceof WasmOciError) || (err.code !== 'E_WASM_PARSE' && err.code !== 'E_NOT_WASM')) {
      stats.crashes++;
      throw new Error(`${label}: threw ${err instanceof WasmOciError ? err.code : ''} ${String(err)}`, { cause: err });
    }
    stats.rejected++;
    return undefined;
  }
  stats.accepted++;
  const info = run.info!;
  // What must hold of any inspection.
  assert.equal(info.size, bytes.length);
  assert.equal(info.sha256, createHash('sha256').update(bytes).digest('hex'));
  assert.equal(info.kind, sniffWasm(bytes));
  for (const i of info.imports) assert.ok(typeof i.module === 'string' && typeof i.name === 'string' && typeof i.kind === 'string');
  for (const e of info.exports) assert.ok(typeof e.name === 'string' && typeof e.kind === 'string');
  if (info.proxyWasm) assert.ok(Array.isArray(info.proxyWasm.problems));
  return info;
}

/** The verdicts on a solo artifact holding `bytes`: whatever the bytes, a verdict per consumer. */
function verdictsFor(bytes: Uint8Array): void {
  const manifest: ImageManifest = {
    schemaVersion: 2,
    mediaType: MEDIA_TYPES.ociManifest,
    config: { mediaType: MEDIA_TYPES.soloWasmConfig, digest: `sha256:${'0'.repeat(64)}`, size: 2 },
    layers: [{ mediaType: MEDIA_TYPES.soloWasmLayer, digest: `sha256:${'1'.repeat(64)}`, size: bytes.length, annotations: { 'org.opencontainers.image.title': 'filter.wasm' } }],
  };
  const verdicts = evaluateConsumers({
    manifestMediaType: MEDIA_TYPES.ociManifest,
    manifest,
    config: Buffer.from('{"type":"envoy_proxy","abiVersions":["v0-097b7f2e4cc1fb490cc1943d0d633655ac3c522f"],"config":{"rootIds":["r"]}}'),
    module: { bytes, size: bytes.length, layerIndex: 0, fileName: 'filter.wasm' },
    moduleSearched: true,
  });
  assert.deepEqual(verdicts.map((v) => v.consumer).sort(), ['cncf', 'istio', 'proxy-wasm', 'runwasi', 'wasme']);
  for (const v of verdicts) assert.ok(v.ok || v.reasons.length > 0, `${v.consumer} refuses without saying why`);
}

const byteEdit = fc.record({ at: fc.nat(), op: fc.constantFrom('set', 'xor', 'insert', 'delete', 'truncate', 'leb'), value: fc.integer({ min: 0, max: 255 }) });

function mutate(input: Uint8Array, edits: Array<{ at: number; op: string; value: number }>): Uint8Array {
  let b = Buffer.from(input);
  for (const e of edits) {
    // Keep the 8-byte header most of the time: mutations past it reach the section parsers.
    const from = e.value % 8 === 0 ? 0 : Math.min(8, b.length);
    const span = b.length - from;
    if (span <= 0) break;
    const i = from + (e.at % span);
    if (e.op === 'set') b[i] = e.value;
    else if (e.op === 'xor') b[i] = b[i]! ^ (1 << (e.value % 8));
    else if (e.op === 'insert') b = Buffer.concat([b.subarray(0, i), Buffer.from([e.value]), b.subarray(i)]);
    else if (e.op === 'delete') b = Buffer.concat([b.subarray(0, i), b.subarray(i + 1)]);
    else if (e.op === 'truncate') b = b.subarray(0, i);
    // An oversized LEB128 (a count or length claiming gigabytes) in place of one byte.
    else b = Buffer.concat([b.subarray(0, i), Buffer.from([0xff, 0xff, 0xff, 0xff, e.value & 0x0f]), b.subarray(i + 1)]);
  }
  return b;
}

/** Splits a module into its sections (after the header), for splicing. */
function sections(bytes: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  let at = 8;
  while (at < bytes.length) {
    const start = at;
    at++;
    let size = 0;
    let shift = 0;
    for (;;) {
      const byte = bytes[at++] ?? 0;
      size |= (byte & 0x7f) << shift;
      shift += 7;
      if ((byte & 0x80) === 0 || shift > 28) break;
    }
    at += size;
    out.push(bytes.subarray(start, Math.min(at, bytes.length)));
  }
  return out;
}

describe('fuzz: Wasm inspector on mutated modules', () => {
  it('the unmutated bases inspect', () => {
    for (const b of bases) assert.ok(attempt(b, 'base'), 'every base module must inspect');
  });

  it('byte-mutated modules and components: only typed errors', () => {
    fc.assert(
      fc.property(fc.nat(), fc.array(byteEdit, { minLength: 1, maxLength: 5 }), (which, edits) => {
        const bytes = mutate(bases[which % bases.length]!, edits);
        attempt(bytes, `mutated base ${which % bases.length}`);
      }),
      { numRuns: 6000 },
    );
  });

  it('sections spliced from different modules: only typed errors', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(), fc.nat()), { minLength: 1, maxLength: 8 }), fc.boolean(), (picks, componentHeader) => {
        const header = componentHeader ? [0x00, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x01, 0x00] : [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
        const parts = picks.map(([m, s]) => {
          const secs = sections(bases[m % bases.length]!);
          return secs.length ? secs[s % secs.length]! : new Uint8Array();
        });
        attempt(Buffer.concat([Buffer.from(header), ...parts.map((p) => Buffer.from(p))]), 'spliced sections');
      }),
      { numRuns: 3000 },
    );
  });

  it('consumer verdicts on mutated modules never throw', () => {
    fc.assert(
      fc.property(fc.nat(), fc.array(byteEdit, { minLength: 1, maxLength: 3 }), (which, edits) => {
        const bytes = mutate(bases[which % bases.length]!, edits);
        stats.inputs++;
        try {
          verdictsFor(bytes);
          stats.accepted++;
        } catch (err) {
          stats.crashes++;
          throw err;
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('counted what it tried', (t) => {
    const line = `fuzz: wasm inspector ${stats.inputs} inputs, ${stats.crashes} crashes (${stats.accepted} inspected or judged, ${stats.rejected} rejected with E_WASM_PARSE/E_NOT_WASM, slowest ${stats.maxMs.toFixed(2)} ms)`;
    t.diagnostic(line);
    console.log(line);
    assert.ok(stats.inputs >= 11000, `only ${stats.inputs} inputs`);
    assert.equal(stats.crashes, 0);
    assert.ok(stats.accepted > 1000 && stats.rejected > 1000, 'both outcomes must be exercised');
  });
});
