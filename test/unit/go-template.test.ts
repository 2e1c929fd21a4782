// The go-template engine and the CliContext side of `--format go-template`, without Go: what a
// user sees for oras's documents (float64 numbers, missing keys, no newline added) and the errors.
// test/e2e/go-template-differential.test.ts compares the engine with Go's own, case by case.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { WasmOciError } from '../../src/errors.js';
import { CliContext, GO_TEMPLATE_COMMANDS, loadGoTemplateEngine, type CliIO } from '../../src/cli/context.js';
import { renderGoTemplate } from '../../src/format/go-template/render.js';

function ioCapture(): { io: CliIO; out: () => string } {
  const chunks: string[] = [];
  const stdout = new Writable({ write(chunk, _enc, cb) { chunks.push(String(chunk)); cb(); } });
  const stderr = new Writable({ write(_chunk, _enc, cb) { cb(); } });
  return { io: { stdout, stderr, stdin: process.stdin, env: {}, cwd: process.cwd() }, out: () => chunks.join('') };
}

function usageError(fn: () => unknown, message: RegExp): WasmOciError {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof WasmOciError, `a WasmOciError, got ${String(caught)}`);
  assert.equal(caught.code, 'E_USAGE');
  assert.equal(caught.exitCode, 2);
  assert.match(caught.message, message);
  return caught;
}

const pushed = { reference: 'r@sha256:ab', digest: 'sha256:ab', size: 1048576, referenceAsTags: ['r:b', 'r:a'], annotations: { k: 'v' } };

test('numbers print as the float64 oras has after its JSON round trip; maps sorted; missing keys', () => {
  assert.equal(renderGoTemplate('{{.size}} {{printf "%.0f" .size}} {{int .size}} {{len .referenceAsTags}}', pushed), '1.048576e+06 1048576 1048576 2');
  assert.equal(renderGoTemplate('{{.}}', { b: 1, a: [true, null, 'x'] }), 'map[a:[true <nil> x] b:1]');
  assert.equal(renderGoTemplate('{{.nope}}|{{.annotations.nope}}|{{.nope.deeper}}', pushed), '<no value>|<no value>|<no value>');
  assert.equal(renderGoTemplate('{{toJson .annotations}}', { annotations: { z: '<&>', a: 1 } }), '{"a":1,"z":"\\u003c\\u0026\\u003e"}');
  // Keys the document does not have (undefined) are gone, as after oras's JSON round trip.
  assert.equal(renderGoTemplate('{{.}}', { a: undefined, b: 2 }), 'map[b:2]');
});

test('the output is what the template writes, no newline added', () => {
  assert.equal(renderGoTemplate('{{.digest}}', pushed), 'sha256:ab');
  assert.equal(renderGoTemplate('{{range .referenceAsTags}}{{.}}\n{{end}}', pushed), 'r:b\nr:a\n');
  assert.equal(renderGoTemplate('  {{- .digest -}}  \n', pushed), 'sha256:ab');
});

test('parse and execution errors are usage errors with Go\'s message; an execution error keeps what came before', () => {
  usageError(() => renderGoTemplate('{{.digest', pushed), /^template: format output:1: unclosed action$/);
  usageError(() => renderGoTemplate('{{semver "1.0.0"}}', pushed), /function "semver" not defined/);
  const late = usageError(() => renderGoTemplate('{{.digest}} {{upper .size}}', pushed), /^template: format output:1:20: executing "format output" at <\.size>: wrong type for value; expected string; got float64$/);
  assert.equal(late.details?.written, 'sha256:ab ');
});

