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

test('go-template output is byte for byte what Go text/template + sprig print (oras ParseAndWrite)', async (t) => {
  const tmp = await makeTempDir(t);
  const bin = join(tmp, 'go-template');
  // GOPATH mode on Debian's /usr/share/gocode: no network, no module download.
  await run('go', ['build', '-o', bin, join(dir, 'main.go')], {
    env: { ...process.env, GO111MODULE: 'off', GOPATH: '/usr/share/gocode', GOCACHE: join(tmp, 'gocache'), GOFLAGS: '' },
  });
  const templates = JSON.parse(await readFile(join(dir, 'templates.json'), 'utf8')) as string[];
  const documents = JSON.parse(await readFile(join(dir, 'documents.json'), 'utf8')) as Record<string, unknown>;
  const mismatches: string[] = [];
  let goFailures = 0;
  let cases = 0;
  for (const [name, doc] of Object.entries(documents)) {
    const docFile = join(tmp, `${name}.json`);
    await writeFile(docFile, JSON.stringify(doc));
    // A few Go processes at a time: other suites share the CPUs.
    for (let i = 0; i < templates.length; i += 4) {
      const batch = templates.slice(i, i + 4);
      await Promise.all(
        batch.map(async (template, j) => {
          const tplFile = join(tmp, `t${i + j}.tpl`);
          await writeFile(tplFile, template);
          const go = await goOutcome(bin, tplFile, docFile);
          const ours = ourOutcome(template, doc);
          cases++;
          if (!go.ok) goFailures++;
          if (go.ok !== ours.ok || go.text !== ours.text || go.written !== ours.written) {
            const show = (o: Outcome) => (o.ok ? JSON.stringify(o.text) : `error ${JSON.stringify(o.text)} after ${JSON.stringify(o.written)}`);
            mismatches.push(`${name} #${i + j} ${JSON.stringify(template)}\n   Go: ${show(go)}\n  ours: ${show(ours)}`);
          }
        }),
      );
    }
  }
  assert.equal(cases, templates.length * Object.keys(documents).length);
  // The set must exercise both sides: templates Go runs, and templates Go refuses or fails.
  assert.ok(goFailures >= 25 && goFailures <= cases - 200, `${goFailures} of ${cases} failed in Go`);
  assert.deepEqual(mismatches, [], `${mismatches.length} of ${cases} differ:\n${mismatches.join('\n')}`);
});
