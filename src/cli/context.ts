import { Chalk, type ChalkInstance } from 'chalk';
import { WasmOciError } from '../errors.js';

type GoTemplateEngine = typeof import('../format/go-template/render.js');
let goTemplateEngine: GoTemplateEngine | undefined;

/**
 * Loads the Go template engine, which is only imported when a command line asks for it so that
 * every other run starts without it (issue 14). main() calls this before the command runs when
 * the arguments name go-template or --template; a library user constructing a CliContext with a
 * template calls it first.
 */
export async function loadGoTemplateEngine(): Promise<void> {
  goTemplateEngine ??= await import('../format/go-template/render.js');
}

function engine(): GoTemplateEngine {
  if (!goTemplateEngine) throw new WasmOciError('E_INTERNAL', 'the go-template engine was not loaded (call loadGoTemplateEngine first)');
  return goTemplateEngine;
}

export type OutputFormat = 'text' | 'json';

/** The process's streams and environment, injected so tests and library users can run the CLI in-process. */
export interface CliIO {
  stdout: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  stderr: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  stdin: NodeJS.ReadableStream & { isTTY?: boolean; setRawMode?: (raw: boolean) => unknown };
  env: NodeJS.ProcessEnv;
  cwd: string;
}

export interface GlobalFlags {
  format?: string;
  /** `--template T` (with `--format go-template`), as oras spells it. */
  template?: string;
  tty?: boolean;
  debug?: boolean;
  /** The command being run, without the program name (`manifest fetch`): go-template is only for some. */
  command?: string;
}

/**
 * The commands whose document can go through `--format go-template`: those oras 1.3 gives the
 * go-template type (cmd/oras/internal/display/handler.go: push, attach, pull, discover,
 * manifest fetch, repo ls, repo tags).
 */
export const GO_TEMPLATE_COMMANDS: ReadonlySet<string> = new Set(['push', 'attach', 'pull', 'discover', 'manifest fetch', 'repo ls', 'repo tags']);

const GO_TEMPLATE = 'go-template';

/**
 * oras's option.Format Parse and parseFlag (cmd/oras/internal/option/format.go): `--template`
 * needs `--format go-template`; `go-template=T` carries its template; go-template without one
 * fails with oras's recommendation; a command without the go-template type refuses it with the
 * types it has (oras lists the default type last).
 */
function parseFormat(flags: GlobalFlags): { view: 'text' | 'json' | 'tree' | 'table' | 'go-template'; template?: string } {
  const format = flags.format ?? 'text';
  const command = flags.command ?? '';
  let type = format;
  let template = flags.template !== undefined && flags.template !== '' ? flags.template : undefined;
  if (template !== undefined) {
    if (type !== GO_TEMPLATE) throw new WasmOciError('E_USAGE', `--template must be used with --format ${GO_TEMPLATE}`);
  } else if (format.startsWith(`${GO_TEMPLATE}=`)) {
    type = GO_TEMPLATE;
    template = format.slice(GO_TEMPLATE.length + 1);
    if (template === '') template = undefined;
  }
  if (type === GO_TEMPLATE) {
    if (template === undefined) {
      throw new WasmOciError('E_USAGE', `"${GO_TEMPLATE}" format specified but no template given`, { hint: `use \`--format ${GO_TEMPLATE}=TEMPLATE\` to specify the template` });
    }
    if (!GO_TEMPLATE_COMMANDS.has(command)) {
      const types = command === 'discover' ? 'table, json, go-template, tree' : 'json, text';
      throw new WasmOciError('E_USAGE', `invalid format type: "${GO_TEMPLATE}"`, { hint: `supported types: ${types}` });
    }
    return { view: 'go-template', template };
  }
  if (type !== 'text' && type !== 'json' && type !== 'tree' && type !== 'table') {
    throw new WasmOciError('E_USAGE', `--format must be "text" or "json", not "${format}"`);
  }
  return { view: type };
}