test('--format go-template parsing as oras option.Format: which commands, --template, missing template', async () => {
  await loadGoTemplateEngine();
  const ctx = (format: string | undefined, command: string, template?: string) => new CliContext(ioCapture().io, { format, template, command });
  for (const command of ['push', 'attach', 'pull', 'discover', 'manifest fetch', 'repo ls', 'repo tags']) {
    assert.ok(GO_TEMPLATE_COMMANDS.has(command));
    assert.equal(ctx('go-template={{.digest}}', command).view, 'go-template');
    assert.equal(ctx('go-template', command, '{{.digest}}').template, '{{.digest}}');
  }
  const refused = usageError(() => ctx('go-template={{.digest}}', 'resolve'), /^invalid format type: "go-template"$/);
  assert.equal(refused.hint, 'supported types: json, text');
  const none = usageError(() => ctx('go-template', 'push'), /^"go-template" format specified but no template given$/);
  assert.equal(none.hint, 'use `--format go-template=TEMPLATE` to specify the template');
  usageError(() => ctx('go-template=', 'push'), /no template given/);
  usageError(() => ctx('json', 'push', '{{.digest}}'), /^--template must be used with --format go-template$/);
  usageError(() => ctx('go-template={{.x}}', 'push', '{{.digest}}'), /^--template must be used with --format go-template$/);
  usageError(() => ctx('go-template={{.x', 'push'), /unclosed action/);
  assert.equal(ctx('json', 'push').view, 'json');
  assert.equal(ctx(undefined, 'push').view, 'text');
});

test('CliContext.json prints the template on the document; out() prints nothing; partial output on an error', async () => {
  await loadGoTemplateEngine();
  const { io, out } = ioCapture();
  const c = new CliContext(io, { format: 'go-template={{.digest}}|{{index .referenceAsTags 1}}', command: 'push' });
  c.out('Pushed r');
  c.json(pushed);
  assert.equal(out(), 'sha256:ab|r:a');
  const failing = ioCapture();
  const f = new CliContext(failing.io, { format: 'go-template=[{{.digest}}]{{len .size}}', command: 'push' });
  assert.throws(() => f.json(pushed), /len of type float64/);
  assert.equal(failing.out(), '[sha256:ab]');
});

// Newer than the Go 1.19 of the differential test, but in the Go oras 1.3 is built with.
test('range over an integer (Go 1.22) and else with (Go 1.23)', () => {
  assert.equal(renderGoTemplate('{{range 3}}{{.}}{{end}}|{{range $i := len .l}}{{$i}}{{end}}|{{range 0}}x{{else}}none{{end}}', { l: [1, 2] }), '012|01|none');
  usageError(() => renderGoTemplate('{{range $i, $v := 3}}{{end}}', {}), /can't use 3 to iterate over more than one variable/);
  // A JSON number is a float64: Go cannot range over it either.
  usageError(() => renderGoTemplate('{{range .n}}{{end}}', { n: 3 }), /range can't iterate over 3/);
  const t = '{{with .a}}A{{else with .b}}B={{.}}{{else}}C{{end}}';
  assert.equal(renderGoTemplate(t, { a: 1, b: 'bee' }), 'A');
  assert.equal(renderGoTemplate(t, { b: 'bee' }), 'B=bee');
  assert.equal(renderGoTemplate(t, {}), 'C');
  usageError(() => renderGoTemplate('{{if .x}}{{else with .b}}{{end}}', {}), /unexpected <with> in input/);
});

// Valid patterns are compared with Go's regexp in the differential test; here what Go refuses
// (its own wording for that is not reproduced) and what only we refuse.
test('regex functions: an invalid pattern is false for regexMatch and an error for the others', () => {
  assert.equal(renderGoTemplate('{{regexMatch "(" "a"}} {{regexMatch "(?=a)" "a"}}', {}), 'false false');
  usageError(() => renderGoTemplate('{{regexFind "(" "a"}}', {}), /error calling regexFind: regexp: Compile\(`\(`\): error parsing regexp/);
  usageError(() => renderGoTemplate('{{regexReplaceAll "a(?i)b" "ab" "x"}}', {}), /flag groups other than one at the very start are not supported/);
  usageError(() => renderGoTemplate('{{regexMatch "(?U)a+" "aa"}}', {}), /the \(\?U\) flag is not supported/);
  assert.equal(renderGoTemplate('{{regexReplaceAll "(?P<tag>v[0-9]+)" "repo:v12" "${tag}-x"}}', {}), 'repo:v12-x');
});
