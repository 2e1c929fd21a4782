import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import fc from 'fast-check';
import { WasmOciError } from '../../src/errors.js';
import { formatReference, parseReference } from '../../src/reference/reference.js';
import { formatLayoutReference, parseLayoutReference } from '../../src/reference/layout-reference.js';
import type { Reference } from '../../src/reference/types.js';

// Per-input bound: a catastrophic-backtracking regexp would take seconds on these inputs; the
// bound is loose enough not to flake on a loaded two-core machine.
const BOUND_MS = 250;

const stats = { inputs: 0, accepted: 0, rejected: 0, crashes: 0, maxMs: 0 };

/** Runs `fn` on one input: only a WasmOciError with `code` may escape, within BOUND_MS. */
function attempt<T>(fn: () => T, code: string, input: string): T | undefined {
  stats.inputs++;
  const start = performance.now();
  try {
    const out = fn();
    stats.accepted++;
    return out;
  } catch (err) {
    if (!(err instanceof WasmOciError) || err.code !== code) {
      stats.crashes++;
      throw new Error(`input ${JSON.stringify(input)} threw ${String(err)}`, { cause: err });
    }
    stats.rejected++;
    return undefined;
  } finally {
    const ms = performance.now() - start;
    stats.maxMs = Math.max(stats.maxMs, ms);
    assert.ok(ms < BOUND_MS, `input ${JSON.stringify(input).slice(0, 200)} took ${ms.toFixed(1)} ms`);
  }
}

/** What must hold of anything the parser accepts. */
function checkAccepted(ref: Reference): void {
  assert.equal(ref.registry, ref.registry.toLowerCase());
  assert.ok(`${ref.registry}/${ref.repository}`.length <= 255);
  assert.match(ref.repository, /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/);
  if (ref.tag !== undefined) assert.match(ref.tag, /^\w[\w.-]{0,127}$/);
  if (ref.digest !== undefined) assert.match(ref.digest, /^(?:sha256:[a-f0-9]{64}|sha512:[a-f0-9]{128})$/);
  assert.deepEqual(parseReference(formatReference(ref)), ref, 'canonical form must parse back to the same reference');
}

const chars = (s: string) => fc.constantFrom(...s.split(''));
const LOWER = 'abcdefghijklmnopqrstuvwxyz0123456789';
const WORD = `${LOWER}ABCDEFGHIJKLMNOPQRSTUVWXYZ_`;
const HEX = '0123456789abcdef';

const alnum = fc.string({ unit: chars(LOWER), minLength: 1, maxLength: 8 });
const separator = fc.constantFrom('.', '_', '__', '-', '---');
const component = fc
  .tuple(alnum, fc.array(fc.tuple(separator, alnum), { maxLength: 3 }))
  .map(([head, rest]) => head + rest.map(([s, a]) => s + a).join(''));
const path = fc.array(component, { minLength: 1, maxLength: 4 }).map((c) => c.join('/'));
const label = fc
  .tuple(chars(`${LOWER}ABCXYZ`), fc.string({ unit: chars(`${LOWER}-`), maxLength: 6 }), chars(LOWER))
  .map(([a, mid, z]) => a + mid + z);
const port = fc.integer({ min: 1, max: 65535 }).map((p) => `:${p}`);
const host = fc.oneof(
  fc.constant('localhost'),
  fc.tuple(fc.constant('localhost'), port).map(([h, p]) => h + p),
  fc.tuple(fc.array(label, { minLength: 2, maxLength: 3 }), fc.option(port, { nil: '' })).map(([l, p]) => l.join('.') + p),
  fc.tuple(label, port).map(([l, p]) => l + p),
  fc.tuple(fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 4, maxLength: 4 }), fc.option(port, { nil: '' })).map(([o, p]) => o.join('.') + p),
  fc.tuple(fc.constantFrom('[::1]', '[2001:db8::7]', '[fe80::1:2:3]'), fc.option(port, { nil: '' })).map(([h, p]) => h + p),
  fc.constantFrom('docker.io', 'index.docker.io'),
);
const tag = fc
  .tuple(chars(WORD), fc.string({ unit: chars(`${WORD}.-`), maxLength: 30 }))
  .map(([a, b]) => a + b);
const digest = fc.oneof(
  fc.string({ unit: chars(HEX), minLength: 64, maxLength: 64 }).map((h) => `sha256:${h}`),
  fc.string({ unit: chars(HEX), minLength: 128, maxLength: 128 }).map((h) => `sha512:${h}`),
);

/** A valid reference and what it must parse to, built from the grammar. */
const validReference = fc
  .record({ host: fc.option(host, { nil: undefined }), path, tag: fc.option(tag, { nil: undefined }), digest: fc.option(digest, { nil: undefined }) })
  // without a host, a first component with "." (or "localhost") would itself be taken as the host
  .filter((r) => r.host !== undefined || !r.path.includes('/') || !/^(?:[^/]*\.|localhost\/)/.test(r.path))
  // a bare `localhost`, or a dotted name with a port-like tag, names a registry without a repository
  .filter((r) => r.host !== undefined || r.path.includes('/') || !(r.path === 'localhost' || (r.path.includes('.') && r.tag !== undefined && /^\d{1,5}$/.test(r.tag))))
  .map((r) => {
    let text = r.host === undefined ? r.path : `${r.host}/${r.path}`;
    if (r.tag !== undefined) text += `:${r.tag}`;
    if (r.digest !== undefined) text += `@${r.digest}`;
    let registry = (r.host ?? 'docker.io').toLowerCase();
    if (registry === 'index.docker.io') registry = 'docker.io';
    const repository = registry === 'docker.io' && !r.path.includes('/') ? `library/${r.path}` : r.path;
    const expected: Reference = { registry, repository };
    if (r.tag !== undefined) expected.tag = r.tag;
    if (r.digest !== undefined) expected.digest = r.digest;
    return { text, expected };
  })
  .filter(({ expected }) => `${expected.registry}/${expected.repository}`.length <= 255)
  // a bare 64-hex name is an image ID, which docker refuses as a name
  .filter(({ text }) => !/^[a-f0-9]{64}$/.test(text));

