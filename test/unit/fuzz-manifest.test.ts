import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import fc from 'fast-check';
import { WasmOciError } from '../../src/errors.js';
import { MEDIA_TYPES } from '../../src/oci/media-types.js';
import { parseManifestDocument, type ManifestDocument } from '../../src/oci/manifest.js';
import type { Descriptor } from '../../src/oci/types.js';

// Per-input bound; inputs are at most a few KiB, so anything near this is a hang, not noise.
const BOUND_MS = 250;
// Typed errors the decoder may raise on untrusted bytes.
const ALLOWED = new Set(['E_MANIFEST_INVALID', 'E_UNSUPPORTED', 'E_SIZE_LIMIT']);

const stats = { inputs: 0, accepted: 0, rejected: 0, crashes: 0, maxMs: 0 };

function attempt(bytes: Uint8Array, mediaType: string | undefined): ManifestDocument | undefined {
  stats.inputs++;
  const start = performance.now();
  try {
    const doc = parseManifestDocument(bytes, mediaType);
    stats.accepted++;
    return doc;
  } catch (err) {
    if (!(err instanceof WasmOciError) || !ALLOWED.has(err.code)) {
      stats.crashes++;
      const shown = Buffer.from(bytes).toString('utf8').slice(0, 300);
      throw new Error(`input ${JSON.stringify(shown)} (${mediaType}) threw ${String(err)}`, { cause: err });
    }
    stats.rejected++;
    return undefined;
  } finally {
    const ms = performance.now() - start;
    stats.maxMs = Math.max(stats.maxMs, ms);
    assert.ok(ms < BOUND_MS, `decoding took ${ms.toFixed(1)} ms`);
  }
}

function checkDescriptor(d: Descriptor): void {
  assert.equal(typeof d.mediaType, 'string');
  assert.doesNotMatch(d.mediaType, /[\r\n\s]/);
  assert.match(d.digest, /^(?:sha256:[a-f0-9]{64}|sha512:[a-f0-9]{128})$/);
  assert.ok(Number.isSafeInteger(d.size) && d.size >= 0);
}

/** What must hold of anything the decoder accepts: callers rely on it without re-checking. */
function checkAccepted(doc: ManifestDocument, contentType: string | undefined): void {
  if (doc.kind === 'manifest') {
    assert.ok(doc.mediaType === MEDIA_TYPES.ociManifest || doc.mediaType === MEDIA_TYPES.dockerManifest);
    assert.equal(doc.manifest.schemaVersion, 2);
    checkDescriptor(doc.manifest.config);
    assert.ok(Array.isArray(doc.manifest.layers));
    doc.manifest.layers.forEach(checkDescriptor);
    assert.equal((doc.manifest as unknown as Record<string, unknown>).manifests, undefined);
  } else {
    assert.ok(doc.mediaType === MEDIA_TYPES.ociIndex || doc.mediaType === MEDIA_TYPES.dockerManifestList);
    assert.equal(doc.index.schemaVersion, 2);
    doc.index.manifests.forEach(checkDescriptor);
    const raw = doc.index as unknown as Record<string, unknown>;
    assert.ok(raw.config === undefined && raw.layers === undefined);
  }
  const known = [MEDIA_TYPES.ociManifest, MEDIA_TYPES.ociIndex, MEDIA_TYPES.dockerManifest, MEDIA_TYPES.dockerManifestList] as string[];
  if (contentType !== undefined && known.includes(contentType)) assert.equal(doc.mediaType, contentType);
}

const hex = (n: number) => fc.string({ unit: fc.constantFrom(...'0123456789abcdef'.split('')), minLength: n, maxLength: n });
const digest = fc.oneof(hex(64).map((h) => `sha256:${h}`), hex(128).map((h) => `sha512:${h}`));
const descriptor = fc.record(
  {
    mediaType: fc.constantFrom(MEDIA_TYPES.soloWasmLayer, MEDIA_TYPES.cncfWasmLayer, MEDIA_TYPES.ociLayerTarGzip, MEDIA_TYPES.ociManifest),
    digest,
    size: fc.nat(),
    annotations: fc.dictionary(fc.string({ maxLength: 10 }), fc.string({ maxLength: 10 }), { maxKeys: 2 }),
    platform: fc.record({ architecture: fc.constantFrom('wasm', 'amd64'), os: fc.constantFrom('wasip1', 'linux') }),
  },
  { requiredKeys: ['mediaType', 'digest', 'size'] },
);
const validManifest = fc.record({
  schemaVersion: fc.constant(2),
  mediaType: fc.constantFrom(MEDIA_TYPES.ociManifest, MEDIA_TYPES.dockerManifest),
  config: descriptor,
  layers: fc.array(descriptor, { maxLength: 3 }),
});
const validIndex = fc.record({
  schemaVersion: fc.constant(2),
  mediaType: fc.constantFrom(MEDIA_TYPES.ociIndex, MEDIA_TYPES.dockerManifestList),
  manifests: fc.array(descriptor, { maxLength: 3 }),
});
const validDocument = fc.oneof(validManifest, validIndex) as fc.Arbitrary<Record<string, unknown>>;

const contentType = fc.option(
  fc.constantFrom(
    MEDIA_TYPES.ociManifest,
    MEDIA_TYPES.ociIndex,
    MEDIA_TYPES.dockerManifest,
    MEDIA_TYPES.dockerManifestList,
    'application/json',
    'application/octet-stream; charset=binary',
    '',
    ';;;',
  ),
  { nil: undefined },
);

