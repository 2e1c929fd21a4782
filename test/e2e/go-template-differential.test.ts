// Our Go template engine against Go's own: test/fixtures/go-template/main.go runs text/template
// with sprig exactly as oras 1.3's ParseAndWrite does (Go and sprig from Debian's golang-go and
// golang-github-masterminds-sprig-dev, installed by scripts/install-system-deps.sh). Every
// template of templates.json runs on every document of documents.json (push, pull and discover
// shapes) in both; the outputs must be the same bytes, and where Go fails we must fail with
// Go's message.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { fixturesDir } from '../helpers/paths.js';
import { makeTempDir } from '../helpers/tmp.js';
import { renderGoTemplate } from '../../src/format/go-template/render.js';
import { BUILTINS } from '../../src/format/go-template/builtins.js';
import { SPRIG } from '../../src/format/go-template/sprig.js';
import type { GoFunc, ParamType } from '../../src/format/go-template/exec.js';
import { WasmOciError } from '../../src/errors.js';

const run = promisify(execFile);
// What sprig's env and expandenv see, in Go's process and in ours.
const ENV = { GOTPL_NAME: 'filter', GOTPL_SPACES: ' a  b ', GOTPL_EMPTY: '', _U: 'underscore' };
const dir = join(fixturesDir, 'go-template');

interface Outcome {
  ok: boolean;
  /** The output, or the error message. */
  text: string;
  /** On an error while executing, what was written before it (Go writes as it goes). */
  written?: string;
}

async function goOutcome(bin: string, tplFile: string, docFile: string): Promise<Outcome> {
  try {
    const { stdout } = await run(bin, [tplFile, docFile], { encoding: 'utf8', env: ENV });
    return { ok: true, text: stdout };
  } catch (err) {
    const e = err as { code?: number; stderr?: string; stdout?: string };
    assert.equal(e.code, 1, `the Go program failed on its own: ${e.stderr}`);
    assert.match(e.stderr ?? '', /^ERROR: /);
    return { ok: false, text: (e.stderr ?? '').slice('ERROR: '.length), written: e.stdout ?? '' };
  }
}

function ourOutcome(template: string, doc: unknown): Outcome {
  try {
    return { ok: true, text: renderGoTemplate(template, doc, { env: ENV }) };
  } catch (err) {
    assert.ok(err instanceof WasmOciError, `not a WasmOciError: ${String(err)}`);
    assert.equal(err.code, 'E_USAGE');
    const written = err.details?.written;
    return { ok: false, text: err.message, written: typeof written === 'string' ? written : '' };
  }
}

async function buildGo(t: { after(fn: () => unknown): void }): Promise<{ tmp: string; bin: string }> {
  const tmp = await makeTempDir(t);
  const bin = join(tmp, 'go-template');
  // GOPATH mode on Debian's /usr/share/gocode: no network, no module download.
  await run('go', ['build', '-o', bin, join(dir, 'main.go')], {
    env: { ...process.env, GO111MODULE: 'off', GOPATH: '/usr/share/gocode', GOCACHE: join(tmp, 'gocache'), GOFLAGS: '' },
  });
  return { tmp, bin };
}

function describe(o: Outcome): string {
  return o.ok ? JSON.stringify(o.text) : `error ${JSON.stringify(o.text)} after ${JSON.stringify(o.written)}`;
}

/** Runs every template on `doc` in Go and in ours, four Go processes at a time; the differences. */
async function compare(bin: string, tmp: string, name: string, doc: unknown, templates: string[]): Promise<{ mismatches: string[]; goFailures: number }> {
  const docFile = join(tmp, `${name}.json`);
  await writeFile(docFile, JSON.stringify(doc));
  const mismatches: string[] = [];
  let goFailures = 0;
  // A few Go processes at a time: other suites share the CPUs.
  for (let i = 0; i < templates.length; i += 4) {
    await Promise.all(
      templates.slice(i, i + 4).map(async (template, j) => {
        const tplFile = join(tmp, `${name}-${i + j}.tpl`);
        await writeFile(tplFile, template);
        const go = await goOutcome(bin, tplFile, docFile);
        const ours = ourOutcome(template, doc);
        if (!go.ok) goFailures++;
        if (go.ok !== ours.ok || go.text !== ours.text || go.written !== ours.written) {
          mismatches.push(`${name} #${i + j} ${JSON.stringify(template)}\n   Go: ${describe(go)}\n  ours: ${describe(ours)}`);
        }
      }),
    );
  }
  return { mismatches, goFailures };
}

