/**
 * `--format go-template=TEMPLATE`: runs a Go text/template with sprig's functions on a command's
 * JSON document, as oras 1.3 does (cmd/oras/internal/output/template.go ParseAndWrite: the
 * template named "format output", sprig.FuncMap over the builtins, the object turned into a
 * map[string]any by a JSON round trip so numbers are float64).
 */
import { WasmOciError } from '../../errors.js';
import { BUILTINS } from './builtins.js';
import { execute, TemplateExecError, type GoFunc } from './exec.js';
import { TemplateSyntaxError } from './lex.js';
import { parseTemplate, type ParsedTemplate } from './parse.js';
import { SPRIG } from './sprig.js';
import { envFunctions, type Environment } from './sprig-env.js';
import { fromJsonDocument } from './values.js';

const NAME = 'format output';

/** The builtins, then sprig's functions over them (a sprig name wins, as template.Funcs makes it). */
const FUNCS = new Map<string, GoFunc>([...Object.entries(BUILTINS), ...Object.entries(SPRIG), ...Object.entries(envFunctions({}))]);

export interface GoTemplateOptions {
  /** What sprig's `env` and `expandenv` read (none by default). */
  env?: Environment;
}

function parse(template: string): ParsedTemplate {
  try {
    return parseTemplate(NAME, template, (name) => FUNCS.has(name));
  } catch (err) {
    if (err instanceof TemplateSyntaxError) {
      throw new WasmOciError('E_USAGE', `template: ${NAME}:${err.line}: ${err.message}`, { cause: err });
    }
    // Parentheses nested thousands deep exhaust the JS stack (Go stops at a depth of 10000).
    if (err instanceof RangeError) throw new WasmOciError('E_USAGE', `template: ${NAME}: max expression depth exceeded`, { cause: err });
    throw err;
  }
}

/** Throws the E_USAGE error renderGoTemplate would for a template that does not parse. */
export function checkGoTemplate(template: string): void {
  parse(template);
}

/**
 * The template's output for `value`. A template that does not parse, names a function we do not
 * have, or fails while running is an E_USAGE error with Go's message (and, when it fails while
 * running, what it wrote until then in `details.written`).
 */
export function renderGoTemplate(template: string, value: unknown, options: GoTemplateOptions = {}): string {
  const parsed = parse(template);
  const funcs = options.env ? new Map([...FUNCS, ...Object.entries(envFunctions(options.env))]) : FUNCS;
  try {
    return execute(parsed, funcs, fromJsonDocument(value), NAME, template);
  } catch (err) {
    // Go writes as it executes, so oras has printed the output up to the error: details.written.
    if (err instanceof TemplateExecError) throw new WasmOciError('E_USAGE', err.message, { cause: err, details: { written: err.written } });
    if (err instanceof RangeError) {
      // Deep nesting (a huge list printed, a parenthesised pipeline thousands deep) exhausts the JS stack.
      throw new WasmOciError('E_USAGE', `template: ${NAME}: executing "${NAME}": ${err.message}`, { cause: err });
    }
    throw err;
  }
}