/** Edits a string: insert, delete or replace characters, mostly ones meaningful to the grammar. */
const mutated = (base: fc.Arbitrary<string>) =>
  fc
    .tuple(
      base,
      fc.array(
        fc.tuple(fc.constantFrom('insert', 'delete', 'replace', 'duplicate'), fc.nat(), fc.oneof(chars('/:@.[]_-A%é \u0000'), fc.string({ maxLength: 2 }))),
        { minLength: 1, maxLength: 4 },
      ),
    )
    .map(([s, edits]) => {
      for (const [op, at, ch] of edits) {
        const i = s.length === 0 ? 0 : at % (s.length + 1);
        if (op === 'insert') s = s.slice(0, i) + ch + s.slice(i);
        else if (op === 'delete') s = s.slice(0, i) + s.slice(i + 1);
        else if (op === 'replace') s = s.slice(0, i) + ch + s.slice(i + 1);
        else s = s.slice(0, i) + s.slice(i, i + 20).repeat(1 + (at % 12)) + s.slice(i);
      }
      return s;
    });

// Inputs shaped to stress backtracking: long runs of separators, labels and brackets.
const pathological = fc
  .tuple(fc.constantFrom('a-', 'a.', 'a_', '-', 'a', '[', ':', 'a.b-', '__', '/a', '@', 'x:'), fc.integer({ min: 10, max: 300 }), fc.constantFrom('', '!', '-', '/', ':', 'A'))
  .map(([unit, n, end]) => unit.repeat(n) + end);

describe('fuzz: reference parser', () => {
  it('accepts every reference built from the grammar and parses it exactly', () => {
    fc.assert(
      fc.property(validReference, ({ text, expected }) => {
        const ref = attempt(() => parseReference(text), 'E_REFERENCE', text);
        assert.deepEqual(ref, expected, `parse of ${text}`);
        checkAccepted(ref!);
      }),
      { numRuns: 5000 },
    );
  });

  it('random strings: a Reference or E_REFERENCE, nothing else', () => {
    const anyString = fc.oneof(
      fc.string({ maxLength: 80 }),
      fc.string({ unit: 'binary', maxLength: 80 }),
      fc.string({ unit: chars(`${LOWER}ABZ/:@.[]_-`), maxLength: 60 }),
      fc.string({ unit: chars(`${LOWER}ABZ/:@.[]_-`), minLength: 200, maxLength: 700 }),
    );
    fc.assert(
      fc.property(anyString, (s) => {
        const ref = attempt(() => parseReference(s), 'E_REFERENCE', s);
        if (ref) checkAccepted(ref);
      }),
      { numRuns: 15000 },
    );
  });

  it('mutated valid references: a Reference or E_REFERENCE, nothing else', () => {
    fc.assert(
      fc.property(mutated(validReference.map((v) => v.text)), (s) => {
        const ref = attempt(() => parseReference(s), 'E_REFERENCE', s);
        if (ref) checkAccepted(ref);
      }),
      { numRuns: 15000 },
    );
  });

  it('pathological repetitions finish within the bound', () => {
    fc.assert(
      fc.property(pathological, fc.constantFrom('', 'example.com/', 'localhost:5000/'), (s, prefix) => {
        const input = prefix + s;
        const ref = attempt(() => parseReference(input), 'E_REFERENCE', input);
        if (ref) checkAccepted(ref);
      }),
      { numRuns: 2000 },
    );
  });

  it('layout references: random and mutated strings give a LayoutReference or E_REFERENCE', () => {
    const layoutish = fc.oneof(
      fc.string({ maxLength: 80 }),
      mutated(fc.tuple(fc.constantFrom('./out', '/tmp/a@b/layout', '../x:y/l', 'layout'), fc.option(fc.oneof(tag.map((t) => `:${t}`), digest.map((d) => `@${d}`)), { nil: '' })).map(([p, s]) => p + s)),
    );
    fc.assert(
      fc.property(layoutish, (s) => {
        const ref = attempt(() => parseLayoutReference(s), 'E_REFERENCE', s);
        if (!ref) return;
        assert.ok(ref.path.length > 0);
        assert.ok(!(ref.tag !== undefined && ref.digest !== undefined));
        assert.deepEqual(parseLayoutReference(formatLayoutReference(ref)), ref);
      }),
      { numRuns: 5000 },
    );
  });

  it('counted what it tried', (t) => {
    const line = `fuzz: reference parser ${stats.inputs} inputs, ${stats.accepted} accepted, ${stats.rejected} rejected with E_REFERENCE, ${stats.crashes} crashes, slowest ${stats.maxMs.toFixed(2)} ms`;
    t.diagnostic(line);
    console.log(line);
    assert.ok(stats.inputs >= 40000, `only ${stats.inputs} inputs`);
    assert.equal(stats.crashes, 0);
    assert.ok(stats.accepted > 0 && stats.rejected > 0, 'both outcomes must be exercised');
  });
});