test('go-template output is byte for byte what Go text/template + sprig print (oras ParseAndWrite)', async (t) => {
  const { tmp, bin } = await buildGo(t);
  const templates = JSON.parse(await readFile(join(dir, 'templates.json'), 'utf8')) as string[];
  const documents = JSON.parse(await readFile(join(dir, 'documents.json'), 'utf8')) as Record<string, unknown>;
  const mismatches: string[] = [];
  let goFailures = 0;
  for (const [name, doc] of Object.entries(documents)) {
    const r = await compare(bin, tmp, name, doc, templates);
    mismatches.push(...r.mismatches);
    goFailures += r.goFailures;
  }
  const cases = templates.length * Object.keys(documents).length;
  // The set must exercise both sides: templates Go runs, and templates Go refuses or fails.
  assert.ok(goFailures >= 25 && goFailures <= cases - 200, `${goFailures} of ${cases} failed in Go`);
  assert.deepEqual(mismatches, [], `${mismatches.length} of ${cases} differ:\n${mismatches.join('\n')}`);
});

/**
 * Random calls of every function we have, with arguments mostly of the types it takes (else
 * anything), printf with random flags, widths, precisions and verbs, pipelines and ranges;
 * seeded, so a failure reproduces. keys and values are left out: Go's map order is random.
 */
function randomTemplates(seed: number, count: number): string[] {
  let state = seed;
  const rnd = () => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state / 2147483648;
  };
  const pick = <T>(a: readonly T[]): T => a[Math.floor(rnd() * a.length)]!;
  const byType: Record<ParamType, string[]> = {
    string: ['.digest', '.mediaType', '.reference', '(index .tags 0)', '"a"', '""', '"héllo"', '"a,b"', '"10"', '"3.5"', '" x "', '"%d"', '"-"', '"/"'],
    int: ['0', '1', '2', '3', '-1', '10', '(len .tags)', "'a'"],
    float64: ['2.5', '1.0', '-0.5', '1e6', '.size'],
    bool: ['true', 'false', '.flag', '.off'],
    map: ['.annotations', '.', '(dict "a" 1 "b" "x")', '(index .referrers 0)'],
    any: ['.size', '.tags', '.missing', '.negative', '.count', '.referrers', 'nil', '(list 1 "a" nil)', '2.5', '"x"', '0x10'],
    value: [],
  };
  byType.value = byType.any;
  const all = Object.values(byType).flat();
  const funcs = Object.entries({ ...BUILTINS, ...SPRIG }).filter(([n]) => n !== 'keys' && n !== 'values' && n !== 'call');
  const arg = (typ: ParamType, depth: number): string => {
    if (depth < 2 && rnd() < 0.15) return `(${call(depth + 1)})`;
    return rnd() < 0.8 ? pick(byType[typ]) : pick(all);
  };
  const format = () => {
    let s = '';
    for (let i = 0, n = 1 + Math.floor(rnd() * 2); i < n; i++) {
      s += `${pick(['', 'x', ' '])}%${pick(['', '', '-', '+', '#', '0', ' ', '-0'])}${pick(['', '', '5', '1', '08'])}${pick(['', '', '.2', '.0', '.'])}${pick([...'vvvsdqxXtfeEgGcoObUT%'])}`;
    }
    return JSON.stringify(s);
  };
  const call = (depth: number): string => {
    const [name, fn] = pick(funcs) as [string, GoFunc];
    if (name === 'printf') return `printf ${format()} ${arg('any', depth)}${rnd() < 0.5 ? ` ${arg('any', depth)}` : ''}`;
    const params = [...fn.params];
    if (fn.variadic) for (let i = Math.floor(rnd() * 3); i > 0; i--) params.push(fn.variadic);
    // Now and then one argument too few or too many.
    if (rnd() < 0.05) params.pop();
    else if (rnd() < 0.05) params.push('any');
    return [name, ...params.map((p) => arg(p, depth))].join(' ');
  };
  return Array.from({ length: count }, () => {
    const r = rnd();
    if (r < 0.55) return `{{${call(0)}}}`;
    if (r < 0.75) return `{{${pick(all)} | ${call(1)}}}`;
    if (r < 0.9) return `{{printf ${format()} ${pick(all)} ${pick(all)}}}`;
    return `{{range ${pick(['.tags', '.referrers', '.annotations', '.files', '.', '.missing'])}}}{{${call(1)}}},{{end}}`;
  });
}

test('random templates of every function and printf verb: the same output or error as Go', async (t) => {
  const { tmp, bin } = await buildGo(t);
  const documents = JSON.parse(await readFile(join(dir, 'documents.json'), 'utf8')) as Record<string, unknown>;
  const mismatches: string[] = [];
  let goFailures = 0;
  let cases = 0;
  for (const [i, [name, doc]] of Object.entries(documents).entries()) {
    // GO_TEMPLATE_SEED=N tries other templates (the default seed is what CI runs).
    const templates = randomTemplates(Number(process.env.GO_TEMPLATE_SEED ?? 1000) + i, 200);
    cases += templates.length;
    const r = await compare(bin, tmp, name, doc, templates);
    mismatches.push(...r.mismatches);
    goFailures += r.goFailures;
  }
  assert.ok(goFailures > cases / 10 && goFailures < (cases * 9) / 10, `${goFailures} of ${cases} failed in Go: both outcomes are exercised`);
  assert.deepEqual(mismatches, [], `${mismatches.length} of ${cases} differ:\n${mismatches.join('\n')}`);
});