/** What every command gets: where to write, in which format, with which colours. */
export class CliContext {
  readonly io: CliIO;
  readonly format: OutputFormat;
  /**
   * The --format as given: `tree` and `table` are the text views of discover; `go-template`
   * builds the JSON document (format is `json`) and prints it through the template.
   */
  readonly view: 'text' | 'json' | 'tree' | 'table' | 'go-template';
  /** The Go template of `--format go-template=T` / `--template T`. */
  readonly template?: string;
  /** Progress and prompts are allowed: stderr is a terminal and --no-tty was not given. */
  readonly interactive: boolean;
  readonly debug: boolean;
  /** Colours for stdout and for stderr: each on only when its own stream is a terminal (or FORCE_COLOR). */
  readonly color: ChalkInstance;
  readonly errColor: ChalkInstance;
  private warned = new Set<string>();

  /** Aborted on Ctrl-C or SIGTERM: operations stop, remove their temp files, and the CLI exits 130. */
  readonly signal: AbortSignal;

  constructor(io: CliIO, flags: GlobalFlags, signal: AbortSignal = new AbortController().signal) {
    this.io = io;
    this.signal = signal;
    const { view, template } = parseFormat(flags);
    // A template that does not parse fails before the command does anything (oras finds out
    // only when it prints, after the push or pull).
    if (template !== undefined) engine().checkGoTemplate(template);
    // oras's discover has two text views, `tree` and `table`: both are text to every other command.
    this.format = view === 'json' || view === 'go-template' ? 'json' : 'text';
    this.view = view;
    this.template = template;
    this.interactive = flags.tty !== false && io.stderr.isTTY === true && io.env.CI !== 'true' && io.env.TERM !== 'dumb';
    this.debug = flags.debug === true;
    this.color = new Chalk({ level: colorLevel(io, io.stdout) });
    this.errColor = new Chalk({ level: colorLevel(io, io.stderr) });
  }

  /** A result line on stdout (text format only). */
  out(line = ''): void {
    if (this.format === 'text') this.io.stdout.write(`${line}\n`);
  }

  /**
   * The single JSON document of a command (json format only); with go-template, what the
   * template prints for it, with no newline added (oras adds none).
   */
  json(value: unknown): void {
    if (this.format !== 'json') return;
    if (this.template === undefined) {
      this.io.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
      return;
    }
    let output: string;
    try {
      output = engine().renderGoTemplate(this.template, value, { env: this.io.env });
    } catch (err) {
      // oras's template writes straight to stdout, so what came before an execution error is printed.
      const written = err instanceof WasmOciError ? err.details?.written : undefined;
      if (typeof written === 'string' && written !== '') this.io.stdout.write(written);
      throw err;
    }
    this.io.stdout.write(output);
  }

  /** A warning on stderr, each distinct message once. */
  warn(message: string): void {
    if (this.warned.has(message)) return;
    this.warned.add(message);
    this.io.stderr.write(`${this.errColor.yellow('Warning:')} ${message}\n`);
  }

  /** A debug line on stderr when -d/--debug; callers pass text that is already redacted. */
  trace(line: string): void {
    if (this.debug) this.io.stderr.write(`${this.errColor.dim(line)}\n`);
  }
}

/** NO_COLOR (no-color.org) turns colours off; FORCE_COLOR turns them on even without a terminal. */
export function colorLevel(io: CliIO, stream: { isTTY?: boolean }): 0 | 1 | 2 | 3 {
  const force = io.env.FORCE_COLOR;
  // As chalk reads it: FORCE_COLOR=0 (or false) forces colours off, any other value on.
  if (force === '0' || force === 'false') return 0;
  if (force !== undefined && force !== '') {
    const n = Number(force);
    return n >= 1 && n <= 3 ? (n as 1 | 2 | 3) : 1;
  }
  if (io.env.NO_COLOR !== undefined && io.env.NO_COLOR !== '') return 0;
  if (!stream.isTTY) return 0;
  if (io.env.TERM === 'dumb') return 0;
  return io.env.COLORTERM === 'truecolor' ? 3 : 2;
}