// Values that hit the edges of every check: wrong types, negative and huge numbers, bad digests.
const nasty = fc.constantFrom<unknown>(
  null, -1, 1.5, 2 ** 53, Number.MAX_VALUE, '', 'sha256:', `sha256:${'A'.repeat(64)}`, 'a/b\r\nX: y', [], {}, [null], { __proto__: null },
  '__proto__', true, 1, 2, 'e30=', '!!', 'application/vnd.oci.image.index.v1+json',
);

/** Every [path, container] pair of a JSON tree, to pick a place to mutate. */
function paths(value: unknown, prefix: Array<string | number> = [], out: Array<Array<string | number>> = []) {
  out.push(prefix);
  if (Array.isArray(value)) value.forEach((v, i) => paths(v, [...prefix, i], out));
  else if (value !== null && typeof value === 'object') for (const [k, v] of Object.entries(value)) paths(v, [...prefix, k], out);
  return out;
}

type Edit = { op: 'set' | 'delete' | 'add'; at: number; value: unknown; key: string };
const edit: fc.Arbitrary<Edit> = fc.record({
  op: fc.constantFrom('set', 'delete', 'add'),
  at: fc.nat(),
  value: fc.oneof(nasty, fc.jsonValue({ maxDepth: 2 })),
  key: fc.constantFrom('mediaType', 'digest', 'size', 'config', 'layers', 'manifests', 'schemaVersion', 'annotations', 'data', 'platform', 'subject', 'urls', 'x'),
});

function applyEdits(doc: Record<string, unknown>, edits: Edit[]): unknown {
  let root: unknown = structuredClone(doc);
  for (const original of edits) {
    // fast-check hands out the same constant objects to many runs: never mutate them
    const e = { ...original, value: structuredClone(original.value) };
    const all = paths(root);
    const path = all[e.at % all.length]!;
    if (path.length === 0) {
      if (e.op === 'set') root = e.value;
      continue;
    }
    let parent: any = root;
    for (const p of path.slice(0, -1)) parent = parent[p];
    const last = path[path.length - 1]!;
    if (e.op === 'set') parent[last] = e.value;
    else if (e.op === 'delete') Array.isArray(parent) ? parent.splice(Number(last), 1) : delete parent[last];
    else {
      const target = parent[last];
      if (target !== null && typeof target === 'object' && !Array.isArray(target)) target[e.key] = e.value;
      else parent[last] = e.value;
    }
  }
  return root;
}

const byteEdit = fc.record({ op: fc.constantFrom('flip', 'truncate', 'insert', 'delete'), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) });

function applyByteEdits(bytes: Uint8Array, edits: Array<{ op: string; at: number; byte: number }>): Uint8Array {
  let b = Buffer.from(bytes);
  for (const e of edits) {
    const i = b.length === 0 ? 0 : e.at % b.length;
    if (e.op === 'flip' && b.length > 0) b[i] = b[i]! ^ (1 << (e.byte % 8));
    else if (e.op === 'truncate') b = b.subarray(0, i);
    else if (e.op === 'insert') b = Buffer.concat([b.subarray(0, i), Buffer.from([e.byte]), b.subarray(i)]);
    else if (e.op === 'delete') b = Buffer.concat([b.subarray(0, i), b.subarray(i + 1)]);
  }
  return b;
}

const enc = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));

describe('fuzz: manifest and index decoding', () => {
  it('accepts every generated valid manifest and index', () => {
    fc.assert(
      fc.property(validDocument, (doc) => {
        const parsed = attempt(enc(doc), doc.mediaType as string);
        assert.ok(parsed, 'a valid document must be accepted');
        checkAccepted(parsed, doc.mediaType as string);
      }),
      { numRuns: 3000 },
    );
  });

  it('random bytes: only typed errors', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 512 }), contentType, (bytes, ct) => {
        const doc = attempt(bytes, ct);
        if (doc) checkAccepted(doc, ct);
      }),
      { numRuns: 8000 },
    );
  });

  it('random JSON values: only typed errors', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 4 }), contentType, (value, ct) => {
        const doc = attempt(enc(value), ct);
        if (doc) checkAccepted(doc, ct);
      }),
      { numRuns: 8000 },
    );
  });

  it('structurally mutated valid documents: only typed errors, and accepted ones are sound', () => {
    fc.assert(
      fc.property(validDocument, fc.array(edit, { minLength: 1, maxLength: 3 }), contentType, (doc, edits, ct) => {
        const bytes = enc(applyEdits(doc, edits));
        const parsed = attempt(bytes, ct);
        if (parsed) checkAccepted(parsed, ct);
      }),
      { numRuns: 12000 },
    );
  });

  it('byte-mutated valid documents: only typed errors', () => {
    fc.assert(
      fc.property(validDocument, fc.array(byteEdit, { minLength: 1, maxLength: 4 }), contentType, (doc, edits, ct) => {
        const parsed = attempt(applyByteEdits(enc(doc), edits), ct);
        if (parsed) checkAccepted(parsed, ct);
      }),
      { numRuns: 8000 },
    );
  });

  it('counted what it tried', (t) => {
    const line = `fuzz: manifest decoder ${stats.inputs} inputs, ${stats.accepted} accepted, ${stats.rejected} rejected with typed errors, ${stats.crashes} crashes, slowest ${stats.maxMs.toFixed(2)} ms`;
    t.diagnostic(line);
    console.log(line);
    assert.ok(stats.inputs >= 39000, `only ${stats.inputs} inputs`);
    assert.equal(stats.crashes, 0);
    assert.ok(stats.accepted > 3000 && stats.rejected > 0, 'both outcomes must be exercised');
  });
});
