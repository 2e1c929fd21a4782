import { Chalk, type ChalkInstance } from 'chalk';
import { WasmOciError } from '../errors.js';

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
  tty?: boolean;
  debug?: boolean;
}

/** What every command gets: where to write, in which format, with which colours. */
export class CliContext {
  readonly io: CliIO;
  readonly format: OutputFormat;
  /** The --format as given: `tree` and `table` are the text views of discover. */
  readonly view: 'text' | 'json' | 'tree' | 'table';
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
    const format = flags.format ?? 'text';
    if (format !== 'text' && format !== 'json' && format !== 'tree' && format !== 'table') {
      throw new WasmOciError('E_USAGE', `--format must be "text" or "json", not "${format}"`);
    }
    // oras's discover has two text views, `tree` and `table`: both are text to every other command.
    this.format = format === 'json' ? 'json' : 'text';
    this.view = format;
    this.interactive = flags.tty !== false && io.stderr.isTTY === true && io.env.CI !== 'true' && io.env.TERM !== 'dumb';
    this.debug = flags.debug === true;
    this.color = new Chalk({ level: colorLevel(io, io.stdout) });
    this.errColor = new Chalk({ level: colorLevel(io, io.stderr) });
  }

  /** A result line on stdout (text format only). */
  out(line = ''): void {
    if (this.format === 'text') this.io.stdout.write(`${line}\n`);
  }

  /** The single JSON document of a command (json format only). */
  json(value: unknown): void {
    if (this.format === 'json') this.io.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
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
